#!/usr/bin/env bash
# A field office with no listening port: one sync moves evidence both ways.
#
# As the README shows: headquarters (alpha, listening) invites field and third; each joins and
# runs without --listen (behind NAT: nobody can dial it). field ingests evidence and imports
# victims, alpha ingests a file. One `custody sync alpha` at field, and no other command at either
# office, moves both: field prints what came in (`feed alpha: ...`) and what alpha took
# (`to alpha: feed field: ...`); alpha's log says what it took from the office that dialled.
# alpha then holds field's feed (up to field's witness commit of the session) and field's
# evidence blobs byte-identical (cmp of the stored files, and `custody get` of each file), alpha's
# `custody verify` passes, and stock `git verify-commit` at alpha accepts field's commits. field
# holds alpha's file. third, which syncs only with alpha, gets field's evidence byte-identical
# and verified. Finally field's sync timer (every second) does the same on its own: its log says
# how many feeds came in from alpha and how many alpha took (counts: logs name no office).
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
DATA=$(cd "$(dirname "$0")" && pwd)/data

A=$T/alpha F=$T/field X=$T/third IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
PA=$(free_port)
init_archive "$A" alpha
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
join_office "$F" field "$A" "$PA"
join_office "$X" third "$A" "$PA"
start_daemon "$F"
DF=$DAEMON_PID
start_daemon "$X"
DX=$DAEMON_PID
HA=$(key_hex "$A") HF=$(key_hex "$F")
refute "alpha knows no address of field" \
    sh -c "sed -n '/^\[peer field\]/,/^\[/p' '$A/custody.conf' | grep -q '^address'"

# --- evidence at both ends --------------------------------------------------------------------
{ printf '\0'; head -c 1500000 /dev/urandom; } >"$IN/video.bin"
printf 'Testimony taken at the field office.\n' >"$IN/testimony.txt"
{ printf '\x89PNG\r\n\x1a\n'; head -c 4000 /dev/urandom; } >"$IN/site.png"
printf 'Headquarters memo.\n' >"$IN/memo.txt"
check "field ingests three files" quiet cu "$F" ingest "$IN/video.bin" "$IN/testimony.txt" \
    "$IN/site.png"
check "field imports victims" quiet cu "$F" import victims "$DATA/victims-dec2024.csv"
check "alpha ingests a memo" quiet cu "$A" ingest "$IN/memo.txt"
FILES="video.bin testimony.txt site.png"

# --- one sync at field ------------------------------------------------------------------------
rc=0
out=$(cu "$F" sync alpha 2>&1) || rc=$?
check "field's one sync with alpha exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
contains "it says what came in from alpha" "$out" "feed alpha: "
contains "and what alpha took: field's feed and its three blobs" "$out" "to alpha: feed field: "
case "$out" in *"to alpha: feed field: "*", 3 blobs"*) ok "three blobs went to alpha" ;;
	*) fail "three blobs went to alpha: $out" ;; esac
check "alpha's log says it took a feed from field (a count: the log names no office)" \
    grep -q "sync from .* (it dialled): 1 feed taken" "$A.log"
RF=$(feed_ref "$A" "$HF")
check "alpha holds field's feed" [ -n "$RF" ]
check "up to field's own head, or its witness commit of the session just before it" \
    sh -c "[ '$RF' = '$(feed_ref "$F" "$HF")' ] || [ '$RF' = \
    \"\$(git --git-dir='$F/git' rev-parse 'refs/feeds/$HF~1')\" ]"
nb=0 same=0
for f in $(cd "$F/blobs" && find . -type f | sort); do
	nb=$((nb + 1))
	cmp -s "$F/blobs/$f" "$A/blobs/$f" && same=$((same + 1))
done
check "alpha's stored blob files are field's, byte for byte ($same of $nb)" \
    [ "$nb" -ge 3 -a "$same" -eq "$nb" ]
for f in $FILES; do
	sha=$(sha256sum <"$IN/$f" | cut -d' ' -f1)
	rm -f "$OUT/a-$f"
	if cu "$A" get "$sha" -o "$OUT/a-$f" >/dev/null 2>&1 && cmp -s "$IN/$f" "$OUT/a-$f"; then
		ok "alpha's get of field's $f is byte-identical"
	else
		fail "alpha's get of field's $f is byte-identical"
	fi
done
check "alpha shows field's victim v2" quiet cu "$A" victim show v2
sha=$(sha256sum <"$IN/memo.txt" | cut -d' ' -f1)
check "field's get of alpha's memo is byte-identical" \
    sh -c "'$CUSTODY' -A '$F' get $sha -o '$OUT/f-memo' >/dev/null 2>&1 && cmp -s '$IN/memo.txt' '$OUT/f-memo'"
rc=0
vo=$(cu "$A" verify 2>&1) || rc=$?
check "custody verify passes at alpha" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$vo" >&2
cu "$A" keys allowed-signers >"$T/allowed"
n=0 good=0
for c in $(git --git-dir="$A/git" rev-list "refs/feeds/$HF"); do
	n=$((n + 1))
	git --git-dir="$A/git" -c gpg.ssh.allowedSignersFile="$T/allowed" verify-commit "$c" \
	    >/dev/null 2>&1 && good=$((good + 1))
done
check "git verify-commit at alpha accepts field's $n commits ($good)" [ "$n" -ge 2 -a "$good" -eq "$n" ]
refute "alpha never dialled field" grep -q "sync with office $(cut -c1-16 <<<"$HF")" "$A.log"
check "but took from it when it dialled" grep -q "sync from office $(cut -c1-16 <<<"$HF")" "$A.log"

# --- third syncs with alpha only ----------------------------------------------------------------
rc=0
out=$(cu "$X" sync alpha 2>&1) || rc=$?
check "third's sync with alpha exits 0" [ "$rc" -eq 0 ]
contains "third takes field's feed, relayed by alpha" "$out" "feed field: "
for f in $FILES; do
	sha=$(sha256sum <"$IN/$f" | cut -d' ' -f1)
	rm -f "$OUT/x-$f"
	if cu "$X" get "$sha" -o "$OUT/x-$f" >/dev/null 2>&1 && cmp -s "$IN/$f" "$OUT/x-$f"; then
		ok "third's get of field's $f is byte-identical"
	else
		fail "third's get of field's $f is byte-identical"
	fi
done
rc=0
vo=$(cu "$X" verify 2>&1) || rc=$?
check "custody verify passes at third" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$vo" >&2
refute "third never talked to field" \
    grep -q "sync with office $(cut -c1-16 <<<"$HF")\|sync from office $(cut -c1-16 <<<"$HF")" "$X.log"

# --- field's sync timer does the same on its own --------------------------------------------------
printf 'A second testimony.\n' >"$IN/second.txt"
printf 'A second memo.\n' >"$IN/memo2.txt"
check "field ingests one more file" quiet cu "$F" ingest "$IN/second.txt"
check "alpha ingests one more memo" quiet cu "$A" ingest "$IN/memo2.txt"
check "field stops" stop_daemon "$DF"
sed -i 's/^interval = .*/interval = 1/' "$F/custody.conf"
start_daemon "$F"
DF=$DAEMON_PID
sha=$(sha256sum <"$IN/second.txt" | cut -d' ' -f1)
for i in $(seq 1 300); do
	cu "$A" get "$sha" -o "$OUT/a-second" >/dev/null 2>&1 && break
	sleep 0.1
done
check "alpha holds field's new file, moved by field's timer" cmp -s "$IN/second.txt" "$OUT/a-second"
for i in $(seq 1 100); do
	grep -Eq "sync with .*: [1-9][0-9]* feeds? came in, it took [1-9]" "$F.log" && break
	sleep 0.1
done
check "field's timer logs what came in from alpha and what alpha took" \
    grep -Eq "sync with .*: [1-9][0-9]* feeds? came in, it took [1-9]" "$F.log"

check "field stops cleanly" stop_daemon "$DF"
check "third stops cleanly" stop_daemon "$DX"
check "alpha stops cleanly" stop_daemon "$DA"
done_testing