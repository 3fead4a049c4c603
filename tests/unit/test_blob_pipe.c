/*
 * Large evidence goes through blob_ingest's reader, encrypting and writer threads: files on
 * either side of the size that starts them, and several buffers long, come back byte for byte,
 * with the plaintext SHA-256 of their bytes and a blob named by the SHA-256 of the stored file;
 * a store that fails in the middle of a large file (the writer thread's side) fails the ingest
 * with the store's own message, leaves no object behind, and the next ingest works.
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
#include <openssl/evp.h>

#include "archive.h"
#include "archive-fixture.h"

#define PIPE_AT (8u << 20)	/* blob-ingest.c's PIPE_MIN */

/* A new file of n random bytes under dir; its SHA-256 in sha; an open descriptor at 0. */
static int
pipe_file(const char *dir, size_t n, uint8_t sha[SHA256_LEN])
{
	char p[400];
	uint8_t *buf;
	int fd;

	snprintf(p, sizeof p, "%s/in", dir);
	assert_non_null(buf = malloc(n + 1));
	randombytes_buf(buf, n);
	assert_int_equal(EVP_Digest(buf, n, sha, NULL, EVP_sha256(), NULL), 1);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, buf, n), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	free(buf);
	return fd;
}

/* The SHA-256 of the file at path, in lowercase hex. */
static void
pipe_hash_file(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t buf[65536], md[SHA256_LEN];
	ssize_t r;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while ((r = read(fd, buf, sizeof buf)) > 0)
		EVP_DigestUpdate(c, buf, (size_t)r);
	assert_int_equal(r, 0);
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	close(fd);
	hex_encode(hex, md, SHA256_LEN);
}

static void
test_sizes(void **state)
{
	struct archive_fixture *f = *state;
	static const size_t sizes[] = { PIPE_AT - 1, PIPE_AT, PIPE_AT + 1,
	    3 * PIPE_AT + 4 * BLOB_CHUNK + 12345 };
	uint8_t sha[SHA256_LEN], got[SHA256_LEN];
	char *path, hex[SHA256_HEX_LEN + 1];
	struct blob_info b;
	uint64_t size;
	size_t i;
	int fd, out;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		fd = pipe_file(f->dir, sizes[i], sha);
		assert_int_equal(blob_ingest(f->a, &b, fd), 0);
		close(fd);
		assert_int_equal(b.size, sizes[i]);
		assert_memory_equal(b.sha256, sha, SHA256_LEN);
		assert_int_equal(blob_commit(f->a, &b), 0);
		/* the name is the hash of the stored bytes */
		path = blob_path(f->a, b.name);
		pipe_hash_file(path, hex);
		assert_string_equal(hex, b.name);
		free(path);
		/* and they decrypt to the same bytes */
		assert_true((out = open("/dev/null", O_WRONLY)) >= 0);
		assert_int_equal(blob_decrypt(f->a, b.name, b.key, out, got, &size, NULL), 0);
		close(out);
		assert_int_equal(size, sizes[i]);
		assert_memory_equal(got, sha, SHA256_LEN);
	}
}

/* A store that passes everything to the archive's own but for writes past fail_at bytes. */
struct pipe_store {
	struct blobstore	 base;
	struct blobstore	*real;
	uint64_t		 fail_at;
	int			 open, aborted;
};
struct pipe_writer {
	struct blobstore_writer	 base;
	struct blobstore_writer	*real;
};

static int
pipe_begin(struct blobstore *b, struct blobstore_writer **out)
{
	struct pipe_store *s = (struct pipe_store *)b;
	struct pipe_writer *w;
	int error;

	assert_non_null(w = calloc(1, sizeof *w));
	w->base.store = b;
	if ((error = blobstore_begin(s->real, &w->real)) < 0) {
		free(w);
		return error;
	}
	s->open++;
	*out = &w->base;
	return 0;
}

static int
pipe_write(struct blobstore_writer *b, const void *p, size_t n)
{
	struct pipe_writer *w = (struct pipe_writer *)b;
	struct pipe_store *s = (struct pipe_store *)b->store;

	if (b->written + n > s->fail_at)
		return custody_fail(CUSTODY_ENOSPC, "test store: no space left");
	return blobstore_write(w->real, p, n);
}

static int
pipe_commit(struct blobstore_writer *b, const char *name)
{
	struct pipe_writer *w = (struct pipe_writer *)b;
	struct pipe_store *s = (struct pipe_store *)b->store;
	int error = blobstore_commit(w->real, name);

	s->open--;
	free(w);
	return error;
}

static void
pipe_abort(struct blobstore_writer *b)
{
	struct pipe_writer *w = (struct pipe_writer *)b;
	struct pipe_store *s = (struct pipe_store *)b->store;

	blobstore_abort(w->real);
	s->open--;
	s->aborted++;
	free(w);
}

static const struct blobstore_ops pipe_ops = {
	.kind = "test",
	.begin = pipe_begin,
	.write = pipe_write,
	.commit = pipe_commit,
	.abort = pipe_abort,
};

/* Whether ARCHIVE/tmp holds anything but . and .. */
static int
pipe_tmp_empty(const char *archive)
{
	char cmd[400];

	snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s/tmp')\"", archive);
	return system(cmd) == 0;
}

static void
test_writer_fails(void **state)
{
	struct archive_fixture *f = *state;
	struct pipe_store s = { .base.ops = &pipe_ops, .fail_at = 5u << 20 };
	uint8_t sha[SHA256_LEN];
	struct blob_info b;
	int fd;

	s.real = f->a->blobs;
	assert_non_null(s.real);
	f->a->blobs = &s.base;
	fd = pipe_file(f->dir, 3 * PIPE_AT, sha);
	assert_int_equal(blob_ingest(f->a, &b, fd), CUSTODY_ENOSPC);
	assert_non_null(strstr(custody_error(), "test store: no space left"));
	assert_int_equal(s.open, 0);
	assert_int_equal(s.aborted, 1);
	assert_true(pipe_tmp_empty(f->path));

	/* the same file once the store has room */
	s.fail_at = UINT64_MAX;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(blob_ingest(f->a, &b, fd), 0);
	close(fd);
	assert_memory_equal(b.sha256, sha, SHA256_LEN);
	assert_int_equal(blob_commit(f->a, &b), 0);
	assert_int_equal(s.open, 0);
	f->a->blobs = s.real;
	assert_int_equal(blob_exists(f->a, b.name), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sizes, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_fails, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
