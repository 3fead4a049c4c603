#!/usr/bin/env bash
# An import's index pages reach index.sqlite after its reply: its transaction leaves them in
# the WAL and a thread of the daemon copies them into the file (a checkpoint) once the client
# has its answer. While the daemon runs and nothing else writes, index.sqlite grows to hold
# them; the WAL's pages are not lost when the daemon is stopped at once after a second import,
# which must exit cleanly (the thread waited for); the index read after a restart holds every
# row of both imports, as `custodyd reindex` derives them from git.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed"; exit 77; }

N=20000
python3 - "$T/one.csv" "$T/two.csv" "$N" <<'PY'
import csv, sys
one, two, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
header = ["id", "name", "sex", "age", "status", "date_of_death", "date_documented",
          "governorate", "cause", "party"]
govs = ["damascus", "aleppo", "idlib", "hama", "homs", "daraa"]
for path, base in ((one, 0), (two, n)):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(base, base + n):
            w.writerow(["C%06d" % i, "Name %d" % i, ["male", "female"][i % 2], i % 90,
                        "civilian", "2023-%02d-%02d" % (i % 12 + 1, i % 28 + 1),
                        "2024-%02d-%02d" % (i % 12 + 1, i % 28 + 1), govs[i % 6],
                        "shelling", "russia"])
PY

A=$T/a
init_archive "$A" A
start_daemon "$A"
DA=$DAEMON_PID
size() { stat -c %s "$A/index.sqlite"; }
before=$(size)
out=$(cu "$A" import victims "$T/one.csv" 2>&1) || fail "the first import: $out"
contains "the first import writes every row" "$out" "imported $N victims (0 unchanged)"
# the pages of 20,000 index rows are several MiB; nothing else writes now
grown=0
for i in $(seq 1 300); do
	[ "$(size)" -gt $((before + 4 * 1048576)) ] && { grown=1; break; }
	sleep 0.1
done
check "index.sqlite grows by the import's pages while the daemon runs ($before -> $(size) bytes)" \
    [ "$grown" -eq 1 ]
check "the daemon still runs" kill -0 "$DA"

out=$(cu "$A" import victims "$T/two.csv" 2>&1) ||
    { fail "the second import: $out"; echo "the daemon's log ends:" >&2; tail -n 20 "$A.log" >&2; }
contains "the second import writes every row" "$out" "imported $N victims (0 unchanged)"
rc=0
stop_daemon "$DA" || rc=$?
check "stopped at once after the second import, the daemon exits 0" [ "$rc" -eq 0 ]
refute "nothing about the checkpoint failing in its log" grep -q "checkpoint" "$A.log"

count() { sqlite3 "$1" "SELECT count(*) FROM victims"; }
check "the index holds both imports' victims after the stop" [ "$(count "$A/index.sqlite")" -eq $((2 * N)) ]
start_daemon "$A"
DA=$DAEMON_PID
out=$(cu "$A" status 2>&1) || fail "status after the restart: $out"
check "the daemon started again on that index" kill -0 "$DA"
stop_daemon "$DA" || fail "the second daemon exits 0"
check "the index is the same after the restart" [ "$(count "$A/index.sqlite")" -eq $((2 * N)) ]
dump() {
	sqlite3 "$1" "SELECT hex(tok), lamport, documented, death, status, governorate FROM victims
	    ORDER BY tok" | sha256sum
}
live=$(dump "$A/index.sqlite")
"$CUSTODYD" reindex "$A" >"$T/reindex.out" 2>&1 || fail "custodyd reindex: $(cat "$T/reindex.out")"
check "the index equals what custodyd reindex derives from git" [ "$(dump "$A/index.sqlite")" = "$live" ]

done_testing
