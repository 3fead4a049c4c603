/*
 * age v1: Bech32 keys, identity files, streaming encrypt/decrypt round trips, tampering, limits,
 * and the whole C2SP/CCTV age testkit (tests/vectors/age/testkit). Interop with stock age is in
 * test_age_interop.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <zlib.h>

#include "custody/age.h"
#include "custody/common.h"

/* Testkit identity used by most x25519 vectors (public test data). */
#define TK_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

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
sink_hex(struct sink *s, char hex[static SHA256_HEX_LEN + 1])
{
	uint8_t md[SHA256_LEN];
	unsigned int n;

	assert_int_equal(EVP_DigestFinal_ex(s->sha, md, &n), 1);
	hex_encode(hex, md, sizeof md);
}

static void
sink_free(struct sink *s)
{
	EVP_MD_CTX_free(s->sha);
	cbuf_free(&s->buf);
}

/* A write callback appending to a cbuf. */
static int
cbuf_write(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/* Encrypt len bytes of pt to rcpts, writing in pieces of step bytes. */
static void
encrypt_buf(struct cbuf *out, const struct age_recipient *rcpts, size_t n, const uint8_t *pt,
    size_t len, size_t step)
{
	struct age_writer *w;
	size_t off, take;

	assert_int_equal(age_writer_new(&w, rcpts, n, cbuf_write, out), 0);
	for (off = 0; off < len; off += take) {
		take = len - off < step ? len - off : step;
		assert_int_equal(age_writer_write(w, pt + off, take), 0);
	}
	assert_int_equal(age_writer_finish(w), 0);
	assert_int_not_equal(age_writer_write(w, "x", 1), 0);
	age_writer_free(w);
}

/* Decrypt ct fed in pieces of step bytes; returns the code, *stage where it ended. */
static int
decrypt_buf(struct sink *s, int *stage, const struct age_identity *ids, size_t n,
    const uint8_t *ct, size_t len, size_t step)
{
	struct age_reader *r;
	size_t off, take;
	int error = 0;

	assert_int_equal(age_reader_new(&r, ids, n, sink_write, s), 0);
	for (off = 0; off < len && error == 0; off += take) {
		take = len - off < step ? len - off : step;
		error = age_reader_feed(r, ct + off, take);
	}
	if (error == 0)
		error = age_reader_finish(r);
	if (error < 0)
		assert_int_equal(age_reader_finish(r), error);	/* sticky */
	*stage = age_reader_stage(r);
	age_reader_free(r);
	return error;
}

static uint8_t *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	randombytes_buf(p, n);
	return p;
}

/* BIP 173 test strings, spec examples, and key round trips. */
static void
test_bech32(void **state)
{
	static const char *valid[] = {
		"A12UEL5L", "a12uel5l", "?1ezyfcl",
		"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	};
	static const char *invalid[] = {
		"x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8", "1qzzfhee",
		"pzry9x0s0muk", "1pzry9x0s0muk", "a12UEL5L", "a12uel5m",
	};
	char hrp[100], enc[200];
	uint8_t data[100];
	size_t i, n;

	for (i = 0; i < sizeof valid / sizeof *valid; i++) {
		n = sizeof data;
		assert_int_equal(bech32_decode(hrp, sizeof hrp, data, &n, valid[i],
		    strlen(valid[i])), 0);
	}
	for (i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		n = sizeof data;
		assert_int_not_equal(bech32_decode(hrp, sizeof hrp, data, &n, invalid[i],
		    strlen(invalid[i])), 0);
	}
	/* Re-encoding a decoded string (with 8-bit data) gives it back. */
	n = sizeof data;
	assert_int_equal(bech32_decode(hrp, sizeof hrp, data, &n,
	    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj", 62), 0);
	assert_int_equal(n, 32);
	assert_int_equal(bech32_encode(enc, sizeof enc, hrp, data, n), 0);
	assert_string_equal(enc, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
	assert_int_not_equal(bech32_encode(enc, 62, hrp, data, n), 0);	/* too small */
}

/* Identity and recipient strings: spec examples, case rules, round trips, tampering. */
static void
test_keys(void **state)
{
	static const char spec_id[] =
	    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
	static const char pq_id[] =
	    "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR";
	struct age_identity id, id2;
	struct age_recipient r, r2;
	char s[AGE_IDENTITY_STR_LEN + 1], t[AGE_RECIPIENT_STR_LEN + 1], bad[80];
	size_t i;

	assert_int_equal(age_identity_parse(&id, spec_id, strlen(spec_id)), 0);
	for (i = 0; i < AGE_KEY_LEN; i++)
		assert_int_equal(id.sk[i], 0x42);
	age_identity_format(s, &id);
	assert_string_equal(s, spec_id);
	assert_int_equal(strlen(s), AGE_IDENTITY_STR_LEN);
	/* Lower case, flipped character, truncated, wrong type, PQ identity: all refused. */
	for (i = 0; spec_id[i]; i++)
		bad[i] = (char)(spec_id[i] >= 'A' && spec_id[i] <= 'Z' ? spec_id[i] + 32 : spec_id[i]);
	assert_int_not_equal(age_identity_parse(&id2, bad, strlen(spec_id)), 0);
	memcpy(bad, spec_id, sizeof spec_id);
	bad[30] = bad[30] == 'Q' ? 'P' : 'Q';
	assert_int_not_equal(age_identity_parse(&id2, bad, strlen(bad)), 0);
	assert_int_not_equal(age_identity_parse(&id2, spec_id, strlen(spec_id) - 1), 0);
	assert_int_not_equal(age_identity_parse(&id2, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869"
	    "xeexvn73equnujwj", 62), 0);
	assert_int_not_equal(age_identity_parse(&id2, pq_id, strlen(pq_id)), 0);
	assert_non_null(strstr(custody_error(), "post-quantum"));

	assert_int_equal(age_recipient_parse(&r, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869"
	    "xeexvn73equnujwj", 62), 0);
	age_recipient_format(t, &r);
	assert_string_equal(t, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
	assert_int_not_equal(age_recipient_parse(&r2, "AGE1ZVKYG2LQZRAA2LNJVQEJ32NKUU0UES2S82HZ"
	    "RYE869XEEXVN73EQUNUJWJ", 62), 0);
	assert_int_not_equal(age_recipient_parse(&r2, spec_id, strlen(spec_id)), 0);

	assert_int_equal(age_keygen(&id), 0);
	age_identity_format(s, &id);
	assert_int_equal(age_identity_parse(&id2, s, strlen(s)), 0);
	assert_memory_equal(id.sk, id2.sk, AGE_KEY_LEN);
	assert_memory_equal(id.pk, id2.pk, AGE_KEY_LEN);
	age_identity_recipient(&r, &id);
	age_recipient_format(t, &r);
	assert_int_equal(strncmp(t, "age1", 4), 0);
	assert_int_equal(age_recipient_parse(&r2, t, strlen(t)), 0);
	assert_memory_equal(r.pk, id.pk, AGE_KEY_LEN);
}

/* Identity files: comments, blank lines, CRLF, several keys; any bad line fails the file. */
static void
test_identity_file(void **state)
{
	struct age_identity *ids;
	struct cbuf text = { 0 };
	char s[AGE_IDENTITY_STR_LEN + 1];
	size_t n;

	assert_int_equal(cbuf_printf(&text, "# created: 2024-01-01T00:00:00Z\n# public key: age1x\n"
	    "\n%s\r\n   \n#%s\n%s", TK_IDENTITY, "junk", TK_IDENTITY), 0);
	assert_int_equal(age_identity_file_parse(&ids, &n, (char *)text.data, text.len), 0);
	assert_int_equal(n, 2);
	age_identity_format(s, &ids[1]);
	assert_string_equal(s, TK_IDENTITY);
	age_identity_file_free(ids);
	age_identity_file_free(NULL);

	assert_int_equal(cbuf_puts(&text, "\nnot-a-key\n"), 0);
	assert_int_not_equal(age_identity_file_parse(&ids, &n, (char *)text.data, text.len), 0);
	assert_null(ids);
	assert_int_not_equal(age_identity_file_parse(&ids, &n, "# only a comment\n\n", 18), 0);
	assert_int_not_equal(age_identity_file_parse(&ids, &n, " " TK_IDENTITY, 75), 0);
	assert_int_equal(age_identity_file_load(&ids, &n, "/nonexistent/key.txt"), CUSTODY_ENOTFOUND);
	cbuf_free(&text);
}

/* Round trips over chunk-boundary sizes, written and read in pieces of many sizes. */
static void
test_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 65535, 65536, 65537, 131072, 131073,
	    200 * 1024 + 77 };
	static const size_t steps[] = { 1, 7, 4096, 65536, 65552, 1 << 20 };
	struct age_identity ids[3];
	struct age_recipient rcpts[3];
	struct cbuf ct = { 0 };
	struct sink s;
	uint8_t *pt;
	size_t i, j, k;
	int stage;

	for (k = 0; k < 3; k++) {
		assert_int_equal(age_keygen(&ids[k]), 0);
		age_identity_recipient(&rcpts[k], &ids[k]);
	}
	for (i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		pt = random_bytes(sizes[i]);
		for (j = 0; j < sizeof steps / sizeof *steps; j++) {
			if (sizes[i] > 70000 && steps[j] == 1)
				continue;	/* slow under the sanitizers, covered by 7 */
			ct.len = 0;
			encrypt_buf(&ct, rcpts, 1 + j % 3, pt, sizes[i], steps[j]);
			/* Exact size: header, nonce, then chunks of 64 KiB + 16. */
			assert_true(ct.len > (sizes[i] / AGE_CHUNK_LEN + 1) * AGE_TAG_LEN + sizes[i]);
			k = j % 3;
			sink_init(&s, 1);
			assert_int_equal(decrypt_buf(&s, &stage, &ids[k], 1, ct.data, ct.len,
			    steps[(j + 2) % 6]), 0);
			assert_int_equal(stage, AGE_STAGE_DONE);
			assert_int_equal(s.total, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(s.buf.data, pt, sizes[i]);
			sink_free(&s);
		}
		free(pt);
	}
	cbuf_free(&ct);
}

/* Wrong identity, header and payload tampering, truncation, extension, chunk swap. */
static void
test_tamper(void **state)
{
	struct age_identity id, other;
	struct age_recipient r;
	struct cbuf ct = { 0 }, bad = { 0 };
	struct sink s;
	uint8_t *pt;
	size_t len = 3 * AGE_CHUNK_LEN + 10, hlen, i, cut;
	int stage;

	assert_int_equal(age_keygen(&id), 0);
	assert_int_equal(age_keygen(&other), 0);
	age_identity_recipient(&r, &id);
	pt = random_bytes(len);
	encrypt_buf(&ct, &r, 1, pt, len, 1000);
	hlen = ct.len - (len + 4 * AGE_TAG_LEN);	/* header + nonce */

	sink_init(&s, 0);
	assert_int_equal(decrypt_buf(&s, &stage, &other, 1, ct.data, ct.len, 999),
	    CUSTODY_ENOTFOUND);
	assert_int_equal(stage, AGE_STAGE_HEADER);
	assert_non_null(strstr(custody_error(), "no identity matched"));
	assert_int_equal(s.total, 0);
	sink_free(&s);

	/* Every header byte and the nonce: fails in the header or on the first chunk. */
	for (i = 0; i < hlen; i++) {
		bad.len = 0;
		assert_int_equal(cbuf_put(&bad, ct.data, ct.len), 0);
		bad.data[i] ^= 0x01;
		sink_init(&s, 0);
		assert_int_not_equal(decrypt_buf(&s, &stage, &id, 1, bad.data, bad.len, 65536), 0);
		assert_int_equal(s.total, 0);
		assert_int_equal(stage, i + AGE_NONCE_LEN < hlen ? AGE_STAGE_HEADER :
		    AGE_STAGE_PAYLOAD);
		sink_free(&s);
	}
	/* A flipped bit in chunk 2 releases chunks 0 and 1 only. */
	bad.len = 0;
	assert_int_equal(cbuf_put(&bad, ct.data, ct.len), 0);
	bad.data[hlen + 2 * (AGE_CHUNK_LEN + AGE_TAG_LEN) + 5] ^= 0x80;
	sink_init(&s, 0);
	assert_int_equal(decrypt_buf(&s, &stage, &id, 1, bad.data, bad.len, 4096), CUSTODY_ECRYPTO);
	assert_int_equal(stage, AGE_STAGE_PAYLOAD);
	assert_int_equal(s.total, 2 * AGE_CHUNK_LEN);
	sink_free(&s);

	/* Truncation anywhere in the payload, and at chunk boundaries, fails. */
	for (cut = hlen; cut < ct.len; cut += (cut - hlen) % 65552 == 0 ? 1 : 16381) {
		sink_init(&s, 0);
		assert_int_not_equal(decrypt_buf(&s, &stage, &id, 1, ct.data, cut, 65536), 0);
		assert_true(s.total < len);
		sink_free(&s);
	}
	for (i = 1; i <= 3; i++) {
		sink_init(&s, 0);
		assert_int_not_equal(decrypt_buf(&s, &stage, &id, 1, ct.data,
		    hlen + i * (AGE_CHUNK_LEN + AGE_TAG_LEN), 65536), 0);
		sink_free(&s);
	}
	/* Extension: one trailing byte, or a whole copied chunk. */
	bad.len = 0;
	assert_int_equal(cbuf_put(&bad, ct.data, ct.len), 0);
	assert_int_equal(cbuf_put_u8(&bad, 0), 0);
	sink_init(&s, 0);
	assert_int_not_equal(decrypt_buf(&s, &stage, &id, 1, bad.data, bad.len, 65536), 0);
	sink_free(&s);
	/* Swapped chunks 0 and 1. */
	bad.len = 0;
	assert_int_equal(cbuf_put(&bad, ct.data, ct.len), 0);
	memcpy(bad.data + hlen, ct.data + hlen + AGE_CHUNK_LEN + AGE_TAG_LEN,
	    AGE_CHUNK_LEN + AGE_TAG_LEN);
	memcpy(bad.data + hlen + AGE_CHUNK_LEN + AGE_TAG_LEN, ct.data + hlen,
	    AGE_CHUNK_LEN + AGE_TAG_LEN);
	sink_init(&s, 0);
	assert_int_equal(decrypt_buf(&s, &stage, &id, 1, bad.data, bad.len, 65536), CUSTODY_ECRYPTO);
	assert_int_equal(s.total, 0);
	sink_free(&s);
	/* Junk that is not age at all fails at once, without buffering it. */
	sink_init(&s, 0);
	assert_int_equal(decrypt_buf(&s, &stage, &id, 1, pt, len, len), CUSTODY_EINVAL);
	sink_free(&s);
	free(pt);
	cbuf_free(&ct);
	cbuf_free(&bad);
}

/* zlib, loaded at run time: the test links no zlib, and the testkit compresses big vectors. */
struct zlib_api {
	int	(*init)(z_streamp, const char *, int);
	int	(*inflate)(z_streamp, int);
	int	(*end)(z_streamp);
};

static int
zlib_load(struct zlib_api *z)
{
	void *h;

	if ((h = dlopen("libz.so.1", RTLD_NOW)) == NULL)
		return -1;
	*(void **)&z->init = dlsym(h, "inflateInit_");
	*(void **)&z->inflate = dlsym(h, "inflate");
	*(void **)&z->end = dlsym(h, "inflateEnd");
	return z->init && z->inflate && z->end ? 0 : -1;
}

/* One testkit file. "foreign": it needs a passphrase or a non-X25519 identity. */
struct tk_vector {
	char			 expect[32];
	char			 payload[SHA256_HEX_LEN + 1];
	int			 armored;
	int			 compressed;
	int			 foreign;
	struct age_identity	 ids[8];
	size_t			 nids;
	const uint8_t		*body;
	size_t			 body_len;
};

/* Parse the "key: value" lines; -1 for a file with keys we do not know (to be ignored). */
static int
tk_parse(struct tk_vector *v, const uint8_t *file, size_t len)
{
	const char *p = (const char *)file, *end = p + len, *nl, *val;
	size_t n;

	memset(v, 0, sizeof *v);
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL && nl != p) {
		n = (size_t)(nl - p);
		assert_non_null(val = memchr(p, ' ', n));
		val++;
		n = (size_t)(nl - val);
		if (strncmp(p, "expect: ", 8) == 0 && n < sizeof v->expect)
			memcpy(v->expect, val, n);
		else if (strncmp(p, "payload: ", 9) == 0 && n == SHA256_HEX_LEN)
			memcpy(v->payload, val, n);
		else if (strncmp(p, "identity: AGE-SECRET-KEY-1", 26) == 0) {
			assert_true(v->nids < 8);
			assert_int_equal(age_identity_parse(&v->ids[v->nids++], val, n), 0);
		} else if (strncmp(p, "identity: ", 10) == 0 || strncmp(p, "passphrase: ", 12) == 0)
			v->foreign = 1;
		else if (strncmp(p, "armored: yes", 12) == 0)
			v->armored = 1;
		else if (strncmp(p, "compressed: zlib", 16) == 0)
			v->compressed = 1;
		else if (strncmp(p, "file key: ", 10) != 0 && strncmp(p, "comment: ", 9) != 0)
			return -1;
		p = nl + 1;
	}
	assert_true(p < end && *p == '\n');
	v->body = (const uint8_t *)p + 1;
	v->body_len = (size_t)(end - p - 1);
	return 0;
}

/* Inflate the vector's body into the reader, piece by piece. */
static int
tk_feed_zlib(struct age_reader *r, const struct tk_vector *v, const struct zlib_api *z)
{
	uint8_t out[7001];
	z_stream zs;
	int zrc, error = 0;

	memset(&zs, 0, sizeof zs);
	assert_int_equal(z->init(&zs, ZLIB_VERSION, (int)sizeof zs), Z_OK);
	zs.next_in = (Bytef *)v->body;
	zs.avail_in = (uInt)v->body_len;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof out;
		zrc = z->inflate(&zs, Z_NO_FLUSH);
		assert_true(zrc == Z_OK || zrc == Z_STREAM_END);
		error = age_reader_feed(r, out, sizeof out - zs.avail_out);
	} while (zrc != Z_STREAM_END && error == 0);
	z->end(&zs);
	return error;
}

/* Decrypt one vector; returns the code and the stage it ended in. */
static int
tk_run(struct tk_vector *v, struct sink *s, int *stage, const struct zlib_api *z)
{
	struct age_reader *r;
	size_t off, take, step = 1;
	int error = 0;

	if (v->nids == 0) {	/* scrypt/hybrid only: try with some X25519 identity */
		assert_int_equal(age_keygen(&v->ids[0]), 0);
		v->nids = 1;
	}
	assert_int_equal(age_reader_new(&r, v->ids, v->nids, sink_write, s), 0);
	if (v->compressed)
		error = tk_feed_zlib(r, v, z);
	else
		for (off = 0; off < v->body_len && error == 0; off += take, step = step % 17 + 1) {
			take = v->body_len - off < step ? v->body_len - off : step;
			error = age_reader_feed(r, v->body + off, take);
		}
	if (error == 0)
		error = age_reader_finish(r);
	*stage = age_reader_stage(r);
	age_reader_free(r);
	return error;
}

/* The testkit's outcome class for our result. */
static const char *
tk_class(int error, int stage)
{
	if (error == 0)
		return "success";
	if (stage != AGE_STAGE_HEADER)
		return "payload failure";
	if (error == CUSTODY_ENOTFOUND)
		return "no match";
	if (error == CUSTODY_ECRYPTO)
		return "HMAC failure";
	return "header failure";
}

struct tk_counts {
	int	files, x25519_ok, x25519_success, armor_skipped, armor_failed, foreign_failed, bad;
};

/* Check one file's outcome against what it expects; returns 0 when it matches. */
static int
tk_check(const char *name, struct tk_vector *v, struct tk_counts *c, const struct zlib_api *z)
{
	char hex[SHA256_HEX_LEN + 1];
	const char *got;
	struct sink s;
	int error, stage, ok;

	sink_init(&s, 0);
	error = tk_run(v, &s, &stage, z);
	sink_hex(&s, hex);
	got = tk_class(error, stage);
	if (v->foreign) {
		ok = error != 0;	/* scrypt/hybrid: unsupported, must fail cleanly */
		c->foreign_failed += ok;
	} else if (v->armored) {
		ok = error != 0 && stage == AGE_STAGE_HEADER &&
		    (strcmp(v->expect, "success") != 0 || strstr(custody_error(), "armored"));
		if (strcmp(v->expect, "success") == 0)
			c->armor_skipped += ok;
		else
			c->armor_failed += ok;
	} else {
		ok = strcmp(got, v->expect) == 0;
		if (ok && v->payload[0] != '\0' && error == 0)
			ok = strcmp(hex, v->payload) == 0;
		if (ok && v->payload[0] != '\0' && strcmp(got, "payload failure") == 0)
			ok = strcmp(hex, v->payload) == 0;	/* what was released before failing */
		if (ok && stage == AGE_STAGE_HEADER)
			ok = s.total == 0;
		c->x25519_ok += ok;
		c->x25519_success += ok && error == 0;
	}
	if (!ok)
		print_error("testkit %s: expected %s, got %s (%s)\n", name, v->expect, got,
		    custody_error());
	sink_free(&s);
	return ok ? 0 : -1;
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

/* Feed text to a reader holding a fresh identity; returns the code. */
static int
decrypt_text(int *stage, const char *text, size_t len)
{
	struct age_identity id;
	struct sink s;
	int error;

	assert_int_equal(age_keygen(&id), 0);
	sink_init(&s, 0);
	error = decrypt_buf(&s, stage, &id, 1, (const uint8_t *)text, len, 4096);
	assert_int_equal(s.total, 0);
	sink_free(&s);
	return error;
}

/* Oversized headers are refused with ETOOBIG; armor is named; no identities never match. */
static void
test_header_limits(void **state)
{
	struct cbuf t = { 0 };
	struct age_reader *r;
	struct sink s;
	int stage;

	assert_int_equal(cbuf_puts(&t, "age-encryption.org/v1\n-> grease "), 0);
	while (t.len < AGE_HEADER_MAX + 10)
		assert_int_equal(cbuf_puts(&t, "abcdefghijklmnop"), 0);
	assert_int_equal(decrypt_text(&stage, (char *)t.data, t.len), CUSTODY_ETOOBIG);
	assert_int_equal(stage, AGE_STAGE_HEADER);
	t.len = 0;
	assert_int_equal(cbuf_puts(&t, "age-encryption.org/"), 0);
	while (t.len < AGE_HEADER_MAX + 10)
		assert_int_equal(cbuf_puts(&t, "vvvvvvvvvvvvvvvv"), 0);
	assert_int_equal(decrypt_text(&stage, (char *)t.data, t.len), CUSTODY_ETOOBIG);
	t.len = 0;
	while (t.len < 4096)
		assert_int_equal(cbuf_puts(&t, " \n"), 0);
	assert_int_equal(decrypt_text(&stage, (char *)t.data, t.len), CUSTODY_EINVAL);
	assert_int_equal(decrypt_text(&stage, "\n -----BEGIN AGE ENCRYPTED FILE-----\n", 37),
	    CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "armored"));
	assert_int_equal(decrypt_text(&stage, "age-encryption.org/v2\n", 22), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "version"));
	assert_int_equal(decrypt_text(&stage, "", 0), CUSTODY_EINVAL);
	assert_int_equal(decrypt_text(&stage, "age-encryption.org/v1\n", 22), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "truncated"));
	/* A reader with no identities parses but never matches. */
	sink_init(&s, 0);
	assert_int_equal(age_reader_new(&r, NULL, 0, sink_write, &s), 0);
	age_reader_free(r);
	age_reader_free(NULL);
	age_writer_free(NULL);
	sink_free(&s);
	cbuf_free(&t);
}

/* Every file of the C2SP/CCTV age testkit. */
static void
test_testkit(void **state)
{
	struct tk_counts c = { 0 };
	struct zlib_api z = { 0 };
	struct tk_vector v;
	struct cbuf file = { 0 };
	struct dirent *de;
	const char *vec = getenv("VECTORS");
	char dir[4096], path[4400];
	DIR *d;

	assert_non_null(vec);
	assert_int_equal(zlib_load(&z), 0);
	snprintf(dir, sizeof dir, "%s/age/testkit", vec);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		slurp(&file, path);
		if (tk_parse(&v, file.data, file.len) < 0)
			continue;
		c.files++;
		if (tk_check(de->d_name, &v, &c, &z) < 0)
			c.bad++;
	}
	closedir(d);
	cbuf_free(&file);
	print_message("age testkit: %d files; X25519 vectors matched %d (%d success with the right "
	    "plaintext); armored: %d success vectors skipped (armor unsupported), %d failure vectors "
	    "failed; scrypt/hybrid: %d failed cleanly; mismatches %d\n", c.files, c.x25519_ok,
	    c.x25519_success, c.armor_skipped, c.armor_failed, c.foreign_failed, c.bad);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.files, 143);
	assert_int_equal(c.x25519_ok, 67);
	assert_int_equal(c.x25519_success, 14);
	assert_int_equal(c.x25519_ok + c.armor_skipped + c.armor_failed + c.foreign_failed, 143);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bech32),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_identity_file),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_testkit),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
