/*
 * Ingest in the engine, called with plain parameters as the service calls it: names cleaned,
 * files placed, a batch committed with the duplicates within it and in the archive found.
 */
#include <fcntl.h>
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
#include "ingest.h"

static void
test_clean_name(void **state)
{
	static const char *const cases[][2] = {
		{ "a/b.txt", "a/b.txt" },
		{ "/etc/../../x//./y", "etc/x/y" },
		{ "..", "unnamed" },
		{ "", "unnamed" },
		{ "a\001b\177c\n", "abc" },
		{ "bad\377byte", "bad\357\277\275byte" },	/* U+FFFD */
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_non_null(s = ingest_clean_name(cases[i][0]));
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
}

/* A file holding the bytes of s; an open descriptor at offset 0. */
static int
ingest_test_file(struct archive_fixture *f, const char *s)
{
	char p[400];
	int fd;

	snprintf(p, sizeof p, "%s/in", f->dir);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, s, strlen(s)), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
ingest_test_place(struct archive_fixture *f, struct ingest_file *file, uint32_t index,
    const char *name, const char *bytes)
{
	int fd = ingest_test_file(f, bytes);

	memset(file, 0, sizeof *file);
	file->index = index;
	assert_non_null(file->name = ingest_clean_name(name));
	assert_int_equal(ingest_file_place(f->a, file, fd), 0);
	close(fd);
}

static void
test_commit(void **state)
{
	struct archive_fixture *f = *state;
	struct ingest_file one[3], again, *files[3];
	struct feed_commit fc;
	char sha[SHA256_HEX_LEN + 1], now[32];
	uint64_t ev, rec, commits;
	json_t *doc;
	size_t i;
	int found;

	ingest_test_place(f, &one[0], 0, "box/a.txt", "first");
	ingest_test_place(f, &one[1], 1, "box/b.txt", "second");
	ingest_test_place(f, &one[2], 2, "box/c.txt", "first");	/* a's bytes again */
	for (i = 0; i < 3; i++) {
		assert_true(one[i].placed);
		assert_false(one[i].duplicate);
		files[i] = &one[i];
	}
	record_now(now);
	assert_int_equal(ingest_commit(f->a, &fc, files, 3, "alice@unit-office", now, "inc-1",
	    "from the box"), 0);
	assert_true(fc.seq > 0);
	assert_false(one[0].duplicate);
	assert_false(one[1].duplicate);
	assert_true(one[2].duplicate);	/* the later copy within the batch */
	assert_false(blob_exists(f->a, one[2].blob.name));
	for (i = 0; i < 3; i++)
		assert_false(one[i].placed);
	assert_true(blob_exists(f->a, one[0].blob.name));

	hex_encode(sha, one[0].blob.sha256, SHA256_LEN);
	assert_int_equal(index_has_evidence(f->a, sha, &found), 0);
	assert_true(found);
	assert_int_equal(feed_read_record(f->a, f->a->office_hex, sha, &doc), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "box/a.txt");
	assert_string_equal(json_string_value(json_object_get(doc, "acquired_by")),
	    "alice@unit-office");
	assert_string_equal(json_string_value(json_object_get(doc, "acquired_at")), now);
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "incidents"),
	    0)), "inc-1");
	assert_string_equal(json_string_value(json_object_get(doc, "note")), "from the box");
	json_decref(doc);
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(ev, 2);

	/* bytes the archive holds: a duplicate when placed, nothing left in blobs/ */
	ingest_test_place(f, &again, 0, "b-again.txt", "second");
	assert_true(again.duplicate);
	assert_false(again.placed);
	ingest_file_drop(f->a, &again);
	free(again.name);
	/* new bytes of a batch never committed: dropping removes the placed blob */
	ingest_test_place(f, &again, 0, "c.txt", "third");
	assert_true(again.placed);
	assert_true(blob_exists(f->a, again.blob.name));
	ingest_file_drop(f->a, &again);
	assert_false(blob_exists(f->a, again.blob.name));
	free(again.name);
	for (i = 0; i < 3; i++) {
		ingest_file_drop(f->a, &one[i]);
		free(one[i].name);
	}
	assert_true(blob_exists(f->a, one[0].blob.name));	/* committed: dropping keeps it */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_name),
		cmocka_unit_test_setup_teardown(test_commit, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
