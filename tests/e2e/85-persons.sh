#!/usr/bin/env bash
# Missing and detained persons and what happened to them, end to end with real daemons: person
# add/edit/show/list, person event (the party an arrest needs, an unknown person refused), the
# CSV imports of persons and person events (all or nothing with FILE:LINE: column: problem,
# idempotent: an event without an id gets the same derived id again, so a second import writes
# nothing; an event naming a person the archive lacks is refused by line), evidence linked to a
# person, protected fields (reporter, ante-mortem data) withheld from a role not granted them,
# the records synced to a second office (verify clean at both), the index rebuilt from the feed
# when deleted, custody duplicates persons (same normalised name and governorate, same age or
# birth year, by keyed tokens), and no name, contact or ante-mortem detail in the
# clear in any archive file, git object or the index of either office.
. "$(dirname "$0")/lib.sh"
A=$T/a B=$T/b
two_offices

commits() { cu "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["commits"])'; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(d.get(sys.argv[2])))' "$1" "$2"; }

NAME="Zubaida Qaratalli" CONTACT="+963-944-717273" MARK="crescent-shaped scar"

# --- person add / show / edit / list -------------------------------------------------------------
out=$(cu "$A" person add --id P-1 --name "$NAME" --sex female --age 16 --governorate damascus \
    --consent "wgeid, icmp" --reporter-name "Umm Zubaida" --reporter-contact "$CONTACT" \
    --height-cm 158 --marks "$MARK" --dna-reference collected 2>&1)
contains "person add prints the id" "$out" "P-1"
doc=$(cu "$A" person show P-1 --json)
check "a 16-year-old is a child" [ "$(field "$doc" age_group)" = '"child"' ]
check "consent is kept in the classes' order" [ "$(field "$doc" consent)" = '["icmp", "wgeid"]' ]
check "the admin reads the reporter's contact" [ "$(field "$doc" reporter_contact)" = "\"$CONTACT\"" ]
rc=0; out=$(cu "$A" person add --id P-2 --consent icmp,press 2>&1) || rc=$?
check "a bad consent class is refused" [ "$rc" -eq 1 ]
contains "and named" "$out" 'consent: unknown consent class "press"'
rc=0; out=$(cu "$A" person add --id P-1 --name x 2>&1) || rc=$?
check "adding an existing id is refused" [ "$rc" -eq 1 ]
check "person edit sets a field" quiet cu "$A" person edit P-1 --birth-year 2008
rc=0; out=$(cu "$A" person edit P-1 --height-cm 300 2>&1) || rc=$?
check "an edit out of range is refused" [ "$rc" -ne 0 ]
contains "saying which field" "$out" "height_cm"
check "person edit --unset removes a field" quiet cu "$A" person edit P-1 --unset dna_reference
doc=$(cu "$A" person show P-1 --json)
check "the edits are there" [ "$(field "$doc" birth_year)" = 2008 ] && [ "$(field "$doc" dna_reference)" = null ]
out=$(cu "$A" person list)
contains "person list shows the person" "$out" "$NAME"
out=$(cu "$A" person list --format csv)
contains "person list --format csv has the header" "$out" "id,name,sex,age"
out=$(cu "$A" history P-1 --json)
py 'import json,sys; h=json.loads(sys.argv[1]); assert len(h["revisions"]) == 3, h' "$out" &&
    ok "history keeps the three revisions" || fail "history: $out"

# --- person event ----------------------------------------------------------------------------------
rc=0; out=$(cu "$A" person event P-1 --type arrest --date 2024-12 2>&1) || rc=$?
check "an arrest without a party is refused" [ "$rc" -eq 1 ]
contains "and the party named" "$out" "party: required for an arrest event"
ev=$(cu "$A" person event P-1 --type arrest --date 2024-12 --party syrian_regime \
    --governorate damascus 2>/dev/null)
check "an arrest with its party is recorded" [ -n "$ev" ]
doc=$(cu "$A" show "$ev" --json)
check "its date keeps month precision" [ "$(field "$doc" date_precision)" = '"month"' ]
check "it names its person" [ "$(field "$doc" person_id)" = '"P-1"' ]
c0=$(commits "$A")
ev2=$(cu "$A" person event P-1 --type arrest --date 2024-12 --party syrian_regime \
    --governorate damascus 2>/dev/null)
check "the same event again gets the same derived id" [ "$ev2" = "$ev" ]
check "and writes nothing" [ "$(commits "$A")" = "$c0" ]
rc=0; out=$(cu "$A" person event NOBODY --type release --date 2025-01-02 2>&1) || rc=$?
check "an event for an unknown person is refused" [ "$rc" -eq 1 ]
contains "saying so" "$out" "person_id: no person NOBODY"
rc=0; out=$(cu "$A" person event P-1 --type kidnap --date 2025 2>&1) || rc=$?
contains "an unknown event type lists the types" "$out" "not one of last_seen, arrest, abduction"
rc=0; out=$(cu "$A" person event P-1 --type release --date 2025-02-30 2>&1) || rc=$?
contains "a date that does not exist is refused" "$out" "date:"

# --- imports: all or nothing, FILE:LINE, idempotent ------------------------------------------------
cat >"$T/persons.csv" <<CSV
id,name,sex,age,age_group,birth_year,governorate,area,consent,reporter_name,reporter_relationship,reporter_contact,height_cm,build,hair,eyes,marks,dental,clothing,belongings,dna_reference,notes
P-10,Hamza Barakeh,male,34,,1990,aleppo,,"icmp,iiim",Omar Barakeh,brother,+963-955-101010,180,tall,black,brown,tattoo on left arm,,,,none,arrested at the checkpoint
P-11,Layla Sweidan,female,12,,,idlib,,public,,,,,,,,,,,,,
P-12,,unknown,,child,,,,,,,,,,,,,,,,submitted,
CSV
cat >"$T/persons-bad.csv" <<CSV
id,name,sex,age,age_group,birth_year,governorate,area,consent,reporter_name,reporter_relationship,reporter_contact,height_cm,build,hair,eyes,marks,dental,clothing,belongings,dna_reference,notes
P-20,Good Row,male,,,,,,,,,,,,,,,,,,,
P-21,Bad Consent,male,,,,,,icmp;un,,,,,,,,,,,,,
P-22,Bad Height,male,,,,,,,,,,999,,,,,,,,,
P-23,Bad Dna,male,,,,,,,,,,,,,,,,,,maybe,
CSV
c0=$(commits "$A")
rc=0; out=$(cu "$A" import persons "$T/persons-bad.csv" 2>&1) || rc=$?
check "an import with bad rows fails" [ "$rc" -eq 1 ]
contains "a bad consent class by file and line" "$out" "persons-bad.csv:3: consent:"
contains "a height out of range by file and line" "$out" "persons-bad.csv:4: height_cm:"
contains "a bad dna_reference by file and line" "$out" "persons-bad.csv:5: dna_reference:"
check "nothing was written" [ "$(commits "$A")" = "$c0" ]
refute "not even the good row" quiet cu "$A" person show P-20
check "persons import" quiet cu "$A" import persons "$T/persons.csv"
c1=$(commits "$A")
out=$(cu "$A" import persons "$T/persons.csv" 2>&1)
check "importing the persons again writes no commit" [ "$(commits "$A")" = "$c1" ]
contains "and says they are unchanged" "$out" "3 unchanged"
doc=$(cu "$A" person show P-12 --json)
check "a child by age group without an age" [ "$(field "$doc" age_group)" = '"child"' ]

cat >"$T/events.csv" <<CSV
id,person_id,type,date,date_estimated,date_documented,party,site_id,governorate,area,source_id,notes
,P-10,last_seen,2024-11-20,,2024-12-01,,,aleppo,,,
,P-10,arrest,2024-11-21,true,2024-12-01,syrian_regime,,aleppo,,,at the checkpoint
E-3,P-10,denial,2024-12,,,,,,,,
,P-11,abduction,2024,,,isis,,,,,
CSV
cat >"$T/events-bad.csv" <<CSV
id,person_id,type,date,date_estimated,date_documented,party,site_id,governorate,area,source_id,notes
,P-10,release,2025-01-05,,,,,,,,
,P-99,release,2025-01-05,,,,,,,,
,P-10,transfer,2025-01-05,,,,,,,,
,P-10,release,2025-13,,,,,,,,
,P-10,release,2025-01-05,perhaps,,,,,,,
CSV
c0=$(commits "$A")
rc=0; out=$(cu "$A" import person-events "$T/events-bad.csv" 2>&1) || rc=$?
check "an events import with bad rows fails" [ "$rc" -eq 1 ]
contains "a party missing where required, by line" "$out" "events-bad.csv:4: party: required for a transfer event"
contains "a bad date, by line" "$out" "events-bad.csv:5: date:"
contains "a bad date_estimated, by line" "$out" "events-bad.csv:6: date_estimated:"
check "nothing was written" [ "$(commits "$A")" = "$c0" ]
# rows that are valid on their own, but one names a person the archive lacks
sed -i '4,6d' "$T/events-bad.csv"
rc=0; out=$(cu "$A" import person-events "$T/events-bad.csv" 2>&1) || rc=$?
check "an event for an unknown person fails the import" [ "$rc" -eq 1 ]
contains "by file and line" "$out" "events-bad.csv:3: person_id: no person P-99"
check "and nothing was written" [ "$(commits "$A")" = "$c0" ]
check "person events import" quiet cu "$A" import person-events "$T/events.csv"
c1=$(commits "$A")
out=$(cu "$A" import person-events "$T/events.csv" 2>&1)
check "importing the events again writes no commit (derived ids are stable)" [ "$(commits "$A")" = "$c1" ]
contains "and says they are unchanged" "$out" "4 unchanged"
contains "the event with an id keeps it" "$(cu "$A" show E-3 --json)" '"type": "denial"'

# --- link -------------------------------------------------------------------------------------------
printf 'photo of the arrest\n' >"$T/photo.txt"
evid=$(cu "$A" ingest "$T/photo.txt" 2>/dev/null | tail -1 | cut -d' ' -f1)
check "evidence links to a person" quiet cu "$A" link "$evid" --person P-10
contains "the evidence lists the person" "$(cu "$A" show "$evid" --json)" '"persons"'
rc=0; out=$(cu "$A" link "$evid" --person NOBODY 2>&1) || rc=$?
check "a link to an unknown person is refused" [ "$rc" -ne 0 ]
rc=0; out=$(cu "$A" link "$evid" --person "$ev" 2>&1) || rc=$?
check "a link to an event as a person is refused" [ "$rc" -ne 0 ]

# --- sync to a second office -------------------------------------------------------------------------
check "B syncs A" quiet cu "$B" sync A
doc=$(cu "$B" person show P-1 --json)
check "B has the person" [ "$(field "$doc" name)" = "\"$NAME\"" ]
check "B opens A's protected fields for its admin" [ "$(field "$doc" reporter_contact)" = "\"$CONTACT\"" ]
check "B has the derived event" quiet cu "$B" show "$ev"
out=$(cu "$B" person list --format csv)
check "B lists the four persons" [ "$(grep -c '^P-' <<<"$out")" -eq 4 ]

check "custody verify is clean at A" quiet cu "$A" verify
check "custody verify is clean at B" quiet cu "$B" verify

# --- the index is derived: deleted, it is rebuilt with the persons and events -----------------------
stop_daemon "$DA"
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "the rebuilt index lists the four persons" [ "$(cu "$A" person list --format csv | grep -c '^P-')" -eq 4 ]
c0=$(commits "$A")
quiet cu "$A" import person-events "$T/events.csv"
check "and knows the events: importing them again writes nothing" [ "$(commits "$A")" = "$c0" ]

# --- duplicates: the same normalised name and governorate, the same age or birth year ----------------
# P-10 (Hamza Barakeh, 34, born 1990, aleppo) was imported and P-1 (Zubaida Qaratalli, 16,
# damascus) added, both indexed again by the rebuild above; these are written now.
quiet cu "$A" person add --id P-D1 --name "  hamza   BARAKEH " --age 34 --governorate aleppo
quiet cu "$A" person add --id P-D2 --name "Hamza Barakeh" --birth-year 1990 --governorate aleppo
quiet cu "$A" person add --id P-D3 --name "Hamza Barakeh" --age 34 --governorate idlib
quiet cu "$A" person add --id P-D4 --name "Zubaida Qaratalli" --age 16 --governorate damascus
quiet cu "$A" person add --id P-D5 --name "Zubaida Qaratalli" --age 17 --governorate damascus
quiet cu "$A" person add --id P-D6 --name "Layla Sweidan" --governorate idlib
out=$(cu "$A" duplicates persons --json)
py 'import json,sys
g = sorted(sorted(r["id"] for r in grp) for grp in json.loads(sys.argv[1])["groups"])
assert g == [["P-1", "P-D4"], ["P-10", "P-D1", "P-D2"]], g' "$out" &&
    ok "duplicates persons: by name, governorate and age or birth year, joined into one group" ||
    fail "duplicates persons: $out"
out=$(cu "$A" duplicates persons)
contains "the table shows the birth year" "$out" "BIRTH_YEAR"
out=$(cu "$A" duplicates --json)
py 'import json,sys; assert json.loads(sys.argv[1])["groups"] == []' "$out" &&
    ok "duplicates (victims) lists no person" || fail "duplicates victims: $out"
rc=0; out=$(cu "$A" duplicates sites 2>&1) || rc=$?
check "duplicates of something else is a usage error" [ "$rc" -eq 2 ]
contains "saying what it takes" "$out" "duplicates of victims or persons"
check "P-D4 is corrected to another governorate" quiet cu "$A" person edit P-D4 --governorate homs
out=$(cu "$A" duplicates persons --json)
py 'import json,sys
g = sorted(sorted(r["id"] for r in grp) for grp in json.loads(sys.argv[1])["groups"])
assert g == [["P-10", "P-D1", "P-D2"]], g' "$out" &&
    ok "duplicates persons follows the edit" || fail "duplicates persons after the edit: $out"
check "a person's duplicate tokens are in the index, no name" [ "$(sqlite3 "$A/index.sqlite" \
    "SELECT count(*) FROM persons WHERE dup_age IS NOT NULL OR dup_birth IS NOT NULL")" -ge 6 ]

# --- protected fields: withheld from a role not granted them ---------------------------------------
stop_daemon "$DA"
sed -i 's/^protected = .*/protected = documenter/' "$A/custody.conf"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
doc=$(cu "$A" person show P-1 --json)
check "the reporter's contact is withheld" [ "$(field "$doc" reporter_contact)" = '"withheld"' ]
check "the reporter's name is withheld" [ "$(field "$doc" reporter_name)" = '"withheld"' ]
check "ante-mortem marks are withheld" [ "$(field "$doc" marks)" = '"withheld"' ]
check "ante-mortem height is withheld" [ "$(field "$doc" height_cm)" = '"withheld"' ]
check "the name is not a protected field" [ "$(field "$doc" name)" = "\"$NAME\"" ]
out=$(cu "$A" person show P-10 --json)
check "another person's reporter is withheld" [ "$(field "$out" reporter_name)" = '"withheld"' ]
out=$(cu "$A" person list --format csv)
case "$out" in *"$CONTACT"*|*"$MARK"*) fail "person list shows a protected field" ;; *) ok "person list withholds them too" ;; esac
out=$(cu "$A" history P-10 --json)
case "$out" in *"+963-955-101010"*|*tattoo*) fail "history shows a protected field" ;; *) ok "history withholds them too" ;; esac

# --- no name, contact or detail in the clear --------------------------------------------------------
stop_daemon "$DA"
stop_daemon "$DB"
for dir in "$A" "$B"; do
	for needle in "Qaratalli" "$CONTACT" "$MARK" "Barakeh" "955-101010" "tattoo on left arm" "at the checkpoint"; do
		if grep -raqF "$needle" "$dir"; then fail "'$needle' in the clear in an archive file of $(basename "$dir")"; else ok "'$needle' is in no file of $(basename "$dir")"; fi
		if git --git-dir="$dir/git" cat-file --batch-all-objects --batch 2>/dev/null | grep -aqF "$needle"; then
			fail "'$needle' in a git object of $(basename "$dir")"
		else ok "'$needle' is in no git object of $(basename "$dir")"; fi
		if sqlite3 "$dir/index.sqlite" .dump | grep -aqF "$needle"; then
			fail "'$needle' in the index of $(basename "$dir")"
		else ok "'$needle' is not in the index of $(basename "$dir")"; fi
	done
done
done_testing
