/*
 * Record objects as feeds store them, opened with a disclosed key: what custodyd seals and what
 * `custody verify-dossier` opens offline.
 *
 * A record object (one git blob at records/ab/cd/TOKEN) is "CUSTREC1", the record key wrapped
 * by the archive data key (RECOBJ_WRAPPED_LEN), a 24-byte nonce, then the record's canonical
 * JSON under XChaCha20-Poly1305 with the record key. The AD is "CUSTREC1" and the 32 hex
 * digits of TOKEN, so an object moved to another path does not open.
 *
 * Protected fields (a source's name, contact and notes; a victim's notes; a person's reporter,
 * notes and ante-mortem data; a person event's notes; a site's lat, lon and geometry) are
 * sealed once more
 * inside the record: their value becomes {"sealed": BASE64(nonce || ciphertext || tag)}, the
 * compact JSON of the value under XChaCha20-Poly1305 with a field key of their own and the AD
 * "custody field TOKEN FIELD". Disclosing a record key therefore shows every other field and
 * only a commitment to the protected ones; a dossier discloses a field key only when the
 * field is not withheld.
 */
#ifndef CUSTODY_RECOBJ_H
#define CUSTODY_RECOBJ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "custody/common.h"

#define RECOBJ_MAGIC		"CUSTREC1"
#define RECOBJ_MAGIC_LEN	8
#define RECOBJ_KEY_LEN		32
#define RECOBJ_WRAPPED_LEN	(24 + 32 + 16)
#define RECOBJ_NONCE_LEN	24
#define RECOBJ_TAG_LEN		16
#define RECOBJ_HDR_LEN		(RECOBJ_MAGIC_LEN + RECOBJ_WRAPPED_LEN + RECOBJ_NONCE_LEN)
#define RECOBJ_TOKEN_HEX_LEN	32
#define RECOBJ_MAX		(16u << 20)	/* largest record plaintext */

/*
 * Seal plaintext (n bytes) as a record object for entry token_hex: the wrapped key goes in
 * as given, the nonce is random. Appends to out.
 */
int recobj_seal(struct cbuf *out, const uint8_t wrapped[static RECOBJ_WRAPPED_LEN],
    const uint8_t key[static RECOBJ_KEY_LEN], const char *token_hex, const void *plain,
    size_t n);
/* The wrapped key inside an object (a pointer into obj), or NULL when obj is not one. */
const uint8_t *recobj_wrapped(const uint8_t *obj, size_t len);
/*
 * Open a record object found at entry token_hex with its record key: *out is the JSON object
 * it holds, sealed fields still sealed. CUSTODY_EINVAL when obj is not a record object or not
 * a JSON object, CUSTODY_ECRYPTO when it does not authenticate under key and token_hex.
 */
int recobj_open(json_t **out, const uint8_t key[static RECOBJ_KEY_LEN], const char *token_hex,
    const uint8_t *obj, size_t len);

/* The fields of a kind that are sealed inside its records, NULL-terminated (never NULL). */
const char *const *recobj_sealed_fields(const char *kind);
/* True when v has the sealed form {"sealed": "..."}. */
int recobj_is_sealed(const json_t *v);
/* Seal value (any JSON) as field of the record at token_hex: *out is {"sealed": ...}. */
int recobj_field_seal(json_t **out, const uint8_t key[static RECOBJ_KEY_LEN],
    const char *token_hex, const char *field, const json_t *value);
/* Open a sealed field: *out is its value. CUSTODY_ECRYPTO when it does not authenticate. */
int recobj_field_open(json_t **out, const uint8_t key[static RECOBJ_KEY_LEN],
    const char *token_hex, const char *field, const json_t *sealed);

#endif
