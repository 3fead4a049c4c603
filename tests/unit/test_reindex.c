/*
 * custodyd reindex drops the secondary indexes and the counting triggers, loads every row and
 * makes them again with the counts. A rebuild cut short (a crash between the two) must not
 * leave counts behind the rows: the next open counts again and makes the triggers.
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
#include "archive-fixture.h"
#include "index-int.h"

static void
put(struct archive_fixture *f, const char *id)
{
	struct feed_commit c;
	json_t *doc = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", id, "title", "t");

	assert_int_equal(feed_append(f->a, &c, "put", &doc, 1), 0);
	assert_int_equal(index_apply_commit(f->a, &c, &doc, 1), 0);
	json_decref(doc);
}

/* Rows of sqlite_master of type (index or trigger) that index_schema makes. */
static int
schema_rows(struct archive_fixture *f, const char *type)
{
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(archive_db(f->a), "SELECT count(*) FROM sqlite_master"
	    " WHERE type=? AND name NOT LIKE 'sqlite_%'", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
test_rebuild_keeps_schema_and_counts(void **state)
{
	struct archive_fixture *f = *state;
	uint64_t ev, rec, commits;
	int indexes = schema_rows(f, "index"), triggers = schema_rows(f, "trigger");

	put(f, "inc-1");
	put(f, "inc-2");
	put(f, "inc-1");
	assert_true(indexes > 0 && triggers > 0);
	assert_int_equal(index_catch_up(f->a, 1), 0);
	assert_int_equal(schema_rows(f, "index"), indexes);
	assert_int_equal(schema_rows(f, "trigger"), triggers);
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 2);
	assert_int_equal(commits, 3);
	/* the triggers count again after the rebuild */
	put(f, "inc-3");
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 3);
}

static void
test_rebuild_cut_short(void **state)
{
	struct archive_fixture *f = *state;
	uint64_t ev, rec, commits;
	int indexes = schema_rows(f, "index");

	put(f, "inc-1");
	put(f, "inc-2");
	/* what a rebuild leaves when it stops after loading: no triggers, counts at zero */
	assert_int_equal(sqlite3_exec(archive_db(f->a), index_secondary_drop, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(archive_db(f->a), "UPDATE counts SET n=0", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(index_open(f->a, &(char *){ NULL }), 0);
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 2);
	assert_int_equal(schema_rows(f, "index"), indexes);
	put(f, "inc-3");
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rebuild_keeps_schema_and_counts,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_cut_short,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
