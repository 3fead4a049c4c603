/*
 * Strings seen before in bounded memory (runtime/seen.c): a repeat is always a suspect, the
 * second look names exactly the repeats with their first positions whatever the filter's
 * false alarms, and a million distinct ids fit the filter given to them, with hardly any
 * false alarm, without memory growing past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "custody/seen.h"

#define LOOKS 2000
#define DISTINCT 1700	/* positions past it repeat the string DISTINCT positions before */

/* The string at position p (from 1) and its length. */
static size_t
at(char *buf, size_t size, unsigned p)
{
	unsigned k = (p - 1) % DISTINCT;

	if (p == LOOKS)
		k = 7;		/* a third time */
	return (size_t)snprintf(buf, size, "id-%u", k);
}

/* The position a repeat at p first appeared at, or 0 for a first appearance. */
static unsigned
first_of(unsigned p)
{
	if (p == LOOKS)
		return 8;
	return p > DISTINCT ? (p - 1) % DISTINCT + 1 : 0;
}

/* A filter of one block: nearly every string is a false alarm, and still only repeats count. */
static void
test_seen_repeats(void **state)
{
	struct seen *t;
	char buf[32];
	unsigned p, k, alarms = 0, kept = 0;
	unsigned char suspect[DISTINCT] = { 0 };
	size_t n;
	int r, look;

	assert_int_equal(seen_new(&t, 64), 0);
	for (p = 1; p <= LOOKS; p++) {
		n = at(buf, sizeof buf, p);
		assert_true((r = seen_note(t, buf, n)) >= 0);
		if (first_of(p) != 0)
			assert_int_equal(r, 1);		/* a repeat is never "new" */
		alarms += r == 1 && first_of(p) == 0;
		sscanf(buf, "id-%u", &k);
		suspect[k] |= r == 1;
	}
	assert_true(alarms > 100);	/* the filter was too small: the second look must cope */
	for (k = 0; k < DISTINCT; k++)
		kept += suspect[k];
	assert_int_equal(seen_suspects(t), kept);	/* each suspect kept once */
	for (look = 0; look < 2; look++)	/* and answers the same when asked again */
		for (p = 1; p <= LOOKS; p++) {
			n = at(buf, sizeof buf, p);
			assert_int_equal(seen_first(t, buf, n, p), first_of(p));
		}
	/* a string is its bytes: a prefix is another string, and so is one unseen */
	assert_int_equal(seen_first(t, "id-1", 3, LOOKS + 1), 0);
	assert_int_equal(seen_first(t, "never", 5, LOOKS + 2), 0);
	seen_free(t);
}

/* 1,000,000 distinct ids in 8 MiB: next to no suspects, memory the filter's, repeats found. */
static void
test_seen_bounded(void **state)
{
	struct seen *t;
	char buf[32];
	unsigned i, again = 0;
	size_t n, before;

	assert_int_equal(seen_new(&t, 8u << 20), 0);
	before = seen_bytes(t);
	assert_true(before >= 8u << 20 && before < (8u << 20) + 4096);
	for (i = 0; i < 1000000; i++) {
		n = (size_t)snprintf(buf, sizeof buf, "V%07u", i);
		assert_true(seen_note(t, buf, n) >= 0);
	}
	/* about 0.1 expected at 67 bits an id: 20 would be a filter far worse than its design */
	assert_true(seen_suspects(t) <= 20);
	assert_true(seen_bytes(t) <= before + 64 * 1024);
	for (i = 0; i < 1000000; i += 1000) {
		n = (size_t)snprintf(buf, sizeof buf, "V%07u", i);
		again += seen_note(t, buf, n) == 1;
	}
	assert_int_equal(again, 1000);
	assert_true(seen_suspects(t) >= 1000);
	seen_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seen_repeats),
		cmocka_unit_test(test_seen_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
