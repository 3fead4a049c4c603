#!/usr/bin/env bash
# The tamper matrix: one stored artefact at a time is modified in office A's archive (a blob, a
# record object, a tree, a commit, the feed ref, the index, the key file, the configuration).
# Then:
#   - `custody verify` at A reports it (or, for the key file and the configuration, custodyd
#     refuses to start and says why, changing nothing);
#   - A refuses to serve the broken item rather than serving wrong bytes (get fails, leaving no
#     file);
#   - office B, syncing from A, refuses what is broken: its copy of A's feed does not move past
#     it, B verifies clean, and B never holds wrong bytes.
. "$(dirname "$0")/lib.sh"

IN=$T/in OUT=$T/out
mkdir -p "$IN" "$OUT"
head -c 300000 /dev/urandom >"$IN/a.bin"
printf 'a testimony\n' >"$IN/t.txt"
SHA_A=$(sha256sum <"$IN/a.bin" | cut -d' ' -f1)
SHA_T=$(sha256sum <"$IN/t.txt" | cut -d' ' -f1)

# fresh NAME: offices A and B (B joined by A's invitation, each pinning the other); A holds
# commit 1 (t.txt) and commit 2 (a.bin, a victim). Sets A, B, G, HEX, PA, PB.
fresh() {
	A=$T/$1-a B=$T/$1-b PA=$(free_port) PB=$(free_port)
	init_archive "$A" office-a
	start_daemon "$A" --listen "127.0.0.1:$PA"
	DA=$DAEMON_PID
	"$CUSTODYD" init "$B" --office office-b --joining --no-passphrase >"$B.init" 2>"$B.err"
	quiet cu "$A" invite office-b "$(head -n1 "$B.init")" -o "$B.inv" --address "127.0.0.1:$PA"
	quiet "$CUSTODYD" join "$B" "$B.inv"
	start_daemon "$B" --listen "127.0.0.1:$PB"
	DB=$DAEMON_PID
	quiet cu "$A" peer add office-b "127.0.0.1:$PB" "$(head -n1 "$B.init")"
	quiet cu "$A" ingest "$IN/t.txt"
	quiet cu "$A" ingest "$IN/a.bin"
	quiet cu "$A" victim add --name "Tamper Victim" --date-documented 2024-12-01
	G=(git --git-dir="$A/git")
	HEX=$(key_hex "$A")
	check "$1: A verifies before" quiet cu "$A" verify
}

# reported LABEL: A's verify exits 1.
reported() {
	local out rc=0
	out=$(cu "$A" verify 2>&1) || rc=$?
	check "$1: verify at A reports it" [ "$rc" -eq 1 ]
	[ "$rc" -eq 1 ] || echo "$out" | tail -3 >&2
}

# not_served LABEL SHA: A's get of SHA fails and leaves nothing.
not_served() {
	rm -f "$OUT/$1"
	refute "$1: A refuses to serve $2" quiet cu "$A" get "$2" -o "$OUT/$1"
	check "$1: and leaves no file" [ -z "$(ls "$OUT" | grep "^$1" || true)" ]
}

# peer_refuses LABEL: B syncs from A: B's copy of A's feed stays behind A's, and B verifies.
peer_refuses() {
	local before after
	before=$(feed_ref "$B" "$HEX")
	cu "$B" sync office-a >"$T/sync.out" 2>&1 || true
	after=$(feed_ref "$B" "$HEX")
	check "$1: B's copy of A's feed did not take the broken commit" \
	    [ "$after" = "$before" -o "$after" != "$("${G[@]}" rev-parse "refs/feeds/$HEX")" ]
	check "$1: B verifies clean" quiet cu "$B" verify
}

# loose PATH OID: the loose object file of OID in A (unpacked first when it sits in a pack).
loose() {
	echo "$A/git/objects/${1:0:2}/${1:2}"
}

# rewrite OID BODY: make OID's loose file hold another object body of the same type.
rewrite() {
	local f type
	f=$(loose "$1")
	type=$("${G[@]}" cat-file -t "$1")
	chmod u+w "$f" 2>/dev/null || true
	python3 -c '
import sys, zlib
t, body = sys.argv[2].encode(), open(sys.argv[3], "rb").read()
open(sys.argv[1], "wb").write(zlib.compress(t + b" " + str(len(body)).encode() + b"\0" + body))' \
	    "$f" "$type" "$2"
}

# --- a blob ------------------------------------------------------------------------------------
fresh blob
for f in "$A"/blobs/*/*; do
	if [ "$(stat -c %s "$f")" -gt 200000 ]; then
		# inverted, not overwritten: a fixed byte may be the one already there
		python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$f" 100000
	fi
done
reported blob
not_served blob "$SHA_A"
peer_refuses blob
refute "blob: B holds no wrong bytes of it" quiet cu "$B" get "$SHA_A" -o "$OUT/blob-b"

# --- a record object ---------------------------------------------------------------------------
fresh record
# (no `| head` under pipefail: a writer cut short by SIGPIPE would fail the script)
obj=$("${G[@]}" ls-tree -r "refs/feeds/$HEX" | awk 'NR == 1 {print $3}')
other=$("${G[@]}" ls-tree -r "refs/feeds/$HEX" | awk 'NR == 2 {print $3}')
"${G[@]}" cat-file blob "$other" >"$T/other.obj"
rewrite "$obj" "$T/other.obj"
reported record
peer_refuses record

# --- a tree ------------------------------------------------------------------------------------
fresh tree
tree=$("${G[@]}" rev-parse "refs/feeds/$HEX^{tree}")
"${G[@]}" cat-file tree "$tree" >"$T/tree.body"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)' "$T/tree.body"
rewrite "$tree" "$T/tree.body"
reported tree
# a running daemon may still hold the good tree in its object cache; a fresh one must refuse
stop_daemon "$DA"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
not_served tree "$SHA_A"
peer_refuses tree

# --- a commit ----------------------------------------------------------------------------------
fresh commit
head=$("${G[@]}" rev-parse "refs/feeds/$HEX")
"${G[@]}" cat-file commit "$head" | sed 's/^custody$/custody: add 2 victim records/' >"$T/commit.body"
rewrite "$head" "$T/commit.body"
reported commit
peer_refuses commit

# --- the feed ref ------------------------------------------------------------------------------
fresh ref
quiet cu "$B" sync office-a
good=$(feed_ref "$B" "$HEX")
first=$("${G[@]}" rev-list --max-parents=0 "refs/feeds/$HEX")
"${G[@]}" update-ref "refs/feeds/$HEX" "$first"
reported ref
check "ref: B keeps the feed it had, not A's rolled-back one" [ "$(feed_ref "$B" "$HEX")" = "$good" ]
cu "$B" sync office-a >/dev/null 2>&1 || true
check "ref: B still has it after syncing again" [ "$(feed_ref "$B" "$HEX")" = "$good" ]

# --- the index ---------------------------------------------------------------------------------
fresh index
stop_daemon "$DA"
sqlite3 "$A/index.sqlite" "DELETE FROM records WHERE kind='evidence'; UPDATE evidence SET size = size + 1;"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
rm -f "$OUT/index"
check "index: A still serves the evidence, from its feed, byte-identical" \
    sh -c "'$CUSTODY' -A '$A' get '$SHA_A' -o '$OUT/index' >/dev/null 2>&1 && cmp -s '$IN/a.bin' '$OUT/index'"
stop_daemon "$DA"
quiet "$CUSTODYD" reindex "$A"
start_daemon "$A" --listen "127.0.0.1:$PA"
check "index: reindex rebuilds it and A verifies" quiet cu "$A" verify

# --- the key file ------------------------------------------------------------------------------
fresh key
stop_daemon "$DA"
chmod u+w "$A/keys/office.key"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)' "$A/keys/office.key"
chmod 0400 "$A/keys/office.key" 2>/dev/null || true
cp "$A/keys/office.key" "$T/office.key.damaged"
ref=$("${G[@]}" rev-parse "refs/feeds/$HEX")
out=$(timeout 20 "$CUSTODYD" run "$A" 2>&1) && fail "key: custodyd started with a damaged key file"
contains "key: custodyd refuses to start and names the key that does not fit" "$out" "/keys/"
check "key: and changes nothing (key file, feed)" sh -c "cmp -s '$A/keys/office.key' '$T/office.key.damaged' && \
    [ '$("${G[@]}" rev-parse "refs/feeds/$HEX")' = '$ref' ]"

# --- the configuration -------------------------------------------------------------------------
fresh config
stop_daemon "$DA"
printf '[office]\nname = office-a\nthis is not a setting\n' >"$A/custody.conf.bad"
cp "$A/custody.conf" "$T/conf.good"
cp "$A/custody.conf.bad" "$A/custody.conf"
out=$(timeout 20 "$CUSTODYD" run "$A" 2>&1) && fail "config: custodyd started with a broken custody.conf"
contains "config: custodyd refuses to start, naming file and line" "$out" "custody.conf:3"
cp "$T/conf.good" "$A/custody.conf"
sed -i "s|^key = .*|key = $(cut -d' ' -f1-2 "$A/keys/office.pub")|" "$A/custody.conf"
start_daemon "$A" --listen "127.0.0.1:$PA"
refute "config: a peer pinned to the wrong key is refused" quiet cu "$A" sync office-b

done_testing
