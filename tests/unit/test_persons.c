/* Persons, person events and sites: every column's check, canonical JSON, GeoJSON geometries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/geojson.h"
#include "custody/records.h"

#define MAX_PAIRS 32

/* Build a record of kind from NULL-terminated name, value pairs; its canonical JSON or NULL. */
static char *
build_v(const struct vocab *v, const char *kind, struct record_problems *probs, va_list ap)
{
	const char *names[MAX_PAIRS], *values[MAX_PAIRS];
	json_t *out = (json_t *)1;
	size_t n = 0;
	char *s = NULL;
	int rc;

	while ((names[n] = va_arg(ap, const char *)) != NULL) {
		values[n] = va_arg(ap, const char *);
		n++;
		assert_true(n < MAX_PAIRS);
	}
	rc = record_from_fields(&out, probs, v, kind, names, values, n);
	if (rc == 0) {
		assert_int_equal(probs->n, 0);
		assert_non_null(out);
		assert_non_null(s = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT));
		json_decref(out);
	} else {
		assert_int_equal(rc, CUSTODY_EINVAL);
		assert_null(out);
		assert_true(probs->n > 0);
	}
	return s;
}

/* Assert the record builds and its canonical JSON is expect. */
static void
check_ok(const struct vocab *v, const char *kind, const char *expect, ...)
{
	struct record_problems probs = { 0 };
	va_list ap;
	char *s;

	va_start(ap, expect);
	s = build_v(v, kind, &probs, ap);
	va_end(ap);
	if (s == NULL)
		fail_msg("unexpected problem: %s: %s", probs.v[0].column, probs.v[0].problem);
	if (expect != NULL)
		assert_string_equal(s, expect);
	free(s);
	record_problems_free(&probs);
}

/* Assert the record is refused with exactly one problem, of column, containing what. */
static void
check_bad(const struct vocab *v, const char *kind, const char *column, const char *what, ...)
{
	struct record_problems probs = { 0 };
	va_list ap;
	char *s;

	va_start(ap, what);
	s = build_v(v, kind, &probs, ap);
	va_end(ap);
	if (s != NULL)
		fail_msg("accepted: %s", s);
	if (probs.n != 1)
		fail_msg("%zu problems, first %s: %s", probs.n, probs.v[0].column,
		    probs.v[0].problem);
	assert_string_equal(probs.v[0].column, column);
	if (strstr(probs.v[0].problem, what) == NULL)
		fail_msg("problem \"%s\" lacks \"%s\"", probs.v[0].problem, what);
	record_problems_free(&probs);
}

#define PERSON_MIN "{\"age_group\":\"unknown\",\"id\":\"\",\"kind\":\"person\",\"sex\":\"unknown\"}"

/* A person: the full row, canonical, and each column's check. */
static void
test_person(void **state)
{
	(void)state;
	check_ok(NULL, "person", PERSON_MIN, NULL);
	check_ok(NULL, "person", "{\"age\":16,\"age_group\":\"child\",\"area\":\"Douma\","
	    "\"belongings\":\"watch\",\"birth_year\":2008,\"build\":\"slim\",\"clothing\":\"jeans\","
	    "\"consent\":[\"icmp\",\"wgeid\",\"public\"],\"dental\":\"gold crown\","
	    "\"dna_reference\":\"collected\",\"eyes\":\"brown\",\"governorate\":\"rif_dimashq\","
	    "\"hair\":\"black\",\"height_cm\":165,\"id\":\"p1\",\"kind\":\"person\","
	    "\"marks\":\"scar\",\"name\":\"Salma\",\"notes\":\"n\",\"reporter_contact\":\"+963\","
	    "\"reporter_name\":\"Umm Salma\",\"reporter_relationship\":\"mother\","
	    "\"sex\":\"female\"}",
	    "id", "p1", "name", "Salma", "sex", "Female", "age", "16", "birth_year", "2008",
	    "governorate", "Rif_Dimashq", "area", "Douma", "consent", " public, ICMP,wgeid ,icmp",
	    "reporter_name", "Umm Salma", "reporter_relationship", "mother",
	    "reporter_contact", "+963", "height_cm", "165", "build", "slim", "hair", "black",
	    "eyes", "brown", "marks", "scar", "dental", "gold crown", "clothing", "jeans",
	    "belongings", "watch", "dna_reference", "collected", "notes", "n", NULL);
	check_ok(NULL, "person", "{\"age_group\":\"child\",\"id\":\"\",\"kind\":\"person\","
	    "\"sex\":\"unknown\"}", "age_group", "child", NULL);
	check_bad(NULL, "person", "consent", "unknown consent class \"un\"", "consent",
	    "icmp,un", NULL);
	check_ok(NULL, "person", "{\"age_group\":\"unknown\",\"consent\":[\"coi\",\"icrc\"],"
	    "\"id\":\"\",\"kind\":\"person\",\"sex\":\"unknown\"}", "consent", "icrc;coi", NULL);
	check_ok(NULL, "person", PERSON_MIN, "consent", " , ", NULL);
	check_bad(NULL, "person", "consent", "icmp, iiim, coi, wgeid, icrc, prosecutors, public",
	    "consent", "press", NULL);
	check_bad(NULL, "person", "age", "not an age", "age", "131", NULL);
	check_bad(NULL, "person", "age_group", "contradicts age", "age", "12", "age_group",
	    "adult", NULL);
	check_bad(NULL, "person", "sex", "not one of male, female, unknown", "sex", "x", NULL);
	check_bad(NULL, "person", "birth_year", "not a year", "birth_year", "1850", NULL);
	check_bad(NULL, "person", "birth_year", "not a year", "birth_year", "20000", NULL);
	check_bad(NULL, "person", "height_cm", "not a height", "height_cm", "251", NULL);
	check_bad(NULL, "person", "height_cm", "not a height", "height_cm", "1.70", NULL);
	check_bad(NULL, "person", "height_cm", "not a height", "height_cm", "29", NULL);
	check_bad(NULL, "person", "dna_reference", "none, collected, submitted",
	    "dna_reference", "sequenced", NULL);
	check_bad(NULL, "person", "governorate", "unknown governorate", "governorate", "paris",
	    NULL);
	check_bad(NULL, "person", "reporter_contact", "line break", "reporter_contact",
	    "a\nb", NULL);
	check_bad(NULL, "person", "id", "not an id", "id", "-p", NULL);
	check_bad(NULL, "person", "status", "unknown field", "status", "missing", NULL);
}

#define EV "person_id", "p1"

/* A person event: types, party where required, dates with their precision. */
static void
test_person_event(void **state)
{
	const char *const *t;

	(void)state;
	check_ok(NULL, "person_event", "{\"date\":\"2024-12\",\"date_documented\":\"2025-01-10\","
	    "\"date_estimated\":true,\"date_precision\":\"month\",\"governorate\":\"damascus\","
	    "\"id\":\"\",\"kind\":\"person_event\",\"party\":\"syrian_regime\","
	    "\"person_id\":\"p1\",\"site_id\":\"s1\",\"source_id\":\"src\",\"type\":\"arrest\"}",
	    EV, "type", "Arrest", "date", "2024-12", "date_estimated", "TRUE", "date_documented",
	    "2025-01-10", "party", "syrian_regime", "site_id", "s1", "governorate", "damascus",
	    "source_id", "src", NULL);
	for (t = record_event_type_names; *t != NULL; t++)
		if (record_event_needs_party(*t))
			check_bad(NULL, "person_event", "party", "required for", EV, "type", *t,
			    "date", "2024", NULL);
		else
			check_ok(NULL, "person_event", NULL, EV, "type", *t, "date", "2024", NULL);
	assert_string_equal(record_event_type_names[0], "last_seen");
	assert_string_equal(record_event_type_names[5], "inquiry");
	assert_string_equal(record_event_type_names[10], "identified");
	check_bad(NULL, "person_event", "type", "not one of last_seen, arrest", EV, "type",
	    "kidnap", "date", "2024", NULL);
	check_bad(NULL, "person_event", "type", "required", EV, "date", "2024", NULL);
	check_bad(NULL, "person_event", "person_id", "required", "type", "release", "date",
	    "2024", NULL);
	check_bad(NULL, "person_event", "date", "required", EV, "type", "release", NULL);
	check_bad(NULL, "person_event", "date", "", EV, "type", "release", "date", "2023-02-29",
	    NULL);
	check_bad(NULL, "person_event", "date", "", EV, "type", "release", "date", "12/05/2024",
	    NULL);
	check_bad(NULL, "person_event", "date_documented", "full date", EV, "type", "release",
	    "date", "2024", "date_documented", "2024-12", NULL);
	check_bad(NULL, "person_event", "date", "after date_documented", EV, "type", "release",
	    "date", "2024-12-06", "date_documented", "2024-12-05", NULL);
	check_bad(NULL, "person_event", "date_estimated", "not true or false", EV, "type",
	    "release", "date", "2024", "date_estimated", "maybe", NULL);
	check_bad(NULL, "person_event", "party", "unknown party", EV, "type", "arrest", "date",
	    "2024", "party", "martians", NULL);
}

#define SQUARE "{\"type\":\"Polygon\",\"coordinates\":[[[36.1,33.5],[36.2,33.5],[36.2,33.6]," \
	"[36.1,33.5]]]}"

/* A site: types, statuses, coordinates, geometry. */
static void
test_site(void **state)
{
	(void)state;
	check_ok(NULL, "site", "{\"id\":\"\",\"kind\":\"site\",\"status\":\"reported\","
	    "\"type\":\"mass_grave\"}", "type", "mass_grave", NULL);
	check_ok(NULL, "site", "{\"area\":\"Najha\",\"description\":\"d\",\"first_reported\":"
	    "\"2024-12-10\",\"first_reported_precision\":\"day\",\"geometry\":"
	    "\"{\\\"coordinates\\\":[[[36.1,33.5],[36.2,33.5],[36.2,33.6],[36.1,33.5]]],"
	    "\\\"type\\\":\\\"Polygon\\\"}\",\"governorate\":\"rif_dimashq\",\"id\":\"s1\","
	    "\"kind\":\"site\",\"lat\":\"-33.5\",\"lon\":\"36.15\",\"name\":\"Najha\","
	    "\"party\":\"syrian_regime\",\"source_id\":\"src\",\"status\":\"disturbed\","
	    "\"type\":\"mass_grave\"}", "id", "s1", "type", "mass_grave", "name", "Najha",
	    "governorate", "rif_dimashq", "area", "Najha", "lat", "-33.5", "lon", "+36.15",
	    "geometry", SQUARE, "party", "syrian_regime", "first_reported", "2024-12-10",
	    "status", "Disturbed", "description", "d", "source_id", "src", NULL);
	check_bad(NULL, "site", "type", "required", "name", "x", NULL);
	check_bad(NULL, "site", "type", "mass_grave, detention_facility, execution_site",
	    "type", "grave", NULL);
	check_bad(NULL, "site", "status", "reported, verified, secured, marked, exhumed, "
	    "disturbed, destroyed", "type", "other", "status", "lost", NULL);
	check_bad(NULL, "site", "lat", "not between -90 and 90", "type", "other", "lat",
	    "90.5", "lon", "0", NULL);
	check_bad(NULL, "site", "lat", "not between -90 and 90", "type", "other", "lat",
	    "-91", "lon", "0", NULL);
	check_bad(NULL, "site", "lon", "not between -180 and 180", "type", "other", "lat",
	    "0", "lon", "180.0001", NULL);
	check_bad(NULL, "site", "lon", "not decimal degrees", "type", "other", "lat", "0",
	    "lon", "36,2", NULL);
	check_bad(NULL, "site", "lat", "not decimal degrees", "type", "other", "lat", "1e2",
	    "lon", "0", NULL);
	check_bad(NULL, "site", "lat", "not decimal degrees", "type", "other", "lat", "nan",
	    "lon", "0", NULL);
	check_bad(NULL, "site", "lat", "not decimal degrees", "type", "other", "lat", "3.",
	    "lon", "0", NULL);
	check_bad(NULL, "site", "lat", "not decimal degrees", "type", "other", "lat", "+-3",
	    "lon", "0", NULL);
	check_bad(NULL, "site", "lat", "not decimal degrees", "type", "other", "lat", "+",
	    "lon", "0", NULL);
	check_bad(NULL, "site", "lon", "required with lat", "type", "other", "lat", "3", NULL);
	check_bad(NULL, "site", "lat", "required with lon", "type", "other", "lon", "3", NULL);
	check_bad(NULL, "site", "geometry", "not closed", "type", "other", "geometry",
	    "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}", NULL);
	check_bad(NULL, "site", "first_reported", "", "type", "other", "first_reported",
	    "2024-13", NULL);
}

/* Check text as a geometry: 0 and its canonical form, or the reason. */
static void
geo_bad(const char *text, const char *what)
{
	char why[256];
	json_t *g = (json_t *)1;

	assert_int_equal(geojson_geometry(&g, why, sizeof why, text, strlen(text)),
	    CUSTODY_EINVAL);
	assert_null(g);
	if (strstr(why, what) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", why, what);
}

/* GeoJSON geometries: what is accepted, what each refusal says. */
static void
test_geojson(void **state)
{
	char why[256];
	json_t *g;
	char *s;

	(void)state;
	assert_int_equal(geojson_geometry(&g, why, sizeof why, SQUARE, strlen(SQUARE)), 0);
	s = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	assert_string_equal(s, "{\"coordinates\":[[[36.1,33.5],[36.2,33.5],[36.2,33.6],"
	    "[36.1,33.5]]],\"type\":\"Polygon\"}");
	free(s);
	json_decref(g);
	s = "{\"type\":\"MultiPolygon\",\"bbox\":[0,0,2,2],\"coordinates\":[[[[0,0],[1,0],[1,1],"
	    "[0,0]]],[[[1,1,5],[2,1,5],[2,2,5],[1,1,5]],[[1.2,1.2],[1.8,1.2],[1.8,1.8],"
	    "[1.2,1.2]]]]}";
	assert_int_equal(geojson_geometry(&g, why, sizeof why, s, strlen(s)), 0);
	assert_null(json_object_get(g, "bbox"));
	json_decref(g);

	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}",
	    "ring 1 is not closed");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}",
	    "fewer than 4 positions");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]],"
	    "[[0,0],[181,0],[1,1],[0,0]]]}", "ring 2 position 2: longitude 181");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,-90.5],[1,1],[0,0]]]}",
	    "latitude -90.5");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,\"0\"],[1,1],[0,0]]]}",
	    "non-number");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0],[1,0],[1,1],[0]]]}",
	    "not [longitude, latitude]");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[]}", "non-empty array");
	geo_bad("{\"type\":\"Point\",\"coordinates\":[0,0]}", "not Polygon or MultiPolygon");
	geo_bad("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
	    "[[[0,0],[1,0],[1,1],[0,2]]]]}", "polygon 2: ring 1 is not closed");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]],"
	    "\"properties\":{}}", "unexpected member");
	geo_bad("{\"type\":\"Polygon\",\"type\":\"Polygon\"}", "not JSON");
	geo_bad("[1,2]", "not a GeoJSON geometry object");
	geo_bad("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]", "not JSON");
}

/* The JSON form (the socket's) gives back the canonical record; the CSV header check. */
static void
test_json_and_header(void **state)
{
	struct record_problems probs = { 0 };
	const char *const hdr[] = { "id", "person_id", "type", "date", "date_estimated",
	    "date_documented", "party", "site_id", "governorate", "area", "source_id", "notes" };
	const char *const *f;
	json_t *rec, *back;
	size_t i;

	(void)state;
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", "p1", "age", "30", "consent",
	    "coi,icrc", "height_cm", "170", "birth_year", "1990", "sex", "male", "name", "N");
	assert_int_equal(record_from_json(&back, &probs, NULL, "person", rec), 0);
	json_decref(rec);
	assert_int_equal(record_from_json(&rec, &probs, NULL, "person", back), 0);
	assert_true(json_equal(rec, back));
	json_decref(rec);
	json_decref(back);
	rec = json_pack("{s:s,s:s,s:s,s:s,s:b}", "person_id", "p1", "type", "release", "date",
	    "2024-05", "date_precision", "day", "date_estimated", 1);
	assert_int_equal(record_from_json(&back, &probs, NULL, "person_event", rec), 0);
	assert_string_equal(json_string_value(json_object_get(back, "date_precision")),
	    "month");
	json_decref(rec);
	json_decref(back);
	rec = json_pack("{s:s,s:[s,s]}", "type", "other", "consent", "icmp", "x");
	assert_int_equal(record_from_json(&back, &probs, NULL, "site", rec), CUSTODY_EINVAL);
	record_problems_free(&probs);
	json_decref(rec);

	f = record_fields("person_event");
	for (i = 0; i < sizeof hdr / sizeof hdr[0]; i++)
		assert_string_equal(f[i], hdr[i]);
	assert_null(f[i]);
	assert_string_equal(record_fields("person")[21], "notes");
	assert_string_equal(record_fields("site")[7], "geometry");
	assert_int_equal(record_header_check(&probs, "person_event", hdr + 2, 3),
	    CUSTODY_EINVAL);
	assert_int_equal(probs.n, 1);
	assert_string_equal(probs.v[0].column, "person_id");
	record_problems_free(&probs);
	assert_int_equal(record_header_check(&probs, "site", (const char *const[]){ "id" }, 1),
	    CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "type");
	record_problems_free(&probs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_person),
		cmocka_unit_test(test_person_event),
		cmocka_unit_test(test_site),
		cmocka_unit_test(test_geojson),
		cmocka_unit_test(test_json_and_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
