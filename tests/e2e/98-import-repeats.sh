#!/usr/bin/env bash
# An id repeated in one CSV file, found by the client in memory that does not grow with the
# file (a filter that can only say "maybe seen", and a second reading of the file when it says
# so): every repeat is reported with its line and the line of the id's first row, however
# many times the id comes back, in the text and in --json; nothing is written; with
# --skip-invalid every other row is written and the id keeps its first row's values.
. "$(dirname "$0")/lib.sh"

cat >"$T/v.csv" <<'CSV'
id,name,sex,date_documented,governorate
R1,Amal First,female,2024-01-02,aleppo
R2,Bassel,male,2024-01-02,aleppo
R3,Carim,male,2024-01-02,idlib
R1,Amal Second,female,2024-01-03,homs
R4,Dima,female,2024-01-02,hama
R1,Amal Third,female,2024-01-04,daraa
R5,Eyad,male,2024-01-02,aleppo
CSV

A=$T/a
init_archive "$A" office
start_daemon "$A"
DA=$DAEMON_PID

rc=0
out=$(cu "$A" import victims "$T/v.csv" 2>&1) || rc=$?
check "an import with a repeated id fails (exit $rc)" [ "$rc" -eq 1 ]
contains "the second row of R1 is named, with the first" "$out" \
    "$T/v.csv:5: id: R1 appears more than once (first on line 2)"
contains "and the third, with the first too" "$out" \
    "$T/v.csv:7: id: R1 appears more than once (first on line 2)"
check "exactly these two problems" [ "$(printf '%s\n' "$out" | grep -c "^$T/v.csv:")" -eq 2 ]
contains "both counted" "$out" "2 invalid rows; nothing was written"
refute "nothing was written" quiet cu "$A" victim show R2

cu "$A" --json import victims --skip-invalid "$T/v.csv" >"$T/ok.json" 2>"$T/ok.err"
check "--skip-invalid writes the five other rows; the two repeats are its problems" py '
import json, sys
j = json.load(open(sys.argv[1]))
got = (j["written"], j["invalid"], sorted((p["line"], p["column"]) for p in j["problems"]))
assert got == (5, 2, [(5, "id"), (7, "id")]), got
' "$T/ok.json"
cu "$A" victim show R1 --json >"$T/r1.json"
check "R1 keeps its first row's values" py '
import json, sys
j = json.load(open(sys.argv[1]))
assert (j["name"], j["governorate"]) == ("Amal First", "aleppo"), j
' "$T/r1.json"
check "R5, after the last repeat, is written" quiet cu "$A" victim show R5
stop_daemon "$DA" || fail "A stops"
done_testing
