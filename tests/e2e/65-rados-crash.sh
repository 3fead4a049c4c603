#!/usr/bin/env bash
# custodyd killed -9 in the middle of large ingests into a RADOS pool loses nothing it
# acknowledged and leaves no half object under a final name.
#
# An archive keeps its blobs in the pool of a one-node Ceph cluster. Evidence acknowledged
# first; then, CRASH_RUNS times (default 3), an ingest is killed at a random moment once its
# first part object is in the pool: a single file of 300 MiB (five 64 MiB parts), then batches
# of 200 small files and one of 40 MiB (and, while no run was killed before its acknowledgement,
# up to three more of the 300 MiB file killed at its first part). After each restart: every object under a final name
# (64 hex digits) in the pool, read with Ceph's own `rados` client, hashes to its name, whole
# blobs and the parts their manifests name alike; no part object is left that no manifest names
# (the store's sweep at startup removed what the killed writer left); `custody verify` is clean;
# everything acknowledged is recorded and comes back byte-identical; an unacknowledged batch is
# all there or not at all. A last ingest, not interrupted, is acknowledged and checked the same
# way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rados-lib.sh"

need_ceph
ceph_up
RUNS=${CRASH_RUNS:-3}
A=$T/a IN=$T/in
mkdir -p "$IN"
rados_archive "$A" crash-rados 30

# batch DIR SEED BIG_MIB SMALL: SMALL files of 1-16 KiB and one of BIG_MIB MiB.
batch() {
	python3 - "$@" <<'PY'
import os, random, sys
d, seed, big, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed)
os.makedirs(d)
for i in range(n):
    with open(os.path.join(d, "f%03d" % i), "wb") as f:
        f.write(seed.encode() + os.urandom(r.randint(1024, 16384)))
with open(os.path.join(d, "big"), "wb") as f:
    f.write(seed.encode())
    for _ in range(big):
        f.write(os.urandom(1 << 20))
PY
}

# identical DIR: the large file and up to three small ones of DIR come back byte-identical.
identical() {
	local f sha
	for f in "$1/big" "$1/f000" "$1/f100" "$1/f199"; do
		[ -e "$f" ] || continue
		sha=$(sha256sum <"$f" | cut -c1-64)
		rm -f "$T/back"
		cu "$A" get "$sha" -o "$T/back" >/dev/null 2>&1 && cmp -s "$f" "$T/back" || return 1
	done
}

# sound WHAT: the pool holds only whole objects under final names and no stray parts, and
# verify is clean.
sound() {
	local out
	out=$(pool_sound) || fail "$1: $out"
	out=$(pool_no_strays) || fail "$1: $out"
	out=$(cu "$A" verify 2>&1) || fail "$1: verify is not clean: $(echo "$out" | tail -3)"
}

# started PARTS: wait (up to 60 s) until the pool holds more than PARTS part objects.
started() {
	local i
	for i in $(seq 1 300); do
		[ "$(pool_parts)" -gt "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

start_daemon "$A"
batch "$IN/first" first 20 20
check "a first batch is acknowledged" quiet cu "$A" ingest "$IN/first"
acked_evidence=$(field evidence)
check "it holds 21 files" [ "$acked_evidence" -eq 21 ]

acked_runs=0 killed_runs=0
# Runs past RUNS only until one was killed before its acknowledgement: on a loaded machine
# the random pause can outlast every ingest. They kill the large file at its first part.
for run in $(seq 1 $((RUNS + 3))); do
	[ "$run" -le "$RUNS" ] || [ "$killed_runs" -eq 0 ] || break
	if [ "$run" = 1 ] || [ "$run" -gt "$RUNS" ]; then
		batch "$IN/b$run" "run$run" 300 0
	else
		batch "$IN/b$run" "run$run" 40 200
	fi
	total=$(find "$IN/b$run" -type f | wc -l)
	before=$(field evidence)
	parts=$(pool_parts)
	cu "$A" ingest "$IN/b$run" >"$T/ack" 2>"$T/ack.err" &
	cl=$!
	started "$parts" || fail "run $run: no part reached the pool"
	# the 300 MiB file takes seconds; a batch's large file is in within a second
	[ "$run" -gt "$RUNS" ] ||
	    sleep "$(python3 -c "import random, sys; print(random.uniform(0, 2 if sys.argv[1] == '1' else 0.5))" "$run")"
	kill -9 "$DAEMON_PID" 2>/dev/null || true
	acked=0
	wait "$cl" && acked=1
	flock -w 60 "$A/custodyd.lock" true || fail "run $run: custodyd.lock still held after the kill"
	left=$(pool_parts)
	start_daemon "$A"
	sound "run $run"
	n=$(($(field evidence) - before))
	if [ "$acked" = 1 ]; then
		acked_runs=$((acked_runs + 1))
		[ "$n" -eq "$total" ] || fail "run $run: acknowledged, but $n of $total files recorded"
	else
		killed_runs=$((killed_runs + 1))
		[ "$n" -eq 0 ] || [ "$n" -eq "$total" ] || fail "run $run: $n of $total files visible"
	fi
	if [ "$n" -eq "$total" ]; then
		acked_evidence=$((acked_evidence + total))
		identical "$IN/b$run" || fail "run $run: a file does not come back byte-identical"
	fi
	check "run $run: the acknowledged evidence is all there" [ "$(field evidence)" -ge "$acked_evidence" ]
	check "run $run: the first batch comes back byte-identical" identical "$IN/first"
	ok "run $run: acknowledged=$acked, $n of $total files, $left parts in the pool after the kill, $(pool_parts) after the restart"
done
check "some run was killed before its acknowledgement" [ "$killed_runs" -gt 0 ]

batch "$IN/last" last 70 50
before=$(field evidence)
check "an uninterrupted ingest is acknowledged" quiet cu "$A" ingest "$IN/last"
sound "the last ingest"
check "every file of it is recorded" [ "$(($(field evidence) - before))" -eq 51 ]
check "it comes back byte-identical" identical "$IN/last"
echo "rados crashes: $((acked_runs + killed_runs)) runs ($acked_runs acknowledged before the kill, $killed_runs killed mid-ingest)"
done_testing
