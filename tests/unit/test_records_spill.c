/*
 * The rows of an import on their way to the commit (daemon/engine/records-spill.c): they come back
 * in token order (a repeated token by its first line first) with their content hash, their
 * sealed part as it was given and their secret part; nothing of the secret part is readable in
 * the file, nothing is left under tmp/, and a row altered in the file is refused rather than
 * read.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "archive-fixture.h"
#include "records-spill.h"

static void
tok_of(uint8_t tok[TOKEN_LEN], int v)
{
	memset(tok, 0, TOKEN_LEN);
	tok[0] = (uint8_t)v;
}

/* Entries of dir other than . and .. */
static int
entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
test_spill_order_and_secrecy(void **state)
{
	struct archive_fixture *f = *state;
	struct records_spill *sp;
	const struct records_spill_row *row;
	struct records_spill_row rows[5];
	struct records_spill_item it;
	struct cbuf buf = { 0 };
	uint8_t tok[TOKEN_LEN], h[TOKEN_LEN];
	char json[64], sealed[64], tmp[400], *file;
	static const int order[] = { 9, 3, 7, 3, 1 };	/* token bytes, lines 1..5 */
	static const uint32_t want_line[] = { 5, 2, 4, 3, 1 };
	struct stat st;
	ssize_t n;
	size_t i;

	snprintf(tmp, sizeof tmp, "%s/tmp", f->path);
	assert_int_equal(records_spill_open(&sp, f->a), 0);
	for (i = 0; i < 5; i++) {
		tok_of(tok, order[i]);
		memset(h, (int)i + 1, sizeof h);
		snprintf(json, sizeof json, "{\"id\":\"secret-name-%zu\"}", i + 1);
		snprintf(sealed, sizeof sealed, "sealed-object-%zu", i + 1);
		/* the first row has no sealed part */
		assert_int_equal(records_spill_add(sp, tok, (uint32_t)i + 1, h, sealed,
		    i == 0 ? 0 : strlen(sealed), json, strlen(json) + 1), 0);
	}
	assert_int_equal(records_spill_sort(sp), 0);
	assert_int_equal(entries(tmp), 0);	/* an unnamed file */
	assert_int_equal(records_spill_rewind(sp), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(records_spill_next(sp, &row), 0);
		rows[i] = *row;
		assert_int_equal(row->line, want_line[i]);
		memset(h, (int)want_line[i], sizeof h);
		assert_memory_equal(row->chash, h, TOKEN_LEN);
		assert_int_equal(records_spill_read(sp, row, &buf, &it), 0);
		snprintf(json, sizeof json, "{\"id\":\"secret-name-%u\"}", want_line[i]);
		assert_int_equal(it.len, strlen(json) + 1);
		assert_string_equal((const char *)it.secret, json);
		snprintf(sealed, sizeof sealed, "sealed-object-%u", want_line[i]);
		assert_int_equal(it.slen, want_line[i] == 1 ? 0 : strlen(sealed));
		assert_memory_equal(it.sealed, sealed, it.slen);
	}
	assert_int_equal(records_spill_next(sp, &row), 1);
	/* the file holds the sealed parts as given, no plaintext of the secret ones */
	assert_int_equal(fstat(sp->fd, &st), 0);
	assert_non_null(file = malloc((size_t)st.st_size));
	n = pread(sp->fd, file, (size_t)st.st_size, 0);
	assert_int_equal(n, st.st_size);
	assert_non_null(memmem(file, (size_t)n, "sealed-object-2", 15));
	assert_null(memmem(file, (size_t)n, "secret-name", 11));
	/* a row altered in the file is refused: its secret part, or where it begins */
	file[rows[0].off + rows[0].len - 1] ^= 1;
	assert_int_equal(pwrite(sp->fd, file + rows[0].off + rows[0].len - 1, 1,
	    (off_t)rows[0].off + rows[0].len - 1), 1);
	assert_int_equal(records_spill_read(sp, &rows[0], &buf, &it), CUSTODY_ECRYPTO);
	assert_null(it.secret);
	file[rows[1].off] ^= 1;
	assert_int_equal(pwrite(sp->fd, file + rows[1].off, 1, (off_t)rows[1].off), 1);
	assert_true(records_spill_read(sp, &rows[1], &buf, &it) < 0);
	assert_int_equal(records_spill_read(sp, &rows[2], &buf, &it), 0);
	cbuf_free(&buf);
	free(file);
	records_spill_free(sp);
	assert_int_equal(entries(tmp), 0);
}

/*
 * More rows than one run: memory holds at most a run of them, the rest go sorted to a second
 * unnamed file, and the merge gives every row back once, in token order, a repeated token by
 * its first line first, twice over (the commit reads the rows twice).
 */
static void
test_spill_runs_merge(void **state)
{
	struct archive_fixture *f = *state;
	struct records_spill *sp;
	const struct records_spill_row *row;
	struct records_spill_row last;
	struct records_spill_item it;
	struct cbuf buf = { 0 };
	uint8_t tok[TOKEN_LEN], h[TOKEN_LEN];
	char json[64], want[64], tmp[400];
	const size_t n = 3 * SPILL_RUN + 1234;
	uint32_t v, seen_line;
	size_t i, pass, count;
	int c;

	snprintf(tmp, sizeof tmp, "%s/tmp", f->path);
	assert_int_equal(records_spill_open(&sp, f->a), 0);
	for (i = 0; i < n; i++) {
		/* tokens from a permutation of a quarter of n: every token four times */
		v = (uint32_t)((i * 2654435761u) % (n / 4));
		memset(tok, 0, sizeof tok);
		tok[0] = (uint8_t)(v >> 24);
		tok[1] = (uint8_t)(v >> 16);
		tok[2] = (uint8_t)(v >> 8);
		tok[3] = (uint8_t)v;
		memset(h, (int)(i & 0xff), sizeof h);
		snprintf(json, sizeof json, "{\"line\":%zu}", i + 1);
		assert_int_equal(records_spill_add(sp, tok, (uint32_t)i + 1, h, NULL, 0, json,
		    strlen(json) + 1), 0);
		assert_true(runsort_held(sp->rows) <= SPILL_RUN);	/* bounded */
	}
	assert_int_equal(records_spill_sort(sp), 0);
	assert_true(runsort_runs(sp->rows) >= 3);
	assert_int_equal(records_spill_count(sp), n);
	assert_int_equal(entries(tmp), 0);	/* both files unnamed */
	for (pass = 0; pass < 2; pass++) {
		assert_int_equal(records_spill_rewind(sp), 0);
		count = 0;
		while ((c = records_spill_next(sp, &row)) == 0) {
			if (count > 0) {
				int t = memcmp(last.tok, row->tok, TOKEN_LEN);

				assert_true(t < 0 || (t == 0 && last.line < row->line));
			}
			last = *row;
			seen_line = row->line;
			if (count % 997 == 0) {	/* a sample read back in full */
				assert_int_equal(records_spill_read(sp, row, &buf, &it), 0);
				snprintf(want, sizeof want, "{\"line\":%u}", seen_line);
				assert_string_equal((const char *)it.secret, want);
				memset(h, (int)((seen_line - 1) & 0xff), sizeof h);
				assert_memory_equal(row->chash, h, TOKEN_LEN);
			}
			count++;
		}
		assert_int_equal(c, 1);
		assert_int_equal(count, n);
	}
	cbuf_free(&buf);
	records_spill_free(sp);
	assert_int_equal(entries(tmp), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spill_order_and_secrecy,
		    archive_fixture_setup, archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_spill_runs_merge,
		    archive_fixture_setup, archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
