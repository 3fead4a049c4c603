/*
 * Reading a blob from the RADOS store (blobstore-rados.c): from any offset, the bytes of its
 * object or of its parts in turn, at most RADOS_WRITE bytes a read, straight into the caller's
 * buffer. No reads ahead: on one node they were no faster (the OSD is the bottleneck), and
 * librados' buffers for reads in flight grew the heap fivefold (glibc's mmap threshold).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobstore-rados-int.h"

struct blobstore_rados_reader {
	struct blobstore_reader	 base;
	char			 name[SHA256_HEX_LEN + 1];
	struct blobstore_rados_layout l;
	uint64_t		 pos;		/* the next byte handed out */
};

/* The object and offset holding the blob's byte at pos, and how much of it from there. */
static uint64_t
blobstore_rados_where(const struct blobstore_rados_reader *rd, uint64_t pos,
    char oid[static RADOS_OID_MAX], uint64_t *off)
{
	uint64_t want = rd->l.size - pos;

	*off = pos;
	if (rd->l.parted) {
		blobstore_rados_part_oid(oid, rd->l.id, (uint32_t)(pos / rd->l.partsize));
		*off = pos % rd->l.partsize;
		if (want > rd->l.partsize - *off)
			want = rd->l.partsize - *off;
	} else
		snprintf(oid, RADOS_OID_MAX, "%s", rd->name);
	return want < RADOS_WRITE ? want : RADOS_WRITE;
}

/* What a read of want bytes of oid that returned r means. */
static int
blobstore_rados_got(struct blobstore_rados_reader *rd, const char *oid, uint64_t off,
    uint64_t want, int r)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)rd->base.store;
	char what[RADOS_OID_MAX + 96];

	if (r < 0) {
		snprintf(what, sizeof what, "blob %s (%s)", rd->name, oid);
		return blobstore_rados_fail(s, r, what);
	}
	if ((uint64_t)r != want)
		return custody_fail(CUSTODY_EINVAL, "ceph: pool %s: blob %s: %s is short "
		    "(truncated at %llu bytes)", s->pool, rd->name, oid,
		    (unsigned long long)(off + (uint64_t)r));
	return 0;
}

int
blobstore_rados_read_open(struct blobstore *b, const char *name, uint64_t offset,
    struct blobstore_reader **out, uint64_t *size)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)b;
	struct blobstore_rados_reader *rd;
	int error;

	if ((rd = calloc(1, sizeof *rd)) == NULL)
		return CUSTODY_ENOMEM;
	rd->base.store = b;
	memcpy(rd->name, name, sizeof rd->name);
	if ((error = blobstore_rados_layout_get(s, name, &rd->l)) < 0) {
		if (error == CUSTODY_ENOTFOUND)
			error = custody_fail(CUSTODY_ENOTFOUND, "blob %s: missing", name);
		free(rd);
		return error;
	}
	if (offset > rd->l.size) {
		free(rd);
		return custody_fail(CUSTODY_EINVAL, "blob %s: offset past the end", name);
	}
	rd->pos = offset;
	*size = rd->l.size;
	*out = &rd->base;
	return 0;
}

int
blobstore_rados_read(struct blobstore_reader *b, void *p, size_t n, size_t *got)
{
	struct blobstore_rados_reader *rd = (struct blobstore_rados_reader *)b;
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)rd->base.store;
	char oid[RADOS_OID_MAX];
	uint64_t off, want;
	int error;

	if (rd->pos == rd->l.size)
		return 0;
	want = blobstore_rados_where(rd, rd->pos, oid, &off);
	if (want > n)
		want = n;
	if ((error = blobstore_rados_got(rd, oid, off, want, rados_read(s->io, oid, p,
	    (size_t)want, off))) < 0)
		return error;
	rd->pos += want;
	*got = (size_t)want;
	return 0;
}

void
blobstore_rados_read_close(struct blobstore_reader *b)
{
	free(b);
}
