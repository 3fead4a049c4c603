#!/usr/bin/env bash
# Dossiers of the persons a query selects (custody extract --persons and the filters of
# custody query persons: --status at a day, --party, --governorate, --event-site, --child,
# --woman, --limit), end to end with a real daemon, stock age, tar and sha256sum: a person goes
# in, with its events, only when its consent lists the recipient's class; the summary counts
# those left out and says why without naming them; --limit counts the persons that go in; a
# query whose every person is left out is refused; a query on a field the recipient withholds
# is refused; person filters without --persons and victim filters with it are usage errors.
# Each dossier passes verify-dossier, and no reporter, contact, note or name of a person left
# out is in it.
. "$(dirname "$0")/lib.sh"

if ! command -v age >/dev/null || ! command -v age-keygen >/dev/null; then
	echo "SKIP: needs age"
	exit 77
fi

A=$T/a
init_archive "$A" alpha
start_daemon "$A"

CONTACT="+963-944-505152" NOTES="the family fled to Irbid" MARK="scar across the left palm"
quiet cu "$A" site add --id S-1 --type detention_facility --name "Branch 227" --governorate damascus \
    --lat 33.5012345 --lon 36.2812345
# who, consent, and what happened (status at 2024-12-31 in brackets)
quiet cu "$A" person add --id P-1 --name "Salma Qudsiyeh" --sex female --age 30 --governorate damascus \
    --consent wgeid,icmp --reporter-contact "$CONTACT"			# detained
quiet cu "$A" person add --id P-2 --name "Karim Ostwani" --sex male --age 40 --governorate damascus \
    --consent icmp							# released
quiet cu "$A" person add --id P-3 --name "Hussam Halabi" --sex male --age 25 --governorate aleppo \
    --consent wgeid							# detained (isis)
quiet cu "$A" person add --id P-4 --name "Ruba Nobodyknows" --sex female --age 16 \
    --governorate damascus						# detained, no consent
quiet cu "$A" person add --id P-5 --name "Fawaz Homsi" --sex male --age 50 --governorate homs \
    --consent public							# missing
quiet cu "$A" person add --id P-6 --name "Mays Douma" --sex female --age 35 --governorate damascus \
    --consent wgeid --notes "$NOTES" --marks "$MARK"			# detained
ev() { cu "$A" person event "$@" 2>/dev/null; }
E1=$(ev P-1 --type arrest --date 2024-12-01 --party syrian_regime --site-id S-1)
E2a=$(ev P-2 --type arrest --date 2024-11-01 --party syrian_regime)
E2b=$(ev P-2 --type release --date 2024-12-15)
E3=$(ev P-3 --type abduction --date 2024-12-03 --party isis --governorate aleppo)
E4=$(ev P-4 --type arrest --date 2024-12-05 --party syrian_regime --site-id S-1)
E5=$(ev P-5 --type last_seen --date 2024-06)
E6=$(ev P-6 --type arrest --date 2024-12-06 --party syrian_regime --notes "guard named Abu Said")
check "the events are recorded" [ -n "$E1" ] && [ -n "$E2b" ] && [ -n "$E3" ] && [ -n "$E4" ] && [ -n "$E5" ] && [ -n "$E6" ]
check "query persons agrees on who is detained" [ "$(cu "$A" query persons --status detained \
    --at 2024-12-31 --format csv | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' ')" = "P-1 P-3 P-4 P-6 " ]

age-keygen -o "$T/r.key" 2>/dev/null
KEY=$(age-keygen -y "$T/r.key")
check "a wgeid recipient" quiet cu "$A" recipient add wgeid "$KEY" --class wgeid
check "an icmp recipient" quiet cu "$A" recipient add icmp "$KEY" --class icmp
check "a wgeid recipient that withholds sex" quiet cu "$A" recipient add wgeid-nosex "$KEY" \
    --class wgeid --withhold person.sex

# extract NAME RCPT ARGS...: the dossier in $T/NAME.age, unpacked in $T/NAME (BAG), reply in OUT,
# checked by verify-dossier and by stock sha256sum against the bag's manifest.
extract() {
	local name=$1 rcpt=$2 vout rc=0
	shift 2
	OUT=$(cu "$A" extract --json --recipient "$rcpt" "$@" -o "$T/$name.age" 2>&1) ||
	    { fail "extract $name: $OUT"; return 0; }
	mkdir -p "$T/$name"
	age -d -i "$T/r.key" "$T/$name.age" | tar x -C "$T/$name"
	BAG=$(ls -d "$T/$name"/dossier-*)
	check "$name: sha256sum checks the bag's manifest" sh -c "cd '$BAG' && sha256sum --quiet -c manifest-sha256.txt"
	vout=$(env -u CUSTODY_ARCHIVE HOME=$T/nohome "$CUSTODY" verify-dossier "$T/$name.age" \
	    -i "$T/r.key" 2>&1) || rc=$?
	check "$name: verify-dossier passes" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || echo "$vout" >&2
	contains "$name: and proves every item" "$vout" " 0 attested"
}
has() { [ -f "$BAG/data/records/$1/$2.json" ]; }
persons_in() { ls "$BAG/data/records/person" 2>/dev/null | sed 's/\.json$//' | sort | tr '\n' ' '; }
counts() {	# counts NAME persons events sites left_persons left_events
	py 'import json,sys
r = json.loads(sys.argv[1]); want = [int(v) for v in sys.argv[2:]]
got = [r["persons"], r["person_events"], r["sites"], r["persons_left_out"], r["person_events_left_out"]]
assert got == want, (got, want)' "$OUT" "${@:2}" && ok "$1: the reply counts $*" ||
	    fail "$1: the reply counts: $OUT"
}
never() {	# never NAME: no reporter contact, note or ante-mortem detail in the bag
	local v
	for v in "$CONTACT" "944-505152" "$NOTES" "Irbid" "Abu Said" "$MARK"; do
		refute "$1: \"$v\" is in no file of the dossier" grep -r -q -a -F -e "$v" "$T/$1"
	done
}

# --- the detained at the end of December, for the WGEID ------------------------------------------
extract detained wgeid --persons --status detained --at 2024-12-31
counts detained 3 3 1 1 1
check "detained: the three who consent to wgeid" [ "$(persons_in)" = "P-1 P-3 P-6 " ]
check "detained: with their events" has person_event "$E1" && has person_event "$E3" && has person_event "$E6"
check "detained: and the site of an event" has site S-1
refute "detained: the child without consent is left out" has person P-4
refute "detained: and so is her event" has person_event "$E4"
refute "detained: her name is in no file" grep -r -q -a -F -e "Nobodyknows" "$T/detained"
refute "detained: the released person is not selected" grep -r -q -a -F -e "Ostwani" "$T/detained"
never detained
out=$(cu "$A" extract --recipient wgeid --persons --status detained --at 2024-12-31 -o "$T/text.age" 2>&1)
contains "the summary counts the persons that go in" "$out" "3 persons, 3 person events, 1 sites"
contains "the summary says how many were left out and why" "$out" \
    "1 persons and 1 of their events left out: their consent does not include wgeid"
for v in P-4 "$E4" Nobodyknows Ruba; do
	case "$out" in *"$v"*) fail "the summary names $v: $out" ;; *) ok "the summary does not name $v" ;; esac
done

# --- the filters combined --------------------------------------------------------------------------
extract women wgeid --persons --status detained --at 2024-12-31 --governorate damascus --woman
counts women 2 2 1 0 0
check "women: the detained women of damascus (a girl is a child, not a woman)" [ "$(persons_in)" = "P-1 P-6 " ]
extract party wgeid --persons --party syrian_regime
counts party 2 2 1 2 3
check "party: those an event names the regime of, consent allowing" [ "$(persons_in)" = "P-1 P-6 " ]
extract site icmp --persons --event-site S-1
counts site 1 1 1 1 1
check "site: the person held there who consents to icmp" [ "$(persons_in)" = "P-1 " ]
extract all icmp --persons
counts all 2 3 1 4 4
check "all: every person consenting to icmp" [ "$(persons_in)" = "P-1 P-2 " ]
check "all: with both of P-2's events" has person_event "$E2a" && has person_event "$E2b"
extract one wgeid --persons --status detained --at 2024-12-31 --limit 1
py 'import json,sys; r=json.loads(sys.argv[1]); assert r["persons"] == 1, r' "$OUT" &&
    ok "--limit counts the persons that go in" || fail "--limit: $OUT"
extract mixed wgeid --persons --status missing --at 2024-12-31 --person P-3
check "mixed: --person and the query together" [ "$(persons_in)" = "P-3 " ]
counts mixed 1 1 0 1 1

# --- refused ---------------------------------------------------------------------------------------
refused() {	# refused DESCRIPTION RC EXPECTED ARGS...
	local what=$1 want_rc=$2 want=$3 rc=0 out
	shift 3
	out=$(cu "$A" extract "$@" -o "$T/refused.age" 2>&1) || rc=$?
	check "$what: refused" [ "$rc" -eq "$want_rc" ]
	contains "$what: saying why" "$out" "$want"
	check "$what: no file left" [ ! -e "$T/refused.age" ]
}
refused "every person asked for left out" 1 "its consent does not include the recipient's class, wgeid" \
    --recipient wgeid --persons --event-site S-1 --child
refused "no person matches" 1 "nothing selected" --recipient wgeid --persons --status identified --at 2024-12-31
refused "a query by a field the recipient withholds" 1 "selects persons by person.sex, which the recipient withholds" \
    --recipient wgeid-nosex --persons --woman
refused "--status without --persons" 2 "--status selects persons: give --persons too" \
    --recipient wgeid --status detained
refused "--event-site without --persons" 2 "--event-site selects persons" --recipient wgeid --event-site S-1
refused "a victim filter with --persons" 2 "--cause filters victims, not persons" \
    --recipient wgeid --persons --cause shelling
refused "--at without --status" 2 "--at goes with --status" --recipient wgeid --persons --at 2024-12-31
refused "an unknown status" 2 "--status is one of missing" --recipient wgeid --persons --status gone
refused "a day that does not exist" 2 "--at needs a real day" --recipient wgeid --persons \
    --status detained --at 2024-02-30
out=$(cu "$A" audit --json 2>/dev/null || true)
check "the eight extracts wrote a custody event each, the refused ones none" py 'import json,sys
a = json.loads(sys.argv[1]); ev = a["events"] if isinstance(a, dict) else a
n = sum(1 for e in ev if e.get("action") == "extract")
assert n == 8, n' "$out"
done_testing
