/*
 * Data-key epochs. keys/epochs.key: "CUSTEP01", then per epoch its number (u32 BE), the key of
 * the office that made it and the epoch key sealed (crypto_box_seal) to this office's key
 * converted to X25519; absent until the first rotation this office receives.
 *
 * A key wrapped under epoch N > 0 names it in its nonce: "CEP1", N (u32 BE), the first four
 * bytes of the creator's key, then 12 random bytes. Each epoch key is fresh and random, so 96
 * random nonce bits are ample. Keys wrapped before any rotation (random nonces) are epoch 0,
 * the archive data key; a random nonce that happens to begin with "CEP1" still falls back to it.
 *
 * The newest epoch is the greatest (number, creator key) among those not made by a revoked
 * office: two offices rotating at once make two epochs with one number, and every office picks
 * the same one. The keyring is derived from the feeds: a rotation holds its new key only once
 * the record announcing it is committed (epochs_indexed), so a crash between the two never
 * leaves a key that no other office can learn.
 *
 * The index tokens and the field keys of protected fields stay derived from epoch 0: tokens
 * name tree paths and index rows that must not change, and field keys are reached only through
 * a record key, which a later epoch wraps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "epochs.h"
#include "handover.h"

#define EP_MAGIC "CUSTEP01"
#define EP_NONCE "CEP1"
#define EP_SEALED (crypto_box_SEALBYTES + 32)
#define EP_ENTRY (4 + 32 + EP_SEALED)
#define EP_MAX 4096			/* epochs one office keeps */
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

static void
epochs_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
epochs_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* This office's X25519 key pair, from its Ed25519 key (xsk: sodium_malloc'd 32 bytes). */
static void
epochs_xkeys(const struct archive *a, uint8_t xpk[static 32], uint8_t *xsk)
{
	crypto_sign_ed25519_sk_to_curve25519(xsk, a->office_sk);
	crypto_scalarmult_base(xpk, xsk);
}

void
epochs_free(struct epochs *e)
{
	if (e == NULL)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e->v);
	free(e->retired);
	sodium_free(e->keys);
	free(e);
}

/* Whether creator is retired (the caller holds the lock). */
static int
epochs_is_retired(const struct epochs *e, const uint8_t creator[static 32])
{
	size_t i;

	for (i = 0; i < e->nretired; i++)
		if (memcmp(e->retired[i], creator, 32) == 0)
			return 1;
	return 0;
}

/* The index of the newest epoch not retired, or -1 (the caller holds the lock). */
static ssize_t
epochs_best(const struct epochs *e)
{
	ssize_t best = -1;
	size_t i;

	for (i = 0; e != NULL && i < e->n; i++) {
		if (epochs_is_retired(e, e->v[i].creator))
			continue;
		if (best < 0 || e->v[i].num > e->v[best].num || (e->v[i].num == e->v[best].num &&
		    memcmp(e->v[i].creator, e->v[best].creator, 32) > 0))
			best = (ssize_t)i;
	}
	return best;
}

int
epochs_retire(struct archive *a, const uint8_t creator[static 32])
{
	struct epochs *e = a->epochs;
	uint8_t (*grown)[32];
	int error = 0;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (!epochs_is_retired(e, creator)) {
		if ((grown = reallocarray(e->retired, e->nretired + 1, sizeof *grown)) == NULL)
			error = CUSTODY_ENOMEM;
		else {
			e->retired = grown;
			memcpy(e->retired[e->nretired++], creator, 32);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return error;
}

/* Add an epoch to the keyring in memory: 1 when added, 0 when already held (lock held). */
static int
epochs_add(struct epochs *e, uint32_t num, const uint8_t creator[static 32],
    const uint8_t key[static 32])
{
	struct epoch *v;
	uint8_t *k;
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->v[i].num == num && memcmp(e->v[i].creator, creator, 32) == 0)
			return 0;
	if (e->n >= EP_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "more than %d data-key epochs", EP_MAX);
	if ((v = realloc(e->v, (e->n + 1) * sizeof *v)) == NULL)
		return CUSTODY_ENOMEM;
	e->v = v;
	if ((k = sodium_malloc((e->n + 1) * 32)) == NULL)
		return CUSTODY_ENOMEM;
	if (e->n > 0)
		memcpy(k, e->keys, e->n * 32);
	sodium_free(e->keys);
	e->keys = k;
	v[e->n].num = num;
	memcpy(v[e->n].creator, creator, 32);
	memcpy(k + e->n * 32, key, 32);
	e->n++;
	return 1;
}

/* Write keys/epochs.key from the keyring, each key sealed to the office key sk (lock held). */
static int
epochs_save(struct archive *a, const uint8_t *sk, char **cause)
{
	struct epochs *e = a->epochs;
	uint8_t xpk[32], *xsk, *buf, *p;
	char *dir;
	size_t i, n = 8 + e->n * EP_ENTRY;
	int error;

	if ((xsk = sodium_malloc(32)) == NULL || (buf = malloc(n)) == NULL) {
		sodium_free(xsk);
		return CUSTODY_ENOMEM;
	}
	crypto_sign_ed25519_sk_to_curve25519(xsk, sk);
	crypto_scalarmult_base(xpk, xsk);
	sodium_free(xsk);
	memcpy(buf, EP_MAGIC, 8);
	for (i = 0, p = buf + 8; i < e->n; i++, p += EP_ENTRY) {
		epochs_put_u32(p, e->v[i].num);
		memcpy(p + 4, e->v[i].creator, 32);
		crypto_box_seal(p + 36, e->keys + i * 32, 32, xpk);
	}
	dir = archive_file(a, "keys");
	error = dir == NULL ? CUSTODY_ENOMEM : keys_replace_file(dir, "epochs.key", buf, n, cause);
	free(dir);
	free(buf);
	return error;
}

/* Open keys/epochs.key, if there is one, into a->epochs. */
int
epochs_load(struct archive *a, char **cause)
{
	uint8_t xpk[32], key[32], *xsk = NULL, *buf = NULL, *p;
	struct stat st;
	char *path;
	size_t i, n;
	FILE *f = NULL;
	int error = CUSTODY_ENOMEM;

	if ((a->epochs = calloc(1, sizeof *a->epochs)) == NULL)
		return CUSTODY_ENOMEM;
	pthread_mutex_init(&a->epochs->lock, NULL);
	if ((path = archive_file(a, "keys/epochs.key")) == NULL)
		return CUSTODY_ENOMEM;
	if (lstat(path, &st) != 0) {
		error = 0;
		if (errno != ENOENT) {
			custody_cause(cause, "cannot read %s: %s", path, strerror(errno));
			error = CUSTODY_EIO;
		}
		goto done;
	}
	error = CUSTODY_EINVAL;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) || st.st_size < 8 ||
	    (st.st_size - 8) % EP_ENTRY != 0 || (st.st_size - 8) / EP_ENTRY > EP_MAX) {
		custody_cause(cause, "%s is not a private custody epoch key file (mode 0600, "
		    "whole entries)", path);
		goto done;
	}
	n = (size_t)st.st_size;
	if ((buf = malloc(n)) == NULL || (xsk = sodium_malloc(32)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((f = fopen(path, "rbe")) == NULL || fread(buf, 1, n, f) != n ||
	    memcmp(buf, EP_MAGIC, 8) != 0) {
		custody_cause(cause, "cannot read %s as a custody epoch key file", path);
		goto done;
	}
	epochs_xkeys(a, xpk, xsk);
	for (i = 0, p = buf + 8; i < (n - 8) / EP_ENTRY; i++, p += EP_ENTRY) {
		if (crypto_box_seal_open(key, p + 36, EP_SEALED, xpk, xsk) != 0) {
			custody_cause(cause, "%s: epoch %u is not sealed to this office's key", path,
			    epochs_get_u32(p));
			error = CUSTODY_ECRYPTO;
			goto done;
		}
		error = epochs_add(a->epochs, epochs_get_u32(p), p + 4, key);
		sodium_memzero(key, sizeof key);
		if (error < 0)
			goto done;
		error = CUSTODY_EINVAL;
	}
	error = 0;
done:
	if (f != NULL)
		fclose(f);
	sodium_free(xsk);
	free(buf);
	free(path);
	return error;
}

int
epochs_newest(struct archive *a, struct epoch *out)
{
	struct epochs *e = a->epochs;
	ssize_t best;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	if ((best = epochs_best(e)) >= 0)
		*out = e->v[best];
	pthread_mutex_unlock(&e->lock);
	return best >= 0;
}

/* Wrap key (WRAPPED_KEY_LEN bytes out) under the newest epoch this office holds. */
void
epochs_wrap(struct archive *a, uint8_t *out, const uint8_t key[static 32], const char *ad)
{
	struct epochs *e = a->epochs;
	ssize_t best = -1;

	if (e != NULL) {
		pthread_mutex_lock(&e->lock);
		best = epochs_best(e);
	}
	if (best < 0) {
		if (e != NULL)
			pthread_mutex_unlock(&e->lock);
		keys_wrap(out, a->data_key, key, ad);
		return;
	}
	memcpy(out, EP_NONCE, 4);
	epochs_put_u32(out + 4, e->v[best].num);
	memcpy(out + 8, e->v[best].creator, 4);
	randombytes_buf(out + 12, NONCE_LEN - 12);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_LEN, NULL, key, 32,
	    (const uint8_t *)ad, strlen(ad), NULL, out, e->keys + (size_t)best * 32);
	pthread_mutex_unlock(&e->lock);
}

int
epochs_named(const uint8_t *in)
{
	return memcmp(in, EP_NONCE, 4) == 0;
}

size_t
epochs_count(struct archive *a)
{
	size_t n;

	if (a->epochs == NULL)
		return 0;
	pthread_mutex_lock(&a->epochs->lock);
	n = a->epochs->n;
	pthread_mutex_unlock(&a->epochs->lock);
	return n;
}

int
epochs_held(struct archive *a, const uint8_t *in)
{
	struct epochs *e = a->epochs;
	uint32_t num = epochs_get_u32(in + 4);
	size_t i;
	int found = 0;

	if (memcmp(in, EP_NONCE, 4) != 0)
		return 1;
	if (e == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	for (i = 0; !found && i < e->n; i++)
		found = e->v[i].num == num && memcmp(e->v[i].creator, in + 8, 4) == 0;
	pthread_mutex_unlock(&e->lock);
	return found;
}

/* Unwrap a key made by epochs_wrap (or keys_wrap, epoch 0) with the same ad. */
int
epochs_unwrap(struct archive *a, uint8_t key[static 32], const uint8_t *in, size_t len,
    const char *ad)
{
	struct epochs *e = a->epochs;
	uint32_t num;
	size_t i;
	int named, found = 0;

	if (len != WRAPPED_KEY_LEN)
		return custody_fail(CUSTODY_EINVAL, "wrapped key of %zu bytes", len);
	named = memcmp(in, EP_NONCE, 4) == 0;
	num = named ? epochs_get_u32(in + 4) : 0;
	if (named && e != NULL) {
		pthread_mutex_lock(&e->lock);
		for (i = 0; !found && i < e->n; i++)
			found = e->v[i].num == num && memcmp(e->v[i].creator, in + 8, 4) == 0 &&
			    crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL,
			    in + NONCE_LEN, 32 + TAG_LEN, (const uint8_t *)ad, strlen(ad), in,
			    e->keys + i * 32) == 0;
		pthread_mutex_unlock(&e->lock);
		if (found)
			return 0;
	}
	if (keys_unwrap(key, a->data_key, in, len, ad) == 0)
		return 0;
	if (named)
		return custody_fail(CUSTODY_ECRYPTO, "wrapped under data-key epoch %u, which "
		    "this office does not hold", num);
	return custody_fail(CUSTODY_ECRYPTO, "wrapped key does not open");
}

/*
 * Append to copies the epoch key sealed to office to: to the key that signs its feed now (an
 * office that rotated its key holds only the new one, handover.h), named by its identity.
 */
static int
epochs_seal_copy(struct archive *a, json_t *copies, const uint8_t key[static 32],
    const uint8_t to[static 32])
{
	uint8_t xpk[32], sealed[EP_SEALED], cur[32];
	char hex[65], b64[sodium_base64_ENCODED_LEN(EP_SEALED, sodium_base64_VARIANT_ORIGINAL)];

	if (handover_current(a, to, cur) < 0)
		memcpy(cur, to, 32);
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, cur) != 0)
		return custody_fail(CUSTODY_EINVAL, "an office key cannot be converted to X25519");
	crypto_box_seal(sealed, key, 32, xpk);
	hex_encode(hex, to, 32);
	sodium_bin2base64(b64, sizeof b64, sealed, sizeof sealed, sodium_base64_VARIANT_ORIGINAL);
	if (json_array_append_new(copies, json_pack("{s:s,s:s}", "to", hex, "sealed", b64)) != 0)
		return CUSTODY_ENOMEM;
	return 0;
}

/*
 * Add to record (an epoch this office made and holds) a copy for each office of to that it
 * has none for: an office admitted after the rotation. 1 when it added one, 0 when none.
 */
int
epochs_extend(struct archive *a, json_t *record, const uint8_t (*to)[32], size_t nto)
{
	json_t *copies = json_object_get(record, "copies"), *num = json_object_get(record, "epoch");
	uint8_t *key, pk[32];
	const char *hex;
	size_t i, j;
	int error = 0, added = 0, found;

	if (!json_is_array(copies) || !json_is_integer(num) || a->epochs == NULL)
		return custody_fail(CUSTODY_EINVAL, "not a data-key epoch record");
	if ((key = sodium_malloc(32)) == NULL)
		return CUSTODY_ENOMEM;
	pthread_mutex_lock(&a->epochs->lock);
	for (i = 0, found = 0; !found && i < a->epochs->n; i++)
		if ((found = a->epochs->v[i].num == (uint32_t)json_integer_value(num) &&
		    memcmp(a->epochs->v[i].creator, a->office_pk, 32) == 0))
			memcpy(key, a->epochs->keys + i * 32, 32);
	pthread_mutex_unlock(&a->epochs->lock);
	if (!found) {
		sodium_free(key);
		return custody_fail(CUSTODY_ENOTFOUND, "data-key epoch %lld of this office is not "
		    "held", (long long)json_integer_value(num));
	}
	for (i = 0; i < nto && error == 0; i++) {
		for (j = 0, found = 0; !found && j < json_array_size(copies); j++) {
			hex = json_string_value(json_object_get(json_array_get(copies, j), "to"));
			found = hex != NULL && hex_decode(pk, 32, hex) == 0 &&
			    memcmp(pk, to[i], 32) == 0;
		}
		if (!found && (error = epochs_seal_copy(a, copies, key, to[i])) == 0)
			added = 1;
	}
	sodium_free(key);
	return error < 0 ? error : added;
}

/*
 * Make the next epoch key (number: the highest held not retired, plus one), sealed to each
 * office key in to (this office's own included by the caller), and return the feed record
 * announcing it; the key is held once that record is committed and indexed (epochs_accept):
 * {"kind": "epoch", "id": "epoch-N-CREATORHEX", "epoch": N, "creator": HEX,
 *  "copies": [{"to": HEX, "sealed": BASE64}, ...]}.
 */
int
epochs_rotate(struct archive *a, const uint8_t (*to)[32], size_t nto, json_t **record)
{
	struct epoch newest, *ep = epochs_newest(a, &newest) ? &newest : NULL;
	uint8_t *key;
	char id[96];
	uint32_t num = ep != NULL ? ep->num + 1 : 1;
	json_t *copies = NULL, *doc = NULL;
	size_t i;
	int error = CUSTODY_ENOMEM;

	*record = NULL;
	if (ep != NULL && ep->num == UINT32_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "no data-key epoch number left");
	if ((key = sodium_malloc(32)) == NULL)
		return CUSTODY_ENOMEM;
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	if ((copies = json_array()) == NULL)
		goto done;
	for (i = 0; i < nto; i++)
		if ((error = epochs_seal_copy(a, copies, key, to[i])) < 0)
			goto done;
	error = CUSTODY_ENOMEM;
	snprintf(id, sizeof id, "epoch-%u-%s", num, a->office_hex);
	if ((doc = json_pack("{s:s,s:s,s:I,s:s,s:O}", "kind", "epoch", "id", id, "epoch",
	    (json_int_t)num, "creator", a->office_hex, "copies", copies)) == NULL)
		goto done;
	*record = doc;
	doc = NULL;
	error = 0;
done:
	sodium_free(key);
	json_decref(copies);
	json_decref(doc);
	return error;
}

/*
 * Take the epoch announced by record, a feed record signed by signer (the caller has checked
 * that signer is not revoked): open the copy sealed to this office and keep the key. A record
 * with no copy for this office is refused with CUSTODY_ENOTFOUND (this office was left out).
 */
int
epochs_accept(struct archive *a, const json_t *record, const uint8_t signer[static 32])
{
	const char *creator = json_string_value(json_object_get(record, "creator"));
	json_t *copies = json_object_get(record, "copies"), *num = json_object_get(record, "epoch");
	uint8_t pk[32], sealed[EP_SEALED + 1], xpk[32], *xsk = NULL, key[32];
	const char *to, *b64;
	size_t i, len;
	int error;

	if (a->epochs == NULL)
		return custody_fail(CUSTODY_EINVAL, "no data-key keyring open");
	if (creator == NULL || hex_decode(pk, 32, creator) < 0 || !json_is_array(copies) ||
	    !json_is_integer(num) || json_integer_value(num) < 1 ||
	    json_integer_value(num) > UINT32_MAX)
		return custody_fail(CUSTODY_EINVAL, "not a data-key epoch record");
	if (memcmp(pk, signer, 32) != 0)
		return custody_fail(CUSTODY_EPERM, "epoch record names a creator other than the "
		    "office that signed it");
	{
		char want[96];

		snprintf(want, sizeof want, "epoch-%lld-%s", (long long)json_integer_value(num),
		    creator);
		if (strcmp(record_id(record), want) != 0)
			return custody_fail(CUSTODY_EINVAL, "epoch record %.96s is not named %s",
			    record_id(record), want);
	}
	for (i = 0; i < json_array_size(copies); i++) {
		to = json_string_value(json_object_get(json_array_get(copies, i), "to"));
		if (to != NULL && strcmp(to, a->office_hex) == 0)
			break;
	}
	if (i == json_array_size(copies))
		return custody_fail(CUSTODY_ENOTFOUND, "data-key epoch %lld has no copy for this "
		    "office", (long long)json_integer_value(num));
	b64 = json_string_value(json_object_get(json_array_get(copies, i), "sealed"));
	if (b64 == NULL || sodium_base642bin(sealed, sizeof sealed, b64, strlen(b64), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || len != EP_SEALED)
		return custody_fail(CUSTODY_EINVAL, "data-key epoch copy is not %d bytes of "
		    "base64", EP_SEALED);
	if ((xsk = sodium_malloc(32)) == NULL)
		return CUSTODY_ENOMEM;
	epochs_xkeys(a, xpk, xsk);
	error = crypto_box_seal_open(key, sealed, EP_SEALED, xpk, xsk) == 0 ? 0 :
	    custody_fail(CUSTODY_ECRYPTO, "data-key epoch copy does not open with this "
	    "office's key");
	sodium_free(xsk);
	if (error == 0) {
		pthread_mutex_lock(&a->epochs->lock);
		if ((error = epochs_add(a->epochs, (uint32_t)json_integer_value(num), pk, key)) ==
		    1) {
			char *cause = NULL;

			if ((error = epochs_save(a, a->office_sk, &cause)) < 0) {
				error = custody_fail(error, "%s", cause != NULL ? cause :
				    "cannot save");
				free(cause);
			}
		}
		pthread_mutex_unlock(&a->epochs->lock);
	}
	sodium_memzero(key, sizeof key);
	return error < 0 ? error : 0;
}

int
epochs_reseal(struct archive *a, const uint8_t *new_sk, char **cause)
{
	int error;

	if (a->epochs == NULL || a->epochs->n == 0)
		return 0;	/* no keyring: nothing sealed to the old key */
	pthread_mutex_lock(&a->epochs->lock);
	error = epochs_save(a, new_sk, cause);
	pthread_mutex_unlock(&a->epochs->lock);
	return error;
}
