/* Casualty records: dates, every field's check, canonical JSON, vocabularies, name matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

#define DOC "date_documented", "2024-12-05"
#define MINIMAL "{\"age_group\":\"unknown\",\"date_documented\":\"2024-12-05\",\"id\":\"\"," \
	"\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":\"civilian\"}"

static void
test_cdate_valid(void **state)
{
	struct cdate d;

	assert_int_equal(cdate_parse(&d, "2024-12-05"), 0);
	assert_int_equal(d.precision, DATE_DAY);
	assert_int_equal(d.year, 2024);
	assert_int_equal(d.month, 12);
	assert_int_equal(d.day, 5);
	assert_string_equal(d.first, "2024-12-05");
	assert_string_equal(d.last, "2024-12-05");

	assert_int_equal(cdate_parse(&d, "2024-02"), 0);
	assert_int_equal(d.precision, DATE_MONTH);
	assert_int_equal(d.day, 0);
	assert_string_equal(d.first, "2024-02-01");
	assert_string_equal(d.last, "2024-02-29");
	assert_int_equal(cdate_parse(&d, "2023-02"), 0);
	assert_string_equal(d.last, "2023-02-28");

	assert_int_equal(cdate_parse(&d, "2011"), 0);
	assert_int_equal(d.precision, DATE_YEAR);
	assert_int_equal(d.month, 0);
	assert_string_equal(d.first, "2011-01-01");
	assert_string_equal(d.last, "2011-12-31");

	assert_int_equal(cdate_parse(&d, "2024-02-29"), 0);	/* leap year */
	assert_int_equal(cdate_parse(&d, "2000-02-29"), 0);	/* divisible by 400 */
	assert_int_equal(cdate_parse(&d, "1900-01-01"), 0);
	assert_int_equal(cdate_parse(&d, "2100-12-31"), 0);
	assert_int_equal(cdate_parse(&d, "2024-04-30"), 0);
	assert_string_equal(cdate_precision_name(DATE_MONTH), "month");
}

static void
test_cdate_invalid(void **state)
{
	static const char *bad[] = {
		"2023-02-29", "1900-02-29", "2100-02-29", "2024-13", "2024-13-01", "2024-00",
		"2024-01-00", "2024-01-32", "2024-04-31", "2024-1-5", "2024-01-5", "2024-1",
		"24-01-05", "1899", "1899-12-31", "2101", "2024-01-05x", "2024/01/05", "",
		" 2024", "2024 ", "+024", "-2024", "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x94",
		"2024-01-05T00:00", "20240105", "2024--1",
	};
	struct cdate d;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cdate_parse(&d, bad[i]) != CUSTODY_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(cdate_parse(&d, NULL), CUSTODY_EINVAL);
	assert_int_equal(cdate_parse(&d, "2024-13"), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "month"));
}

static void
test_victim_minimal_and_full(void **state)
{
	check_ok(NULL, "victim", MINIMAL, DOC, NULL);
	/* empty and NULL values are not given */
	check_ok(NULL, "victim", MINIMAL, DOC, "name", "", "age", NULL, "notes", "", NULL);
	check_ok(NULL, "victim",
	    "{\"age\":34,\"age_group\":\"adult\",\"area\":\"Maarat al-Numan\","
	    "\"categories\":[\"media\",\"medical\"],\"cause\":\"airstrike\","
	    "\"date_documented\":\"2024-12-05\",\"date_of_death\":\"2024-11\","
	    "\"date_of_death_estimated\":true,\"date_of_death_precision\":\"month\","
	    "\"governorate\":\"idlib\",\"id\":\"v-1\",\"incident_id\":\"inc-7\","
	    "\"kind\":\"victim\",\"name\":\"محمد الأحمد\",\"notes\":\"seen\\nby two\","
	    "\"party\":\"russia\",\"sex\":\"male\",\"source_id\":\"src-2\","
	    "\"status\":\"civilian\"}",
	    "id", "v-1", "name", "محمد الأحمد", "sex", "male", "age", "34", "status", "civilian",
	    "categories", "medical;media", "date_of_death", "2024-11",
	    "date_of_death_estimated", "true", DOC, "governorate", "idlib",
	    "area", "Maarat al-Numan", "cause", "airstrike", "party", "russia",
	    "incident_id", "inc-7", "source_id", "src-2", "notes", "seen\nby two", NULL);
}

static void
test_victim_age(void **state)
{
	check_bad(NULL, "victim", "age", "0-130", DOC, "age", "-1", NULL);
	check_bad(NULL, "victim", "age", "0-130", DOC, "age", "131", NULL);
	check_bad(NULL, "victim", "age", "0-130", DOC, "age", "12a", NULL);
	check_bad(NULL, "victim", "age", "0-130", DOC, "age", "1.5", NULL);
	check_bad(NULL, "victim", "age", "0-130", DOC, "age", "+5", NULL);
	check_bad(NULL, "victim", "age", "0-130", DOC, "age", "99999999999999999999", NULL);
	check_ok(NULL, "victim", "{\"age\":0,\"age_group\":\"child\",\"date_documented\":"
	    "\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":"
	    "\"civilian\"}", DOC, "age", "0", NULL);
	check_ok(NULL, "victim", "{\"age\":130,\"age_group\":\"adult\",\"date_documented\":"
	    "\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":"
	    "\"civilian\"}", DOC, "age", " 130 ", NULL);
	check_ok(NULL, "victim", "{\"age\":17,\"age_group\":\"child\",\"date_documented\":"
	    "\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":"
	    "\"civilian\"}", DOC, "age", "17", NULL);
	check_ok(NULL, "victim", "{\"age\":18,\"age_group\":\"adult\",\"date_documented\":"
	    "\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":"
	    "\"civilian\"}", DOC, "age", "018", NULL);
}

static void
test_victim_age_group(void **state)
{
	check_bad(NULL, "victim", "age_group", "contradicts age 10", DOC, "age", "10",
	    "age_group", "adult", NULL);
	check_bad(NULL, "victim", "age_group", "contradicts age 30", DOC, "age", "30",
	    "age_group", "child", NULL);
	check_bad(NULL, "victim", "age_group", "child, adult, unknown", DOC, "age_group",
	    "teen", NULL);
	/* agreeing, or "unknown", is fine; the age decides */
	check_ok(NULL, "victim", "{\"age\":10,\"age_group\":\"child\",\"date_documented\":"
	    "\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":"
	    "\"civilian\"}", DOC, "age", "10", "age_group", "unknown", NULL);
	check_ok(NULL, "victim", "{\"age\":10,\"age_group\":\"child\",\"date_documented\":"
	    "\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":"
	    "\"civilian\"}", DOC, "age", "10", "age_group", "Child", NULL);
	/* no age: as given */
	check_ok(NULL, "victim", "{\"age_group\":\"adult\",\"date_documented\":\"2024-12-05\","
	    "\"id\":\"\",\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":\"civilian\"}",
	    DOC, "age_group", " ADULT ", NULL);
}

static void
test_victim_categories(void **state)
{
	check_bad(NULL, "victim", "categories", "\"bogus\"", DOC, "categories", "medical;bogus",
	    NULL);
	check_bad(NULL, "victim", "categories", "unknown category", DOC, "categories",
	    "civil defense", NULL);
	check_ok(NULL, "victim", "{\"age_group\":\"unknown\",\"categories\":[\"media\","
	    "\"medical\"],\"date_documented\":\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\","
	    "\"sex\":\"unknown\",\"status\":\"civilian\"}",
	    DOC, "categories", "media;Medical; media ;", NULL);
	check_ok(NULL, "victim", "{\"age_group\":\"unknown\",\"categories\":[\"civil_defense\","
	    "\"media\",\"medical\"],\"date_documented\":\"2024-12-05\",\"id\":\"\",\"kind\":"
	    "\"victim\",\"sex\":\"unknown\",\"status\":\"civilian\"}",
	    DOC, "categories", "medical;media;civil_defense", NULL);
	/* only separators: nothing given */
	check_ok(NULL, "victim", MINIMAL, DOC, "categories", ";;", NULL);
}

static void
test_victim_dates(void **state)
{
	check_bad(NULL, "victim", "date_documented", "required", "name", "x", NULL);
	check_bad(NULL, "victim", "date_documented", "required", "date_documented", "  ", NULL);
	check_bad(NULL, "victim", "date_documented", "full date", "date_documented", "2024-12",
	    NULL);
	check_bad(NULL, "victim", "date_documented", "day 29", "date_documented", "2023-02-29",
	    NULL);
	check_bad(NULL, "victim", "date_of_death", "day 29", DOC, "date_of_death", "2023-02-29",
	    NULL);
	check_bad(NULL, "victim", "date_of_death", "month 13", DOC, "date_of_death", "2024-13",
	    NULL);
	check_bad(NULL, "victim", "date_of_death", "not a date", DOC, "date_of_death",
	    "2024-1-5", NULL);
	check_bad(NULL, "victim", "date_of_death", "after date_documented", DOC,
	    "date_of_death", "2024-12-06", NULL);
	check_bad(NULL, "victim", "date_of_death_estimated", "true or false", DOC,
	    "date_of_death_estimated", "yes", NULL);
	check_ok(NULL, "victim", "{\"age_group\":\"unknown\",\"date_documented\":\"2024-12-05\","
	    "\"date_of_death\":\"2024-02-29\",\"date_of_death_estimated\":false,"
	    "\"date_of_death_precision\":\"day\",\"id\":\"\",\"kind\":\"victim\",\"sex\":"
	    "\"unknown\",\"status\":\"civilian\"}", DOC, "date_of_death", "2024-02-29",
	    "date_of_death_estimated", "FALSE", NULL);
	check_ok(NULL, "victim", "{\"age_group\":\"unknown\",\"date_documented\":\"2024-12-05\","
	    "\"date_of_death\":\"2024-12\",\"date_of_death_precision\":\"month\",\"id\":\"\","
	    "\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":\"civilian\"}", DOC,
	    "date_of_death", "2024-12", NULL);
	check_ok(NULL, "victim", "{\"age_group\":\"unknown\",\"date_documented\":\"2024-12-05\","
	    "\"date_of_death\":\"2013\",\"date_of_death_precision\":\"year\",\"id\":\"\","
	    "\"kind\":\"victim\",\"sex\":\"unknown\",\"status\":\"civilian\"}", DOC,
	    "date_of_death", "2013", NULL);
}

static void
test_victim_words(void **state)
{
	check_bad(NULL, "victim", "party", "unknown party \"ypg\"", DOC, "party", "ypg", NULL);
	check_bad(NULL, "victim", "governorate", "unknown governorate", DOC, "governorate",
	    "gaza", NULL);
	check_bad(NULL, "victim", "cause", "unknown cause", DOC, "cause", "old age", NULL);
	check_bad(NULL, "victim", "sex", "male, female, unknown", DOC, "sex", "m", NULL);
	check_bad(NULL, "victim", "status", "civilian, combatant", DOC, "status", "soldier",
	    NULL);
	check_ok(NULL, "victim", "{\"age_group\":\"unknown\",\"cause\":\"torture\","
	    "\"date_documented\":\"2024-12-05\",\"governorate\":\"deir_ez_zor\",\"id\":\"\","
	    "\"kind\":\"victim\",\"party\":\"syrian_regime\",\"sex\":\"female\",\"status\":"
	    "\"combatant\"}", DOC, "party", " Syrian_Regime ", "governorate", "DEIR_EZ_ZOR",
	    "cause", "torture", "sex", "Female", "status", "COMBATANT", NULL);
}

static void
test_ids(void **state)
{
	char long_id[130];

	check_ok(NULL, "victim", NULL, DOC, "id", "A-1.b:c_d", NULL);
	check_bad(NULL, "victim", "id", "not an id", DOC, "id", ".x", NULL);
	check_bad(NULL, "victim", "id", "not an id", DOC, "id", "-x", NULL);
	check_bad(NULL, "victim", "id", "not an id", DOC, "id", "a b", NULL);
	check_bad(NULL, "victim", "id", "not an id", DOC, "id", "a/b", NULL);
	check_bad(NULL, "victim", "incident_id", "not an id", DOC, "incident_id", "x\xc3\xa9",
	    NULL);
	memset(long_id, 'a', 128);
	long_id[128] = '\0';
	check_ok(NULL, "victim", NULL, DOC, "id", long_id, NULL);
	long_id[128] = 'a';
	long_id[129] = '\0';
	check_bad(NULL, "victim", "id", "not an id", DOC, "id", long_id, NULL);
}

static void
test_text_checks(void **state)
{
	char *big;

	check_bad(NULL, "victim", "name", "invalid UTF-8 at byte 3", DOC, "name", "ab\xff", NULL);
	check_bad(NULL, "victim", "name", "invalid UTF-8", DOC, "name", "\xc0\xaf", NULL);
	check_bad(NULL, "victim", "name", "invalid UTF-8", DOC, "name", "\xed\xa0\x80", NULL);
	check_bad(NULL, "victim", "name", "invalid UTF-8", DOC, "name", "\xf4\x90\x80\x80", NULL);
	check_bad(NULL, "victim", "name", "invalid UTF-8", DOC, "name", "\xe2\x82", NULL);
	check_bad(NULL, "victim", "notes", "invalid UTF-8", DOC, "notes", "ok\x80", NULL);
	check_bad(NULL, "victim", "name", "control character", DOC, "name", "a\x01", NULL);
	check_bad(NULL, "victim", "name", "control character", DOC, "name", "a\xc2\x85", NULL);
	check_bad(NULL, "victim", "name", "line break", DOC, "name", "a\nb", NULL);
	check_bad(NULL, "incident", "type", "line break", "id", "i", "type", "a\rb", NULL);
	check_ok(NULL, "incident", "{\"area\":\"two\\nlines\",\"description\":\"a\\r\\nb\\tc\","
	    "\"id\":\"i\",\"kind\":\"incident\",\"title\":\"t\\nu\"}", "id", "i", "area",
	    "two\nlines", "description", "a\r\nb\tc", "title", "t\nu", NULL);

	assert_non_null(big = malloc(65538));
	memset(big, 'x', 65537);
	big[65537] = '\0';
	check_bad(NULL, "victim", "notes", "longer than 65536", DOC, "notes", big, NULL);
	big[65536] = '\0';
	check_ok(NULL, "victim", NULL, DOC, "notes", big, NULL);
	free(big);
}

static void
test_unknown_and_duplicate(void **state)
{
	struct record_problems probs = { 0 };
	const char *names[] = { "date_documented", "colour", "name", "name", "age" };
	const char *values[] = { "2024-12-05", "red", "a", "b", "x" };
	json_t *out;

	check_bad(NULL, "victim", "colour", "unknown field", DOC, "colour", "red", NULL);
	check_bad(NULL, "victim", "name", "given twice", DOC, "name", "a", "name", "b", NULL);
	check_bad(NULL, "source", "party", "unknown field", "party", "isis", NULL);

	/* every problem of a record at once */
	assert_int_equal(record_from_fields(&out, &probs, NULL, "victim", names, values, 5),
	    CUSTODY_EINVAL);
	assert_null(out);
	assert_int_equal(probs.n, 3);
	assert_string_equal(probs.v[0].column, "colour");
	assert_string_equal(probs.v[1].column, "name");
	assert_string_equal(probs.v[2].column, "age");
	record_problems_free(&probs);
	assert_int_equal(probs.n, 0);
	record_problems_free(&probs);
	record_problems_free(NULL);

	assert_int_equal(record_from_fields(&out, &probs, NULL, "martian", names, values, 1),
	    CUSTODY_EINVAL);
	assert_int_equal(probs.n, 1);
	record_problems_free(&probs);
}

static void
test_problem_printable(void **state)
{
	struct record_problems probs = { 0 };

	assert_int_equal(record_problems_add(&probs, "a\x01\xff\xd8\xa8", "bad \x1b[2J %d", 7), 0);
	assert_int_equal(record_problems_add(&probs, NULL, "x"), 0);
	assert_string_equal(probs.v[0].column, "a\\x01\\xff\xd8\xa8");
	assert_string_equal(probs.v[0].problem, "bad \\x1b[2J 7");
	assert_string_equal(probs.v[1].column, "");
	record_problems_free(&probs);
}

static void
test_determinism(void **state)
{
	struct record_problems probs = { 0 };
	const char *n1[] = { "name", "age", "categories", "date_documented", "party", "notes" };
	const char *v1[] = { "Ali", "9", "media;medical", "2024-12-05", "HTS", "x\ny" };
	const char *n2[] = { "notes", "party", "date_documented", "categories", "age", "name" };
	const char *v2[] = { "x\ny", "hts", "2024-12-05", "medical;media;media", "9", "Ali" };
	json_t *a, *b, *c;
	char *sa, *sb, *sc;

	assert_int_equal(record_from_fields(&a, &probs, NULL, "victim", n1, v1, 6), 0);
	assert_int_equal(record_from_fields(&b, &probs, NULL, "victim", n1, v1, 6), 0);
	assert_int_equal(record_from_fields(&c, &probs, NULL, "victim", n2, v2, 6), 0);
	sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
	sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
	sc = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(sa, sb);
	assert_string_equal(sa, sc);
	assert_string_equal(sa, "{\"age\":9,\"age_group\":\"child\",\"categories\":[\"media\","
	    "\"medical\"],\"date_documented\":\"2024-12-05\",\"id\":\"\",\"kind\":\"victim\","
	    "\"name\":\"Ali\",\"notes\":\"x\\ny\",\"party\":\"hts\",\"sex\":\"unknown\","
	    "\"status\":\"civilian\"}");
	free(sa);
	free(sb);
	free(sc);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* The canonical record, given back as JSON, yields itself. */
static void
check_fixpoint(const char *kind, const char *const *names, const char *const *values,
    size_t n)
{
	struct record_problems probs = { 0 };
	json_t *a, *b;
	char *sa, *sb;

	assert_int_equal(record_from_fields(&a, &probs, NULL, kind, names, values, n), 0);
	assert_int_equal(record_from_json(&b, &probs, NULL, kind, a), 0);
	sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
	sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}

static void
test_json(void **state)
{
	const char *vn[] = { "id", "name", "age", "categories", "date_of_death",
		"date_of_death_estimated", "date_documented", "party", "notes" };
	const char *vv[] = { "v1", "Huda", "12", "media", "2024-11", "true", "2024-12-05",
		"sdf", "n" };
	const char *in[] = { "id", "date", "title" };
	const char *iv[] = { "inc-1", "2024", "T" };
	struct record_problems probs = { 0 };
	json_t *out, *j;

	check_fixpoint("victim", vn, vv, 9);
	check_fixpoint("incident", in, iv, 3);

	j = json_pack("{s:s, s:i}", "date_documented", "2024-12-05", "name", 5);
	assert_int_equal(record_from_json(&out, &probs, NULL, "victim", j), CUSTODY_EINVAL);
	assert_null(out);
	assert_int_equal(probs.n, 1);
	assert_string_equal(probs.v[0].column, "name");
	record_problems_free(&probs);
	json_decref(j);

	/* a stale precision (an edited date) is made again from the date */
	j = json_pack("{s:s, s:s, s:s}", "date_documented", "2024-12-05", "date_of_death",
	    "2024", "date_of_death_precision", "day");
	assert_int_equal(record_from_json(&out, &probs, NULL, "victim", j), 0);
	assert_string_equal(json_string_value(json_object_get(out,
	    "date_of_death_precision")), "year");
	json_decref(out);
	json_decref(j);
	j = json_pack("{s:s, s:s}", "id", "i", "date_precision", "month");
	assert_int_equal(record_from_json(&out, &probs, NULL, "incident", j), 0);
	assert_null(json_object_get(out, "date_precision"));
	json_decref(out);
	json_decref(j);

	j = json_pack("{s:s, s:s}", "date_documented", "2024-12-05", "kind", "incident");
	assert_int_equal(record_from_json(&out, &probs, NULL, "victim", j), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "kind");
	record_problems_free(&probs);
	json_decref(j);

	j = json_pack("{s:s, s:[s,i]}", "date_documented", "2024-12-05", "categories",
	    "media", 3);
	assert_int_equal(record_from_json(&out, &probs, NULL, "victim", j), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "categories");
	record_problems_free(&probs);
	json_decref(j);

	j = json_array();
	assert_int_equal(record_from_json(&out, &probs, NULL, "victim", j), CUSTODY_EINVAL);
	record_problems_free(&probs);
	json_decref(j);
}

static void
test_incident_and_source(void **state)
{
	check_bad(NULL, "incident", "id", "required", "title", "x", NULL);
	check_bad(NULL, "incident", "date", "no day 31", "id", "i1", "date", "2024-06-31", NULL);
	check_bad(NULL, "incident", "party", "unknown party", "id", "i1", "party", "nato", NULL);
	check_ok(NULL, "incident", "{\"date\":\"2024-03\",\"date_precision\":\"month\","
	    "\"governorate\":\"aleppo\",\"id\":\"i1\",\"kind\":\"incident\",\"party\":"
	    "\"coalition\",\"type\":\"massacre\"}", "id", "i1", "date", "2024-03",
	    "governorate", "Aleppo", "party", "coalition", "type", "massacre", NULL);
	check_ok(NULL, "source", "{\"contact\":\"+963 11 000\",\"id\":\"\",\"kind\":\"source\","
	    "\"name\":\"W\"}", "name", "W", "contact", "+963 11 000", NULL);
	check_bad(NULL, "source", "contact", "line break", "contact", "a\nb", NULL);
}

static void
test_record_fields_and_header(void **state)
{
	struct record_problems probs = { 0 };
	const char *const *f;
	const char *good[] = { "notes", "date_documented", "name" };
	const char *bad[] = { "name", "colour", "name", "" };
	size_t n;

	assert_non_null(f = record_fields("victim"));
	for (n = 0; f[n] != NULL; n++)
		;
	assert_int_equal(n, 17);
	assert_string_equal(f[9], "date_documented");
	for (n = 0, f = record_fields("incident"); f[n] != NULL; n++)
		;
	assert_int_equal(n, 8);
	for (n = 0, f = record_fields("source"); f[n] != NULL; n++)
		;
	assert_int_equal(n, 4);
	assert_null(record_fields("evidence"));
	assert_null(record_fields(NULL));
	/* the vocabulary fields, which a client's edit leaves to the daemon's vocabulary */
	assert_int_equal(record_field_vocab("victim", "party"), 1);
	assert_int_equal(record_field_vocab("victim", "governorate"), 1);
	assert_int_equal(record_field_vocab("victim", "cause"), 1);
	assert_int_equal(record_field_vocab("incident", "party"), 1);
	assert_int_equal(record_field_vocab("incident", "cause"), 0);
	assert_int_equal(record_field_vocab("victim", "sex"), 0);
	assert_int_equal(record_field_vocab("victim", "colour"), 0);
	assert_int_equal(record_field_vocab("evidence", "party"), 0);
	assert_int_equal(record_field_vocab("source", NULL), 0);

	assert_int_equal(record_header_check(&probs, "victim", good, 3), 0);
	assert_int_equal(probs.n, 0);
	assert_int_equal(record_header_check(&probs, "victim", bad, 4), CUSTODY_EINVAL);
	assert_int_equal(probs.n, 4);
	assert_string_equal(probs.v[0].column, "colour");
	assert_string_equal(probs.v[0].problem, "unknown column");
	assert_string_equal(probs.v[1].column, "name");
	assert_string_equal(probs.v[1].problem, "duplicate column");
	assert_string_equal(probs.v[2].column, "column 4");
	assert_string_equal(probs.v[2].problem, "empty column name");
	assert_string_equal(probs.v[3].column, "date_documented");
	assert_string_equal(probs.v[3].problem, "missing required column");
	record_problems_free(&probs);
}

static void
test_vocab(void **state)
{
	struct vocab v;
	size_t i;

	assert_int_equal(vocab_default(&v), 0);
	assert_int_equal(v.nparty, 8);
	assert_int_equal(v.ngovernorate, 14);
	assert_int_equal(v.ncause, 11);
	assert_string_equal(v.party[0], "syrian_regime");
	assert_true(vocab_has(&v, "governorate", "hasakah"));
	assert_false(vocab_has(&v, "governorate", "gaza"));
	assert_true(vocab_has(NULL, "cause", "siege"));

	assert_int_equal(vocab_set(&v, "party", " Alpha, beta ,, gamma_3,beta "), 0);
	assert_int_equal(v.nparty, 3);
	assert_string_equal(v.party[0], "alpha");
	assert_string_equal(v.party[1], "beta");
	assert_string_equal(v.party[2], "gamma_3");
	check_bad(&v, "victim", "party", "unknown party \"russia\"", DOC, "party", "russia",
	    NULL);
	check_ok(&v, "victim", NULL, DOC, "party", "BETA", NULL);
	/* the other lists are untouched */
	check_ok(&v, "victim", NULL, DOC, "cause", "siege", "governorate", "homs", NULL);

	/* refusals leave the list as it was */
	assert_int_equal(vocab_set(&v, "party", "ok,not ok"), CUSTODY_EINVAL);
	assert_int_equal(vocab_set(&v, "party", " , "), CUSTODY_EINVAL);
	assert_int_equal(vocab_set(&v, "party", "-x"), CUSTODY_EINVAL);
	assert_int_equal(vocab_set(&v, "colour", "red"), CUSTODY_EINVAL);
	assert_int_equal(vocab_set(&v, "party", NULL), CUSTODY_EINVAL);
	assert_int_equal(v.nparty, 3);
	for (i = 0; i < v.nparty; i++)
		assert_non_null(v.party[i]);
	assert_int_equal(vocab_set(&v, "cause", "a,b"), 0);
	check_bad(&v, "victim", "cause", "unknown cause", DOC, "cause", "siege", NULL);

	vocab_free(&v);
	assert_int_equal(v.nparty, 0);
	vocab_free(&v);
	vocab_free(NULL);
}

/* Assert two names normalise equal (or not). */
static void
check_names(const char *a, const char *b, int equal)
{
	char *na = name_normalize(a), *nb = name_normalize(b);

	assert_non_null(na);
	assert_non_null(nb);
	if ((strcmp(na, nb) == 0) != equal)
		fail_msg("\"%s\" -> \"%s\", \"%s\" -> \"%s\"", a, na, b, nb);
	free(na);
	free(nb);
}

static void
test_name_normalize(void **state)
{
	char *s;

	check_names("محمّد", "محمد", 1);			/* shadda */
	check_names("أحمد", "احمد", 1);			/* alef with hamza */
	check_names("إبراهيم", "ابراهيم", 1);
	check_names("آمنة", "امنه", 1);			/* madda, ta marbuta */
	check_names("ٱلله", "الله", 1);			/* alef wasla */
	check_names("مصطفى", "مصطفي", 1);		/* alef maqsura */
	check_names("محـــمد", "محمد", 1);		/* tatweel */
	check_names("مُحَمَّد", "محمد", 1);		/* full tashkeel */
	check_names("José  Álvarez", "jose alvarez", 1);
	check_names("O'Brien, Jr.", "obrien jr", 1);
	check_names("  Ali \t\n Hassan  ", "ali hassan", 1);
	check_names("\xef\xac\x81" "ras", "firas", 1);	/* NFKC: the fi ligature */
	check_names("STRASSE", "straße", 1);		/* case folding */
	check_names("Fatima", "Fatma", 0);
	check_names("محمد", "احمد", 0);

	assert_non_null(s = name_normalize("  José  Álvarez "));
	assert_string_equal(s, "jose alvarez");
	free(s);
	assert_non_null(s = name_normalize("..."));
	assert_string_equal(s, "");
	free(s);
	assert_null(name_normalize("ab\xff"));
	assert_null(name_normalize("\xed\xa0\x80"));
	assert_null(name_normalize(NULL));
}

/*
 * An ASCII name (normalised without utf8proc_map) gives what the full path gives: the same name
 * with a zero-width space (U+200B, dropped as a format character) taken through utf8proc.
 */
static void
test_name_normalize_ascii(void **state)
{
	char in[8], wide[16], *a, *b;
	int c1, c2, c3;

	for (c1 = 1; c1 < 128; c1++)
		for (c2 = 0; c2 < 128; c2++)
			for (c3 = 0; c3 < (c2 == 0 ? 1 : 128); c3 += c2 < 'A' ? 1 : 13) {
				snprintf(in, sizeof in, "%c%c%c", c1, c2, c3);
				snprintf(wide, sizeof wide, "%s\xe2\x80\x8b", in);
				assert_non_null(a = name_normalize(in));
				assert_non_null(b = name_normalize(wide));
				if (strcmp(a, b) != 0)
					fail_msg("%02x %02x %02x: \"%s\" against \"%s\"", c1, c2, c3,
					    a, b);
				free(a);
				free(b);
			}
	check_names("  O'Brien,\tJr.\x7f Smith-Jones $5 ", "obrien jr smithjones $5", 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdate_valid),
		cmocka_unit_test(test_cdate_invalid),
		cmocka_unit_test(test_victim_minimal_and_full),
		cmocka_unit_test(test_victim_age),
		cmocka_unit_test(test_victim_age_group),
		cmocka_unit_test(test_victim_categories),
		cmocka_unit_test(test_victim_dates),
		cmocka_unit_test(test_victim_words),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_text_checks),
		cmocka_unit_test(test_unknown_and_duplicate),
		cmocka_unit_test(test_problem_printable),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_incident_and_source),
		cmocka_unit_test(test_record_fields_and_header),
		cmocka_unit_test(test_vocab),
		cmocka_unit_test(test_name_normalize),
		cmocka_unit_test(test_name_normalize_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
