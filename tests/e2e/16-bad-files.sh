#!/usr/bin/env bash
# Files that cannot be ingested, and files that change under the ingest.
#
# The client refuses an empty directory (nothing in it to ingest), a missing file and a FIFO
# with a clear error (also when they come with good files: nothing of the batch is written). A large file deleted while it is being
# ingested is ingested whole from the open descriptor (its SHA-256 and bytes are the original's)
# and verify is clean. Descriptors the daemon cannot read, passed with SCM_RIGHTS by
# rawclient.py inside an IngestBegin/IngestFile sequence (a write-only descriptor, a directory, a
# pipe), get an Error saying why, and leave no evidence, no blob and an empty tmp/. On a full disk
# (an archive on a 40 MiB tmpfs; skipped with the reason when mount is not permitted), a 60 MiB
# ingest fails with a clear "no space" error, verify stays clean, the small file ingested before
# still comes back byte-identical and tmp/ is empty.
. "$(dirname "$0")/lib.sh"

RAW=$(dirname "$0")/rawclient.py
MNT=

# Unmount the tmpfs once its daemon is dead, then the usual cleanup.
bad_files_cleanup() {
	local pid
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "$MNT" ] && mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT" || true
	fi
	cleanup
}
trap bad_files_cleanup EXIT

A=$T/archive
IN=$T/in
mkdir -p "$IN"
init_archive "$A" BadFiles-Office
start_daemon "$A"
printf 'a good file\n' >"$IN/good.txt"
cu "$A" ingest "$IN/good.txt" >/dev/null 2>&1 || fail "ingest of a good file"

# state: what a refused ingest must not change.
state() {
	git --git-dir="$A/git" for-each-ref
	echo "objects $(find "$A/git/objects" -type f | wc -l)"
	echo "blobs $(find "$A/blobs" -type f | wc -l)"
	echo "tmp $(ls -A "$A/tmp" | wc -l)"
	cu "$A" status 2>&1 | grep -E '^(evidence|records|commits) '
}

# refused LABEL NEEDLE FILE...: the client refuses, says NEEDLE, and nothing changes.
refused() {
	local label=$1 needle=$2 rc=0 msg before
	shift 2
	before=$(state)
	msg=$(timeout 20 "$CUSTODY" -A "$A" ingest "$@" 2>&1 >"$T/refused.out") || rc=$?
	check "$label: ingest fails" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
	contains "$label: the error says why" "$msg" "$needle"
	check "$label: no SHA-256 line is printed" [ ! -s "$T/refused.out" ]
	check "$label: nothing is written" [ "$(state)" = "$before" ]
}

mkdir "$IN/adir"
mkfifo "$IN/fifo"
refused "an empty directory" "nothing to ingest" "$IN/adir"	# a tree is walked: 25-ingest-tree
refused "a missing file" "No such file or directory" "$IN/missing"
refused "a FIFO" "not a regular file" "$IN/fifo"
printf 'another good file\n' >"$IN/good2.txt"
refused "a good file with a missing one" "No such file or directory" "$IN/good2.txt" "$IN/missing"
refused "a good file with a FIFO" "not a regular file" "$IN/good2.txt" "$IN/fifo"

# --- a file deleted while it is being ingested -------------------------------------------
head -c $((150 << 20)) /dev/urandom >"$IN/vanishing.bin"
SHA_V=$(sha256sum "$IN/vanishing.bin" | cut -c1-64)
cu "$A" ingest "$IN/vanishing.bin" >"$T/vanish.out" 2>"$T/vanish.err" &
CPID=$!
shopt -s nullglob
deleted=0
for i in $(seq 1 2000); do
	f=("$A"/tmp/*)
	if [ "${#f[@]}" -gt 0 ] && [ "$(stat -c %s "${f[0]}" 2>/dev/null || echo 0)" -gt 10000000 ]; then
		rm -f "$IN/vanishing.bin"
		deleted=1
		break
	fi
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.01
done
rc=0
wait "$CPID" || rc=$?
check "the file was deleted in the middle of its ingest" [ "$deleted" -eq 1 ]
check "the ingest of the deleted file completes (exit 0)" [ "$rc" -eq 0 ]
check "it prints the original SHA-256" [ "$(cat "$T/vanish.out")" = "$SHA_V  $IN/vanishing.bin" ]
vrc=0
cu "$A" verify >/dev/null 2>&1 || vrc=$?
check "verify is clean after the deleted file's ingest" [ "$vrc" -eq 0 ]
rc=0
cu "$A" get "$SHA_V" -o "$T/vanish.back" >/dev/null 2>&1 || rc=$?
check "the deleted file comes back whole (its original SHA-256)" \
    [ "$rc" -eq 0 -a "$(sha256sum <"$T/vanish.back" 2>/dev/null | cut -c1-64)" = "$SHA_V" ]
check "its size is the original's" [ "$(stat -c %s "$T/vanish.back" 2>/dev/null)" = $((150 << 20)) ]
rm -f "$T/vanish.back"

# --- descriptors the daemon cannot read --------------------------------------------------
head -c 5000 /dev/urandom >"$IN/wronly.bin"
# bad_fd SCENARIO ARG NEEDLE: an Error saying NEEDLE, the connection closed, nothing written.
bad_fd() {
	local before out err
	before=$(state)
	out=$(python3 "$RAW" "$A/custodyd.sock" "$1" "$2" 2>&1) || true
	err=$(grep '^error ' <<<"$out" | sed -n 1p)
	check "$1: an Error comes back" [ -n "$err" ]
	contains "$1: the Error says why" "$err" "$3"
	check "$1: no IngestFileDone or IngestDone" [ -z "$(grep -E '^reply (104|106)$' <<<"$out")" ]
	check "$1: then the connection is closed" [ "$(tail -1 <<<"$out")" = closed ]
	check "$1: the daemon is alive" kill -0 "$DAEMON_PID"
	check "$1: no evidence, no blob, tmp/ empty, refs unchanged" [ "$(state)" = "$before" ]
}
bad_fd ingest-wronly "$IN/wronly.bin" "wronly.bin: cannot read the file"
bad_fd ingest-dirfd "$IN/adir" "is a directory"
bad_fd ingest-pipe - "not a regular file"
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"

# --- a full disk -------------------------------------------------------------------------
MNT=$T/small
mkdir "$MNT"
if ! mount -t tmpfs -o size=40m,mode=0700 tmpfs "$MNT" 2>"$T/mount.err"; then
	echo "SKIP full disk: cannot mount a tmpfs ($(cat "$T/mount.err"))"
	MNT=
else
	F=$MNT/archive
	init_archive "$F" Full-Office
	start_daemon "$F"
	head -c 100000 /dev/urandom >"$IN/small.bin"
	rc=0
	cu "$F" ingest "$IN/small.bin" >/dev/null 2>&1 || rc=$?
	check "full disk: the small file is ingested" [ "$rc" -eq 0 ]
	head -c $((60 << 20)) /dev/urandom >"$IN/big60.bin"
	rc=0
	msg=$(cu "$F" ingest "$IN/big60.bin" 2>&1 >"$T/full.out") || rc=$?
	check "full disk: the 60 MiB ingest fails" [ "$rc" -ne 0 ]
	echo "# full disk: the client said: $msg"
	contains "full disk: the error says no space" "$msg" "no space left on device"
	check "full disk: the error names the file once" [ "$(grep -o 'big60\.bin' <<<"$msg" | wc -l)" -eq 1 ]
	check "full disk: no SHA-256 line is printed" [ ! -s "$T/full.out" ]
	check "full disk: the daemon is alive" kill -0 "$DAEMON_PID"
	check "full disk: tmp/ is empty" [ -z "$(ls -A "$F/tmp")" ]
	vrc=0
	vout=$(cu "$F" verify 2>&1) || vrc=$?
	check "full disk: verify is clean" [ "$vrc" -eq 0 ]
	contains "full disk: verify counts 1 commit and 1 blob" "$vout" "1 commits, 2 records, 1 blobs"
	rc=0
	cu "$F" get "$(sha256sum "$IN/small.bin" | cut -c1-64)" -o "$T/small.back" >/dev/null 2>&1 || rc=$?
	check "full disk: the small file comes back byte-identical" cmp -s "$IN/small.bin" "$T/small.back"
	st=$(cu "$F" status 2>&1) || true
	contains "full disk: status still counts 1 evidence" "$st" "evidence     1"
	contains "full disk: status counts that commit and the get's custody event" "$st" "commits      2"
	rc=0
	stop_daemon "$DAEMON_PID" || rc=$?
	check "full disk: the daemon stops with exit 0" [ "$rc" -eq 0 ]
fi
done_testing
