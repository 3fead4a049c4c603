#!/usr/bin/env bash
# Tampering with the archive on disk is caught.
#
# Each attack runs in its own fresh archive, and `custody verify` must exit 1 with output naming
# the damaged item:
#   1. a modified commit: a copy of the feed head with its message changed but its gpgsig kept,
#      the feed ref pointed at it (git update-ref);
#   2. a flipped byte in a blob file under ARCHIVE/blobs (while the daemon runs);
#   3. two record objects swapped in the feed tree, under a commit that re-uses the old
#      signature;
#   4. one loose record object file overwritten with another record's file;
#   5. truncated blobs: one cut at a chunk boundary (the final chunk dropped), one cut inside a
#      chunk.
# `custody get` of damaged evidence must fail and leave no output file (no partial file, and
# nothing on stdout with -o -), while undamaged evidence still comes back byte-identical.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

IN=$T/in
OUT=$T/out
mkdir -p "$IN" "$OUT"
head -c 200000 /dev/urandom >"$IN/a.bin"	# 4 chunks of 64 KiB
head -c 150000 /dev/urandom >"$IN/c.bin"	# 3 chunks
printf 'a short text file\n' >"$IN/b.txt"
SHA_A=$(sha256sum "$IN/a.bin" | cut -c1-64)
SHA_B=$(sha256sum "$IN/b.txt" | cut -c1-64)
SHA_C=$(sha256sum "$IN/c.bin" | cut -c1-64)

# fresh NAME: a new archive $T/NAME with a running daemon; commit 1 holds a.bin, commit 2 holds
# b.txt and c.bin. Sets A, G (git command), HEX (feed), HEAD (feed head commit).
fresh() {
	A=$T/$1
	init_archive "$A" Tamper-Office
	start_daemon "$A"
	cu "$A" ingest "$IN/a.bin" >/dev/null 2>&1 || fail "$1: ingest a.bin"
	cu "$A" ingest "$IN/b.txt" "$IN/c.bin" >/dev/null 2>&1 || fail "$1: ingest b.txt c.bin"
	G=(git --git-dir="$A/git")
	HEX=$("${G[@]}" for-each-ref --format='%(refname:lstrip=2)' refs/feeds/)
	HEAD=$("${G[@]}" rev-parse "refs/feeds/$HEX")
	vrun
	check "$1: verify passes before tampering" [ "$VRC" -eq 0 ]
}

# quiet COMMAND...: run it without output.
quiet() {
	"$@" >/dev/null 2>&1
}

# vrun: custody verify; sets VOUT (stdout and stderr) and VRC.
vrun() {
	VRC=0
	VOUT=$(cu "$A" verify 2>&1) || VRC=$?
}

# restart: stop the daemon (it must exit 0) and start it again.
restart() {
	stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"
	start_daemon "$A"
}

# caught LABEL NEEDLE...: verify exits 1 and its output names each NEEDLE.
caught() {
	local label=$1 n
	shift
	vrun
	check "$label: verify exits 1" [ "$VRC" -eq 1 ]
	contains "$label: verify says NOT verified" "$VOUT" "archive NOT verified"
	for n in "$@"; do
		contains "$label: verify names $n" "$VOUT" "$n"
	done
}

# get_refused LABEL SHA: get of damaged evidence fails and leaves nothing behind.
get_refused() {
	local rc=0 out=$OUT/$1-$2
	cu "$A" get "$2" -o "$out" >/dev/null 2>"$T/get.err" || rc=$?
	check "$1: get of the damaged evidence fails" [ "$rc" -ne 0 ]
	check "$1: get leaves no output file" [ ! -e "$out" ]
	check "$1: get leaves no partial file" [ -z "$(find "$OUT" -name "$1-$2.partial*")" ]
	rc=0
	cu "$A" get "$2" -o - >"$OUT/$1-stdout" 2>/dev/null || rc=$?
	check "$1: get -o - of the damaged evidence fails" [ "$rc" -ne 0 ]
	check "$1: get -o - writes nothing to stdout" [ ! -s "$OUT/$1-stdout" ]
}

# get_ok LABEL SHA FILE: undamaged evidence still comes back.
get_ok() {
	local out=$OUT/$1-ok-$2
	cu "$A" get "$2" -o "$out" >/dev/null 2>&1 || true
	check "$1: undamaged $(basename "$3") still comes back byte-identical" cmp -s "$3" "$out"
}

# blob_of SHA: the blob file of an evidence record.
blob_of() {
	cu "$A" show "$1" 2>/dev/null | sed -n 's/^ *"blob": "\([0-9a-f]*\)".*/\1/p'
}

# blob_file NAME: the path of blob NAME under ARCHIVE/blobs (whatever the fan-out).
blob_file() {
	find "$A/blobs" -type f -name "$1" | sed -n 1p
}

# flip_byte FILE OFFSET: invert one byte in place.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\x$(printf %02x $((b ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# record_entries COMMIT: "OID PATH" of each record object in the commit's tree, largest first.
# Evidence records (sha256, blob name, wrapped key...) are larger than custody events.
record_entries() {
	"${G[@]}" ls-tree -r -l "$1" | awk '{ print $4, $3, $5 }' | sort -rn | cut -d' ' -f2-
}

# recommit TREE: a copy of the head commit on TREE, keeping the old signature; moves the ref.
recommit() {
	local new
	"${G[@]}" cat-file commit "$HEAD" | sed "1s/^tree .*/tree $1/" >"$T/commit.txt"
	new=$("${G[@]}" hash-object -t commit -w "$T/commit.txt")
	"${G[@]}" update-ref "refs/feeds/$HEX" "$new" "$HEAD"
	echo "$new"
}

# --- 1. a modified commit ----------------------------------------------------------------
fresh modified-commit
"${G[@]}" cat-file commit "$HEAD" >"$T/c1.txt"
sed 's/^custody$/custody (0 new)/' "$T/c1.txt" >"$T/c1-new.txt"
refute "modified-commit: the message really changed" cmp -s "$T/c1.txt" "$T/c1-new.txt"
check "modified-commit: the gpgsig is kept" grep -q "BEGIN SSH SIGNATURE" "$T/c1-new.txt"
NEW=$("${G[@]}" hash-object -t commit -w "$T/c1-new.txt")
"${G[@]}" update-ref "refs/feeds/$HEX" "$NEW" "$HEAD"
caught modified-commit "commit $NEW" "signature"
cu "$A" --json log >"$T/log.json" 2>/dev/null || true
contains "modified-commit: log marks the forged commit BAD" \
    "$(grep -A3 "\"$NEW\"" "$T/log.json" | tr -d '\n')$(grep -B6 "\"$NEW\"" "$T/log.json" | tr -d '\n')" \
    '"signature": "BAD"'
printf 'Tamper-Office namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$A/keys/office.pub")" >"$T/as"
refute "modified-commit: stock git verify-commit refuses it too" \
    quiet "${G[@]}" -c gpg.ssh.allowedSignersFile="$T/as" verify-commit "$NEW"
stop_daemon "$DAEMON_PID" || fail "modified-commit: the daemon did not stop with exit 0"

# --- 2. a flipped byte in a blob, while the daemon runs -----------------------------------
fresh flipped-blob
BLOB=$(blob_of "$SHA_A")
check "flipped-blob: found the blob of a.bin" [ -n "$BLOB" ]
BF=$(blob_file "$BLOB")
check "flipped-blob: the blob file is under blobs/, named by its SHA-256" \
    [ -f "$BF" -a "$(sha256sum <"$BF" | cut -c1-64)" = "$BLOB" ]
flip_byte "$BF" 100000
caught flipped-blob "blob $BLOB"
get_refused flipped-blob "$SHA_A"
get_ok flipped-blob "$SHA_C" "$IN/c.bin"
get_ok flipped-blob "$SHA_B" "$IN/b.txt"
stop_daemon "$DAEMON_PID" || fail "flipped-blob: the daemon did not stop with exit 0"

# --- 3. two records swapped in the tree, old signature re-used ----------------------------
fresh swapped-tree
stop_daemon "$DAEMON_PID" || fail "swapped-tree: the daemon did not stop with exit 0"
mapfile -t ents < <(record_entries "$HEAD")
check "swapped-tree: the head tree holds 5 records" [ "${#ents[@]}" -eq 5 ]
read -r O1 P1 <<<"${ents[0]}"
read -r O2 P2 <<<"${ents[1]}"
rm -f "$T/index"
GIT_INDEX_FILE=$T/index "${G[@]}" read-tree "$HEAD"
GIT_INDEX_FILE=$T/index "${G[@]}" update-index --cacheinfo "100644,$O2,$P1" --cacheinfo "100644,$O1,$P2"
TREE=$(GIT_INDEX_FILE=$T/index "${G[@]}" write-tree)
check "swapped-tree: a different tree" [ "$TREE" != "$("${G[@]}" rev-parse "$HEAD^{tree}")" ]
check "swapped-tree: the two objects really swapped" \
    [ "$("${G[@]}" rev-parse "$TREE:$P1")" = "$O2" -a "$("${G[@]}" rev-parse "$TREE:$P2")" = "$O1" ]
NEW=$(recommit "$TREE")
start_daemon "$A"
caught swapped-tree "commit $NEW" "record $P1" "record $P2"
# The two largest records are the evidence records of a.bin and c.bin (b.txt's is smaller).
get_refused swapped-tree "$SHA_A"
get_refused swapped-tree "$SHA_C"
stop_daemon "$DAEMON_PID" || fail "swapped-tree: the daemon did not stop with exit 0"

# --- 4. one loose object file overwritten with another's ----------------------------------
fresh overwritten-object
stop_daemon "$DAEMON_PID" || fail "overwritten-object: the daemon did not stop with exit 0"
mapfile -t ents < <(record_entries "$HEAD")
read -r O1 P1 <<<"${ents[0]}"
read -r O2 P2 <<<"${ents[1]}"
F1=$A/git/objects/${O1:0:2}/${O1:2}
F2=$A/git/objects/${O2:0:2}/${O2:2}
check "overwritten-object: both records are loose objects" [ -f "$F1" -a -f "$F2" ]
chmod u+w "$F1"
cp "$F2" "$F1"
start_daemon "$A"
caught overwritten-object "$O1"
SHA_DAMAGED=
for s in "$SHA_A" "$SHA_C"; do
	rc=0
	cu "$A" show "$s" >/dev/null 2>&1 || rc=$?
	[ "$rc" -ne 0 ] && SHA_DAMAGED=$s
done
check "overwritten-object: one evidence record no longer reads" [ -n "$SHA_DAMAGED" ]
[ -n "$SHA_DAMAGED" ] && get_refused overwritten-object "$SHA_DAMAGED"
stop_daemon "$DAEMON_PID" || fail "overwritten-object: the daemon did not stop with exit 0"

# --- 5. truncated blobs ------------------------------------------------------------------
fresh truncated-blob
BLOB_A=$(blob_of "$SHA_A")
BLOB_C=$(blob_of "$SHA_C")
FA=$(blob_file "$BLOB_A")
FC=$(blob_file "$BLOB_C")
check "truncated-blob: found both blob files" [ -f "$FA" -a -f "$FC" ]
# blob.c: 8-byte magic + 24-byte stream header, then chunks of 65536 + 17 bytes.
truncate -s $((32 + 2 * (65536 + 17))) "$FA"	# whole chunks only: the final chunk is gone
truncate -s $(($(stat -c %s "$FC") - 10)) "$FC"	# inside the final chunk
caught truncated-blob "blob $BLOB_A" "blob $BLOB_C"
get_refused truncated-blob "$SHA_A"
get_refused truncated-blob "$SHA_C"
get_ok truncated-blob "$SHA_B" "$IN/b.txt"
stop_daemon "$DAEMON_PID" || fail "truncated-blob: the daemon did not stop with exit 0"

done_testing
