/*
 * The blob file format's padding (custody/blobfmt.h): Padmé, the padding it asks for, and
 * taking it off again.
 */
#include <string.h>

#include "custody/blobfmt.h"
#include "custody/common.h"

_Static_assert(BLOBFMT_HEADER == BLOBFMT_MAGIC_LEN +
    crypto_secretstream_xchacha20poly1305_HEADERBYTES &&
    BLOBFMT_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES,
    "the blob format's sizes are the secretstream's");

#define BLOBFMT_SIZE_MAX ((uint64_t)1 << 62)

/* The index of the highest bit set in v (v > 0). */
static unsigned
blobfmt_log2(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

uint64_t
padme(uint64_t len)
{
	unsigned e, s;
	uint64_t mask;

	if (len < 2)
		return len;
	e = blobfmt_log2(len);
	s = e > 0 ? blobfmt_log2(e) + 1 : 1;
	mask = ((uint64_t)1 << (e - s)) - 1;
	return (len + mask) & ~mask;
}

uint64_t
blobfmt_stored(uint64_t payload)
{
	uint64_t chunks = payload == 0 ? 1 : (payload + BLOBFMT_CHUNK - 1) / BLOBFMT_CHUNK;

	return BLOBFMT_HEADER + payload + chunks * BLOBFMT_ABYTES;
}

/*
 * The payload whose stored size is exactly stored, or 0 when none is: a chunk boundary makes
 * the stored size jump by BLOBFMT_ABYTES + 1, so some sizes cannot be reached.
 */
static uint64_t
blobfmt_payload_for(uint64_t stored)
{
	uint64_t x, n, p;

	if (stored < BLOBFMT_HEADER + 1 + BLOBFMT_ABYTES)
		return 0;
	x = stored - BLOBFMT_HEADER;	/* payload + chunks * ABYTES */
	n = x / (BLOBFMT_CHUNK + BLOBFMT_ABYTES);
	for (n = n > 0 ? n - 1 : 0; n <= x / (BLOBFMT_CHUNK + BLOBFMT_ABYTES) + 1; n++) {
		if (n == 0 || n * BLOBFMT_ABYTES >= x)
			continue;
		p = x - n * BLOBFMT_ABYTES;
		if ((p + BLOBFMT_CHUNK - 1) / BLOBFMT_CHUNK == n)
			return p;
	}
	return 0;
}

uint64_t
blobfmt_payload(uint64_t size)
{
	uint64_t target, p;

	if (size > BLOBFMT_SIZE_MAX)
		return 0;
	target = padme(blobfmt_stored(size + 1));
	while ((p = blobfmt_payload_for(target)) == 0)
		target = padme(target + 1);	/* in a gap: the next Padmé length */
	return p;
}

uint64_t
blobfmt_max_stored(uint64_t size)
{
	uint64_t p = blobfmt_payload(size);

	return p == 0 ? 0 : blobfmt_stored(p);
}

void
blobfmt_unpad_init(struct blobfmt_unpad *u, int (*out)(void *, const void *, size_t),
    void *arg)
{
	u->out = out;
	u->arg = arg;
	u->mark = 0;
	u->zeros = 0;
}

/* Release what was held back: the mark and the zeros after it were evidence after all. */
static int
blobfmt_unpad_release(struct blobfmt_unpad *u)
{
	static const uint8_t zeros[4096];
	const uint8_t mark = BLOBFMT_MARK;
	size_t take;
	int error;

	if ((error = u->out(u->arg, &mark, 1)) < 0)
		return error;
	for (; u->zeros > 0; u->zeros -= take) {
		take = u->zeros < sizeof zeros ? (size_t)u->zeros : sizeof zeros;
		if ((error = u->out(u->arg, zeros, take)) < 0)
			return error;
	}
	u->mark = 0;
	return 0;
}

int
blobfmt_unpad_feed(struct blobfmt_unpad *u, const uint8_t *p, size_t n)
{
	size_t j = n;
	int error;

	while (j > 0 && p[j - 1] == 0)
		j--;
	if (j == 0) {
		if (u->mark) {
			u->zeros += n;
			return 0;
		}
		return n > 0 ? u->out(u->arg, p, n) : 0;
	}
	if (u->mark && (error = blobfmt_unpad_release(u)) < 0)
		return error;
	if (p[j - 1] != BLOBFMT_MARK)
		return u->out(u->arg, p, n);
	u->mark = 1;
	u->zeros = n - j;
	return j > 1 ? u->out(u->arg, p, j - 1) : 0;
}

int
blobfmt_unpad_finish(struct blobfmt_unpad *u)
{
	return u->mark ? 0 : CUSTODY_EINVAL;
}

/* The magic, then a new secretstream header. */
void
blobfmt_header_write(uint8_t hdr[static BLOBFMT_HEADER],
    crypto_secretstream_xchacha20poly1305_state *st, const uint8_t key[static BLOBFMT_KEY_LEN])
{
	memcpy(hdr, BLOBFMT_MAGIC, BLOBFMT_MAGIC_LEN);
	crypto_secretstream_xchacha20poly1305_init_push(st, hdr + BLOBFMT_MAGIC_LEN, key);
}

/* Which version, and the stream's pull state. */
int
blobfmt_header_read(crypto_secretstream_xchacha20poly1305_state *st, int *padded,
    const uint8_t hdr[static BLOBFMT_HEADER], const uint8_t key[static BLOBFMT_KEY_LEN])
{
	*padded = memcmp(hdr, BLOBFMT_MAGIC, BLOBFMT_MAGIC_LEN) == 0;
	if (!*padded && memcmp(hdr, BLOBFMT_MAGIC_V1, BLOBFMT_MAGIC_LEN) != 0)
		return CUSTODY_EINVAL;
	if (crypto_secretstream_xchacha20poly1305_init_pull(st, hdr + BLOBFMT_MAGIC_LEN, key) != 0)
		return CUSTODY_ECRYPTO;
	return 0;
}
