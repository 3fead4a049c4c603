/*
 * A git pack writer for incompressible objects: every object is a zlib stream of stored deflate
 * blocks (RFC 1950/1951), and the index (version 2) is written from 32 bytes kept per object,
 * sorted by id (custody/runsort.h: in memory, or in runs in a scratch file). The header's
 * object count is known only at the end: it is written then, and the pack's trailer hashes
 * the file read back (from the page cache).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "custody/packwrite.h"
#include "custody/runsort.h"

#define PACKWRITE_BUF (256u * 1024)	/* bytes buffered before a write */
#define PACKWRITE_STORED 65535u		/* the largest stored deflate block */
#define PACKWRITE_HDR_LEN 12
#define PACKWRITE_MAX_OBJECTS UINT32_MAX
#define PACKWRITE_RUN 65536		/* entries in memory with a scratch file (2 MiB) */

struct packwrite_ent {
	uint8_t		oid[PACKWRITE_OID_LEN];
	uint32_t	crc;
	uint64_t	off;
};

struct packwrite {
	int			 fd;
	uint64_t		 off;		/* bytes of the pack so far, buffered included */
	uint8_t			*buf;
	size_t			 used;
	struct runsort		*ent;		/* struct packwrite_ent, by id */
	size_t			 n;
	uint32_t		 fan[256];	/* objects by the first byte of their id */
	EVP_MD_CTX		*md;
	int			 failed;
};

static int
packwrite_sys(const char *what)
{
	return custody_fail(errno == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO, "pack: %s: %s",
	    what, strerror(errno));
}

/* Write n bytes at the file's position. */
static int
packwrite_raw(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) < 0) {
			if (errno == EINTR)
				continue;
			return packwrite_sys("write");
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
packwrite_flush(struct packwrite *pw)
{
	int error = packwrite_raw(pw->fd, pw->buf, pw->used);

	pw->used = 0;
	return error;
}

/* Append bytes to the pack, folding them into the entry's CRC. */
static int
packwrite_put(struct packwrite *pw, const void *p, size_t n, uint32_t *crc)
{
	const uint8_t *b = p;
	size_t k;
	int error;

	*crc = (uint32_t)crc32(*crc, b, (uInt)n);
	pw->off += n;
	while (n > 0) {
		if (pw->used == PACKWRITE_BUF && (error = packwrite_flush(pw)) < 0)
			return error;
		k = PACKWRITE_BUF - pw->used < n ? PACKWRITE_BUF - pw->used : n;
		memcpy(pw->buf + pw->used, b, k);
		pw->used += k;
		b += k;
		n -= k;
	}
	return 0;
}

static void
packwrite_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int
packwrite_ent_cmp(const void *x, const void *y)
{
	return memcmp(((const struct packwrite_ent *)x)->oid,
	    ((const struct packwrite_ent *)y)->oid, PACKWRITE_OID_LEN);
}

/* Start a pack on fd, an empty file open for reading and writing. */
int
packwrite_new(struct packwrite **out, int fd)
{
	static const uint8_t hdr[PACKWRITE_HDR_LEN] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	struct packwrite *pw;
	uint32_t crc = 0;

	*out = NULL;
	if ((pw = calloc(1, sizeof *pw)) == NULL || (pw->buf = malloc(PACKWRITE_BUF)) == NULL ||
	    (pw->md = EVP_MD_CTX_new()) == NULL || runsort_new(&pw->ent,
	    sizeof(struct packwrite_ent), PACKWRITE_RUN, packwrite_ent_cmp, -1) < 0) {
		packwrite_free(pw);
		return CUSTODY_ENOMEM;
	}
	pw->fd = fd;
	packwrite_put(pw, hdr, sizeof hdr, &crc);	/* the count goes in at the end */
	*out = pw;
	return 0;
}

/*
 * Keep the entries of the index beyond PACKWRITE_RUN objects sorted in runs in fd, an empty
 * file open for reading and writing (taken, closed by packwrite_free), instead of memory;
 * before the first object.
 */
int
packwrite_scratch(struct packwrite *pw, int fd)
{
	struct runsort *rs;
	int error;

	if (pw->n > 0) {
		close(fd);
		return custody_fail(CUSTODY_EINVAL, "pack: a scratch file after the first object");
	}
	if ((error = runsort_new(&rs, sizeof(struct packwrite_ent), PACKWRITE_RUN,
	    packwrite_ent_cmp, fd)) < 0) {
		close(fd);
		return error;
	}
	runsort_free(pw->ent);
	pw->ent = rs;
	return 0;
}

/* The git object id of data as an object of type. */
static int
packwrite_oid(struct packwrite *pw, enum packwrite_type type, const void *data, size_t len,
    uint8_t oid[static PACKWRITE_OID_LEN])
{
	static const char *const names[] = { "", "commit ", "tree ", "blob " };
	char hdr[32], digits[24];
	size_t n = strlen(names[type]), k = 0, v = len;

	/* "TYPE SIZE" and a NUL, without printf: a header for every object */
	memcpy(hdr, names[type], n);
	do
		digits[k++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (k > 0)
		hdr[n++] = digits[--k];
	hdr[n] = '\0';
	if (EVP_DigestInit_ex(pw->md, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(pw->md, hdr, n + 1) != 1 ||
	    EVP_DigestUpdate(pw->md, data, len) != 1 ||
	    EVP_DigestFinal_ex(pw->md, oid, NULL) != 1)
		return custody_fail(CUSTODY_EIO, "pack: SHA-1 failed");
	return 0;
}

/* Append one object; its id is put in oid. */
int
packwrite_add(struct packwrite *pw, enum packwrite_type type, const void *data, size_t len,
    uint8_t oid[static PACKWRITE_OID_LEN])
{
	const uint8_t *p = data;
	uint8_t h[16], blk[5];
	struct packwrite_ent ent, *e = &ent;
	uint32_t crc = 0, adler;
	size_t n = 0, k, left;
	uint64_t sz = len;
	int error;

	if (pw->failed)
		return custody_fail(CUSTODY_EIO, "pack: an earlier write failed");
	if (type != PACKWRITE_COMMIT && type != PACKWRITE_TREE && type != PACKWRITE_BLOB)
		return custody_fail(CUSTODY_EINVAL, "pack: unknown object type %d", (int)type);
	if (pw->n == PACKWRITE_MAX_OBJECTS)
		return custody_fail(CUSTODY_ETOOBIG, "pack: too many objects");
	if ((error = packwrite_oid(pw, type, data, len, oid)) < 0)
		return error;
	memset(e, 0, sizeof *e);
	memcpy(e->oid, oid, PACKWRITE_OID_LEN);
	e->off = pw->off;
	/* entry header: type and size, 4 bits then 7 bits a byte */
	h[n++] = (uint8_t)((type << 4) | (sz & 15));
	for (sz >>= 4; sz > 0; sz >>= 7) {
		h[n - 1] |= 0x80;
		h[n++] = (uint8_t)(sz & 0x7f);
	}
	h[n++] = 0x78;		/* zlib: deflate, 32 KiB window */
	h[n++] = 0x01;		/* no dictionary, fastest; (0x7801 % 31) == 0 */
	if ((error = packwrite_put(pw, h, n, &crc)) < 0)
		goto fail;
	left = len;
	do {
		k = left < PACKWRITE_STORED ? left : PACKWRITE_STORED;
		blk[0] = k == left ? 1 : 0;	/* BFINAL, BTYPE 00 (stored) */
		blk[1] = (uint8_t)k;
		blk[2] = (uint8_t)(k >> 8);
		blk[3] = (uint8_t)~k;
		blk[4] = (uint8_t)(~k >> 8);
		if ((error = packwrite_put(pw, blk, sizeof blk, &crc)) < 0 ||
		    (error = packwrite_put(pw, p, k, &crc)) < 0)
			goto fail;
		p += k;
		left -= k;
	} while (left > 0);
	adler = (uint32_t)adler32(adler32(0, NULL, 0), data, (uInt)len);
	packwrite_be32(blk, adler);
	if ((error = packwrite_put(pw, blk, 4, &crc)) < 0)
		goto fail;
	e->crc = crc;
	if ((error = runsort_add(pw->ent, e)) < 0)
		goto fail;
	pw->fan[e->oid[0]]++;
	pw->n++;
	return 0;
fail:
	pw->failed = 1;
	return error;
}

/* Objects added so far. */
uint32_t
packwrite_count(const struct packwrite *pw)
{
	return (uint32_t)pw->n;
}

/* Write the count, then the trailer: SHA-1 of the whole pack read back. */
static int
packwrite_trailer(struct packwrite *pw, uint8_t sum[static PACKWRITE_OID_LEN])
{
	uint8_t cnt[4];
	uint64_t pos = 0;
	ssize_t got;
	int error;

	if ((error = packwrite_flush(pw)) < 0)
		return error;
	packwrite_be32(cnt, (uint32_t)pw->n);
	if (pwrite(pw->fd, cnt, sizeof cnt, 8) != (ssize_t)sizeof cnt)
		return packwrite_sys("writing the count");
	if (EVP_DigestInit_ex(pw->md, EVP_sha1(), NULL) != 1)
		return custody_fail(CUSTODY_EIO, "pack: SHA-1 failed");
	while (pos < pw->off) {
		got = pread(pw->fd, pw->buf, PACKWRITE_BUF, (off_t)pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? packwrite_sys("reading back") :
			    custody_fail(CUSTODY_EIO, "pack: the file shrank");
		EVP_DigestUpdate(pw->md, pw->buf, (size_t)got);
		pos += (uint64_t)got;
	}
	if (EVP_DigestFinal_ex(pw->md, sum, NULL) != 1)
		return custody_fail(CUSTODY_EIO, "pack: SHA-1 failed");
	if (lseek(pw->fd, (off_t)pw->off, SEEK_SET) < 0)
		return packwrite_sys("seek");
	return packwrite_raw(pw->fd, sum, PACKWRITE_OID_LEN);
}

/* Buffer bytes of the index, writing out what the buffer holds when they do not fit. */
static int
packwrite_idx_buf(struct packwrite *pw, int fd, const void *p, size_t n)
{
	int error;

	if (pw->used + n > PACKWRITE_BUF) {
		if ((error = packwrite_raw(fd, pw->buf, pw->used)) < 0)
			return error;
		pw->used = 0;
	}
	memcpy(pw->buf + pw->used, p, n);
	pw->used += n;
	return 0;
}

/* Buffer bytes of the index, hashing them. */
static int
packwrite_idx_put(struct packwrite *pw, int fd, const void *p, size_t n)
{
	EVP_DigestUpdate(pw->md, p, n);
	return packwrite_idx_buf(pw, fd, p, n);
}

/* The next entry of the index in id order into e: 0, or an error (fewer than counted). */
static int
packwrite_next(struct packwrite *pw, struct packwrite_ent *e)
{
	const void *p;
	int error;

	if ((error = runsort_next(pw->ent, &p)) == 0)
		memcpy(e, p, sizeof *e);
	return error == 1 ? custody_fail(CUSTODY_EIO, "pack: index entries lost") : error;
}

/*
 * The index, version 2: fan-out, ids, CRCs, offsets (large ones apart), both checksums; the
 * sorted entries are read once for each table. An object added twice is refused.
 */
static int
packwrite_index(struct packwrite *pw, int fd, const uint8_t sum[static PACKWRITE_OID_LEN])
{
	static const uint8_t hdr[8] = { 0xff, 't', 'O', 'c', 0, 0, 0, 2 };
	uint8_t b[8], idxsum[PACKWRITE_OID_LEN], prev[PACKWRITE_OID_LEN];
	struct packwrite_ent e;
	uint32_t fan = 0, large = 0;
	size_t i, pass;
	int error = 0, k;

	pw->used = 0;
	if (EVP_DigestInit_ex(pw->md, EVP_sha1(), NULL) != 1)
		return custody_fail(CUSTODY_EIO, "pack: SHA-1 failed");
	error = packwrite_idx_put(pw, fd, hdr, sizeof hdr);
	for (k = 0; k < 256 && error == 0; k++) {
		fan += pw->fan[k];
		packwrite_be32(b, fan);
		error = packwrite_idx_put(pw, fd, b, 4);
	}
	/* ids, CRCs, 31-bit offsets, then the large offsets */
	for (pass = 0; pass < 4 && error == 0; pass++) {
		if (pass == 3 && large == 0)
			break;
		if ((error = runsort_rewind(pw->ent)) < 0)
			return error;
		for (i = 0; i < pw->n && error == 0; i++) {
			if ((error = packwrite_next(pw, &e)) < 0)
				break;
			if (pass == 0) {
				if (i > 0 && memcmp(prev, e.oid, PACKWRITE_OID_LEN) == 0)
					return custody_fail(CUSTODY_EINVAL,
					    "pack: an object was added twice");
				memcpy(prev, e.oid, PACKWRITE_OID_LEN);
				error = packwrite_idx_put(pw, fd, e.oid, PACKWRITE_OID_LEN);
			} else if (pass == 1) {
				packwrite_be32(b, e.crc);
				error = packwrite_idx_put(pw, fd, b, 4);
			} else if (pass == 2) {
				packwrite_be32(b, e.off < 0x80000000u ? (uint32_t)e.off :
				    0x80000000u | large++);
				error = packwrite_idx_put(pw, fd, b, 4);
			} else if (e.off >= 0x80000000u) {
				packwrite_be32(b, (uint32_t)(e.off >> 32));
				packwrite_be32(b + 4, (uint32_t)e.off);
				error = packwrite_idx_put(pw, fd, b, 8);
			}
		}
	}
	if (error == 0)
		error = packwrite_idx_put(pw, fd, sum, PACKWRITE_OID_LEN);
	if (error < 0)
		return error;
	if (EVP_DigestFinal_ex(pw->md, idxsum, NULL) != 1)
		return custody_fail(CUSTODY_EIO, "pack: SHA-1 failed");
	if ((error = packwrite_idx_buf(pw, fd, idxsum, sizeof idxsum)) == 0)
		error = packwrite_raw(fd, pw->buf, pw->used);
	pw->used = 0;
	return error;
}

/* Complete the pack (its checksum in sum, which names it) and write its index to idx_fd. */
int
packwrite_finish(struct packwrite *pw, int idx_fd, uint8_t sum[static PACKWRITE_OID_LEN])
{
	int error;

	if (pw->failed)
		return custody_fail(CUSTODY_EIO, "pack: an earlier write failed");
	pw->failed = 1;		/* finished: nothing more may be added */
	if ((error = packwrite_trailer(pw, sum)) < 0 || (error = runsort_sort(pw->ent)) < 0)
		return error;
	return packwrite_index(pw, idx_fd, sum);
}

void
packwrite_free(struct packwrite *pw)
{
	if (pw == NULL)
		return;
	EVP_MD_CTX_free(pw->md);
	free(pw->buf);
	runsort_free(pw->ent);
	free(pw);
}

/* Append "MODE NAME\0OID" to a tree body. */
int
packwrite_tree_entry(struct cbuf *b, const char *mode, const char *name,
    const uint8_t oid[static PACKWRITE_OID_LEN])
{
	int error;

	if ((error = cbuf_printf(b, "%s %s", mode, name)) < 0 ||
	    (error = cbuf_put(b, "", 1)) < 0)
		return error;
	return cbuf_put(b, oid, PACKWRITE_OID_LEN);
}
