/* The strict streaming check of a git pack before libgit2's indexer sees it. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "custody/common.h"
#include "custody/pack-check.h"

#define PACK_HDR_LEN 12
#define PACK_TRAILER_LEN 20		/* SHA-1 of everything before it */
#define PACK_OID_LEN 20
#define PACK_DELTA_HDR 20		/* two size varints of at most 10 bytes each */
#define PACK_OUT 16384			/* inflate buffer: what is inflated is thrown away */

enum pack_state {
	PACK_HEADER,		/* "PACK", version, count */
	PACK_ENTRY,		/* type and size varint */
	PACK_OFS,		/* OFS_DELTA: the base's distance back */
	PACK_REF,		/* REF_DELTA: the base's id */
	PACK_DATA,		/* the zlib stream */
	PACK_TRAILER,
	PACK_DONE,
};

struct pack_check {
	struct pack_limits	 lim;
	enum pack_state		 state;
	uint64_t		 pos;		/* bytes of the pack fed so far */
	uint64_t		 expanded;
	uint32_t		 count, seen;
	uint8_t			 hdr[PACK_HDR_LEN];
	size_t			 hdr_len;
	/* the entry being read */
	uint64_t		 entry_pos, size, ofs, out;
	int			 type, shift, varlen;
	uint8_t			 dh[PACK_DELTA_HDR];	/* a delta's first inflated bytes */
	size_t			 dh_len;
	int			 dh_done;
	z_stream		 z;
	int			 z_ready;
	uint8_t			 buf[PACK_OUT];
};

int
pack_check_new(struct pack_check **out, const struct pack_limits *lim)
{
	struct pack_check *c;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return CUSTODY_ENOMEM;
	c->lim = *lim;
	if (inflateInit(&c->z) != Z_OK) {
		free(c);
		return CUSTODY_ENOMEM;
	}
	c->z_ready = 1;
	*out = c;
	return 0;
}

uint32_t
pack_check_objects(const struct pack_check *c)
{
	return c->state == PACK_HEADER ? 0 : c->count;
}

/* A size varint (7 bits a byte, least significant first) at the start of p; 0 if incomplete. */
static int
pack_check_varint(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
	size_t i;
	int shift = 0;

	*v = 0;
	for (i = 0; i < len && i < 10; i++) {
		if (shift == 63 && (p[i] & 0x7e) != 0)
			return CUSTODY_EPROTO;
		*v |= (uint64_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if ((p[i] & 0x80) == 0) {
			*used = i + 1;
			return 1;
		}
	}
	return i == 10 ? CUSTODY_EPROTO : 0;
}

/* A delta's header: the base size and the result size, each at most the object limit. */
static int
pack_check_delta_header(struct pack_check *c, int ended)
{
	uint64_t base, result;
	size_t u1 = 0, u2 = 0;
	int r;

	if ((r = pack_check_varint(c->dh, c->dh_len, &base, &u1)) < 0 || (r == 1 &&
	    (r = pack_check_varint(c->dh + u1, c->dh_len - u1, &result, &u2)) < 0))
		return custody_fail(CUSTODY_EPROTO, "pack entry %u: a delta with a bad header",
		    c->seen);
	if (r == 0) {
		if (ended || c->dh_len == sizeof c->dh)
			return custody_fail(CUSTODY_EPROTO, "pack entry %u: a delta with no header",
			    c->seen);
		return 0;
	}
	if (base > c->lim.object || result > c->lim.object)
		return custody_fail(CUSTODY_ETOOBIG, "pack entry %u: a delta from %llu to %llu "
		    "bytes (at most %llu)", c->seen, (unsigned long long)base,
		    (unsigned long long)result, (unsigned long long)c->lim.object);
	if (result > c->lim.expanded - c->expanded)
		return custody_fail(CUSTODY_ETOOBIG, "the pack expands to more than %llu bytes",
		    (unsigned long long)c->lim.expanded);
	c->expanded += result;
	c->dh_done = 1;
	return 0;
}

/* The header: magic, version, a count within the limit. */
static int
pack_check_header(struct pack_check *c)
{
	const uint8_t *h = c->hdr;
	uint32_t version;

	version = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	c->count = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
	if (memcmp(h, "PACK", 4) != 0 || (version != 2 && version != 3))
		return custody_fail(CUSTODY_EPROTO, "not a git pack (bad header)");
	if (c->count > c->lim.objects)
		return custody_fail(CUSTODY_ETOOBIG, "the pack claims %u objects (at most %u)",
		    c->count, c->lim.objects);
	c->state = c->count > 0 ? PACK_ENTRY : PACK_TRAILER;
	return 0;
}

/* One byte of an entry's type-and-size header. */
static int
pack_check_entry_byte(struct pack_check *c, uint8_t b)
{
	if (c->varlen == 0) {
		c->entry_pos = c->pos;
		c->type = (b >> 4) & 7;
		c->size = b & 15;
		c->shift = 4;
		c->out = 0;
		c->ofs = 0;
		c->dh_len = 0;
		c->dh_done = 0;
		if (c->type == 0 || c->type == 5)
			return custody_fail(CUSTODY_EPROTO, "pack entry %u: unknown type %d",
			    c->seen, c->type);
	} else {
		if (c->shift > 57)
			return custody_fail(CUSTODY_EPROTO, "pack entry %u: size overflows",
			    c->seen);
		c->size |= (uint64_t)(b & 0x7f) << c->shift;
		c->shift += 7;
	}
	c->varlen++;
	if (b & 0x80)
		return 0;
	c->varlen = 0;
	if (c->size > c->lim.object)
		return custody_fail(CUSTODY_ETOOBIG, "pack entry %u: %llu bytes (at most %llu)",
		    c->seen, (unsigned long long)c->size, (unsigned long long)c->lim.object);
	if (c->size > c->lim.expanded - c->expanded)
		return custody_fail(CUSTODY_ETOOBIG, "the pack expands to more than %llu bytes",
		    (unsigned long long)c->lim.expanded);
	c->expanded += c->size;
	c->state = c->type == 6 ? PACK_OFS : c->type == 7 ? PACK_REF : PACK_DATA;
	return 0;
}

/* One byte of an OFS_DELTA's distance back to its base, which must lie inside the pack. */
static int
pack_check_ofs_byte(struct pack_check *c, uint8_t b)
{
	if (c->varlen > 0) {
		if (c->ofs > (UINT64_MAX >> 8))
			return custody_fail(CUSTODY_EPROTO, "pack entry %u: base offset overflows",
			    c->seen);
		c->ofs = ((c->ofs + 1) << 7) | (b & 0x7f);
	} else
		c->ofs = b & 0x7f;
	c->varlen++;
	if (b & 0x80)
		return 0;
	c->varlen = 0;
	if (c->ofs == 0 || c->ofs > c->entry_pos - PACK_HDR_LEN)
		return custody_fail(CUSTODY_EPROTO, "pack entry %u: its base lies outside the pack",
		    c->seen);
	c->state = PACK_DATA;
	return 0;
}

/* Inflate what there is of the entry's data; *used says how much of p it took. */
static int
pack_check_data(struct pack_check *c, const uint8_t *p, size_t len, size_t *used)
{
	size_t made, take;
	int r, error;

	c->z.next_in = (Bytef *)p;
	c->z.avail_in = (uInt)len;
	for (;;) {
		c->z.next_out = c->buf;
		c->z.avail_out = sizeof c->buf;
		r = inflate(&c->z, Z_NO_FLUSH);
		made = sizeof c->buf - c->z.avail_out;
		if (made > c->size - c->out)
			return custody_fail(CUSTODY_EPROTO, "pack entry %u inflates past the %llu "
			    "bytes it declares", c->seen, (unsigned long long)c->size);
		c->out += made;
		if ((c->type == 6 || c->type == 7) && !c->dh_done && made > 0) {
			take = sizeof c->dh - c->dh_len < made ? sizeof c->dh - c->dh_len : made;
			memcpy(c->dh + c->dh_len, c->buf, take);
			c->dh_len += take;
			if ((error = pack_check_delta_header(c, 0)) < 0)
				return error;
		}
		if (r == Z_STREAM_END)
			break;
		if (r == Z_BUF_ERROR || (r == Z_OK && c->z.avail_in == 0 && c->z.avail_out > 0)) {
			*used = len - c->z.avail_in;
			return 0;	/* more input needed */
		}
		if (r != Z_OK)
			return custody_fail(CUSTODY_EPROTO, "pack entry %u: corrupt data", c->seen);
	}
	*used = len - c->z.avail_in;
	if (c->out != c->size)
		return custody_fail(CUSTODY_EPROTO, "pack entry %u inflates to %llu bytes, not the "
		    "%llu it declares", c->seen, (unsigned long long)c->out,
		    (unsigned long long)c->size);
	if ((c->type == 6 || c->type == 7) && !c->dh_done &&
	    (error = pack_check_delta_header(c, 1)) < 0)
		return error;
	if (inflateReset(&c->z) != Z_OK)
		return CUSTODY_ENOMEM;
	c->seen++;
	c->state = c->seen == c->count ? PACK_TRAILER : PACK_ENTRY;
	return 0;
}

/* Check the next piece of the pack. */
int
pack_check_feed(struct pack_check *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used, take;
	int error = 0;

	if (len > c->lim.bytes - c->pos)
		return custody_fail(CUSTODY_ETOOBIG, "the pack is larger than %llu bytes",
		    (unsigned long long)c->lim.bytes);
	while (len > 0 && error == 0) {
		used = 1;
		switch (c->state) {
		case PACK_HEADER:
			take = sizeof c->hdr - c->hdr_len < len ? sizeof c->hdr - c->hdr_len : len;
			memcpy(c->hdr + c->hdr_len, p, take);
			c->hdr_len += take;
			used = take;
			if (c->hdr_len == sizeof c->hdr)
				error = pack_check_header(c);
			break;
		case PACK_ENTRY:
			error = pack_check_entry_byte(c, *p);
			break;
		case PACK_OFS:
			error = pack_check_ofs_byte(c, *p);
			break;
		case PACK_REF:
			used = (size_t)(PACK_OID_LEN - c->varlen) < len ?
			    (size_t)(PACK_OID_LEN - c->varlen) : len;
			c->varlen += (int)used;
			if (c->varlen == PACK_OID_LEN) {
				c->varlen = 0;
				c->state = PACK_DATA;
			}
			break;
		case PACK_DATA:
			error = pack_check_data(c, p, len, &used);
			break;
		case PACK_TRAILER:
			used = (size_t)(PACK_TRAILER_LEN - c->varlen) < len ?
			    (size_t)(PACK_TRAILER_LEN - c->varlen) : len;
			c->varlen += (int)used;
			if (c->varlen == PACK_TRAILER_LEN)
				c->state = PACK_DONE;
			break;
		case PACK_DONE:
			error = custody_fail(CUSTODY_EPROTO, "bytes after the end of the pack");
			break;
		}
		p += used;
		len -= used;
		c->pos += used;
	}
	return error;
}

/* The pack is over: it must have ended exactly at its trailer. */
int
pack_check_finish(struct pack_check *c)
{
	if (c->state != PACK_DONE)
		return custody_fail(CUSTODY_EPROTO, "the pack ends early (%u of %u objects)",
		    c->seen, c->count);
	return 0;
}

void
pack_check_free(struct pack_check *c)
{
	if (c == NULL)
		return;
	if (c->z_ready)
		inflateEnd(&c->z);
	free(c);
}
