/* The bundle format of custody/bundlefmt.h: its writer, and its strict parser on every kind of
 * damage (truncation anywhere, any flipped byte, bytes after the end, parts out of order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "custody/bundlefmt.h"
#include "custody/common.h"

static uint8_t pk[BUNDLEFMT_KEY_LEN], sk[BUNDLEFMT_SK_LEN];

static int
out_cb(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/* What the reader saw, as one text. */
struct seen {
	char		log[4096];
	size_t		len;
	uint64_t	bytes;
};

static void __attribute__((format(printf, 2, 3)))
say(struct seen *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s->len += (size_t)vsnprintf(s->log + s->len, sizeof s->log - s->len, fmt, ap);
	va_end(ap);
}

static int
h_cb(void *arg, const struct bundlefmt_header *h)
{
	say(arg, "H%u,%llu;", h->version, (unsigned long long)h->created);
	return 0;
}

static int
f_cb(void *arg, const struct bundlefmt_feed *f)
{
	say(arg, "F%02x,%llu-%llu,%u;", f->office[0], (unsigned long long)f->base_seq,
	    (unsigned long long)f->seq, f->npacks);
	return 0;
}

static int
p_cb(void *arg, const uint8_t *name, uint64_t len)
{
	if (name != NULL)
		say(arg, "B%02x,%llu:", name[0], (unsigned long long)len);
	else
		say(arg, "P%llu:", (unsigned long long)len);
	return 0;
}

static int
d_cb(void *arg, const void *p, size_t n)
{
	((struct seen *)arg)->bytes += n;
	return 0;
}

static int
e_cb(void *arg)
{
	say(arg, "E;");
	return 0;
}

static const struct bundlefmt_cbs cbs = { h_cb, f_cb, p_cb, d_cb, e_cb };

/* A bundle: two feeds (the second of two packs), two blobs (one empty). */
static void
make(struct cbuf *b)
{
	struct bundlefmt_header h = { .version = BUNDLEFMT_VERSION, .created = 1700000000 };
	struct bundlefmt_feed f = { .seq = 3, .npacks = 1 };
	struct bundlefmt_writer *w;
	uint8_t data[3000], name[BUNDLEFMT_NAME_LEN];

	memcpy(h.sender, pk, sizeof pk);
	memset(h.recipient, 7, sizeof h.recipient);
	memset(data, 0x5a, sizeof data);
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, b), 0);
	memset(f.office, 0x11, sizeof f.office);
	memset(f.head, 1, sizeof f.head);
	assert_int_equal(bundlefmt_write_feed(w, &f), 0);
	assert_int_equal(bundlefmt_write_part(w, NULL, 1000), 0);
	assert_int_equal(bundlefmt_write_data(w, data, 400), 0);
	assert_int_equal(bundlefmt_write_data(w, data, 600), 0);
	memset(f.office, 0x22, sizeof f.office);
	f.base_seq = 2;
	f.seq = 5;
	f.npacks = 2;
	memset(f.base_head, 2, sizeof f.base_head);
	assert_int_equal(bundlefmt_write_feed(w, &f), 0);
	assert_int_equal(bundlefmt_write_part(w, NULL, 10), 0);
	assert_int_equal(bundlefmt_write_data(w, data, 10), 0);
	assert_int_equal(bundlefmt_write_part(w, NULL, 20), 0);
	assert_int_equal(bundlefmt_write_data(w, data, 20), 0);
	/* blobs are named by the SHA-256 of their bytes, in name order: 3000 x 0x5a (its hash
	 * begins below e3), then "" (e3b0...) */
	crypto_hash_sha256(name, data, sizeof data);
	assert_true(name[0] < 0xe3);
	assert_int_equal(bundlefmt_write_part(w, name, 3000), 0);
	assert_int_equal(bundlefmt_write_data(w, data, 3000), 0);
	crypto_hash_sha256(name, data, 0);
	assert_int_equal(bundlefmt_write_part(w, name, 0), 0);
	assert_int_equal(bundlefmt_writer_finish(w), 0);
	bundlefmt_writer_free(w);
}

/* Parse p[0..n) in pieces of step bytes. */
static int
parse(const uint8_t *p, size_t n, size_t step, struct seen *s)
{
	struct bundlefmt_reader *r;
	size_t i;
	int error = 0;

	memset(s, 0, sizeof *s);
	assert_int_equal(bundlefmt_reader_new(&r, &cbs, s), 0);
	for (i = 0; i < n && error == 0; i += step)
		error = bundlefmt_reader_feed(r, p + i, n - i < step ? n - i : step);
	if (error == 0)
		error = bundlefmt_reader_finish(r);
	bundlefmt_reader_free(r);
	return error;
}

static void
test_roundtrip(void **state)
{
	static const char want[] = "H1,1700000000;F11,0-3,1;P1000:E;F22,2-5,2;P10:E;P20:E;"
	    "B%02x,3000:E;Be3,0:E;";
	uint8_t data[3000], name[32];
	char want2[sizeof want + 8];
	struct cbuf b = { 0 };
	struct seen s;
	size_t step;

	(void)state;
	memset(data, 0x5a, sizeof data);
	crypto_hash_sha256(name, data, sizeof data);
	snprintf(want2, sizeof want2, want, name[0]);
	make(&b);
	for (step = 1; step < b.len + 1; step = step * 3 + 1) {
		assert_int_equal(parse(b.data, b.len, step, &s), 0);
		assert_string_equal(s.log, want2);
		assert_int_equal(s.bytes, 1000 + 10 + 20 + 3000);
	}
	cbuf_free(&b);
}

/* Every truncation and every flipped byte is refused, every byte after the end too. */
static void
test_damage(void **state)
{
	struct cbuf b = { 0 };
	struct seen s;
	uint8_t *c;
	size_t i;

	(void)state;
	make(&b);
	for (i = 0; i < b.len; i++)
		assert_true(parse(b.data, i, 7, &s) < 0);
	assert_non_null(c = malloc(b.len + 1));
	for (i = 0; i < b.len; i++) {
		memcpy(c, b.data, b.len);
		c[i] ^= 0x20;
		assert_true(parse(c, b.len, 64, &s) < 0);
	}
	memcpy(c, b.data, b.len);
	c[b.len] = 0;
	assert_int_equal(parse(c, b.len + 1, 64, &s), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "after the trailer"));
	free(c);
	cbuf_free(&b);
}

/* A blob whose bytes do not hash to its name is refused, signed or not. */
static void
test_blob_hash(void **state)
{
	struct bundlefmt_header h = { .version = BUNDLEFMT_VERSION };
	struct bundlefmt_writer *w;
	struct cbuf b = { 0 };
	struct seen s;
	uint8_t name[BUNDLEFMT_NAME_LEN];

	(void)state;
	memcpy(h.sender, pk, sizeof pk);
	crypto_hash_sha256(name, (const uint8_t *)"evidence", 8);
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	assert_int_equal(bundlefmt_write_part(w, name, 8), 0);
	assert_int_equal(bundlefmt_write_data(w, "evidencE", 8), 0);
	assert_int_equal(bundlefmt_writer_finish(w), 0);
	bundlefmt_writer_free(w);
	assert_int_equal(parse(b.data, b.len, 3, &s), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "hash to its name"));
	cbuf_free(&b);
}

/* The signature is the sender's of the header: another key's is refused. */
static void
test_other_signer(void **state)
{
	struct bundlefmt_header h = { .version = BUNDLEFMT_VERSION };
	uint8_t pk2[BUNDLEFMT_KEY_LEN], sk2[BUNDLEFMT_SK_LEN];
	struct bundlefmt_writer *w;
	struct cbuf b = { 0 };
	struct seen s;

	(void)state;
	crypto_sign_keypair(pk2, sk2);
	memcpy(h.sender, pk, sizeof pk);	/* claims to be pk, signs with sk2 */
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk2, out_cb, &b), 0);
	assert_int_equal(bundlefmt_writer_finish(w), 0);
	bundlefmt_writer_free(w);
	assert_int_equal(parse(b.data, b.len, 5, &s), CUSTODY_ECRYPTO);
	cbuf_free(&b);
}

/* The writer refuses what the reader would: order, sizes, repeats. */
static void
test_writer_rules(void **state)
{
	struct bundlefmt_header h = { .version = BUNDLEFMT_VERSION };
	struct bundlefmt_feed f = { .seq = 1, .npacks = 1 };
	struct bundlefmt_writer *w;
	struct cbuf b = { 0 };
	uint8_t name[BUNDLEFMT_NAME_LEN] = { 5 };

	(void)state;
	memset(f.head, 1, sizeof f.head);
	memcpy(h.sender, pk, sizeof pk);
	/* a feed that ends where it starts */
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	f.seq = 0;
	assert_int_equal(bundlefmt_write_feed(w, &f), CUSTODY_EINVAL);
	bundlefmt_writer_free(w);
	f.seq = 1;
	/* the same feed twice */
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	assert_int_equal(bundlefmt_write_feed(w, &f), 0);
	assert_int_equal(bundlefmt_write_part(w, NULL, 1), 0);
	assert_int_equal(bundlefmt_write_data(w, "x", 1), 0);
	assert_int_equal(bundlefmt_write_feed(w, &f), CUSTODY_EINVAL);
	bundlefmt_writer_free(w);
	/* more bytes than announced; finishing inside a part; a blob twice; a feed after blobs */
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	assert_int_equal(bundlefmt_write_part(w, name, 1), 0);
	assert_int_equal(bundlefmt_write_data(w, "xy", 2), CUSTODY_EINVAL);
	bundlefmt_writer_free(w);
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	assert_int_equal(bundlefmt_write_part(w, name, 1), 0);
	assert_int_equal(bundlefmt_writer_finish(w), CUSTODY_EINVAL);
	bundlefmt_writer_free(w);
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	assert_int_equal(bundlefmt_write_part(w, name, 0), 0);
	assert_int_equal(bundlefmt_write_part(w, name, 0), CUSTODY_EINVAL);
	bundlefmt_writer_free(w);
	assert_int_equal(bundlefmt_writer_new(&w, &h, sk, out_cb, &b), 0);
	assert_int_equal(bundlefmt_write_part(w, name, 0), 0);
	assert_int_equal(bundlefmt_write_feed(w, &f), CUSTODY_EINVAL);
	bundlefmt_writer_free(w);
	cbuf_free(&b);
}

/* Sections a writer would never make, made by hand and signed: refused by the reader. */
static void
test_reader_rules(void **state)
{
	struct cbuf b = { 0 };
	struct seen s;
	uint8_t hdr[81] = "CUSTBNDL", trailer[9] = { 'T' };

	(void)state;
	hdr[8] = 2;	/* an unknown version */
	assert_int_equal(cbuf_put(&b, hdr, sizeof hdr), 0);
	assert_int_equal(parse(b.data, b.len, 81, &s), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "version"));
	b.data[8] = 1;
	b.data[81 - 1] = 0;
	assert_int_equal(cbuf_put(&b, "Z", 1), 0);	/* an unknown section */
	assert_int_equal(parse(b.data, b.len, 81, &s), CUSTODY_EINVAL);
	b.len--;
	trailer[4] = 1;	/* counts one feed that is not there */
	assert_int_equal(cbuf_put(&b, trailer, sizeof trailer), 0);
	assert_int_equal(parse(b.data, b.len, 81, &s), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "counts"));
	cbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_other_signer),
		cmocka_unit_test(test_blob_hash),
		cmocka_unit_test(test_writer_rules),
		cmocka_unit_test(test_reader_rules),
	};

	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
