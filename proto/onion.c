/* Tor v3 onion addresses: recognised, and checked letter by letter and by their checksum. */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "custody/common.h"
#include "custody/onion.h"

#define ONION_SUFFIX ".onion"
#define ONION_BYTES 35		/* key 32, checksum 2, version 1 */
#define ONION_VERSION 3

/* In .onion. */
int
onion_is(const char *host, size_t len)
{
	size_t n = strlen(ONION_SUFFIX);

	return len >= n && strncasecmp(host + len - n, ONION_SUFFIX, n) == 0;
}

/* The 5-bit value of a base32 letter (RFC 4648, either case), or -1. */
static int
onion_b32(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Check a v3 onion address. */
int
onion_check(const char *host, size_t len)
{
	static const char prefix[] = ".onion checksum";
	uint8_t raw[ONION_BYTES] = { 0 }, sum[EVP_MAX_MD_SIZE];
	unsigned acc = 0, bits = 0, sumlen = 0;
	size_t i, o = 0;
	EVP_MD_CTX *ctx;
	int v, ok;

	if (!onion_is(host, len) || len - strlen(ONION_SUFFIX) != ONION_V3_LEN)
		return custody_fail(CUSTODY_EINVAL, "%.*s is not a v3 onion address (%d base32 "
		    "letters, then .onion)", (int)(len > 80 ? 80 : len), host, ONION_V3_LEN);
	for (i = 0; i < ONION_V3_LEN; i++) {
		if ((v = onion_b32(host[i])) < 0)
			return custody_fail(CUSTODY_EINVAL, "onion address %.*s: '%c' is not a "
			    "base32 letter (a-z, 2-7)", (int)len, host, host[i]);
		acc = acc << 5 | (unsigned)v;
		if ((bits += 5) >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (raw[ONION_BYTES - 1] != ONION_VERSION)
		return custody_fail(CUSTODY_EINVAL, "onion address %.*s: version %u, not 3 (a v3 "
		    "address ends in d)", (int)len, host, raw[ONION_BYTES - 1]);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return CUSTODY_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha3_256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, prefix, strlen(prefix)) == 1 &&
	    EVP_DigestUpdate(ctx, raw, 32) == 1 &&
	    EVP_DigestUpdate(ctx, raw + 34, 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, sum, &sumlen) == 1 && sumlen >= 2;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return custody_fail(CUSTODY_ERR, "SHA3-256 is not available");
	if (sum[0] != raw[32] || sum[1] != raw[33])
		return custody_fail(CUSTODY_EINVAL, "onion address %.*s: its checksum does not "
		    "match (a mistyped letter?)", (int)len, host);
	return 0;
}
