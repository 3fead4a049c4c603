/*
 * Padded blobs: stored sizes are Padmé lengths, evidence that looks like padding comes back
 * whole, blobs written before padding still read, and a padded blob without its mark fails.
 */
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
#include "custody/blobfmt.h"
#include "archive-fixture.h"


/* A file holding buf; an open descriptor at offset 0. */
static int
file_of(struct archive_fixture *f, const uint8_t *buf, size_t n)
{
	char p[400];
	int fd;

	snprintf(p, sizeof p, "%s/in", f->dir);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, buf, n), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Collects decrypted bytes. */
static int
collect(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/* Decrypt blob name with key: it must give back exactly want. */
static void
decrypts_to(struct archive_fixture *f, const char *name, const uint8_t key[32], const uint8_t *want,
    size_t n)
{
	struct cbuf got = { 0 };
	uint8_t sum[SHA256_LEN], wsum[SHA256_LEN];
	uint64_t size;

	assert_int_equal(blob_decrypt_cb(f->a, name, key, collect, &got, sum, &size, NULL), 0);
	assert_int_equal(size, n);
	assert_int_equal(got.len, n);
	if (n > 0)
		assert_memory_equal(got.data, want, n);
	crypto_hash_sha256(wsum, want, n);
	assert_memory_equal(sum, wsum, SHA256_LEN);
	cbuf_free(&got);
}

/* Evidence of n bytes made of pattern k (some look like padding: 0x80 then zeros). */
static void
fill(uint8_t *buf, size_t n, int k)
{
	size_t i;

	switch (k) {
	case 0:
		randombytes_buf(buf, n);
		break;
	case 1:		/* all zeros */
		memset(buf, 0, n);
		break;
	case 2:		/* ends in a mark and zeros */
		randombytes_buf(buf, n);
		for (i = n > 70000 ? n - 70000 : 0; i < n; i++)
			buf[i] = 0;
		if (n > 0)
			buf[n > 70000 ? n - 70001 : 0] = BLOBFMT_MARK;
		break;
	case 3:		/* marks only */
		memset(buf, BLOBFMT_MARK, n);
		break;
	default:	/* a mark and zeros at every chunk's end */
		memset(buf, 0, n);
		for (i = BLOB_CHUNK - 3; i < n; i += BLOB_CHUNK)
			buf[i] = BLOBFMT_MARK;
		if (n > 0)
			buf[n - 1] = BLOBFMT_MARK;
		break;
	}
}

/* Every stored blob is a Padmé length, at most 12% above the unpadded stream, and reads back. */
static void
test_padded_sizes(void **state)
{
	struct archive_fixture *f = *state;
	static const size_t sizes[] = { 0, 1, 2, 15, 16, 17, 100, 1000, BLOB_CHUNK - 2,
	    BLOB_CHUNK - 1, BLOB_CHUNK, BLOB_CHUNK + 1, 5 * BLOB_CHUNK + 3, (3 << 20) + 11 };
	uint8_t *buf = malloc((3 << 20) + 11);
	struct blob_info b;
	struct stat st;
	size_t i;
	char *path;
	int k, fd;

	for (k = 0; k < 5; k++)
		for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			fill(buf, sizes[i], k);
			fd = file_of(f, buf, sizes[i]);
			assert_int_equal(blob_ingest(f->a, &b, fd), 0);
			close(fd);
			assert_int_equal(b.size, sizes[i]);
			assert_int_equal(blob_commit(f->a, &b), 0);
			path = blob_path(f->a, b.name);
			assert_int_equal(stat(path, &st), 0);
			assert_int_equal(padme((uint64_t)st.st_size), (uint64_t)st.st_size);
			assert_int_equal((uint64_t)st.st_size, blobfmt_max_stored(sizes[i]));
			assert_true((uint64_t)st.st_size * 100 <= 112 * (8 + 24 + sizes[i] +
			    17 * (sizes[i] / BLOB_CHUNK + 1) + 1));
			decrypts_to(f, b.name, b.key, buf, sizes[i]);
			unlink(path);
			free(path);
		}
	free(buf);
}

/*
 * A blob file written by hand: magic, then plaintext pt (n bytes) in a stream of full chunks,
 * the last one FINAL. Its name (the SHA-256 of its bytes) goes to name.
 */
static void
write_blob(struct archive_fixture *f, const char *magic, const uint8_t *pt, size_t n,
    const uint8_t key[32], char name[SHA256_HEX_LEN + 1])
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[24], sum[SHA256_LEN], *ct;
	struct cbuf file = { 0 };
	size_t off = 0, take;
	char *path, dir[600];
	int fd;

	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	assert_int_equal(cbuf_put(&file, magic, 8), 0);
	assert_int_equal(cbuf_put(&file, hdr, sizeof hdr), 0);
	ct = malloc(BLOB_CHUNK + 17);
	do {
		take = n - off < BLOB_CHUNK ? n - off : BLOB_CHUNK;
		crypto_secretstream_xchacha20poly1305_push(&st, ct, NULL, pt + off, take, NULL,
		    0, off + take == n ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		assert_int_equal(cbuf_put(&file, ct, take + 17), 0);
		off += take;
	} while (off < n);
	crypto_hash_sha256(sum, file.data, file.len);
	hex_encode(name, sum, SHA256_LEN);
	snprintf(dir, sizeof dir, "%s/blobs/%.2s", f->path, name);
	mkdir(dir, 0700);
	path = blob_path(f->a, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, file.data, file.len), 0);
	close(fd);
	free(path);
	free(ct);
	cbuf_free(&file);
}

/* Blobs from before padding ("CUSTBLB1") read as they were, a trailing mark and zeros too. */
static void
test_unpadded_still_read(void **state)
{
	struct archive_fixture *f = *state;
	static const size_t sizes[] = { 0, 1, 100, BLOB_CHUNK, BLOB_CHUNK + 1, 3 * BLOB_CHUNK };
	uint8_t key[32], *buf = malloc(3 * BLOB_CHUNK);
	char name[SHA256_HEX_LEN + 1];
	size_t i;
	int k;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	for (k = 0; k < 5; k++)
		for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			fill(buf, sizes[i], k);
			write_blob(f, BLOBFMT_MAGIC_V1, buf, sizes[i], key, name);
			decrypts_to(f, name, key, buf, sizes[i]);
		}
	free(buf);
}

/* A padded blob whose plaintext has no mark (or ends in a non-zero byte) is refused. */
static void
test_padding_without_mark(void **state)
{
	struct archive_fixture *f = *state;
	uint8_t key[32], sum[SHA256_LEN], buf[300];
	char name[SHA256_HEX_LEN + 1];
	uint64_t size;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	randombytes_buf(buf, sizeof buf);
	buf[sizeof buf - 1] = 1;
	write_blob(f, BLOBFMT_MAGIC, buf, sizeof buf, key, name);
	assert_int_equal(blob_decrypt(f->a, name, key, -1, sum, &size, NULL), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "mark"));
	memset(buf, 0, sizeof buf);
	write_blob(f, BLOBFMT_MAGIC, buf, sizeof buf, key, name);
	assert_int_equal(blob_decrypt(f->a, name, key, -1, sum, &size, NULL), CUSTODY_EINVAL);
	write_blob(f, BLOBFMT_MAGIC, buf, 0, key, name);
	assert_int_equal(blob_decrypt(f->a, name, key, -1, sum, &size, NULL), CUSTODY_EINVAL);
	buf[10] = BLOBFMT_MARK;		/* the control: with its mark it reads */
	write_blob(f, BLOBFMT_MAGIC, buf, sizeof buf, key, name);
	decrypts_to(f, name, key, buf, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_padded_sizes, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unpadded_still_read, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_padding_without_mark, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
