#!/usr/bin/env bash
# Ceph stopped and restarted under a live custodyd whose blobs live in a RADOS pool. With the
# OSD down, and then the monitor too: an ingest fails within bounded time saying Ceph is
# unreachable, and records nothing (no evidence, no commit, no object under a final name);
# adding a victim record, a query and `custody report` still work (records, feeds and the index
# are on the office's disk); `custody status` says the blob store is unreachable, promptly, in
# text and in JSON. Once Ceph is back the same daemon, never restarted, ingests again, verify is
# clean and the evidence from before the outage comes back byte-identical.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rados-lib.sh"

need_ceph
ceph_up own
A=$T/a IN=$T/in
mkdir -p "$IN"
rados_archive "$A" outage 5
start_daemon "$A"
D=$DAEMON_PID

head -c 20M /dev/urandom >"$IN/before-big"	# three parts
head -c 50000 /dev/urandom >"$IN/before-small"	# one object
check "an ingest into the pool works" quiet cu "$A" ingest "$IN/before-big" "$IN/before-small"
status=$(cu "$A" status)
contains "status names the pool" "$status" "rados pool custody"
contains "and says it answers" "$status" "ok"
check "status --json says the store is ok" [ "$(field blobs_state)" = ok ]
cu "$A" victim add --id v-before --name "Before Outage" --date-documented 2026-03-02 \
    --status civilian --party other >/dev/null
victims=1
evidence0=$(field evidence)
commits0=$(field commits)
check "the pool holds the evidence" pool_sound

# outage PHASE: with Ceph (partly) down, what must fail fails clearly and what must work works.
outage() {
	local phase=$1 t0 secs rc out
	head -c 12M /dev/urandom >"$IN/$phase-big"
	head -c 30000 /dev/urandom >"$IN/$phase-small"
	for f in "$IN/$phase-big" "$IN/$phase-small"; do
		t0=$(date +%s%N)
		rc=0
		out=$(timeout 120 "$CUSTODY" -A "$A" ingest "$f" 2>&1) || rc=$?
		secs=$(secs_since "$t0")
		check "$phase: ingest of $(basename "$f") fails (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
		contains "$phase: saying ceph is unreachable" "$out" "ceph unreachable: pool custody"
		check "$phase: within bounded time (${secs} s)" [ "${secs%.*}" -lt 40 ]
	done
	check "$phase: no evidence was recorded" [ "$(field evidence)" = "$evidence0" ]
	check "$phase: no commit was written" [ "$(field commits)" = "$commits0" ]
	t0=$(date +%s%N)
	status=$(timeout 60 "$CUSTODY" -A "$A" status 2>&1) || true
	secs=$(secs_since "$t0")
	contains "$phase: status says the blob store is unreachable" "$status" "rados pool custody: unreachable (ceph unreachable"
	check "$phase: promptly (${secs} s)" [ "${secs%.*}" -lt 8 ]
	contains "$phase: and still counts the evidence" "$status" "evidence     $evidence0"
	check "$phase: status --json says unreachable" [ "$(field blobs_state)" = unreachable ]
	contains "$phase: status --json says why" "$(field blobs_error)" "ceph unreachable"
	check "$phase: a victim record is added" quiet cu "$A" victim add --id "v-$phase" \
	    --name "During $phase" --date-documented 2026-03-02 --status civilian --party other
	commits0=$((commits0 + 1))
	victims=$((victims + 1))
	check "$phase: as one commit" [ "$(field commits)" = "$commits0" ]
	out=$(cu "$A" query victims --from 2026-03-01 --to 2026-03-31 --format csv 2>&1) || true
	contains "$phase: a query finds it" "$out" "v-$phase"
	contains "$phase: and the one from before" "$out" "v-before"
	out=$(cu "$A" report --month 2026-03 --format json 2>&1) || true
	contains "$phase: the report counts them" "$out" "\"victims\": $victims,"
	check "$phase: the victim reads back" quiet cu "$A" victim show "v-$phase"
	rc=0
	out=$(timeout 120 "$CUSTODY" -A "$A" get "$(sha256sum <"$IN/before-small" | cut -c1-64)" -o "$T/got" 2>&1) || rc=$?
	check "$phase: a get fails (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
	contains "$phase: saying ceph is unreachable" "$out" "ceph unreachable"
	check "$phase: leaving no partial output" [ ! -e "$T/got" ]
	check "$phase: custodyd still runs" kill -0 "$D"
}

t0=$(date +%s%N)
"$CLUSTER" osd-stop "$CEPH"
echo "the OSD stopped in $(secs_since "$t0") s"
outage osd-down
t0=$(date +%s%N)
"$CLUSTER" mon-stop "$CEPH"
echo "the monitor stopped in $(secs_since "$t0") s"
outage all-down

t0=$(date +%s%N)
"$CLUSTER" mon-start "$CEPH"
"$CLUSTER" osd-start "$CEPH"
echo "ceph was back in $(secs_since "$t0") s"
# The daemon sees it without a restart: the next ingest works (allowing Ceph a few seconds to
# settle, each try bounded by the store's timeout).
back=0
for i in $(seq 1 12); do
	if quiet cu "$A" ingest "$IN/osd-down-small"; then back=1; break; fi
	sleep 2
done
check "the next ingest succeeds without restarting custodyd (try $i)" [ "$back" = 1 ]
check "the same custodyd ($D) runs" kill -0 "$D"
check "ingests of larger files work too" quiet cu "$A" ingest "$IN/osd-down-big" "$IN/all-down-big" "$IN/all-down-small"
check "status --json says the store is ok again" [ "$(field blobs_state)" = ok ]
check "the evidence counts 2 + 4 files" [ "$(field evidence)" = $((evidence0 + 4)) ]
out=$(cu "$A" verify 2>&1) && rc=0 || rc=$?
check "verify is clean after the outage" [ "$rc" -eq 0 ]
for f in before-big before-small osd-down-big all-down-small; do
	rm -f "$T/got"
	cu "$A" get "$(sha256sum <"$IN/$f" | cut -c1-64)" -o "$T/got" >/dev/null 2>&1 || true
	check "$f comes back byte-identical" cmp -s "$IN/$f" "$T/got"
done
check "every object under a final name in the pool is whole" pool_sound
check "the daemon stops cleanly" stop_daemon "$D"
done_testing
