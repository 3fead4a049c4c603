/* Victim queries over a real index: each filter alone and together, order, limits, refusals. */
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

/* What a query returned: victim ids (byte 0 of the token) joined by commas, and offices. */
struct got {
	char	ids[256];
	char	offices[256];
	int	n, stop_after, fail_with;
};

static int
collect(void *arg, const uint8_t tok[16], const char *office)
{
	struct got *g = arg;
	size_t len = strlen(g->ids);

	assert_int_equal(tok[15], 0x76);
	snprintf(g->ids + len, sizeof g->ids - len, "%s%d", g->n ? "," : "", tok[0]);
	len = strlen(g->offices);
	snprintf(g->offices + len, sizeof g->offices - len, "%s%s", g->n ? "," : "", office);
	g->n++;
	if (g->fail_with != 0)
		return g->fail_with;
	return g->stop_after != 0 && g->n >= g->stop_after;
}

/* The ids a filter finds, in order. */
static const char *
ids(struct fixture *f, const struct query_filter *q)
{
	static struct got g;
	int error;

	memset(&g, 0, sizeof g);
	if ((error = query_victims(f->db, q, collect, &g)) != 0)
		fail_msg("query_victims: %d %s", error, custody_error());
	return g.ids;
}

static const uint8_t incident1[16] = { 1, [15] = 0x69 };
static const uint8_t incident2[16] = { 2, [15] = 0x69 };
static const uint8_t incident3[16] = { 3, [15] = 0x69 };

/* Periods by either basis: every status, ordered by the basis date, then token. */
static void
test_periods(void **state)
{
	struct fixture *f = *state;
	struct query_filter q = { 0 };

	/* v3 and v4 share 2024-12-10: the token decides; the combatant v6 is there */
	assert_string_equal(ids(f, &q), "8,1,2,3,4,6,5,7");
	q.from = "2024-12-01";
	q.to = "2024-12-31";
	assert_string_equal(ids(f, &q), "1,2,3,4,6,5");
	q.basis = "documented";
	assert_string_equal(ids(f, &q), "1,2,3,4,6,5");
	q.to = NULL;
	q.from = "2024-12-10";
	assert_string_equal(ids(f, &q), "3,4,6,5,7");
	q.from = NULL;
	q.to = "2024-12-05";
	assert_string_equal(ids(f, &q), "8,1,2");
	q.from = q.to = "2024-12-10";
	assert_string_equal(ids(f, &q), "3,4");

	/* by death: v5 has no death date; v4's "2024" only fits a whole year */
	q.basis = "death";
	q.from = q.to = NULL;
	assert_string_equal(ids(f, &q), "4,3,1,2,6,8,7");
	q.from = "2024-12-01";
	q.to = "2024-12-31";
	assert_string_equal(ids(f, &q), "1,2,6,8,7");
	q.from = "2024-11-01";
	q.to = "2024-11-30";
	assert_string_equal(ids(f, &q), "3");
	q.from = "2024-11-02";
	assert_string_equal(ids(f, &q), "");
	q.from = "2024-01-01";
	q.to = "2024-12-31";
	assert_string_equal(ids(f, &q), "4,3,1,2,6,8,7");
	q.from = NULL;
	q.to = "2024-11-30";
	assert_string_equal(ids(f, &q), "3");
	q.from = "2024-12-01";
	q.to = NULL;
	assert_string_equal(ids(f, &q), "1,2,6,8,7");
}

/* Each filter alone; "unknown" party and governorate also find victims without one. */
static void
test_filters(void **state)
{
	struct fixture *f = *state;
	struct query_filter q = { 0 };

	q.party = "regime";
	assert_string_equal(ids(f, &q), "1,2,6,7");
	q.party = "unknown";
	assert_string_equal(ids(f, &q), "3");
	q.party = "sdf";
	assert_string_equal(ids(f, &q), "8");
	q.party = "nobody";
	assert_string_equal(ids(f, &q), "");
	/* values are bound, never pasted into the SQL */
	q.party = "x' OR 1=1 --";
	assert_string_equal(ids(f, &q), "");
	q.party = NULL;

	q.governorate = "idlib";
	assert_string_equal(ids(f, &q), "3,4");
	q.governorate = "unknown";
	assert_string_equal(ids(f, &q), "5");
	q.governorate = NULL;

	q.cause = "torture";
	assert_string_equal(ids(f, &q), "1,3,7");
	q.cause = NULL;

	q.category = "medical";
	assert_string_equal(ids(f, &q), "2,4");
	q.category = "civil_defense";
	assert_string_equal(ids(f, &q), "4");
	q.category = "media";
	assert_string_equal(ids(f, &q), "3");
	q.category = NULL;

	/* the girl of 10 is a child; the woman of unknown age group is neither */
	q.child = 1;
	assert_string_equal(ids(f, &q), "8,1,5");
	q.child = 0;
	q.woman = 1;
	assert_string_equal(ids(f, &q), "3,7");
	q.child = 1;
	assert_string_equal(ids(f, &q), "");
	q.child = q.woman = 0;

	q.incident = incident1;
	assert_string_equal(ids(f, &q), "1,2,3,4,6,5");
	q.basis = "death";
	assert_string_equal(ids(f, &q), "4,3,1,2,6");
	q.basis = NULL;
	q.incident = incident2;
	assert_string_equal(ids(f, &q), "7");
	q.incident = incident3;
	assert_string_equal(ids(f, &q), "");
}

/* Filters together narrow the result; the limit keeps the first ones. */
static void
test_combined(void **state)
{
	struct fixture *f = *state;
	struct query_filter q = { 0 };

	q.party = "regime";
	q.cause = "torture";
	assert_string_equal(ids(f, &q), "1,7");
	q.from = "2024-12-01";
	q.to = "2024-12-31";
	assert_string_equal(ids(f, &q), "1");
	q.basis = "death";
	assert_string_equal(ids(f, &q), "1,7");
	q.party = q.cause = NULL;
	q.child = 1;
	assert_string_equal(ids(f, &q), "1,8");
	q.child = 0;
	q.incident = incident1;
	q.governorate = "aleppo";
	assert_string_equal(ids(f, &q), "1,2,6");

	memset(&q, 0, sizeof q);
	q.limit = 3;
	assert_string_equal(ids(f, &q), "8,1,2");
	q.basis = "death";
	assert_string_equal(ids(f, &q), "4,3,1");
	q.limit = 100;
	assert_string_equal(ids(f, &q), "4,3,1,2,6,8,7");
}

/* Offices come back with the tokens; the callback can stop the walk or fail it. */
static void
test_callback(void **state)
{
	struct fixture *f = *state;
	struct query_filter q = { 0 };
	struct got g;

	memset(&g, 0, sizeof g);
	q.party = "regime";
	assert_int_equal(query_victims(f->db, &q, collect, &g), 0);
	assert_string_equal(g.offices, "office-a,office-a,office-a,office-b");

	memset(&g, 0, sizeof g);
	g.stop_after = 2;
	assert_int_equal(query_victims(f->db, &q, collect, &g), 0);
	assert_string_equal(g.ids, "1,2");

	memset(&g, 0, sizeof g);
	g.fail_with = CUSTODY_EIO;
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EIO);
	assert_int_equal(g.n, 1);
}

/* Bad dates, periods, bases and categories are refused before any row is read. */
static void
test_bad_filters(void **state)
{
	struct fixture *f = *state;
	struct query_filter q;
	struct got g;
	char *plan = (char *)1;

	memset(&g, 0, sizeof g);
	memset(&q, 0, sizeof q);
	q.from = "2024-02-30";
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EINVAL);
	q.from = NULL;
	q.to = "yesterday";
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EINVAL);
	q.from = "2024-12-02";
	q.to = "2024-12-01";
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "before"));
	memset(&q, 0, sizeof q);
	q.basis = "dead";
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EINVAL);
	q.basis = NULL;
	q.category = "doctor";
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EINVAL);
	assert_int_equal(query_plan(&plan, f->db, &q), CUSTODY_EINVAL);
	assert_null(plan);
	q.category = "";
	assert_int_equal(query_victims(f->db, &q, collect, &g), CUSTODY_EINVAL);
	assert_int_equal(g.n, 0);
}

/*
 * The victims are chosen in the basis index (covering: every filter is one of its columns),
 * per status, or by the incident index; only the chosen ones are read from the table.
 */
static void
test_plan(void **state)
{
	struct fixture *f = *state;
	struct query_filter q = { 0 };
	char *plan;

	q.party = "regime";
	q.cause = "torture";
	q.category = "media";
	q.child = q.woman = 1;
	assert_int_equal(query_plan(&plan, f->db, &q), 0);
	assert_non_null(strstr(plan, "SEARCH victims USING COVERING INDEX victims_"));
	assert_non_null(strstr(plan, "SEARCH victims USING PRIMARY KEY (tok=?)"));
	assert_null(strstr(plan, "SCAN victims"));
	free(plan);
	q.from = "2024-12-01";
	q.to = "2024-12-31";
	assert_int_equal(query_plan(&plan, f->db, &q), 0);
	assert_non_null(strstr(plan, "SEARCH victims USING COVERING INDEX victims_documented"
	    " (status=? AND documented>? AND documented<?)"));
	assert_non_null(strstr(plan, "SEARCH victims USING PRIMARY KEY (tok=?)"));
	assert_null(strstr(plan, "SCAN victims"));
	free(plan);
	q.basis = "death";
	assert_int_equal(query_plan(&plan, f->db, &q), 0);
	assert_non_null(strstr(plan, "SEARCH victims USING COVERING INDEX victims_death"
	    " (status=? AND death_from>? AND death_from<?)"));
	assert_null(strstr(plan, "SCAN victims"));
	free(plan);
	q.incident = incident1;
	assert_int_equal(query_plan(&plan, f->db, &q), 0);
	assert_non_null(strstr(plan, "SEARCH victims USING INDEX victims_incident (incident=?)"));
	assert_null(strstr(plan, "SCAN victims"));
	free(plan);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_periods, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_combined, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_callback, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_bad_filters, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
