/* Envelopes: packing, unpacking, and blocking send/receive for the one-shot client. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "custody/wire.h"

/* Unpack a message body. */
int
wire_decode(Envelope **out, const uint8_t *body, size_t len)
{
	Envelope *env;

	*out = NULL;
	env = custody__envelope__unpack(NULL, len, body);
	if (env == NULL)
		return custody_fail(CUSTODY_EPROTO, "malformed message");
	if (env->body_case == CUSTODY__ENVELOPE__BODY__NOT_SET) {
		custody__envelope__free_unpacked(env, NULL);
		return custody_fail(CUSTODY_EPROTO, "unknown or empty message");
	}
	*out = env;
	return 0;
}

/* Append a whole message frame. */
int
wire_encode(struct cbuf *out, const Envelope *env)
{
	size_t n;
	int error;

	n = custody__envelope__get_packed_size(env);
	if (n > FRAME_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "message of %zu bytes over the limit", n);
	if ((error = frame_put_header(out, FRAME_MSG, n)) < 0 ||
	    (error = cbuf_reserve(out, n)) < 0)
		return error;
	custody__envelope__pack(env, out->data + out->len);
	out->len += n;
	return 0;
}

/* Free an unpacked envelope; NULL is fine. */
void
wire_free(Envelope *env)
{
	if (env != NULL)
		custody__envelope__free_unpacked(env, NULL);
}

/* The field name of the envelope's body. */
const char *
wire_name(const Envelope *env)
{
	const ProtobufCFieldDescriptor *fd;

	fd = protobuf_c_message_descriptor_get_field(&custody__envelope__descriptor,
	    (unsigned)env->body_case);
	return fd != NULL ? fd->name : "unknown";
}

/* Send one frame, with descriptors attached to its first byte. */
int
wire_send(int fd, const Envelope *env, const int *fds, size_t nfds)
{
	struct cbuf b = { 0 };
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
	} cm;
	struct cmsghdr *c;
	size_t off = 0;
	ssize_t w;
	int error;

	if (nfds > WIRE_MAX_FDS)
		return CUSTODY_EINVAL;
	if ((error = wire_encode(&b, env)) < 0)
		goto done;
	while (off < b.len) {
		memset(&mh, 0, sizeof mh);
		iov.iov_base = b.data + off;
		iov.iov_len = b.len - off;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (off == 0 && nfds > 0) {
			memset(&cm, 0, sizeof cm);
			mh.msg_control = cm.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		if ((w = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			error = custody_fail(CUSTODY_EIO, "lost the daemon: %s", strerror(errno));
			goto done;
		}
		off += (size_t)w;
	}
done:
	free(b.data);
	return error;
}

/* Read exactly n bytes or fail. */
static int
wire_read(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	if ((r = read_full(fd, p, n)) < 0)
		return custody_fail(CUSTODY_EIO, "lost the daemon: %s", strerror(errno));
	if ((size_t)r != n)
		return custody_fail(CUSTODY_EIO, "the daemon closed the connection");
	return 0;
}

/* Receive one message frame. */
int
wire_recv(int fd, Envelope **out)
{
	uint8_t hdr[FRAME_HEADER_LEN], *body = NULL;
	struct frame f;
	size_t used, len;
	int error;

	*out = NULL;
	if ((error = wire_read(fd, hdr, sizeof hdr)) < 0)
		return error;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if ((error = frame_parse(&f, &used, hdr, sizeof hdr, FRAME_MAX)) < 0)
		return error;
	if (hdr[4] != FRAME_MSG)
		return custody_fail(CUSTODY_EPROTO, "unexpected data frame");
	if ((body = malloc(len ? len : 1)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = wire_read(fd, body, len)) == 0)
		error = wire_decode(out, body, len);
	free(body);
	return error;
}

/* Fill an Error envelope. */
void
wire_error(Envelope *env, Custody__Error *err, int code, const char *msg)
{
	custody__envelope__init(env);
	custody__error__init(err);
	err->code = code;
	err->message = (char *)msg;
	env->body_case = CUSTODY__ENVELOPE__BODY_ERROR;
	env->error = err;
}
