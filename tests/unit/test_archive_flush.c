/*
 * The flusher (archive-flush.c): a sync every ARCHIVE_FLUSH_STEP bytes placed and one more on
 * a kick, on a thread of its own; the first error a sync met given back by stop, every time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "archive-fixture.h"

static int flush_fail;		/* the stand-in sync fails */

static int
flush_sync(struct archive *a)
{
	(void)a;
	usleep(20000);		/* a sync takes its time: notes arrive meanwhile */
	if (flush_fail)
		return custody_fail(CUSTODY_EIO, "cannot sync the archive: Input/output error");
	return 0;
}

/* Wait (5 s at most) until f has begun at least n syncs. */
static void
flush_wait(struct archive_flusher *f, unsigned n)
{
	int i;

	for (i = 0; i < 500 && archive_flusher_syncs(f) < n; i++)
		usleep(10000);
	assert_true(archive_flusher_syncs(f) >= n);
}

static void
test_steps(void **state)
{
	struct archive_flusher *f;
	unsigned n;

	(void)state;
	flush_fail = 0;
	assert_int_equal(archive_flusher_new(&f, NULL, flush_sync), 0);
	/* below a step: no sync, not even on a kick (no thread yet: the commit point does it) */
	archive_flusher_note(f, ARCHIVE_FLUSH_STEP - 1);
	archive_flusher_kick(f);
	usleep(50000);
	assert_int_equal(archive_flusher_syncs(f), 0);
	/* a step: a sync begins */
	archive_flusher_note(f, 1);
	flush_wait(f, 1);
	/* what came during the sync makes the next one, once it is a step */
	archive_flusher_note(f, ARCHIVE_FLUSH_STEP / 2);
	archive_flusher_note(f, ARCHIVE_FLUSH_STEP / 2);
	flush_wait(f, 2);
	/* a kick with bytes waiting: one more, whatever their number */
	usleep(50000);
	n = archive_flusher_syncs(f);
	archive_flusher_note(f, 4096);
	usleep(50000);
	assert_int_equal(archive_flusher_syncs(f), n);
	archive_flusher_kick(f);
	flush_wait(f, n + 1);
	assert_int_equal(archive_flusher_stop(f), 0);
	/* stopped: notes start nothing */
	n = archive_flusher_syncs(f);
	archive_flusher_note(f, 4 * (uint64_t)ARCHIVE_FLUSH_STEP);
	usleep(50000);
	assert_int_equal(archive_flusher_syncs(f), n);
	archive_flusher_free(f);
}

static void
test_error(void **state)
{
	struct archive_flusher *f;

	(void)state;
	flush_fail = 1;
	assert_int_equal(archive_flusher_new(&f, NULL, flush_sync), 0);
	archive_flusher_note(f, ARCHIVE_FLUSH_STEP);
	flush_wait(f, 1);
	/* the error of a sync, given to whoever stops it, every time */
	assert_int_equal(archive_flusher_stop(f), CUSTODY_EIO);
	assert_non_null(strstr(custody_error(), "Input/output error"));
	assert_int_equal(archive_flusher_stop(f), CUSTODY_EIO);
	archive_flusher_free(f);
	flush_fail = 0;
}

/* The real thing: archive_sync of an archive's file system. */
static void
test_archive(void **state)
{
	struct archive_fixture *fx = *state;
	struct archive_flusher *f;

	assert_int_equal(archive_flusher_new(&f, fx->a, NULL), 0);
	archive_flusher_note(f, 2 * (uint64_t)ARCHIVE_FLUSH_STEP);
	flush_wait(f, 1);
	assert_int_equal(archive_flusher_stop(f), 0);
	archive_flusher_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_error),
		cmocka_unit_test_setup_teardown(test_archive, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
