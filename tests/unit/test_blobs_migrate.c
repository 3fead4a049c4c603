/*
 * blobs_migrate_move (daemon/engine/blobs-migrate.c) between two in-memory blob stores that
 * keep the blobstore.h contract: every object moves whole, and no source copy is removed
 * before its copy at the destination is durable (settled) and hashes to its name; a resumed
 * run copies nothing twice; a damaged copy at the destination is replaced; an object whose
 * source bytes do not match its name is named, kept and not copied; a destination that fails
 * halfway stops the move with every object still whole somewhere.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "custody/common.h"
#include "blobs-migrate.h"

#define MAXOBJ 300

struct mem_obj {
	char	 name[SHA256_HEX_LEN + 1];
	uint8_t	*data;
	size_t	 len;
	int	 durable;	/* settled since it was committed */
};

struct mem_store {
	struct blobstore base;
	struct mem_obj	 obj[MAXOBJ];
	size_t		 n;
	unsigned	 commits, removes;
	int		 fail_after;	/* commits before every write fails (-1: never) */
	struct mem_store *peer;		/* the destination: checked before a removal here */
};

struct mem_writer {
	struct blobstore_writer base;
	uint8_t	*data;
	size_t	 len;
};

struct mem_reader {
	struct blobstore_reader base;
	const struct mem_obj *o;
	size_t	 off;
};

static const struct blobstore_ops mem_ops;

static struct mem_obj *
mem_find(struct mem_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->obj[i].name, name) == 0)
			return &s->obj[i];
	return NULL;
}

static void
sha_hex(const void *p, size_t n, char hex[static SHA256_HEX_LEN + 1])
{
	uint8_t md[SHA256_LEN];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	hex_encode(hex, md, SHA256_LEN);
}

/* Put bytes under name directly (as an earlier run, or an attacker, left them). */
static void
mem_put(struct mem_store *s, const char *name, const void *p, size_t n)
{
	struct mem_obj *o = &s->obj[s->n++];

	assert_true(s->n <= MAXOBJ);
	snprintf(o->name, sizeof o->name, "%s", name);
	o->data = malloc(n ? n : 1);
	memcpy(o->data, p, n);
	o->len = n;
	o->durable = 1;
}

/* Put bytes under their own name; the name in hex. */
static void
mem_add(struct mem_store *s, const void *p, size_t n, char name[static SHA256_HEX_LEN + 1])
{
	sha_hex(p, n, name);
	mem_put(s, name, p, n);
}

static void
mem_drop(struct mem_store *s, struct mem_obj *o)
{
	free(o->data);
	*o = s->obj[--s->n];
}

static int
mem_begin(struct blobstore *s, struct blobstore_writer **out)
{
	struct mem_writer *w = calloc(1, sizeof *w);

	w->base.store = s;
	*out = &w->base;
	return 0;
}

static int
mem_write(struct blobstore_writer *bw, const void *p, size_t n)
{
	struct mem_writer *w = (struct mem_writer *)bw;
	struct mem_store *s = (struct mem_store *)bw->store;

	if (s->fail_after >= 0 && s->commits >= (unsigned)s->fail_after)
		return custody_fail(CUSTODY_EIO, "ceph unreachable: pool test: write");
	w->data = realloc(w->data, w->len + n);
	memcpy(w->data + w->len, p, n);
	w->len += n;
	return 0;
}

static void
mem_abort(struct blobstore_writer *bw)
{
	struct mem_writer *w = (struct mem_writer *)bw;

	free(w->data);
	free(w);
}

static int
mem_commit(struct blobstore_writer *bw, const char *name)
{
	struct mem_writer *w = (struct mem_writer *)bw;
	struct mem_store *s = (struct mem_store *)bw->store;

	if (mem_find(s, name) == NULL) {
		mem_put(s, name, w->data, w->len);
		s->obj[s->n - 1].durable = 0;
	}
	s->commits++;
	mem_abort(bw);
	return 0;
}

static int
mem_read_open(struct blobstore *bs, const char *name, uint64_t offset,
    struct blobstore_reader **out, uint64_t *size)
{
	struct mem_obj *o = mem_find((struct mem_store *)bs, name);
	struct mem_reader *r;

	if (o == NULL)
		return CUSTODY_ENOTFOUND;
	r = calloc(1, sizeof *r);
	r->base.store = bs;
	r->o = o;
	r->off = (size_t)offset;
	*size = o->len;
	*out = &r->base;
	return 0;
}

static int
mem_read(struct blobstore_reader *br, void *p, size_t n, size_t *got)
{
	struct mem_reader *r = (struct mem_reader *)br;

	if (n > r->o->len - r->off)
		n = r->o->len - r->off;
	if (n > 100000)		/* several pieces for a large object */
		n = 100000;
	memcpy(p, r->o->data + r->off, n);
	r->off += n;
	*got = n;
	return 0;
}

static void
mem_read_close(struct blobstore_reader *r)
{
	free(r);
}

static int
mem_stat(struct blobstore *bs, const char *name, uint64_t *size)
{
	struct mem_obj *o = mem_find((struct mem_store *)bs, name);

	if (o == NULL)
		return CUSTODY_ENOTFOUND;
	*size = o->len;
	return 0;
}

static int
mem_remove(struct blobstore *bs, const char *name)
{
	struct mem_store *s = (struct mem_store *)bs;
	struct mem_obj *o = mem_find(s, name), *there;
	char hex[SHA256_HEX_LEN + 1];

	if (o == NULL)
		return CUSTODY_ENOTFOUND;
	if (s->peer != NULL) {	/* the source: its copy must be whole and durable over there */
		there = mem_find(s->peer, name);
		assert_non_null(there);
		assert_true(there->durable);
		sha_hex(there->data, there->len, hex);
		assert_string_equal(hex, name);
	}
	mem_drop(s, o);
	s->removes++;
	return 0;
}

static int
mem_list(struct blobstore *bs, blobstore_list_cb cb, void *arg)
{
	struct mem_store *s = (struct mem_store *)bs;
	size_t i;
	int error;

	for (i = 0; i < s->n; i++)
		if ((error = cb(arg, s->obj[i].name)) < 0)
			return error;
	return 0;
}

static const struct blobstore_ops mem_ops = {
	.kind = "mem", .begin = mem_begin, .write = mem_write, .commit = mem_commit,
	.abort = mem_abort, .read_open = mem_read_open, .read = mem_read,
	.read_close = mem_read_close, .stat = mem_stat, .remove = mem_remove, .list = mem_list,
};

static int
mem_settle(void *arg)
{
	struct mem_store *s = arg;
	size_t i;

	for (i = 0; i < s->n; i++)
		s->obj[i].durable = 1;
	return 0;
}

struct events {
	unsigned moved, present, recopied, bad;
	char	 bad_why[512];
};

static void
events_cb(void *arg, enum blobs_migrate_event ev, const char *name, uint64_t size,
    const char *why, const struct blobs_migrate_stats *st)
{
	struct events *e = arg;

	(void)name;
	(void)size;
	(void)st;
	switch (ev) {
	case BLOBS_MIGRATE_MOVED: e->moved++; break;
	case BLOBS_MIGRATE_PRESENT: e->present++; break;
	case BLOBS_MIGRATE_RECOPIED: e->recopied++; break;
	case BLOBS_MIGRATE_BAD:
		e->bad++;
		snprintf(e->bad_why, sizeof e->bad_why, "%s", why);
		break;
	}
}

static struct mem_store src, dst;
static struct events ev;
static char names[MAXOBJ][SHA256_HEX_LEN + 1];

static void
stores_reset(void)
{
	while (src.n > 0)
		mem_drop(&src, &src.obj[0]);
	while (dst.n > 0)
		mem_drop(&dst, &dst.obj[0]);
	memset(&src, 0, sizeof src);
	memset(&dst, 0, sizeof dst);
	src.base.ops = dst.base.ops = &mem_ops;
	src.fail_after = dst.fail_after = -1;
	src.peer = &dst;
	memset(&ev, 0, sizeof ev);
}

/* n objects in the source, of sizes from a few bytes to 2.5 MiB. */
static size_t
fill(size_t n)
{
	size_t i, len, total = 0;
	uint8_t *p;

	for (i = 0; i < n; i++) {
		len = i == 3 ? (5u << 19) : 10 + 977 * i;
		p = malloc(len);
		randombytes_buf(p, len);
		mem_add(&src, p, len, names[i]);
		free(p);
		total += len;
	}
	return total;
}

static int
move(struct blobs_migrate_stats *st)
{
	struct blobs_migrate_io io = {
		.src = &src.base, .dst = &dst.base, .settle = mem_settle, .settle_arg = &dst,
		.cb = events_cb, .cb_arg = &ev,
	};

	return blobs_migrate_move(&io, st);
}

/* Every name is at the destination, whole, and nowhere else. */
static void
all_moved(size_t n)
{
	char hex[SHA256_HEX_LEN + 1];
	struct mem_obj *o;
	size_t i;

	assert_int_equal(src.n, 0);
	assert_int_equal(dst.n, n);
	for (i = 0; i < n; i++) {
		assert_non_null(o = mem_find(&dst, names[i]));
		sha_hex(o->data, o->len, hex);
		assert_string_equal(hex, names[i]);
	}
}

static void
test_moves_all(void **state)
{
	struct blobs_migrate_stats st;
	size_t total;

	(void)state;
	stores_reset();
	total = fill(150);	/* more than one batch */
	assert_int_equal(move(&st), 0);
	all_moved(150);
	assert_int_equal(st.objects, 150);
	assert_int_equal(st.bytes, total);
	assert_int_equal(st.moved, 150);
	assert_int_equal(st.moved_bytes, total);
	assert_int_equal(st.done, 150);
	assert_int_equal(st.present + st.bad + st.recopied, 0);
	assert_int_equal(ev.moved, 150);
	assert_int_equal(dst.commits, 150);
	/* again: nothing left to do */
	assert_int_equal(move(&st), 0);
	assert_int_equal(st.objects, 0);
	assert_int_equal(dst.commits, 150);
}

static void
test_resumes_without_copying_again(void **state)
{
	struct blobs_migrate_stats st;
	struct mem_obj *o;
	size_t i;

	(void)state;
	stores_reset();
	fill(40);
	/* an earlier run copied ten and was killed before removing them from the source */
	for (i = 0; i < 10; i++) {
		o = mem_find(&src, names[i]);
		mem_put(&dst, names[i], o->data, o->len);
	}
	assert_int_equal(move(&st), 0);
	all_moved(40);
	assert_int_equal(dst.commits, 30);
	assert_int_equal(st.present, 10);
	assert_int_equal(st.moved, 30);
	assert_int_equal(ev.present, 10);
}

static void
test_damaged_copy_replaced(void **state)
{
	struct blobs_migrate_stats st;
	struct mem_obj *o;

	(void)state;
	stores_reset();
	fill(5);
	o = mem_find(&src, names[2]);
	mem_put(&dst, names[2], o->data, o->len);
	dst.obj[0].data[0] ^= 0xff;
	assert_int_equal(move(&st), 0);
	all_moved(5);
	assert_int_equal(st.recopied, 1);
	assert_int_equal(ev.recopied, 1);
	assert_int_equal(st.moved, 5);
}

static void
test_tampered_source_kept(void **state)
{
	struct blobs_migrate_stats st;
	struct mem_obj *o;
	uint8_t keep;

	(void)state;
	stores_reset();
	fill(8);
	o = mem_find(&src, names[5]);
	keep = o->data[7] ^ 0x01;
	o->data[7] = keep;
	assert_int_equal(move(&st), 1);
	assert_int_equal(st.bad, 1);
	assert_int_equal(st.moved, 7);
	assert_int_equal(ev.bad, 1);
	assert_non_null(strstr(ev.bad_why, names[5]));
	assert_non_null(strstr(ev.bad_why, "not moved"));
	/* kept, as it was, at the source only */
	assert_int_equal(src.n, 1);
	assert_non_null(o = mem_find(&src, names[5]));
	assert_int_equal(o->data[7], keep);
	assert_null(mem_find(&dst, names[5]));
	assert_int_equal(dst.n, 7);
	/* a second run refuses it again, and moves nothing else */
	memset(&ev, 0, sizeof ev);
	assert_int_equal(move(&st), 1);
	assert_int_equal(st.bad, 1);
	assert_int_equal(src.n, 1);
	assert_int_equal(dst.commits, 7);
}

static void
test_destination_fails_halfway(void **state)
{
	struct blobs_migrate_stats st;
	char hex[SHA256_HEX_LEN + 1];
	struct mem_obj *o;
	size_t i;

	(void)state;
	stores_reset();
	fill(100);
	dst.fail_after = 70;
	assert_int_equal(move(&st), CUSTODY_EIO);
	assert_non_null(strstr(custody_error(), "ceph unreachable"));
	assert_true(st.moved < 70);
	/* every object whole somewhere */
	for (i = 0; i < 100; i++) {
		o = mem_find(&src, names[i]);
		if (o == NULL)
			assert_non_null(o = mem_find(&dst, names[i]));
		sha_hex(o->data, o->len, hex);
		assert_string_equal(hex, names[i]);
	}
	assert_int_equal(src.n + st.moved, 100);
	/* the store is back: the rest moves, the 70 committed are not copied again */
	dst.fail_after = -1;
	assert_int_equal(move(&st), 0);
	all_moved(100);
	assert_int_equal(dst.commits, 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moves_all),
		cmocka_unit_test(test_resumes_without_copying_again),
		cmocka_unit_test(test_damaged_copy_replaced),
		cmocka_unit_test(test_tampered_source_kept),
		cmocka_unit_test(test_destination_fails_halfway),
	};
	int r;

	if (sodium_init() < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	stores_reset();
	return r;
}
