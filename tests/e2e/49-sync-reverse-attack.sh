#!/usr/bin/env bash
# What a seized field office pushes on the reverse turn of a session is checked like any pull.
#
# alpha (headquarters, listening) invites field, which joins and runs without --listen, ingests
# a file and syncs once: alpha takes field's feed on the reverse turn. Then field is seized and
# the adversary drives it with its real key:
# - evil-peer (tests/e2e/evil-peer.c) dials alpha with field's key, hands it the turn at once
#   and answers its PackRequest with a pack holding a copy of a field commit whose bytes were
#   altered after field signed it: alpha refuses the pack (its signature does not verify) with
#   an error, takes nothing, leaves no object, quarantine or partial file.
# - custody-forge (tests/e2e/forge.c) appends a commit to field's feed, signed by field's key,
#   that rewrites alpha's victim record with alpha's key as its revision's office. field's own
#   daemon syncs alpha: alpha refuses the feed's new commits like a fork (the forged commit kept
#   under forks/, its copy of field's feed and the victim unchanged), and field's output says so.
# - alpha revokes field; evil-peer dials again with field's new commits and hands alpha the turn:
#   alpha declines (`your office is revoked`), asks nothing at all, takes nothing.
# - alpha unpins field: its handshake is refused, nothing is asked.
# alpha's `custody verify` stays clean.
. "$(dirname "$0")/lib.sh"

EVIL=${BUILD:-}/evil-peer
[ -x "$EVIL" ] || { echo "SKIP: no evil-peer binary (BUILD unset)"; exit 77; }
FORGE=${BUILD:+$BUILD/custody-forge}
[ -n "$FORGE" ] && [ -x "$FORGE" ] || { echo "SKIP: custody-forge not built (set BUILD)"; exit 77; }
command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
DATA=$(cd "$(dirname "$0")" && pwd)/data

# tmp_clean DIR: no quarantine, pack or partial file left in DIR/tmp.
tmp_clean() {
	[ -z "$(find "$1/tmp" -mindepth 1 2>/dev/null | head -n1)" ]
}

A=$T/alpha F=$T/field IN=$T/in
mkdir -p "$IN"
PA=$(free_port)
init_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$F" field "$A" "$PA"
start_daemon "$F"
DF=$DAEMON_PID
HA=$(key_hex "$A") HF=$(key_hex "$F")
check "alpha imports victims" quiet cu "$A" import victims "$DATA/victims-dec2024.csv"
head -c 5000 /dev/urandom >"$IN/one.bin"
check "field ingests a file" quiet cu "$F" ingest "$IN/one.bin"
check "field syncs alpha once, honestly" quiet cu "$F" sync alpha
check "alpha took field's feed on the reverse turn" [ -n "$(feed_ref "$A" "$HF")" ]
NAME0=$(cu "$A" victim show v2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')
check "field holds alpha's victim v2" quiet cu "$F" victim show v2

# --- a tampered pack on the reverse turn -------------------------------------------------------
check "field stops (seized)" stop_daemon "$DF"
G=(git --git-dir="$F/git")
RF=$(feed_ref "$A" "$HF")
HEADF=$(feed_ref "$F" "$HF")
check "field wrote a commit alpha lacks (its witness of the session)" [ "$HEADF" != "$RF" ]
SEQF=$("${G[@]}" rev-list --count "$HEADF")
# field's head commit with its author time changed by a second after field signed it
"${G[@]}" cat-file commit "$HEADF" >"$T/orig.commit"
python3 - "$T/orig.commit" "$T/tampered.commit" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
for i, l in enumerate(lines):
    if l.startswith(b"author "):
        w = l.split(b" ")
        w[-2] = str(int(w[-2]) + 1).encode()
        lines[i] = b" ".join(w)
        break
else:
    sys.exit("no author line")
open(sys.argv[2], "wb").write(b"\n".join(lines))
PY
TAMP=$("${G[@]}" hash-object -t commit -w "$T/tampered.commit")
check "the tampered commit is another object" [ -n "$TAMP" -a "$TAMP" != "$HEADF" ]
printf '%s\n^%s\n' "$TAMP" "$RF" | "${G[@]}" pack-objects --stdout --revs >"$T/tampered.pack" 2>/dev/null
check "the tampered pack was made" [ -s "$T/tampered.pack" ]
objs0=$(find "$A/git/objects" -type f | wc -l)
out=$(timeout 60 "$EVIL" push "$F" "127.0.0.1:$PA" "$HA" pack "$T/tampered.pack" "$TAMP" "$SEQF" 2>&1) ||
    fail "evil-peer push: $out"
contains "alpha asked for field's feed" "$out" "asked: pack_request"
contains "and refused the tampered pack with an error" "$out" "Error: "
check "alpha's copy of field's feed did not move" [ "$(feed_ref "$A" "$HF")" = "$RF" ]
check "no new object in alpha's git" [ "$(find "$A/git/objects" -type f | wc -l)" -eq "$objs0" ]
for i in $(seq 1 50); do tmp_clean "$A" && break; sleep 0.1; done
check "nothing left in alpha's tmp/" tmp_clean "$A"

# --- a forged revision, signed by field, pushed on the reverse turn ------------------------------
FORGED=$("$FORGE" "$F" v2 name "Forged-Name" next = "$HA") || fail "forge: field rewrites v2"
check "forge: field rewrote alpha's victim v2 as if alpha had" [ -n "$FORGED" ]
start_daemon "$F"
DF=$DAEMON_PID
rc=0
out=$(cu "$F" sync alpha 2>&1) || rc=$?
contains "field's sync says alpha refused its commit" "$out" "to alpha: refused: "
check "alpha's copy of field's feed did not move (the pack holding the forged commit)" \
    [ "$(feed_ref "$A" "$HF")" = "$RF" ]
NAME1=$(cu "$A" victim show v2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')
check "alpha's victim v2 is unchanged ($NAME1)" [ "$NAME1" = "$NAME0" ]
check "alpha keeps the refused commit as evidence" \
    sh -c "ls '$A/forks/' 2>/dev/null | grep -q '^$HF-.*$FORGED'"

# --- a revoked office hands alpha the turn ------------------------------------------------------
head -c 5000 /dev/urandom >"$IN/two.bin"
check "field ingests one more file" quiet cu "$F" ingest "$IN/two.bin"
check "field stops" stop_daemon "$DF"
check "alpha revokes field" quiet cu "$A" office revoke field --reason "laptop seized"
out=$(timeout 60 "$EVIL" push "$F" "127.0.0.1:$PA" "$HA" true 2>&1) || fail "evil-peer push: $out"
contains "alpha declines the turn of a revoked office" "$out" "turn: declined: your office is revoked"
case "$out" in *"asked: "*) fail "alpha asked a revoked office for something: $out" ;;
	*) ok "alpha asked the revoked office nothing" ;; esac
check "alpha's copy of field's feed did not move" [ "$(feed_ref "$A" "$HF")" = "$RF" ]

# --- an office alpha no longer pins ------------------------------------------------------------
check "alpha unpins field" quiet cu "$A" peer remove field
out=$(timeout 60 "$EVIL" push "$F" "127.0.0.1:$PA" "$HA" true 2>&1) || true
contains "alpha drops an unpinned office in the handshake" "$out" "closed: "
case "$out" in *"asked: "*) fail "alpha asked an unpinned office for something: $out" ;;
	*) ok "alpha asked the unpinned office nothing" ;; esac
check "alpha's copy of field's feed did not move" [ "$(feed_ref "$A" "$HF")" = "$RF" ]

rc=0
vo=$(cu "$A" verify 2>&1) || rc=$?
check "custody verify is clean at alpha" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$vo" >&2
check "alpha stops cleanly" stop_daemon "$DA"
done_testing
