/*
 * Growing a buffer leaves no copy of its bytes in freed memory: cbuf_reserve and bytes_grow
 * wipe the old block before freeing it. The test watches free() (this file defines it and hands
 * over to glibc's __libc_free) and looks at the old block as it is freed. Under
 * AddressSanitizer, which owns free(), it is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/common.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

#define SECRET "the-source-lives-by-the-mill"

static const void *watched;	/* the block whose freeing is looked at */
static size_t watched_len;
static int watched_freed, watched_had_secret;

#ifndef ASAN
void __libc_free(void *);

/* free(), looking at the watched block before it goes. */
void
free(void *p)
{
	if (p != NULL && p == watched) {
		watched_freed = 1;
		watched_had_secret = memmem(p, watched_len, SECRET, strlen(SECRET)) != NULL;
		watched = NULL;
	}
	__libc_free(p);
}
#endif

static void
watch(const void *p, size_t n)
{
	watched = p;
	watched_len = n;
	watched_freed = watched_had_secret = 0;
}

/* A cbuf holding a secret grows: the secret moves, the old block is freed wiped. */
static void
test_cbuf_growth_wipes(void **state)
{
	struct cbuf b = { 0 };
	const void *old;
	int i;

	(void)state;
#ifdef ASAN
	skip();
#endif
	assert_int_equal(cbuf_puts(&b, SECRET), 0);
	for (i = 0; i < 8; i++) {
		old = b.data;
		watch(old, b.cap);
		assert_int_equal(cbuf_reserve(&b, b.cap * 2), 0);
		assert_ptr_not_equal(b.data, old);
		assert_true(watched_freed);
		assert_false(watched_had_secret);
		assert_memory_equal(b.data, SECRET, strlen(SECRET));
	}
	watch(NULL, 0);
	cbuf_free(&b);
}

/* bytes_grow keeps the bytes, wipes and frees the old block, and grows from NULL. */
static void
test_bytes_grow(void **state)
{
	char *p = NULL;
	const void *old;

	(void)state;
#ifdef ASAN
	skip();
#endif
	assert_int_equal(bytes_grow((void **)&p, 0, sizeof SECRET), 0);
	memcpy(p, SECRET, sizeof SECRET);
	old = p;
	watch(old, sizeof SECRET);
	assert_int_equal(bytes_grow((void **)&p, sizeof SECRET, 4096), 0);
	assert_true(watched_freed);
	assert_false(watched_had_secret);
	assert_string_equal(p, SECRET);
	watch(NULL, 0);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbuf_growth_wipes),
		cmocka_unit_test(test_bytes_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
