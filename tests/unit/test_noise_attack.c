/*
 * Noise handshakes under attack: every bit of every message flipped, every truncation, oversized
 * messages, replays, impostor static keys (exposed, pinned, K patterns), low-order ephemerals and
 * prologue mismatches, for NK, KK, IK, XX and XK.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "custody/common.h"
#include "custody/noise.h"

#include "noise-pair.h"

static int
setup(void **state)
{
	return pair_keys();
}

/* A handshake damaged as d: returns the error, *at the message it surfaced in. */
static int
damaged_run(const char *pattern, const struct damage *d, int *at)
{
	struct noise_hs *ini, *rsp;
	size_t lens[3];
	int error;

	pair_new(&ini, &rsp, pattern, i_s, i_s_pub, NULL, NULL);
	error = pair_run(ini, rsp, d, at, lens);
	noise_hs_free(ini);
	noise_hs_free(rsp);
	return error;
}

#define NPATTERNS 5
static const char *const patterns[NPATTERNS] = { "NK", "KK", "IK", "XX", "XK" };
/* The fixed part of each handshake message (keys and tags) per pattern, in that order. */
static const size_t overheads[NPATTERNS][3] = {
	{ 48, 48, 0 }, { 48, 48, 0 }, { 96, 48, 0 }, { 32, 96, 64 }, { 48, 48, 64 },
};


/* Undamaged message lengths of a pattern (with "payload N" payloads). */
static unsigned
clean_lens(const char *pattern, size_t lens[static 3])
{
	struct noise_hs *ini, *rsp;
	int at;

	pair_new(&ini, &rsp, pattern, i_s, i_s_pub, NULL, NULL);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), 0);
	noise_hs_free(ini);
	noise_hs_free(rsp);
	return pattern[0] == 'X' ? 3 : 2;
}

/* Flipping any bit of any handshake message makes the handshake fail. */
static void
test_flip_each_byte(void **state)
{
	struct damage d;
	size_t lens[3];
	unsigned p, k, nmsg, runs = 0;
	int at, error;
	bool xx;

	for (p = 0; p < NPATTERNS; p++) {
		xx = strcmp(patterns[p], "XX") == 0;
		nmsg = clean_lens(patterns[p], lens);
		for (k = 0; k < nmsg; k++) {
			for (d.pos = 0; d.pos < lens[k]; d.pos++) {
				d.msg = (int)k;
				d.mask = 0x01;
				error = damaged_run(patterns[p], &d, &at);
				assert_int_equal(error, CUSTODY_ECRYPTO);
				/* XX message 1 is plaintext: the next message fails instead. */
				assert_int_equal(at, xx && k == 0 ? 1 : (int)k);
				runs++;
			}
			/* X25519 ignores a public key's top bit; the handshake hash does not. */
			d.pos = 31;
			d.mask = 0x80;
			assert_int_equal(damaged_run(patterns[p], &d, &at), CUSTODY_ECRYPTO);
		}
	}
	assert_true(runs > 700);
}

/* A truncated (or lengthened) handshake message fails; below the fixed part with EINVAL. */
static void
test_truncate(void **state)
{
	struct damage d;
	size_t lens[3];
	unsigned p, k, nmsg;
	int at, error;

	for (p = 0; p < NPATTERNS; p++) {
		nmsg = clean_lens(patterns[p], lens);
		for (k = 0; k < nmsg; k++) {
			d.msg = (int)k;
			d.mask = 0;
			for (d.pos = 0; d.pos < lens[k]; d.pos++) {
				error = damaged_run(patterns[p], &d, &at);
				if (d.pos < overheads[p][k]) {
					assert_int_equal(error, CUSTODY_EINVAL);
					assert_int_equal(at, (int)k);
				} else {
					assert_int_equal(error, CUSTODY_ECRYPTO);
					assert_true(at >= (int)k);
				}
			}
		}
	}
}

/* Handshake messages up to 65535 bytes pass; longer ones are refused on both sides. */
static void
test_max_size(void **state)
{
	struct noise_hs *ini, *rsp;
	struct cbuf m = { 0 }, p = { 0 };
	uint8_t *big;

	assert_non_null(big = calloc(1, NOISE_MAX_MSG + 2));
	pair_new(&ini, &rsp, "XX", i_s, i_s_pub, NULL, NULL);
	assert_int_equal(noise_hs_write(ini, &m, big, NOISE_MAX_MSG - 31), CUSTODY_ETOOBIG);
	assert_int_equal(m.len, 0);
	assert_true(noise_hs_want_write(ini));
	assert_int_equal(noise_hs_read(rsp, &p, big, NOISE_MAX_MSG + 1), CUSTODY_EINVAL);
	assert_false(noise_hs_want_write(rsp));
	assert_int_equal(noise_hs_write(rsp, &m, NULL, 0), CUSTODY_EPROTO);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	pair_new(&ini, &rsp, "XX", i_s, i_s_pub, NULL, NULL);
	assert_int_equal(noise_hs_write(ini, &m, big, NOISE_MAX_MSG - 32), 0);
	assert_int_equal(m.len, NOISE_MAX_MSG);
	assert_int_equal(noise_hs_read(rsp, &p, m.data, m.len), 0);
	assert_int_equal(p.len, NOISE_MAX_MSG - 32);
	m.len = 0;
	assert_int_equal(noise_hs_write(rsp, &m, big, NOISE_MAX_MSG - 96 + 1), CUSTODY_ETOOBIG);
	assert_int_equal(noise_hs_write(rsp, &m, big, NOISE_MAX_MSG - 96), 0);
	assert_int_equal(m.len, NOISE_MAX_MSG);
	p.len = 0;
	assert_int_equal(noise_hs_read(ini, &p, m.data, m.len), 0);
	assert_int_equal(p.len, NOISE_MAX_MSG - 96);
	noise_hs_free(ini);
	noise_hs_free(rsp);
	cbuf_free(&m);
	cbuf_free(&p);
	free(big);
}

/* Replayed handshake messages: refused after completion, and useless to a fresh responder. */
static void
test_replay(void **state)
{
	struct noise_hs *ini, *rsp, *rsp2, *ini2;
	struct cbuf m1 = { 0 }, m2 = { 0 }, m3 = { 0 }, x = { 0 }, p = { 0 };
	uint8_t other_e[32];

	pair_new(&ini, &rsp, "XX", i_s, i_s_pub, NULL, NULL);
	assert_int_equal(noise_hs_write(ini, &m1, "", 0), 0);
	assert_int_equal(noise_hs_read(rsp, &p, m1.data, m1.len), 0);
	assert_int_equal(noise_hs_write(rsp, &m2, "r", 1), 0);
	assert_int_equal(noise_hs_read(ini, &p, m2.data, m2.len), 0);
	assert_int_equal(noise_hs_write(ini, &m3, "i", 1), 0);
	assert_int_equal(noise_hs_read(rsp, &p, m3.data, m3.len), 0);
	assert_true(noise_hs_done(ini) && noise_hs_done(rsp));

	p.len = 0;
	assert_int_equal(noise_hs_read(rsp, &p, m1.data, m1.len), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_read(rsp, &p, m3.data, m3.len), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_read(ini, &p, m2.data, m2.len), CUSTODY_EPROTO);
	assert_int_equal(noise_hs_write(ini, &x, "", 0), CUSTODY_EPROTO);
	assert_int_equal(p.len, 0);
	assert_int_equal(x.len, 0);

	/* A fresh responder takes the replayed first message, but not the recorded third. */
	randombytes_buf(other_e, sizeof other_e);
	assert_int_equal(noise_hs_new(&rsp2, "XX", false, r_s, NULL, "custody", 7), 0);
	assert_int_equal(noise_hs_set_ephemeral(rsp2, other_e), 0);
	assert_int_equal(noise_hs_read(rsp2, &p, m1.data, m1.len), 0);
	assert_int_equal(noise_hs_write(rsp2, &x, "r", 1), 0);
	assert_memory_not_equal(x.data, m2.data, 32);
	p.len = 0;
	assert_int_equal(noise_hs_read(rsp2, &p, m3.data, m3.len), CUSTODY_ECRYPTO);
	assert_int_equal(p.len, 0);
	assert_false(noise_hs_done(rsp2));
	/* A fresh initiator does not take a recorded second message. */
	assert_int_equal(noise_hs_new(&ini2, "XX", true, i_s, NULL, "custody", 7), 0);
	x.len = 0;
	assert_int_equal(noise_hs_write(ini2, &x, "", 0), 0);
	assert_int_equal(noise_hs_read(ini2, &p, m2.data, m2.len), CUSTODY_ECRYPTO);
	assert_int_equal(p.len, 0);

	noise_hs_free(ini);
	noise_hs_free(rsp);
	noise_hs_free(rsp2);
	noise_hs_free(ini2);
	cbuf_free(&m1);
	cbuf_free(&m2);
	cbuf_free(&m3);
	cbuf_free(&x);
	cbuf_free(&p);
}

/* A peer with another static key is exposed, refused when pinned, and fails K patterns. */
static void
test_wrong_static(void **state)
{
	struct noise_hs *ini, *rsp;
	struct noise_cipher *a, *b;
	struct cbuf m = { 0 }, p = { 0 };
	uint8_t k[32], h[64];
	size_t lens[3];
	unsigned i;
	int at;

	/* XX, nothing pinned: the responder completes and must look at who it got. */
	pair_new(&ini, &rsp, "XX", m_s, m_s_pub, NULL, NULL);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), 0);
	assert_int_equal(noise_hs_remote_static(rsp, k), 0);
	assert_memory_equal(k, m_s_pub, 32);
	assert_memory_not_equal(k, i_s_pub, 32);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* XX, the responder pins the expected office: the impostor's last message is refused. */
	pair_new(&ini, &rsp, "XX", m_s, m_s_pub, i_s_pub, NULL);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), CUSTODY_EPERM);
	assert_int_equal(at, 2);
	assert_false(noise_hs_done(rsp));
	assert_int_equal(noise_hs_split(rsp, &a, &b), CUSTODY_EPROTO);
	assert_null(a);
	assert_int_equal(noise_hs_hash(rsp, h), CUSTODY_EPROTO);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* XX, the initiator pins the responder: an impostor responder never learns who calls. */
	assert_int_equal(noise_hs_new(&ini, "XX", true, i_s, r_s_pub, NULL, 0), 0);
	assert_int_equal(noise_hs_new(&rsp, "XX", false, m_s, NULL, NULL, 0), 0);
	assert_int_equal(noise_hs_write(ini, &m, NULL, 0), 0);
	assert_int_equal(noise_hs_read(rsp, &p, m.data, m.len), 0);
	m.len = 0;
	assert_int_equal(noise_hs_write(rsp, &m, "hi", 2), 0);
	assert_int_equal(noise_hs_read(ini, &p, m.data, m.len), CUSTODY_EPERM);
	assert_int_equal(p.len, 0);
	assert_false(noise_hs_want_write(ini));
	m.len = 0;
	assert_int_equal(noise_hs_write(ini, &m, NULL, 0), CUSTODY_EPROTO);
	assert_int_equal(m.len, 0);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* IK, the responder pins: refused in the first message. */
	pair_new(&ini, &rsp, "IK", m_s, m_s_pub, i_s_pub, NULL);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), CUSTODY_EPERM);
	assert_int_equal(at, 0);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* KK, the responder expects i_s but the initiator holds m_s. */
	pair_new(&ini, &rsp, "KK", m_s, i_s_pub, NULL, NULL);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), CUSTODY_ECRYPTO);
	assert_int_equal(at, 0);
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/* XK, the responder pins the expected office: the impostor's last message is refused. */
	pair_new(&ini, &rsp, "XK", m_s, m_s_pub, i_s_pub, NULL);
	assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), CUSTODY_EPERM);
	assert_int_equal(at, 2);
	assert_false(noise_hs_done(rsp));
	noise_hs_free(ini);
	noise_hs_free(rsp);

	/*
	 * NK, KK, IK, XK: an initiator that believes in the wrong responder key fails at once:
	 * the responder cannot read message 1, so it has nothing to answer.
	 */
	for (i = 0; i < NPATTERNS; i++) {
		if (i == 3)
			continue;	/* XX: the responder's key is not known in advance */
		assert_int_equal(noise_hs_new(&ini, patterns[i], true, i == 0 ? NULL : i_s,
		    m_s_pub, NULL, 0), 0);
		assert_int_equal(noise_hs_new(&rsp, patterns[i], false, r_s,
		    i == 1 ? i_s_pub : NULL, NULL, 0), 0);
		m.len = p.len = 0;
		assert_int_equal(noise_hs_write(ini, &m, "secret", 6), 0);
		assert_int_equal(noise_hs_read(rsp, &p, m.data, m.len), CUSTODY_ECRYPTO);
		assert_int_equal(p.len, 0);
		assert_false(noise_hs_want_write(rsp));
		noise_hs_free(ini);
		noise_hs_free(rsp);
	}
	cbuf_free(&m);
	cbuf_free(&p);
}

/* Low-order ephemeral keys (all-zero DH output) are refused. */
static void
test_low_order(void **state)
{
	static const char *const bad_hex[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	struct noise_hs *ini, *rsp;
	struct cbuf m = { 0 }, p = { 0 };
	uint8_t bad[32];
	unsigned i, j;

	for (i = 0; i < sizeof bad_hex / sizeof bad_hex[0]; i++) {
		assert_int_equal(hex_decode(bad, 32, bad_hex[i]), 0);
		for (j = 0; j < NPATTERNS; j++) {
			pair_new(&ini, &rsp, patterns[j], i_s, i_s_pub, NULL, NULL);
			m.len = p.len = 0;
			assert_int_equal(noise_hs_write(ini, &m, "x", 1), 0);
			memcpy(m.data, bad, 32);
			assert_int_equal(noise_hs_read(rsp, &p, m.data, m.len), CUSTODY_ECRYPTO);
			assert_int_equal(p.len, 0);
			noise_hs_free(ini);
			noise_hs_free(rsp);
		}
	}
	cbuf_free(&m);
	cbuf_free(&p);
}

/* Different prologues never complete. */
static void
test_prologue_mismatch(void **state)
{
	struct noise_hs *ini, *rsp;
	size_t lens[3];
	unsigned j;
	int at;

	for (j = 0; j < NPATTERNS; j++) {
		bool xx = j == 3;

		assert_int_equal(noise_hs_new(&ini, patterns[j], true, j == 0 ? NULL : i_s,
		    xx ? NULL : r_s_pub, "custody v1", 10), 0);
		assert_int_equal(noise_hs_new(&rsp, patterns[j], false, r_s,
		    j == 1 ? i_s_pub : NULL, "custody v2", 10), 0);
		assert_int_equal(pair_run(ini, rsp, NULL, &at, lens), CUSTODY_ECRYPTO);
		assert_int_equal(at, xx ? 1 : 0);
		noise_hs_free(ini);
		noise_hs_free(rsp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flip_each_byte),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_wrong_static),
		cmocka_unit_test(test_low_order),
		cmocka_unit_test(test_prologue_mismatch),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
