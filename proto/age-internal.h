/* Shared between proto/age.c (keys, STREAM) and proto/age-header.c (header). Not public. */
#ifndef CUSTODY_AGE_INTERNAL_H
#define CUSTODY_AGE_INTERNAL_H

#include "custody/age.h"
#include "custody/common.h"

/* HKDF-SHA-256 with 32 bytes of output; salt may be empty. */
void age_hkdf(uint8_t out[static AGE_KEY_LEN], const uint8_t *ikm, size_t ikm_len,
    const uint8_t *salt, size_t salt_len, const char *info);

/*
 * Header text (version line, one X25519 stanza per recipient, MAC line) for file_key, appended
 * to out. Fails only for a recipient whose key gives an all-zero shared secret, or ENOMEM.
 */
int age_header_write(struct cbuf *out, const uint8_t file_key[static AGE_FILE_KEY_LEN],
    const struct age_recipient *rcpts, size_t n);

/*
 * The incremental header parser: fed bytes in pieces, it checks syntax strictly, unwraps the
 * file key with the identities (which must outlive it), checks the MAC and reads the payload
 * nonce that follows. feed returns 1 when done (*used = bytes it took), 0 for more, or < 0.
 */
struct age_header;
int age_header_new(struct age_header **out, const struct age_identity *ids, size_t n);
int age_header_feed(struct age_header *h, const uint8_t *buf, size_t len, size_t *used);
/* End of input before the header was complete: always an error saying what was missing. */
int age_header_finish(struct age_header *h);
/* The payload key, once feed returned 1. */
void age_header_payload_key(const struct age_header *h, uint8_t key[static AGE_KEY_LEN]);
void age_header_free(struct age_header *h);

#endif
