/* Bech32 (BIP 173) without the 90-character limit, as age uses it for keys. */
#include <string.h>

#include "custody/age.h"
#include "custody/common.h"

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* One step of the BCH checksum over 5-bit values. */
static uint32_t
bech32_polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = {
		0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
	};
	uint32_t top = chk >> 25;
	int i;

	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

/* ASCII lower case of c. */
static uint8_t
bech32_lower(char c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* The checksum state after the expanded (lower-cased) human-readable part. */
static uint32_t
bech32_polymod_hrp(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < n; i++)
		chk = bech32_polymod_step(chk, bech32_lower(hrp[i]) >> 5);
	chk = bech32_polymod_step(chk, 0);
	for (i = 0; i < n; i++)
		chk = bech32_polymod_step(chk, bech32_lower(hrp[i]) & 31);
	return chk;
}

/* Value of a data character, or -1. */
static int
bech32_value(char c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	if (c == '\0' || (p = strchr(bech32_charset, c)) == NULL)
		return -1;
	return (int)(p - bech32_charset);
}

/* Lower case "hrp1" + data in 5-bit groups + 6-character checksum. */
int
bech32_encode(char *out, size_t outsz, const char *hrp, const uint8_t *data, size_t len)
{
	size_t hlen = strlen(hrp), ngroups = (len * 8 + 4) / 5, o = 0, i;
	uint32_t chk, acc = 0;
	int bits = 0;
	uint8_t v;

	if (hlen == 0 || outsz < hlen + 1 + ngroups + 6 + 1)
		return custody_fail(CUSTODY_EINVAL, "bech32: output buffer too small");
	for (i = 0; i < hlen; i++) {
		if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z'))
			return custody_fail(CUSTODY_EINVAL, "bech32: bad human-readable part");
		out[o++] = hrp[i];
	}
	out[o++] = '1';
	chk = bech32_polymod_hrp(hrp, hlen);
	for (i = 0; i <= len; i++) {
		if (i < len) {
			acc = (acc << 8 | data[i]) & 0xfff;
			bits += 8;
		} else if (bits > 0) {
			acc <<= 5 - bits;	/* zero-pad the last group */
			bits = 5;
		}
		for (; bits >= 5; bits -= 5) {
			v = (uint8_t)((acc >> (bits - 5)) & 31);
			chk = bech32_polymod_step(chk, v);
			out[o++] = bech32_charset[v];
		}
	}
	for (i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	return 0;
}

/* Check characters and case; sets *sep to the position of the last '1'. */
static int
bech32_check_chars(size_t *sep, const char *s, size_t slen)
{
	int lower = 0, upper = 0;
	size_t i;

	*sep = slen;
	for (i = 0; i < slen; i++) {
		if (s[i] < 33 || s[i] > 126)
			return custody_fail(CUSTODY_EINVAL, "bech32: invalid character");
		lower |= s[i] >= 'a' && s[i] <= 'z';
		upper |= s[i] >= 'A' && s[i] <= 'Z';
		if (s[i] == '1')
			*sep = i;
	}
	if (lower && upper)
		return custody_fail(CUSTODY_EINVAL, "bech32: mixed case");
	if (*sep == slen || *sep == 0 || slen - *sep - 1 < 6)
		return custody_fail(CUSTODY_EINVAL, "bech32: no separator or too short");
	return 0;
}

/* Decode a Bech32 string into its human-readable part and data bytes. */
int
bech32_decode(char *hrp, size_t hrpsz, uint8_t *data, size_t *len, const char *s, size_t slen)
{
	size_t sep, i, o = 0, cap = *len;
	uint32_t chk, acc = 0;
	int bits = 0, v, error;

	*len = 0;
	if ((error = bech32_check_chars(&sep, s, slen)) < 0)
		return error;
	if (sep + 1 > hrpsz)
		return custody_fail(CUSTODY_EINVAL, "bech32: human-readable part too long");
	chk = bech32_polymod_hrp(s, sep);
	for (i = sep + 1; i < slen; i++) {
		if ((v = bech32_value(s[i])) < 0)
			return custody_fail(CUSTODY_EINVAL, "bech32: invalid data character");
		chk = bech32_polymod_step(chk, (uint8_t)v);
		if (i + 6 >= slen)
			continue;	/* checksum characters carry no data */
		acc = (acc << 5 | (uint32_t)v) & 0xfff;
		if ((bits += 5) >= 8) {
			if (o == cap)
				return custody_fail(CUSTODY_EINVAL, "bech32: data too long");
			data[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (chk != 1)
		return custody_fail(CUSTODY_EINVAL, "bech32: bad checksum");
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return custody_fail(CUSTODY_EINVAL, "bech32: bad padding");
	memcpy(hrp, s, sep);
	hrp[sep] = '\0';
	*len = o;
	return 0;
}
