/*
 * Recovery shares: one of N pieces of an office's secrets, any K of which restore them
 * (custody keys split, custodyd recover). The splitting itself is libgfshare's (daemon/).
 *
 * Binary form, every field fixed or length-prefixed, the signature last:
 *
 *	"CUSTSHR" version(1)		version = SHARE_VERSION
 *	threshold(1) count(1) x(1)	K, N, and this share's libgfshare number (1..255)
 *	name_len(1) name		the office name (1..64 bytes)
 *	pk[32]				the office's Ed25519 public key
 *	secret_len(1) secret		this share of the secret payload (1..SHARE_SECRET_MAX)
 *	sig[64]				Ed25519 by the office key over every byte before it
 *
 * The secret payload that is split starts with a version byte: SHARE_PAYLOAD_V1 is followed
 * by the 32-byte Ed25519 seed of the office key and the 32-byte archive data key (later
 * versions may carry data-key epochs).
 *
 * Text form (what a person keeps on paper and can type back): comment lines starting with
 * '#', then lines "NN GGGG GGGG ... CCCC": NN the line number from 01, up to 8 groups of
 * 4 RFC 4648 base32 letters holding 20 bytes of the binary form, and CCCC a check of that
 * line (base32 of the first 20 bits of BLAKE2b over the line number and its bytes), so that
 * a mistyped line is named. Letters are case-insensitive; spaces are free.
 */
#ifndef CUSTODY_SHARE_H
#define CUSTODY_SHARE_H

#include <stddef.h>
#include <stdint.h>

#define SHARE_MAGIC "CUSTSHR"
#define SHARE_VERSION 1
#define SHARE_PAYLOAD_V1 1
#define SHARE_PAYLOAD_V1_LEN (1 + 32 + 32)
#define SHARE_SECRET_MAX 255
#define SHARE_NAME_MAX 64
#define SHARE_MAX (8 + 3 + 1 + SHARE_NAME_MAX + 32 + 1 + SHARE_SECRET_MAX + 64)
#define SHARE_TEXT_MAX 4096

struct share {
	uint8_t	 threshold, count, x;
	char	 office[SHARE_NAME_MAX + 1];
	uint8_t	 pk[32];
	uint8_t	 secret_len;
	uint8_t	 secret[SHARE_SECRET_MAX];
	uint8_t	 sig[64];
};

/* Sign s with the office secret key sk (64 bytes) and write its binary form to out. */
int share_encode(uint8_t out[static SHARE_MAX], size_t *len, struct share *s,
    const uint8_t sk[static 64]);
/* The text form of a binary share (malloc'd). */
int share_text(char **out, const uint8_t *bin, size_t len);
/*
 * Parse a share in either form and check its signature against the key it carries.
 * 0, or CUSTODY_EINVAL with custody_error() saying what is wrong with it.
 */
int share_parse(struct share *s, const void *data, size_t len);

#endif
