/* Frames: the 5-byte header and its limits. */
#include "custody/wire.h"

/* Parse one frame if buf holds a whole one. */
int
frame_parse(struct frame *f, size_t *used, const uint8_t *buf, size_t len, size_t max)
{
	uint32_t body;

	*used = 0;
	if (len < FRAME_HEADER_LEN)
		return 0;
	body = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (buf[4] < FRAME_MSG || buf[4] > FRAME_NOISE)
		return custody_fail(CUSTODY_EPROTO, "unknown frame type %u", buf[4]);
	if (body > max)
		return custody_fail(CUSTODY_ETOOBIG, "frame of %u bytes over the limit of %zu",
		    body, max);
	if (body == 0 && buf[4] != FRAME_DATA && buf[4] != FRAME_DATA_END)
		return custody_fail(CUSTODY_EPROTO, "empty message frame");
	if (len - FRAME_HEADER_LEN < body)
		return 0;
	f->type = buf[4];
	f->body = buf + FRAME_HEADER_LEN;
	f->len = body;
	*used = FRAME_HEADER_LEN + body;
	return 0;
}

/* Write a frame header for a body of len bytes into hdr. */
void
frame_header(uint8_t hdr[static FRAME_HEADER_LEN], uint8_t type, uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	hdr[4] = type;
}

/* Append a frame header. */
int
frame_put_header(struct cbuf *out, uint8_t type, size_t len)
{
	int error;

	if (len > UINT32_MAX)
		return CUSTODY_ETOOBIG;
	if ((error = cbuf_put_u32be(out, (uint32_t)len)) < 0)
		return error;
	return cbuf_put_u8(out, type);
}

/* The whole size of the frame whose header is hdr (header included). */
size_t
frame_total(const uint8_t hdr[static FRAME_HEADER_LEN])
{
	return FRAME_HEADER_LEN + ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3]);
}
