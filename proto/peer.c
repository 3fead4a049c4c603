/* Connections on the event loop: frames in, messages to the dispatch callback, frames out. */
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "custody/peer.h"

#define PEER_MAX_QUEUED_FDS 64
#define PEER_READ 65536
#define PEER_HELLO_TIMEOUT 10
#define PEER_DRAIN_TIMEOUT 2

struct peer {
	struct event_base	*base;
	int			 fd;
	struct event		*rev, *wev;
	struct evbuffer		*in, *out;
	int			 fds[PEER_MAX_QUEUED_FDS];
	size_t			 nfds;
	peer_dispatch_cb	 cb;
	void			*arg;
	int			 timeout;
	struct timeval		 deadline;	/* for the hello, however slowly it trickles in */
	unsigned		 hello : 1, paused : 1, closing : 1, dead : 1, reading : 1,
				 draining : 1;
};

static void peer_process(struct peer *);

/* The peer is gone or broken: stop everything and tell the owner once. */
static void
peer_lost(struct peer *p)
{
	if (p->dead)
		return;
	p->dead = 1;
	event_del(p->rev);
	event_del(p->wev);
	p->cb(p, NULL, p->arg);
}

/*
 * (Re)arm the read event, with the timeout that applies now: after the hello, the idle timeout;
 * before it, what is left of PEER_HELLO_TIMEOUT from the connection, so that a client sending
 * a byte at a time is dropped all the same.
 */
static void
peer_arm(struct peer *p)
{
	struct timeval tv = { .tv_sec = p->timeout }, now;

	if (p->dead || p->paused || p->closing)
		return;
	if (!p->hello) {
		gettimeofday(&now, NULL);
		timersub(&p->deadline, &now, &tv);
		if (tv.tv_sec < 0 || (tv.tv_sec == 0 && tv.tv_usec <= 0)) {
			peer_lost(p);
			return;
		}
	}
	event_add(p->rev, tv.tv_sec > 0 ? &tv : NULL);
	p->reading = 1;
}

/*
 * Everything for the peer is written: stop sending, and read (and drop) what it still sends
 * until it closes, so that closing does not reset the connection under the reply it has yet
 * to read.
 */
static void
peer_drain(struct peer *p)
{
	struct timeval tv = { PEER_DRAIN_TIMEOUT, 0 };

	p->draining = 1;
	event_del(p->wev);
	if (shutdown(p->fd, SHUT_WR) != 0) {
		peer_lost(p);
		return;
	}
	evbuffer_drain(p->in, evbuffer_get_length(p->in));
	event_add(p->rev, &tv);
}

static void
peer_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	uint8_t buf[PEER_READ];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
	} cm;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov = { buf, sizeof buf };
	size_t i, n;
	ssize_t r;
	int *fds;

	if (p->draining) {
		if ((what & EV_TIMEOUT) || recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			peer_lost(p);
		for (i = 0; i < p->nfds; i++)
			close(p->fds[i]);
		p->nfds = 0;
		return;
	}
	if (what & EV_TIMEOUT) {
		peer_send_error(p, CUSTODY_EPROTO, "timed out waiting for a request");
		return;
	}
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof cm.buf;
	r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		peer_process(p);
		return;
	}
	for (c = CMSG_FIRSTHDR(&mh); r >= 0 && c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(c);
		for (i = 0; i < n; i++) {
			if (p->nfds < PEER_MAX_QUEUED_FDS)
				p->fds[p->nfds++] = fds[i];
			else
				close(fds[i]);
		}
		if (p->nfds == PEER_MAX_QUEUED_FDS) {
			peer_send_error(p, CUSTODY_EPROTO, "too many descriptors");
			return;
		}
	}
	if (r > 0 && (mh.msg_flags & MSG_CTRUNC)) {
		peer_send_error(p, CUSTODY_EPROTO, "too many descriptors in one frame");
		return;
	}
	if (r <= 0) {
		peer_lost(p);
		return;
	}
	evbuffer_add(p->in, buf, (size_t)r);
	peer_process(p);
	/* before the hello the deadline does not move with each byte: re-arm with what is left */
	if (!p->hello)
		peer_arm(p);
}

/* Dispatch every whole frame in the input buffer while not paused. */
static void
peer_process(struct peer *p)
{
	struct frame f;
	Envelope *env;
	uint8_t *data;
	size_t used, avail, max;
	int error;

	while (!p->dead && !p->paused && !p->closing) {
		avail = evbuffer_get_length(p->in);
		if (avail < FRAME_HEADER_LEN)
			break;
		max = p->hello ? FRAME_MAX : FRAME_MAX_HELLO;
		data = evbuffer_pullup(p->in, FRAME_HEADER_LEN);
		if ((error = frame_parse(&f, &used, data, FRAME_HEADER_LEN, max)) < 0) {
			peer_send_error(p, error, "%s", custody_error());
			return;
		}
		if (avail < frame_total(data))
			break;
		avail = frame_total(data);
		data = evbuffer_pullup(p->in, (ev_ssize_t)avail);
		if ((error = frame_parse(&f, &used, data, avail, max)) < 0) {
			peer_send_error(p, error, "%s", custody_error());
			return;
		}
		if (used == 0)
			break;
		if (f.type != FRAME_MSG) {
			peer_send_error(p, CUSTODY_EPROTO, "unexpected data frame");
			return;
		}
		if ((error = wire_decode(&env, f.body, f.len)) < 0) {
			peer_send_error(p, error, "%s", custody_error());
			return;
		}
		evbuffer_drain(p->in, used);
		if (!p->hello) {
			if (env->body_case != CUSTODY__ENVELOPE__BODY_HELLO) {
				peer_send_error(p, CUSTODY_EPROTO, "expected hello, got %s",
				    wire_name(env));
				wire_free(env);
				return;
			}
			if (env->hello->version != CUSTODY_PROTOCOL_VERSION) {
				peer_send_error(p, CUSTODY_EPROTO, "protocol version %u is not "
				    "supported (this daemon speaks %u)", env->hello->version,
				    CUSTODY_PROTOCOL_VERSION);
				wire_free(env);
				return;
			}
			p->hello = 1;
			peer_arm(p);
		}
		p->cb(p, env, p->arg);
	}
	if (!p->dead && !p->paused && !p->closing && !p->reading)
		peer_arm(p);
}

static void
peer_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	if (evbuffer_write(p->out, fd) < 0 && errno != EAGAIN && errno != EINTR) {
		peer_lost(p);
		return;
	}
	if (evbuffer_get_length(p->out) > 0)
		return;
	event_del(p->wev);
	if (p->closing)
		peer_drain(p);
}

/* A peer on a connected, non-blocking socket. */
struct peer *
peer_new(struct event_base *base, int fd, peer_dispatch_cb cb, void *arg)
{
	struct peer *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->base = base;
	p->fd = fd;
	p->cb = cb;
	p->arg = arg;
	p->timeout = 3600;
	gettimeofday(&p->deadline, NULL);
	p->deadline.tv_sec += PEER_HELLO_TIMEOUT;
	evutil_make_socket_nonblocking(fd);
	p->rev = event_new(base, fd, EV_READ | EV_PERSIST, peer_read_cb, p);
	p->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, peer_write_cb, p);
	p->in = evbuffer_new();
	p->out = evbuffer_new();
	if (p->rev == NULL || p->wev == NULL || p->in == NULL || p->out == NULL) {
		peer_free(p);
		return NULL;
	}
	peer_arm(p);
	return p;
}

/* Queue one message. */
int
peer_send(struct peer *p, const Envelope *env)
{
	struct cbuf b = { 0 };
	int error;

	if (p->dead)
		return CUSTODY_EIO;
	if ((error = wire_encode(&b, env)) == 0 && evbuffer_add(p->out, b.data, b.len) != 0)
		error = CUSTODY_ENOMEM;
	free(b.data);
	if (error == 0)
		event_add(p->wev, NULL);
	return error;
}

/* Queue frames encoded elsewhere. */
int
peer_send_frames(struct peer *p, const struct cbuf *b)
{
	if (p->dead)
		return CUSTODY_EIO;
	if (b->len == 0)
		return 0;
	if (evbuffer_add(p->out, b->data, b->len) != 0)
		return CUSTODY_ENOMEM;
	event_add(p->wev, NULL);
	return 0;
}

/* Send an Error and close after it is written. */
void
peer_send_error(struct peer *p, int code, const char *fmt, ...)
{
	Custody__Error err;
	Envelope env;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	wire_error(&env, &err, code, msg);
	if (peer_send(p, &env) < 0) {
		peer_lost(p);
		return;
	}
	peer_close_after_flush(p);
}

/* Take the oldest received descriptor. */
int
peer_take_fd(struct peer *p)
{
	int fd;

	if (p->nfds == 0)
		return -1;
	fd = p->fds[0];
	memmove(p->fds, p->fds + 1, (p->nfds - 1) * sizeof *p->fds);
	p->nfds--;
	return fd;
}

void
peer_pause(struct peer *p)
{
	p->paused = 1;
	event_del(p->rev);
	p->reading = 0;
}

void
peer_resume(struct peer *p)
{
	if (p->dead || !p->paused)
		return;
	p->paused = 0;
	event_active(p->rev, EV_READ, 0);
}

/* Close once the output is written. */
void
peer_close_after_flush(struct peer *p)
{
	if (p->dead)
		return;
	if (p->closing)
		return;
	p->closing = 1;
	event_del(p->rev);
	p->reading = 0;
	if (evbuffer_get_length(p->out) == 0)
		peer_drain(p);
	else
		event_add(p->wev, NULL);
}

/* Drop the connection now, without a word (the owner's callback learns it is gone). */
void
peer_abort(struct peer *p)
{
	peer_lost(p);
}

void
peer_set_timeout(struct peer *p, int seconds)
{
	p->timeout = seconds;
}

/* Close the socket and any unclaimed descriptors; NULL is fine. */
void
peer_free(struct peer *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->rev != NULL)
		event_free(p->rev);
	if (p->wev != NULL)
		event_free(p->wev);
	if (p->in != NULL)
		evbuffer_free(p->in);
	if (p->out != NULL)
		evbuffer_free(p->out);
	for (i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	close(p->fd);
	free(p);
}
