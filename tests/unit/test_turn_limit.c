/*
 * The bounds of what a dialler serves in the other office's turn (daemon/service/sync-turn-limit.c):
 * a blob range at most twice, many distinct ranges freely, a bounded number of requests, and a
 * turn that ran out of time refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync-turn-limit.h"

/* Ask once for blob number i (a name of 64 hex digits) at offset. */
static int
ask_blob(struct turn_limit *l, unsigned i, uint64_t offset)
{
	Custody__BlobRequest br = CUSTODY__BLOB_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	char name[SHA256_HEX_LEN + 1];

	snprintf(name, sizeof name, "%064x", i);
	br.name = name;
	br.offset = offset;
	env.body_case = CUSTODY__ENVELOPE__BODY_BLOB_REQUEST;
	env.blob_request = &br;
	return turn_limit_check(l, &env, 0);
}

static void
same_range_twice(void **state)
{
	struct turn_limit l;

	turn_limit_init(&l, 0);
	assert_int_equal(ask_blob(&l, 7, 0), 0);
	assert_int_equal(ask_blob(&l, 7, 0), 0);
	assert_int_equal(ask_blob(&l, 7, 1 << 20), 0);	/* another range of it */
	assert_int_equal(ask_blob(&l, 8, 0), 0);	/* another blob */
	assert_int_equal(ask_blob(&l, 7, 0), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "more than 2 times"));
	turn_limit_free(&l);
}

static void
many_ranges(void **state)
{
	struct turn_limit l;
	unsigned i;

	turn_limit_init(&l, 0);
	for (i = 0; i < 5000; i++)	/* the table grows and keeps every count */
		assert_int_equal(ask_blob(&l, i, (uint64_t)i << 20), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(ask_blob(&l, i, (uint64_t)i << 20), 0);
	assert_int_equal(ask_blob(&l, 4321, 4321ull << 20), CUSTODY_ETOOBIG);
	turn_limit_free(&l);
}

static void
requests_bounded(void **state)
{
	Custody__FeedsRequest fr = CUSTODY__FEEDS_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct turn_limit l;
	unsigned i;

	env.body_case = CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST;
	env.feeds_request = &fr;
	turn_limit_init(&l, 0);
	for (i = 0; i < TURN_REQUESTS_MAX; i++)
		assert_int_equal(turn_limit_check(&l, &env, 0), 0);
	assert_int_equal(turn_limit_check(&l, &env, 0), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "asked more than"));
	turn_limit_free(&l);
}

static void
time_bounded(void **state)
{
	Custody__FeedsRequest fr = CUSTODY__FEEDS_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct turn_limit l;

	env.body_case = CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST;
	env.feeds_request = &fr;
	turn_limit_init(&l, 1000);	/* a slow link: its bytes' time counts at 1000 B/s */
	l.start.tv_sec -= TURN_TIME_BASE + 100;	/* the turn began long ago */
	assert_int_equal(turn_limit_check(&l, &env, 200 * 1000), 0);	/* 200 s of bytes */
	assert_int_equal(turn_limit_check(&l, &env, 50 * 1000), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "seconds"));
	turn_limit_init(&l, 100u << 20);	/* a fast link: counted at TURN_RATE_MAX */
	l.start.tv_sec -= TURN_TIME_BASE + 100;
	assert_int_equal(turn_limit_check(&l, &env, 200ull * TURN_RATE_MAX), 0);
	assert_int_equal(turn_limit_check(&l, &env, 50ull * TURN_RATE_MAX), CUSTODY_ETOOBIG);
	turn_limit_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_range_twice),
		cmocka_unit_test(many_ranges),
		cmocka_unit_test(requests_bounded),
		cmocka_unit_test(time_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
