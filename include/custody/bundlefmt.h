/*
 * The bundle format (proto/PROTOCOL.md, "Bundles"): what an office carries to another on a
 * USB stick, as the plaintext inside an age file encrypted to the receiving office. A header
 * (magic, version, sender and recipient keys, time), then the feeds (each its range of commits
 * and one or more git packs), then the blobs (each its name, size and bytes, names strictly
 * ascending), then a trailer (the counts and the sender's Ed25519 signature over every byte
 * before it but the blobs' bytes, which their names, SHA-256, bind). Integers are big-endian.
 *
 * Writer: bundlefmt_writer_new writes the header through cb; then bundlefmt_write_feed for each
 * feed, each followed by its packs (bundlefmt_write_part with the pack's length, then its bytes
 * through bundlefmt_write_data); then bundlefmt_write_part for each blob (with its name) and its
 * bytes; bundlefmt_writer_finish signs and writes the trailer. A write out of order, or bytes
 * more or fewer than announced, fails (CUSTODY_EINVAL) and the writer refuses further use.
 *
 * Reader: a strict streaming parser, fed in pieces of any size. The callbacks see each part as
 * it comes; NOTHING they see is authentic until bundlefmt_reader_finish returned 0 (the trailer's
 * signature verified by the sender key of the header, and the input ended right after it). A
 * blob's part_end comes only after its bytes hashed to its name (CUSTODY_EPROTO otherwise).
 * Errors are sticky; a callback's negative return stops the parse with that code.
 */
#ifndef CUSTODY_BUNDLEFMT_H
#define CUSTODY_BUNDLEFMT_H

#include <stddef.h>
#include <stdint.h>

#define BUNDLEFMT_MAGIC		"CUSTBNDL"
#define BUNDLEFMT_MAGIC_LEN	8
#define BUNDLEFMT_VERSION	1
#define BUNDLEFMT_KEY_LEN	32	/* an office's Ed25519 public key */
#define BUNDLEFMT_SK_LEN	64	/* its secret key (libsodium's form) */
#define BUNDLEFMT_OID_LEN	20	/* a git commit id (SHA-1) */
#define BUNDLEFMT_NAME_LEN	32	/* a blob's name: SHA-256 of its stored bytes */
#define BUNDLEFMT_SIG_LEN	64
#define BUNDLEFMT_CONTEXT	"custody-bundle-v1"	/* signed before the hash */

#define BUNDLEFMT_FEEDS_MAX	100000u		/* feeds in one bundle */
#define BUNDLEFMT_PACKS_MAX	256u		/* packs of one feed */
#define BUNDLEFMT_PACK_MAX	(1ull << 30)	/* bytes of one pack */
#define BUNDLEFMT_BLOB_MAX	(1ull << 46)	/* bytes of one blob (64 TiB) */

enum bundlefmt_section {
	BUNDLEFMT_FEED = 'F',
	BUNDLEFMT_BLOB = 'B',
	BUNDLEFMT_TRAILER = 'T',
};

struct bundlefmt_header {
	uint8_t		version;
	uint8_t		sender[BUNDLEFMT_KEY_LEN];
	uint8_t		recipient[BUNDLEFMT_KEY_LEN];
	uint64_t	created;	/* seconds since 1970 */
};

/* One feed: its commits after base_seq (base_head; all zero when base_seq is 0) up to seq. */
struct bundlefmt_feed {
	uint8_t		office[BUNDLEFMT_KEY_LEN];
	uint64_t	base_seq;
	uint8_t		base_head[BUNDLEFMT_OID_LEN];
	uint64_t	seq;			/* > base_seq */
	uint8_t		head[BUNDLEFMT_OID_LEN];
	uint32_t	npacks;			/* 1..BUNDLEFMT_PACKS_MAX */
};

typedef int (*bundlefmt_out_fn)(void *arg, const void *buf, size_t len);

struct bundlefmt_writer;
int bundlefmt_writer_new(struct bundlefmt_writer **out, const struct bundlefmt_header *h,
    const uint8_t sk[static BUNDLEFMT_SK_LEN], bundlefmt_out_fn cb, void *arg);
int bundlefmt_write_feed(struct bundlefmt_writer *, const struct bundlefmt_feed *);
/* The next pack of the current feed (name NULL), or a blob (name its name): len bytes follow. */
int bundlefmt_write_part(struct bundlefmt_writer *, const uint8_t *name, uint64_t len);
int bundlefmt_write_data(struct bundlefmt_writer *, const void *buf, size_t len);
int bundlefmt_writer_finish(struct bundlefmt_writer *);
void bundlefmt_writer_free(struct bundlefmt_writer *);

struct bundlefmt_cbs {
	int	(*header)(void *arg, const struct bundlefmt_header *);
	int	(*feed)(void *arg, const struct bundlefmt_feed *);
	/* a pack of the last feed (name NULL) or a blob begins: len bytes follow */
	int	(*part)(void *arg, const uint8_t *name, uint64_t len);
	int	(*data)(void *arg, const void *buf, size_t len);
	int	(*part_end)(void *arg);
};

struct bundlefmt_reader;
int bundlefmt_reader_new(struct bundlefmt_reader **out, const struct bundlefmt_cbs *cbs,
    void *arg);
int bundlefmt_reader_feed(struct bundlefmt_reader *, const void *buf, size_t len);
int bundlefmt_reader_finish(struct bundlefmt_reader *);
/* Counts seen so far (feeds, blobs). */
void bundlefmt_reader_counts(const struct bundlefmt_reader *, uint32_t *feeds, uint32_t *blobs);
void bundlefmt_reader_free(struct bundlefmt_reader *);

#endif
