/* Record objects and sealed fields: the parts a verifier without the archive key can open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/recobj.h"

static const char *const sealed_source[] = { "contact", "name", "notes", NULL };
static const char *const sealed_victim[] = { "notes", NULL };
/* A person's reporter and ante-mortem data; a site's location. */
static const char *const sealed_person[] = { "belongings", "build", "clothing", "dental",
    "eyes", "hair", "height_cm", "marks", "notes", "reporter_contact", "reporter_name", NULL };
static const char *const sealed_person_event[] = { "notes", NULL };
static const char *const sealed_site[] = { "geometry", "lat", "lon", NULL };
static const char *const sealed_none[] = { NULL };

const char *const *
recobj_sealed_fields(const char *kind)
{
	if (strcmp(kind, "source") == 0)
		return sealed_source;
	if (strcmp(kind, "victim") == 0)
		return sealed_victim;
	if (strcmp(kind, "person") == 0)
		return sealed_person;
	if (strcmp(kind, "person_event") == 0)
		return sealed_person_event;
	if (strcmp(kind, "site") == 0)
		return sealed_site;
	return sealed_none;
}

static int
recobj_token_ok(const char *token_hex)
{
	return token_hex != NULL && hex_is_lower(token_hex, RECOBJ_TOKEN_HEX_LEN);
}

int
recobj_seal(struct cbuf *out, const uint8_t wrapped[static RECOBJ_WRAPPED_LEN],
    const uint8_t key[static RECOBJ_KEY_LEN], const char *token_hex, const void *plain,
    size_t n)
{
	uint8_t ad[RECOBJ_MAGIC_LEN + RECOBJ_TOKEN_HEX_LEN], *p;
	int error;

	if (!recobj_token_ok(token_hex))
		return custody_fail(CUSTODY_EINVAL, "record token is not 32 hex digits");
	if (n > RECOBJ_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "record of %zu bytes is too large", n);
	if ((error = cbuf_reserve(out, RECOBJ_HDR_LEN + n + RECOBJ_TAG_LEN)) < 0)
		return error;
	p = out->data + out->len;
	memcpy(p, RECOBJ_MAGIC, RECOBJ_MAGIC_LEN);
	memcpy(p + RECOBJ_MAGIC_LEN, wrapped, RECOBJ_WRAPPED_LEN);
	randombytes_buf(p + RECOBJ_MAGIC_LEN + RECOBJ_WRAPPED_LEN, RECOBJ_NONCE_LEN);
	memcpy(ad, RECOBJ_MAGIC, RECOBJ_MAGIC_LEN);
	memcpy(ad + RECOBJ_MAGIC_LEN, token_hex, RECOBJ_TOKEN_HEX_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + RECOBJ_HDR_LEN, NULL, plain, n, ad,
	    sizeof ad, NULL, p + RECOBJ_MAGIC_LEN + RECOBJ_WRAPPED_LEN, key);
	out->len += RECOBJ_HDR_LEN + n + RECOBJ_TAG_LEN;
	return 0;
}

const uint8_t *
recobj_wrapped(const uint8_t *obj, size_t len)
{
	if (len < RECOBJ_HDR_LEN + RECOBJ_TAG_LEN ||
	    memcmp(obj, RECOBJ_MAGIC, RECOBJ_MAGIC_LEN) != 0)
		return NULL;
	return obj + RECOBJ_MAGIC_LEN;
}

int
recobj_open(json_t **out, const uint8_t key[static RECOBJ_KEY_LEN], const char *token_hex,
    const uint8_t *obj, size_t len)
{
	uint8_t ad[RECOBJ_MAGIC_LEN + RECOBJ_TOKEN_HEX_LEN];
	json_error_t jerr;
	char *pt;
	size_t n;
	int error = 0;

	*out = NULL;
	if (!recobj_token_ok(token_hex))
		return custody_fail(CUSTODY_EINVAL, "record token is not 32 hex digits");
	if (recobj_wrapped(obj, len) == NULL)
		return custody_fail(CUSTODY_EINVAL, "not a custody record object");
	n = len - RECOBJ_HDR_LEN - RECOBJ_TAG_LEN;
	if (n > RECOBJ_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "record of %zu bytes is too large", n);
	if ((pt = malloc(n + 1)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(ad, RECOBJ_MAGIC, RECOBJ_MAGIC_LEN);
	memcpy(ad + RECOBJ_MAGIC_LEN, token_hex, RECOBJ_TOKEN_HEX_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)pt, NULL, NULL,
	    obj + RECOBJ_HDR_LEN, n + RECOBJ_TAG_LEN, ad, sizeof ad,
	    obj + RECOBJ_MAGIC_LEN + RECOBJ_WRAPPED_LEN, key) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "record does not authenticate");
		goto done;
	}
	pt[n] = '\0';
	if ((*out = json_loadb(pt, n, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		error = custody_fail(CUSTODY_EINVAL, "record is not a JSON object");
	}
done:
	sodium_memzero(pt, n + 1);
	free(pt);
	return error;
}

int
recobj_is_sealed(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	    json_is_string(json_object_get(v, "sealed"));
}

static int
recobj_field_ad(char *ad, size_t len, const char *token_hex, const char *field)
{
	if (!recobj_token_ok(token_hex))
		return custody_fail(CUSTODY_EINVAL, "record token is not 32 hex digits");
	if ((size_t)snprintf(ad, len, "custody field %s %s", token_hex, field) >= len)
		return custody_fail(CUSTODY_EINVAL, "field name too long");
	return 0;
}

int
recobj_field_seal(json_t **out, const uint8_t key[static RECOBJ_KEY_LEN],
    const char *token_hex, const char *field, const json_t *value)
{
	char ad[160], *json, *b64 = NULL;
	uint8_t *box = NULL;
	size_t n, boxlen, b64len;
	int error;

	*out = NULL;
	if ((error = recobj_field_ad(ad, sizeof ad, token_hex, field)) < 0)
		return error;
	if ((json = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
	    JSON_ENCODE_ANY)) == NULL)
		return custody_fail(CUSTODY_EINVAL, "field %s cannot be encoded", field);
	n = strlen(json);
	boxlen = RECOBJ_NONCE_LEN + n + RECOBJ_TAG_LEN;
	b64len = sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL);
	error = CUSTODY_ENOMEM;
	if ((box = malloc(boxlen)) == NULL || (b64 = malloc(b64len)) == NULL)
		goto done;
	randombytes_buf(box, RECOBJ_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + RECOBJ_NONCE_LEN, NULL,
	    (const uint8_t *)json, n, (const uint8_t *)ad, strlen(ad), NULL, box, key);
	sodium_bin2base64(b64, b64len, box, boxlen, sodium_base64_VARIANT_ORIGINAL);
	if ((*out = json_pack("{s:s}", "sealed", b64)) != NULL)
		error = 0;
done:
	sodium_memzero(json, n);
	free(json);
	free(box);
	free(b64);
	return error;
}

int
recobj_field_open(json_t **out, const uint8_t key[static RECOBJ_KEY_LEN],
    const char *token_hex, const char *field, const json_t *sealed)
{
	const char *b64 = json_string_value(json_object_get(sealed, "sealed"));
	char ad[160];
	uint8_t *box = NULL, *pt = NULL;
	size_t len, cap;
	json_error_t jerr;
	int error;

	*out = NULL;
	if ((error = recobj_field_ad(ad, sizeof ad, token_hex, field)) < 0)
		return error;
	if (!recobj_is_sealed(sealed))
		return custody_fail(CUSTODY_EINVAL, "field %s is not sealed", field);
	cap = strlen(b64) / 4 * 3 + 3;
	if ((box = malloc(cap)) == NULL)
		return CUSTODY_ENOMEM;
	if (sodium_base642bin(box, cap, b64, strlen(b64), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || len < RECOBJ_NONCE_LEN + RECOBJ_TAG_LEN) {
		error = custody_fail(CUSTODY_EINVAL, "field %s: sealed value is malformed", field);
		goto done;
	}
	if ((pt = malloc(len)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, box + RECOBJ_NONCE_LEN,
	    len - RECOBJ_NONCE_LEN, (const uint8_t *)ad, strlen(ad), box, key) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "field %s does not open with its key", field);
		goto done;
	}
	len -= RECOBJ_NONCE_LEN + RECOBJ_TAG_LEN;
	if ((*out = json_loadb((const char *)pt, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		error = custody_fail(CUSTODY_EINVAL, "field %s: sealed value is not JSON", field);
	sodium_memzero(pt, len);
done:
	free(box);
	free(pt);
	return error;
}
