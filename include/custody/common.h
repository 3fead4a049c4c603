/* Types, error codes and small helpers shared by daemon, client and proto/. */
#ifndef CUSTODY_COMMON_H
#define CUSTODY_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CUSTODY_VERSION "0.1.0"

/* Functions return 0 or one of these negative codes; custody_error() says why. */
enum {
	CUSTODY_ERR = -1,	/* generic failure */
	CUSTODY_ENOMEM = -2,
	CUSTODY_EIO = -3,	/* read/write/fsync failed */
	CUSTODY_EINVAL = -4,	/* malformed input */
	CUSTODY_ECRYPTO = -5,	/* authentication or signature check failed */
	CUSTODY_ENOTFOUND = -6,
	CUSTODY_EEXIST = -7,
	CUSTODY_EPROTO = -8,	/* protocol violation */
	CUSTODY_EPERM = -9,	/* not allowed */
	CUSTODY_ENOSPC = -10,	/* disk full */
	CUSTODY_ETOOBIG = -11,	/* over a size limit */
};

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

/* Set the calling thread's error message; returns code, for "return custody_fail(...)". */
int custody_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The calling thread's last error message ("" when none). Valid until the next fail. */
const char *custody_error(void);
/* Clear the calling thread's error message. */
void custody_error_clear(void);
/* A short name for an error code. */
const char *custody_strerror(int code);

/* Lower-case hex of len bytes into out (2*len+1 bytes, NUL-terminated). */
void hex_encode(char *out, const uint8_t *in, size_t len);
/* Decode exactly len bytes from hex (2*len chars, either case); 0 or CUSTODY_EINVAL. */
int hex_decode(uint8_t *out, size_t len, const char *hex);
/* True when s is exactly n lower-case hex digits. */
int hex_is_lower(const char *s, size_t n);

/* A growable byte buffer. Zero-initialise; cbuf_free releases (and wipes when secret). */
struct cbuf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
};
int cbuf_reserve(struct cbuf *b, size_t extra);
/*
 * realloc for memory that may hold secrets or plaintext: a new block of newsize bytes takes
 * the first min(oldsize, newsize) bytes of *p, the old block (oldsize bytes) is wiped, then
 * freed, so no copy is left in freed memory. *p may be NULL; on failure it is left as it was.
 */
int bytes_grow(void **p, size_t oldsize, size_t newsize);
int cbuf_put(struct cbuf *b, const void *p, size_t n);
int cbuf_puts(struct cbuf *b, const char *s);
int cbuf_printf(struct cbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cbuf_put_u8(struct cbuf *b, uint8_t v);
int cbuf_put_u32be(struct cbuf *b, uint32_t v);
int cbuf_put_u64be(struct cbuf *b, uint64_t v);
/* SSH wire "string": u32 big-endian length, then the bytes. */
int cbuf_put_sshstr(struct cbuf *b, const void *p, size_t n);
/* Take ownership of the bytes as a NUL-terminated string; the buffer is left empty. */
char *cbuf_detach(struct cbuf *b);
void cbuf_free(struct cbuf *b);

/* A read cursor over bytes someone else made: every get checks bounds. */
struct cursor {
	const uint8_t	*p;
	size_t		 left;
};
int cursor_get(struct cursor *c, void *out, size_t n);
int cursor_get_u8(struct cursor *c, uint8_t *v);
int cursor_get_u32be(struct cursor *c, uint32_t *v);
int cursor_get_u64be(struct cursor *c, uint64_t *v);
/* SSH "string": points into the cursor's bytes, no copy. */
int cursor_get_sshstr(struct cursor *c, const uint8_t **p, size_t *n);

/* Write all of buf to fd, retrying on EINTR/short writes; 0 or CUSTODY_EIO/ENOSPC. */
int write_all(int fd, const void *buf, size_t n);
/* Read up to n bytes, retrying on EINTR until n or EOF; returns bytes read or -1. */
ssize_t read_full(int fd, void *buf, size_t n);

#endif
