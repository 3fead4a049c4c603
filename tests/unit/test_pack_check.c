/*
 * The pack check (proto/pack-check.c): packs stock git writes (OFS_DELTA and REF_DELTA) pass,
 * whole or a byte at a time; every bound and malformation is refused with its reason, a delta
 * bomb before a byte of its result is made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "custody/common.h"
#include "custody/pack-check.h"

static const struct pack_limits lim = { 1 << 20, 64, 1 << 16, 1 << 18 };

/* An entry header of type kind declaring size bytes. */
static void
put_entry(struct cbuf *b, int kind, size_t size)
{
	uint8_t c = (uint8_t)((kind << 4) | (size & 15));

	for (size >>= 4; size > 0; size >>= 7) {
		cbuf_put_u8(b, c | 0x80);
		c = size & 0x7f;
	}
	cbuf_put_u8(b, c);
}

static void
put_varint(struct cbuf *b, size_t n)
{
	for (; n >= 0x80; n >>= 7)
		cbuf_put_u8(b, (uint8_t)(n | 0x80));
	cbuf_put_u8(b, (uint8_t)n);
}

static void
put_deflated(struct cbuf *b, const void *p, size_t n)
{
	uLongf len = compressBound(n);

	assert_int_equal(cbuf_reserve(b, len), 0);
	assert_int_equal(compress(b->data + b->len, &len, p, n), Z_OK);
	b->len += len;
}

/* "PACK", version 2, count, then the entries in body, then the SHA-1 trailer. */
static void
finish_pack(struct cbuf *out, uint32_t count, const struct cbuf *body)
{
	uint8_t sum[SHA_DIGEST_LENGTH];

	cbuf_put(out, "PACK", 4);
	cbuf_put_u32be(out, 2);
	cbuf_put_u32be(out, count);
	cbuf_put(out, body->data, body->len);
	SHA1(out->data, out->len, sum);
	cbuf_put(out, sum, sizeof sum);
}

/* Check a pack in pieces of step bytes; 0 or the first error. */
static int
check(const struct cbuf *p, size_t step)
{
	struct pack_check *c;
	size_t off, n;
	int error = 0;

	assert_int_equal(pack_check_new(&c, &lim), 0);
	for (off = 0; off < p->len && error == 0; off += n) {
		n = p->len - off < step ? p->len - off : step;
		error = pack_check_feed(c, p->data + off, n);
	}
	if (error == 0)
		error = pack_check_finish(c);
	pack_check_free(c);
	return error;
}

/* A pack stock git wrote for a small repository, with deltas of the kind asked. */
static void
git_pack(struct cbuf *out, const char *kind)
{
	char dir[] = "/tmp/custody-packXXXXXX", cmd[1024];
	FILE *f;
	size_t n;
	uint8_t buf[4096];

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "cd %s && git init -q . && for i in 1 2 3 4; do "
	    "seq 1 400 >f$i; echo $i >>f$i; done && git add . && git -c user.name=t "
	    "-c user.email=t@t commit -qm one && echo x >>f1 && git -c user.name=t "
	    "-c user.email=t@t commit -qam two && git rev-list --objects HEAD | cut -d' ' -f1 | "
	    "git pack-objects --stdout %s >pack", dir, kind);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/pack", dir);
	assert_non_null(f = fopen(cmd, "rb"));
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		cbuf_put(out, buf, n);
	fclose(f);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_stock_packs_pass(void **state)
{
	struct cbuf ofs = { 0 }, ref = { 0 }, more = { 0 };

	git_pack(&ofs, "--delta-base-offset");
	git_pack(&ref, "");
	assert_int_equal(check(&ofs, ofs.len), 0);
	assert_int_equal(check(&ofs, 1), 0);
	assert_int_equal(check(&ref, 7), 0);
	/* cut short anywhere, or followed by anything: refused */
	ofs.len--;
	assert_int_equal(check(&ofs, 100), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "ends early"));
	cbuf_put(&more, ref.data, ref.len);
	cbuf_put_u8(&more, 0);
	assert_int_equal(check(&more, 100), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "after the end"));
	cbuf_free(&ofs);
	cbuf_free(&ref);
	cbuf_free(&more);
}

static void
test_delta_bomb_refused(void **state)
{
	struct cbuf body = { 0 }, delta = { 0 }, pack = { 0 };
	static uint8_t base[4096];
	uint8_t id[20] = { 0 };
	int i;

	put_varint(&delta, sizeof base);
	put_varint(&delta, 1 << 30);	/* a 1 GiB result, from copy instructions */
	for (i = 0; i < 16384; i++)
		cbuf_put_u8(&delta, 0x80);
	put_entry(&body, 3, sizeof base);
	put_deflated(&body, base, sizeof base);
	put_entry(&body, 7, delta.len);
	cbuf_put(&body, id, sizeof id);
	put_deflated(&body, delta.data, delta.len);
	finish_pack(&pack, 2, &body);
	assert_true(pack.len < 200);
	assert_int_equal(check(&pack, 1), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "a delta from 4096 to 1073741824 bytes"));
	cbuf_free(&body);
	cbuf_free(&delta);
	cbuf_free(&pack);
}

static void
test_bounds_refused(void **state)
{
	struct cbuf body = { 0 }, pack = { 0 };
	static uint8_t big[(1 << 16) + 1];
	uint8_t small[100] = { 1 };
	int i;

	/* too many objects claimed */
	finish_pack(&pack, 65, &body);
	assert_int_equal(check(&pack, 5), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "claims 65 objects"));
	/* an object over the limit, refused at its header */
	pack.len = 0;
	put_entry(&body, 3, sizeof big);
	put_deflated(&body, big, sizeof big);
	finish_pack(&pack, 1, &body);
	assert_int_equal(check(&pack, 3), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "65537 bytes"));
	/* the sum of sizes over the limit */
	body.len = pack.len = 0;
	for (i = 0; i < 5; i++) {
		put_entry(&body, 3, 1 << 16);
		put_deflated(&body, big, 1 << 16);
	}
	finish_pack(&pack, 5, &body);
	assert_int_equal(check(&pack, 1000), CUSTODY_ETOOBIG);
	assert_non_null(strstr(custody_error(), "expands to more than"));
	/* an entry that inflates past what it declares */
	body.len = pack.len = 0;
	put_entry(&body, 3, 10);
	put_deflated(&body, small, sizeof small);
	finish_pack(&pack, 1, &body);
	assert_int_equal(check(&pack, 1), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "inflates past"));
	/* an OFS_DELTA reaching before the pack */
	body.len = pack.len = 0;
	put_entry(&body, 6, 10);
	cbuf_put_u8(&body, 0x20);
	put_deflated(&body, small, 10);
	finish_pack(&pack, 1, &body);
	assert_int_equal(check(&pack, 1), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "outside the pack"));
	/* not a pack at all */
	assert_int_equal(check(&(struct cbuf){ (uint8_t *)"PACX\0\0\0\2\0\0\0\0", 12, 12 }, 12),
	    CUSTODY_EPROTO);
	cbuf_free(&body);
	cbuf_free(&pack);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stock_packs_pass),
		cmocka_unit_test(test_delta_bomb_refused),
		cmocka_unit_test(test_bounds_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
