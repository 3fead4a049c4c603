/*
 * Records: JSON documents, encrypted with XChaCha20-Poly1305 under a random per-record key that
 * is wrapped by the archive data key, so one record can be disclosed by revealing its key.
 *
 * Per-record keys live on the stack and are wiped after use: sodium_malloc costs an mmap and a
 * TLB shootdown per call, which a batch of thousands of records cannot pay.
 *
 * Object format (one git blob): "CUSTREC1", the wrapped key (WRAPPED_KEY_LEN), a 24-byte
 * nonce, the ciphertext and tag. The AD binds the object to its tree entry: "CUSTREC1" and the
 * entry name (the record's token), so an object moved to another path does not open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"

#define REC_MAGIC "CUSTREC1"
#define REC_MAGIC_LEN 8
#define REC_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define REC_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define REC_HDR_LEN (REC_MAGIC_LEN + WRAPPED_KEY_LEN + REC_NONCE_LEN)
#define REC_MAX (16u << 20)

/* The kind field of a record, or "". */
const char *
record_kind(const json_t *doc)
{
	const char *s = json_string_value(json_object_get(doc, "kind"));

	return s != NULL ? s : "";
}

/* The id field of a record, or "". */
const char *
record_id(const json_t *doc)
{
	const char *s = json_string_value(json_object_get(doc, "id"));

	return s != NULL ? s : "";
}

/* Now as UTC ISO 8601. */
void
record_now(char buf[static 32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A random 128-bit id in hex. */
char *
record_random_id(void)
{
	uint8_t r[16];
	char *s = malloc(33);

	if (s != NULL) {
		randombytes_buf(r, sizeof r);
		hex_encode(s, r, sizeof r);
	}
	return s;
}

static void
record_key_ad(char *ad, size_t len, const char *token_hex)
{
	snprintf(ad, len, "custody record key %s", token_hex);
}

/* Encrypt doc (canonical JSON) for the tree entry token_hex. */
int
record_seal(struct cbuf *out, struct archive *a, const char *token_hex, json_t *doc)
{
	uint8_t ad[REC_MAGIC_LEN + TOKEN_HEX_LEN], key[32];
	char kad[64], *json = NULL;
	size_t n;
	int error = CUSTODY_ENOMEM;

	if ((json = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) == NULL)
		return custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON");
	n = strlen(json);
	if (n > REC_MAX) {
		error = custody_fail(CUSTODY_ETOOBIG, "record of %zu bytes is too large", n);
		goto done;
	}
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	if ((error = cbuf_reserve(out, REC_HDR_LEN + n + REC_TAG_LEN)) < 0)
		goto done;
	memcpy(out->data, REC_MAGIC, REC_MAGIC_LEN);
	record_key_ad(kad, sizeof kad, token_hex);
	keys_wrap(out->data + REC_MAGIC_LEN, a->data_key, key, kad);
	randombytes_buf(out->data + REC_MAGIC_LEN + WRAPPED_KEY_LEN, REC_NONCE_LEN);
	memcpy(ad, REC_MAGIC, REC_MAGIC_LEN);
	memcpy(ad + REC_MAGIC_LEN, token_hex, TOKEN_HEX_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out->data + REC_HDR_LEN, NULL,
	    (const uint8_t *)json, n, ad, sizeof ad, NULL,
	    out->data + REC_MAGIC_LEN + WRAPPED_KEY_LEN, key);
	out->len = REC_HDR_LEN + n + REC_TAG_LEN;
	error = 0;
done:
	if (json != NULL) {
		sodium_memzero(json, strlen(json));
		free(json);
	}
	sodium_memzero(key, sizeof key);
	return error;
}

/*
 * Decrypt a record object found at tree entry token_hex. record_key (32 bytes, may be NULL)
 * receives the record's own key, for disclosure in a dossier.
 */
int
record_open(json_t **out, struct archive *a, const char *token_hex, const void *obj,
    size_t len, uint8_t *record_key)
{
	uint8_t ad[REC_MAGIC_LEN + TOKEN_HEX_LEN], key[32];
	const uint8_t *p = obj;
	char kad[64], *pt = NULL;
	size_t n;
	json_error_t jerr;
	int error = CUSTODY_ENOMEM;

	*out = NULL;
	if (len < REC_HDR_LEN + REC_TAG_LEN || memcmp(p, REC_MAGIC, REC_MAGIC_LEN) != 0)
		return custody_fail(CUSTODY_EINVAL, "not a custody record object");
	n = len - REC_HDR_LEN - REC_TAG_LEN;
	if ((pt = malloc(n + 1)) == NULL)
		goto done;
	record_key_ad(kad, sizeof kad, token_hex);
	if ((error = keys_unwrap(key, a->data_key, p + REC_MAGIC_LEN, WRAPPED_KEY_LEN, kad)) < 0) {
		custody_fail(error, "record key does not open (altered, or moved from another "
		    "path)");
		goto done;
	}
	memcpy(ad, REC_MAGIC, REC_MAGIC_LEN);
	memcpy(ad + REC_MAGIC_LEN, token_hex, TOKEN_HEX_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)pt, NULL, NULL,
	    p + REC_HDR_LEN, n + REC_TAG_LEN, ad, sizeof ad,
	    p + REC_MAGIC_LEN + WRAPPED_KEY_LEN, key) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "record does not authenticate");
		goto done;
	}
	pt[n] = '\0';
	if ((*out = json_loadb(pt, n, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		error = custody_fail(CUSTODY_EINVAL, "record is not a JSON object");
		goto done;
	}
	if (record_key != NULL)
		memcpy(record_key, key, 32);
	error = 0;
done:
	if (pt != NULL) {
		sodium_memzero(pt, n + 1);
		free(pt);
	}
	sodium_memzero(key, sizeof key);
	return error;
}

/* A keyed hash of a record's content without its revision stamp: "has it changed?" */
void
record_content_hash(const struct archive *a, const json_t *doc, uint8_t out[static TOKEN_LEN])
{
	json_t *copy = json_copy((json_t *)doc);
	crypto_generichash_state h;
	char *s = NULL;

	if (copy != NULL) {
		json_object_del(copy, "rev");
		s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	}
	crypto_generichash_init(&h, a->token_key, 32, TOKEN_LEN);
	crypto_generichash_update(&h, (const uint8_t *)"content\0", 8);
	if (s != NULL)
		crypto_generichash_update(&h, (const uint8_t *)s, strlen(s));
	crypto_generichash_final(&h, out, TOKEN_LEN);
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
	json_decref(copy);
}

/* A keyed token of a value in a domain ("name", "dup"): matching without the plaintext. */
void
record_name_token(const struct archive *a, const char *domain, const char *value,
    uint8_t out[static TOKEN_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, a->token_key, 32, TOKEN_LEN);
	crypto_generichash_update(&h, (const uint8_t *)domain, strlen(domain) + 1);
	crypto_generichash_update(&h, (const uint8_t *)value, strlen(value));
	crypto_generichash_final(&h, out, TOKEN_LEN);
}
