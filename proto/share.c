/* Recovery shares: the binary and text forms, and their one strict parser (share.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/common.h"
#include "custody/share.h"

#define LINE_BYTES 20
#define B32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

/* Sign s and write its binary form. */
int
share_encode(uint8_t out[static SHARE_MAX], size_t *len, struct share *s,
    const uint8_t sk[static 64])
{
	size_t n = 0, name = strlen(s->office);

	if (name == 0 || name > SHARE_NAME_MAX || s->secret_len == 0 || s->x == 0 ||
	    s->threshold < 2 || s->threshold > s->count)
		return custody_fail(CUSTODY_EINVAL, "share fields out of range");
	memcpy(out, SHARE_MAGIC, 7);
	out[7] = SHARE_VERSION;
	out[8] = s->threshold;
	out[9] = s->count;
	out[10] = s->x;
	out[11] = (uint8_t)name;
	n = 12;
	memcpy(out + n, s->office, name);
	n += name;
	memcpy(out + n, s->pk, 32);
	n += 32;
	out[n++] = s->secret_len;
	memcpy(out + n, s->secret, s->secret_len);
	n += s->secret_len;
	crypto_sign_ed25519_detached(s->sig, NULL, out, n, sk);
	memcpy(out + n, s->sig, 64);
	*len = n + 64;
	return 0;
}

/* The check of text line number line holding p[0..n). */
static void
share_line_check(char out[5], unsigned line, const uint8_t *p, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[8], num = (uint8_t)line;

	crypto_generichash_init(&st, (const uint8_t *)"custody-share", 13, sizeof h);
	crypto_generichash_update(&st, &num, 1);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, h, sizeof h);
	out[0] = B32[h[0] >> 3];
	out[1] = B32[(h[0] & 7) << 2 | h[1] >> 6];
	out[2] = B32[(h[1] >> 1) & 31];
	out[3] = B32[(h[1] & 1) << 4 | h[2] >> 4];
	out[4] = '\0';
}

/* Base32 of n <= LINE_BYTES bytes (no padding), n*8/5 rounded up letters. */
static size_t
share_b32(char *out, const uint8_t *p, size_t n)
{
	size_t i, bits = 0, k = 0;
	unsigned acc = 0;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 5) {
			out[k++] = B32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[k++] = B32[(acc << (5 - bits)) & 31];
	return k;
}

int
share_text(char **out, const uint8_t *bin, size_t len)
{
	struct share s;
	struct cbuf b = { 0 };
	char letters[40], check[5];
	size_t off, n, k, i;
	unsigned line = 1;
	int error;

	if ((error = share_parse(&s, bin, len)) < 0)
		return error;
	error = cbuf_printf(&b, "# custody recovery share %u of %u for office %s: any %u restore "
	    "its keys\n# type the numbered lines back into a file for custodyd recover\n",
	    s.x, s.count, s.office, s.threshold);
	for (off = 0; off < len && error == 0; off += n, line++) {
		n = len - off < LINE_BYTES ? len - off : LINE_BYTES;
		k = share_b32(letters, bin + off, n);
		share_line_check(check, line, bin + off, n);
		error = cbuf_printf(&b, "%02u", line);
		for (i = 0; i < k && error == 0; i += 4)
			error = cbuf_printf(&b, " %.*s", (int)(k - i < 4 ? k - i : 4), letters + i);
		if (error == 0)
			error = cbuf_printf(&b, "  %s\n", check);
	}
	if (error < 0 || (*out = cbuf_detach(&b)) == NULL) {
		cbuf_free(&b);
		return error < 0 ? error : CUSTODY_ENOMEM;
	}
	return 0;
}

static int
share_b32_value(int c)
{
	const char *p;

	c = toupper(c);
	if (c == '\0' || (p = strchr(B32, c)) == NULL)
		return -1;
	return (int)(p - B32);
}

/* Decode one text line "NN groups... CCCC" into bin; returns bytes, or an error. */
static int
share_text_line(uint8_t *bin, unsigned want, const char *line, size_t len)
{
	char letters[64], check[5];
	uint8_t bytes[LINE_BYTES];
	size_t k = 0, i, n = 0, bits = 0;
	unsigned acc = 0, num = 0;
	int v;

	for (i = 0; i < len && isdigit((unsigned char)line[i]) && i < 3; i++)
		num = num * 10 + (unsigned)(line[i] - '0');
	if (i == 0 || num != want)
		return custody_fail(CUSTODY_EINVAL, "line %u of the text is missing or out of "
		    "order", want);
	for (; i < len; i++) {
		if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')
			continue;
		if (share_b32_value(line[i]) < 0 || k == sizeof letters)
			return custody_fail(CUSTODY_EINVAL, "line %u holds '%c', not a share letter",
			    want, isprint((unsigned char)line[i]) ? line[i] : '?');
		letters[k++] = (char)toupper((unsigned char)line[i]);
	}
	if (k < 4 + 2)
		return custody_fail(CUSTODY_EINVAL, "line %u is too short", want);
	k -= 4;
	for (i = 0; i < k; i++) {
		v = share_b32_value(letters[i]);
		acc = acc << 5 | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (n == LINE_BYTES)
				return custody_fail(CUSTODY_EINVAL, "line %u is too long", want);
			bytes[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return custody_fail(CUSTODY_EINVAL, "line %u has a wrong number of letters", want);
	share_line_check(check, want, bytes, n);
	if (memcmp(check, letters + k, 4) != 0)
		return custody_fail(CUSTODY_EINVAL, "line %u does not match its check %.4s "
		    "(a mistyped letter?)", want, letters + k);
	memcpy(bin, bytes, n);
	return (int)n;
}

/* The text form into binary. */
static int
share_from_text(uint8_t *bin, size_t *len, const char *text, size_t tlen)
{
	const char *p = text, *end = text + tlen, *nl;
	unsigned line = 1;
	int r;

	*len = 0;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		if (p == nl || *p == '#' || (nl - p == 1 && *p == '\r'))
			continue;
		if (*len + LINE_BYTES > SHARE_MAX)
			return custody_fail(CUSTODY_EINVAL, "too many lines for a share");
		if ((r = share_text_line(bin + *len, line, p, (size_t)(nl - p))) < 0)
			return r;
		*len += (size_t)r;
		if ((size_t)r < LINE_BYTES && nl < end) {
			/* a short line is the last: nothing but comments may follow */
			for (p = nl + 1; p < end && strchr(" \t\r\n", *p) != NULL; p++)
				;
			if (p < end && *p != '#')
				return custody_fail(CUSTODY_EINVAL, "line %u is short but more lines "
				    "follow", line);
			break;
		}
		line++;
	}
	if (*len == 0)
		return custody_fail(CUSTODY_EINVAL, "no share lines");
	return 0;
}

static int
share_parse_bin(struct share *s, const uint8_t *p, size_t len)
{
	size_t n, name;

	memset(s, 0, sizeof *s);
	if (len < 12 || memcmp(p, SHARE_MAGIC, 7) != 0)
		return custody_fail(CUSTODY_EINVAL, "not a custody recovery share");
	if (p[7] != SHARE_VERSION)
		return custody_fail(CUSTODY_EINVAL, "share format version %u; this custody reads "
		    "version %u", p[7], SHARE_VERSION);
	s->threshold = p[8];
	s->count = p[9];
	s->x = p[10];
	name = p[11];
	if (s->threshold < 2 || s->threshold > s->count || s->x == 0 || name == 0 ||
	    name > SHARE_NAME_MAX)
		return custody_fail(CUSTODY_EINVAL, "damaged share (impossible header)");
	n = 12;
	if (len < n + name + 32 + 1)
		return custody_fail(CUSTODY_EINVAL, "damaged share (cut short)");
	memcpy(s->office, p + n, name);
	s->office[name] = '\0';
	if (strlen(s->office) != name)
		return custody_fail(CUSTODY_EINVAL, "damaged share (NUL in the office name)");
	n += name;
	memcpy(s->pk, p + n, 32);
	n += 32;
	s->secret_len = p[n++];
	if (s->secret_len == 0 || len != n + s->secret_len + 64)
		return custody_fail(CUSTODY_EINVAL, "damaged share (%zu bytes, the header says %zu)",
		    len, n + s->secret_len + 64);
	memcpy(s->secret, p + n, s->secret_len);
	n += s->secret_len;
	memcpy(s->sig, p + n, 64);
	if (crypto_sign_ed25519_verify_detached(s->sig, p, n, s->pk) != 0)
		return custody_fail(CUSTODY_EINVAL, "damaged share (its signature does not verify)");
	return 0;
}

int
share_parse(struct share *s, const void *data, size_t len)
{
	uint8_t bin[SHARE_MAX + LINE_BYTES];
	size_t n;
	int error;

	if (len >= 7 && memcmp(data, SHARE_MAGIC, 7) == 0) {
		if (len > SHARE_MAX)
			return custody_fail(CUSTODY_EINVAL, "damaged share (too long)");
		return share_parse_bin(s, data, len);
	}
	if (len > SHARE_TEXT_MAX)
		return custody_fail(CUSTODY_EINVAL, "not a custody recovery share (too long)");
	for (n = 0; n < len; n++) {
		uint8_t c = ((const uint8_t *)data)[n];

		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f)
			return custody_fail(CUSTODY_EINVAL, "not a custody recovery share (neither "
			    "the binary nor the text form)");
	}
	if ((error = share_from_text(bin, &n, data, len)) < 0)
		return error;
	error = share_parse_bin(s, bin, n);
	sodium_memzero(bin, sizeof bin);
	return error;
}
