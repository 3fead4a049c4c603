#!/usr/bin/env bash
# Consent in dossiers: recipients get a consent class; an extract of persons (--person, --site,
# evidence) carries a person, with its events, only when the person's consent lists the
# recipient's class, and says how many it left out without naming them. Persons consenting to
# "icmp,coi", "public", "iiim" and nothing; recipients of class icmp, iiim, none, and icmp with
# ante-mortem data and site locations disclosed. Evidence asked for that names a person left out
# keeps that id out of the dossier (its persons withheld). Reporter names, contacts and notes are in no
# dossier; ante-mortem data and site coordinates only when disclosed; each dossier passes
# verify-dossier, and a person record changed in one (manifests fixed, as a forger would) is
# refused.
. "$(dirname "$0")/lib.sh"

if ! command -v age >/dev/null || ! command -v age-keygen >/dev/null; then
	echo "SKIP: needs age"
	exit 77
fi

A=$T/a
init_archive "$A" alpha
start_daemon "$A"

jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d[sys.argv[2]])' "$1" "$2"; }

LAT=34.7318264 LON=36.7094417
POLY='{"type":"Polygon","coordinates":[[[36.7091111,34.7311111],[36.7101111,34.7311111],[36.7101111,34.7321111],[36.7091111,34.7311111]]]}'
REPORTER="Umm Farouq Haddadine" CONTACT="+963-933-818283" NOTES="hides with cousins in Bab Amr"
MARK="burn scar shaped like a key" ENOTES="guard called Abu Jaafar talked"
quiet cu "$A" site add --id S-1 --type detention_facility --name "Branch 215 annex" \
    --governorate homs --lat "$LAT" --lon "$LON" --geometry "$POLY"
quiet cu "$A" person add --id P-A --name "Farouq Haddad" --sex male --age 30 \
    --consent icmp,coi --reporter-name "$REPORTER" --reporter-contact "$CONTACT" \
    --notes "$NOTES" --marks "$MARK" --height-cm 171 --dental "gold crown upper left"
quiet cu "$A" person add --id P-B --name "Rasha Khouliyeh" --sex female --consent public
quiet cu "$A" person add --id P-C --name "Anonymous Zeta" --sex male
quiet cu "$A" person add --id P-D --name "Imad Souqiyeh" --sex male --consent iiim
EA=$(cu "$A" person event P-A --type arrest --date 2024-11-03 --party syrian_regime \
    --site-id S-1 --notes "$ENOTES" 2>/dev/null)
EB=$(cu "$A" person event P-B --type last_seen --date 2024-10 2>/dev/null)
EC=$(cu "$A" person event P-C --type arrest --date 2024-09-01 --party syrian_regime \
    --site-id S-1 2>/dev/null)
ED=$(cu "$A" person event P-D --type arrest --date 2024-08-01 --party syrian_regime \
    --site-id S-1 2>/dev/null)
check "the events are recorded" [ -n "$EA" ] && [ -n "$EB" ] && [ -n "$EC" ] && [ -n "$ED" ]
printf 'photo of the cell\n' >"$T/cell.txt"
printf 'list of names\n' >"$T/list.txt"
EVA=$(cu "$A" ingest "$T/cell.txt" 2>/dev/null | tail -1 | cut -d' ' -f1)
EVC=$(cu "$A" ingest "$T/list.txt" 2>/dev/null | tail -1 | cut -d' ' -f1)
quiet cu "$A" link "$EVA" --person P-A
quiet cu "$A" link "$EVC" --person P-C

# --- recipients with a class ----------------------------------------------------------------------
age-keygen -o "$T/r.key" 2>/dev/null
KEY=$(age-keygen -y "$T/r.key")
check "recipient add --class icmp" quiet cu "$A" recipient add icmp "$KEY" --class icmp
check "recipient add --class iiim" quiet cu "$A" recipient add iiim "$KEY" --class iiim
check "recipient add without a class" quiet cu "$A" recipient add old "$KEY"
check "recipient add --class icmp disclosing ante-mortem data and site locations" quiet \
    cu "$A" recipient add icmp-am "$KEY" --class icmp --disclose person.ante_mortem,site.location
rc=0; out=$(cu "$A" recipient add bad "$KEY" --class press 2>&1) || rc=$?
check "a bad class is refused" [ "$rc" -ne 0 ]
contains "and named, with the classes" "$out" "'press' is not a consent class (one of icmp, iiim"
for f in person.reporter_contact person.reporter_name person.notes person_event.notes; do
	rc=0; out=$(cu "$A" recipient add bad "$KEY" --class icmp --disclose "$f" 2>&1) || rc=$?
	check "disclosing $f is refused" [ "$rc" -ne 0 ]
	contains "as withheld from every dossier" "$out" "withheld from every dossier"
done
out=$(cu "$A" recipient list)
contains "recipient list shows the class" "$out" "class: iiim"
contains "and a recipient without one" "$out" "class: none (receives no persons)"
contains "the new defaults are in the policy" "$out" "person.marks"

# --- extract NAME ARGS...: the dossier in $T/NAME.age, unpacked in $T/NAME, its reply in $OUT -----
extract() {
	local name=$1 rcpt=$2
	shift 2
	OUT=$(cu "$A" extract --json --recipient "$rcpt" "$@" -o "$T/$name.age" 2>&1) ||
	    { fail "extract $name: $OUT"; return 0; }
	mkdir -p "$T/$name"
	age -d -i "$T/r.key" "$T/$name.age" | tar x -C "$T/$name"
	BAG=$(ls -d "$T/$name"/dossier-*)
	local vout rc=0
	vout=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/$name.age" \
	    -i "$T/r.key" 2>&1) || rc=$?
	check "verify-dossier passes on the $name dossier" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || echo "$vout" >&2
	contains "and proves every item" "$vout" " 0 attested"
}
has() { [ -f "$BAG/data/records/$1/$2.json" ]; }
never() {	# never NAME: the reporter, contact and notes are in no file of the bag
	local v
	for v in "$REPORTER" "Haddadine" "$CONTACT" "818283" "$NOTES" "Bab Amr" "$ENOTES" \
	    "Abu Jaafar"; do
		refute "$1: \"$v\" is in no file of the dossier" grep -r -q -a -F -e "$v" "$T/$1"
	done
}
counts() {	# counts NAME persons events sites left_persons left_events
	py 'import json,sys
r = json.loads(sys.argv[1]); want = [int(v) for v in sys.argv[2:]]
got = [r["persons"], r["person_events"], r["sites"], r["persons_left_out"], r["person_events_left_out"]]
assert got == want, (got, want)' "$OUT" "${@:2}" && ok "$1: the reply counts $*" ||
	    fail "$1: the reply counts: $OUT"
}

extract icmp icmp --person P-A,P-B,P-C,P-D
counts icmp 1 1 1 3 3
check "icmp: P-A (consent icmp,coi) is in" has person P-A
check "icmp: with its event" has person_event "$EA"
check "icmp: and the site of the event" has site S-1
check "icmp: and the evidence linked to P-A" sh -c "grep -q '$EVA' '$BAG/custody/export.json'"
for p in P-B P-C P-D; do refute "icmp: $p is left out" has person $p; done
for e in "$EB" "$EC" "$ED"; do refute "icmp: the event $e of a person left out is too" has person_event "$e"; done
refute "icmp: the evidence of P-C alone is left out" sh -c "grep -q '$EVC' '$BAG/custody/export.json'"
refute "icmp: no name of a person left out" grep -r -q -a -e "Khouliyeh\|Anonymous Zeta\|Souqiyeh" "$T/icmp"
never icmp
for v in "$MARK" "gold crown" "$LAT" "$LON" "34.7311111" "36.7091111"; do
	refute "icmp: \"$v\" (ante-mortem, location) is withheld" grep -r -q -a -F -e "$v" "$T/icmp"
done
check "icmp: the person record lists what it withholds" py '
import json, sys
r = json.load(open(sys.argv[1]))
for f in ("reporter_name", "reporter_contact", "notes", "marks", "dental", "height_cm"):
    assert f not in r and f in r["withheld"], (f, r)
assert r["name"] == "Farouq Haddad" and r["consent"] == ["icmp", "coi"], r' "$BAG/data/records/person/P-A.json"
check "icmp: the site record withholds its location" py '
import json, sys
r = json.load(open(sys.argv[1]))
assert not {"lat", "lon", "geometry"} & set(r) and {"lat", "lon", "geometry"} <= set(r["withheld"]), r' \
    "$BAG/data/records/site/S-1.json"
out=$(cu "$A" extract --recipient icmp --person P-A,P-B,P-C -o "$T/text.age" 2>&1)
contains "the text summary says how many were left out and why" "$out" \
    "2 persons and 2 of their events left out: their consent does not include icmp"
for p in P-B P-C "$EB" "$EC" Khouliyeh; do
	refute "the summary does not name $p" sh -c "printf '%s' '$out' | grep -qF -e '$p'"
done
ICMPBAG=$BAG

OUT=$(cu "$A" extract --json --recipient icmp --evidence "$EVC" -o "$T/evc.age" 2>&1) ||
    fail "extract evc: $OUT"
counts evc 0 0 0 1 1
mkdir -p "$T/evc"
age -d -i "$T/r.key" "$T/evc.age" | tar x -C "$T/evc"
check "evc: evidence asked for is in, linked to a person left out" py '
import json, sys
r = json.load(open(sys.argv[1]))
assert "persons" not in r and "persons" in r["withheld"], r' "$(ls -d "$T"/evc/dossier-*)/data/records/evidence/$EVC.json"
refute "evc: the id of the person left out is in no file of the dossier" grep -r -q -a -F -e "P-C" "$T/evc"
rc=0; vout=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/evc.age" \
    -i "$T/r.key" 2>&1) || rc=$?
check "evc: verify-dossier passes" [ "$rc" -eq 0 ]
contains "evc: the evidence is attested (its record key would show the persons)" "$vout" "1 attested"

extract iiim iiim --site S-1
counts iiim 1 1 1 2 2
check "iiim: the site is in" has site S-1
check "iiim: P-D (consent iiim), whose arrest was there, is in" has person P-D
check "iiim: with its event" has person_event "$ED"
for p in P-A P-B P-C; do refute "iiim: $p is left out" has person $p; done
refute "iiim: P-A's event at the site is left out too" has person_event "$EA"
never iiim

rc=0; out=$(cu "$A" extract --recipient iiim --person P-B -o "$T/none.age" 2>&1) || rc=$?
check "an extract whose every person is left out is refused" [ "$rc" -ne 0 ]
contains "saying why" "$out" "its consent does not include the recipient's class, iiim"

extract old old --site S-1
counts old 0 0 1 3 3
for p in P-A P-C P-D; do refute "old: a recipient without a class receives no person ($p)" has person $p; done
never old
refute "old: the site's coordinates are withheld" grep -r -q -a -F -e "$LAT" "$T/old"

extract icmpam icmp-am --person P-A
counts icmpam 1 1 1 0 0
check "icmp-am: ante-mortem data is disclosed" grep -r -q -a -F -e "$MARK" "$T/icmpam"
check "icmp-am: and so are the site's coordinates" grep -r -q -a -F -e "$LAT" "$T/icmpam"
never icmpam

# --- a forger changes a person record in a dossier ------------------------------------------------
tamper() {
	rm -rf "$T/t/$1"
	mkdir -p "$T/t/$1"
	cp -a "$ICMPBAG" "$T/t/$1/"
	TB=$T/t/$1/$(basename "$ICMPBAG")
}
rehash() {
	local f=$1 h
	h=$(sha256sum <"$TB/$f" | cut -d' ' -f1)
	python3 -c '
import sys
m, f, h = sys.argv[1:]
lines = [l for l in open(m).read().splitlines() if l.split("  ", 1)[1] != f]
lines.append(h + "  " + f)
open(m, "w").write("\n".join(lines) + "\n")' "$TB/manifest-sha256.txt" "$f" "$h"
	h=$(sha256sum <"$TB/manifest-sha256.txt" | cut -d' ' -f1)
	sed -i "s|^[0-9a-f]*  manifest-sha256.txt\$|$h  manifest-sha256.txt|" "$TB/tagmanifest-sha256.txt"
}
refused() {
	local out rc=0
	out=$("$CUSTODY" verify-dossier "$TB" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$1: verify-dossier accepted it"
	else
		contains "$1: refused, naming $2" "$out" "$2"
	fi
}
check "the unchanged copy verifies" quiet "$CUSTODY" verify-dossier "$ICMPBAG"
tamper byte
sed -i 's/Farouq Haddad/Farouq Haddab/' "$TB/data/records/person/P-A.json"
refused "a changed byte in the person record" "P-A.json"
tamper field
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); r["consent"] = ["icmp", "coi", "public"]; r["sex"] = "female"
open(sys.argv[1], "w").write(json.dumps(r, indent=2, sort_keys=True) + "\n")' \
    "$TB/data/records/person/P-A.json"
rehash data/records/person/P-A.json
refused "a changed person record with its manifests fixed" "differs from the feed"
tamper event
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); r["date"] = "2023-01-01"
open(sys.argv[1], "w").write(json.dumps(r, indent=2, sort_keys=True) + "\n")' \
    "$TB/data/records/person_event/$EA.json"
rehash "data/records/person_event/$EA.json"
refused "a changed person event with its manifests fixed" "differs from the feed"
tamper site
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); r["lat"] = "35.0"; r["withheld"].remove("lat")
open(sys.argv[1], "w").write(json.dumps(r, indent=2, sort_keys=True) + "\n")' \
    "$TB/data/records/site/S-1.json"
rehash data/records/site/S-1.json
refused "a site given coordinates the feed does not disclose" "S-1"

done_testing
