#!/usr/bin/env bash
# A large batch ingest killed -9 at random moments loses nothing acknowledged and leaves no
# half blob under a final name.
#
# Each run ingests one batch of 300 small files and one of 24 MiB (so that the batch's objects
# go into one pack of stored objects, and the large file through the reader and cipher
# threads) and kills the daemon at a random moment once its first blob is being written,
# INGEST_CRASH_RUNS times (default 4). After each restart: tmp/ holds nothing (partial blobs
# swept); every file under blobs/ is named by the SHA-256 of its bytes (a blob is renamed to its
# final name only once it is whole); `custody verify` is clean and stock `git fsck --strict` and
# `git verify-pack` accept the repository; an acknowledged batch is recorded whole (files
# sampled from it come back byte-identical); an unacknowledged one is all there or not at all. A
# last batch, not interrupted, is acknowledged and checked the same way.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is missing"; exit 77; }
RUNS=${INGEST_CRASH_RUNS:-4}
A=$T/a IN=$T/in
NFILES=300

# batch DIR SEED: 300 files of 1-8 KiB and one of 24 MiB, different in every batch.
batch() {
	python3 - "$1" "$2" "$NFILES" <<'PY'
import os, random, sys
d, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = random.Random(seed)
os.makedirs(d)
for i in range(n):
    with open(os.path.join(d, "f%03d" % i), "wb") as f:
        f.write(seed.encode() + os.urandom(r.randint(1024, 8192)))
with open(os.path.join(d, "big"), "wb") as f:
    f.write(seed.encode() + os.urandom(24 << 20))
PY
}

# sound DIR WHAT: nothing left in tmp/, every blob named by its hash, verify and git clean.
sound() {
	local left bad p
	left=$(find "$1/tmp" -mindepth 1 | wc -l)
	[ "$left" -eq 0 ] || fail "$2: $left entries left in tmp/ after the restart"
	bad=$(cd "$1/blobs" && find . -type f -printf '%f %p\n' | while read -r name path; do
		[ "$(sha256sum <"$path" | cut -d' ' -f1)" = "$name" ] || echo "$path"
	done)
	[ -z "$bad" ] || fail "$2: blobs whose bytes do not match their names: $bad"
	quiet cu "$1" verify || fail "$2: verify is not clean: $(cu "$1" verify 2>&1 | tail -3)"
	quiet git --git-dir="$1/git" fsck --strict || fail "$2: git fsck refuses the repository"
	for p in "$1"/git/objects/pack/*.idx; do
		[ -e "$p" ] || continue
		quiet git --git-dir="$1/git" verify-pack "$p" || fail "$2: git verify-pack refuses $p"
	done
}

# started DIR: wait (up to 20 s) until a blob is being written into DIR's tmp/.
started() {
	local i
	for i in $(seq 1 2000); do
		compgen -G "$1/tmp/ingest-*" >/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# evidence DIR: how many pieces of evidence the archive holds.
evidence() {
	cu "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["evidence"])'
}

# identical DIR BATCH: the large file and three small ones come back byte-identical (verify
# has checked every blob against its record's hash).
identical() {
	local f sha
	for f in "$2/big" "$2/f000" "$2/f150" "$2/f299"; do
		sha=$(sha256sum <"$f" | cut -d' ' -f1)
		rm -f "$T/back"
		cu "$1" get "$sha" -o "$T/back" >/dev/null 2>&1 && cmp -s "$f" "$T/back" || return 1
	done
}

init_archive "$A" crash-ingest
start_daemon "$A"
total=$((NFILES + 1))
acked_runs=0 killed_runs=0
for run in $(seq 1 "$RUNS"); do
	batch "$IN/b$run" "run$run"
	before=$(evidence "$A")
	cu "$A" ingest "$IN/b$run" >"$T/ack" 2>"$T/ack.err" &
	cl=$!
	started "$A" || fail "run $run: the batch never reached tmp/"
	sleep "$(python3 -c "import random; print(random.uniform(0, 0.3))")"
	kill -9 "$DAEMON_PID" 2>/dev/null || true
	acked=0
	wait "$cl" && acked=1
	flock -w 60 "$A/custodyd.lock" true || fail "run $run: custodyd.lock still held after the kill"
	start_daemon "$A"
	sound "$A" "run $run"
	n=$(($(evidence "$A") - before))
	if [ "$acked" = 1 ]; then
		acked_runs=$((acked_runs + 1))
		[ "$n" -eq "$total" ] || fail "run $run: acknowledged, but $n of $total files recorded"
	else
		killed_runs=$((killed_runs + 1))
		[ "$n" -eq 0 ] || [ "$n" -eq "$total" ] || fail "run $run: $n of $total files visible"
	fi
	if [ "$n" -eq "$total" ]; then
		identical "$A" "$IN/b$run" || fail "run $run: a file does not come back byte-identical"
	fi
	ok "run $run: acknowledged=$acked, $n of $total files, archive sound"
done

batch "$IN/last" last
before=$(evidence "$A")
check "an uninterrupted batch is acknowledged" quiet cu "$A" ingest "$IN/last"
sound "$A" "the last batch"
check "every file of the last batch is recorded" [ "$(($(evidence "$A") - before))" -eq "$total" ]
check "the last batch comes back byte-identical" identical "$A" "$IN/last"
echo "ingest crashes: $RUNS runs ($acked_runs acknowledged before the kill, $killed_runs killed mid-batch)"
done_testing
