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

/* The bytes of a C string, for the helpers below. */
#define INGEST_TEST_STR(s) (s), strlen(s)

/* A file holding the n bytes at p; an open descriptor at offset 0. */
static int
ingest_test_file(struct archive_fixture *f, const void *p, size_t n)
{
	char path[400];
	int fd;

	snprintf(path, sizeof path, "%s/in", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, p, n), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
ingest_test_place(struct archive_fixture *f, struct ingest_file *file, uint32_t index,
    const char *name, const void *p, size_t n)
{
	int fd = ingest_test_file(f, p, n);

	memset(file, 0, sizeof *file);
	file->index = index;
	assert_non_null(file->name = ingest_clean_name(name));
	assert_int_equal(ingest_file_place(f->a, file, fd), 0);
	close(fd);
}

/* Place a file and keep it in batch b. */
static void
ingest_test_keep(struct archive_fixture *f, struct ingest_batch *b, struct ingest_file *file,
    uint32_t index, const char *name, const void *p, size_t n)
{
	ingest_test_place(f, file, index, name, p, n);
	assert_int_equal(ingest_batch_put(b, file), 0);
	file->placed = 0;	/* the batch's now */
}

static void
test_commit(void **state)
{
	struct archive_fixture *f = *state;
	struct ingest_file one[3], again;
	struct ingest_batch *b;
	struct feed_commit fc;
	char sha[SHA256_HEX_LEN + 1], now[32];
	uint64_t ev, rec, commits;
	uint32_t *dups;
	size_t i, ndups;
	json_t *doc;
	int found;

	assert_int_equal(ingest_batch_new(&b, f->a, 3), 0);
	ingest_test_keep(f, b, &one[0], 0, "box/a.txt", INGEST_TEST_STR("first"));
	/* a's bytes again; then b, out of order */
	ingest_test_keep(f, b, &one[2], 2, "box/c.txt", INGEST_TEST_STR("first"));
	ingest_test_keep(f, b, &one[1], 1, "box/b.txt", INGEST_TEST_STR("second"));
	assert_int_equal(ingest_batch_put(b, &one[1]), CUSTODY_EINVAL);	/* twice */
	for (i = 0; i < 3; i++) {
		assert_false(one[i].duplicate);
		assert_true(blob_exists(f->a, one[i].blob.name));
	}
	record_now(now);
	assert_int_equal(ingest_commit(f->a, &fc, b, "alice@unit-office", now, "inc-1",
	    "from the box", &dups, &ndups), 0);
	assert_true(fc.seq > 0);
	assert_int_equal(ndups, 1);
	assert_int_equal(dups[0], 2);	/* the later copy within the batch */
	free(dups);
	assert_false(ingest_batch_duplicate(b, 0));
	assert_false(ingest_batch_duplicate(b, 1));
	assert_true(ingest_batch_duplicate(b, 2));
	ingest_batch_free(b);		/* committed: the blobs stay */
	assert_true(blob_exists(f->a, one[0].blob.name));
	assert_true(blob_exists(f->a, one[1].blob.name));
	/* the copy's blob (another key, another name) is removed */
	assert_string_not_equal(one[0].blob.name, one[2].blob.name);
	assert_false(blob_exists(f->a, one[2].blob.name));

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
	ingest_test_place(f, &again, 0, "b-again.txt", INGEST_TEST_STR("second"));
	assert_true(again.duplicate);
	assert_false(again.placed);
	ingest_file_drop(f->a, &again);
	free(again.name);
	/* new bytes of a batch never committed: freeing the batch removes the placed blob */
	assert_int_equal(ingest_batch_new(&b, f->a, 1), 0);
	ingest_test_keep(f, b, &again, 0, "c.txt", INGEST_TEST_STR("third"));
	assert_true(blob_exists(f->a, again.blob.name));
	ingest_batch_free(b);
	assert_false(blob_exists(f->a, again.blob.name));
	free(again.name);
	for (i = 0; i < 3; i++)
		free(one[i].name);
}

/*
 * A batch large enough to be committed as a stream (its records sealed in token order into
 * one pack): copies within it are found and dropped, every new file has its record, the
 * index follows, and the archive verifies.
 */
static void
test_commit_stream(void **state)
{
	struct archive_fixture *f = *state;
	enum { N = 120 };
	struct ingest_file files[N];
	struct ingest_batch *b;
	struct verify_result vr;
	struct feed_commit fc;
	char name[64], bytes[64], sha[SHA256_HEX_LEN + 1], now[32];
	uint64_t ev, rec, commits, rec0;
	uint32_t *dups;
	size_t i, ndups;
	json_t *doc;

	assert_int_equal(index_counts(f->a, &ev, &rec0, &commits), 0);
	assert_int_equal(ingest_batch_new(&b, f->a, N), 0);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "scan/page-%03zu.txt", i);
		/* every 10th page has the bytes of the one before */
		snprintf(bytes, sizeof bytes, "page %zu", i % 10 == 9 ? i - 1 : i);
		ingest_test_keep(f, b, &files[i], (uint32_t)i, name, INGEST_TEST_STR(bytes));
	}
	record_now(now);
	assert_int_equal(ingest_commit(f->a, &fc, b, "alice@unit-office", now, "", NULL, &dups,
	    &ndups), 0);
	ingest_batch_free(b);
	assert_int_equal(ndups, N / 10);
	for (i = 0; i < ndups; i++)
		assert_int_equal(dups[i], i * 10 + 9);
	free(dups);
	for (i = 0; i < N; i++) {
		assert_true(blob_exists(f->a, files[i].blob.name) == (i % 10 != 9));
		if (i % 10 == 9)
			continue;
		hex_encode(sha, files[i].blob.sha256, SHA256_LEN);
		assert_int_equal(feed_read_record(f->a, f->a->office_hex, sha, &doc), 0);
		assert_string_equal(json_string_value(json_object_get(doc, "name")),
		    files[i].name);
		assert_string_equal(json_string_value(json_object_get(doc, "blob")),
		    files[i].blob.name);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "rev"),
		    "lamport")), fc.lamport);
		json_decref(doc);
	}
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(ev, N - N / 10);
	assert_int_equal(verify_archive(f->a, &vr), 0);
	assert_int_equal(vr.nproblems, 0);
	assert_int_equal(vr.blobs, N - N / 10);
	verify_result_free(&vr);
	for (i = 0; i < N; i++)
		free(files[i].name);
}

/* Place file index of size bytes (different for every index) and keep it in batch b. */
static void
ingest_test_bulk(struct archive_fixture *f, struct ingest_batch *b, struct ingest_file *file,
    uint32_t index, size_t size)
{
	char name[64];
	uint8_t *buf;
	size_t i;

	assert_non_null(buf = malloc(size));
	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)((i * 2654435761u) >> 13 ^ index);
	memcpy(buf, &index, sizeof index);
	snprintf(name, sizeof name, "scan/bulk-%03u.bin", index);
	ingest_test_keep(f, b, file, index, name, buf, size);
	free(buf);
}

enum { BULK_FILES = 72, BULK_SIZE = 640 << 10 };	/* 45 MiB: more than a flusher's step */

/* A batch larger than a step of the flusher: its blobs are synced while it goes on. */
static void
test_commit_flushed(void **state)
{
	struct archive_fixture *f = *state;
	struct ingest_file files[BULK_FILES];
	struct ingest_batch *b;
	struct verify_result vr;
	struct feed_commit fc;
	char now[32];
	uint32_t *dups;
	size_t i, ndups;

	assert_int_equal(ingest_batch_new(&b, f->a, BULK_FILES), 0);
	for (i = 0; i < BULK_FILES; i++)
		ingest_test_bulk(f, b, &files[i], (uint32_t)i, BULK_SIZE);
	for (i = 0; i < 500 && ingest_batch_flushes(b) == 0; i++)
		usleep(10000);
	assert_true(ingest_batch_flushes(b) > 0);
	record_now(now);
	assert_int_equal(ingest_commit(f->a, &fc, b, "alice@unit-office", now, "", NULL, &dups,
	    &ndups), 0);
	assert_int_equal(ndups, 0);
	free(dups);
	ingest_batch_free(b);
	assert_int_equal(verify_archive(f->a, &vr), 0);
	assert_int_equal(vr.nproblems, 0);
	assert_int_equal(vr.blobs, BULK_FILES);
	verify_result_free(&vr);
	for (i = 0; i < BULK_FILES; i++)
		free(files[i].name);
}

/*
 * A batch of files put out of order, some duplicates of the archive's, some copies within the
 * batch: each reads back as put, the copies are found, and the k-th new file is found for
 * every k, across many words of the bitmap.
 */
static void
test_batch(void **state)
{
	struct archive_fixture *f = *state;
	enum { N = 1000 };
	struct ingest_batch *b;
	struct ingest_file file;
	struct ingest_entry x;
	uint32_t *dups, expect[N], fresh[N];
	size_t i, k, ndups, nexpect = 0, nfresh = 0;
	char name[64];
	int archdup;

	assert_int_equal(ingest_batch_new(&b, f->a, N), 0);
	for (k = 0; k < N; k++) {
		i = (k * 7919) % N;	/* every place once, out of order */
		memset(&file, 0, sizeof file);
		file.index = (uint32_t)i;
		snprintf(name, sizeof name, "scan/page-%04zu.tif", i);
		file.name = name;
		/* every 5th file has the bytes of the one before; every 11th is the archive's */
		memset(file.blob.sha256, 0, SHA256_LEN);
		memcpy(file.blob.sha256, &(uint32_t){ (uint32_t)(i % 5 == 4 ? i - 1 : i) }, 4);
		snprintf(file.blob.name, sizeof file.blob.name, "%064zx", i);
		snprintf(file.blob.media_type, sizeof file.blob.media_type, "image/t%zu", i);
		file.blob.size = i * 3;
		file.blob.key[0] = (uint8_t)i;
		file.duplicate = i % 11 == 0;
		assert_int_equal(ingest_batch_put(b, &file), 0);
	}
	assert_int_equal(ingest_batch_dedupe(b, &dups, &ndups), 0);
	for (i = 0; i < N; i++) {
		archdup = i % 11 == 0;
		if (!archdup && i % 5 == 4 && (i - 1) % 11 != 0)
			expect[nexpect++] = (uint32_t)i;	/* a copy of a new file */
		else if (!archdup)
			fresh[nfresh++] = (uint32_t)i;
	}
	assert_int_equal(ndups, nexpect);
	assert_memory_equal(dups, expect, nexpect * sizeof *expect);
	free(dups);
	assert_int_equal(ingest_batch_nfresh(b), nfresh);
	for (k = 0; k < nfresh; k++)
		assert_int_equal(ingest_batch_fresh(b, k), fresh[k]);
	for (i = 0; i < N; i += 37) {
		assert_int_equal(ingest_batch_get(b, (uint32_t)i, &x), 0);
		snprintf(name, sizeof name, "scan/page-%04zu.tif", i);
		assert_string_equal(x.name, name);
		snprintf(name, sizeof name, "image/t%zu", i);
		assert_string_equal(x.media_type, name);
		assert_int_equal(x.size, i * 3);
		assert_int_equal(x.key[0], (uint8_t)i);
		assert_int_equal(x.duplicate, i % 11 == 0 || (i % 5 == 4 && (i - 1) % 11 != 0));
		ingest_batch_entry_free(&x);
	}
	ingest_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_name),
		cmocka_unit_test_setup_teardown(test_commit, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_commit_stream, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_batch, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_commit_flushed,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
