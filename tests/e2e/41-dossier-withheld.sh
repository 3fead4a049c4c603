#!/usr/bin/env bash
# Withheld fields appear nowhere in a dossier (proto/DOSSIER.md, "Withholding").
#
# A documenter with a distinctive uid ingests a photo with a distinctive file name and note,
# linked to an incident, a victim and a source; every record carries distinctive values. A
# recipient withholds the evidence's name, acquirer, note and blob, the victim's name and area,
# the incident's title, area, type, description and date, the victim's date of death (and
# the precision of each date), and (by default) the source's identity and
# the victim's notes. Its dossier, decrypted with stock age and untarred, holds none of these
# values in any file (binary ones included) nor in any tar member name; the photo is bagged as
# data/evidence/SHA256/file.jpg; the dossier still verifies (verify-dossier, sha256sum -c,
# ssh-keygen -Y verify). A second recipient withholds the links (victim.source_id,
# evidence.incidents, evidence.victims, evidence.sources): extracting the victim brings neither
# its source nor the evidence linked to it. A policy no dossier can keep (evidence.acquired_at,
# evidence.office: the proofs show them) is refused when a recipient is added, and so is an
# extract that selects victims by a query on a field the recipient withholds.
# Needs root (a second uid through setpriv); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v age >/dev/null; then
	echo "SKIP: needs root, setpriv and age"
	exit 77
fi

A=$T/a IN=$T/in X=$T/x
DOCUID=54321
chmod 0750 "$T"
mkdir -p "$IN"
chmod 0755 "$IN"

init_archive "$A" alpha
sed -i "s/^documenter =.*/documenter = $DOCUID/" "$A/custody.conf"
start_daemon "$A"
chmod 0750 "$A"

# --- records with distinctive values -------------------------------------------------------------
FILE="Mariam-Qasim-rooftop-Douma.jpg"
{ printf '\xff\xd8\xff\xe0'; head -c 200000 /dev/urandom; } >"$IN/$FILE"
chmod 0644 "$IN/$FILE"
SHA=$(sha256sum <"$IN/$FILE" | cut -d' ' -f1)
quiet cu "$A" incident add --id inc-w1 --date 1991-07 --governorate damascus \
    --title "Bakery queue shelling" --area "Zamalka east quarter" --type "Vulcanshell" \
    --description "Three rounds hit the queue at dawn"
S=$(cu "$A" source add --name "Khaled Nourredine" --contact "+963 944 777 123" \
    --notes "meets only at the old mill" 2>/dev/null)
V=$(cu "$A" victim add --name "Yasmin Darwishova" --date-documented 2024-03-03 --age 29 \
    --incident-id inc-w1 --source-id "$S" --area "Quwatli street corner" --date-of-death 1987-11 \
    --notes "shrapnel in the left lung" 2>/dev/null)
check "the documenter (uid $DOCUID) ingests the photo" quiet setpriv --reuid=$DOCUID --regid=0 \
    --clear-groups "$CUSTODY" -A "$A" ingest --incident inc-w1 --note "Taken from the minaret" \
    "$IN/$FILE"
ACTOR="uid$DOCUID@alpha"
check "its record says who acquired it" sh -c "'$CUSTODY' -A '$A' show '$SHA' | grep -qF '$ACTOR'"
quiet cu "$A" link "$SHA" --victim "$V"
quiet cu "$A" link "$SHA" --source "$S"
BLOB=$(basename "$(find "$A/blobs" -type f)")	# the one blob: its name is the record's blob
check "the blob has a name" [ "${#BLOB}" -eq 64 ]

# --- a recipient that withholds them all -----------------------------------------------------------
age-keygen -o "$T/inv.key" 2>/dev/null
KEY=$(age-keygen -y "$T/inv.key")
check "recipient add with a long withhold list" quiet cu "$A" recipient add coi "$KEY" \
    --withhold evidence.name,evidence.acquired_by,evidence.note,evidence.blob,victim.name \
    --withhold victim.area,victim.date_of_death,incident.title,incident.area,incident.type \
    --withhold incident.description,incident.date
for f in evidence.acquired_at evidence.office; do
	out=$(cu "$A" recipient add bad "$KEY" --withhold "$f" 2>&1) && fail "$f accepted"
	contains "withholding $f is refused: the proofs show it" "$out" "proofs show"
done

out=$(cu "$A" extract --recipient coi --incident inc-w1 -o "$T/d.age" 2>&1) || fail "extract: $out"
contains "the extract holds the incident, victim, photo and source" "$out" \
    "1 incidents, 1 victims, 1 evidence files"
mkdir "$X"
check "stock age -d | tar x opens it" sh -c "age -d -i '$T/inv.key' '$T/d.age' | tar x -C '$X'"
age -d -i "$T/inv.key" "$T/d.age" | tar t >"$T/members"
BAG=$(ls -d "$X"/dossier-*)

WITHHELD=(
	"$FILE" "Mariam-Qasim" "rooftop-Douma"	# evidence.name
	"$ACTOR" "uid$DOCUID"			# evidence.acquired_by
	"Taken from the minaret"		# evidence.note
	"$BLOB"					# evidence.blob
	"Yasmin Darwishova" "Darwishova"	# victim.name
	"Quwatli street"			# victim.area
	"1987-11"				# victim.date_of_death
	"shrapnel in the left lung"		# victim.notes (default)
	"Bakery queue shelling"			# incident.title
	"Zamalka east quarter"			# incident.area
	"Vulcanshell"				# incident.type
	"Three rounds hit the queue"		# incident.description
	"1991-07"				# incident.date
	"Khaled Nourredine" "Nourredine"	# source.name (default)
	"+963 944 777" "944 777 123"		# source.contact (default)
	"the old mill"				# source.notes (default)
)
for v in "${WITHHELD[@]}"; do
	refute "\"$v\" is in no file of the bag" grep -r -q -a -F -e "$v" "$X"
	refute "\"$v\" is in no tar member name" grep -q -F -e "$v" "$T/members"
done
check "the photo is bagged as data/evidence/SHA256/file.jpg" cmp -s "$IN/$FILE" \
    "$BAG/data/evidence/$SHA/file.jpg"
check "its item and the manifest name that path" sh -c "grep -qF 'data/evidence/$SHA/file.jpg' \
    '$BAG/manifest-sha256.txt' && grep -qF '\"data/evidence/$SHA/file.jpg\"' \
    '$BAG/custody/items/evidence/$SHA.json'"
check "the evidence record lists what it withholds" py '
import json, sys
r = json.load(open(sys.argv[1]))
for f in ("name", "acquired_by", "note", "blob", "key"):
    assert f not in r and f in r["withheld"], (f, r)
assert r["media_type"] == "image/jpeg" and r["sha256"] == sys.argv[2], r' \
    "$BAG/data/records/evidence/$SHA.json" "$SHA"
check "a withheld date takes its precision along" py '
import json, sys
v, i = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert not [k for k in v if k.startswith("date_of_death")], v
assert not [k for k in i if k.startswith("date")], i
assert "date_of_death_precision" in v["withheld"] and "date_precision" in i["withheld"], (v, i)' \
    "$BAG/data/records/victim/$V.json" "$BAG/data/records/incident/inc-w1.json"
check "its acquired event keeps time and office, not who" py '
import json, sys
i = json.load(open(sys.argv[1]))
acq = [e for e in i["custody"] if e["event"] == "acquired"]
assert len(acq) == 1 and "by" not in acq[0] and acq[0]["office"] == "alpha" and acq[0]["time"], acq' \
    "$BAG/custody/items/evidence/$SHA.json"

out=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/d.age" -i "$T/inv.key" 2>&1)
rc=$?
check "verify-dossier accepts it" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" >&2
check "sha256sum -c manifest-sha256.txt" quiet sh -c "cd '$BAG' && sha256sum -c manifest-sha256.txt"
check "sha256sum -c tagmanifest-sha256.txt" quiet sh -c "cd '$BAG' && sha256sum -c tagmanifest-sha256.txt"
check "ssh-keygen -Y verify accepts the tag manifest signature" quiet sh -c "cd '$BAG' && \
    ssh-keygen -Y verify -f allowed_signers -I alpha -n custody-dossier \
    -s tagmanifest-sha256.txt.sig <tagmanifest-sha256.txt"

# --- withheld links are not followed -----------------------------------------------------------------
check "recipient add withholding the links" quiet cu "$A" recipient add nolinks "$KEY" \
    --withhold victim.source_id,evidence.incidents,evidence.victims,evidence.sources
out=$(cu "$A" extract --recipient nolinks --victim "$V" -o "$T/l.age" 2>&1) || fail "extract: $out"
contains "the victim comes with its incident only" "$out" "1 incidents, 1 victims, 0 evidence files"
contains "and no source" "$out" "0 sources"
mkdir "$T/l"
age -d -i "$T/inv.key" "$T/l.age" | tar x -C "$T/l"
refute "the source's id is nowhere in that bag" grep -r -q -a -F -e "$S" "$T/l"
refute "nor the photo's hash" grep -r -q -a -F -e "$SHA" "$T/l"
check "verify-dossier accepts that one too" quiet "$CUSTODY" verify-dossier "$T/l.age" -i "$T/inv.key"

# --- a withheld media type leaves the extension out too ---------------------------------------------------
quiet cu "$A" recipient add notype "$KEY" --withhold evidence.name,evidence.media_type
out=$(cu "$A" extract --recipient notype --evidence "$SHA" -o "$T/m.age" 2>&1) || fail "extract: $out"
mkdir "$T/m"
age -d -i "$T/inv.key" "$T/m.age" | tar x -C "$T/m"
check "the photo is bagged as data/evidence/SHA256/file" cmp -s "$IN/$FILE" \
    "$(ls -d "$T"/m/dossier-*)/data/evidence/$SHA/file"
refute "its media type is nowhere in that bag" grep -r -q -a -F -e "image/jpeg" "$T/m"
check "verify-dossier accepts it" quiet "$CUSTODY" verify-dossier "$T/m.age" -i "$T/inv.key"

# --- a query on a withheld field would tell it ----------------------------------------------------------
quiet cu "$A" recipient add nogov "$KEY" --withhold victim.governorate,victim.sex
out=$(cu "$A" extract --recipient nogov --governorate damascus -o "$T/g.age" 2>&1) &&
    fail "a query on a withheld field accepted"
contains "a query on a withheld field is refused, naming it" "$out" "victim.governorate"
out=$(cu "$A" extract --recipient nogov --woman -o "$T/g.age" 2>&1) &&
    fail "a query on a withheld sex accepted"
contains "so is --woman when sex is withheld" "$out" "victim.sex"
refute "and no file is left behind" [ -e "$T/g.age" ]
check "a query on a disclosed field still works" quiet cu "$A" extract --recipient nogov \
    --from 2024-01-01 -o "$T/g.age"

refute "no withheld value reached the daemon's log" grep -qaF -e "Darwishova" \
    -e "Nourredine" "$A.log"

done_testing
