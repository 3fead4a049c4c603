/*
 * The end of a recovery (recover_settle): the "recovering" mark goes only once the office holds
 * its own feed at least as far as other offices witnessed it; until then it writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "archive-fixture.h"

#define OTHER "1111111111111111111111111111111111111111111111111111111111111111"

/* Mark the archive as being recovered, as custodyd recover leaves it. */
static void
mark(struct archive_fixture *f)
{
	char *file = archive_file(f->a, "recovering");
	FILE *fp = fopen(file, "w");

	assert_non_null(fp);
	fputs("recovering\n", fp);
	fclose(fp);
	free(file);
}

static int
marked(struct archive_fixture *f)
{
	char *file = archive_file(f->a, "recovering");
	int r = access(file, F_OK) == 0;

	free(file);
	return r;
}

/* Write one incident record; returns the error of the write. */
static int
write_one(struct archive_fixture *f, const char *id, struct feed_commit *out)
{
	json_t *doc = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", id, "title", id);
	int error;

	error = feed_append(f->a, out, "add", &doc, 1);
	if (error == 0)
		assert_int_equal(index_apply_commit(f->a, out, &doc, 1), 0);
	json_decref(doc);
	return error;
}

/* A witness record of this office's feed at seq, by office witness, as the index holds it. */
static void
witnessed(struct archive_fixture *f, const char *witness, int64_t seq)
{
	sqlite3 *db = archive_db(f->a);

	assert_int_equal(index_exec(db, "INSERT OR IGNORE INTO offices(key) VALUES(?), (?)",
	    "tt", f->a->office_hex, witness), 0);
	assert_int_equal(index_exec(db, "INSERT INTO witnesses VALUES(" INDEX_OFFICE_ID ",?,"
	    INDEX_OFFICE_ID ",?)", "titt", f->a->office_hex, seq, witness,
	    "2026-01-01T00:00:00Z"), 0);
}

/* A peer that holds none of the office's feed: still recovering, and nothing is written. */
static void
test_settle_no_feed(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_commit c;
	uint64_t seq, lamport;
	git_oid head;
	char *why = NULL;

	mark(f);
	assert_int_equal(recover_settle(f->a, "hq", &why), 0);
	assert_non_null(why);
	assert_non_null(strstr(why, "still recovering: hq holds none of this office's own feed"));
	free(why);
	assert_true(marked(f));
	assert_int_equal(write_one(f, "inc-1", &c), CUSTODY_EPERM);
	assert_int_equal(feed_head(f->a, f->a->office_hex, &head, &seq, &lamport),
	    CUSTODY_ENOTFOUND);
}

/*
 * The feed is back, but only up to commit 2 of the 5 another office witnessed: still
 * recovering. Once it holds what was witnessed, the mark goes and the feed goes on at seq 3.
 * The office's own witness claims about its feed count for nothing here.
 */
static void
test_settle_behind(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_commit c;
	char *why = NULL;

	assert_int_equal(write_one(f, "inc-1", &c), 0);
	assert_int_equal(write_one(f, "inc-2", &c), 0);
	assert_int_equal(c.seq, 2);
	witnessed(f, OTHER, 1);
	witnessed(f, OTHER, 5);
	witnessed(f, f->a->office_hex, 9);
	mark(f);
	assert_int_equal(recover_settle(f->a, "hq", &why), 0);
	assert_non_null(why);
	assert_non_null(strstr(why, "back up to its commit 2, but other offices witnessed it up "
	    "to 5"));
	free(why);
	why = NULL;
	assert_true(marked(f));
	assert_int_equal(write_one(f, "inc-3", &c), CUSTODY_EPERM);

	assert_int_equal(index_exec(archive_db(f->a), "DELETE FROM witnesses WHERE seq=5", ""), 0);
	witnessed(f, OTHER, 2);
	assert_int_equal(recover_settle(f->a, "hq", &why), 0);
	assert_null(why);
	assert_false(marked(f));
	assert_int_equal(write_one(f, "inc-3", &c), 0);
	assert_int_equal(c.seq, 3);
}

/* Not recovering: nothing to say, nothing changes. */
static void
test_settle_not_pending(void **state)
{
	struct archive_fixture *f = *state;
	char *why = NULL;

	witnessed(f, OTHER, 5);
	assert_int_equal(recover_settle(f->a, "hq", &why), 0);
	assert_null(why);
	assert_false(marked(f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_settle_no_feed, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_settle_behind, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_settle_not_pending, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
