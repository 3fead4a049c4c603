/*
 * The Noise HandshakeState (revision 34, section 5.3) for the NK, KK, IK, XX and XK patterns
 * with 25519, ChaChaPoly and BLAKE2b. No PSK, no fallback. Offices talk XK (proto/conn-noise.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "custody/common.h"
#include "custody/noise.h"
#include "noise-int.h"

#define NOISE_SUITE "_25519_ChaChaPoly_BLAKE2b"
#define NOISE_MAX_MSGS 3
#define NOISE_MAX_TOKENS 5

enum noise_token { NOISE_T_END = 0, NOISE_T_E, NOISE_T_S, NOISE_T_EE, NOISE_T_ES, NOISE_T_SE,
	NOISE_T_SS };

/*
 * A handshake pattern. i_static / r_static say how each side's static key is known: 'N' it has
 * none, 'K' it is a pre-message (the peer knows it in advance), 'X' it is sent in a message.
 */
struct noise_pattern {
	const char	*name;
	char		 i_static;
	char		 r_static;
	unsigned	 nmsgs;
	uint8_t		 msgs[NOISE_MAX_MSGS][NOISE_MAX_TOKENS];
};

static const struct noise_pattern noise_patterns[] = {
	{ "NK", 'N', 'K', 2, {
		{ NOISE_T_E, NOISE_T_ES },
		{ NOISE_T_E, NOISE_T_EE } } },
	{ "KK", 'K', 'K', 2, {
		{ NOISE_T_E, NOISE_T_ES, NOISE_T_SS },
		{ NOISE_T_E, NOISE_T_EE, NOISE_T_SE } } },
	{ "IK", 'X', 'K', 2, {
		{ NOISE_T_E, NOISE_T_ES, NOISE_T_S, NOISE_T_SS },
		{ NOISE_T_E, NOISE_T_EE, NOISE_T_SE } } },
	{ "XX", 'X', 'X', 3, {
		{ NOISE_T_E },
		{ NOISE_T_E, NOISE_T_EE, NOISE_T_S, NOISE_T_ES },
		{ NOISE_T_S, NOISE_T_SE } } },
	{ "XK", 'X', 'K', 3, {
		{ NOISE_T_E, NOISE_T_ES },
		{ NOISE_T_E, NOISE_T_EE },
		{ NOISE_T_S, NOISE_T_SE } } },
};

/* A handshake in progress; lives in sodium_malloc'd memory. */
struct noise_hs {
	struct noise_sym		 sym;
	const struct noise_pattern	*pat;
	unsigned			 next;		/* index of the next message */
	bool				 initiator;
	bool				 failed;
	bool				 split;
	bool				 has_s, has_e, has_rs, has_re, has_pin;
	uint8_t				 s[NOISE_KEY_LEN], s_pub[NOISE_KEY_LEN];
	uint8_t				 e[NOISE_KEY_LEN], e_pub[NOISE_KEY_LEN];
	uint8_t				 rs[NOISE_KEY_LEN], re[NOISE_KEY_LEN];
	uint8_t				 pin[NOISE_KEY_LEN];
};

/* Refuse a low-order public key early: any clamped scalar maps exactly those to zero. */
static int
noise_hs_check_key(const uint8_t pub[static NOISE_KEY_LEN])
{
	static const uint8_t probe[NOISE_KEY_LEN] = { 9 };
	uint8_t out[NOISE_KEY_LEN];

	return noise_dh(out, probe, pub);
}

/* Mark the handshake failed and wipe its secrets. */
static void
noise_hs_poison(struct noise_hs *hs)
{
	hs->failed = true;
	sodium_memzero(&hs->sym, sizeof hs->sym);
	sodium_memzero(hs->s, sizeof hs->s);
	sodium_memzero(hs->e, sizeof hs->e);
}

/* Start a handshake for pattern and role. */
int
noise_hs_new(struct noise_hs **out, const char *pattern, bool initiator,
    const uint8_t *s_priv, const uint8_t *rs, const void *prologue, size_t prologue_len)
{
	const struct noise_pattern *pat = NULL;
	struct noise_hs *hs;
	char name[64], local, remote;
	size_t i;
	int error;

	*out = NULL;
	if (sodium_init() < 0)
		return custody_fail(CUSTODY_ERR, "noise: libsodium failed to initialise");
	for (i = 0; i < sizeof noise_patterns / sizeof noise_patterns[0]; i++)
		if (pattern != NULL && strcmp(pattern, noise_patterns[i].name) == 0)
			pat = &noise_patterns[i];
	if (pat == NULL)
		return custody_fail(CUSTODY_EINVAL, "noise: unsupported pattern %s",
		    pattern ? pattern : "(null)");
	local = initiator ? pat->i_static : pat->r_static;
	remote = initiator ? pat->r_static : pat->i_static;
	if ((local == 'N') != (s_priv == NULL))
		return custody_fail(CUSTODY_EINVAL, "noise: %s %s %s a static key", pat->name,
		    initiator ? "initiator" : "responder", local == 'N' ? "has no" : "needs");
	if ((remote == 'K' && rs == NULL) || (remote == 'N' && rs != NULL))
		return custody_fail(CUSTODY_EINVAL, "noise: %s %s %s the peer's static key",
		    pat->name, initiator ? "initiator" : "responder",
		    remote == 'N' ? "cannot use" : "needs");
	if (prologue == NULL && prologue_len > 0)
		return custody_fail(CUSTODY_EINVAL, "noise: no prologue bytes");
	if (rs != NULL && (error = noise_hs_check_key(rs)) < 0)
		return error;

	if ((hs = sodium_malloc(sizeof *hs)) == NULL)
		return CUSTODY_ENOMEM;
	memset(hs, 0, sizeof *hs);
	hs->pat = pat;
	hs->initiator = initiator;
	snprintf(name, sizeof name, "Noise_%s" NOISE_SUITE, pat->name);
	noise_sym_init(&hs->sym, name);
	noise_sym_mix_hash(&hs->sym, prologue, prologue_len);
	if (s_priv != NULL) {
		memcpy(hs->s, s_priv, NOISE_KEY_LEN);
		if ((error = noise_public_key(hs->s_pub, hs->s)) < 0) {
			noise_hs_free(hs);
			return error;
		}
		hs->has_s = true;
	}
	if (rs != NULL && remote == 'K') {
		memcpy(hs->rs, rs, NOISE_KEY_LEN);
		hs->has_rs = true;
	} else if (rs != NULL) {
		memcpy(hs->pin, rs, NOISE_KEY_LEN);
		hs->has_pin = true;
	}
	/* Pre-messages: the initiator's key first, then the responder's. */
	if (pat->i_static == 'K')
		noise_sym_mix_hash(&hs->sym, initiator ? hs->s_pub : hs->rs, NOISE_KEY_LEN);
	if (pat->r_static == 'K')
		noise_sym_mix_hash(&hs->sym, initiator ? hs->rs : hs->s_pub, NOISE_KEY_LEN);
	*out = hs;
	return 0;
}

/* Wipe and free (sodium_free also zeroes the memory). */
void
noise_hs_free(struct noise_hs *hs)
{
	if (hs == NULL)
		return;
	sodium_memzero(hs, sizeof *hs);
	sodium_free(hs);
}

/* Fix the ephemeral key (tests only). */
int
noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[static NOISE_KEY_LEN])
{
	int error;

	if (hs->failed || hs->has_e)
		return custody_fail(CUSTODY_EPROTO, "noise: ephemeral key already set");
	memcpy(hs->e, e_priv, NOISE_KEY_LEN);
	if ((error = noise_public_key(hs->e_pub, hs->e)) < 0) {
		sodium_memzero(hs->e, sizeof hs->e);
		return error;
	}
	hs->has_e = true;
	return 0;
}

/* True when the next step is ours to write. */
bool
noise_hs_want_write(const struct noise_hs *hs)
{
	return !hs->failed && hs->next < hs->pat->nmsgs &&
	    (hs->next % 2 == 0) == hs->initiator;
}

/* True once every message went through. */
bool
noise_hs_done(const struct noise_hs *hs)
{
	return !hs->failed && hs->next == hs->pat->nmsgs;
}

/* 0 when it is this side's turn to write (or to read); CUSTODY_EPROTO with a reason if not. */
static int
noise_hs_turn(const struct noise_hs *hs, bool writing)
{
	if (hs->failed)
		return custody_fail(CUSTODY_EPROTO, "noise: handshake failed earlier");
	if (hs->next == hs->pat->nmsgs)
		return custody_fail(CUSTODY_EPROTO, "noise: handshake already complete");
	if (noise_hs_want_write(hs) != writing)
		return custody_fail(CUSTODY_EPROTO, "noise: not this side's turn to %s",
		    writing ? "write" : "read");
	return 0;
}

/* Bytes the next message adds to its payload: keys, encrypted keys and tags. */
static size_t
noise_hs_overhead(const struct noise_hs *hs)
{
	const uint8_t *t = hs->pat->msgs[hs->next];
	bool key = hs->sym.cs.has_key;
	size_t i, n = 0;

	for (i = 0; i < NOISE_MAX_TOKENS && t[i] != NOISE_T_END; i++) {
		if (t[i] == NOISE_T_E)
			n += NOISE_KEY_LEN;
		else if (t[i] == NOISE_T_S)
			n += NOISE_KEY_LEN + (key ? NOISE_TAG_LEN : 0);
		else
			key = true;
	}
	return n + (key ? NOISE_TAG_LEN : 0);
}

/* MixKey with the DH a token ("ee", "es", "se", "ss") names for this side's role. */
static int
noise_hs_mix_dh(struct noise_hs *hs, int token)
{
	bool local_e, remote_e, ok;
	uint8_t dh[NOISE_KEY_LEN];
	int error;

	/* "es" is DH(e, rs) for the initiator and DH(s, re) for the responder; "se" the reverse. */
	local_e = token == NOISE_T_EE || (token == NOISE_T_ES && hs->initiator) ||
	    (token == NOISE_T_SE && !hs->initiator);
	remote_e = token == NOISE_T_EE || (token == NOISE_T_ES && !hs->initiator) ||
	    (token == NOISE_T_SE && hs->initiator);
	ok = (local_e ? hs->has_e : hs->has_s) && (remote_e ? hs->has_re : hs->has_rs);
	if (!ok)
		return custody_fail(CUSTODY_EPROTO, "noise: key missing for a DH token");
	if ((error = noise_dh(dh, local_e ? hs->e : hs->s, remote_e ? hs->re : hs->rs)) < 0)
		return error;
	noise_sym_mix_key(&hs->sym, dh);
	sodium_memzero(dh, sizeof dh);
	return 0;
}

/* After the last message: the private keys are no longer needed. */
static void
noise_hs_advance(struct noise_hs *hs)
{
	if (++hs->next < hs->pat->nmsgs)
		return;
	sodium_memzero(hs->s, sizeof hs->s);
	sodium_memzero(hs->e, sizeof hs->e);
}

/* Write our next handshake message. */
int
noise_hs_write(struct noise_hs *hs, struct cbuf *out, const void *payload, size_t len)
{
	const uint8_t *t;
	size_t over, i, n;
	uint8_t *p;
	int error;

	if ((error = noise_hs_turn(hs, true)) < 0)
		return error;
	if (payload == NULL && len > 0)
		return custody_fail(CUSTODY_EINVAL, "noise: no payload bytes");
	over = noise_hs_overhead(hs);
	if (len > NOISE_MAX_MSG - over)
		return custody_fail(CUSTODY_ETOOBIG, "noise: handshake payload of %zu bytes", len);
	if ((error = cbuf_reserve(out, over + len)) < 0)
		return error;
	p = out->data + out->len;
	t = hs->pat->msgs[hs->next];
	for (i = 0; i < NOISE_MAX_TOKENS && t[i] != NOISE_T_END; i++) {
		switch (t[i]) {
		case NOISE_T_E:
			if (!hs->has_e && (error = noise_keypair(hs->e_pub, hs->e)) < 0)
				goto fail;
			hs->has_e = true;
			memcpy(p, hs->e_pub, NOISE_KEY_LEN);
			noise_sym_mix_hash(&hs->sym, hs->e_pub, NOISE_KEY_LEN);
			p += NOISE_KEY_LEN;
			break;
		case NOISE_T_S:
			n = NOISE_KEY_LEN + noise_sym_overhead(&hs->sym);
			if ((error = noise_sym_encrypt_hash(&hs->sym, p, hs->s_pub,
			    NOISE_KEY_LEN)) < 0)
				goto fail;
			p += n;
			break;
		default:
			if ((error = noise_hs_mix_dh(hs, t[i])) < 0)
				goto fail;
			break;
		}
	}
	if ((error = noise_sym_encrypt_hash(&hs->sym, p, payload, len)) < 0)
		goto fail;
	out->len += over + len;
	out->data[out->len] = '\0';
	noise_hs_advance(hs);
	return 0;
fail:
	out->data[out->len] = '\0';
	noise_hs_poison(hs);
	return error;
}

/* Read the peer's next handshake message. */
int
noise_hs_read(struct noise_hs *hs, struct cbuf *payload_out, const uint8_t *msg, size_t len)
{
	struct cursor cur = { msg, len };
	const uint8_t *t, *p;
	size_t over, i, n;
	int error;

	if ((error = noise_hs_turn(hs, false)) < 0)
		return error;
	over = noise_hs_overhead(hs);
	if (len > NOISE_MAX_MSG || len < over || (msg == NULL && len > 0)) {
		error = custody_fail(CUSTODY_EINVAL, "noise: handshake message of %zu bytes, "
		    "expected %zu to %d", len, over, NOISE_MAX_MSG);
		goto fail;
	}
	if ((error = cbuf_reserve(payload_out, len - over)) < 0)
		goto fail;
	t = hs->pat->msgs[hs->next];
	for (i = 0; i < NOISE_MAX_TOKENS && t[i] != NOISE_T_END; i++) {
		switch (t[i]) {
		case NOISE_T_E:
			if ((error = cursor_get(&cur, hs->re, NOISE_KEY_LEN)) < 0)
				goto fail;
			hs->has_re = true;
			noise_sym_mix_hash(&hs->sym, hs->re, NOISE_KEY_LEN);
			if ((error = noise_hs_check_key(hs->re)) < 0)
				goto fail;
			break;
		case NOISE_T_S:
			n = NOISE_KEY_LEN + noise_sym_overhead(&hs->sym);
			p = cur.p;
			if ((error = cursor_get(&cur, NULL, n)) < 0 ||
			    (error = noise_sym_decrypt_hash(&hs->sym, hs->rs, p, n)) < 0)
				goto fail;
			hs->has_rs = true;
			if (hs->has_pin && sodium_memcmp(hs->rs, hs->pin, NOISE_KEY_LEN) != 0) {
				error = custody_fail(CUSTODY_EPERM,
				    "noise: peer presented an unexpected static key");
				goto fail;
			}
			if ((error = noise_hs_check_key(hs->rs)) < 0)
				goto fail;
			break;
		default:
			if ((error = noise_hs_mix_dh(hs, t[i])) < 0)
				goto fail;
			break;
		}
	}
	/* The cursor now holds exactly the payload and its tag, len - over plaintext bytes. */
	if ((error = noise_sym_decrypt_hash(&hs->sym, payload_out->data + payload_out->len,
	    cur.p, cur.left)) < 0)
		goto fail;
	payload_out->len += len - over;
	payload_out->data[payload_out->len] = '\0';
	noise_hs_advance(hs);
	return 0;
fail:
	if (payload_out->data != NULL) {
		sodium_memzero(payload_out->data + payload_out->len,
		    payload_out->cap - payload_out->len);
		payload_out->data[payload_out->len] = '\0';
	}
	noise_hs_poison(hs);
	return error;
}

/* The peer's static key, once known. */
int
noise_hs_remote_static(const struct noise_hs *hs, uint8_t out[static NOISE_KEY_LEN])
{
	if (!hs->has_rs)
		return custody_fail(CUSTODY_ENOTFOUND, "noise: peer's static key not known yet");
	memcpy(out, hs->rs, NOISE_KEY_LEN);
	return 0;
}

/* The handshake hash h. */
int
noise_hs_hash(const struct noise_hs *hs, uint8_t out[static NOISE_HASH_LEN])
{
	if (hs->failed)
		return custody_fail(CUSTODY_EPROTO, "noise: handshake failed earlier");
	memcpy(out, hs->sym.h, NOISE_HASH_LEN);
	return 0;
}

/* The transport ciphers, once. */
int
noise_hs_split(struct noise_hs *hs, struct noise_cipher **send, struct noise_cipher **recv)
{
	struct noise_cipher *c1, *c2;
	int error;

	*send = *recv = NULL;
	if (!noise_hs_done(hs) || hs->split)
		return custody_fail(CUSTODY_EPROTO, "noise: split %s",
		    hs->split ? "already done" : "before the handshake completed");
	if ((error = noise_sym_split(&hs->sym, &c1, &c2)) < 0)
		return error;
	hs->split = true;
	*send = hs->initiator ? c1 : c2;
	*recv = hs->initiator ? c2 : c1;
	return 0;
}
