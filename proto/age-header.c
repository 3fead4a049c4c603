/* The age v1 header: strict incremental parser, X25519 stanzas, MAC; and its writer. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "age-internal.h"

#define AGE_VERSION_LINE "age-encryption.org/v1"
#define AGE_VERSION_PREFIX "age-encryption.org/"
#define AGE_X25519_INFO "age-encryption.org/v1/X25519"
#define AGE_BODY_COLUMNS 64
#define AGE_MAX_ARGS 8		/* arguments we look at; more are counted, not kept */

enum age_header_state {
	H_VERSION,		/* expecting the version line */
	H_FIRST_STANZA,		/* expecting the first "-> " line */
	H_BODY,			/* inside a stanza body */
	H_NEXT,			/* expecting "-> " or "---" */
	H_NONCE,		/* MAC line done, reading the 16-byte payload nonce */
	H_DONE,
};

/* Allocated with sodium_malloc: it holds the file key. */
struct age_header {
	const struct age_identity	*ids;
	size_t				 nids;
	enum age_header_state		 state;
	int				 error;	/* sticky */
	struct cbuf			 text;	/* every header byte so far, for the MAC */
	size_t				 line_start;
	size_t				 args_off;	/* current stanza's arguments in text */
	size_t				 args_len;
	struct cbuf			 body;	/* current stanza's base64 body */
	size_t				 nstanzas;
	int				 scrypt;	/* an scrypt stanza was seen */
	int				 have_key;
	int				 leading_ws;	/* only whitespace so far */
	uint8_t				 file_key[AGE_FILE_KEY_LEN];
	uint8_t				 nonce[AGE_NONCE_LEN];
	size_t				 nonce_len;
};

/* One stanza argument: points into the header text. */
struct age_arg {
	const char	*p;
	size_t		 n;
};

/* Value of a base64 character, or -1. */
static int
age_b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode canonical unpadded base64 of n characters into at most cap bytes. */
static int
age_b64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *s, size_t n)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	*outlen = 0;
	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return CUSTODY_EINVAL;
	for (i = 0; i < n; i++) {
		if ((v = age_b64_value((uint8_t)s[i])) < 0)
			return CUSTODY_EINVAL;
		acc = (acc << 6 | (uint32_t)v) & 0xffff;
		if ((bits += 6) >= 8) {
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return CUSTODY_EINVAL;	/* non-canonical: unused bits set */
	*outlen = o;
	return 0;
}

/* Append unpadded base64 of in. */
static int
age_b64_encode(struct cbuf *out, const uint8_t *in, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t i;
	int bits = 0, error;

	for (i = 0; i < len; i++) {
		acc = (acc << 8 | in[i]) & 0xffff;
		for (bits += 8; bits >= 6; bits -= 6)
			if ((error = cbuf_put_u8(out, alphabet[(acc >> (bits - 6)) & 63])) < 0)
				return error;
	}
	if (bits > 0)
		return cbuf_put_u8(out, alphabet[(acc << (6 - bits)) & 63]);
	return 0;
}

/* HKDF-SHA-256 (RFC 5869) with one block of output. */
void
age_hkdf(uint8_t out[static AGE_KEY_LEN], const uint8_t *ikm, size_t ikm_len,
    const uint8_t *salt, size_t salt_len, const char *info)
{
	crypto_auth_hmacsha256_state st;
	uint8_t prk[crypto_auth_hmacsha256_BYTES], one = 1;

	crypto_auth_hmacsha256_init(&st, salt_len ? salt : &one, salt_len);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)info, strlen(info));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(&st, sizeof st);
}

/* The header MAC over text[0..len) with the key derived from file_key. */
static void
age_header_mac(uint8_t mac[static 32], const uint8_t *text, size_t len,
    const uint8_t file_key[static AGE_FILE_KEY_LEN])
{
	uint8_t key[AGE_KEY_LEN];

	age_hkdf(key, file_key, AGE_FILE_KEY_LEN, NULL, 0, "header");
	crypto_auth_hmacsha256(mac, text, len, key);
	sodium_memzero(key, sizeof key);
}

/* The wrap key of an X25519 stanza from its shared secret, share and recipient. */
static void
age_x25519_wrap_key(uint8_t key[static AGE_KEY_LEN], const uint8_t shared[static AGE_KEY_LEN],
    const uint8_t share[static AGE_KEY_LEN], const uint8_t pk[static AGE_KEY_LEN])
{
	uint8_t salt[2 * AGE_KEY_LEN];

	memcpy(salt, share, AGE_KEY_LEN);
	memcpy(salt + AGE_KEY_LEN, pk, AGE_KEY_LEN);
	age_hkdf(key, shared, AGE_KEY_LEN, salt, sizeof salt, AGE_X25519_INFO);
}

/* Append "-> X25519 share\nbody\n" wrapping file_key to one recipient. */
static int
age_header_write_x25519(struct cbuf *out, const uint8_t file_key[static AGE_FILE_KEY_LEN],
    const struct age_recipient *r)
{
	static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t eph[AGE_KEY_LEN], share[AGE_KEY_LEN], shared[AGE_KEY_LEN], key[AGE_KEY_LEN];
	uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN];
	int error;

	randombytes_buf(eph, sizeof eph);
	crypto_scalarmult_base(share, eph);
	if (crypto_scalarmult(shared, eph, r->pk) != 0) {
		error = custody_fail(CUSTODY_EINVAL, "age: recipient is not a usable X25519 key");
		goto done;
	}
	age_x25519_wrap_key(key, shared, share, r->pk);
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, AGE_FILE_KEY_LEN,
	    NULL, 0, NULL, zero_nonce, key);
	if ((error = cbuf_puts(out, "-> X25519 ")) < 0 ||
	    (error = age_b64_encode(out, share, sizeof share)) < 0 ||
	    (error = cbuf_put_u8(out, '\n')) < 0 ||
	    (error = age_b64_encode(out, body, sizeof body)) < 0 ||
	    (error = cbuf_put_u8(out, '\n')) < 0)
		goto done;
done:
	sodium_memzero(eph, sizeof eph);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	return error;
}

/* Append the whole header for file_key and recipients. */
int
age_header_write(struct cbuf *out, const uint8_t file_key[static AGE_FILE_KEY_LEN],
    const struct age_recipient *rcpts, size_t n)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	size_t start = out->len, i;
	int error;

	if (n == 0)
		return custody_fail(CUSTODY_EINVAL, "age: no recipients");
	if ((error = cbuf_puts(out, AGE_VERSION_LINE "\n")) < 0)
		return error;
	for (i = 0; i < n; i++)
		if ((error = age_header_write_x25519(out, file_key, &rcpts[i])) < 0)
			return error;
	if ((error = cbuf_puts(out, "---")) < 0)
		return error;
	age_header_mac(mac, out->data + start, out->len - start, file_key);
	if ((error = cbuf_put_u8(out, ' ')) < 0 ||
	    (error = age_b64_encode(out, mac, sizeof mac)) < 0)
		return error;
	return cbuf_put_u8(out, '\n');
}

/* A new header parser for the given identities (n may be 0: nothing will match). */
int
age_header_new(struct age_header **out, const struct age_identity *ids, size_t n)
{
	struct age_header *h;

	*out = NULL;
	if ((h = sodium_malloc(sizeof *h)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "age: out of memory");
	memset(h, 0, sizeof *h);
	h->ids = ids;
	h->nids = n;
	h->state = H_VERSION;
	h->leading_ws = 1;
	*out = h;
	return 0;
}

/* Free the parser, wiping the file key. */
void
age_header_free(struct age_header *h)
{
	if (h == NULL)
		return;
	cbuf_free(&h->text);
	cbuf_free(&h->body);
	sodium_free(h);
}

/* Record a header failure (sticky) and return it. */
static int
age_header_fail(struct age_header *h, int code, const char *what)
{
	h->error = custody_fail(code, "age header: %s", what);
	return h->error;
}

/* Split "a b c" into arguments; each non-empty and printable ASCII without spaces. */
static int
age_header_split(struct age_arg *argv, size_t *argc, const char *p, size_t n)
{
	size_t i, start = 0;

	*argc = 0;
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != ' ') {
			if (p[i] < 0x21 || p[i] > 0x7e)
				return CUSTODY_EINVAL;
			continue;
		}
		if (i == start)
			return CUSTODY_EINVAL;	/* empty argument */
		if (*argc < AGE_MAX_ARGS)
			argv[*argc] = (struct age_arg){ p + start, i - start };
		(*argc)++;
		start = i + 1;
	}
	return 0;
}

/* True when the argument is exactly s. */
static int
age_arg_is(const struct age_arg *a, const char *s)
{
	return a->n == strlen(s) && memcmp(a->p, s, a->n) == 0;
}

/* Try the identities on a well-formed X25519 stanza; a match sets the file key. */
static int
age_header_unwrap_x25519(struct age_header *h, const uint8_t share[static AGE_KEY_LEN],
    const uint8_t body[static AGE_FILE_KEY_LEN + AGE_TAG_LEN])
{
	static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t shared[AGE_KEY_LEN], key[AGE_KEY_LEN];
	size_t i;
	int error = 0;

	for (i = 0; i < h->nids && !h->have_key; i++) {
		if (crypto_scalarmult(shared, h->ids[i].sk, share) != 0) {
			error = age_header_fail(h, CUSTODY_EINVAL,
			    "X25519 share gives an all-zero shared secret");
			break;
		}
		age_x25519_wrap_key(key, shared, share, h->ids[i].pk);
		if (crypto_aead_chacha20poly1305_ietf_decrypt(h->file_key, NULL, NULL, body,
		    AGE_FILE_KEY_LEN + AGE_TAG_LEN, NULL, 0, zero_nonce, key) == 0)
			h->have_key = 1;
	}
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	return error;
}

/* Check an X25519 stanza's shape, then try to unwrap it. */
static int
age_header_x25519(struct age_header *h, const struct age_arg *argv, size_t argc,
    const uint8_t *body, size_t body_len)
{
	uint8_t share[AGE_KEY_LEN];
	size_t n;

	if (argc != 2)
		return age_header_fail(h, CUSTODY_EINVAL, "X25519 stanza needs exactly 2 arguments");
	if (age_b64_decode(share, sizeof share, &n, argv[1].p, argv[1].n) < 0 || n != AGE_KEY_LEN)
		return age_header_fail(h, CUSTODY_EINVAL, "X25519 share is not 32 bytes of base64");
	if (body_len != AGE_FILE_KEY_LEN + AGE_TAG_LEN)
		return age_header_fail(h, CUSTODY_EINVAL, "X25519 stanza body is not 32 bytes");
	if (h->have_key)
		return 0;
	return age_header_unwrap_x25519(h, share, body);
}

/* A stanza's body is complete: decode it and act on its type. */
static int
age_header_stanza(struct age_header *h)
{
	struct age_arg argv[AGE_MAX_ARGS];
	uint8_t *body;
	size_t argc, cap = h->body.len / 4 * 3 + 2, n;
	int error;

	(void)age_header_split(argv, &argc, (const char *)h->text.data + h->args_off, h->args_len);
	if ((body = malloc(cap)) == NULL)
		return age_header_fail(h, CUSTODY_ENOMEM, "out of memory");
	if (age_b64_decode(body, cap, &n, (const char *)h->body.data, h->body.len) < 0) {
		error = age_header_fail(h, CUSTODY_EINVAL, "stanza body is not canonical base64");
		goto done;
	}
	h->nstanzas++;
	error = 0;
	if (age_arg_is(&argv[0], "scrypt"))
		h->scrypt = 1;
	else if (age_arg_is(&argv[0], "X25519"))
		error = age_header_x25519(h, argv, argc, body, n);
done:
	free(body);
	h->body.len = 0;
	return error;
}

/* A "-> args" line opens a stanza. */
static int
age_header_args_line(struct age_header *h, const char *line, size_t n)
{
	struct age_arg argv[AGE_MAX_ARGS];
	size_t argc;

	if (n < 3 || memcmp(line, "-> ", 3) != 0)
		return age_header_fail(h, CUSTODY_EINVAL, "expected a recipient stanza");
	if (age_header_split(argv, &argc, line + 3, n - 3) < 0)
		return age_header_fail(h, CUSTODY_EINVAL, "bad stanza arguments");
	h->args_off = (size_t)(line + 3 - (const char *)h->text.data);
	h->args_len = n - 3;
	h->state = H_BODY;
	return 0;
}

/* One line of a stanza body: full (64 columns, more follows) or final (shorter). */
static int
age_header_body_line(struct age_header *h, const char *line, size_t n)
{
	size_t i;
	int error;

	if (n > AGE_BODY_COLUMNS)
		return age_header_fail(h, CUSTODY_EINVAL, "stanza body line over 64 columns");
	for (i = 0; i < n; i++)
		if (age_b64_value((uint8_t)line[i]) < 0)
			return age_header_fail(h, CUSTODY_EINVAL, "bad character in stanza body");
	if ((error = cbuf_put(&h->body, line, n)) < 0)
		return age_header_fail(h, error, "out of memory");
	if (n == AGE_BODY_COLUMNS)
		return 0;
	h->state = H_NEXT;
	return age_header_stanza(h);
}

/* The "--- mac" line: check it, then the file key and the MAC itself. */
static int
age_header_mac_line(struct age_header *h, const char *line, size_t n)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
	size_t len;

	if (n != 4 + 43 || memcmp(line, "--- ", 4) != 0 ||
	    age_b64_decode(mac, sizeof mac, &len, line + 4, n - 4) < 0 || len != sizeof mac)
		return age_header_fail(h, CUSTODY_EINVAL, "malformed MAC line");
	if (h->scrypt && h->nstanzas > 1)
		return age_header_fail(h, CUSTODY_EINVAL, "an scrypt stanza must be alone");
	if (!h->have_key)
		return age_header_fail(h, CUSTODY_ENOTFOUND,
		    "no identity matched any recipient stanza");
	age_header_mac(want, h->text.data, h->line_start + 3, h->file_key);
	if (sodium_memcmp(want, mac, sizeof mac) != 0)
		return age_header_fail(h, CUSTODY_ECRYPTO, "header MAC mismatch");
	h->state = H_NONCE;
	return 0;
}

/* The first line is not "age-encryption.org/v1": say what it looks like. */
static int
age_header_bad_version(struct age_header *h)
{
	const uint8_t *p = h->text.data;
	size_t i;

	if (h->text.len >= strlen(AGE_VERSION_PREFIX) &&
	    memcmp(p, AGE_VERSION_PREFIX, strlen(AGE_VERSION_PREFIX)) == 0)
		return age_header_fail(h, CUSTODY_EINVAL, "unsupported age version");
	for (i = 0; i < h->text.len && strchr(" \t\r\n", p[i]) != NULL && p[i] != '\0'; i++)
		;
	if (i < h->text.len && p[i] == '-')
		return age_header_fail(h, CUSTODY_EINVAL, "ASCII-armored age files are not "
		    "supported (dearmor with age -d, or encrypt without -a)");
	return age_header_fail(h, CUSTODY_EINVAL, "not an age v1 file");
}

/* A complete line (without its LF) in the current state. */
static int
age_header_line(struct age_header *h, const char *line, size_t n)
{
	switch (h->state) {
	case H_VERSION:
		if (n != strlen(AGE_VERSION_LINE) || memcmp(line, AGE_VERSION_LINE, n) != 0)
			return age_header_bad_version(h);
		h->state = H_FIRST_STANZA;
		return 0;
	case H_FIRST_STANZA:
		return age_header_args_line(h, line, n);
	case H_BODY:
		return age_header_body_line(h, line, n);
	case H_NEXT:
		if (n >= 3 && memcmp(line, "---", 3) == 0)
			return age_header_mac_line(h, line, n);
		return age_header_args_line(h, line, n);
	default:
		return age_header_fail(h, CUSTODY_ERR, "parser in a bad state");
	}
}

/*
 * The version line, byte by byte: fail as soon as it cannot match. Leading whitespace is
 * tolerated only long enough to recognise an armored file (whitespace may precede its BEGIN).
 * Returns 1 when a complete, correct version line ends with this byte.
 */
static int
age_header_version_byte(struct age_header *h, uint8_t c)
{
	size_t n = h->text.len, plen = strlen(AGE_VERSION_PREFIX);

	if (h->leading_ws && strchr(" \t\r\n", c) != NULL && c != '\0' && n < 1024)
		return 0;
	if (h->leading_ws && n > 1)
		return age_header_bad_version(h);
	h->leading_ws = 0;
	if (c == '\n')
		return 1;
	if (memcmp(h->text.data, AGE_VERSION_PREFIX, n < plen ? n : plen) != 0)
		return age_header_bad_version(h);
	return 0;
}

/* Fail early on lines that can no longer become valid. */
static int
age_header_check_partial(struct age_header *h)
{
	size_t n = h->text.len - h->line_start;

	if (h->state == H_BODY && n > AGE_BODY_COLUMNS)
		return age_header_fail(h, CUSTODY_EINVAL, "stanza body line over 64 columns");
	return 0;
}

/* Take the payload nonce bytes after the MAC line. */
static size_t
age_header_nonce(struct age_header *h, const uint8_t *buf, size_t len)
{
	size_t take = AGE_NONCE_LEN - h->nonce_len;

	if (take > len)
		take = len;
	memcpy(h->nonce + h->nonce_len, buf, take);
	if ((h->nonce_len += take) == AGE_NONCE_LEN)
		h->state = H_DONE;
	return take;
}

/* Feed header bytes; stops right after the payload nonce. */
int
age_header_feed(struct age_header *h, const uint8_t *buf, size_t len, size_t *used)
{
	size_t i;
	int error;

	*used = 0;
	if (h->error < 0)
		return h->error;
	for (i = 0; i < len && h->state != H_DONE; i++) {
		if (h->state == H_NONCE) {
			i += age_header_nonce(h, buf + i, len - i) - 1;
			continue;
		}
		if (h->text.len >= AGE_HEADER_MAX)
			return age_header_fail(h, CUSTODY_ETOOBIG, "header too long");
		if ((error = cbuf_put_u8(&h->text, buf[i])) < 0)
			return age_header_fail(h, error, "out of memory");
		if (h->state == H_VERSION &&
		    (error = age_header_version_byte(h, buf[i])) <= 0) {
			if (error < 0)
				return error;
			continue;
		}
		if (buf[i] == '\n') {
			error = age_header_line(h, (const char *)h->text.data + h->line_start,
			    h->text.len - h->line_start - 1);
			h->line_start = h->text.len;
		} else
			error = age_header_check_partial(h);
		if (error < 0)
			return error;
	}
	*used = i;
	return h->state == H_DONE;
}

/* Input ended inside the header. */
int
age_header_finish(struct age_header *h)
{
	if (h->error < 0)
		return h->error;
	if (h->state == H_DONE)
		return 0;
	if (h->state == H_NONCE)
		return age_header_fail(h, CUSTODY_EINVAL, "payload nonce missing or short");
	if (h->text.len == 0)
		return age_header_fail(h, CUSTODY_EINVAL, "empty input");
	return age_header_fail(h, CUSTODY_EINVAL, "truncated header");
}

/* HKDF(file key, salt = nonce, "payload"). */
void
age_header_payload_key(const struct age_header *h, uint8_t key[static AGE_KEY_LEN])
{
	age_hkdf(key, h->file_key, AGE_FILE_KEY_LEN, h->nonce, AGE_NONCE_LEN, "payload");
}
