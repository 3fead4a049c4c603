#!/usr/bin/env bash
# A full Ceph pool under a live custodyd whose blobs live in it. The cluster's one OSD is told
# to report itself full (tests/ceph/cluster.sh full: tiny full ratios, no ceph-mgr needed),
# and the monitor flags the pool full. An ingest then fails promptly saying the pool is full
# (the store writes with "full try": librados would otherwise hold the write until space
# frees and the store would say "ceph unreachable" after its timeout), and records nothing:
# no evidence, no commit, no object under a final name, no stray part. Records, queries, the
# report, a get and verify keep working, `custody status` answers that the pool is full. Once the pool has room
# again the same daemon, never restarted, ingests again and verify is clean.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rados-lib.sh"

need_ceph
ceph_up own
A=$T/a IN=$T/in
mkdir -p "$IN"
rados_archive "$A" full 10
start_daemon "$A"
D=$DAEMON_PID

head -c 20M /dev/urandom >"$IN/before-big"	# three parts
head -c 50000 /dev/urandom >"$IN/before-small"	# one object
head -c 12M /dev/urandom >"$IN/full-big"
head -c 30000 /dev/urandom >"$IN/full-small"
check "an ingest into the pool works" quiet cu "$A" ingest "$IN/before-big" "$IN/before-small"
cu "$A" victim add --id v-before --name "Before Full" --date-documented 2026-03-02 \
    --status civilian --party other >/dev/null
evidence0=$(field evidence)
commits0=$(field commits)
check "the pool holds the evidence" pool_sound
objects0=$(radosc ls | grep -cE '^[0-9a-f]{64}$' || true)

t0=$(date +%s%N)
check "the cluster is made full" "$CLUSTER" full "$CEPH"
echo "the pool was flagged full in $(secs_since "$t0") s"
# The monitor's flag reaches the OSD a moment later: until then the OSD still takes writes.
# Probe with the store itself (full try, as custodyd writes) until it is refused, removing
# what a probe put while the OSD took it.
refused=0
for i in $(seq 1 60); do
	head -c 4096 /dev/urandom >"$T/probe"
	if name=$("$BUILD/custody-rados-store" "$A/custody.conf" put "$T/probe" 2>"$T/probe.err"); then
		"$BUILD/custody-rados-store" "$A/custody.conf" rm "$name" 2>/dev/null || true
	elif grep -q "ceph pool full" "$T/probe.err"; then
		refused=1
		break
	fi
	sleep 1
done
check "the OSD refuses writes (after $i probes)" [ "$refused" = 1 ]

for f in "$IN/full-big" "$IN/full-small"; do
	t0=$(date +%s%N)
	rc=0
	out=$(timeout 120 "$CUSTODY" -A "$A" ingest "$f" 2>&1) || rc=$?
	secs=$(secs_since "$t0")
	check "ingest of $(basename "$f") fails (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
	contains "saying the pool is full" "$out" "ceph pool full: pool custody"
	refute "not that ceph is unreachable" grep -q unreachable <<<"$out"
	check "promptly (${secs} s, under the store's 10 s timeout)" [ "${secs%.*}" -lt 8 ]
done
check "no evidence was recorded" [ "$(field evidence)" = "$evidence0" ]
check "no commit was written" [ "$(field commits)" = "$commits0" ]
check "no object appeared under a final name" \
    [ "$(radosc ls | grep -cE '^[0-9a-f]{64}$' || true)" = "$objects0" ]
check "every object under a final name is whole" pool_sound
check "no part is left of the failed ingests" pool_no_strays
for f in full-big full-small; do
	rc=0
	cu "$A" get "$(sha256sum <"$IN/$f" | cut -c1-64)" -o "$T/got" >/dev/null 2>&1 || rc=$?
	check "$f is not in the archive (get exits $rc)" [ "$rc" -ne 0 -a ! -e "$T/got" ]
done

t0=$(date +%s%N)
status=$(timeout 60 "$CUSTODY" -A "$A" status 2>&1) && rc=0 || rc=$?
secs=$(secs_since "$t0")
check "status answers (exit $rc) promptly (${secs} s)" [ "$rc" -eq 0 -a "${secs%.*}" -lt 8 ]
contains "status names the pool" "$status" "rados pool custody"
contains "and still counts the evidence" "$status" "evidence     $evidence0"
contains "status says the pool is full" "$status" "rados pool custody: full (ceph pool full"
check "status --json says the store is full" [ "$(field blobs_state)" = full ]
check "a victim record is added" quiet cu "$A" victim add --id v-full \
    --name "During Full" --date-documented 2026-03-02 --status civilian --party other
check "as one commit" [ "$(field commits)" = $((commits0 + 1)) ]
out=$(cu "$A" query victims --from 2026-03-01 --to 2026-03-31 --format csv 2>&1) || true
contains "a query finds it" "$out" "v-full"
contains "and the one from before" "$out" "v-before"
out=$(cu "$A" report --month 2026-03 --format json 2>&1) || true
contains "the report counts them" "$out" "\"victims\": 2,"
rm -f "$T/got"
cu "$A" get "$(sha256sum <"$IN/before-small" | cut -c1-64)" -o "$T/got" >/dev/null 2>&1 || true
check "evidence from before reads back while the pool is full" cmp -s "$IN/before-small" "$T/got"
out=$(cu "$A" verify 2>&1) && rc=0 || rc=$?
check "verify reads the full pool cleanly (exit $rc)" [ "$rc" -eq 0 ]
check "custodyd still runs" kill -0 "$D"

t0=$(date +%s%N)
check "the cluster has room again" "$CLUSTER" unfull "$CEPH"
echo "the pool took writes again in $(secs_since "$t0") s"
# The daemon sees it without a restart: the next ingest works (allowing the OSD's next
# heartbeat to clear the flag, each try bounded by the store's timeout).
back=0
for i in $(seq 1 12); do
	if quiet cu "$A" ingest "$IN/full-small"; then back=1; break; fi
	sleep 2
done
check "the next ingest succeeds without restarting custodyd (try $i)" [ "$back" = 1 ]
check "the same custodyd ($D) runs" kill -0 "$D"
check "a larger one too" quiet cu "$A" ingest "$IN/full-big"
check "the evidence counts 2 + 2 files" [ "$(field evidence)" = $((evidence0 + 2)) ]
check "status --json says the store is ok" [ "$(field blobs_state)" = ok ]
out=$(cu "$A" verify 2>&1) && rc=0 || rc=$?
check "verify is clean after the pool was full" [ "$rc" -eq 0 ]
for f in before-big before-small full-big full-small; do
	rm -f "$T/got"
	cu "$A" get "$(sha256sum <"$IN/$f" | cut -c1-64)" -o "$T/got" >/dev/null 2>&1 || true
	check "$f comes back byte-identical" cmp -s "$IN/$f" "$T/got"
done
check "every object under a final name in the pool is whole" pool_sound
check "and no part is stray" pool_no_strays
check "the daemon stops cleanly" stop_daemon "$D"
done_testing
