/*
 * Records given as rows of byte strings under a header (an import as the socket carries it):
 * the same record as from CSV fields, and every bad header or row a problem of its column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/records.h"

static const char *const cols[] = { "id", "name", "date_documented", "age" };

/* Check a header of n names given as C strings. */
static int
header(char ***out, struct record_problems *probs, const char *const *names, size_t n)
{
	size_t lens[8], i;

	for (i = 0; i < n; i++)
		lens[i] = strlen(names[i]);
	return record_row_header(out, probs, "victim", (const uint8_t *const *)names, lens, n);
}

/* The record of a row of n values (lens[i] bytes each; -1: strlen). */
static int
row(json_t **out, struct record_problems *probs, const struct vocab *v, char **c,
    const char *const *vals, const long *lens, size_t n)
{
	size_t l[8], i;

	for (i = 0; i < n; i++)
		l[i] = lens != NULL && lens[i] >= 0 ? (size_t)lens[i] : strlen(vals[i]);
	return record_from_row(out, probs, v, "victim", (const char *const *)c, 4,
	    (const uint8_t *const *)vals, l, n);
}

static void
test_row_matches_fields(void **state)
{
	struct record_problems probs = { 0 };
	const char *vals[] = { "V1", "Ali Hasan", "2023-01-02", "7" };
	json_t *a = NULL, *b = NULL;
	char **c = NULL;
	struct vocab v;

	(void)state;
	assert_int_equal(vocab_default(&v), 0);
	assert_int_equal(header(&c, &probs, cols, 4), 0);
	assert_int_equal(row(&a, &probs, &v, c, vals, NULL, 4), 0);
	assert_int_equal(record_from_fields(&b, &probs, &v, "victim", cols, vals, 4), 0);
	assert_int_equal(probs.n, 0);
	assert_true(json_equal(a, b));
	assert_string_equal(json_string_value(json_object_get(a, "age_group")), "child");
	json_decref(a);
	json_decref(b);
	record_row_header_free(c);
	vocab_free(&v);
}

static void
test_row_problems(void **state)
{
	struct record_problems probs = { 0 };
	const char *nul[] = { "V1", "Ali\0Hasan", "2023-01-02", "7" };
	const long nul_lens[] = { -1, 9, -1, -1 };
	const char *utf8[] = { "V1", "Ali \xff", "2023-01-02", "7" };
	const char *few[] = { "V1", "Ali" };
	char *big, **c = NULL;
	const char *huge[] = { "V1", NULL, "2023-01-02", "7" };
	json_t *rec = NULL;
	struct vocab v;

	(void)state;
	assert_int_equal(vocab_default(&v), 0);
	assert_int_equal(header(&c, &probs, cols, 4), 0);
	assert_int_equal(row(&rec, &probs, &v, c, nul, nul_lens, 4), CUSTODY_EINVAL);
	assert_null(rec);
	assert_int_equal(probs.n, 1);
	assert_string_equal(probs.v[0].column, "name");
	assert_string_equal(probs.v[0].problem, "holds a NUL byte");
	record_problems_free(&probs);
	assert_int_equal(row(&rec, &probs, &v, c, utf8, NULL, 4), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "name");
	assert_string_equal(probs.v[0].problem, "invalid UTF-8 at byte 5");
	record_problems_free(&probs);
	assert_int_equal(row(&rec, &probs, &v, c, few, NULL, 2), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "row");
	assert_string_equal(probs.v[0].problem, "2 fields where the header has 4");
	record_problems_free(&probs);
	assert_non_null(big = malloc(70000));
	memset(big, 'a', 70000);
	huge[1] = big;
	{
		const long lens[] = { -1, 70000, -1, -1 };

		assert_int_equal(row(&rec, &probs, &v, c, huge, lens, 4), CUSTODY_EINVAL);
	}
	assert_string_equal(probs.v[0].column, "name");
	assert_string_equal(probs.v[0].problem, "longer than 65536 bytes");
	record_problems_free(&probs);
	free(big);
	record_row_header_free(c);
	vocab_free(&v);
}

static void
test_header_problems(void **state)
{
	struct record_problems probs = { 0 };
	const char *unknown[] = { "id", "colour", "date_documented" };
	const char *twice[] = { "date_documented", "name", "name" };
	const char *missing[] = { "id", "name" };
	const char *nul[] = { "name\0x", "date_documented" };
	size_t lens[] = { 6, 15 };
	char **c = NULL;

	(void)state;
	assert_int_equal(header(&c, &probs, unknown, 3), CUSTODY_EINVAL);
	assert_null(c);
	assert_string_equal(probs.v[0].column, "colour");
	assert_string_equal(probs.v[0].problem, "unknown column");
	record_problems_free(&probs);
	assert_int_equal(header(&c, &probs, twice, 3), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].problem, "duplicate column");
	record_problems_free(&probs);
	assert_int_equal(header(&c, &probs, missing, 2), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "date_documented");
	assert_string_equal(probs.v[0].problem, "missing required column");
	record_problems_free(&probs);
	assert_int_equal(record_row_header(&c, &probs, "victim", (const uint8_t *const *)nul,
	    lens, 2), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "column 1");
	assert_string_equal(probs.v[0].problem, "name holds a NUL byte");
	record_problems_free(&probs);
	assert_int_equal(header(&c, &probs, unknown, 0), CUSTODY_EINVAL);
	assert_string_equal(probs.v[0].column, "header");
	record_problems_free(&probs);
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_matches_fields),
		cmocka_unit_test(test_row_problems),
		cmocka_unit_test(test_header_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
