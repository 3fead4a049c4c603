#!/usr/bin/env bash
# `custody status` answers from figures the index keeps, never walking the evidence.
#
# The counts status shows (evidence, records, commits) and the stored bytes of the evidence
# blobs are kept by the index as its rows come and go, so a status reads a few rows however
# large the archive. They must stay right: after an ingest, an import (a bulk load counted at
# its end) and an ingest after it, a sync (records and blobs of another office), a restart and
# an index rebuilt from nothing they equal what the index's tables hold (counted here with
# stock sqlite3) and what lies in blobs/ (the bytes of its files). And status does not look at blobs/: with the directory moved away under a freshly
# started daemon, its disk use still counts every blob's bytes.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || { echo "SKIP: needs sqlite3"; exit 77; }

A=$T/a
B=$T/b
two_offices

# field DIR NAME: one figure of DIR's status.
field() {
	cu "$1" --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# figures DIR WHAT: status's counts equal the index's rows, and its blob bytes the files'.
figures() {
	local dir=$1 what=$2 want got bytes
	want=$(sqlite3 "file:$dir/index.sqlite?mode=ro" "SELECT (SELECT count(*) FROM evidence) || ' ' ||
	    (SELECT count(*) FROM records) || ' ' || (SELECT coalesce(sum(seq), 0) FROM feeds)")
	got="$(field "$dir" evidence) $(field "$dir" records) $(field "$dir" commits)"
	check "$what: status counts what the index holds (evidence records commits: $got, $want)" \
	    [ "$got" = "$want" ]
	bytes=$(find "$dir/blobs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
	got=$(sqlite3 "file:$dir/index.sqlite?mode=ro" "SELECT n FROM counts WHERE k='blob_bytes'")
	check "$what: the blob bytes kept are the bytes in blobs/ ($got, $bytes)" [ "$got" = "$bytes" ]
}

mkdir -p "$T/files"
for i in 1 2 3 4; do head -c $((2 * 1024 * 1024 + i * 1000)) /dev/urandom >"$T/files/f$i.bin"; done
printf 'small\n' >"$T/files/small.txt"
cu "$A" ingest "$T/files" >/dev/null 2>&1 || fail "the ingest failed"
cu "$A" ingest "$T/files/f1.bin" >/dev/null 2>&1 || fail "the ingest again failed"
figures "$A" "after two ingests (one a duplicate)"
check "status counts 5 pieces of evidence" [ "$(field "$A" evidence)" -eq 5 ]

out=$(cu "$A" import victims "$(dirname "$0")/data/victims-dec2024.csv" 2>&1) ||
    fail "the import failed: $out"
figures "$A" "after an import (a load larger than the index, counted at its end)"
printf 'after the import\n' >"$T/after.txt"
cu "$A" ingest "$T/after.txt" >/dev/null 2>&1 || fail "the ingest after the import failed"
figures "$A" "after an ingest that follows the import"

out=$(cu "$B" sync A 2>&1) || fail "B sync A: $out"
figures "$B" "B after a sync from A"
check "B counts A's 6 pieces of evidence" [ "$(field "$B" evidence)" -eq 6 ]

before="$(field "$A" evidence) $(field "$A" records) $(field "$A" commits)"
stop_daemon "$DA" || fail "A did not stop cleanly"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "a restart keeps the figures" \
    [ "$(field "$A" evidence) $(field "$A" records) $(field "$A" commits)" = "$before" ]
figures "$A" "after a restart"

stop_daemon "$DA" || fail "A did not stop cleanly"
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "an index rebuilt from the feeds gives the same figures" \
    [ "$(field "$A" evidence) $(field "$A" records) $(field "$A" commits)" = "$before" ]
figures "$A" "after a rebuild"

# --- status without blobs/ ------------------------------------------------------------------
bytes=$(find "$A/blobs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
stop_daemon "$DA" || fail "A did not stop cleanly"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
du0=$(field "$A" disk_bytes)	# a fresh daemon: nothing measured before
stop_daemon "$DA" || fail "A did not stop cleanly"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
mv "$A/blobs" "$T/blobs.away"
du=$(field "$A" disk_bytes)
ev=$(field "$A" evidence)
mv "$T/blobs.away" "$A/blobs"
check "with blobs/ gone, a fresh daemon's status still counts its $bytes bytes of blobs \
(disk use $du, $du0 with blobs/)" [ "$du" -ge "$bytes" ] && [ $((du0 - du)) -lt $((bytes / 2)) ] &&
    [ $((du - du0)) -lt $((bytes / 2)) ]
check "and its 6 pieces of evidence" [ "$ev" -eq 6 ]

done_testing
