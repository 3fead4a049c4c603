#!/usr/bin/env bash
# Recovery of a lost office from 3 of its 5 shares and one peer.
#
# A is a normal archive; B joins by A's invitation, ingests evidence and imports records, and
# A syncs B. B makes five shares (custody keys split --shares 5 --threshold 3), then loses its
# whole archive directory. Two shares are refused ("needs 3"), and nothing is created; a share
# of another office (C), and of a second office that also calls itself B, are refused by file
# name; a share with one flipped byte is refused by name, as damaged. Three shares (two binary,
# one typed-back text) and A as peer bring B back: `custody sync A` returns B's own feed (the
# ref equals B's old head) and A's; every blob is byte-identical; `custody verify` is clean;
# B's next commit has the old head as parent and seq old+1 (read with git), and A takes it
# from B with no fork. The time from recover to a verified office is printed.
. "$(dirname "$0")/lib.sh"

DATA=$(cd "$(dirname "$0")" && pwd)/data

# seq_of DIR COMMIT: the Custody-Seq trailer of a commit.
seq_of() {
	{ git --git-dir="$1/git" cat-file commit "$2" 2>/dev/null || true; } | sed -n 's/^Custody-Seq: //p'
}

contains "custodyd recover --help explains it" "$("$CUSTODYD" recover --help 2>&1)" \
    "--share FILE"
contains "custody keys split --help explains it" "$(cu "$T/none" keys split --help 2>&1)" \
    "--shares N --threshold K -o DIR"

A=$T/a B=$T/b C=$T/c B2=$T/b2 IN=$T/in OUT=$T/out SH=$T/shares
mkdir -p "$IN" "$OUT"
PA=$(free_port) PB=$(free_port)

init_archive "$A" A
start_daemon "$A" --listen "127.0.0.1:$PA"
"$CUSTODYD" init "$B" --office B --joining --no-passphrase >"$B.init" 2>"$B.init.err" ||
    { cat "$B.init.err" >&2; exit 1; }
cu "$A" invite B "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA" >/dev/null ||
    { echo "invite failed" >&2; exit 1; }
"$CUSTODYD" join "$B" "$B.inv" >"$B.join" 2>&1 || { cat "$B.join" >&2; exit 1; }
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
check "A pins B" quiet cu "$A" peer add B "127.0.0.1:$PB" "$(head -n1 "$B.init")"
HA=$(key_hex "$A") HB=$(key_hex "$B")

{ printf '\0'; head -c 300000 /dev/urandom; } >"$IN/video.bin"
printf 'Witness account.\n' >"$IN/notes.txt"
check "B ingests two files" quiet cu "$B" ingest "$IN/video.bin" "$IN/notes.txt"
check "B imports victims" quiet cu "$B" import victims "$DATA/victims-dec2024.csv"
check "A ingests a file" quiet cu "$A" ingest "$IN/notes.txt"
check "A syncs B" quiet cu "$A" sync B
check "B syncs A" quiet cu "$B" sync A
check "A syncs B again (B's witness commit)" quiet cu "$A" sync B
VICTIMS=$(cu "$B" victim list --json)
check "B lists victims" [ "${#VICTIMS}" -gt 10 ]
OLD=$(feed_ref "$B" "$HB")
OLDSEQ=$(seq_of "$B" "$OLD")
check "A holds B's feed as B does" [ "$(feed_ref "$A" "$HB")" = "$OLD" ]

refute "a documenter-less split needs -o" quiet cu "$B" keys split --shares 5 --threshold 3
refute "threshold above shares is refused" quiet cu "$B" keys split --shares 2 --threshold 3 -o "$SH"
check "B splits its keys into 5 shares, any 3" quiet cu "$B" keys split --shares 5 --threshold 3 -o "$SH"
check "five binary and five text shares" [ "$(ls "$SH" | wc -l)" -eq 10 ]
check "shares are private files" [ "$(stat -c %a "$SH/share-1-of-5.bin")" = 600 ]
# Making shares is a custody event in B's signed feed: who, when, N and K, nothing secret.
check "A syncs B (B's keys-split event)" quiet cu "$A" sync B
for d in "$B" "$A"; do
	check "$(basename "$d")'s audit holds B's one keys-split event" py '
import json, sys
evs = [e for e in json.loads(sys.argv[1]) if e.get("action") == "keys-split"]
assert len(evs) == 1, evs
e = evs[0]
assert e["shares"] == 5 and e["threshold"] == 3, e
assert e["fingerprint"] == sys.argv[2], (e, sys.argv[2])
assert e["actor"].endswith("@B") and len(e["time"]) >= 20, e
assert set(e) == {"kind", "id", "action", "shares", "threshold", "fingerprint", "actor", "time"}, e
' "$(cu "$d" audit --json)" "$(cu "$B" keys show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')"
done
contains "custody audit says it in words" "$(cu "$B" audit)" "5 recovery shares, any 3 restore key SHA256:"
OLD=$(feed_ref "$B" "$HB")
OLDSEQ=$(seq_of "$B" "$OLD")
check "A holds B's feed with the event as B does" [ "$(feed_ref "$A" "$HB")" = "$OLD" ]

# Two other offices' shares: C, and a stranger that also calls itself B.
init_archive "$C" C
start_daemon "$C"
DC=$DAEMON_PID
check "C splits" quiet cu "$C" keys split --shares 3 --threshold 2 -o "$T/c-shares"
stop_daemon "$DC" || true
init_archive "$B2" B
start_daemon "$B2"
DB2=$DAEMON_PID
check "a second B splits" quiet cu "$B2" keys split --shares 3 --threshold 2 -o "$T/b2-shares"
stop_daemon "$DB2" || true

# --- B loses everything ---------------------------------------------------------------------
stop_daemon "$DB" || true
rm -rf "$B" "$B.log"

rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-2-of-5.bin" --no-passphrase 2>&1) || rc=$?
check "two shares fail" [ "$rc" -ne 0 ]
contains "saying three are needed" "$out" "needs 3 of its 5 shares"
check "and create nothing" [ ! -e "$B" ]

rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$T/c-shares/share-2-of-3.bin" --share "$SH/share-2-of-5.bin" --no-passphrase 2>&1) || rc=$?
check "a share of office C is refused" [ "$rc" -ne 0 ]
contains "naming the file and office C" "$out" "$T/c-shares/share-2-of-3.bin is a share of office C"

rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$T/b2-shares/share-1-of-3.txt" --share "$SH/share-2-of-5.bin" --no-passphrase 2>&1) || rc=$?
check "a share of another office called B is refused" [ "$rc" -ne 0 ]
contains "naming it" "$out" "$T/b2-shares/share-1-of-3.txt is a share of office B (key"

cp "$SH/share-3-of-5.bin" "$T/flipped.bin"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[90]^=0x40; open(p,"wb").write(b)' \
    "$T/flipped.bin"
rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$T/flipped.bin" --share "$SH/share-2-of-5.bin" --no-passphrase 2>&1) || rc=$?
check "a share with a flipped byte is refused" [ "$rc" -ne 0 ]
contains "naming it as damaged" "$out" "share $T/flipped.bin is refused: damaged share"
head -c -1 "$SH/share-4-of-5.bin" >"$T/short.bin"
rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-2-of-5.bin" --share "$T/short.bin" --no-passphrase 2>&1) || rc=$?
check "a share one byte short is refused" [ "$rc" -ne 0 ]
contains "naming it as damaged" "$out" "share $T/short.bin is refused: damaged share"
cat "$SH/share-4-of-5.bin" <(printf '\0') >"$T/long.bin"
rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-2-of-5.bin" --share "$T/long.bin" --no-passphrase 2>&1) || rc=$?
check "a share one byte long is refused" [ "$rc" -ne 0 ]
contains "naming it as damaged" "$out" "share $T/long.bin is refused: damaged share"
{ cat "$SH/share-4-of-5.bin"; head -c 100000 /dev/zero; } >"$T/huge.bin"
rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-2-of-5.bin" --share "$T/huge.bin" --no-passphrase 2>&1) || rc=$?
check "a share far too long is refused" [ "$rc" -ne 0 ]
contains "naming it as damaged, too long" "$out" "share $T/huge.bin is refused: damaged share (too long)"
sed '3s/^01 \(.\)/01 \1\1/' "$SH/share-4-of-5.txt" >"$T/typo.txt"
rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-2-of-5.bin" --share "$T/typo.txt" --no-passphrase 2>&1) || rc=$?
check "a text share with a typing mistake is refused" [ "$rc" -ne 0 ]
contains "naming the file and the line" "$out" "share $T/typo.txt is refused: line 1"

rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-3-of-5.txt" --share "$SH/share-5-of-5.bin" --no-passphrase \
    --peer A "127.0.0.1:$PA" "ssh-ed25519 garbage" 2>&1) || rc=$?
check "a bad peer key is refused" [ "$rc" -ne 0 ]
contains "naming it" "$out" "--peer A: 'ssh-ed25519 garbage' is not an ssh-ed25519 public key"
check "nothing created by refused recoveries" [ ! -e "$B" ]

# A recovered key may be sealed with a passphrase (here in another directory, no peer).
printf 'correct horse battery\n' >"$T/pass"
check "recover with a passphrase" quiet "$CUSTODYD" recover "$T/b3" --office B \
    --share "$SH/share-2-of-5.txt" --share "$SH/share-4-of-5.bin" --share "$SH/share-5-of-5.txt" \
    --passphrase-file "$T/pass"
check "its key is B's" [ "$(key_hex "$T/b3")" = "$HB" ]
refute "it does not open without the passphrase" quiet "$CUSTODYD" reindex "$T/b3"
check "it opens with it" quiet "$CUSTODYD" reindex "$T/b3" --passphrase-file "$T/pass"

# --- B comes back -----------------------------------------------------------------------------
t0=$(date +%s.%N)
rc=0
out=$("$CUSTODYD" recover "$B" --office B --share "$SH/share-1-of-5.bin" \
    --share "$SH/share-3-of-5.txt" --share "$SH/share-5-of-5.bin" --no-passphrase \
    --peer A "127.0.0.1:$PA" "$(cat "$A/keys/office.pub")" 2>&1) || rc=$?
check "three shares and A recover B" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
check "the recovered key is B's" [ "$(key_hex "$B")" = "$HB" ]
start_daemon "$B" --listen "127.0.0.1:$PB"
DB=$DAEMON_PID
refute "a recovering office writes nothing before its first sync" quiet cu "$B" ingest "$IN/notes.txt"
out=$(cu "$B" sync A 2>&1) || fail "B sync A after recovery: $out"
# the sync's witness commit (about A's feed) follows B's old head
check "B's own feed is back: its old head, then one witness commit" \
    [ "$(git --git-dir="$B/git" rev-parse "$(feed_ref "$B" "$HB")~1" 2>/dev/null)" = "$OLD" ]
check "A's feed is back too" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
for name in video.bin notes.txt; do
	sha=$(sha256sum <"$IN/$name" | cut -d' ' -f1)
	rm -f "$OUT/$name"
	if cu "$B" get "$sha" -o "$OUT/$name" >/dev/null 2>&1 && cmp -s "$IN/$name" "$OUT/$name"
	then ok "B's $name is byte-identical after recovery"
	else fail "B's $name is byte-identical after recovery"
	fi
done
check "custody verify is clean at the recovered B" quiet cu "$B" verify
t1=$(date +%s.%N)
echo "time from recover to a verified office: $(python3 -c "print(round($t1 - $t0, 2))") s"
check "B lists the same victims again" [ "$(cu "$B" victim list --json)" = "$VICTIMS" ]

# The next commit extends the old feed.
check "B ingests a new file" quiet cu "$B" ingest "$IN/video.bin"
NEW=$(feed_ref "$B" "$HB")
FIRST=$(git --git-dir="$B/git" rev-list --reverse "$OLD..$NEW" 2>/dev/null | sed -n 1p || true)
check "the first commit after recovery has the old head as parent" \
    [ "$(git --git-dir="$B/git" rev-parse "${FIRST:-none}^" 2>/dev/null)" = "$OLD" ]
check "and seq old+1 ($(seq_of "$B" "${FIRST:-none}"))" \
    [ "$(seq_of "$B" "${FIRST:-none}")" = $((OLDSEQ + 1)) ]
check "the feed is linear from the first commit" \
    [ "$(git --git-dir="$B/git" rev-list --count "$NEW")" -eq "$(seq_of "$B" "$NEW")" ]
out=$(cu "$A" sync B 2>&1) || fail "A sync B after recovery: $out"
case "$out" in *fork*) fail "A sees a fork of B: $out" ;; *) ok "A sees no fork of B" ;; esac
check "A takes B's continued feed" [ "$(feed_ref "$A" "$HB")" = "$NEW" ]
check "custody verify is clean at A" quiet cu "$A" verify

done_testing
