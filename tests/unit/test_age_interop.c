/*
 * age interop with the stock tools: files from our writer open with `age -d`, files from
 * `age -e -r` open with our reader, for a key from age-keygen and a key from age_keygen, at
 * sizes 0, 1, one full chunk and 200 KiB + an odd tail; multi-recipient files; corruption;
 * armored input. Skipped (with a message) when age is not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "custody/age.h"
#include "custody/common.h"
#include "run.h"

/* Collects released plaintext: its SHA-256, and optionally the bytes. */
struct sink {
	EVP_MD_CTX	*sha;
	struct cbuf	 buf;
	int		 keep;
	size_t		 total;
	size_t		 calls;
};

static int
sink_write(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	assert_true(n > 0);
	assert_true(n <= AGE_CHUNK_LEN);
	s->total += n;
	s->calls++;
	assert_int_equal(EVP_DigestUpdate(s->sha, p, n), 1);
	return s->keep ? cbuf_put(&s->buf, p, n) : 0;
}

static void
sink_init(struct sink *s, int keep)
{
	memset(s, 0, sizeof *s);
	s->keep = keep;
	assert_non_null(s->sha = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL), 1);
}

static void
sink_free(struct sink *s)
{
	EVP_MD_CTX_free(s->sha);
	cbuf_free(&s->buf);
}

static uint8_t *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	randombytes_buf(p, n);
	return p;
}

/* Read a whole file into b. */
static void
slurp(struct cbuf *b, const char *path)
{
	uint8_t buf[65536];
	ssize_t n;
	int fd;

	b->len = 0;
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	while ((n = read_full(fd, buf, sizeof buf)) > 0)
		assert_int_equal(cbuf_put(b, buf, (size_t)n), 0);
	assert_true(n == 0);
	close(fd);
}

static int
fd_write(void *arg, const void *p, size_t n)
{
	return write_all(*(int *)arg, p, n);
}

static ssize_t
fd_read(void *arg, void *buf, size_t n)
{
	return read_full(*(int *)arg, buf, n);
}

/* Our writer to rcpts into path. */
static void
encrypt_file(const char *path, const struct age_recipient *rcpts, size_t n, const uint8_t *pt,
    size_t len)
{
	struct age_writer *w;
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(age_writer_new(&w, rcpts, n, fd_write, &fd), 0);
	assert_int_equal(age_writer_write(w, pt, len / 3), 0);
	assert_int_equal(age_writer_write(w, pt + len / 3, len - len / 3), 0);
	assert_int_equal(age_writer_finish(w), 0);
	age_writer_free(w);
	assert_int_equal(close(fd), 0);
}

/* Our reader over path; returns its code, plaintext into s. */
static int
decrypt_file(struct sink *s, const char *path, const struct age_identity *ids, size_t n)
{
	struct age_reader *r;
	int fd, error;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(age_reader_new(&r, ids, n, sink_write, s), 0);
	error = age_reader_run(r, fd_read, &fd);
	age_reader_free(r);
	close(fd);
	return error;
}

/* A plaintext file of len random bytes at path; returns the bytes. */
static uint8_t *
make_plain(const char *path, size_t len)
{
	uint8_t *pt = random_bytes(len);
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write_all(fd, pt, len), 0);
	close(fd);
	return pt;
}

/* One size both ways: ours -> age -d, age -e -> ours; for their key and ours. */
static void
interop_size(const char *dir, size_t len, const struct age_identity *ids, const char *rcpt[2])
{
	struct age_recipient r[2];
	struct cbuf got = { 0 };
	struct sink s;
	uint8_t *pt;
	char p[512], e[512], o[512];
	int k;

	snprintf(p, sizeof p, "%s/plain", dir);
	snprintf(e, sizeof e, "%s/enc.age", dir);
	snprintf(o, sizeof o, "%s/out", dir);
	pt = make_plain(p, len);
	for (k = 0; k < 2; k++)
		assert_int_equal(age_recipient_parse(&r[k], rcpt[k], strlen(rcpt[k])), 0);
	for (k = 0; k < 2; k++) {
		encrypt_file(e, &r[k], 1, pt, len);
		assert_int_equal(run("age -d -i %s/key%d.txt %s > %s", dir, k, e, o), 0);
		slurp(&got, o);
		assert_int_equal(got.len, len);
		assert_true(len == 0 || memcmp(got.data, pt, len) == 0);
		unlink(o);

		assert_int_equal(run("age -e -r %s -o %s %s", rcpt[k], e, p), 0);
		sink_init(&s, 1);
		assert_int_equal(decrypt_file(&s, e, &ids[k], 1), 0);
		assert_int_equal(s.total, len);
		assert_true(len == 0 || memcmp(s.buf.data, pt, len) == 0);
		sink_free(&s);
	}
	/* Both recipients in one file: each key opens it with stock age. */
	encrypt_file(e, r, 2, pt, len);
	for (k = 0; k < 2; k++)
		assert_int_equal(run("age -d -i %s/key%d.txt -o /dev/null %s", dir, k, e), 0);
	/* A flipped last byte (whatever it was): stock age refuses our file too. */
	if (len > 0) {
		int fd = open(e, O_RDWR);
		off_t end;
		uint8_t last;

		assert_true(fd >= 0);
		assert_true((end = lseek(fd, 0, SEEK_END)) > 0);
		assert_int_equal(pread(fd, &last, 1, end - 1), 1);
		last ^= 1;
		assert_int_equal(pwrite(fd, &last, 1, end - 1), 1);
		close(fd);
		assert_int_not_equal(run("age -d -i %s/key0.txt -o /dev/null %s 2>/dev/null", dir,
		    e), 0);
	}
	cbuf_free(&got);
	free(pt);
}

/* Write our identity as an age-keygen style file. */
static void
write_identity_file(const char *path, const struct age_identity *id)
{
	char s[AGE_IDENTITY_STR_LEN + 1], t[AGE_RECIPIENT_STR_LEN + 1];
	struct age_recipient r;
	FILE *f;

	age_identity_format(s, id);
	age_identity_recipient(&r, id);
	age_recipient_format(t, &r);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "# created: by test_age\n# public key: %s\n%s\n", t, s);
	assert_int_equal(fclose(f), 0);
	sodium_memzero(s, sizeof s);
}

/* Stock age/age-keygen against our reader, writer and keys. */
static void
test_interop_age(void **state)
{
	static const size_t sizes[] = { 0, 1, 65536, 200 * 1024 + 333 };
	char dir[] = "/tmp/custody-age-XXXXXX", path[512], line[128];
	char rcpt0[AGE_RECIPIENT_STR_LEN + 1], rcpt1[AGE_RECIPIENT_STR_LEN + 1];
	const char *rcpts[2] = { rcpt0, rcpt1 };
	struct age_identity *theirs, ids[2];
	struct age_recipient r;
	struct sink s;
	size_t n, i;
	FILE *f;

	if (run("age --version >/dev/null 2>&1") != 0 ||
	    run("age-keygen --version >/dev/null 2>&1") != 0) {
		print_message("skipping age interop: age/age-keygen not installed\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	/* age-keygen's file loads, and our public key equals age-keygen -y. */
	assert_int_equal(run("age-keygen -o %s/key0.txt 2>/dev/null", dir), 0);
	snprintf(path, sizeof path, "%s/key0.txt", dir);
	assert_int_equal(age_identity_file_load(&theirs, &n, path), 0);
	assert_int_equal(n, 1);
	ids[0] = theirs[0];
	age_identity_file_free(theirs);
	age_identity_recipient(&r, &ids[0]);
	age_recipient_format(rcpt0, &r);
	snprintf(path, sizeof path, "age-keygen -y %s/key0.txt", dir);
	assert_non_null(f = popen(path, "r"));
	assert_non_null(fgets(line, sizeof line, f));
	assert_int_equal(pclose(f), 0);
	line[strcspn(line, "\n")] = '\0';
	assert_string_equal(line, rcpt0);
	/* Our key: age-keygen -y derives the same recipient from our identity file. */
	assert_int_equal(age_keygen(&ids[1]), 0);
	snprintf(path, sizeof path, "%s/key1.txt", dir);
	write_identity_file(path, &ids[1]);
	age_identity_recipient(&r, &ids[1]);
	age_recipient_format(rcpt1, &r);
	snprintf(path, sizeof path, "age-keygen -y %s/key1.txt", dir);
	assert_non_null(f = popen(path, "r"));
	assert_non_null(fgets(line, sizeof line, f));
	assert_int_equal(pclose(f), 0);
	line[strcspn(line, "\n")] = '\0';
	assert_string_equal(line, rcpt1);

	for (i = 0; i < sizeof sizes / sizeof *sizes; i++)
		interop_size(dir, sizes[i], ids, rcpts);

	/* Armored output of stock age fails cleanly here. */
	assert_int_equal(run("echo hello | age -e -a -r %s -o %s/armored.age", rcpt0, dir), 0);
	snprintf(path, sizeof path, "%s/armored.age", dir);
	sink_init(&s, 0);
	assert_int_equal(decrypt_file(&s, path, ids, 2), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "armored"));
	assert_int_equal(s.total, 0);
	sink_free(&s);
	assert_int_equal(run("rm -rf %s", dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interop_age),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
