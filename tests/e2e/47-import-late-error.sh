#!/usr/bin/env bash
# The client checks a CSV file and sends it in one pass, batch by batch as its rows are checked:
# a file whose bad rows are at its end has most of its rows sent to custodyd before they are
# found. Every problem is still reported with its line, the import fails as before, and the
# archive is unchanged: no commit, the same index, nothing left under tmp/ nor held open by
# the daemon. With --skip-invalid the same file imports its valid rows, and once fixed all.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed"; exit 77; }

N=30000		# six batches of 5,000 rows
python3 - "$T/big.csv" "$T/first.csv" "$N" >"$T/lines" <<'PY'
import csv, sys
big, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
header = ["id", "name", "sex", "age", "status", "date_of_death", "date_documented",
          "governorate", "cause", "party", "notes"]
def row(i):
    return ["E%06d" % i, "Name %d Family %d" % (i, i % 97), ["male", "female"][i % 2],
            i % 80, "civilian", "2023-%02d-%02d" % (i % 12 + 1, i % 28 + 1),
            "2023-%02d-%02d" % (i % 12 + 1, i % 28 + 1), "aleppo", "shelling", "russia",
            "a note\nof two lines %d" % i if i % 7 == 0 else ""]
rows = [row(i) for i in range(n)]
rows[n - 3][2] = "neither"		# line n - 1: a bad sex
rows[n - 1][0] = rows[5][0]		# line n + 1: the id of row 5 (line 8) again
with open(big, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(rows)
line = 2 + sum(1 + r[10].count("\n") for r in rows[:n - 3])
print(line, line + 2 + rows[n - 2][10].count("\n"))	# rows n - 3 and n - 1 start here
with open(first, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(row(i) for i in range(n, n + 10))
PY

read -r BAD DUP <"$T/lines"
A=$T/a
init_archive "$A" A
start_daemon "$A"
DA=$DAEMON_PID
HA=$(key_hex "$A")
out=$(cu "$A" import victims "$T/first.csv" 2>&1)
contains "a first import of 10 victims" "$out" "imported 10 victims (0 unchanged), commit"

counts() {
	sqlite3 "$A/index.sqlite" "SELECT count(*) FROM records; SELECT count(*) FROM victims;"
}
c0=$(feed_len "$A" "$HA")
i0=$(counts)
r0=$(git --git-dir="$A/git" for-each-ref)
cpu() { awk '{ print $14 + $15 }' "/proc/$DA/stat"; }	# the daemon's CPU time, in ticks
cpu0=$(cpu)

rc=0
out=$(cu "$A" import victims "$T/big.csv" 2>&1) || rc=$?
check "the import with bad rows at its end fails (exit $rc)" [ "$rc" -eq 1 ]
contains "the bad sex is reported with its line" "$out" "$T/big.csv:$BAD: sex: "
contains "the repeated id with its line and the first" "$out" \
    "$T/big.csv:$DUP: id: E000005 appears more than once (first on line 8)"
contains "both counted, nothing written" "$out" \
    "2 invalid rows; nothing was written (fix them, or import the $((N - 2)) valid ones"
check "exactly these two problems" [ "$(printf '%s\n' "$out" | grep -c "^$T/big.csv:")" -eq 2 ]
# batches of 5,000 rows cost custodyd about 0.1 s of CPU each to check (a client that sends
# nothing before it has read the whole file costs it nothing): a few were checked
cpu1=$(cpu)
check "custodyd checked batches before the bad rows were found ($((cpu1 - cpu0)) ticks)" \
    [ $(((cpu1 - cpu0) * 100 / $(getconf CLK_TCK))) -ge 15 ]
held=1
for i in $(seq 1 100); do	# the daemon drops the uncommitted batch and its tmp/ file
	held=$(ls -l "/proc/$DA/fd" 2>/dev/null | grep -c "$A/tmp/" || true)
	[ "$held" -eq 0 ] && break
	sleep 0.1
done
check "the daemon drops the uncommitted batch (tmp/ files held: $held)" [ "$held" -eq 0 ]
check "no commit" [ "$(feed_len "$A" "$HA")" -eq "$c0" ]
check "the refs are unchanged" [ "$(git --git-dir="$A/git" for-each-ref)" = "$r0" ]
check "the index counts are unchanged" [ "$(counts)" = "$i0" ]
check "nothing is left under tmp/" [ -z "$(ls -A "$A/tmp")" ]
refute "a victim of the first batches was not written" quiet cu "$A" victim show E000001

out=$(cu "$A" import victims --skip-invalid "$T/big.csv" 2>&1)
contains "with --skip-invalid the valid rows are imported" "$out" \
    "imported $((N - 2)) victims (0 unchanged), commit"
contains "and the two bad ones skipped" "$out" "2 invalid rows skipped"
check "in one commit" [ "$(feed_len "$A" "$HA")" -eq $((c0 + 1)) ]
contains "a record of a late batch reads back" "$(cu "$A" victim show E029998 --json)" \
    '"id": "E029998"'

head -n -1 "$T/big.csv" | sed 's/,neither,/,female,/' >"$T/fixed.csv"
out=$(cu "$A" import victims "$T/fixed.csv" 2>&1)
contains "once fixed the file imports whole" "$out" \
    "imported $((N - 1)) victims ($((N - 2)) unchanged), commit"
check "the index holds every victim" \
    [ "$(sqlite3 "$A/index.sqlite" "SELECT count(*) FROM victims")" -eq $((N - 1 + 10)) ]
check "nothing is left under tmp/ after it" [ -z "$(ls -A "$A/tmp")" ]
check "custody verify is clean" quiet cu "$A" verify
stop_daemon "$DA" || fail "A stops"
done_testing
