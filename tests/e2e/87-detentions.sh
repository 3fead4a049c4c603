#!/usr/bin/env bash
# The detention report and the WGEID case, end to end with a real daemon: small hand-made
# persons and events imported, `custody report detentions` compared exactly with answers
# worked out by hand below (a release after a re-arrest; a denial; 89 vs 91 days; a
# month-precise arrest; a girl is a child, not a woman), the same report at a second office
# that took the records in a sync, a shorter period that leaves the
# month-precise arrest out, [persons] disappeared_after_days changed in custody.conf, the
# same figures after the index is deleted and rebuilt, text and CSV output, bad periods
# refused; then `custody person case` (identity, date of disappearance, place, party,
# inquiry steps, office) in JSON and text, an unknown person refused; `custody query persons`
# by status at a day and the other filters.
. "$(dirname "$0")/lib.sh"
A=$T/a B=$T/b
two_offices

# Persons (sex, age, governorate decide child, woman and the governorate of an arrest that
# names none).
H=id,name,sex,age,age_group,birth_year,governorate,area,consent,reporter_name,reporter_relationship,reporter_contact,height_cm,build,hair,eyes,marks,dental,clothing,belongings,dna_reference,notes
cat >"$T/persons.csv" <<CSV
$H
RE-1,Adnan Rearrested,male,30,,,aleppo,,,,,,,,,,,,,,,
RR-2,Basel Released,male,25,,,idlib,,,,,,,,,,,,,,,
DN-3,Dalia Denied,female,33,,1991,damascus,Mezzeh,wgeid,,,,,,,,,,,,,
T89-4,Tarek Eightynine,male,50,,,hasakah,,,,,,,,,,,,,,,
T91-5,Tamer Ninetyone,male,51,,,raqqa,,,,,,,,,,,,,,,
MO-6,Munir Month,male,,adult,,deir_ez_zor,,,,,,,,,,,,,,,
GI-7,Ghada Girl,female,15,,,damascus,,,,,,,,,,,,,,,
WO-8,Wafa Woman,female,40,,,homs,,,,,,,,,,,,,,,
LS-9,Luay Lastseen,male,22,,,hama,Old city,,,,,,,,,,,,,,
FD-10,Fadi Found,male,45,,,daraa,,,,,,,,,,,,,,,
ID-11,Imad Identified,male,60,,,homs,,,,,,,,,,,,,,,
LA-12,Layth Late,male,28,,,latakia,,,,,,,,,,,,,,,
CSV
cat >"$T/sites.csv" <<CSV
id,type,name,governorate,area,lat,lon,geometry,party,first_reported,status,description,source_id
S-1,detention_facility,Branch 215,damascus,Kafr Sousa,33.5,36.27,,syrian_regime,2012,verified,,
CSV
E=id,person_id,type,date,date_estimated,date_documented,party,site_id,governorate,area,source_id,notes
cat >"$T/events.csv" <<CSV
$E
,RE-1,arrest,2024-06-01,,,syrian_regime,,aleppo,,,
,RE-1,release,2024-09-01,,,,,,,,
,RE-1,arrest,2024-12-10,,,syrian_regime,,,,,
,RR-2,arrest,2024-10-01,,,hts,,idlib,,,
,RR-2,release,2024-11-01,,,,,,,,
,RR-2,arrest,2024-12-05,,,hts,,idlib,,,
,RR-2,release,2024-12-20,,,,,,,,
,DN-3,arrest,2024-12-02,,,syrian_regime,S-1,damascus,,,
,DN-3,inquiry,2024-12-10,,,,,,,,letter to the military police
,DN-3,denial,2024-12-15,,,,,,,,
,DN-3,inquiry,2025-01-20,,,,,,,,second letter
,T89-4,arrest,2024-10-03,,,sdf,,hasakah,,,
,T91-5,arrest,2024-10-01,,,sdf,,raqqa,,,
,MO-6,abduction,2024-12,,,isis,,deir_ez_zor,,,
,GI-7,arrest,2024-12-20,,,syrian_regime,,damascus,,,
,WO-8,abduction,2024-12-08,,,isis,,homs,,,
,WO-8,death_in_custody,2024-12-25,,,isis,,,,,
,LS-9,last_seen,2024-11-01,,,,,,,,
,LS-9,inquiry,2024-12-01,,,,,,,,
,FD-10,arrest,2023-05-01,,,syrian_regime,,daraa,,,
,FD-10,remains_found,2024-12-30,,,,,,,,
,FD-10,identified,2025-01-05,,,,,,,,
,ID-11,last_seen,2012-03,,,,,,,,
,ID-11,identified,2024-11-15,,,,,,,,
,LA-12,arrest,2025-01-10,,,syrian_regime,,latakia,,,
CSV
check "persons import" quiet cu "$A" import persons "$T/persons.csv"
check "sites import" quiet cu "$A" import sites "$T/sites.csv"
check "events import" quiet cu "$A" import person-events "$T/events.csv"

# December 2024 (to = 2024-12-31), disappeared_after_days 90, by hand:
# arrests in the period (arrest or abduction, whole date inside):
#   RE-1 2024-12-10 syrian_regime, no governorate: the person's, aleppo (re-arrest after a
#        release in September; the June arrest is outside)
#   RR-2 2024-12-05 hts idlib (the October arrest is outside)
#   DN-3 2024-12-02 syrian_regime damascus (woman: female, 33)
#   MO-6 "2024-12" isis deir_ez_zor (month-precise, the whole month is inside)
#   GI-7 2024-12-20 syrian_regime damascus (female, 15: a child, NOT a woman)
#   WO-8 2024-12-08 isis homs (woman: female, 40)
#   -> 6 arrests; children 1 (GI-7); women 2 (DN-3, WO-8)
#   by party: syrian_regime 3 (RE-1, DN-3, GI-7) children 1 women 1; hts 1; isis 2 women 1
#   by governorate: aleppo 1, idlib 1, damascus 2, deir_ez_zor 1, homs 1: 1/6 = 16.7%,
#   2/6 = 33.3%
# released in the period: RR-2 2024-12-20 -> 1 (RE-1's release is in September)
# died in custody: WO-8 2024-12-25 isis -> 1
# status on 2024-12-31:
#   RE-1 detained (re-arrest 21 days before); RR-2 released (release after the re-arrest);
#   DN-3 disappeared (denial; the inquiry of 12-10 changes nothing, the one of 2025 is after);
#   T89-4 detained: 2024-10-03 is 28+30+31 = 89 days before; T91-5 disappeared: 2024-10-01
#   is 91 days before (more than 90); MO-6 detained (its start 2024-12-01, 30 days);
#   GI-7 detained; WO-8 died_in_custody; LS-9 missing (an inquiry after last_seen changes
#   nothing); FD-10 found_dead (identified only in 2025); ID-11 identified; LA-12 no event
#   by then, in no status.
#   -> detained 4, disappeared 2, released 1, died_in_custody 1, found_dead 1, identified 1,
#   missing 1
DEC='{"period": {"from": "2024-12-01", "to": "2024-12-31"},
 "arrests": 6, "children": 1, "women": 2,
 "by_party": {"hts": {"arrests": 1, "children": 0, "women": 0},
              "isis": {"arrests": 2, "children": 0, "women": 1},
              "syrian_regime": {"arrests": 3, "children": 1, "women": 1}},
 "by_governorate": {"aleppo": {"arrests": 1, "percent": 16.7},
                    "damascus": {"arrests": 2, "percent": 33.3},
                    "deir_ez_zor": {"arrests": 1, "percent": 16.7},
                    "homs": {"arrests": 1, "percent": 16.7},
                    "idlib": {"arrests": 1, "percent": 16.7}},
 "released": 1,
 "died_in_custody": {"count": 1, "by_party": {"isis": 1}},
 "status_at_end": {"detained": 4, "disappeared": 2, "released": 1, "died_in_custody": 1,
                   "found_dead": 1, "identified": 1, "missing": 1},
 "disappeared_after_days": 90}'
# exactly: the same members, values and key order
same_json() {
	py 'import json,sys
a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2])
assert json.dumps(a) == json.dumps(b), "\n got  %s\n want %s" % (json.dumps(a), json.dumps(b))' "$1" "$2"
}
out=$(cu "$A" report detentions --month 2024-12 --format json)
same_json "$out" "$DEC" && ok "the December report is the one worked out by hand" ||
    fail "December report"

check "B syncs A" quiet cu "$B" sync A
out=$(cu "$B" report detentions --month 2024-12 --format json)
same_json "$out" "$DEC" && ok "the office that synced the records gives the same report" ||
    fail "December report at B"
stop_daemon "$DB"

# 2024-12-01..2024-12-15, by hand: MO-6's "2024-12" is not wholly inside: left out; GI-7
# (12-20) after. Arrests RE-1, RR-2, DN-3, WO-8 -> 4; women 2 (DN-3, WO-8); children 0;
# released 0 (RR-2's is on 12-20); no death. Status on 12-15: RE-1, RR-2 (its re-arrest of
# 12-05), T89-4 (73 days), T91-5 (75 days), MO-6 (start 12-01), WO-8 detained -> 6; DN-3
# (denial on the very day) and FD-10 (2023 arrest, no news since) disappeared -> 2; LS-9
# missing; ID-11 identified; GI-7 and LA-12 nothing yet.
HALF='{"period": {"from": "2024-12-01", "to": "2024-12-15"},
 "arrests": 4, "children": 0, "women": 2,
 "by_party": {"hts": {"arrests": 1, "children": 0, "women": 0},
              "isis": {"arrests": 1, "children": 0, "women": 1},
              "syrian_regime": {"arrests": 2, "children": 0, "women": 1}},
 "by_governorate": {"aleppo": {"arrests": 1, "percent": 25.0},
                    "damascus": {"arrests": 1, "percent": 25.0},
                    "homs": {"arrests": 1, "percent": 25.0},
                    "idlib": {"arrests": 1, "percent": 25.0}},
 "released": 0,
 "died_in_custody": {"count": 0, "by_party": {}},
 "status_at_end": {"detained": 6, "disappeared": 2, "released": 0, "died_in_custody": 0,
                   "found_dead": 0, "identified": 1, "missing": 1},
 "disappeared_after_days": 90}'
out=$(cu "$A" report detentions --from 2024-12-01 --to 2024-12-15 --format json)
same_json "$out" "$HALF" && ok "a half month leaves the month-precise abduction out" ||
    fail "half-month report"

# The year 2024: every arrest of the year, including RE-1's June one and RR-2's October one,
# T89-4's and T91-5's: 6 + 4 = 10; status as in December.
out=$(cu "$A" report detentions --year 2024 --json)
py 'import json,sys; r=json.loads(sys.argv[1])
assert r["arrests"] == 10 and r["released"] == 3, r
assert r["by_party"]["sdf"] == {"arrests": 2, "children": 0, "women": 0}, r
assert r["status_at_end"]["detained"] == 4 and r["status_at_end"]["disappeared"] == 2, r' "$out" &&
    ok "the year counts every arrest and release of 2024" || fail "year report: $out"

# query persons: the statuses worked out above, and the filters
ids() { cu "$A" query persons "$@" --json | py 'import json,sys; print(" ".join(sorted(r["id"] for r in json.load(sys.stdin))))'; }
check "disappeared on 2024-12-31: the denial and the 91 days" [ "$(ids --status disappeared --at 2024-12-31)" = "DN-3 T91-5" ]
check "detained on 2024-12-31" [ "$(ids --status detained --at 2024-12-31)" = "GI-7 MO-6 RE-1 T89-4" ]
check "detained on 2024-12-15" [ "$(ids --status detained --at 2024-12-15)" = "MO-6 RE-1 RR-2 T89-4 T91-5 WO-8" ]
check "with a party" [ "$(ids --party isis)" = "MO-6 WO-8" ]
check "with a site" [ "$(ids --site S-1)" = "DN-3" ]
check "children: the girl" [ "$(ids --child)" = "GI-7" ]
check "women: not the girl" [ "$(ids --woman)" = "DN-3 WO-8" ]
check "a governorate, the person's or an event's" [ "$(ids --governorate homs)" = "ID-11 WO-8" ]
check "filters together" [ "$(ids --status detained --at 2024-12-31 --governorate aleppo)" = "RE-1" ]
rc=0; out=$(cu "$A" query persons --status vanished 2>&1) || rc=$?
check "an unknown status is refused" [ "$rc" -eq 2 ]
contains "listing the statuses" "$out" "missing, detained, disappeared"

# text and CSV
out=$(cu "$A" report detentions --month 2024-12)
contains "text has a title" "$out" "Detention report for December 2024"
contains "text names the party" "$out" "Syrian regime forces"
contains "text says after how many days" "$out" "more than 90 days"
out=$(cu "$A" report detentions --month 2024-12 --format csv)
contains "csv has its header" "$out" "section,key,metric,value"
contains "csv counts the arrests" "$out" "totals,all,arrests,6"
contains "csv counts a girl as a child" "$out" "by_party,syrian_regime,children,1"
contains "csv has the statuses" "$out" "status_at_end,all,disappeared,2"

# bad periods
rc=0; out=$(cu "$A" report detentions --month 2024-13 2>&1) || rc=$?
check "a bad month is refused" [ "$rc" -eq 2 ]
contains "saying so" "$out" "--month needs YYYY-MM"
rc=0; out=$(cu "$A" report detentions --from 2024-12-31 --to 2024-12-01 2>&1) || rc=$?
check "a period ending before it starts is refused" [ "$rc" -eq 2 ]
rc=0; out=$(cu "$A" report detentions --month 2024-12 --year 2024 2>&1) || rc=$?
check "two periods are refused" [ "$rc" -eq 2 ]

# the index holds the persons and events, and no name, area or note
check "the index has a row per person" [ "$(sqlite3 "$A/index.sqlite" 'SELECT count(*) FROM persons')" = 12 ]
check "and per event" [ "$(sqlite3 "$A/index.sqlite" 'SELECT count(*) FROM person_events')" = 25 ]
for needle in "Dalia Denied" "Mezzeh" "letter to the military police" "Branch 215" "Kafr Sousa"; do
	refute "the index does not hold '$needle'" sh -c 'sqlite3 "$1" .dump | grep -aqF "$2"' _ \
	    "$A/index.sqlite" "$needle"
done

# [persons] disappeared_after_days = 100: T91-5 (91 days) is detained again; DN-3 stays
# disappeared (a denial): detained 5, disappeared 1. The index is deleted too: rebuilt from
# the feed, the same figures.
stop_daemon "$DA"
sed -i 's/^disappeared_after_days = 90$/disappeared_after_days = 100/' "$A/custody.conf"
grep -q '^disappeared_after_days = 100$' "$A/custody.conf" || fail "custody.conf has no [persons] key"
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
out=$(cu "$A" report detentions --month 2024-12 --format json)
WANT=$(py 'import json,sys; r=json.loads(sys.argv[1])
r["status_at_end"]["detained"] = 5; r["status_at_end"]["disappeared"] = 1
r["disappeared_after_days"] = 100; print(json.dumps(r))' "$DEC")
same_json "$out" "$WANT" && ok "disappeared_after_days = 100 keeps 91 days a detention, after a rebuild" ||
    fail "report with 100 days"
stop_daemon "$DA"
sed -i 's/^disappeared_after_days = 100$/disappeared_after_days = 0/' "$A/custody.conf"
rc=0; "$CUSTODYD" run "$A" >"$T/bad.log" 2>&1 || rc=$?
check "disappeared_after_days = 0 is refused" [ "$rc" -ne 0 ]
contains "naming the key" "$(cat "$T/bad.log")" "disappeared_after_days"
sed -i 's/^disappeared_after_days = 0$/disappeared_after_days = 90/' "$A/custody.conf"
start_daemon "$A"
DA=$DAEMON_PID

# --- person case ----------------------------------------------------------------------------
# DN-3: disappeared on 2024-12-02 (the arrest: the first last_seen, arrest or abduction), at
# site S-1 "Branch 215" (damascus), by syrian_regime; steps: the two inquiries in date order.
office=$(cu "$A" show DN-3 --json | py 'import json,sys; print(json.load(sys.stdin)["rev"]["office"])')
out=$(cu "$A" person case DN-3 --format json)
py 'import json,sys; c=json.loads(sys.argv[1])
assert c["id"] == "DN-3" and c["name"] == "Dalia Denied" and c["sex"] == "female", c
assert c["age"] == 33 and c["birth_year"] == 1991 and c["governorate"] == "damascus", c
d = c["disappearance"]
assert d["date"] == "2024-12-02" and d["type"] == "arrest" and d["party"] == "syrian_regime", d
assert d["place"] == {"site_id": "S-1", "name": "Branch 215", "type": "detention_facility",
    "governorate": "damascus"}, d
assert [s["date"] for s in c["steps"]] == ["2024-12-10", "2025-01-20"], c["steps"]
assert c["steps"][0]["notes"] == "letter to the military police", c["steps"]
assert c["office"] == "A" and c["office_key"] == sys.argv[2], c' "$out" "$office" &&
    ok "the case of DN-3 has its WGEID elements" || fail "case DN-3: $out"
# LS-9: last seen (no site): the place is the person's area and governorate; no party.
out=$(cu "$A" person case LS-9 --json)
py 'import json,sys; c=json.loads(sys.argv[1]); d=c["disappearance"]
assert d["date"] == "2024-11-01" and d["type"] == "last_seen" and d["party"] is None, d
assert d["place"] == {"area": "Old city", "governorate": "hama"}, d
assert len(c["steps"]) == 1, c' "$out" && ok "a last_seen case takes the person's area" ||
    fail "case LS-9: $out"
# ID-11: the first event is a month-precise last_seen
out=$(cu "$A" person case ID-11 --json)
py 'import json,sys; c=json.loads(sys.argv[1])
assert c["disappearance"]["date"] == "2012-03", c' "$out" &&
    ok "a month-precise date of disappearance stays month-precise" || fail "case ID-11: $out"
out=$(cu "$A" person case DN-3)
contains "the text case names the place" "$out" "Branch 215"
contains "the party" "$out" "Syrian regime forces"
contains "the steps" "$out" "2024-12-10 inquiry: letter to the military police"
contains "the submitting office by name" "$out" "Submitting office      A"
rc=0; out=$(cu "$A" person case NOBODY 2>&1) || rc=$?
check "the case of an unknown person fails" [ "$rc" -eq 1 ]
contains "saying so" "$out" "no such person: NOBODY"
ev=$(sqlite3 "$A/index.sqlite" "SELECT count(*) FROM person_events")
rc=0; out=$(cu "$A" person case "$(cu "$A" person list --format csv | sed -n 2p | cut -d, -f1)x" 2>&1) || rc=$?
check "nor does a made-up id" [ "$rc" -eq 1 ]

stop_daemon "$DA"
done_testing
