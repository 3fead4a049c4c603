#!/usr/bin/env bash
# Persons at a scale where an import of events merges thousands of the feed's existing trees:
# 6,000 persons, then 18,000 events written as one streamed commit over them (the head's trees
# read through a handle opened again every 4,096 trees, the references checked with a small
# page cache). Every event reaches the feed's tree (a leaf each, no duplicate, git fsck clean)
# and the index (row counts; the year's arrests of the detention report as counted here from
# the CSV); importing the events again writes nothing; and the daemon's peak memory stays
# under a bound that does not grow with the archive (not measured under AddressSanitizer,
# whose allocator keeps freed memory).
. "$(dirname "$0")/lib.sh"
A=$T/a
N=6000
init_archive "$A" scale
ASAN=0
asan_build && ASAN=1
start_daemon "$A"

python3 - "$T" "$N" <<'PY'
import random, sys
w, n = sys.argv[1], int(sys.argv[2])
r = random.Random(88)
parties = ["syrian_regime", "russia", "sdf", "sna", "hts", "isis"]
govs = ["damascus", "aleppo", "idlib", "hama", "homs", "daraa"]
def day(y0, y1):
    return "%04d-%02d-%02d" % (r.randint(y0, y1), r.randint(1, 12), r.randint(1, 28))
arrests = 0
with open(w + "/persons.csv", "w") as p, open(w + "/events.csv", "w") as e:
    p.write("id,name,sex,age,age_group,birth_year,governorate,area,consent,reporter_name,"
            "reporter_relationship,reporter_contact,height_cm,build,hair,eyes,marks,dental,"
            "clothing,belongings,dna_reference,notes\n")
    e.write("id,person_id,type,date,date_estimated,date_documented,party,site_id,governorate,"
            "area,source_id,notes\n")
    for i in range(n):
        pid = "P-%05d" % i
        p.write("%s,Person %d,%s,%d,,,%s,,wgeid,,,,,,,,,,,,,\n" % (pid, i,
                r.choice(["male", "female"]), r.randint(8, 80), r.choice(govs)))
        first = r.choice(["arrest", "abduction", "last_seen"])
        d1 = day(2020, 2024)
        if first != "last_seen" and d1.startswith("2024-"):
            arrests += 1
        party = r.choice(parties) if first != "last_seen" else ""
        e.write("E-%05d-1,%s,%s,%s,,,%s,,%s,,,\n" % (i, pid, first, d1, party, r.choice(govs)))
        then = r.choice(["transfer", "release", "denial", "death_in_custody"])
        party = r.choice(parties) if then in ("transfer", "death_in_custody") else ""
        e.write("E-%05d-2,%s,%s,%s,,,%s,,,,,\n" % (i, pid, then, day(2021, 2025), party))
        e.write("E-%05d-3,%s,inquiry,%s,,,,,,,,\n" % (i, pid, day(2021, 2025)))
open(w + "/arrests", "w").write("%d\n" % arrests)
PY

HA=$(key_hex "$A")
leaves() { git --git-dir="$A/git" ls-tree -r --name-only "$(feed_ref "$A" "$HA")" | wc -l; }
check "$N persons imported" quiet cu "$A" import persons "$T/persons.csv"
before=$(leaves)
check "$((3 * N)) events imported in one commit" quiet cu "$A" import person-events "$T/events.csv"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
check "every event is a leaf of the feed's tree ($before + $((3 * N)))" [ "$(leaves)" -eq $((before + 3 * N)) ]
check "no leaf twice" [ -z "$(git --git-dir="$A/git" ls-tree -r --name-only "$(feed_ref "$A" "$HA")" | sort | uniq -d)" ]
check "git fsck finds the repository whole" quiet git --git-dir="$A/git" fsck --no-dangling
check "the index holds every person" [ "$(sqlite3 "$A/index.sqlite" 'SELECT count(*) FROM persons')" -eq "$N" ]
check "and every event" [ "$(sqlite3 "$A/index.sqlite" 'SELECT count(*) FROM person_events')" -eq $((3 * N)) ]
out=$(cu "$A" report detentions --year 2024 --format json)
got=$(py 'import json,sys; print(json.loads(sys.argv[1])["arrests"])' "$out")
check "the report counts the year's arrests of the file ($got)" [ "$got" = "$(cat "$T/arrests")" ]
out=$(cu "$A" import person-events "$T/events.csv" 2>&1)
contains "importing the events again writes nothing" "$out" "$((3 * N)) unchanged"
if [ "$ASAN" = 1 ]; then
	echo "(AddressSanitizer keeps freed memory in quarantine: the peak is not measured)"
else
	check "custodyd's peak memory stays under 128 MiB ($((hwm / 1024)) MiB)" [ "$hwm" -lt $((128 << 10)) ]
fi
done_testing
