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

struct fixture {
	char		 dir[256];
	char		 path[300];
	struct archive	*a;
	sqlite3		*db;
};

/*
 * One victim row, filled as the indexer fills it: child = 1 iff age < 18 (or, without an age,
 * age group child); woman = 1 iff female, adult and not a child. age -1 is unknown.
 */
struct vrow {
	int		 id;		/* token: id in byte 0 */
	const char	*documented, *death, *death_from, *death_to;
	const char	*sex;
	int		 age;
	const char	*age_group, *status;
	int		 categories;	/* 1 medical, 2 civil_defense, 4 media */
	const char	*governorate, *party, *cause;
	int		 incident;	/* 0 none, else the token's byte 0 */
};

static void
put_victim(sqlite3 *db, const struct vrow *v)
{
	uint8_t tok[16] = { 0 }, inc[16] = { 0 };
	sqlite3_stmt *st;
	int child, woman;

	child = v->age >= 0 ? v->age < 18 : strcmp(v->age_group, "child") == 0;
	woman = strcmp(v->sex, "female") == 0 && strcmp(v->age_group, "adult") == 0 && !child;
	tok[0] = (uint8_t)v->id;
	tok[15] = 0x76;
	inc[0] = (uint8_t)v->incident;
	inc[15] = 0x69;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO victims(tok, office, lamport,"
	    " documented, death, death_from, death_to, sex, age, age_group, status, child, woman,"
	    " categories, governorate, party, cause, incident) VALUES(?1,?17,1,?2,?3,?4,?5,?6,?7,"
	    "?8,?9,?10,?11,?12,?13,?14,?15,?16)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, tok, 16, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 17, v->id == 7 ? "office-b" : "office-a", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->documented, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->death, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, v->death_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, v->death_to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, v->sex, -1, SQLITE_STATIC);
	if (v->age >= 0)
		sqlite3_bind_int(st, 7, v->age);
	sqlite3_bind_text(st, 8, v->age_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, v->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, child);
	sqlite3_bind_int(st, 11, woman);
	sqlite3_bind_int(st, 12, v->categories);
	sqlite3_bind_text(st, 13, v->governorate, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, v->party, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, v->cause, -1, SQLITE_STATIC);
	if (v->incident)
		sqlite3_bind_blob(st, 16, inc, 16, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void
put_incident(sqlite3 *db, int id, const char *party)
{
	uint8_t inc[16] = { 0 };
	sqlite3_stmt *st;

	inc[0] = (uint8_t)id;
	inc[15] = 0x69;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO incidents(tok, office, lamport,"
	    " date, governorate, party, type) VALUES(?, 'office-a', 1, '2024-12-01', 'aleppo', ?,"
	    " 'shelling')", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, inc, 16, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, party, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/*
 * The main dataset. Incident 1 belongs to party regime; incident 2 is not in the incidents
 * table. v6 is a combatant; v7 is documented in 2025, v8 in November.
 */
static const struct vrow dataset[] = {
	/* a girl of 10: a child, not a woman */
	{ 1, "2024-12-03", "2024-12-01", "2024-12-01", "2024-12-01", "female", 10, "child",
	    "civilian", 0, "aleppo", "regime", "torture", 1 },
	/* a woman whose age group is unknown: neither child nor woman */
	{ 2, "2024-12-05", "2024-12-02", "2024-12-02", "2024-12-02", "female", -1, "unknown",
	    "civilian", 1, "aleppo", "regime", "shelling", 1 },
	/* an adult woman, no party, died in November (month precision) */
	{ 3, "2024-12-10", "2024-11", "2024-11-01", "2024-11-30", "female", 30, "adult",
	    "civilian", 4, "idlib", NULL, "torture", 1 },
	/* a man known to have died in 2024 only, medical and civil defence */
	{ 4, "2024-12-10", "2024", "2024-01-01", "2024-12-31", "male", 40, "adult",
	    "civilian", 3, "idlib", "russia", "airstrike", 1 },
	/* a boy of group child without an age, no death date, no governorate */
	{ 5, "2024-12-31", NULL, NULL, NULL, "male", -1, "child", "civilian", 0, NULL,
	    "russia", NULL, 1 },
	/* a combatant: excluded, and not counted towards incident 1's massacre */
	{ 6, "2024-12-15", "2024-12-14", "2024-12-14", "2024-12-14", "male", 25, "adult",
	    "combatant", 0, "aleppo", "regime", "shooting", 1 },
	/* died in December, documented in January 2025 */
	{ 7, "2025-01-02", "2024-12-30", "2024-12-30", "2024-12-30", "female", 25, "adult",
	    "civilian", 0, "damascus", "regime", "torture", 2 },
	/* a boy of 17 documented on the last day of November, died in December */
	{ 8, "2024-11-30", "2024-12-20", "2024-12-20", "2024-12-20", "male", 17, "child",
	    "civilian", 0, "aleppo", "sdf", "shooting", 0 },
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/custody-query.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/arch", f->dir);
	assert_int_equal(archive_create(f->path, "test", NULL, &cause), 0);
	assert_int_equal(archive_open(&f->a, f->path, NULL, 0, &cause), 0);
	assert_int_equal(index_open(f->a, &cause), 0);
	assert_non_null(f->db = archive_db(f->a));
	*state = f;
	return 0;
}

static int
setup_dataset(void **state)
{
	struct fixture *f;
	size_t i;

	setup(state);
	f = *state;
	for (i = 0; i < sizeof dataset / sizeof *dataset; i++)
		put_victim(f->db, &dataset[i]);
	put_incident(f->db, 1, "regime");
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[400];

	archive_close(f->a);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

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
