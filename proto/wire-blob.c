/*
 * A BlobData answer framed around bytes the caller reads straight into place: a blob goes out
 * of its file into the frame with no copy in between. The envelope is a plain protobuf
 * encoding, the size field before the data field (the order fields come in is free), so that
 * the data is last and its room can be handed out.
 */
#include "custody/wire.h"

/* Append v as a protobuf varint. */
static int
wire_blob_varint(struct cbuf *out, uint64_t v)
{
	int error;

	while (v >= 0x80) {
		if ((error = cbuf_put_u8(out, (uint8_t)(v | 0x80))) < 0)
			return error;
		v >>= 7;
	}
	return cbuf_put_u8(out, (uint8_t)v);
}

/* Bytes of v as a protobuf varint. */
static size_t
wire_blob_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * Append a message frame holding a BlobData of a blob of size bytes whose data is len bytes,
 * and point *data at the room left for them at its end: the caller fills all len bytes before
 * the frame goes anywhere.
 */
int
wire_encode_blob_data(struct cbuf *out, uint64_t size, size_t len, uint8_t **data)
{
	/* BlobData: size = 2 (varint, absent when 0), then data = 1 (length-delimited) */
	const uint64_t tag_body = (uint64_t)CUSTODY__ENVELOPE__BODY_BLOB_DATA << 3 | 2;
	size_t bd = (size > 0 ? 1 + wire_blob_varint_len(size) : 0) +
	    (len > 0 ? 1 + wire_blob_varint_len(len) + len : 0);
	size_t env = wire_blob_varint_len(tag_body) + wire_blob_varint_len(bd) + bd;
	int error;

	*data = NULL;
	if (env > FRAME_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "message of %zu bytes over the limit", env);
	if ((error = cbuf_reserve(out, FRAME_HEADER_LEN + env)) < 0 ||
	    (error = frame_put_header(out, FRAME_MSG, env)) < 0 ||
	    (error = wire_blob_varint(out, tag_body)) < 0 ||
	    (error = wire_blob_varint(out, bd)) < 0)
		return error;
	if (size > 0 && ((error = cbuf_put_u8(out, 2 << 3 | 0)) < 0 ||
	    (error = wire_blob_varint(out, size)) < 0))
		return error;
	if (len > 0 && ((error = cbuf_put_u8(out, 1 << 3 | 2)) < 0 ||
	    (error = wire_blob_varint(out, len)) < 0))
		return error;
	*data = out->data + out->len;
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}
