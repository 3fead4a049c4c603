/*
 * The statistics report over a real index: small hand-made datasets whose answers were worked
 * out by hand and are written below as literal JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "report.h"

#include "index-fixture.h"

/* got equals the JSON text want (order of keys aside); prints both when not. */
static void
expect_json(json_t *got, const char *want)
{
	json_error_t err;
	json_t *w = json_loads(want, 0, &err);
	char *g, *ws;

	if (w == NULL)
		fail_msg("bad expected JSON: %s at %d", err.text, err.position);
	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		ws = json_dumps(w, JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		print_error("got  %s\nwant %s\n", g, ws);
		free(g);
		free(ws);
		json_decref(w);
		fail();
	}
	json_decref(w);
}

static json_t *
build(struct fixture *f, const char *from, const char *to, const char *basis, int threshold)
{
	json_t *r = NULL;
	int error = report_build(&r, f->db, from, to, basis, threshold);

	if (error != 0)
		fail_msg("report_build: %d %s", error, custody_error());
	assert_non_null(r);
	return r;
}

/* December by date documented: v1-v5; v6 excluded; the massacre at exactly 5 counts. */
static void
test_month_documented(void **state)
{
	json_t *r = build(*state, "2024-12-01", "2024-12-31", "documented", 5);

	expect_json(r,
	    "{\"period\": {\"from\": \"2024-12-01\", \"to\": \"2024-12-31\","
	    "  \"basis\": \"documented\"},"
	    " \"victims\": 5, \"children\": 2, \"women\": 1, \"non_civilians_excluded\": 1,"
	    " \"by_party\": {\"regime\": {\"victims\": 2, \"children\": 1, \"women\": 0},"
	    "  \"russia\": {\"victims\": 2, \"children\": 1, \"women\": 0},"
	    "  \"unknown\": {\"victims\": 1, \"children\": 0, \"women\": 1}},"
	    " \"by_governorate\": {\"aleppo\": {\"victims\": 2, \"percent\": 40.0},"
	    "  \"idlib\": {\"victims\": 2, \"percent\": 40.0},"
	    "  \"unknown\": {\"victims\": 1, \"percent\": 20.0}},"
	    " \"torture\": {\"victims\": 2, \"children\": 1, \"women\": 1,"
	    "  \"by_party\": {\"regime\": {\"victims\": 1, \"children\": 1, \"women\": 0},"
	    "   \"unknown\": {\"victims\": 1, \"children\": 0, \"women\": 1}}},"
	    " \"categories\": {\"medical\": {\"victims\": 2, \"by_party\": {\"regime\": 1,"
	    "   \"russia\": 1}},"
	    "  \"civil_defense\": {\"victims\": 1, \"by_party\": {\"russia\": 1}},"
	    "  \"media\": {\"victims\": 1, \"by_party\": {\"unknown\": 1}}},"
	    " \"massacres\": {\"threshold\": 5, \"count\": 1, \"by_party\": {\"regime\": 1}},"
	    " \"by_month\": {\"2024-12\": 5}}");
	json_decref(r);

	/* NULL basis is documented */
	r = build(*state, "2024-12-01", "2024-12-31", NULL, 5);
	assert_int_equal(json_integer_value(json_object_get(r, "victims")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "period"),
	    "basis")), "documented");
	json_decref(r);
}

/* The same rows by date of death: v1, v2, v7, v8 (v3 died in November, v4 only "2024"). */
static void
test_month_death(void **state)
{
	json_t *r = build(*state, "2024-12-01", "2024-12-31", "death", 5);

	expect_json(r,
	    "{\"period\": {\"from\": \"2024-12-01\", \"to\": \"2024-12-31\", \"basis\": \"death\"},"
	    " \"victims\": 4, \"children\": 2, \"women\": 1, \"non_civilians_excluded\": 1,"
	    " \"by_party\": {\"regime\": {\"victims\": 3, \"children\": 1, \"women\": 1},"
	    "  \"sdf\": {\"victims\": 1, \"children\": 1, \"women\": 0}},"
	    " \"by_governorate\": {\"aleppo\": {\"victims\": 3, \"percent\": 75.0},"
	    "  \"damascus\": {\"victims\": 1, \"percent\": 25.0}},"
	    " \"torture\": {\"victims\": 2, \"children\": 1, \"women\": 1,"
	    "  \"by_party\": {\"regime\": {\"victims\": 2, \"children\": 1, \"women\": 1}}},"
	    " \"categories\": {\"medical\": {\"victims\": 1, \"by_party\": {\"regime\": 1}},"
	    "  \"civil_defense\": {\"victims\": 0, \"by_party\": {}},"
	    "  \"media\": {\"victims\": 0, \"by_party\": {}}},"
	    " \"massacres\": {\"threshold\": 5, \"count\": 0, \"by_party\": {}},"
	    " \"by_month\": {\"2024-12\": 4}}");
	json_decref(r);
}

/* 2024 by death: v4's year-only death counts under "2024"; a threshold of 4 finds incident 1. */
static void
test_year_death(void **state)
{
	json_t *r = build(*state, "2024-01-01", "2024-12-31", "death", 4);

	expect_json(r,
	    "{\"period\": {\"from\": \"2024-01-01\", \"to\": \"2024-12-31\", \"basis\": \"death\"},"
	    " \"victims\": 6, \"children\": 2, \"women\": 2, \"non_civilians_excluded\": 1,"
	    " \"by_party\": {\"regime\": {\"victims\": 3, \"children\": 1, \"women\": 1},"
	    "  \"russia\": {\"victims\": 1, \"children\": 0, \"women\": 0},"
	    "  \"sdf\": {\"victims\": 1, \"children\": 1, \"women\": 0},"
	    "  \"unknown\": {\"victims\": 1, \"children\": 0, \"women\": 1}},"
	    " \"by_governorate\": {\"aleppo\": {\"victims\": 3, \"percent\": 50.0},"
	    "  \"damascus\": {\"victims\": 1, \"percent\": 16.7},"
	    "  \"idlib\": {\"victims\": 2, \"percent\": 33.3}},"
	    " \"torture\": {\"victims\": 3, \"children\": 1, \"women\": 2,"
	    "  \"by_party\": {\"regime\": {\"victims\": 2, \"children\": 1, \"women\": 1},"
	    "   \"unknown\": {\"victims\": 1, \"children\": 0, \"women\": 1}}},"
	    " \"categories\": {\"medical\": {\"victims\": 2, \"by_party\": {\"regime\": 1,"
	    "   \"russia\": 1}},"
	    "  \"civil_defense\": {\"victims\": 1, \"by_party\": {\"russia\": 1}},"
	    "  \"media\": {\"victims\": 1, \"by_party\": {\"unknown\": 1}}},"
	    " \"massacres\": {\"threshold\": 4, \"count\": 1, \"by_party\": {\"regime\": 1}},"
	    " \"by_month\": {\"2024\": 1, \"2024-11\": 1, \"2024-12\": 4}}");
	json_decref(r);

	/* the same year at the default threshold: incident 1 has 4 civilians, one short */
	r = build(*state, "2024-01-01", "2024-12-31", "death", REPORT_THRESHOLD);
	expect_json(json_object_get(r, "massacres"),
	    "{\"threshold\": 5, \"count\": 0, \"by_party\": {}}");
	json_decref(r);
}

/* 2024 by date documented adds v8 (documented 30 November) to December's report. */
static void
test_year_documented(void **state)
{
	json_t *r = build(*state, "2024-01-01", "2024-12-31", "documented", 5);

	expect_json(r,
	    "{\"period\": {\"from\": \"2024-01-01\", \"to\": \"2024-12-31\","
	    "  \"basis\": \"documented\"},"
	    " \"victims\": 6, \"children\": 3, \"women\": 1, \"non_civilians_excluded\": 1,"
	    " \"by_party\": {\"regime\": {\"victims\": 2, \"children\": 1, \"women\": 0},"
	    "  \"russia\": {\"victims\": 2, \"children\": 1, \"women\": 0},"
	    "  \"sdf\": {\"victims\": 1, \"children\": 1, \"women\": 0},"
	    "  \"unknown\": {\"victims\": 1, \"children\": 0, \"women\": 1}},"
	    " \"by_governorate\": {\"aleppo\": {\"victims\": 3, \"percent\": 50.0},"
	    "  \"idlib\": {\"victims\": 2, \"percent\": 33.3},"
	    "  \"unknown\": {\"victims\": 1, \"percent\": 16.7}},"
	    " \"torture\": {\"victims\": 2, \"children\": 1, \"women\": 1,"
	    "  \"by_party\": {\"regime\": {\"victims\": 1, \"children\": 1, \"women\": 0},"
	    "   \"unknown\": {\"victims\": 1, \"children\": 0, \"women\": 1}}},"
	    " \"categories\": {\"medical\": {\"victims\": 2, \"by_party\": {\"regime\": 1,"
	    "   \"russia\": 1}},"
	    "  \"civil_defense\": {\"victims\": 1, \"by_party\": {\"russia\": 1}},"
	    "  \"media\": {\"victims\": 1, \"by_party\": {\"unknown\": 1}}},"
	    " \"massacres\": {\"threshold\": 5, \"count\": 1, \"by_party\": {\"regime\": 1}},"
	    " \"by_month\": {\"2024-11\": 1, \"2024-12\": 5}}");
	json_decref(r);
}

/* Massacres: one civilian short of the threshold is none; an unlisted incident is "unknown". */
static void
test_massacres(void **state)
{
	json_t *r;

	/* 1-30 December leaves v5 out: incident 1 has 4 civilians */
	r = build(*state, "2024-12-01", "2024-12-30", "documented", 5);
	assert_int_equal(json_integer_value(json_object_get(r, "victims")), 4);
	expect_json(json_object_get(r, "massacres"),
	    "{\"threshold\": 5, \"count\": 0, \"by_party\": {}}");
	json_decref(r);

	/* the combatant v6 is linked to incident 1 too, yet 6 is one too many */
	r = build(*state, "2024-12-01", "2024-12-31", "documented", 6);
	expect_json(json_object_get(r, "massacres"),
	    "{\"threshold\": 6, \"count\": 0, \"by_party\": {}}");
	json_decref(r);

	/* threshold 1 by death in December: incident 1 (regime), incident 2 (not listed) */
	r = build(*state, "2024-12-01", "2024-12-31", "death", 1);
	expect_json(json_object_get(r, "massacres"),
	    "{\"threshold\": 1, \"count\": 2, \"by_party\": {\"regime\": 1, \"unknown\": 1}}");
	json_decref(r);
}

/* A period with nothing in it: zeros, empty objects, every key in the order. */
static void
test_empty(void **state)
{
	struct fixture *f = *state;
	json_t *r = build(f, "2023-06-01", "2023-06-30", "death", 5);
	char *s = json_dumps(r, JSON_COMPACT);

	assert_string_equal(s,
	    "{\"period\":{\"from\":\"2023-06-01\",\"to\":\"2023-06-30\",\"basis\":\"death\"},"
	    "\"victims\":0,\"children\":0,\"women\":0,\"non_civilians_excluded\":0,"
	    "\"by_party\":{},\"by_governorate\":{},"
	    "\"torture\":{\"victims\":0,\"children\":0,\"women\":0,\"by_party\":{}},"
	    "\"categories\":{\"medical\":{\"victims\":0,\"by_party\":{}},"
	    "\"civil_defense\":{\"victims\":0,\"by_party\":{}},"
	    "\"media\":{\"victims\":0,\"by_party\":{}}},"
	    "\"massacres\":{\"threshold\":5,\"count\":0,\"by_party\":{}},\"by_month\":{}}");
	free(s);
	json_decref(r);
}

/* Percentages of the total, one decimal, halves away from zero; keys sorted in the output. */
static void
test_percent(void **state)
{
	struct fixture *f = *state;
	struct vrow v = { 0, "2024-03-10", NULL, NULL, NULL, "male", 30, "adult", "civilian", 0,
	    "idlib", "regime", NULL, 0 };
	json_t *r;
	char *s;
	int i;

	/* 1 of 3 and 2 of 3 */
	for (i = 1; i <= 3; i++) {
		v.id = i;
		v.governorate = i == 1 ? "idlib" : "aleppo";
		put_victim(f->db, &v);
	}
	r = build(f, "2024-03-01", "2024-03-31", "documented", 5);
	expect_json(json_object_get(r, "by_governorate"),
	    "{\"aleppo\": {\"victims\": 2, \"percent\": 66.7},"
	    " \"idlib\": {\"victims\": 1, \"percent\": 33.3}}");
	s = json_dumps(json_object_get(r, "by_governorate"), JSON_COMPACT |
	    JSON_REAL_PRECISION(15));
	assert_string_equal(s, "{\"aleppo\":{\"victims\":2,\"percent\":66.7},"
	    "\"idlib\":{\"victims\":1,\"percent\":33.3}}");
	free(s);
	json_decref(r);

	/* 1 of 16 is 6.25, 15 of 16 is 93.75: both halves round up (away from zero) */
	v.documented = "2024-04-10";
	for (i = 10; i < 26; i++) {
		v.id = i;
		v.governorate = i == 10 ? "raqqa" : "homs";
		put_victim(f->db, &v);
	}
	r = build(f, "2024-04-01", "2024-04-30", "documented", 5);
	expect_json(json_object_get(r, "by_governorate"),
	    "{\"homs\": {\"victims\": 15, \"percent\": 93.8},"
	    " \"raqqa\": {\"victims\": 1, \"percent\": 6.3}}");
	json_decref(r);

	/* March and April together: 3 + 16 = 19, 1/19 = 5.26..., 15/19 = 78.94... */
	r = build(f, "2024-03-01", "2024-04-30", "documented", 5);
	expect_json(json_object_get(r, "by_governorate"),
	    "{\"aleppo\": {\"victims\": 2, \"percent\": 10.5},"
	    " \"homs\": {\"victims\": 15, \"percent\": 78.9},"
	    " \"idlib\": {\"victims\": 1, \"percent\": 5.3},"
	    " \"raqqa\": {\"victims\": 1, \"percent\": 5.3}}");
	expect_json(json_object_get(r, "by_month"), "{\"2024-03\": 3, \"2024-04\": 16}");
	json_decref(r);
}

/* Torture counts only victims killed by torture, not every woman and child of the period. */
static void
test_torture(void **state)
{
	struct fixture *f = *state;
	static const struct vrow rows[] = {
		{ 1, "2024-05-01", NULL, NULL, NULL, "male", 40, "adult", "civilian", 0, "homs",
		    "regime", "torture", 0 },
		{ 2, "2024-05-02", NULL, NULL, NULL, "female", 35, "adult", "civilian", 0, "homs",
		    "regime", "shelling", 0 },
		{ 3, "2024-05-03", NULL, NULL, NULL, "male", 8, "child", "civilian", 0, "homs",
		    "isis", "airstrike", 0 },
		{ 4, "2024-05-04", NULL, NULL, NULL, "female", 16, "child", "civilian", 0, "homs",
		    "isis", "torture", 0 },
	};
	json_t *r;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof *rows; i++)
		put_victim(f->db, &rows[i]);
	r = build(f, "2024-05-01", "2024-05-31", "documented", 5);
	assert_int_equal(json_integer_value(json_object_get(r, "children")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "women")), 1);
	expect_json(json_object_get(r, "torture"),
	    "{\"victims\": 2, \"children\": 1, \"women\": 0,"
	    " \"by_party\": {\"isis\": {\"victims\": 1, \"children\": 1, \"women\": 0},"
	    "  \"regime\": {\"victims\": 1, \"children\": 0, \"women\": 0}}}");
	json_decref(r);
}

/* Bad dates, periods, bases and thresholds are refused with a message. */
static void
test_bad_input(void **state)
{
	struct fixture *f = *state;
	static const char *bad_dates[] = { "2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01",
	    "2024-00-10", "2024-01-00", "2024-04-31", "2024-1-01", "2024/01/01", "2024-01-011",
	    "", "1899-12-31", "2101-01-01", "20x4-01-01", "2024-01-0a" };
	json_t *r = (json_t *)1;
	size_t i;

	for (i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
		custody_error_clear();
		assert_int_equal(report_build(&r, f->db, bad_dates[i], "2024-12-31", NULL, 5),
		    CUSTODY_EINVAL);
		assert_null(r);
		assert_true(strlen(custody_error()) > 0);
		assert_int_equal(report_build(&r, f->db, "2000-01-01", bad_dates[i], NULL, 5),
		    CUSTODY_EINVAL);
	}
	assert_int_equal(report_build(&r, f->db, NULL, "2024-12-31", NULL, 5), CUSTODY_EINVAL);
	assert_int_equal(report_build(&r, f->db, "2024-12-02", "2024-12-01", NULL, 5),
	    CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "before"));
	assert_int_equal(report_build(&r, f->db, "2024-12-01", "2024-12-31", "deaths", 5),
	    CUSTODY_EINVAL);
	assert_int_equal(report_build(&r, f->db, "2024-12-01", "2024-12-31", "", 5),
	    CUSTODY_EINVAL);
	assert_int_equal(report_build(&r, f->db, "2024-12-01", "2024-12-31", "death", 0),
	    CUSTODY_EINVAL);
	assert_int_equal(report_build(&r, f->db, "2024-12-01", "2024-12-31", "death", -3),
	    CUSTODY_EINVAL);
	assert_null(r);
	/* the edges that are fine: a leap day, a one-day period */
	assert_int_equal(report_build(&r, f->db, "2024-02-29", "2024-02-29", "death", 1), 0);
	json_decref(r);
	assert_int_equal(report_build(&r, f->db, "2000-02-29", "2100-12-31", "documented", 1), 0);
	json_decref(r);
}

/* Month and year bounds, leap years included; malformed months and years refused. */
static void
test_period(void **state)
{
	static const struct { const char *month, *from, *to; } months[] = {
		{ "2024-02", "2024-02-01", "2024-02-29" }, { "2023-02", "2023-02-01", "2023-02-28" },
		{ "2000-02", "2000-02-01", "2000-02-29" }, { "1900-02", "1900-02-01", "1900-02-28" },
		{ "2024-12", "2024-12-01", "2024-12-31" }, { "2024-04", "2024-04-01", "2024-04-30" },
		{ "2024-01", "2024-01-01", "2024-01-31" },
	};
	static const char *bad_months[] = { "2024-13", "2024-00", "2024-1", "24-01", "2024-01-01",
	    "2024/01", "", "2024-0x", "1899-12" };
	static const char *bad_years[] = { "24", "20245", "", "2x24", "1899", "2101", "2024-" };
	char from[11], to[11];
	size_t i;

	for (i = 0; i < sizeof months / sizeof *months; i++) {
		assert_int_equal(report_period(from, to, months[i].month, NULL), 0);
		assert_string_equal(from, months[i].from);
		assert_string_equal(to, months[i].to);
	}
	assert_int_equal(report_period(from, to, NULL, "2024"), 0);
	assert_string_equal(from, "2024-01-01");
	assert_string_equal(to, "2024-12-31");
	for (i = 0; i < sizeof bad_months / sizeof *bad_months; i++)
		assert_int_equal(report_period(from, to, bad_months[i], NULL), CUSTODY_EINVAL);
	for (i = 0; i < sizeof bad_years / sizeof *bad_years; i++)
		assert_int_equal(report_period(from, to, NULL, bad_years[i]), CUSTODY_EINVAL);
	assert_int_equal(report_period(from, to, NULL, NULL), CUSTODY_EINVAL);
	assert_int_equal(report_period(from, to, "2024-01", "2024"), CUSTODY_EINVAL);
}

/* How many times needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/*
 * The report's statements search the covering indexes: the civilians once, the non-civilians
 * once per status; none scans the whole table or sorts.
 */
static void
test_plan(void **state)
{
	struct fixture *f = *state;
	char *plan;

	assert_int_equal(report_plan(&plan, f->db, "documented"), 0);
	assert_int_equal(count(plan, "SEARCH victims USING COVERING INDEX victims_documented"
	    " (status=? AND documented>? AND documented<?)\n"), 2);
	assert_int_equal(count(plan, "SEARCH incidents USING PRIMARY KEY (tok=?)"), 1);
	assert_int_equal(count(plan, "SCAN victims"), 0);
	assert_int_equal(count(plan, "SCAN incidents"), 0);
	assert_int_equal(count(plan, "TEMP B-TREE"), 0);
	free(plan);

	assert_int_equal(report_plan(&plan, f->db, "death"), 0);
	assert_int_equal(count(plan, "SEARCH victims USING COVERING INDEX victims_death"
	    " (status=? AND death_from>? AND death_from<?)\n"), 2);
	assert_int_equal(count(plan, "victims_documented"), 0);
	assert_int_equal(count(plan, "SCAN victims"), 0);
	assert_int_equal(count(plan, "TEMP B-TREE"), 0);
	free(plan);
}

/* A report inside the caller's transaction sees its rows and leaves the transaction open. */
static void
test_in_transaction(void **state)
{
	struct fixture *f = *state;
	json_t *r;

	assert_int_equal(sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	put_victim(f->db, &dataset[0]);
	r = build(f, "2024-12-01", "2024-12-31", "documented", 5);
	assert_int_equal(json_integer_value(json_object_get(r, "victims")), 1);
	json_decref(r);
	assert_int_equal(sqlite3_get_autocommit(f->db), 0);
	assert_int_equal(sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	r = build(f, "2024-12-01", "2024-12-31", "documented", 5);
	assert_int_equal(json_integer_value(json_object_get(r, "victims")), 0);
	json_decref(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_month_documented, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_month_death, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_year_death, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_year_documented, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_massacres, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_percent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test(test_period),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_transaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
