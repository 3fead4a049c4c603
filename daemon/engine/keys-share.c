/*
 * Split an office's secrets into recovery shares, and join K of them again, with Debian's
 * libgfshare (Shamir's scheme over GF(2^8)). The share format is proto/share.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libgfshare.h>

#include "archive.h"
#include "custody/share.h"

static void
keys_share_random(unsigned char *p, unsigned int n)
{
	randombytes_buf(p, n);
}

/* The payload: version, the office key's seed, the data key. */
static void
keys_share_payload(uint8_t p[static SHARE_PAYLOAD_V1_LEN], const struct archive *a)
{
	p[0] = SHARE_PAYLOAD_V1;
	memcpy(p + 1, a->office_sk, 32);	/* an Ed25519 secret key starts with its seed */
	memcpy(p + 33, a->data_key, DATA_KEY_LEN);
}

/* N binary shares (out[i], lens[i]) of a's secrets, any K of which restore them. */
int
keys_share_split(struct archive *a, unsigned count, unsigned threshold,
    uint8_t (*out)[SHARE_MAX], size_t *lens)
{
	uint8_t *payload = NULL, nrs[255];
	struct share *s = NULL;
	gfshare_ctx *ctx = NULL;
	unsigned i;
	int error = CUSTODY_ENOMEM;

	if (threshold < 2 || count < threshold || count > 255)
		return custody_fail(CUSTODY_EINVAL, "need 2 <= threshold <= shares <= 255 "
		    "(got %u of %u)", threshold, count);
	if (strlen(a->conf.office) > SHARE_NAME_MAX)
		return custody_fail(CUSTODY_EINVAL, "office name too long for a share");
	gfshare_fill_rand = keys_share_random;
	if ((payload = sodium_malloc(SHARE_PAYLOAD_V1_LEN)) == NULL ||
	    (s = sodium_malloc(sizeof *s)) == NULL)
		goto done;
	keys_share_payload(payload, a);
	for (i = 0; i < count; i++)
		nrs[i] = (uint8_t)(i + 1);
	if ((ctx = gfshare_ctx_init_enc(nrs, count, (uint8_t)threshold,
	    SHARE_PAYLOAD_V1_LEN)) == NULL)
		goto done;
	gfshare_ctx_enc_setsecret(ctx, payload);
	for (i = 0; i < count; i++) {
		memset(s, 0, sizeof *s);
		s->threshold = (uint8_t)threshold;
		s->count = (uint8_t)count;
		s->x = nrs[i];
		snprintf(s->office, sizeof s->office, "%s", a->conf.office);
		memcpy(s->pk, a->sign_pk, 32);	/* the key they restore (rotated or not) */
		s->secret_len = SHARE_PAYLOAD_V1_LEN;
		gfshare_ctx_enc_getshare(ctx, (uint8_t)i, s->secret);
		if ((error = share_encode(out[i], &lens[i], s, a->office_sk)) < 0)
			goto done;
	}
	error = 0;
done:
	if (ctx != NULL)
		gfshare_ctx_free(ctx);	/* it wipes its coefficients */
	sodium_free(payload);
	sodium_free(s);
	return error;
}

/*
 * Join parsed shares (each already checked by share_parse) of office into the office secret
 * key sk (64 bytes) and the data key dk. names[i] names share i in messages.
 */
int
keys_share_join(const struct share *s, const char *const *names, size_t n, const char *office,
    uint8_t sk[static 64], uint8_t dk[static DATA_KEY_LEN], char **cause)
{
	uint8_t nrs[255], pk[32], *payload = NULL;
	gfshare_ctx *ctx = NULL;
	size_t i, j, ref = 0, best = 0, votes;
	int error = CUSTODY_EINVAL;

	if (n == 0 || n > 255) {
		custody_cause(cause, "give between 1 and 255 shares");
		return CUSTODY_EINVAL;
	}
	/* the office's key is the one most shares of that name carry */
	for (i = 0; i < n; i++) {
		for (j = 0, votes = 0; j < n; j++)
			votes += strcmp(s[i].office, office) == 0 &&
			    memcmp(s[i].pk, s[j].pk, 32) == 0;
		if (votes > best) {
			best = votes;
			ref = i;
		}
	}
	for (i = 0; i < n; i++) {
		if (strcmp(s[i].office, office) != 0 || memcmp(s[i].pk, s[ref].pk, 32) != 0) {
			char hex[17];

			hex_encode(hex, s[i].pk, 8);
			custody_cause(cause, "%s is a share of office %s (key %s...), not of %s%s",
			    names[i], s[i].office, hex, office,
			    strcmp(s[i].office, office) == 0 ? " as the other shares know it" : "");
			return CUSTODY_EINVAL;
		}
		if (s[i].threshold != s[ref].threshold || s[i].count != s[ref].count ||
		    s[i].secret_len != s[ref].secret_len) {
			custody_cause(cause, "%s is from another split of office %s than %s", names[i],
			    office, names[ref]);
			return CUSTODY_EINVAL;
		}
		for (j = 0; j < i; j++)
			if (s[j].x == s[i].x) {
				custody_cause(cause, "%s and %s are the same share (number %u)", names[j],
				    names[i], s[i].x);
				return CUSTODY_EINVAL;
			}
		nrs[i] = s[i].x;
	}
	if (n < s[0].threshold) {
		custody_cause(cause, "%zu share%s given, but office %s needs %u of its %u shares",
		    n, n == 1 ? "" : "s", office, s[0].threshold, s[0].count);
		return CUSTODY_EINVAL;
	}
	if (s[0].secret_len != SHARE_PAYLOAD_V1_LEN) {
		custody_cause(cause, "the shares hold %u bytes: not a payload this custody reads",
		    s[0].secret_len);
		return CUSTODY_EINVAL;
	}
	gfshare_fill_rand = keys_share_random;	/* gfshare_ctx_free scrambles with it */
	if ((payload = sodium_malloc(SHARE_PAYLOAD_V1_LEN)) == NULL ||
	    (ctx = gfshare_ctx_init_dec(nrs, (unsigned)n, SHARE_PAYLOAD_V1_LEN)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++)
		gfshare_ctx_dec_giveshare(ctx, (uint8_t)i, (uint8_t *)s[i].secret);
	gfshare_ctx_dec_extract(ctx, payload);
	if (payload[0] != SHARE_PAYLOAD_V1) {
		custody_cause(cause, "the shares do not restore office %s's keys (payload version %u)",
		    office, payload[0]);
		goto done;
	}
	crypto_sign_ed25519_seed_keypair(pk, sk, payload + 1);
	if (sodium_memcmp(pk, s[0].pk, 32) != 0) {
		custody_cause(cause, "the shares do not restore office %s's key: they are signed by it, "
		    "but do not belong to one split", office);
		sodium_memzero(sk, 64);
		goto done;
	}
	memcpy(dk, payload + 33, DATA_KEY_LEN);
	error = 0;
done:
	if (ctx != NULL)
		gfshare_ctx_free(ctx);
	sodium_free(payload);
	return error;
}
