#!/usr/bin/env bash
# Casualty records end to end: CSV import (all-or-nothing, --skip-invalid, idempotent),
# edits and history, the monthly report against answers worked out by hand (documented vs death
# basis, the massacre threshold, a girl is a child not a woman), queries, duplicates, and no
# name in the clear anywhere in the archive.
. "$(dirname "$0")/lib.sh"
DATA=$(dirname "$0")/data
A=$T/arch
init_archive "$A" office-a
start_daemon "$A"

# jq-free JSON checks: python3 compares documents as values.
same_json() { python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if a==b else 1)' "$1" "$2"; }
commits() { cu "$A" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["commits"])'; }

# --- import: all or nothing --------------------------------------------------------------
c0=$(commits)
rc=0
out=$(cu "$A" import victims "$DATA/victims-bad.csv" 2>&1) || rc=$?
check "an import with invalid rows fails" [ "$rc" -eq 1 ]
contains "a bad date is reported with file, line and column" "$out" "victims-bad.csv:3: date_documented:"
contains "an unknown party is reported" "$out" "victims-bad.csv:4: party:"
contains "age contradicting age_group is reported" "$out" "victims-bad.csv:5: age_group:"
contains "a date that does not exist is reported" "$out" "victims-bad.csv:6: date_of_death:"
check "nothing was written" [ "$(commits)" = "$c0" ]
rc=0
out=$(cu "$A" import victims --skip-invalid "$DATA/victims-bad.csv" 2>&1) || rc=$?
check "--skip-invalid imports the valid rows" [ "$rc" -eq 0 ]
check "and commits once" [ "$(commits)" = $((c0 + 1)) ]
check "the valid rows are there" cu "$A" victim show b6
refute "the invalid rows are not" cu "$A" victim show b2

# --- import: the December dataset, twice ------------------------------------------------------
check "incidents import" cu "$A" import incidents "$DATA/incidents.csv"
check "victims import" cu "$A" import victims "$DATA/victims-dec2024.csv"
c1=$(commits)
out=$(cu "$A" import victims "$DATA/victims-dec2024.csv" 2>&1)
check "importing the same file again writes no commit" [ "$(commits)" = "$c1" ]
contains "and says every row is unchanged" "$out" "12 unchanged"
out=$(cu "$A" victim show v2 --json)
contains "a record keeps an embedded newline" "$out" 'second line of the note'
contains "date of death precision is kept" "$(cu "$A" victim show v11 --json)" '"date_of_death_precision": "month"'

# --- the report: worked out by hand in data/report-dec2024-*.json -----------------------------
cu "$A" report --month 2024-12 --format json >"$T/doc.json"
check "December by date documented matches the hand count" same_json "$T/doc.json" "$DATA/report-dec2024-documented.json"
cu "$A" report --month 2024-12 --basis death --format json >"$T/death.json"
check "December by date of death matches the hand count" same_json "$T/death.json" "$DATA/report-dec2024-death.json"
cu "$A" report --from 2024-12-01 --to 2024-12-31 --format json >"$T/range.json"
check "--from/--to gives the same report as --month" same_json "$T/range.json" "$DATA/report-dec2024-documented.json"
out=$(cu "$A" report --year 2024 --basis death --format json)
contains "a death known only to the month counts in the year report" "$out" '"2024-11": 1'
out=$(cu "$A" report --month 2024-12 --format text)
contains "the text report names parties for people" "$out" "Syrian regime"
contains "and shows percentages with one decimal" "$out" "40.0"
out=$(cu "$A" report --month 2024-12 --format csv)
contains "the csv report has a by_party row" "$out" "syrian_regime"

# the massacre threshold is configurable: at 4, INC-1 (4 civilians) becomes one
stop_daemon "$DAEMON_PID"
sed -i 's/^massacre_threshold = 5/massacre_threshold = 4/' "$A/custody.conf"
start_daemon "$A"
out=$(cu "$A" report --month 2024-12 --format json)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); m=r["massacres"]; sys.exit(0 if m=={"threshold":4,"count":2,"by_party":{"syrian_regime":1,"russia":1}} else 1)' "$out" &&
    ok "threshold 4 counts INC-1 as a massacre too" || fail "threshold 4: $out"

# --- edit and history ---------------------------------------------------------------------------
check "edit a victim's age" cu "$A" victim edit v1 --age 31
out=$(cu "$A" history v1 --json)
python3 -c 'import json,sys; h=json.loads(sys.argv[1]); r=h["revisions"] if isinstance(h,dict) else h; sys.exit(0 if len(r)==2 and "age" in r[1]["changed"] and "name" not in r[1]["changed"] else 1)' "$out" &&
    ok "history shows two revisions, the second changing age" || fail "history: $out"
rc=0
cu "$A" victim edit v1 --age 10 >/dev/null 2>&1 || rc=$?
check "an edit of age alone is accepted (age_group is derived again)" [ "$rc" -eq 0 ]
out=$(cu "$A" victim show v1 --json)
contains "the age group follows the new age" "$out" '"age_group": "child"'
rc=0
cu "$A" victim edit v1 --party martians >/dev/null 2>&1 || rc=$?
check "an edit to an unknown party is refused" [ "$rc" -ne 0 ]

# --- queries --------------------------------------------------------------------------------------
out=$(cu "$A" query victims --party russia --child --format json)
python3 -c 'import json,sys; v=json.loads(sys.argv[1]); ids=sorted(x["id"] for x in v); sys.exit(0 if ids==["v10"] else 1)' "$out" &&
    ok "query: children killed by Russian forces" || fail "query child russia: $out"
out=$(cu "$A" query victims --from 2024-12-01 --to 2024-12-31 --basis death --cause torture --format json)
python3 -c 'import json,sys; v=json.loads(sys.argv[1]); ids=sorted(x["id"] for x in v); sys.exit(0 if ids==["v12"] else 1)' "$out" &&
    ok "query: torture deaths in December" || fail "query torture: $out"
out=$(cu "$A" query victims --incident INC-2 --format csv)
check "query by incident returns its five victims (+ header)" [ "$(printf '%s\n' "$out" | grep -c .)" -eq 6 ]

# --- duplicates through keyed tokens ----------------------------------------------------------
cat >"$T/dups.csv" <<'CSV'
id,name,sex,date_of_death,date_documented,governorate
d1,محمّد الأحمد,male,2024-12-05,2024-12-06,homs
d2,محمد الاحمد,male,2024-12-05,2024-12-07,homs
d3,محمد الاحمد,male,2024-12-05,2024-12-07,hama
CSV
check "import the near-duplicates" cu "$A" import victims "$T/dups.csv"
out=$(cu "$A" duplicates --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); g=d["groups"] if isinstance(d,dict) else d; ids=[sorted(x["id"] for x in (grp["json"] if isinstance(grp,dict) else grp)) for grp in g]; sys.exit(0 if ["d1","d2"] in ids and not any("d3" in i for i in ids) else 1)' "$out" &&
    ok "duplicates: same normalised Arabic name, death date and governorate" || fail "duplicates: $out"

# --- sources, and no name in the clear anywhere ------------------------------------------------
check "add a protected source" cu "$A" source add --id SRC-1 --name "Witness Zainab Kareem" --contact "+963 999 000 111"
stop_daemon "$DAEMON_PID"
for needle in "Fatima Zahra" "Zainab Kareem" "999 000 111" "field hospital" "Maarat al-Numan"; do
	if grep -raq "$needle" "$A"; then fail "'$needle' appears in the clear in the archive"; else ok "'$needle' is not in any archive file"; fi
	if git --git-dir="$A/git" cat-file --batch-all-objects --batch 2>/dev/null | grep -aq "$needle"; then
		fail "'$needle' appears in a git object"
	else ok "'$needle' is in no git object"; fi
done
if sqlite3 "$A/index.sqlite" .dump | grep -aq "Fatima"; then fail "a name in the index dump"; else ok "no name in the index"; fi
start_daemon "$A"
check "verify is clean" cu "$A" verify

# --- the index is derived: delete it, restart, same report --------------------------------------
cu "$A" report --month 2024-12 --basis death --format json >"$T/before.json"
stop_daemon "$DAEMON_PID"
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
start_daemon "$A"
cu "$A" report --month 2024-12 --basis death --format json >"$T/death2.json"
same_json "$T/death2.json" "$T/before.json" && ok "the rebuilt index gives the same report" || fail "report after rebuild differs"

# --- vocabularies are the office's: a word added in custody.conf is accepted, client and daemon
rc=0
cu "$A" victim add --id t1 --name "Test Person" --date-documented 2024-12-01 --party turkey >/dev/null 2>&1 || rc=$?
check "a party outside the vocabulary is refused" [ "$rc" -ne 0 ]
stop_daemon "$DAEMON_PID"
sed -i 's/^# party = .*/party = syrian_regime, russia, sdf, sna, hts, isis, coalition, other, turkey/' "$A/custody.conf"
start_daemon "$A"
check "once custody.conf adds it, the same party is accepted" cu "$A" victim add --id t1 --name "Test Person" --date-documented 2024-12-01 --party turkey
printf 'id,name,date_documented,party\nt2,Other Person,2024-12-02,turkey\n' >"$T/turkey.csv"
check "and imports with it pass the client's own check" cu "$A" import victims "$T/turkey.csv"

done_testing
