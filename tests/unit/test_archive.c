/* The archive engine on a real directory: keys, blobs, records, feeds, index, verify. */
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

/* A file of n pseudo-random bytes; returns an open descriptor at offset 0. */
static int
make_file(struct archive_fixture *f, const char *name, size_t n)
{
	char p[400];
	uint8_t *buf = malloc(n ? n : 1);
	int fd;

	randombytes_buf(buf, n);
	snprintf(p, sizeof p, "%s/%s", f->dir, name);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, buf, n), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	free(buf);
	return fd;
}

/* Ingest then decrypt back, across chunk boundaries: same bytes, same hash, named right. */
static void
test_blob_roundtrip(void **state)
{
	struct archive_fixture *f = *state;
	static const size_t sizes[] = { 0, 1, BLOB_CHUNK - 1, BLOB_CHUNK, BLOB_CHUNK + 1,
	    16 * BLOB_CHUNK, 16 * BLOB_CHUNK + 7, 3 << 20 };
	uint8_t sum[SHA256_LEN], csum[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], p[600];
	struct blob_info b;
	uint64_t size;
	size_t i;
	int fd, out;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		fd = make_file(f, "in", sizes[i]);
		assert_int_equal(blob_ingest(f->a, &b, fd), 0);
		assert_int_equal(b.size, sizes[i]);
		assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)sizes[i]);	/* read() used */
		assert_int_equal(blob_commit(f->a, &b), 0);
		assert_true(blob_exists(f->a, b.name));
		snprintf(p, sizeof p, "%s/out", f->dir);
		out = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(blob_decrypt(f->a, b.name, b.key, out, sum, &size, csum), 0);
		assert_memory_equal(sum, b.sha256, SHA256_LEN);
		assert_int_equal(size, sizes[i]);
		hex_encode(hex, csum, SHA256_LEN);
		assert_string_equal(hex, b.name);
		close(out);
		close(fd);
		snprintf(p, sizeof p, "cmp -s '%s/in' '%s/out'", f->dir, f->dir);
		assert_int_equal(system(p), 0);
	}
}

/* A flipped byte, a truncation, a wrong key, an appended byte: each refused. */
static void
test_blob_tamper(void **state)
{
	struct archive_fixture *f = *state;
	uint8_t sum[SHA256_LEN], wrong[32];
	struct blob_info b;
	struct stat st;
	uint64_t size;
	char *path;
	int fd, bfd;
	uint8_t c;

	fd = make_file(f, "t", 3 * BLOB_CHUNK + 100);
	assert_int_equal(blob_ingest(f->a, &b, fd), 0);
	assert_int_equal(blob_commit(f->a, &b), 0);
	close(fd);
	path = blob_path(f->a, b.name);

	randombytes_buf(wrong, sizeof wrong);
	assert_int_equal(blob_decrypt(f->a, b.name, wrong, -1, sum, &size, NULL),
	    CUSTODY_ECRYPTO);

	bfd = open(path, O_RDWR);
	assert_int_equal(pread(bfd, &c, 1, 50000), 1);
	c ^= 1;
	assert_int_equal(pwrite(bfd, &c, 1, 50000), 1);
	assert_int_equal(blob_decrypt(f->a, b.name, b.key, -1, sum, &size, NULL),
	    CUSTODY_ECRYPTO);
	assert_non_null(strstr(custody_error(), b.name));
	c ^= 1;
	assert_int_equal(pwrite(bfd, &c, 1, 50000), 1);
	assert_int_equal(blob_decrypt(f->a, b.name, b.key, -1, sum, &size, NULL), 0);

	assert_int_equal(fstat(bfd, &st), 0);
	assert_int_equal(write(bfd, "", 0), 0);
	assert_int_equal(pwrite(bfd, "x", 1, st.st_size), 1);
	assert_true(blob_decrypt(f->a, b.name, b.key, -1, sum, &size, NULL) < 0);
	assert_non_null(strstr(custody_error(), b.name));
	assert_int_equal(ftruncate(bfd, st.st_size - (65536 + 17)), 0);
	assert_true(blob_decrypt(f->a, b.name, b.key, -1, sum, &size, NULL) < 0);
	close(bfd);
	free(path);
}

/* Records open only at their own path, with their own key. */
static void
test_record_seal(void **state)
{
	struct archive_fixture *f = *state;
	struct cbuf obj = { 0 };
	char tok[TOKEN_HEX_LEN + 1], other[TOKEN_HEX_LEN + 1];
	uint8_t key[32];
	json_t *doc, *back = NULL;

	doc = json_pack("{s:s,s:s,s:s}", "kind", "victim", "id", "v-1", "name", "محمد");
	archive_token_hex(f->a, tok, "v-1");
	archive_token_hex(f->a, other, "v-2");
	assert_string_not_equal(tok, other);
	assert_int_equal(record_seal(&obj, f->a, tok, doc), 0);
	assert_null(memmem(obj.data, obj.len, "v-1", 3));
	assert_int_equal(record_open(&back, f->a, tok, obj.data, obj.len, key), 0);
	assert_true(json_equal(doc, back));
	json_decref(back);
	assert_int_equal(record_open(&back, f->a, other, obj.data, obj.len, NULL),
	    CUSTODY_ECRYPTO);
	obj.data[obj.len - 1] ^= 1;
	assert_int_equal(record_open(&back, f->a, tok, obj.data, obj.len, NULL),
	    CUSTODY_ECRYPTO);
	assert_int_equal(record_open(&back, f->a, tok, obj.data, 20, NULL), CUSTODY_EINVAL);
	cbuf_free(&obj);
	json_decref(doc);
}

/* Appends are signed, chained and sequenced; verify and the index agree; reindex rebuilds. */
static void
test_feed_and_index(void **state)
{
	struct archive_fixture *f = *state;
	struct feed_commit c1, c2;
	struct verify_result vr;
	json_t *docs[2], *back = NULL;
	uint64_t ev, rec, commits, seq, lamport;
	git_oid head;
	char *idx;

	docs[0] = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", "inc-1", "title", "a");
	docs[1] = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", "inc-2", "title", "b");
	assert_int_equal(feed_append(f->a, &c1, "first", docs, 2), 0);
	assert_int_equal(c1.seq, 1);
	assert_int_equal(index_apply_commit(f->a, &c1, docs, 2), 0);
	json_decref(docs[0]);
	docs[0] = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", "inc-1", "title", "c");
	assert_int_equal(feed_append(f->a, &c2, "second", docs, 1), 0);
	assert_int_equal(c2.seq, 2);
	assert_true(c2.lamport > c1.lamport);
	assert_int_equal(index_apply_commit(f->a, &c2, docs, 1), 0);

	assert_int_equal(feed_head(f->a, f->a->office_hex, &head, &seq, &lamport), 0);
	assert_true(git_oid_equal(&head, &c2.oid));
	assert_int_equal(feed_check_signature(archive_repo(f->a), &c1.oid, f->a->office_pk), 0);
	assert_int_equal(feed_check_signature(archive_repo(f->a), &c2.oid, f->a->office_pk), 0);
	{
		uint8_t other[32];

		memcpy(other, f->a->office_pk, 32);
		other[0] ^= 1;
		assert_true(feed_check_signature(archive_repo(f->a), &c2.oid, other) < 0);
	}
	assert_int_equal(feed_read_record(f->a, f->a->office_hex, "inc-1", &back), 0);
	assert_string_equal(json_string_value(json_object_get(back, "title")), "c");
	json_decref(back);
	assert_int_equal(feed_read_record(f->a, f->a->office_hex, "inc-3", &back),
	    CUSTODY_ENOTFOUND);

	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 2);
	assert_int_equal(commits, 2);
	assert_int_equal(verify_archive(f->a, &vr), 0);
	assert_int_equal(vr.nproblems, 0);
	assert_int_equal(vr.commits, 2);
	verify_result_free(&vr);

	/* the index is derived: delete it and rebuild from the feed */
	archive_thread_done();
	idx = archive_file(f->a, "index.sqlite");
	assert_int_equal(unlink(idx), 0);
	free(idx);
	assert_int_equal(index_open(f->a, &(char *){ NULL }), 0);
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 0);
	assert_int_equal(index_catch_up(f->a, 0), 0);
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(rec, 2);
	assert_int_equal(commits, 2);
	json_decref(docs[0]);
	json_decref(docs[1]);
}

/* Ids and office names: what may appear in a path or a principal. */
static void
test_names(void **state)
{
	assert_int_equal(archive_check_name("damascus-office_2"), 0);
	assert_true(archive_check_name("") < 0);
	assert_true(archive_check_name("a b") < 0);
	assert_true(archive_check_name("-x") < 0);
	assert_true(archive_check_name("a/b") < 0);
	assert_int_equal(archive_check_id("INC-2024:001"), 0);
	assert_true(archive_check_id("../x") < 0);
	assert_true(archive_check_id(".hidden") < 0);
	assert_true(archive_check_id("a\nb") < 0);
}

/* A wrong passphrase is refused; the right one opens; key files others can read are refused. */
static void
test_keys_passphrase(void **state)
{
	char dir[] = "/tmp/custody-keys.XXXXXX", path[300], key[340], *cause = NULL;
	struct archive *a = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/arch", dir);
	assert_int_equal(archive_create(path, "sealed", "correct horse", &cause), 0);
	assert_int_equal(archive_open(&a, path, "wrong", 0, &cause), CUSTODY_ECRYPTO);
	assert_non_null(strstr(cause, "wrong passphrase"));
	free(cause);
	cause = NULL;
	assert_int_equal(archive_open(&a, path, NULL, 0, &cause), CUSTODY_EPERM);
	free(cause);
	cause = NULL;
	assert_int_equal(archive_open(&a, path, "correct horse", 0, &cause), 0);
	archive_close(a);
	snprintf(key, sizeof key, "%s/keys/office.key", path);
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(archive_open(&a, path, "correct horse", 0, &cause), CUSTODY_EPERM);
	assert_non_null(strstr(cause, "chmod 600"));
	free(cause);
	snprintf(key, sizeof key, "rm -rf '%s'", dir);
	assert_int_equal(system(key), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blob_roundtrip, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_blob_tamper, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_record_seal, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_feed_and_index, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_keys_passphrase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
