/* Byte buffers, bounds-checked cursors, hex, and whole reads and writes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "custody/common.h"

/* Lower-case hex of in. */
void
hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly len bytes from 2*len hex digits. */
int
hex_decode(uint8_t *out, size_t len, const char *hex)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if ((hi = hex_digit(hex[2 * i])) < 0 ||
		    (lo = hex_digit(hex[2 * i + 1])) < 0)
			return CUSTODY_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? 0 : CUSTODY_EINVAL;
}

/* True when s is exactly n lower-case hex digits. */
int
hex_is_lower(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

int
bytes_grow(void **p, size_t oldsize, size_t newsize)
{
	void *n;

	if ((n = malloc(newsize ? newsize : 1)) == NULL)
		return CUSTODY_ENOMEM;
	if (*p != NULL) {
		memcpy(n, *p, oldsize < newsize ? oldsize : newsize);
		sodium_memzero(*p, oldsize);
		free(*p);
	}
	*p = n;
	return 0;
}

/* Make room for extra more bytes (and a NUL); growing wipes the old block (bytes_grow). */
int
cbuf_reserve(struct cbuf *b, size_t extra)
{
	size_t need, cap;
	void *p = b->data;

	if (extra > SIZE_MAX / 2 - b->len)
		return CUSTODY_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (bytes_grow(&p, b->cap, cap) < 0)
		return CUSTODY_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes. */
int
cbuf_put(struct cbuf *b, const void *p, size_t n)
{
	int error;

	if ((error = cbuf_reserve(b, n)) < 0)
		return error;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Append a C string without its NUL. */
int
cbuf_puts(struct cbuf *b, const char *s)
{
	return cbuf_put(b, s, strlen(s));
}

/* Append formatted text. */
int
cbuf_printf(struct cbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, error;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return CUSTODY_EINVAL;
	if ((error = cbuf_reserve(b, (size_t)n)) < 0)
		return error;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
cbuf_put_u8(struct cbuf *b, uint8_t v)
{
	return cbuf_put(b, &v, 1);
}

int
cbuf_put_u32be(struct cbuf *b, uint32_t v)
{
	uint8_t p[4] = { v >> 24, v >> 16, v >> 8, v };

	return cbuf_put(b, p, sizeof p);
}

int
cbuf_put_u64be(struct cbuf *b, uint64_t v)
{
	int error;

	if ((error = cbuf_put_u32be(b, (uint32_t)(v >> 32))) < 0)
		return error;
	return cbuf_put_u32be(b, (uint32_t)v);
}

/* An SSH wire string: length then bytes. */
int
cbuf_put_sshstr(struct cbuf *b, const void *p, size_t n)
{
	int error;

	if (n > UINT32_MAX)
		return CUSTODY_ETOOBIG;
	if ((error = cbuf_put_u32be(b, (uint32_t)n)) < 0)
		return error;
	return cbuf_put(b, p, n);
}

/* Hand the bytes to the caller as a string; b is left empty. */
char *
cbuf_detach(struct cbuf *b)
{
	char *s;

	if (b->data == NULL && cbuf_reserve(b, 0) < 0)
		return NULL;
	s = (char *)b->data;
	s[b->len] = '\0';
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

/* Wipe and free. */
void
cbuf_free(struct cbuf *b)
{
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

int
cursor_get(struct cursor *c, void *out, size_t n)
{
	if (n > c->left)
		return CUSTODY_EINVAL;
	if (out != NULL && n > 0)
		memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

int
cursor_get_u8(struct cursor *c, uint8_t *v)
{
	return cursor_get(c, v, 1);
}

int
cursor_get_u32be(struct cursor *c, uint32_t *v)
{
	uint8_t p[4];

	if (cursor_get(c, p, 4) < 0)
		return CUSTODY_EINVAL;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
cursor_get_u64be(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (cursor_get_u32be(c, &hi) < 0 || cursor_get_u32be(c, &lo) < 0)
		return CUSTODY_EINVAL;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* An SSH wire string, pointing into the cursor's bytes. */
int
cursor_get_sshstr(struct cursor *c, const uint8_t **p, size_t *n)
{
	uint32_t len;

	if (cursor_get_u32be(c, &len) < 0 || len > c->left)
		return CUSTODY_EINVAL;
	*p = c->p;
	*n = len;
	c->p += len;
	c->left -= len;
	return 0;
}

/* Write all of buf. */
int
write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return errno == ENOSPC || errno == EDQUOT ? CUSTODY_ENOSPC : CUSTODY_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until n bytes or end of file. */
ssize_t
read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, p + got, n - got)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Write all of buf to fd at off, retrying on EINTR/short writes; 0 or CUSTODY_EIO/ENOSPC. */
int
pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = pwrite(fd, p, n, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			return errno == ENOSPC || errno == EDQUOT ? CUSTODY_ENOSPC : CUSTODY_EIO;
		}
		p += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read n bytes of fd at off; 0, or CUSTODY_EIO on an error or a file shorter than that. */
int
pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = pread(fd, p, n, (off_t)off)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return CUSTODY_EIO;
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}
