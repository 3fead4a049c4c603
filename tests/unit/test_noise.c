/*
 * Noise: the cacophony, snow and noise-c vectors for NK, KK, IK, XX and XK byte for byte, fresh
 * XX and XK handshakes, transport messages (forged, reordered, replayed, nonce exhaustion), API misuse
 * and Ed25519 key conversion. Damaged handshakes are in test_noise_attack.c.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "custody/common.h"
#include "custody/noise.h"

#include "noise-pair.h"

#define SUITE "_25519_ChaChaPoly_BLAKE2b"

static const char *vectors;

static int
setup(void **state)
{
	if ((vectors = getenv("VECTORS")) == NULL)
		vectors = "tests/vectors";
	return pair_keys();
}

/* A vector's hex field as bytes (NULL when absent); *len gets its length. */
static uint8_t *
vec_hex(json_t *v, const char *key, size_t *len)
{
	json_t *j = json_object_get(v, key);
	const char *s;
	uint8_t *out;
	size_t n;

	if (j == NULL)
		return NULL;
	assert_true(json_is_string(j));
	s = json_string_value(j);
	n = strlen(s);
	assert_int_equal(n % 2, 0);
	assert_non_null(out = malloc(n / 2 + 1));
	assert_int_equal(hex_decode(out, n / 2, s), 0);
	if (len != NULL)
		*len = n / 2;
	return out;
}

/* A 32-byte vector key, or NULL when absent. */
static uint8_t *
vec_key(json_t *v, const char *key)
{
	size_t n = 0;
	uint8_t *k = vec_hex(v, key, &n);

	if (k != NULL)
		assert_int_equal(n, 32);
	return k;
}

/* Both sides of a finished handshake have the same hash, which goes to h. */
static void
handshake_same_hash(struct noise_hs *ini, struct noise_hs *rsp, uint8_t h[64])
{
	uint8_t h2[64];

	assert_int_equal(noise_hs_hash(ini, h), 0);
	assert_int_equal(noise_hs_hash(rsp, h2), 0);
	assert_memory_equal(h, h2, 64);
}

/*
 * The initiator's third message of XX or XK (its static key and pl, n bytes): the responder
 * reads pl and the initiator's key ini_pub, and both sides are done.
 */
static void
handshake_message3(struct noise_hs *ini, struct noise_hs *rsp, const char *pl, size_t n,
    const uint8_t ini_pub[32])
{
	struct cbuf m3 = { 0 }, p = { 0 };
	uint8_t k[32];

	assert_false(noise_hs_done(ini));
	assert_int_equal(noise_hs_write(ini, &m3, pl, n), 0);
	assert_int_equal(m3.len, 48 + n + 16);
	assert_int_equal(noise_hs_read(rsp, &p, m3.data, m3.len), 0);
	assert_memory_equal(p.data, pl, n);
	assert_int_equal(noise_hs_remote_static(rsp, k), 0);
	assert_memory_equal(k, ini_pub, 32);
	assert_true(noise_hs_done(ini) && noise_hs_done(rsp));
	cbuf_free(&m3);
	cbuf_free(&p);
}

/* Check one vector entry: every message, the handshake hash, the peers' static keys. */
static void
vector_run(json_t *v, unsigned *nmsgs)
{
	const char *name;
	char pattern[3];
	uint8_t *ist, *irs, *rst, *rrs, *ie, *re, *ipro, *rpro, *hash, *pl, *ct;
	uint8_t h1[64], k[32], pub[32];
	size_t ipro_len = 0, rpro_len = 0, hash_len = 0, pl_len, ct_len, i, n;
	struct noise_hs *ini, *rsp, *tx_hs, *rx_hs;
	struct noise_cipher *isend, *irecv, *rsend, *rrecv;
	struct cbuf out = { 0 }, pay = { 0 };
	json_t *msgs, *psk;

	name = json_string_value(json_object_get(v, "protocol_name"));
	if (name == NULL)
		name = json_string_value(json_object_get(v, "name"));
	assert_non_null(name);
	assert_int_equal(strlen(name), strlen("Noise_XX" SUITE));
	assert_memory_equal(name, "Noise_", 6);
	assert_string_equal(name + 8, SUITE);
	memcpy(pattern, name + 6, 2);
	pattern[2] = '\0';
	if ((psk = json_object_get(v, "init_psks")) != NULL)
		assert_int_equal(json_array_size(psk), 0);

	ist = vec_key(v, "init_static");
	irs = vec_key(v, "init_remote_static");
	rst = vec_key(v, "resp_static");
	rrs = vec_key(v, "resp_remote_static");
	assert_non_null(ie = vec_key(v, "init_ephemeral"));
	assert_non_null(re = vec_key(v, "resp_ephemeral"));
	ipro = vec_hex(v, "init_prologue", &ipro_len);
	rpro = vec_hex(v, "resp_prologue", &rpro_len);
	hash = vec_hex(v, "handshake_hash", &hash_len);

	assert_int_equal(noise_hs_new(&ini, pattern, true, ist, irs, ipro, ipro_len), 0);
	assert_int_equal(noise_hs_new(&rsp, pattern, false, rst, rrs, rpro, rpro_len), 0);
	assert_int_equal(noise_hs_set_ephemeral(ini, ie), 0);
	assert_int_equal(noise_hs_set_ephemeral(rsp, re), 0);

	msgs = json_object_get(v, "messages");
	assert_true(json_is_array(msgs));
	for (i = 0; i < json_array_size(msgs) && !noise_hs_done(ini); i++) {
		tx_hs = i % 2 == 0 ? ini : rsp;
		rx_hs = i % 2 == 0 ? rsp : ini;
		pl = vec_hex(json_array_get(msgs, i), "payload", &pl_len);
		ct = vec_hex(json_array_get(msgs, i), "ciphertext", &ct_len);
		assert_true(noise_hs_want_write(tx_hs));
		assert_false(noise_hs_want_write(rx_hs));
		out.len = pay.len = 0;
		assert_int_equal(noise_hs_write(tx_hs, &out, pl, pl_len), 0);
		assert_int_equal(out.len, ct_len);
		assert_memory_equal(out.data, ct, ct_len);
		assert_int_equal(noise_hs_read(rx_hs, &pay, ct, ct_len), 0);
		assert_int_equal(pay.len, pl_len);
		if (pl_len > 0)
			assert_memory_equal(pay.data, pl, pl_len);
		free(pl);
		free(ct);
		(*nmsgs)++;
	}
	n = i;
	assert_int_equal(n, pattern[0] == 'X' ? 3 : 2);
	assert_true(noise_hs_done(ini));
	assert_true(noise_hs_done(rsp));
	handshake_same_hash(ini, rsp, h1);
	if (hash != NULL) {
		assert_int_equal(hash_len, 64);
		assert_memory_equal(h1, hash, 64);
	}

	/* Both sides know the other's static key exactly when the pattern gives it one. */
	assert_int_equal(noise_hs_remote_static(ini, k), 0);
	assert_int_equal(noise_public_key(pub, rst), 0);
	assert_memory_equal(k, pub, 32);
	if (ist != NULL) {
		assert_int_equal(noise_hs_remote_static(rsp, k), 0);
		assert_int_equal(noise_public_key(pub, ist), 0);
		assert_memory_equal(k, pub, 32);
	} else
		assert_int_equal(noise_hs_remote_static(rsp, k), CUSTODY_ENOTFOUND);

	assert_int_equal(noise_hs_split(ini, &isend, &irecv), 0);
	assert_int_equal(noise_hs_split(rsp, &rsend, &rrecv), 0);
	for (; i < json_array_size(msgs); i++) {
		pl = vec_hex(json_array_get(msgs, i), "payload", &pl_len);
		ct = vec_hex(json_array_get(msgs, i), "ciphertext", &ct_len);
		out.len = pay.len = 0;
		assert_int_equal(noise_encrypt(i % 2 == 0 ? isend : rsend, &out, pl, pl_len), 0);
		assert_int_equal(out.len, ct_len);
		assert_memory_equal(out.data, ct, ct_len);
		assert_int_equal(noise_decrypt(i % 2 == 0 ? rrecv : irecv, &pay, ct, ct_len), 0);
		assert_int_equal(pay.len, pl_len);
		if (pl_len > 0)
			assert_memory_equal(pay.data, pl, pl_len);
		free(pl);
		free(ct);
		(*nmsgs)++;
	}
	assert_true(i > n);

	noise_cipher_free(isend);
	noise_cipher_free(irecv);
	noise_cipher_free(rsend);
	noise_cipher_free(rrecv);
	noise_hs_free(ini);
	noise_hs_free(rsp);
	cbuf_free(&out);
	cbuf_free(&pay);
	free(ist); free(irs); free(rst); free(rrs); free(ie); free(re);
	free(ipro); free(rpro); free(hash);
}

/* Every entry of one vector file: exactly the patterns of order (n of them), in that order. */
static void
vector_file(const char *file, const char *const *order, size_t n, unsigned want_msgs)
{
	char path[4096];
	json_error_t jerr;
	json_t *root, *list, *v;
	const char *name;
	unsigned nmsgs = 0;
	size_t i;

	snprintf(path, sizeof path, "%s/noise/%s", vectors, file);
	if ((root = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("cannot load %s: %s", path, jerr.text);
	list = json_object_get(root, "vectors");
	assert_int_equal(json_array_size(list), n);
	json_array_foreach(list, i, v) {
		name = json_string_value(json_object_get(v, "protocol_name"));
		if (name == NULL)
			name = json_string_value(json_object_get(v, "name"));
		assert_non_null(name);
		assert_memory_equal(name + 6, order[i], 2);
		vector_run(v, &nmsgs);
	}
	assert_int_equal(nmsgs, want_msgs);
	json_decref(root);
}

static const char *const four[] = { "NK", "KK", "IK", "XX" };
static const char *const xk[] = { "XK" };

static void
test_vectors_cacophony(void **state)
{
	vector_file("noise-25519-chachapoly-blake2b.json", four, 4, 24);
}

static void
test_vectors_snow(void **state)
{
	vector_file("noise-25519-chachapoly-blake2b.snow.json", four, 4, 17);
}

static void
test_vectors_noise_c(void **state)
{
	vector_file("noise-25519-chachapoly-blake2b.noise-c.json", four, 4, 24);
}

/* XK, the pattern of the channels between offices: 6, 5 and 6 messages. */
static void
test_vectors_xk(void **state)
{
	vector_file("noise-xk-25519-chachapoly-blake2b.json", xk, 1, 6);
	vector_file("noise-xk-25519-chachapoly-blake2b.snow.json", xk, 1, 5);
	vector_file("noise-xk-25519-chachapoly-blake2b.noise-c.json", xk, 1, 6);
}

/* Two fresh offices run XX, agree on h and keys, and talk both ways. */
static void
test_xx_fresh(void **state)
{
	uint8_t a_pub[32], a[32], b_pub[32], b[32], k[32], h1[64];
	struct noise_hs *ini, *rsp;
	struct noise_cipher *as, *ar, *bs, *br;
	struct cbuf m1 = { 0 }, m2 = { 0 }, p = { 0 }, c = { 0 };
	uint8_t *big;
	int i;

	assert_int_equal(noise_keypair(a_pub, a), 0);
	assert_int_equal(noise_keypair(b_pub, b), 0);
	assert_int_equal(noise_hs_new(&ini, "XX", true, a, NULL, NULL, 0), 0);
	assert_int_equal(noise_hs_new(&rsp, "XX", false, b, NULL, NULL, 0), 0);
	assert_int_equal(noise_hs_remote_static(ini, k), CUSTODY_ENOTFOUND);

	assert_int_equal(noise_hs_write(ini, &m1, NULL, 0), 0);
	assert_int_equal(m1.len, 32);
	assert_int_equal(noise_hs_read(rsp, &p, m1.data, m1.len), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(noise_hs_write(rsp, &m2, "hello A", 7), 0);
	assert_int_equal(m2.len, 32 + 48 + 7 + 16);
	assert_int_equal(noise_hs_read(ini, &p, m2.data, m2.len), 0);
	assert_int_equal(p.len, 7);
	assert_memory_equal(p.data, "hello A", 7);
	assert_int_equal(noise_hs_remote_static(ini, k), 0);
	assert_memory_equal(k, b_pub, 32);
	handshake_message3(ini, rsp, "hello B", 7, a_pub);
	assert_false(noise_hs_want_write(ini) || noise_hs_want_write(rsp));
	handshake_same_hash(ini, rsp, h1);

	assert_int_equal(noise_hs_split(ini, &as, &ar), 0);
	assert_int_equal(noise_hs_split(rsp, &bs, &br), 0);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* Many messages each way, interleaved, of every size class, up to the maximum. */
	assert_non_null(big = malloc(NOISE_MAX_PAYLOAD + 1));
	randombytes_buf(big, NOISE_MAX_PAYLOAD + 1);
	for (i = 0; i < 40; i++) {
		size_t n = i == 39 ? NOISE_MAX_PAYLOAD : (size_t)i * 97;

		c.len = p.len = 0;
		assert_int_equal(noise_encrypt(i % 3 ? as : bs, &c, big, n), 0);
		assert_int_equal(c.len, n + NOISE_TAG_LEN);
		if (n > 0)
			assert_memory_not_equal(c.data, big, n);
		assert_int_equal(noise_decrypt(i % 3 ? br : ar, &p, c.data, c.len), 0);
		assert_int_equal(p.len, n);
		if (n > 0)
			assert_memory_equal(p.data, big, n);
	}
	c.len = 0;
	assert_int_equal(noise_encrypt(as, &c, big, NOISE_MAX_PAYLOAD + 1), CUSTODY_ETOOBIG);
	assert_int_equal(c.len, 0);
	/* A cipher never decrypts its own direction's messages. */
	assert_int_equal(noise_encrypt(as, &c, "x", 1), 0);
	p.len = 0;
	assert_int_equal(noise_decrypt(ar, &p, c.data, c.len), CUSTODY_ECRYPTO);
	assert_int_equal(p.len, 0);
	assert_int_equal(noise_decrypt(br, &p, c.data, c.len), 0);

	free(big);
	noise_cipher_free(as);
	noise_cipher_free(ar);
	noise_cipher_free(bs);
	noise_cipher_free(br);
	cbuf_free(&m1);
	cbuf_free(&m2);
	cbuf_free(&p);
	cbuf_free(&c);
}

/*
 * Two fresh offices run XK: the initiator knows the responder's key from the start, the
 * responder learns the initiator's from message 3; one responder key the initiator did not
 * expect fails message 1 with nothing released.
 */
static void
test_xk_fresh(void **state)
{
	uint8_t a_pub[32], a[32], b_pub[32], b[32], m_pub[32], m[32], k[32], h1[64];
	struct noise_hs *ini, *rsp;
	struct noise_cipher *as, *ar, *bs, *br;
	struct cbuf m1 = { 0 }, m2 = { 0 }, p = { 0 }, c = { 0 };

	assert_int_equal(noise_keypair(a_pub, a), 0);
	assert_int_equal(noise_keypair(b_pub, b), 0);
	assert_int_equal(noise_keypair(m_pub, m), 0);
	assert_int_equal(noise_hs_new(&ini, "XK", true, a, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&rsp, "XK", false, NULL, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&ini, "XK", true, a, b_pub, NULL, 0), 0);
	assert_int_equal(noise_hs_new(&rsp, "XK", false, b, NULL, NULL, 0), 0);
	assert_int_equal(noise_hs_remote_static(ini, k), 0);
	assert_memory_equal(k, b_pub, 32);
	assert_int_equal(noise_hs_remote_static(rsp, k), CUSTODY_ENOTFOUND);

	assert_int_equal(noise_hs_write(ini, &m1, "one", 3), 0);
	assert_int_equal(m1.len, 32 + 3 + 16);
	assert_int_equal(noise_hs_read(rsp, &p, m1.data, m1.len), 0);
	assert_int_equal(p.len, 3);
	assert_memory_equal(p.data, "one", 3);
	assert_int_equal(noise_hs_write(rsp, &m2, "two", 3), 0);
	assert_int_equal(m2.len, 32 + 3 + 16);
	p.len = 0;
	assert_int_equal(noise_hs_read(ini, &p, m2.data, m2.len), 0);
	assert_memory_equal(p.data, "two", 3);
	handshake_message3(ini, rsp, "three", 5, a_pub);
	handshake_same_hash(ini, rsp, h1);
	assert_int_equal(noise_hs_split(ini, &as, &ar), 0);
	assert_int_equal(noise_hs_split(rsp, &bs, &br), 0);
	assert_int_equal(noise_encrypt(as, &c, "to b", 4), 0);
	p.len = 0;
	assert_int_equal(noise_decrypt(br, &p, c.data, c.len), 0);
	assert_memory_equal(p.data, "to b", 4);
	c.len = p.len = 0;
	assert_int_equal(noise_encrypt(bs, &c, "to a", 4), 0);
	assert_int_equal(noise_decrypt(ar, &p, c.data, c.len), 0);
	assert_memory_equal(p.data, "to a", 4);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* message 1 made for another responder key: m cannot read it, learns nothing */
	assert_int_equal(noise_hs_new(&ini, "XK", true, a, b_pub, NULL, 0), 0);
	assert_int_equal(noise_hs_new(&rsp, "XK", false, m, NULL, NULL, 0), 0);
	m1.len = p.len = 0;
	assert_int_equal(noise_hs_write(ini, &m1, "one", 3), 0);
	assert_int_equal(noise_hs_read(rsp, &p, m1.data, m1.len), CUSTODY_ECRYPTO);
	assert_int_equal(p.len, 0);
	assert_false(noise_hs_want_write(rsp));
	m2.len = 0;
	assert_int_equal(noise_hs_write(rsp, &m2, NULL, 0), CUSTODY_EPROTO);
	assert_int_equal(m2.len, 0);
	assert_int_equal(noise_hs_remote_static(rsp, k), CUSTODY_ENOTFOUND);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	noise_cipher_free(as);
	noise_cipher_free(ar);
	noise_cipher_free(bs);
	noise_cipher_free(br);
	cbuf_free(&m1);
	cbuf_free(&m2);
	cbuf_free(&p);
	cbuf_free(&c);
}

/* A completed XX pair's transport ciphers. */
static void
xx_ciphers(struct noise_cipher **is, struct noise_cipher **ir, struct noise_cipher **rs,
    struct noise_cipher **rr)
{
	struct noise_hs *ini, *rsp;
	size_t lens[3];
	int at;

	pair_new(&ini, &rsp, "XX", i_s, i_s_pub, i_s_pub, r_s_pub);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), 0);
	assert_int_equal(noise_hs_split(ini, is, ir), 0);
	assert_int_equal(noise_hs_split(rsp, rs, rr), 0);
	noise_hs_free(ini);
	noise_hs_free(rsp);
}

/* Transport: flipped tags, reordering, replay, truncation all fail; the nonce holds. */
static void
test_transport_negative(void **state)
{
	struct noise_cipher *is, *ir, *rs, *rr;
	struct cbuf c1 = { 0 }, c2 = { 0 }, c3 = { 0 }, e = { 0 }, p = { 0 };
	uint8_t *big;
	size_t i;

	xx_ciphers(&is, &ir, &rs, &rr);
	assert_int_equal(noise_encrypt(is, &c1, "first", 5), 0);
	assert_int_equal(noise_encrypt(is, &c2, "second", 6), 0);
	assert_int_equal(noise_encrypt(is, &c3, "third", 5), 0);
	assert_int_equal(noise_encrypt(is, &e, NULL, 0), 0);
	assert_int_equal(e.len, NOISE_TAG_LEN);

	for (i = 0; i < c1.len; i++) {
		c1.data[i] ^= 0x01;
		assert_int_equal(noise_decrypt(rr, &p, c1.data, c1.len), CUSTODY_ECRYPTO);
		c1.data[i] ^= 0x01;
	}
	assert_int_equal(noise_decrypt(rr, &p, c1.data, c1.len - 1), CUSTODY_ECRYPTO);
	assert_int_equal(noise_decrypt(rr, &p, c1.data, NOISE_TAG_LEN - 1), CUSTODY_EINVAL);
	assert_int_equal(noise_decrypt(rr, &p, c1.data, 0), CUSTODY_EINVAL);
	assert_non_null(big = calloc(1, NOISE_MAX_MSG + 1));
	assert_int_equal(noise_decrypt(rr, &p, big, NOISE_MAX_MSG + 1), CUSTODY_EINVAL);
	assert_int_equal(noise_decrypt(rr, &p, big, NOISE_MAX_MSG), CUSTODY_ECRYPTO);
	free(big);
	/* Out of order: the second before the first. */
	assert_int_equal(noise_decrypt(rr, &p, c2.data, c2.len), CUSTODY_ECRYPTO);
	assert_int_equal(p.len, 0);
	/* None of that moved the nonce: the first message still opens, then in order. */
	assert_int_equal(noise_decrypt(rr, &p, c1.data, c1.len), 0);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.data, "first", 5);
	assert_int_equal(noise_decrypt(rr, &p, c1.data, c1.len), CUSTODY_ECRYPTO);
	assert_int_equal(noise_decrypt(rr, &p, c3.data, c3.len), CUSTODY_ECRYPTO);
	assert_int_equal(noise_decrypt(rr, &p, c2.data, c2.len), 0);
	assert_int_equal(noise_decrypt(rr, &p, c3.data, c3.len), 0);
	assert_int_equal(noise_decrypt(rr, &p, e.data, e.len), 0);
	assert_int_equal(p.len, 16);
	assert_memory_equal(p.data, "firstsecondthird", 16);
	/* The other direction is a different key. */
	assert_int_equal(noise_decrypt(ir, &p, c1.data, c1.len), CUSTODY_ECRYPTO);

	noise_cipher_free(is);
	noise_cipher_free(ir);
	noise_cipher_free(rs);
	noise_cipher_free(rr);
	noise_cipher_free(NULL);
	cbuf_free(&c1);
	cbuf_free(&c2);
	cbuf_free(&c3);
	cbuf_free(&e);
	cbuf_free(&p);
}

/* The last nonce 2^64-2 works; after it both sides refuse; nonces never go back. */
static void
test_nonce_exhaustion(void **state)
{
	struct noise_cipher *is, *ir, *rs, *rr;
	struct cbuf c = { 0 }, p = { 0 };

	xx_ciphers(&is, &ir, &rs, &rr);
	assert_int_equal(noise_cipher_set_nonce(rs, UINT64_MAX - 1), 0);
	assert_int_equal(noise_cipher_set_nonce(rs, 5), CUSTODY_EINVAL);
	assert_int_equal(noise_encrypt(rs, &c, "last", 4), 0);
	assert_int_equal(noise_decrypt(ir, &p, c.data, c.len), CUSTODY_ECRYPTO);
	assert_int_equal(noise_cipher_set_nonce(ir, UINT64_MAX - 1), 0);
	assert_int_equal(noise_decrypt(ir, &p, c.data, c.len), 0);
	assert_memory_equal(p.data, "last", 4);
	c.len = 0;
	assert_int_equal(noise_encrypt(rs, &c, "more", 4), CUSTODY_EPROTO);
	assert_int_equal(c.len, 0);
	assert_int_equal(noise_decrypt(ir, &p, p.data, 20), CUSTODY_EPROTO);
	assert_int_equal(p.len, 4);

	noise_cipher_free(is);
	noise_cipher_free(ir);
	noise_cipher_free(rs);
	noise_cipher_free(rr);
	cbuf_free(&c);
	cbuf_free(&p);
}

/* Wrong arguments and calls out of turn are refused without side effects. */
static void
test_misuse(void **state)
{
	struct noise_hs *hs = (struct noise_hs *)&hs, *peer;
	struct noise_cipher *a, *b;
	struct cbuf m = { 0 }, p = { 0 };
	uint8_t zero[32] = { 0 };

	assert_int_equal(noise_hs_new(&hs, "XY", true, i_s, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_null(hs);
	assert_int_equal(noise_hs_new(&hs, "xx", true, i_s, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, NULL, true, i_s, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "Noise_XX" SUITE, true, i_s, NULL, NULL, 0),
	    CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "XX", true, NULL, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "XX", false, NULL, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "NK", true, i_s, r_s_pub, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "NK", true, NULL, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "NK", false, r_s, i_s_pub, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "KK", false, r_s, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "IK", true, i_s, NULL, NULL, 0), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "XX", true, i_s, NULL, NULL, 3), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_new(&hs, "NK", true, NULL, zero, NULL, 0), CUSTODY_ECRYPTO);
	assert_null(hs);
	noise_hs_free(NULL);

	assert_int_equal(noise_hs_new(&hs, "XX", true, i_s, NULL, NULL, 0), 0);
	assert_int_equal(noise_hs_new(&peer, "XX", false, r_s, NULL, NULL, 0), 0);
	assert_int_equal(noise_hs_read(hs, &p, m.data, 0), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_write(peer, &m, NULL, 0), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_split(hs, &a, &b), CUSTODY_EPROTO);
	assert_null(a);
	assert_null(b);
	assert_int_equal(noise_hs_write(hs, &m, NULL, 1), CUSTODY_EINVAL);
	/* None of that hurt: the handshake proceeds. */
	assert_true(noise_hs_want_write(hs));
	assert_int_equal(noise_hs_write(hs, &m, NULL, 0), 0);
	assert_int_equal(noise_hs_set_ephemeral(hs, i_e), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_read(peer, &p, m.data, m.len), 0);
	/* Once failed, always failed. */
	assert_int_equal(noise_hs_read(hs, &p, m.data, 5), CUSTODY_EINVAL);
	assert_int_equal(noise_hs_read(hs, &p, m.data, m.len), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_write(hs, &m, NULL, 0), CUSTODY_EPROTO);
	assert_false(noise_hs_want_write(hs));
	assert_false(noise_hs_done(hs));
	noise_hs_free(hs);
	noise_hs_free(peer);
	cbuf_free(&m);
	cbuf_free(&p);
}

/* Office Ed25519 keys become X25519 Noise keys (libsodium's and RFC 8032's known answers). */
static void
test_ed25519(void **state)
{
	uint8_t seed[32], ed_pk[32], ed_sk[64], b_pk[32], b_sk[64], bad_sk[64];
	uint8_t x[32], x_pub[32], want[32], bx[32], bx_pub[32], k[32], one[32] = { 1 };
	struct noise_hs *ini, *rsp;
	size_t lens[3];
	int at;

	assert_int_equal(hex_decode(seed, 32,
	    "421151a459faeade3d247115f94aedae42318124095afabe4d1451a559faedee"), 0);
	assert_int_equal(crypto_sign_seed_keypair(ed_pk, ed_sk, seed), 0);
	assert_int_equal(noise_static_from_ed25519(x, x_pub, ed_sk), 0);
	assert_int_equal(hex_decode(want, 32,
	    "8052030376d47112be7f73ed7a019293dd12ad910b654455798b4667d73de166"), 0);
	assert_memory_equal(x, want, 32);
	assert_int_equal(hex_decode(want, 32,
	    "f1814f0e8ff1043d8a44d25babff3cedcae6c22c3edaa48f857ae70de2baae50"), 0);
	assert_memory_equal(x_pub, want, 32);
	assert_int_equal(noise_pub_from_ed25519(k, ed_pk), 0);
	assert_memory_equal(k, want, 32);

	assert_int_equal(hex_decode(seed, 32,
	    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), 0);
	assert_int_equal(crypto_sign_seed_keypair(b_pk, b_sk, seed), 0);
	assert_int_equal(noise_pub_from_ed25519(k, b_pk), 0);
	assert_int_equal(hex_decode(want, 32,
	    "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e"), 0);
	assert_memory_equal(k, want, 32);

	/* A secret key whose public half belongs to someone else; invalid public keys. */
	memcpy(bad_sk, ed_sk, 32);
	memcpy(bad_sk + 32, b_pk, 32);
	assert_int_equal(noise_static_from_ed25519(bx, bx_pub, bad_sk), CUSTODY_ECRYPTO);
	assert_int_equal(noise_pub_from_ed25519(k, one), CUSTODY_ECRYPTO);

	/* Two offices shake hands with their converted keys and see each other's. */
	crypto_sign_keypair(b_pk, b_sk);
	assert_int_equal(noise_static_from_ed25519(bx, bx_pub, b_sk), 0);
	assert_int_equal(noise_pub_from_ed25519(want, b_pk), 0);
	assert_int_equal(noise_hs_new(&ini, "XX", true, x, want, NULL, 0), 0);
	assert_int_equal(noise_pub_from_ed25519(want, ed_pk), 0);
	assert_int_equal(noise_hs_new(&rsp, "XX", false, bx, want, NULL, 0), 0);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), 0);
	assert_int_equal(noise_hs_remote_static(rsp, k), 0);
	assert_memory_equal(k, want, 32);
	assert_int_equal(noise_hs_remote_static(ini, k), 0);
	assert_memory_equal(k, bx_pub, 32);
	noise_hs_free(ini);
	noise_hs_free(rsp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_cacophony),
		cmocka_unit_test(test_vectors_snow),
		cmocka_unit_test(test_vectors_noise_c),
		cmocka_unit_test(test_vectors_xk),
		cmocka_unit_test(test_xx_fresh),
		cmocka_unit_test(test_xk_fresh),
		cmocka_unit_test(test_transport_negative),
		cmocka_unit_test(test_nonce_exhaustion),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_ed25519),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
