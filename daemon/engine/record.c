/*
 * Records: JSON documents, encrypted with XChaCha20-Poly1305 under a random per-record key that
 * is wrapped by the archive data key, so one record can be disclosed by revealing its key.
 *
 * Per-record keys live on the stack and are wiped after use: sodium_malloc costs an mmap and a
 * TLB shootdown per call, which a batch of thousands of records cannot pay.
 *
 * The object format and the sealing of protected fields are in custody/recobj.h (shared with
 * the offline dossier verifier). Field keys derive from the data key, the record's token and
 * the field name, so a dossier can disclose a record without its protected fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "epochs.h"
#include "custody/recobj.h"


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

/* The key of one protected field of the record at token_hex, derived from the data key. */
void
record_field_key(const struct archive *a, const char *token_hex, const char *field,
    uint8_t key[static 32])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, a->data_key, DATA_KEY_LEN, 32);
	crypto_generichash_update(&h, (const uint8_t *)"custody field key\0", 18);
	crypto_generichash_update(&h, (const uint8_t *)token_hex, strlen(token_hex) + 1);
	crypto_generichash_update(&h, (const uint8_t *)field, strlen(field));
	crypto_generichash_final(&h, key, 32);
}

/* Seal (or, open != 0, unseal) the protected fields of doc in place. */
static int
record_fields_crypt(struct archive *a, const char *token_hex, json_t *doc, int open)
{
	const char *const *f;
	uint8_t fk[32];
	json_t *v, *nv;
	int error = 0;

	for (f = recobj_sealed_fields(record_kind(doc)); *f != NULL && error == 0; f++) {
		if ((v = json_object_get(doc, *f)) == NULL || recobj_is_sealed(v) == !open)
			continue;
		record_field_key(a, token_hex, *f, fk);
		error = open ? recobj_field_open(&nv, fk, token_hex, *f, v) :
		    recobj_field_seal(&nv, fk, token_hex, *f, v);
		sodium_memzero(fk, sizeof fk);
		if (error == 0)
			error = json_object_set_new(doc, *f, nv) == 0 ? 0 : CUSTODY_ENOMEM;
	}
	return error;
}

/*
 * Seal a record of kind already encoded (compact, sorted keys, ASCII, protected fields sealed)
 * as the object at token_hex, under a new record key.
 */
int
record_seal_text(struct cbuf *out, struct archive *a, const char *token_hex, const char *kind,
    const char *json, size_t len)
{
	uint8_t wrapped[WRAPPED_KEY_LEN], key[32];
	char kad[64];
	int error;

	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	record_key_ad(kad, sizeof kad, token_hex);
	/*
	 * An epoch record's key is wrapped under epoch 0, the archive data key every admitted
	 * office holds: an office must open it before it holds the epoch it announces (or any
	 * later one), in whatever order feeds reach it. Its secret parts are copies of the new
	 * key, each sealed to one office's own key, so epoch 0 gives nothing of them away.
	 */
	if (strcmp(kind, "epoch") == 0)
		keys_wrap(wrapped, a->data_key, key, kad);
	else
		epochs_wrap(a, wrapped, key, kad);
	error = recobj_seal(out, wrapped, key, token_hex, json, len);
	sodium_memzero(key, sizeof key);
	return error;
}

/* Seal the protected fields of doc in place, for the tree entry token_hex. */
int
record_seal_fields(struct archive *a, const char *token_hex, json_t *doc)
{
	return record_fields_crypt(a, token_hex, doc, 0);
}

/* Encrypt doc (canonical JSON, protected fields sealed) for the tree entry token_hex. */
int
record_seal(struct cbuf *out, struct archive *a, const char *token_hex, json_t *doc)
{
	const char *const *f = recobj_sealed_fields(record_kind(doc));
	char *json = NULL;
	json_t *copy = NULL;
	int error;

	for (; *f != NULL; f++)	/* a copy only when a protected field is still open */
		if (json_object_get(doc, *f) != NULL && !recobj_is_sealed(json_object_get(doc, *f)))
			break;
	if (*f != NULL) {
		if ((copy = json_copy(doc)) == NULL)
			return CUSTODY_ENOMEM;
		if ((error = record_fields_crypt(a, token_hex, copy, 0)) < 0)
			goto done;
	}
	if ((json = json_dumps(copy != NULL ? copy : doc, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII)) == NULL) {
		error = custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON");
		goto done;
	}
	error = record_seal_text(out, a, token_hex, record_kind(doc), json, strlen(json));
done:
	if (json != NULL) {
		sodium_memzero(json, strlen(json));
		free(json);
	}
	json_decref(copy);
	return error;
}

/*
 * Decrypt a record object found at tree entry token_hex, protected fields opened. record_key
 * (32 bytes, may be NULL) receives the record's own key, for disclosure in a dossier.
 */
int
record_open(json_t **out, struct archive *a, const char *token_hex, const void *obj,
    size_t len, uint8_t *record_key)
{
	return record_open_flags(out, a, token_hex, obj, len, record_key, 0);
}

/* record_open; with RECORD_SEALED the protected fields stay sealed ({"sealed": ...}). */
int
record_open_flags(json_t **out, struct archive *a, const char *token_hex, const void *obj,
    size_t len, uint8_t *record_key, unsigned flags)
{
	const uint8_t *wrapped = recobj_wrapped(obj, len);
	uint8_t key[32];
	char kad[64];
	int error;

	*out = NULL;
	if (wrapped == NULL)
		return custody_fail(CUSTODY_EINVAL, "not a custody record object");
	record_key_ad(kad, sizeof kad, token_hex);
	if ((error = epochs_unwrap(a, key, wrapped, WRAPPED_KEY_LEN, kad)) < 0)
		return custody_fail(error, "record key does not open (%s)",
		    strstr(custody_error(), "epoch") != NULL ? custody_error() :
		    "altered, or moved from another path");
	if ((error = recobj_open(out, key, token_hex, obj, len)) == 0 &&
	    !(flags & RECORD_SEALED) && (error = record_fields_crypt(a, token_hex, *out, 1)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	if (error == 0 && record_key != NULL)
		memcpy(record_key, key, 32);
	sodium_memzero(key, sizeof key);
	return error;
}

/* Put "withheld" in place of each protected field of doc, sealed or open. */
int
record_withhold(json_t *doc)
{
	const char *const *f;

	for (f = recobj_sealed_fields(record_kind(doc)); *f != NULL; f++)
		if (json_object_get(doc, *f) != NULL &&
		    json_object_set_new(doc, *f, json_string(RECORD_WITHHELD)) != 0)
			return CUSTODY_ENOMEM;
	return 0;
}

/* A keyed hash of a record's content without its revision stamp: "has it changed?" */
void
record_content_hash(const struct archive *a, const json_t *doc, uint8_t out[static TOKEN_LEN])
{
	json_t *copy = json_copy((json_t *)doc);
	char *s = NULL;

	if (copy != NULL) {
		json_object_del(copy, "rev");
		s = json_dumps(copy, RECORD_CONTENT_JSON);
	}
	record_content_hash_json(a, s != NULL ? s : "", out);
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
	json_decref(copy);
}

/* record_content_hash of a record without "rev" encoded with RECORD_CONTENT_JSON as json. */
void
record_content_hash_json(const struct archive *a, const char *json,
    uint8_t out[static TOKEN_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, a->token_key, 32, TOKEN_LEN);
	crypto_generichash_update(&h, (const uint8_t *)"content\0", 8);
	crypto_generichash_update(&h, (const uint8_t *)json, strlen(json));
	crypto_generichash_final(&h, out, TOKEN_LEN);
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
