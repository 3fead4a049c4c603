/*
 * Shared by the Noise unit tests: fixed keys, and a driver that runs a handshake between two
 * parties and can damage one message on the way. Static functions: include once per test.
 */
#ifndef CUSTODY_TEST_NOISE_PAIR_H
#define CUSTODY_TEST_NOISE_PAIR_H

/* Fixed keys for the non-vector tests (initiator, responder, impostor), made by pair_keys. */
static uint8_t i_s[32], i_s_pub[32], r_s[32], r_s_pub[32], m_s[32], m_s_pub[32];
static uint8_t i_e[32], r_e[32];

/* Make the fixed keys; 0 or -1 (for a cmocka group setup). */
static int
pair_keys(void)
{
	if (sodium_init() < 0)
		return -1;
	if (noise_keypair(i_s_pub, i_s) < 0 || noise_keypair(r_s_pub, r_s) < 0 ||
	    noise_keypair(m_s_pub, m_s) < 0)
		return -1;
	randombytes_buf(i_e, sizeof i_e);
	randombytes_buf(r_e, sizeof r_e);
	return 0;
}

/* How to damage one handshake message on its way. */
struct damage {
	int	msg;		/* index of the message to damage; -1 none */
	size_t	pos;		/* byte to flip */
	uint8_t	mask;		/* 0: truncate to pos bytes instead */
};

/* New handshake pair for pattern with the fixed keys (initiator static = is). */
static void
pair_new(struct noise_hs **ini, struct noise_hs **rsp, const char *pattern, const uint8_t *is,
    const uint8_t *is_pub, const uint8_t *pin_i, const uint8_t *pin_r)
{
	bool has_is = strcmp(pattern, "NK") != 0;
	bool pre_r = strcmp(pattern, "XX") != 0;
	bool pre_i = strcmp(pattern, "KK") == 0;

	assert_int_equal(noise_hs_new(ini, pattern, true, has_is ? is : NULL,
	    pre_r ? r_s_pub : pin_r, "custody", 7), 0);
	assert_int_equal(noise_hs_new(rsp, pattern, false, r_s, pre_i ? is_pub : pin_i,
	    "custody", 7), 0);
	assert_int_equal(noise_hs_set_ephemeral(*ini, i_e), 0);
	assert_int_equal(noise_hs_set_ephemeral(*rsp, r_e), 0);
}

/* Run a handshake, damaging one message; the first error, its message index in *at. */
static int
pair_run(struct noise_hs *ini, struct noise_hs *rsp, const struct damage *d, int *at,
    size_t lens[static 3])
{
	struct noise_hs *tx, *rx;
	struct cbuf msg = { 0 }, pay = { 0 };
	char text[32];
	int k, error = 0;

	*at = -1;
	for (k = 0; !noise_hs_done(ini) || !noise_hs_done(rsp); k++) {
		assert_true(k < 3);
		tx = noise_hs_want_write(ini) ? ini : rsp;
		rx = tx == ini ? rsp : ini;
		assert_true(noise_hs_want_write(tx));
		snprintf(text, sizeof text, "payload %d", k);
		msg.len = pay.len = 0;
		if ((error = noise_hs_write(tx, &msg, text, strlen(text))) < 0)
			break;
		lens[k] = msg.len;
		if (d != NULL && d->msg == k) {
			if (d->mask != 0)
				msg.data[d->pos] ^= d->mask;
			else
				msg.len = d->pos;
		}
		if ((error = noise_hs_read(rx, &pay, msg.data, msg.len)) < 0) {
			assert_int_equal(pay.len, 0);
			assert_false(noise_hs_done(rx));
			break;
		}
		/* Only the unauthenticated first XX message can arrive damaged. */
		if (d == NULL || d->msg != k) {
			assert_int_equal(pay.len, strlen(text));
			assert_memory_equal(pay.data, text, pay.len);
		}
	}
	if (error < 0)
		*at = k;
	cbuf_free(&msg);
	cbuf_free(&pay);
	return error;
}

#endif
