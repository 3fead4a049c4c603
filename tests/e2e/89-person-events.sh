#!/usr/bin/env bash
# Correcting a person event once recorded (custody person event-edit), end to end with real
# daemons: a release entered on the wrong day moves the person's status at the end of the month
# (custody query persons) and the detention report of two months; an arrest entered as an
# abduction by the wrong party moves the report's figures by party; a month-precise date keeps
# its precision; history keeps every revision; an identical correction writes nothing. Bad
# corrections are refused with the field and the problem, and write nothing: a party removed
# or missing where the type needs one, a date that does not exist, an unknown type, a person
# or site the archive lacks, a person record given as the event, an unknown id, a required
# field unset. An event naming an unknown site is refused when recorded and imported too. The
# second office takes the corrections in a sync and gives the same report; the index rebuilt
# from the feeds follows the latest revision; a role not shown an event's notes corrects its
# date and the notes are kept; and no name, contact, note, area, description
# or coordinate of the persons, events and sites is in the clear in any archive file, git
# object or the index of either office.
. "$(dirname "$0")/lib.sh"
A=$T/a B=$T/b
two_offices

commits() { cu "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["commits"])'; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(d.get(sys.argv[2])))' "$1" "$2"; }
ids() { cu "$A" query persons --format csv "$@" | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' '; }
# report DIR PERIOD EXPR: the Python expression EXPR over the JSON report r of --month PERIOD holds.
report() {
	local out
	out=$(cu "$1" report detentions --month "$2" --format json)
	py "import json,sys; r=json.loads(sys.argv[1]); assert $3, r" "$out"
}

NAME="Yaman Khattabiyeh" CONTACT="+963-988-414243" PNOTES="brother hides in Jobar"
ENOTES="seen by a cellmate called Abu Hadi" ENOTES2="the cellmate is Hadi Nasrallah"
AREA="Qaboun industrial zone" SNAME="Branch 248 annex" SDESC="basement cells under the bakery"
LAT=33.5281234 LON=36.3191234

# --- the records as first entered -----------------------------------------------------------------
check "site S-1" quiet cu "$A" site add --id S-1 --type detention_facility --name "$SNAME" \
    --governorate damascus --lat "$LAT" --lon "$LON" --description "$SDESC"
check "site S-2" quiet cu "$A" site add --id S-2 --type detention_facility --name "Tadmor Wing" \
    --governorate homs
check "person P-1" quiet cu "$A" person add --id P-1 --name "$NAME" --sex male --age 31 \
    --governorate damascus --reporter-contact "$CONTACT" --notes "$PNOTES"
check "person P-2" quiet cu "$A" person add --id P-2 --name "Nour Haddadin" --sex female --age 27 \
    --governorate homs
check "P-1 arrested" quiet cu "$A" person event P-1 --id E-A --type arrest --date 2024-12-05 \
    --party syrian_regime --site-id S-1 --area "$AREA" --notes "$ENOTES"
# the documenter typed 2024-12-20 for a release on 2025-01-20
check "P-1 released (on the wrong day)" quiet cu "$A" person event P-1 --id E-R --type release \
    --date 2024-12-20
# and recorded P-2's arrest by the regime as an abduction by isis
check "P-2 abducted (wrong type and party)" quiet cu "$A" person event P-2 --id E-B \
    --type abduction --date 2024-12-10 --party isis --governorate homs

check "before: P-1 released at the end of December" [ "$(ids --status released --at 2024-12-31)" = "P-1 " ]
check "before: the December report counts the release" report "$A" 2024-12 \
    'r["released"] == 1 and r["status_at_end"]["released"] == 1 and r["status_at_end"]["detained"] == 1'
check "before: the January report has no release" report "$A" 2025-01 'r["released"] == 0'
check "before: by party, isis" report "$A" 2024-12 \
    'r["by_party"] == {"syrian_regime": {"arrests": 1, "children": 0, "women": 0}, "isis": {"arrests": 1, "children": 0, "women": 1}}'

# --- the corrections ----------------------------------------------------------------------------------
c0=$(commits "$A")
out=$(cu "$A" person event-edit E-R --date 2025-01-20 2>&1)
check "the release's date is corrected in one commit" [ "$(commits "$A")" -eq $((c0 + 1)) ]
doc=$(cu "$A" show E-R --json)
check "the event has the new date" [ "$(field "$doc" date)" = '"2025-01-20"' ]
check "with day precision" [ "$(field "$doc" date_precision)" = '"day"' ]
check "and keeps its person and type" [ "$(field "$doc" person_id)" = '"P-1"' ] && [ "$(field "$doc" type)" = '"release"' ]
check "after: P-1 detained at the end of December" [ "$(ids --status detained --at 2024-12-31)" = "P-1 P-2 " ]
check "after: and no longer released then" [ "$(ids --status released --at 2024-12-31)" = "" ]
check "after: released at the end of January" [ "$(ids --status released --at 2025-01-31)" = "P-1 " ]
check "after: the December report has no release and two detained" report "$A" 2024-12 \
    'r["released"] == 0 and r["status_at_end"]["released"] == 0 and r["status_at_end"]["detained"] == 2'
check "after: the January report counts the release" report "$A" 2025-01 \
    'r["released"] == 1 and r["status_at_end"]["released"] == 1'
out=$(cu "$A" person case P-1 --format json)
contains "the case still dates the disappearance at the arrest" "$out" '"2024-12-05"'

check "the abduction becomes an arrest by the regime" quiet cu "$A" person event-edit E-B \
    --type arrest --party syrian_regime
check "the report's parties follow" report "$A" 2024-12 \
    'r["by_party"] == {"syrian_regime": {"arrests": 2, "children": 0, "women": 1}} and r["arrests"] == 2'
check "a month-precise correction" quiet cu "$A" person event-edit E-B --date 2024-11
doc=$(cu "$A" show E-B --json)
check "keeps month precision" [ "$(field "$doc" date)" = '"2024-11"' ] && [ "$(field "$doc" date_precision)" = '"month"' ]
check "the November report counts the month-precise arrest" report "$A" 2024-11 'r["arrests"] == 1'
check "and December no longer does" report "$A" 2024-12 'r["arrests"] == 1'
check "back to a day" quiet cu "$A" person event-edit E-B --date 2024-12-10
doc=$(cu "$A" show E-B --json)
check "with day precision again" [ "$(field "$doc" date_precision)" = '"day"' ]
check "notes and site corrected" quiet cu "$A" person event-edit E-A --notes "$ENOTES2" --site-id S-2
check "the site query follows" [ "$(ids --site S-2)" = "P-1 " ] && [ "$(ids --site S-1)" = "" ]
check "--unset removes a field" quiet cu "$A" person event-edit E-A --unset area
doc=$(cu "$A" show E-A --json)
check "the area is gone, the rest kept" [ "$(field "$doc" area)" = null ] && [ "$(field "$doc" party)" = '"syrian_regime"' ]

out=$(cu "$A" history E-R --json)
py 'import json,sys; h=json.loads(sys.argv[1]); assert len(h["revisions"]) == 2, h' "$out" &&
    ok "history keeps both revisions of the release" || fail "history E-R: $out"
out=$(cu "$A" history E-R)
contains "history names the date that changed" "$out" "date"
out=$(cu "$A" history E-B --json)
py 'import json,sys; h=json.loads(sys.argv[1]); assert len(h["revisions"]) == 4, h' "$out" &&
    ok "history keeps the four revisions of the arrest" || fail "history E-B: $out"

c0=$(commits "$A")
out=$(cu "$A" person event-edit E-R --date 2025-01-20 2>&1)
contains "an identical correction says unchanged" "$out" "unchanged"
check "and writes nothing" [ "$(commits "$A")" = "$c0" ]

# --- bad corrections: refused, the problem named, nothing written ------------------------------
bad() {	# bad DESCRIPTION EXPECTED ARGS...: refused with EXPECTED, no commit
	local what=$1 want=$2 rc=0 out
	shift 2
	out=$(cu "$A" person event-edit "$@" 2>&1) || rc=$?
	check "$what: refused" [ "$rc" -ne 0 ]
	contains "$what: saying why" "$out" "$want"
	check "$what: nothing written" [ "$(commits "$A")" = "$c0" ]
}
c0=$(commits "$A")
bad "a release made an arrest without a party" "party: required for an arrest event" E-R --type arrest
bad "the party unset from an arrest" "party: required for an arrest event" E-A --unset party
bad "a death in custody without a party" "party: required for a death_in_custody event" E-R --type death_in_custody
bad "a date that does not exist" "date:" E-R --date 2025-02-30
bad "an unknown type" "not one of last_seen, arrest, abduction" E-R --type kidnap
bad "a site the archive lacks" "site_id: no site S-404" E-A --site-id S-404
bad "a site id that is a person" "site_id: no site P-2 in the archive (the id is another kind of record)" E-A --site-id P-2
bad "a person the archive lacks" "person_id: no person NOBODY" E-A --person-id NOBODY
bad "the person unset" "person_id" E-A --unset person_id
bad "a person record given as the event" "P-1 is a person record, not a person_event" P-1 --date 2025-01-01
bad "an unknown event id" "E-404" E-404 --date 2025-01-01
bad "a bad date_estimated" "date_estimated" E-R --date-estimated perhaps
rc=0; out=$(cu "$A" person event-edit E-R 2>&1) || rc=$?
check "nothing to change is a usage error" [ "$rc" -eq 2 ]
contains "saying so" "$out" "nothing to change"
rc=0; out=$(cu "$A" person event-edit E-R --unset id 2>&1) || rc=$?
check "the id cannot be unset" [ "$rc" -eq 2 ]
check "still nothing written" [ "$(commits "$A")" = "$c0" ]
doc=$(cu "$A" show E-A --json)
check "the arrest is as it was" [ "$(field "$doc" party)" = '"syrian_regime"' ] && [ "$(field "$doc" site_id)" = '"S-2"' ]
check "the person status is as it was" [ "$(ids --status detained --at 2024-12-31)" = "P-1 P-2 " ]

# an unknown site is refused when an event is recorded or imported, like an unknown person
rc=0; out=$(cu "$A" person event P-1 --type transfer --date 2025-01-02 --party syrian_regime \
    --site-id S-404 2>&1) || rc=$?
check "an event at an unknown site is refused" [ "$rc" -eq 1 ]
contains "naming the site" "$out" "site_id: no site S-404"
cat >"$T/events-bad.csv" <<CSV
id,person_id,type,date,date_estimated,date_documented,party,site_id,governorate,area,source_id,notes
,P-1,seen_in_custody,2025-01-03,,,,S-1,,,,
,P-1,seen_in_custody,2025-01-04,,,,S-405,,,,
CSV
rc=0; out=$(cu "$A" import person-events "$T/events-bad.csv" 2>&1) || rc=$?
check "an import naming an unknown site fails" [ "$rc" -eq 1 ]
contains "by file and line" "$out" "events-bad.csv:3: site_id: no site S-405"
check "and writes nothing" [ "$(commits "$A")" = "$c0" ]

# --- the second office takes the corrections --------------------------------------------------------
check "B syncs A" quiet cu "$B" sync A
check "B: the December report follows the corrections" report "$B" 2024-12 \
    'r["released"] == 0 and r["status_at_end"]["detained"] == 2 and r["by_party"] == {"syrian_regime": {"arrests": 2, "children": 0, "women": 1}}'
check "B: the January release" report "$B" 2025-01 'r["released"] == 1'
out=$(cu "$B" history E-B --json)
py 'import json,sys; h=json.loads(sys.argv[1]); assert len(h["revisions"]) == 4, h' "$out" &&
    ok "B has the arrest's four revisions" || fail "B history E-B: $out"
# B corrects the release again: its revision is the newer one everywhere
check "B corrects the release's day" quiet cu "$B" person event-edit E-R --date 2025-01-21
check "A syncs B" quiet cu "$A" sync B
doc=$(cu "$A" show E-R --json)
check "A holds B's correction" [ "$(field "$doc" date)" = '"2025-01-21"' ]

# --- the index rebuilt from the feeds follows the latest revisions -----------------------------------
stop_daemon "$DA"
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
check "the rebuilt index gives the corrected report" report "$A" 2024-12 \
    'r["released"] == 0 and r["status_at_end"]["detained"] == 2 and r["arrests"] == 2'
check "and the corrected statuses" [ "$(ids --status released --at 2025-01-31)" = "P-1 " ]

# --- a role not shown an event's notes corrects its date: the notes are kept -----------------------
stop_daemon "$DA"
sed -i 's/^protected = .*/protected = documenter/' "$A/custody.conf"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
doc=$(cu "$A" show E-A --json)
check "the notes are withheld from this role" [ "$(field "$doc" notes)" = '"withheld"' ]
check "which still corrects the date" quiet cu "$A" person event-edit E-A --date 2024-12-04
stop_daemon "$DA"
sed -i 's/^protected = .*/protected = documenter, admin/' "$A/custody.conf"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
doc=$(cu "$A" show E-A --json)
check "the corrected event kept the notes it could not see" [ "$(field "$doc" date)" = '"2024-12-04"' ] &&
    [ "$(field "$doc" notes)" = "\"$ENOTES2\"" ]

# --- no name, contact, note, area, description or coordinate in the clear ----------------------------
stop_daemon "$DA"
stop_daemon "$DB"
for dir in "$A" "$B"; do
	for needle in "Khattabiyeh" "$CONTACT" "988-414243" "$PNOTES" "Jobar" "$ENOTES" "Abu Hadi" \
	    "$ENOTES2" "Nasrallah" "$AREA" "Qaboun" "$SNAME" "Branch 248" "$SDESC" "bakery" \
	    "Haddadin" "Tadmor Wing" "$LAT" "$LON"; do
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
