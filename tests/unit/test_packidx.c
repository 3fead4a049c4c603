/*
 * Reading a pack index in place (proto/packidx.c): on the index stock `git index-pack` writes
 * for a pack of 300 blobs, every object is found at its place (the ids in order, as
 * `git verify-pack` lists them) and an id the pack does not hold is not; an index that is cut
 * short, of another version, or whose fan-out decreases is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/common.h"
#include "custody/packidx.h"
#include "custody/packwrite.h"
#include "run.h"

#define NOBJ 300

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/custody-packidx.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (getenv("CUSTODY_KEEP") == NULL)
		run("rm -rf %s", dir);
	return 0;
}

static int
cmp_oid(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

/* Write DIR/NAME with n bytes of data. */
static void
put(const char *name, const void *data, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void
test_packidx_finds(void **state)
{
	static uint8_t oids[NOBJ][20];
	struct packwrite *pw = NULL;
	struct packidx *x = NULL;
	uint8_t sum[20], missing[20], *raw;
	char path[128], body[32];
	int fd, idx, i;
	FILE *f;
	long len;

	(void)state;
	snprintf(path, sizeof path, "%s/p.pack", dir);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	snprintf(path, sizeof path, "%s/ours.idx", dir);
	assert_true((idx = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(packwrite_new(&pw, fd), 0);
	for (i = 0; i < NOBJ; i++) {
		snprintf(body, sizeof body, "object %d", i);
		assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, body, strlen(body), oids[i]), 0);
	}
	assert_int_equal(packwrite_finish(pw, idx, sum), 0);
	packwrite_free(pw);
	close(fd);
	close(idx);
	/* stock git writes the index read here */
	assert_int_equal(run("git index-pack -o %s/p.idx %s/p.pack >/dev/null", dir, dir), 0);
	snprintf(path, sizeof path, "%s/p.idx", dir);
	assert_int_equal(packidx_open(&x, path), 0);
	assert_int_equal(packidx_count(x), NOBJ);
	qsort(oids, NOBJ, 20, cmp_oid);
	for (i = 0; i < NOBJ; i++) {
		assert_int_equal(packidx_find(x, oids[i]), i);
		assert_memory_equal(packidx_oid(x, (uint32_t)i), oids[i], 20);
	}
	memcpy(missing, oids[17], 20);
	missing[19] ^= 1;
	assert_int_equal(packidx_find(x, missing), -1);
	memset(missing, 0, 20);
	assert_int_equal(packidx_find(x, missing), -1);
	memset(missing, 0xff, 20);
	assert_int_equal(packidx_find(x, missing), -1);
	packidx_free(x);

	/* damaged copies of it are refused */
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	assert_non_null(raw = malloc((size_t)len));
	assert_int_equal(fread(raw, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	snprintf(path, sizeof path, "%s/bad.idx", dir);
	put("bad.idx", raw, (size_t)len - 100);
	assert_int_equal(packidx_open(&x, path), CUSTODY_EPROTO);
	put("bad.idx", raw, 500);
	assert_int_equal(packidx_open(&x, path), CUSTODY_EPROTO);
	raw[7] = 3;	/* version 3 */
	put("bad.idx", raw, (size_t)len);
	assert_int_equal(packidx_open(&x, path), CUSTODY_EPROTO);
	raw[7] = 2;
	raw[8 + 4 * 100 + 3] ^= 0x7f;	/* a fan-out entry out of order */
	raw[8 + 4 * 100 + 2] ^= 0x7f;
	put("bad.idx", raw, (size_t)len);
	assert_int_equal(packidx_open(&x, path), CUSTODY_EPROTO);
	assert_null(x);
	free(raw);
	snprintf(path, sizeof path, "%s/none.idx", dir);
	assert_int_equal(packidx_open(&x, path), CUSTODY_EIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packidx_finds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
