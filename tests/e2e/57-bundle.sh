#!/usr/bin/env bash
# Sync on a USB stick: A -> bundle -> B -> bundle -> C, with no network between any of them.
#
# A founds the archive, invites B, B invites C (invitation files only; no daemon listens on any
# port, no sync is ever run). A ingests files and imports incidents, writes `bundle create --for
# B`: the file is an age file that shows none of its contents (no file name, no magic of the
# plaintext). B applies it: it prints "feed A: N commits, 3 blobs", B's ref for A's feed is A's,
# B's get of A's files is byte-identical, and B writes one witness commit. Applying it again
# says "nothing new" and changes no ref, writes no commit. B writes a bundle for C: it carries
# A's feed (relayed) and B's; C applies it: its refs equal their owners', C's get of A's files
# is byte-identical, stock `git verify-commit` with C's allowed-signers accepts every commit of
# A's feed, and `custody verify` passes at C. B's witness then travels back to A in a bundle,
# and A's next bundle for B carries only the commits B lacks (not the files B holds). Last, B's
# daemon is killed (-9) while it stages a large bundle's blobs: after a restart, B holds exactly
# what it held before, tmp/ is swept, and applying the bundle again takes it whole.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
DATA=$(cd "$(dirname "$0")" && pwd)/data

A=$T/a B=$T/b C=$T/c IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
NOPORT=$(free_port)	# an address for the invitations; nothing ever listens on it

init_archive "$A" A
start_daemon "$A"
join_office "$B" B "$A" "$NOPORT"
start_daemon "$B"
DB=$DAEMON_PID
join_office "$C" C "$B" "$NOPORT"
start_daemon "$C"
HA=$(key_hex "$A") HB=$(key_hex "$B") HC=$(key_hex "$C")

{ printf '\0'; head -c 2500000 /dev/urandom; } >"$IN/video.bin"
printf 'Witness account.\nThe checkpoint closed at 06:00.\n' >"$IN/notes-secret-name.txt"
{ printf '\x89PNG\r\n\x1a\n'; head -c 5000 /dev/urandom; } >"$IN/photo.png"
check "A ingests three files" quiet cu "$A" ingest "$IN/video.bin" "$IN/notes-secret-name.txt" \
    "$IN/photo.png"
check "A imports incidents" quiet cu "$A" import incidents "$DATA/incidents.csv"
REFA=$(feed_ref "$A" "$HA")

# --- A -> B --------------------------------------------------------------------------------------
out=$(cu "$A" bundle create --for B -o "$T/ab.bundle" 2>&1)
check "A writes a bundle for B ($out)" [ -s "$T/ab.bundle" ]
contains "and says what it holds" "$out" "3 evidence files"
check "the bundle is an age file" grep -q "^age-encryption.org/v1" "$T/ab.bundle"
refute "no file name shows in it" grep -qa "notes-secret-name" "$T/ab.bundle"
refute "nor the bundle's own magic" grep -qa "CUSTBNDL" "$T/ab.bundle"
refute "nor a feed's key" grep -qa "$HA" "$T/ab.bundle"
out=$(cu "$A" bundle create --for B -o "$T/ab.bundle" 2>&1 || true)
contains "an existing file is not replaced without -f" "$out" "already exists"

nb0=$(feed_len "$B" "$HB")
out=$(cu "$B" bundle apply "$T/ab.bundle" 2>&1) || fail "B applies A's bundle: $out"
contains "B says who sent it" "$out" "bundle from A"
contains "and what arrived" "$out" "feed A: $(feed_len "$A" "$HA") commits, 3 blobs"
check "B's ref for A's feed is A's" [ "$(feed_ref "$B" "$HA")" = "$REFA" ]
for f in video.bin notes-secret-name.txt photo.png; do
	sha=$(sha256sum <"$IN/$f" | cut -d' ' -f1)
	check "B's get of A's $f is byte-identical" eval \
	    'cu "$B" get "$sha" -o "$OUT/b-$f" >/dev/null 2>&1 && cmp -s "$IN/$f" "$OUT/b-$f"'
done
nb1=$(feed_len "$B" "$HB")
check "B witnessed A's feed in its own ($nb0 -> $nb1, and get events)" [ "$nb1" -gt "$nb0" ]
check "B's feed holds a witness of A's" eval \
    "sqlite3 '$B/index.sqlite' \"SELECT count(*) FROM witnesses WHERE feed=(SELECT id FROM
    offices WHERE key='$HA')\" | grep -qv '^0$'"

refs0=$(git --git-dir="$B/git" for-each-ref)
out=$(cu "$B" bundle apply "$T/ab.bundle" 2>&1) || fail "B applies it again: $out"
contains "applying twice says nothing new" "$out" "nothing new"
check "and changes no ref" [ "$(git --git-dir="$B/git" for-each-ref)" = "$refs0" ]
check "B's tmp/ is empty" [ -z "$(ls -A "$B/tmp")" ]

# --- B -> C: A's feed relayed --------------------------------------------------------------------
out=$(cu "$B" bundle create --for C -o "$T/bc.bundle" 2>&1)
check "B writes a bundle for C ($out)" [ -s "$T/bc.bundle" ]
out=$(cu "$C" bundle apply "$T/bc.bundle" 2>&1) || fail "C applies B's bundle: $out"
contains "C takes A's feed" "$out" "feed A: "
contains "and B's" "$out" "feed B: "
check "C's ref for A's feed is A's" [ "$(feed_ref "$C" "$HA")" = "$REFA" ]
check "C's ref for B's feed is B's" [ "$(feed_ref "$C" "$HB")" = "$(feed_ref "$B" "$HB")" ]
for f in video.bin notes-secret-name.txt photo.png; do
	sha=$(sha256sum <"$IN/$f" | cut -d' ' -f1)
	check "C's get of A's $f is byte-identical" eval \
	    'cu "$C" get "$sha" -o "$OUT/c-$f" >/dev/null 2>&1 && cmp -s "$IN/$f" "$OUT/c-$f"'
done
cu "$C" keys allowed-signers >"$T/allowed.c"
G=(git --git-dir="$C/git")
n=0 good=0
for c in $("${G[@]}" rev-list "$REFA"); do
	n=$((n + 1))
	"${G[@]}" -c gpg.ssh.allowedSignersFile="$T/allowed.c" verify-commit "$c" >/dev/null 2>&1 &&
	    good=$((good + 1))
done
check "stock git verify-commit at C accepts A's $n commits ($good)" [ "$n" -ge 2 -a "$good" -eq "$n" ]
check "custody verify passes at C" quiet cu "$C" verify

# --- B's witness goes back to A; A's next bundle carries only what B lacks ----------------------
check "B writes a bundle for A" quiet cu "$B" bundle create --for A -o "$T/ba.bundle"
check "A applies it" quiet cu "$A" bundle apply "$T/ba.bundle"
printf 'A later statement.\n' >"$IN/later.txt"
check "A ingests one more file" quiet cu "$A" ingest "$IN/later.txt"
check "A writes its next bundle for B" quiet cu "$A" bundle create --for B -o "$T/ab2.bundle"
size=$(stat -c %s "$T/ab2.bundle")
check "it does not carry the files B holds ($size bytes)" [ "$size" -lt 1000000 ]
have=$(feed_len "$B" "$HA")
out=$(cu "$B" bundle apply "$T/ab2.bundle" 2>&1) || fail "B applies it: $out"
contains "B takes A's new commits" "$out" "feed A: $(($(feed_len "$A" "$HA") - have)) commit"
contains "and the new file" "$out" "1 blob"
check "B's ref for A's feed is A's again" [ "$(feed_ref "$B" "$HA")" = "$(feed_ref "$A" "$HA")" ]
check "custody verify passes at B" quiet cu "$B" verify

# --- a crash in the middle of an apply ------------------------------------------------------------
head -c 80000000 /dev/urandom >"$IN/large.bin"
check "A ingests a large file" quiet cu "$A" ingest "$IN/large.bin"
check "A writes a bundle for B" quiet cu "$A" bundle create --for B -o "$T/big.bundle"
refs0=$(git --git-dir="$B/git" for-each-ref)
blobs0=$(find "$B/blobs" -type f | sort)
cu "$B" bundle apply "$T/big.bundle" >"$T/crash.out" 2>&1 &
APPLY=$!
for i in $(seq 1 400); do
	ls "$B/tmp" 2>/dev/null | grep -q '^bundle-.*\.part$' && break
	sleep 0.01
done
check "B is staging the bundle's blob" eval "ls '$B/tmp' | grep -q '^bundle-.*\.part$'"
kill -9 "$DB"
wait "$APPLY" 2>/dev/null || true
check "B's refs are what they were" [ "$(git --git-dir="$B/git" for-each-ref)" = "$refs0" ]
check "and its blob store" [ "$(find "$B/blobs" -type f | sort)" = "$blobs0" ]
start_daemon "$B"
check "B's tmp/ is swept at start" [ -z "$(ls -A "$B/tmp")" ]
out=$(cu "$B" bundle apply "$T/big.bundle" 2>&1) || fail "B applies the bundle again: $out"
contains "and takes it whole" "$out" "1 blob"
sha=$(sha256sum <"$IN/large.bin" | cut -d' ' -f1)
check "B's get of the large file is byte-identical" eval \
    'cu "$B" get "$sha" -o "$OUT/b-large" >/dev/null 2>&1 && cmp -s "$IN/large.bin" "$OUT/b-large"'
check "custody verify passes at B" quiet cu "$B" verify

done_testing
