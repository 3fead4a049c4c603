/*
 * The local blob store (blobstore-local.c) against the contract of blobstore.h: a name is
 * visible only once committed, a committed name keeps its first bytes, reads from an offset,
 * list sees final names only, sweep removes what interrupted writes left and nothing else, a
 * blob directory removed by hand is made again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "custody/common.h"
#include "archive.h"
#include "blobstore.h"

struct fixture {
	char		 dir[64];
	struct blobstore *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct blobstore_conf c;
	char p[128], *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/custody-bs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(p, sizeof p, "%s/blobs", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/tmp", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	blobstore_conf_init(&c);
	assert_int_equal(blobstore_conf_check(&c, &cause), 0);
	assert_int_equal(blobstore_open(&f->s, &c, f->dir, &cause), 0);
	assert_null(cause);
	assert_string_equal(blobstore_kind(f->s), "local");
	blobstore_conf_free(&c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	blobstore_close(f->s);
	snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The hex SHA-256 of p. */
static void
name_of(char out[SHA256_HEX_LEN + 1], const void *p, size_t n)
{
	uint8_t md[SHA256_LEN];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	hex_encode(out, md, SHA256_LEN);
}

/* How many entries of dir/ start with prefix. */
static int
count(const struct fixture *f, const char *sub, const char *prefix)
{
	char cmd[256], buf[32];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A %s/%s | grep -c '^%s' || true", f->dir, sub, prefix);
	assert_non_null(p = popen(cmd, "r"));
	if (fgets(buf, sizeof buf, p) != NULL)
		n = atoi(buf);
	pclose(p);
	return n;
}

/* Read name from offset to its end into a fresh buffer (caller frees). */
static uint8_t *
read_all(struct blobstore *s, const char *name, uint64_t offset, uint64_t *size, size_t *len)
{
	struct blobstore_reader *r;
	uint8_t *buf;
	size_t got, cap;

	assert_int_equal(blobstore_read_open(s, name, offset, &r, size), 0);
	cap = (size_t)(*size - offset) + 1;
	assert_non_null(buf = malloc(cap));
	*len = 0;
	do {
		assert_int_equal(blobstore_read(r, buf + *len, 4099 < cap - *len ? 4099 :
		    cap - *len, &got), 0);
		*len += got;
	} while (got > 0 && *len < cap);
	blobstore_read_close(r);
	return buf;
}

/* Write p in pieces of step bytes and commit it under its hash; the name in name. */
static int
put(struct blobstore *s, const uint8_t *p, size_t n, size_t step, char name[SHA256_HEX_LEN + 1])
{
	struct blobstore_writer *w;
	size_t off, k;

	name_of(name, p, n);
	assert_int_equal(blobstore_begin(s, &w), 0);
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		assert_int_equal(blobstore_write(w, p + off, k), 0);
	}
	assert_int_equal(w->written, n);
	return blobstore_commit(w, name);
}

static int
list_cb(void *arg, const char *name)
{
	char *seen = arg;

	if (seen[0] != '\0')
		strcat(seen, ",");
	strncat(seen, name, 8);
	return 0;
}

static int
list_stop(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return -42;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct blobstore_writer *w;
	uint8_t data[100000], *back;
	char name[SHA256_HEX_LEN + 1], p[256];
	uint64_t size;
	size_t i, len;
	struct stat st;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	name_of(name, data, sizeof data);

	/* not visible before the commit: only a temporary */
	assert_int_equal(blobstore_begin(f->s, &w), 0);
	assert_int_equal(blobstore_write(w, data, 5000), 0);
	assert_int_equal(blobstore_write(w, data + 5000, sizeof data - 5000), 0);
	assert_int_equal(blobstore_stat(f->s, name, &size), CUSTODY_ENOTFOUND);
	assert_int_equal(count(f, "tmp", "ingest-"), 1);
	assert_int_equal(blobstore_commit(w, name), 0);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);

	/* where the header says, whole */
	snprintf(p, sizeof p, "%s/blobs/%.2s/%s", f->dir, name, name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, sizeof data);
	assert_int_equal(blobstore_stat(f->s, name, &size), 0);
	assert_int_equal(size, sizeof data);
	back = read_all(f->s, name, 0, &size, &len);
	assert_int_equal(len, sizeof data);
	assert_memory_equal(back, data, sizeof data);
	free(back);

	/* from an offset, and from its end */
	back = read_all(f->s, name, 65536, &size, &len);
	assert_int_equal(size, sizeof data);
	assert_int_equal(len, sizeof data - 65536);
	assert_memory_equal(back, data + 65536, len);
	free(back);
	back = read_all(f->s, name, sizeof data, &size, &len);
	assert_int_equal(len, 0);
	free(back);
}

static void
test_commit_keeps_existing(void **state)
{
	struct fixture *f = *state;
	struct blobstore_writer *w;
	uint8_t a[3000], *back;
	char name[SHA256_HEX_LEN + 1];
	uint64_t size;
	size_t len;

	memset(a, 'a', sizeof a);
	assert_int_equal(put(f->s, a, sizeof a, 1000, name), 0);
	/* other bytes under the same name: the first object stays, the temporary goes */
	assert_int_equal(blobstore_begin(f->s, &w), 0);
	assert_int_equal(blobstore_write(w, "other", 5), 0);
	assert_int_equal(blobstore_commit(w, name), 0);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);
	back = read_all(f->s, name, 0, &size, &len);
	assert_int_equal(len, sizeof a);
	assert_memory_equal(back, a, sizeof a);
	free(back);
}

/*
 * The store remembers which blobs/ab directories it made, but one removed behind its back
 * (by hand: an operator clearing a directory) is made again when a blob goes into it.
 */
static void
test_fanout_removed(void **state)
{
	struct fixture *f = *state;
	uint8_t a[100], b[100], *back;
	char na[SHA256_HEX_LEN + 1], nb[SHA256_HEX_LEN + 1], cmd[256];
	uint64_t size;
	size_t len;
	int i;

	memset(a, 'a', sizeof a);
	assert_int_equal(put(f->s, a, sizeof a, 100, na), 0);
	/* another blob in the same directory */
	for (i = 0; ; i++) {
		snprintf((char *)b, sizeof b, "other bytes %d", i);
		name_of(nb, b, sizeof b);
		if (memcmp(na, nb, 2) == 0)
			break;
	}
	assert_int_equal(blobstore_remove(f->s, na), 0);
	snprintf(cmd, sizeof cmd, "rmdir %s/blobs/%.2s", f->dir, na);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(put(f->s, b, sizeof b, 100, nb), 0);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);
	back = read_all(f->s, nb, 0, &size, &len);
	assert_int_equal(len, sizeof b);
	assert_memory_equal(back, b, sizeof b);
	free(back);
}

static void
test_abort_and_bad_name(void **state)
{
	struct fixture *f = *state;
	struct blobstore_writer *w;
	struct blobstore_reader *r;
	char bad[SHA256_HEX_LEN + 1];
	uint64_t size;

	assert_int_equal(blobstore_begin(f->s, &w), 0);
	assert_int_equal(blobstore_write(w, "abc", 3), 0);
	blobstore_abort(w);
	blobstore_abort(NULL);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);

	/* a name that is not lowercase hex SHA-256 is refused, the temporary dropped */
	memset(bad, 'A', SHA256_HEX_LEN);
	bad[SHA256_HEX_LEN] = '\0';
	assert_int_equal(blobstore_begin(f->s, &w), 0);
	assert_int_equal(blobstore_write(w, "abc", 3), 0);
	assert_int_equal(blobstore_commit(w, bad), CUSTODY_EINVAL);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);
	assert_int_equal(blobstore_commit((blobstore_begin(f->s, &w), w), "../../etc/passwd"),
	    CUSTODY_EINVAL);
	assert_int_equal(blobstore_stat(f->s, "../x", &size), CUSTODY_EINVAL);
	assert_int_equal(blobstore_read_open(f->s, "ab", 0, &r, &size), CUSTODY_EINVAL);
	assert_null(r);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);
}

static void
test_missing_remove_list(void **state)
{
	struct fixture *f = *state;
	struct blobstore_reader *r;
	uint8_t x[10] = "0123456789", y[20] = "abcdefghijabcdefghij";
	char nx[SHA256_HEX_LEN + 1], ny[SHA256_HEX_LEN + 1], seen[256] = "", p[256], want[32];
	uint64_t size;

	assert_int_equal(blobstore_read_open(f->s, "00" "11111111111111111111111111111111111111"
	    "111111111111111111111111", 0, &r, &size), CUSTODY_ENOTFOUND);
	assert_non_null(strstr(custody_error(), "missing"));
	assert_int_equal(put(f->s, x, sizeof x, 3, nx), 0);
	assert_int_equal(put(f->s, y, sizeof y, 64, ny), 0);
	assert_int_equal(blobstore_read_open(f->s, nx, 11, &r, &size), CUSTODY_EINVAL);

	/* strays in blobs/ are not blobs */
	snprintf(p, sizeof p, "%s/blobs/zz", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/blobs/%.2s/notahash", f->dir, nx);
	fclose(fopen(p, "w"));
	assert_int_equal(blobstore_list(f->s, list_cb, seen), 0);
	assert_int_equal(strlen(seen), 17);
	snprintf(want, sizeof want, "%.8s", nx);
	assert_non_null(strstr(seen, want));
	snprintf(want, sizeof want, "%.8s", ny);
	assert_non_null(strstr(seen, want));
	assert_int_equal(blobstore_list(f->s, list_stop, NULL), -42);

	assert_int_equal(blobstore_remove(f->s, nx), 0);
	assert_int_equal(blobstore_remove(f->s, nx), CUSTODY_ENOTFOUND);
	assert_int_equal(blobstore_stat(f->s, nx, &size), CUSTODY_ENOTFOUND);
	seen[0] = '\0';
	assert_int_equal(blobstore_list(f->s, list_cb, seen), 0);
	assert_string_equal(seen, want);
}

static void
test_sweep_and_large(void **state)
{
	struct fixture *f = *state;
	struct blobstore_writer *w;
	char name[SHA256_HEX_LEN + 1], p[256], *why = NULL;
	size_t n = (20u << 20) + 12345, len, i;
	uint8_t *big = malloc(n), *back;
	unsigned removed = 9;
	uint64_t size;

	/* what a crash leaves: temporaries of writers; a peer's resumable part stays */
	assert_int_equal(blobstore_begin(f->s, &w), 0);
	assert_int_equal(blobstore_write(w, "half", 4), 0);
	snprintf(p, sizeof p, "%s/tmp/ingest-crash1", f->dir);
	fclose(fopen(p, "w"));
	snprintf(p, sizeof p, "%s/tmp/sync-abc.part", f->dir);
	fclose(fopen(p, "w"));
	assert_int_equal(blobstore_sweep(f->s, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(count(f, "tmp", "ingest-"), 0);
	assert_int_equal(count(f, "tmp", "sync-"), 1);
	blobstore_abort(w);	/* its file is gone already: still safe */

	/* larger than a writeback kick, in odd pieces */
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (uint8_t)(i ^ (i >> 11));
	assert_int_equal(put(f->s, big, n, 3u << 20, name), 0);
	back = read_all(f->s, name, 1, &size, &len);
	assert_int_equal(size, n);
	assert_int_equal(len, n - 1);
	assert_memory_equal(back, big + 1, len);
	free(back);
	free(big);

	assert_int_equal(blobstore_health(f->s, &why), 0);
	assert_null(why);
	if (geteuid() != 0) {	/* root writes anywhere */
		snprintf(p, sizeof p, "%s/blobs", f->dir);
		assert_int_equal(chmod(p, 0500), 0);
		assert_int_equal(blobstore_health(f->s, &why), CUSTODY_EIO);
		assert_non_null(why);
		free(why);
		assert_int_equal(chmod(p, 0700), 0);
	}
}

/* A file staged in tmp/ (a blob received by sync or from a bundle) is moved into place. */
static void
test_commit_file(void **state)
{
	struct fixture *f = *state;
	char p[256], q[256], name[SHA256_HEX_LEN + 1];
	uint8_t *back;
	uint64_t size;
	size_t len;
	FILE *fp;

	name_of(name, "staged bytes", 12);
	snprintf(p, sizeof p, "%s/tmp/sync-%s.part", f->dir, name);
	assert_non_null(fp = fopen(p, "w"));
	fputs("staged bytes", fp);
	fclose(fp);
	assert_int_equal(blobstore_commit_file(f->s, p, "not-a-name"), CUSTODY_EINVAL);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(blobstore_commit_file(f->s, p, name), 0);
	assert_int_not_equal(access(p, F_OK), 0);
	back = read_all(f->s, name, 0, &size, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(back, "staged bytes", 12);
	free(back);
	/* again under the same name: the object stays, the staged file goes */
	assert_non_null(fp = fopen(p, "w"));
	fputs("other", fp);
	fclose(fp);
	assert_int_equal(blobstore_commit_file(f->s, p, name), 0);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(q, sizeof q, "%s/blobs/%.2s/%s", f->dir, name, name);
	assert_non_null(fp = fopen(q, "r"));
	assert_non_null(fgets(p, sizeof p, fp));
	fclose(fp);
	assert_string_equal(p, "staged bytes");
}

/* custody.conf's [blobs] section: read by conf_load, a bad value named with its key. */
static void
test_conf_load(void **state)
{
	struct fixture *f = *state;
	struct conf c;
	char p[256], *cause = NULL;
	FILE *fp;

	snprintf(p, sizeof p, "%s/custody.conf", f->dir);
	assert_non_null(fp = fopen(p, "w"));
	fputs("[office]\nname = alpha\n[blobs]\nstore = local\npool = evidence\ntimeout = 30\n", fp);
	fclose(fp);
	assert_int_equal(conf_load(&c, p, &cause), 0);
	assert_int_equal(c.blobs.kind, BLOBSTORE_LOCAL);
	assert_string_equal(c.blobs.pool, "evidence");
	assert_int_equal(c.blobs.timeout, 30);
	conf_free(&c);

	assert_non_null(fp = fopen(p, "w"));
	fputs("[office]\nname = alpha\n[blobs]\ntimeout = 5s\n", fp);
	fclose(fp);
	assert_int_equal(conf_load(&c, p, &cause), CUSTODY_EINVAL);
	assert_non_null(cause);
	if (strstr(cause, "[blobs] timeout = 5s") == NULL)
		fail_msg("'%s' does not name the key", cause);
	free(cause);
	cause = NULL;
	conf_free(&c);

	assert_non_null(fp = fopen(p, "w"));
	fputs("[office]\nname = alpha\n[blobs]\ncolour = red\n", fp);
	fclose(fp);
	assert_int_equal(conf_load(&c, p, &cause), CUSTODY_EINVAL);
	if (strstr(cause, "unknown setting [blobs] colour") == NULL)
		fail_msg("'%s' does not name the key", cause);
	free(cause);
	conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_keeps_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_bad_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fanout_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_remove_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_load, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
