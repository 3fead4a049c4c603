/*
 * A git pack index, version 2: magic "\377tOc", version 2, a fan-out table of 256 big-endian
 * counts (objects whose first byte is at most i), the sorted ids, their CRCs, their 4-byte
 * offsets, the 8-byte offsets they refer to, the pack's and the index's own SHA-1. Only the ids
 * are read; the file is mapped read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custody/common.h"
#include "custody/packidx.h"

#define PACKIDX_HDR 8
#define PACKIDX_FAN (256 * 4)

struct packidx {
	uint8_t		*map;
	size_t		 len;
	uint32_t	 n;
	const uint8_t	*oids;
};

static uint32_t
packidx_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
packidx_open(struct packidx **out, const char *path)
{
	static const uint8_t magic[PACKIDX_HDR] = { 0xff, 't', 'O', 'c', 0, 0, 0, 2 };
	struct packidx *x;
	struct stat st;
	uint32_t prev = 0, v;
	int fd, i, error = 0;

	*out = NULL;
	if ((x = calloc(1, sizeof *x)) == NULL)
		return CUSTODY_ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		error = custody_fail(CUSTODY_EIO, "pack index %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size < PACKIDX_HDR + PACKIDX_FAN + 2 * PACKIDX_OID_LEN) {
		error = custody_fail(CUSTODY_EPROTO, "pack index %s: too short", path);
		goto fail;
	}
	x->len = (size_t)st.st_size;
	if ((x->map = mmap(NULL, x->len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		x->map = NULL;
		error = custody_fail(CUSTODY_EIO, "pack index %s: %s", path, strerror(errno));
		goto fail;
	}
	if (memcmp(x->map, magic, PACKIDX_HDR) != 0) {
		error = custody_fail(CUSTODY_EPROTO, "pack index %s: not version 2", path);
		goto fail;
	}
	for (i = 0; i < 256; i++) {
		if ((v = packidx_be32(x->map + PACKIDX_HDR + 4 * i)) < prev) {
			error = custody_fail(CUSTODY_EPROTO, "pack index %s: bad fan-out", path);
			goto fail;
		}
		prev = v;
	}
	x->n = prev;
	/* ids, CRCs and 4-byte offsets, then the two trailing hashes at least */
	if ((uint64_t)x->n * (PACKIDX_OID_LEN + 8) > x->len - PACKIDX_HDR - PACKIDX_FAN -
	    2 * PACKIDX_OID_LEN) {
		error = custody_fail(CUSTODY_EPROTO, "pack index %s: too short for %u objects",
		    path, x->n);
		goto fail;
	}
	x->oids = x->map + PACKIDX_HDR + PACKIDX_FAN;
	close(fd);
	*out = x;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	packidx_free(x);
	return error;
}

uint32_t
packidx_count(const struct packidx *x)
{
	return x->n;
}

int64_t
packidx_find(const struct packidx *x, const uint8_t oid[static PACKIDX_OID_LEN])
{
	const uint8_t *fan = x->map + PACKIDX_HDR;
	uint32_t lo = oid[0] == 0 ? 0 : packidx_be32(fan + 4 * (oid[0] - 1)),
	    hi = packidx_be32(fan + 4 * oid[0]), mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = memcmp(x->oids + (size_t)mid * PACKIDX_OID_LEN, oid, PACKIDX_OID_LEN)) ==
		    0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const uint8_t *
packidx_oid(const struct packidx *x, uint32_t pos)
{
	return x->oids + (size_t)pos * PACKIDX_OID_LEN;
}

void
packidx_free(struct packidx *x)
{
	if (x == NULL)
		return;
	if (x->map != NULL)
		munmap(x->map, x->len);
	free(x);
}
