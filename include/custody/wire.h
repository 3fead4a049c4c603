/*
 * Frames and messages on the custodyd socket (see proto/PROTOCOL.md).
 *
 * A frame is a 5-byte header, u32 big-endian body length then u8 type, and the body. A message
 * frame holds one packed custody.Envelope; data frames carry raw bulk bytes. Only this module
 * turns bytes into messages: the daemon and client get decoded Envelopes.
 */
#ifndef CUSTODY_WIRE_H
#define CUSTODY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "custody.pb-c.h"
#include "custody/common.h"

/* Bump when the meaning of any message changes; both ends must agree exactly. */
#define CUSTODY_PROTOCOL_VERSION 3	/* 2: office channels use Noise XK; 3: SyncTurn */

#define FRAME_HEADER_LEN 5
#define FRAME_MSG 1
#define FRAME_DATA 2
#define FRAME_DATA_END 3
#define FRAME_HANDSHAKE 4		/* a Noise handshake message (TCP channels, proto/conn-noise.c) */
#define FRAME_NOISE 5			/* a Noise transport message (TCP channels) */

#define FRAME_MAX_HELLO 4096		/* before the Hello is accepted */
#define FRAME_MAX (4u << 20)		/* after */
#define WIRE_MAX_FDS 8			/* descriptors accepted with one read */

typedef Custody__Envelope Envelope;

struct frame {
	uint8_t		 type;
	const uint8_t	*body;
	size_t		 len;
};

/*
 * Parse one frame from the start of buf. Returns 0 with *used = 0 when more bytes are needed,
 * 0 with *used = header + body when f is filled, or CUSTODY_EPROTO / CUSTODY_ETOOBIG.
 */
int frame_parse(struct frame *f, size_t *used, const uint8_t *buf, size_t len, size_t max);
/* The whole size of the frame whose header is hdr (check it with frame_parse first). */
size_t frame_total(const uint8_t hdr[static FRAME_HEADER_LEN]);
/* Append a frame header for a body of len bytes. */
int frame_put_header(struct cbuf *out, uint8_t type, size_t len);
/* Write a frame header for a body of len bytes into hdr. */
void frame_header(uint8_t hdr[static FRAME_HEADER_LEN], uint8_t type, uint32_t len);

/* Unpack a message frame's body; an Envelope with no body set is CUSTODY_EPROTO. */
int wire_decode(Envelope **out, const uint8_t *body, size_t len);
/* Append env as a complete message frame. */
int wire_encode(struct cbuf *out, const Envelope *env);
/*
 * Append a message frame holding a BlobData (of a blob of size bytes) whose data is len bytes,
 * and point *data at where those len bytes go: the caller must fill them all.
 */
int wire_encode_blob_data(struct cbuf *out, uint64_t size, size_t len, uint8_t **data);
void wire_free(Envelope *env);
/* The name of the message in env ("status_request"), for logs and errors. */
const char *wire_name(const Envelope *env);

/*
 * Blocking I/O for the one-shot client. wire_send sends a whole frame, with nfds descriptors
 * attached (SCM_RIGHTS) to its first byte. wire_recv reads one message frame (data frames are
 * refused); a closed connection is CUSTODY_EIO with custody_error() saying so.
 */
int wire_send(int fd, const Envelope *env, const int *fds, size_t nfds);
int wire_recv(int fd, Envelope **out);

/* Fill an Error envelope (message copied into the caller's buffer msgbuf). */
void wire_error(Envelope *env, Custody__Error *err, int code, const char *msg);

#endif
