/*
 * The external sort (runtime/runsort.c): items come back in order, each once, whether they
 * stayed in memory or went through runs in a scratch file, as many times as they are read;
 * memory never holds more than a run; nothing is added after the sort.
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

#include "custody/runsort.h"

struct item {
	uint32_t	key;
	uint32_t	seq;
};

static int
item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* n items with keys from a multiplicative permutation (repeats when mod < n). */
static void
sort_and_check(int fd, size_t n, size_t run, uint32_t mod)
{
	struct runsort *rs;
	struct item it, last = { 0, 0 };
	const void *p;
	size_t i, count, pass;
	int c;

	assert_int_equal(runsort_new(&rs, sizeof it, run, item_cmp, fd), 0);
	for (i = 0; i < n; i++) {
		it.key = (uint32_t)((i * 2654435761u) % mod);
		it.seq = (uint32_t)i;
		assert_int_equal(runsort_add(rs, &it), 0);
		if (fd >= 0)
			assert_true(runsort_held(rs) <= run);
	}
	assert_int_equal(runsort_sort(rs), 0);
	assert_int_equal(runsort_count(rs), n);
	if (fd >= 0 && n > run)
		assert_int_equal(runsort_runs(rs), (n + run - 1) / run);
	else
		assert_int_equal(runsort_runs(rs), 0);
	assert_int_equal(runsort_add(rs, &it), CUSTODY_EINVAL);
	for (pass = 0; pass < 3; pass++) {
		assert_int_equal(runsort_rewind(rs), 0);
		count = 0;
		while ((c = runsort_next(rs, &p)) == 0) {
			memcpy(&it, p, sizeof it);
			if (count > 0)
				assert_true(item_cmp(&last, &it) < 0);
			last = it;
			count++;
		}
		assert_int_equal(c, 1);
		assert_int_equal(count, n);
	}
	runsort_free(rs);
}

static int
scratch(void)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	return fd;
}

static void
test_runsort_memory(void **state)
{
	(void)state;
	sort_and_check(-1, 0, 16, 7);
	sort_and_check(-1, 5000, 16, 1000);	/* no scratch file: one run, however many */
}

static void
test_runsort_runs(void **state)
{
	(void)state;
	sort_and_check(scratch(), 10, 16, 7);		/* fewer than a run: memory only */
	sort_and_check(scratch(), 16, 16, 100);		/* exactly a run */
	sort_and_check(scratch(), 17, 16, 100);		/* a run and one */
	sort_and_check(scratch(), 100000, 3000, 25000);	/* 34 runs, pieces of each, repeats */
	sort_and_check(scratch(), 5000, 1, 5000);	/* a run of one item each */
}

/* A scratch file cut short is an error, not a short read taken for the end. */
static void
test_runsort_cut(void **state)
{
	struct runsort *rs;
	struct item it = { 0, 0 };
	const void *p;
	size_t i;
	int fd = scratch(), c = 0;

	(void)state;
	assert_int_equal(runsort_new(&rs, sizeof it, 3000, item_cmp, fd), 0);
	for (i = 0; i < 5000; i++) {
		it.key = (uint32_t)(5000 - i);
		assert_int_equal(runsort_add(rs, &it), 0);
	}
	assert_int_equal(runsort_sort(rs), 0);
	assert_int_equal(ftruncate(fd, 4500 * sizeof it), 0);	/* in the second run */
	assert_int_equal(runsort_rewind(rs), 0);
	for (i = 0; i < 6000 && (c = runsort_next(rs, &p)) == 0; i++)
		;
	assert_int_equal(c, CUSTODY_EIO);
	runsort_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runsort_memory),
		cmocka_unit_test(test_runsort_runs),
		cmocka_unit_test(test_runsort_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
