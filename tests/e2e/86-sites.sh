#!/usr/bin/env bash
# Sites where evidence lies, end to end with real daemons: site add/edit/show/list, a status
# change kept in history (when a grave was found disturbed), coordinates and a GeoJSON polygon
# checked (out of range, not closed: FILE:LINE: column: problem, all or nothing), the CSV import
# idempotent, evidence linked to a site, `custody sites` as a table, CSV and an RFC 7946
# FeatureCollection that ogrinfo (gdal-bin) reads with the right feature count and geometry
# types, the coordinates and geometry withheld from a role not granted protected fields (null
# geometries), the sites synced to a second office, and no coordinate or site name in the
# clear in any archive file, git object or the index of either office. Without ogrinfo the
# rest runs, then the test says SKIP.
. "$(dirname "$0")/lib.sh"
A=$T/a B=$T/b
two_offices

commits() { cu "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["commits"])'; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(d.get(sys.argv[2])))' "$1" "$2"; }

LAT=33.5138471 LON=36.2765279 NAME="Wadi Qarsaniyeh"
POLY='{"type":"Polygon","coordinates":[[[36.2761234,33.5131111],[36.2771234,33.5131111],[36.2771234,33.5141111],[36.2761234,33.5131111]]]}'

# --- site add / edit / history --------------------------------------------------------------------
check "site add" quiet cu "$A" site add --id S-1 --type mass_grave --name "$NAME" \
    --governorate rif_dimashq --lat "$LAT" --lon "$LON" --geometry "$POLY" \
    --first-reported 2024-12 --party syrian_regime
doc=$(cu "$A" site show S-1 --json)
check "a new site is reported" [ "$(field "$doc" status)" = '"reported"' ]
check "its latitude is kept as given" [ "$(field "$doc" lat)" = "\"$LAT\"" ]
contains "its geometry is kept" "$(field "$doc" geometry)" "Polygon"
check "first_reported keeps its precision" [ "$(field "$doc" first_reported_precision)" = '"month"' ]
rc=0; out=$(cu "$A" site add --id S-2 --type mass_grave --lat 91 --lon 36 2>&1) || rc=$?
check "a latitude out of range is refused" [ "$rc" -eq 1 ]
contains "saying so" "$out" "lat: 91 is not between -90 and 90"
rc=0; out=$(cu "$A" site add --id S-2 --type mass_grave --lat 33 2>&1) || rc=$?
contains "a latitude without a longitude is refused" "$out" "lon: required with lat"
rc=0; out=$(cu "$A" site add --id S-2 --type graveyard 2>&1) || rc=$?
contains "an unknown site type lists the types" "$out" "not one of mass_grave, detention_facility"
check "site edit: secured" quiet cu "$A" site edit S-1 --status secured
check "site edit: disturbed" quiet cu "$A" site edit S-1 --status disturbed
rc=0; out=$(cu "$A" site edit S-1 --status lost 2>&1) || rc=$?
check "an unknown status is refused" [ "$rc" -ne 0 ]
out=$(cu "$A" history S-1 --json)
py '
import json, sys
h = json.loads(sys.argv[1])["revisions"]
st = [r["record"]["status"] for r in h]
assert st == ["reported", "secured", "disturbed"], st
assert h[2]["changed"] == ["status"], h[2]["changed"]' "$out" &&
    ok "history shows the site reported, secured, then found disturbed" || fail "history: $out"
out=$(cu "$A" site list)
contains "site list shows the site and its status" "$out" "disturbed"

# --- import: all or nothing, FILE:LINE, idempotent ---------------------------------------------------
cat >"$T/sites-bad.csv" <<'CSV'
id,type,name,governorate,area,lat,lon,geometry,party,first_reported,status,description,source_id
S-10,detention_facility,Good Row,damascus,,33.5,36.3,,,2012,verified,,
S-11,mass_grave,Far North,,,95.1,36.3,,,,,,
S-12,mass_grave,Far East,,,33.5,181,,,,,,
S-13,mass_grave,Open Ring,,,,,"{""type"":""Polygon"",""coordinates"":[[[36,33],[37,33],[37,34],[36,34]]]}",,,,,
S-14,mass_grave,Bad Status,,,,,,,,lost,,
S-15,mass_grave,Point,,,,,"{""type"":""Point"",""coordinates"":[36,33]}",,,,,
CSV
cat >"$T/sites.csv" <<'CSV'
id,type,name,governorate,area,lat,lon,geometry,party,first_reported,status,description,source_id
S-10,detention_facility,Sednaya Annex,damascus,,33.6654321,36.3154321,,syrian_regime,2012,verified,,
,execution_site,,homs,,,,"{""type"":""MultiPolygon"",""coordinates"":[[[[36.7,34.7],[36.8,34.7],[36.8,34.8],[36.7,34.7]]]]}",,2025-01-15,reported,derived id,
CSV
c0=$(commits "$A")
rc=0; out=$(cu "$A" import sites "$T/sites-bad.csv" 2>&1) || rc=$?
check "a sites import with bad rows fails" [ "$rc" -eq 1 ]
contains "a latitude out of range by line" "$out" "sites-bad.csv:3: lat:"
contains "a longitude out of range by line" "$out" "sites-bad.csv:4: lon:"
contains "a polygon not closed by line" "$out" "sites-bad.csv:5: geometry: ring 1 is not closed"
contains "a bad status by line" "$out" "sites-bad.csv:6: status:"
contains "a point geometry by line" "$out" "sites-bad.csv:7: geometry: type is not Polygon or MultiPolygon"
check "nothing was written" [ "$(commits "$A")" = "$c0" ]
check "sites import" quiet cu "$A" import sites "$T/sites.csv"
c1=$(commits "$A")
out=$(cu "$A" import sites "$T/sites.csv" 2>&1)
check "importing the sites again writes no commit" [ "$(commits "$A")" = "$c1" ]
contains "and says they are unchanged" "$out" "2 unchanged"
check "three sites are listed" [ "$(cu "$A" site list --format csv | tail -n +2 | wc -l)" -eq 3 ]

# --- link --------------------------------------------------------------------------------------------
printf 'survey photo\n' >"$T/photo.txt"
evid=$(cu "$A" ingest "$T/photo.txt" 2>/dev/null | tail -1 | cut -d' ' -f1)
check "evidence links to a site" quiet cu "$A" link "$evid" --site S-1
contains "the evidence lists the site" "$(cu "$A" show "$evid" --json)" '"sites"'
rc=0; cu "$A" link "$evid" --site S-404 >/dev/null 2>&1 || rc=$?
check "a link to an unknown site is refused" [ "$rc" -ne 0 ]

# --- custody sites: table, CSV, GeoJSON read by ogrinfo --------------------------------------------
check "a person held at S-10" quiet cu "$A" person add --id P-S --name "Held Person"
check "seen there" quiet cu "$A" person event P-S --type seen_in_custody --date 2024-06 --site-id S-10
check "moved there again" quiet cu "$A" person event P-S --type transfer --date 2024-07 --party syrian_regime --site-id S-10
out=$(cu "$A" sites)
contains "sites lists the sites as a table" "$out" "Sednaya Annex"
out=$(cu "$A" sites --format csv --status disturbed)
check "--status keeps the disturbed site alone" [ "$(tail -n +2 <<<"$out" | wc -l)" -eq 1 ]
contains "with its evidence count last but one" "$out" "disturbed,,,1,0"
out=$(cu "$A" sites --format csv --type detention_facility)
contains "a person counted once however many events name the site" "$out" ",0,1"
rc=0; out=$(cu "$A" sites --type graveyard 2>&1) || rc=$?
check "an unknown --type is a usage error" [ "$rc" -eq 2 ]
cu "$A" sites --format geojson >"$T/sites.geojson"
py '
import json, sys
fc = json.load(open(sys.argv[1]))
assert fc["type"] == "FeatureCollection"
f = {x["id"]: x for x in fc["features"]}
assert len(f) == 3, f
assert f["S-1"]["geometry"]["type"] == "Polygon"
assert f["S-10"]["geometry"] == {"type": "Point", "coordinates": [36.3154321, 33.6654321]}, f["S-10"]
assert f["S-1"]["properties"]["evidence"] == 1 and f["S-10"]["properties"]["persons"] == 1
assert f["S-1"]["properties"]["status"] == "disturbed"' "$T/sites.geojson" &&
    ok "the FeatureCollection holds the three sites, their geometries and counts" ||
    fail "sites --format geojson: $(cat "$T/sites.geojson")"
if command -v ogrinfo >/dev/null; then
	out=$(ogrinfo -ro -so -al "$T/sites.geojson" 2>&1)
	contains "ogrinfo reads the FeatureCollection" "$out" "Feature Count: 3"
	out=$(ogrinfo -ro -al "$T/sites.geojson" 2>&1)
	check "ogrinfo finds one polygon" [ "$(grep -c '^  POLYGON' <<<"$out")" -eq 1 ]
	check "ogrinfo finds one multipolygon" [ "$(grep -c '^  MULTIPOLYGON' <<<"$out")" -eq 1 ]
	check "ogrinfo finds one point" [ "$(grep -c '^  POINT' <<<"$out")" -eq 1 ]
	contains "ogrinfo reads the properties" "$out" "status (String) = disturbed"
	cu "$A" sites --format geojson --type mass_grave >"$T/graves.geojson"
	contains "--type filters the FeatureCollection" "$(ogrinfo -ro -so -al "$T/graves.geojson" 2>&1)" "Feature Count: 1"
fi

# --- sync to a second office ---------------------------------------------------------------------------
check "B syncs A" quiet cu "$B" sync A
doc=$(cu "$B" site show S-1 --json)
check "B has the site in its last status" [ "$(field "$doc" status)" = '"disturbed"' ]
check "B opens its coordinates for its admin" [ "$(field "$doc" lon)" = "\"$LON\"" ]
contains "B prints the same FeatureCollection" "$(cu "$B" sites --format geojson)" '"Polygon"' 
check "B counts the same evidence and persons as A, over its own index" \
    [ "$(cu "$B" sites --format csv)" = "$(cu "$A" sites --format csv)" ]
out=$(cu "$B" history S-1 --json)
py 'import json,sys; assert len(json.loads(sys.argv[1])["revisions"]) == 3' "$out" &&
    ok "B has the site's whole history" || fail "B history: $out"

# --- coordinates withheld from a role not granted protected fields --------------------------------
stop_daemon "$DA"
sed -i 's/^protected = .*/protected = documenter/' "$A/custody.conf"
start_daemon "$A" --listen "127.0.0.1:$PA"
DA=$DAEMON_PID
doc=$(cu "$A" site show S-1 --json)
check "lat is withheld" [ "$(field "$doc" lat)" = '"withheld"' ]
check "lon is withheld" [ "$(field "$doc" lon)" = '"withheld"' ]
check "the geometry is withheld" [ "$(field "$doc" geometry)" = '"withheld"' ]
cu "$A" sites --format geojson >"$T/withheld.geojson"
py 'import json,sys; fc=json.load(open(sys.argv[1])); assert all(f["geometry"] is None for f in fc["features"]), fc' "$T/withheld.geojson" &&
    ok "withheld coordinates give features with a null geometry" || fail "withheld geojson: $(cat "$T/withheld.geojson")"
if command -v ogrinfo >/dev/null; then
	contains "which ogrinfo still reads" "$(ogrinfo -ro -so -al "$T/withheld.geojson" 2>&1)" "Feature Count: 3"
fi
check "a role not shown the coordinates still edits the status" quiet cu "$A" site edit S-1 --status exhumed
check "B syncs the edit" quiet cu "$B" sync A
doc=$(cu "$B" site show S-1 --json)
check "which kept the coordinates it could not see" [ "$(field "$doc" status)" = '"exhumed"' ] && [ "$(field "$doc" lat)" = "\"$LAT\"" ]
out=$(cu "$A" site list --format json; cu "$A" history S-1 --json)
case "$out" in *"$LAT"*|*"$LON"*|*36.2761234*) fail "a coordinate reaches the client" ;; *) ok "list and history withhold them too" ;; esac

# --- no coordinate or name in the clear --------------------------------------------------------------
stop_daemon "$DA"
stop_daemon "$DB"
for dir in "$A" "$B"; do
	for needle in "$LAT" "$LON" 36.2761234 33.6654321 "Qarsaniyeh" "Sednaya Annex"; do
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
if ! command -v ogrinfo >/dev/null; then
	echo "SKIP: ogrinfo (gdal-bin) is not installed: the GeoJSON was not read by a GIS"
	exit 77
fi
