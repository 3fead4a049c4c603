#!/usr/bin/env bash
# `custody verify` while the archive is being written is clean. verify walks each feed from the
# head it read when it began, then compares that head with the highest commit the index ever
# recorded for the feed; a commit written during the walk (an ingest, a get's custody event, a
# sync) made the head look cut back, and verify reported a rolled-back history (tampering) on a
# healthy archive. Here a writer ingests one file after another while verify runs again and
# again: every verify must be clean, and so must a last one once the writer is done.
. "$(dirname "$0")/lib.sh"

A=$T/a
IN=$T/in
mkdir -p "$IN"
init_archive "$A" busy-office
start_daemon "$A"
# a feed long enough that walking it takes a while
for k in $(seq 1 40); do printf 'before %d\n' "$k" >"$IN/pre$k"; done
quiet cu "$A" ingest "$IN"/pre* || fail "the first ingests"
for k in $(seq 1 20); do
	printf 'seed %d\n' "$k" >"$IN/s$k"
	quiet cu "$A" ingest "$IN/s$k" || fail "seed ingest $k"
done

(
	for k in $(seq 1 150); do
		printf 'written during verify %d\n' "$k" >"$IN/w$k"
		cu "$A" ingest "$IN/w$k" >/dev/null 2>&1 || echo "ingest $k failed" >>"$T/writer.err"
	done
) &
WRITER=$!
runs=0 unclean=0 first=""
while kill -0 "$WRITER" 2>/dev/null && [ "$runs" -lt 60 ]; do
	runs=$((runs + 1))
	if ! out=$(timeout 60 "$CUSTODY" -A "$A" verify 2>&1); then
		unclean=$((unclean + 1))
		[ -n "$first" ] || first=$(printf '%s\n' "$out" | tail -2)
	fi
done
rc=0
wait_exit "$WRITER" 300 || rc=$?
check "the writer ran to its end" [ "$rc" -eq 0 ]
check "the writer's ingests were all acknowledged" [ ! -s "$T/writer.err" ]
check "verify ran several times while the writer wrote ($runs)" [ "$runs" -ge 3 ]
check "every verify during the writes is clean ($unclean of $runs not: $first)" [ "$unclean" -eq 0 ]
check "a verify after the writes is clean" quiet cu "$A" verify
stop_daemon "$DAEMON_PID" || fail "the daemon did not stop with exit 0"
done_testing
