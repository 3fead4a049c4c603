/*
 * The reader of many records (feed-reader.c) against reading each record anew
 * (feed_read_token_flags): the same records in token order, through a handle it opens again
 * every FEED_READER_TREES trees; the head it found first, for as long as it lives; more offices
 * than it keeps; a token its feed lacks, and what is not a token.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feed-reader.h"
#include "archive-fixture.h"

#define MANY 5000	/* leaf trees enough to pass FEED_READER_TREES */

static int
hexcmp(const void *x, const void *y)
{
	return strcmp(x, y);
}

/* Write victims v-0 to v-(n-1), each named after name and its number, as one commit. */
static void
write_victims(struct archive *a, size_t n, const char *name)
{
	struct feed_commit fc;
	json_t **docs = calloc(n, sizeof *docs);
	char id[32], who[64];
	size_t i;

	assert_non_null(docs);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "v-%zu", i);
		snprintf(who, sizeof who, "%s %zu", name, i);
		docs[i] = json_pack("{s:s,s:s,s:s}", "kind", "victim", "id", id, "name", who);
	}
	assert_int_equal(feed_append(a, &fc, "add", docs, n), 0);
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
}

/* Read tok through fr: 0 and the record's name in name (n bytes), or the error. */
static int
read_name(struct feed_reader *fr, const char *office, const char *tok, char *name, size_t n)
{
	json_t *doc = NULL;
	int error = feed_reader_read(fr, office, tok, &doc, 0);

	name[0] = '\0';
	if (error == 0)
		snprintf(name, n, "%s", json_string_value(json_object_get(doc, "name")));
	json_decref(doc);
	return error;
}

static void
test_same_records(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_reader *fr;
	char (*toks)[TOKEN_HEX_LEN + 1], id[32];
	json_t *one, *listed;
	size_t i;

	write_victims(f->a, MANY, "Name");
	assert_non_null(toks = calloc(MANY, sizeof *toks));
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof id, "v-%zu", i);
		archive_token_hex(f->a, toks[i], id);
	}
	qsort(toks, MANY, sizeof *toks, hexcmp);	/* a list's order */
	assert_non_null(fr = feed_reader_new(f->a));
	for (i = 0; i < MANY; i++) {
		assert_int_equal(feed_read_token_flags(f->a, f->a->office_hex, toks[i], &one, 0),
		    0);
		assert_int_equal(feed_reader_read(fr, f->a->office_hex, toks[i], &listed, 0), 0);
		assert_true(json_equal(one, listed));
		json_decref(one);
		json_decref(listed);
		/* protected fields left sealed, as for a role that may not open them */
		assert_int_equal(feed_reader_read(fr, f->a->office_hex, toks[i], &listed,
		    RECORD_SEALED), 0);
		json_decref(listed);
	}
	/* each leaf tree once, the upper ones once per prefix: past the bound, opened again */
	assert_true(feed_reader_opened(fr) >= 2);
	assert_true(feed_reader_opened(fr) <= 3);
	feed_reader_free(fr);
	free(toks);
}

static void
test_first_head(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_reader *fr, *later;
	char tok[TOKEN_HEX_LEN + 1], name[64];

	write_victims(f->a, 3, "Before");
	archive_token_hex(f->a, tok, "v-1");
	assert_non_null(fr = feed_reader_new(f->a));
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name), 0);
	assert_string_equal(name, "Before 1");
	write_victims(f->a, 3, "After");
	/* a list sees the feed as it was when it began */
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name), 0);
	assert_string_equal(name, "Before 1");
	assert_non_null(later = feed_reader_new(f->a));
	assert_int_equal(read_name(later, f->a->office_hex, tok, name, sizeof name), 0);
	assert_string_equal(name, "After 1");
	feed_reader_free(later);
	feed_reader_free(fr);
}

static void
test_offices(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_reader *fr;
	char tok[TOKEN_HEX_LEN + 1], name[64], other[65];
	int k, round;

	write_victims(f->a, 2, "Kept");
	archive_token_hex(f->a, tok, "v-0");
	assert_non_null(fr = feed_reader_new(f->a));
	for (round = 0; round < 2; round++) {
		assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name), 0);
		assert_string_equal(name, "Kept 0");
		/* offices without a feed, more than the reader keeps: this one's place goes */
		for (k = 0; k <= FEED_READER_OFFICES; k++) {
			snprintf(other, sizeof other, "%064x", k + 1);
			assert_int_equal(read_name(fr, other, tok, name, sizeof name),
			    CUSTODY_ENOTFOUND);
			assert_string_equal(custody_error(), "no such record");
		}
	}
	feed_reader_free(fr);
}

static void
test_not_there(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_reader *fr;
	char tok[TOKEN_HEX_LEN + 1], name[64];

	assert_non_null(fr = feed_reader_new(f->a));
	archive_token_hex(f->a, tok, "v-0");
	/* no feed yet */
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name),
	    CUSTODY_ENOTFOUND);
	feed_reader_free(fr);
	write_victims(f->a, 1, "Only");
	assert_non_null(fr = feed_reader_new(f->a));
	archive_token_hex(f->a, tok, "v-1");
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name),
	    CUSTODY_ENOTFOUND);
	archive_token_hex(f->a, tok, "v-0");
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name), 0);
	assert_string_equal(name, "Only 0");
	/* the same leaf, another name in it */
	tok[TOKEN_HEX_LEN - 1] = tok[TOKEN_HEX_LEN - 1] == '0' ? '1' : '0';
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name),
	    CUSTODY_ENOTFOUND);
	assert_int_equal(read_name(fr, f->a->office_hex, "0123", name, sizeof name),
	    CUSTODY_EINVAL);
	tok[0] = 'A';
	assert_int_equal(read_name(fr, f->a->office_hex, tok, name, sizeof name),
	    CUSTODY_EINVAL);
	feed_reader_free(fr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_records, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_first_head, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_offices, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_not_there, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
