/*
 * The blob file format (proto/PROTOCOL.md, "The blob file format"): its header, its sizes, and
 * Padmé. The blob store (daemon/blob*.c) writes and reads headers only through these functions.
 *
 * A stored blob is "CUSTBLB2", a 24-byte secretstream header, then the stream's chunks: each
 * BLOBFMT_CHUNK plaintext bytes + BLOBFMT_ABYTES, the last (1 to BLOBFMT_CHUNK bytes) tagged
 * FINAL. The plaintext is the evidence, one 0x80 byte, then zeros: as many as make the stored
 * size a Padmé length, so that a blob's size does not confirm a known file. Blobs written
 * before padding ("CUSTBLB1") carry the evidence alone (the last chunk possibly empty).
 */
#ifndef CUSTODY_BLOBFMT_H
#define CUSTODY_BLOBFMT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define BLOBFMT_MAGIC		"CUSTBLB2"	/* padded */
#define BLOBFMT_MAGIC_V1	"CUSTBLB1"	/* unpadded, read only */
#define BLOBFMT_MAGIC_LEN	8
#define BLOBFMT_HEADER		(BLOBFMT_MAGIC_LEN + 24)	/* magic + secretstream header */
#define BLOBFMT_CHUNK		65536		/* plaintext bytes per chunk */
#define BLOBFMT_ABYTES		17		/* secretstream bytes added per chunk */
#define BLOBFMT_MARK		0x80		/* ends the evidence; zeros follow */
#define BLOBFMT_KEY_LEN		crypto_secretstream_xchacha20poly1305_KEYBYTES

/* Start a padded blob under key: hdr gets its header, st the stream's push state. */
void blobfmt_header_write(uint8_t hdr[static BLOBFMT_HEADER],
    crypto_secretstream_xchacha20poly1305_state *st, const uint8_t key[static BLOBFMT_KEY_LEN]);
/*
 * Read a blob's header under key: 0 with st the pull state and *padded 1 ("CUSTBLB2") or 0
 * ("CUSTBLB1"); CUSTODY_EINVAL when the magic is neither, CUSTODY_ECRYPTO when the stream header
 * is refused. Callers say which blob in their message; custody_error() is left alone.
 */
int blobfmt_header_read(crypto_secretstream_xchacha20poly1305_state *st, int *padded,
    const uint8_t hdr[static BLOBFMT_HEADER], const uint8_t key[static BLOBFMT_KEY_LEN]);

/*
 * Padmé (Nikitin et al., PETS 2019): len rounded up so that only its top bits vary, about
 * log2(log2(len)) + 1 of them. At most 11.7% larger, 6.25% from 256 bytes on; 0 and 1 stay.
 */
uint64_t padme(uint64_t len);
/* The stored size of a blob whose stream carries payload plaintext bytes. */
uint64_t blobfmt_stored(uint64_t payload);
/*
 * The plaintext a padded blob of size bytes of evidence carries: size + 1 (the mark) + zeros,
 * chosen so that blobfmt_stored of it is the smallest Padmé length the chunking can reach (at
 * most 12% above the unpadded blob). 0 when size is too large to pad (beyond 2^62).
 */
uint64_t blobfmt_payload(uint64_t size);
/*
 * The largest a stored blob of size bytes of evidence may be, in any version of the format:
 * the bound on a blob a peer sends for an evidence record of that size. 0 beyond 2^62.
 */
uint64_t blobfmt_max_stored(uint64_t size);

/*
 * Taking the padding off a padded blob's plaintext, fed in pieces as the chunks decrypt: out
 * gets the evidence, in order. The last 0x80 followed only by zeros may be the mark, so it and
 * the zeros after it are held back (as a count, in no memory) until a non-zero byte shows they
 * were evidence, or the end shows they were the padding.
 */
struct blobfmt_unpad {
	int		(*out)(void *arg, const void *p, size_t n);
	void		*arg;
	int		 mark;		/* a 0x80 byte held back */
	uint64_t	 zeros;		/* zero bytes held back after it */
};
void blobfmt_unpad_init(struct blobfmt_unpad *, int (*out)(void *, const void *, size_t),
    void *arg);
/* 0, or what out returned (negative). */
int blobfmt_unpad_feed(struct blobfmt_unpad *, const uint8_t *p, size_t n);
/* At the end of the plaintext: 0, or CUSTODY_EINVAL when there was no mark. */
int blobfmt_unpad_finish(struct blobfmt_unpad *);

#endif
