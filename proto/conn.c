/*
 * Connections on the event loop: the lifecycle every connection shares (frames in, messages to
 * the dispatch callback, frames out, timeouts, closing), and the plain transform of the local
 * clients (descriptors passed with the frames, the Hello first). The Noise transform of the
 * offices is in conn-noise.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sodium.h>

#include "conn-int.h"

#define CONN_READ 65536
#define CONN_READ_NOISE (256u << 10)	/* bytes a Noise connection reads at once, at most */
#define CONN_DRAIN_TIMEOUT 2
/*
 * Output the other end has not read yet: above CONN_OUT_HIGH no further message is dispatched
 * (and nothing more is read) until it is down to CONN_OUT_LOW, so that an end that sends
 * requests and never reads the answers holds a bounded buffer, not all of them.
 */
#define CONN_OUT_HIGH (4u << 20)
#define CONN_OUT_LOW (1u << 20)
/* Seconds a closing connection waits for the other end to read what is left for it. */
#define CONN_CLOSE_TIMEOUT 30
#define CONN_REFUSED (-2)	/* conn_recvmsg sent an Error: read no further */

static void conn_process(struct conn *);

/* The connection is gone or broken: stop everything and tell the owner once. */
void
conn_lost(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	if (c->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof c->why, fmt, ap);
		va_end(ap);
	}
	c->dead = 1;
	shutdown(c->fd, SHUT_RDWR);	/* the other end learns at once, not when we free */
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->deadline);
	if (c->noise != NULL)
		conn_noise_drop_hs(c);
	c->cb(c, NULL, c->arg);
}

/*
 * The other end broke the protocol: a local client is told why in an Error, then closed; a
 * peer is dropped without a word.
 */
static void
conn_fail(struct conn *c, int error)
{
	if (c->noise == NULL) {
		conn_send_error(c, error, "%s", custody_error());
		return;
	}
	if (c->why[0] == '\0')
		snprintf(c->why, sizeof c->why, "%s", custody_error()[0] ? custody_error() :
		    custody_strerror(error));
	conn_lost(c, "%s", c->why);
}

/*
 * (Re)arm the read event with the timeout that applies now: none until the Hello or the
 * handshake (the auth timer bounds it, however slowly it trickles in), then the idle timeout.
 */
void
conn_arm(struct conn *c)
{
	struct timeval tv = { .tv_sec = c->timeout };

	if (c->dead || c->paused || c->closing || c->stalled || conn_rate_waiting(c, CONN_RX))
		return;
	event_add(c->rev, c->established && c->timeout > 0 ? &tv : NULL);
	c->reading = 1;
}

void
conn_establish(struct conn *c)
{
	c->established = 1;
	event_del(c->deadline);
	conn_arm(c);
}

/*
 * Wait for the socket to take output. The other end must read some of it within the idle
 * timeout (CONN_CLOSE_TIMEOUT once closing), or the connection is lost: an end that never
 * reads holds no connection for ever.
 */
void
conn_want_write(struct conn *c)
{
	struct timeval tv = { .tv_sec = c->timeout };

	if (c->closing && (tv.tv_sec == 0 || tv.tv_sec > CONN_CLOSE_TIMEOUT))
		tv.tv_sec = CONN_CLOSE_TIMEOUT;
	event_add(c->wev, tv.tv_sec > 0 && (c->established || c->closing) ? &tv : NULL);
}

/* Queue bytes for the socket. */
int
conn_queue(struct conn *c, const void *p, size_t len)
{
	if (evbuffer_add(c->out, p, len) != 0)
		return CUSTODY_ENOMEM;
	conn_want_write(c);
	return 0;
}

/* Output waiting for the other end to read it: queued for the socket, or not yet sealed. */
static size_t
conn_backlog(const struct conn *c)
{
	return evbuffer_get_length(c->out) + c->pending.len;
}

/* Move the pending message frames towards the socket: as they are, or sealed by Noise. */
static int
conn_push(struct conn *c)
{
	int error = 0;

	if (c->noise != NULL)
		return c->established ? conn_noise_seal(c) : 0;
	if (c->pending.len > 0)
		error = conn_queue(c, c->pending.data, c->pending.len);
	c->pending.len = 0;
	return error;
}

/* The first message of a plain connection: a Hello with our version. */
static int
conn_hello(struct conn *c, const Envelope *env)
{
	if (env->body_case != CUSTODY__ENVELOPE__BODY_HELLO)
		return custody_fail(CUSTODY_EPROTO, "expected hello, got %s", wire_name(env));
	if (env->hello->version != CUSTODY_PROTOCOL_VERSION)
		return custody_fail(CUSTODY_EPROTO, "protocol version %u is not supported (this "
		    "daemon speaks %u)", env->hello->version, CUSTODY_PROTOCOL_VERSION);
	conn_establish(c);
	return 0;
}

/*
 * Whether a frame may be dispatched now: not when paused, closing, or when the other end reads
 * nothing of what is sent to it (then no further request is taken from it).
 */
static bool
conn_may_dispatch(struct conn *c)
{
	if (c->dead || c->paused || c->closing)
		return false;
	if (conn_backlog(c) > CONN_OUT_HIGH) {
		/* the other end reads nothing: take no more requests from it */
		c->stalled = 1;
		event_del(c->rev);
		c->reading = 0;
		return false;
	}
	return true;
}

/*
 * Decode the message frame at the start of the avail contiguous bytes of data, if whole: *used
 * is its size and *env its message, or *used is 0 when more must come first (*need: how many
 * bytes the frame takes, once its header is there).
 */
static int
conn_frame_decode(struct conn *c, const uint8_t *data, size_t avail, size_t *used,
    size_t *need, Envelope **env)
{
	struct frame f;
	size_t max;
	int error;

	*used = 0;
	*need = FRAME_HEADER_LEN;
	*env = NULL;
	if (avail < FRAME_HEADER_LEN)
		return 0;
	/* a plain connection's Hello comes from anyone: it is kept small */
	max = c->established ? FRAME_MAX : FRAME_MAX_HELLO;
	if ((error = frame_parse(&f, used, data, FRAME_HEADER_LEN, max)) < 0)
		return error;
	*need = frame_total(data);
	if (avail < *need)
		return 0;
	if ((error = frame_parse(&f, used, data, *need, max)) < 0)
		return error;
	if (*used == 0)
		return 0;
	if (f.type != FRAME_MSG) {
		*used = 0;
		return c->noise != NULL ? custody_fail(CUSTODY_EPROTO, "unexpected frame "
		    "type %u in the channel", f.type) : custody_fail(CUSTODY_EPROTO,
		    "unexpected data frame");
	}
	if ((error = wire_decode(env, f.body, f.len)) < 0)
		*used = 0;
	return error;
}

/* Hand a decoded message to the owner (a plain connection's first must be its Hello). */
static int
conn_frame_dispatch(struct conn *c, Envelope *env)
{
	int error;

	if (!c->established && (error = conn_hello(c, env)) < 0) {
		wire_free(env);
		return error;
	}
	c->cb(c, env, c->arg);
	return 0;
}

/* Dispatch every whole message frame of buf while not paused. */
int
conn_frames(struct conn *c, struct evbuffer *buf)
{
	Envelope *env;
	uint8_t *data;
	size_t used, avail, need;
	int error;

	while (conn_may_dispatch(c)) {
		avail = evbuffer_get_length(buf);
		if (avail < FRAME_HEADER_LEN)
			return 0;
		data = evbuffer_pullup(buf, FRAME_HEADER_LEN);
		if ((error = conn_frame_decode(c, data, FRAME_HEADER_LEN, &used, &need,
		    &env)) < 0)
			return error;
		/* pull up this frame only: the whole buffer each time would be quadratic */
		if (avail < need)
			return 0;
		data = evbuffer_pullup(buf, (ev_ssize_t)need);
		if ((error = conn_frame_decode(c, data, need, &used, &need, &env)) < 0)
			return error;
		if (used == 0)
			return 0;
		evbuffer_drain(buf, used);
		if ((error = conn_frame_dispatch(c, env)) < 0)
			return error;
	}
	return 0;
}

/*
 * Dispatch every whole message frame of the flat buffer b from *off on while not paused,
 * moving *off past them.
 */
int
conn_frames_flat(struct conn *c, const struct cbuf *b, size_t *off)
{
	Envelope *env;
	size_t used, need;
	int error;

	while (conn_may_dispatch(c) && *off < b->len) {	/* an empty b may have no data */
		if ((error = conn_frame_decode(c, b->data + *off, b->len - *off, &used, &need,
		    &env)) < 0)
			return error;
		if (used == 0)
			return 0;
		*off += used;
		if ((error = conn_frame_dispatch(c, env)) < 0)
			return error;
	}
	return 0;
}

/* Handle what arrived, then read on. */
static void
conn_process(struct conn *c)
{
	int error;

	if (c->noise != NULL)
		error = conn_noise_process(c);
	else
		error = conn_frames(c, c->in);
	if (error < 0) {
		conn_fail(c, error);
		return;
	}
	if (!c->dead && !c->paused && !c->closing && !c->stalled && !c->reading)
		conn_arm(c);
}

/*
 * Everything for the other end is written: stop sending, and read (and drop) what it still
 * sends until it closes, so that closing does not reset the connection under the reply it has
 * yet to read; for CONN_DRAIN_TIMEOUT at most, however it trickles bytes in.
 */
static void
conn_drain(struct conn *c)
{
	struct timeval tv = { CONN_DRAIN_TIMEOUT, 0 };

	c->draining = 1;
	event_del(c->wev);
	if (shutdown(c->fd, SHUT_WR) != 0) {
		conn_lost(c, "shutdown: %s", strerror(errno));
		return;
	}
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	event_add(c->rev, &tv);
	evtimer_add(c->deadline, &tv);
}

/* recvmsg for a plain connection, keeping the descriptors that came with the bytes. */
static ssize_t
conn_recvmsg(struct conn *c, uint8_t *buf, size_t len)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
	} cm;
	struct cmsghdr *h;
	struct msghdr mh;
	struct iovec iov = { buf, len };
	size_t i, n;
	ssize_t r;
	int *fds;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof cm.buf;
	if ((r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0)
		return r;
	for (h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(h);
		for (i = 0; i < n; i++) {
			if (c->nfds < CONN_MAX_QUEUED_FDS)
				c->fds[c->nfds++] = fds[i];
			else
				close(fds[i]);
		}
		if (c->nfds == CONN_MAX_QUEUED_FDS) {
			conn_send_error(c, CUSTODY_EPROTO, "too many descriptors");
			return CONN_REFUSED;
		}
	}
	if (r > 0 && (mh.msg_flags & MSG_CTRUNC)) {
		conn_send_error(c, CUSTODY_EPROTO, "too many descriptors in one frame");
		return CONN_REFUSED;
	}
	return r;
}

/* recv up to len bytes of a Noise connection into room at the end of c->in. */
static ssize_t
conn_recv_in(struct conn *c, size_t len)
{
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	size_t left;
	ssize_t r;
	int i, k;

	if ((k = evbuffer_reserve_space(c->in, (ev_ssize_t)len, v, 2)) < 1) {
		errno = ENOMEM;
		return -1;
	}
	/* the room may be larger than asked for: read len bytes at most (a rate may allow no more) */
	for (i = 0, left = len; i < k; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if ((r = readv(c->fd, iov, k)) <= 0)
		return r;
	for (i = 0, left = (size_t)r; i < k && left > 0; i++) {	/* what was read, no more */
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	if (evbuffer_commit_space(c->in, v, i) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return r;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint8_t buf[CONN_READ];
	ssize_t r;
	size_t i, n;

	if (c->draining) {
		if ((what & EV_TIMEOUT) || recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			conn_lost(c, "closed");
		for (i = 0; i < c->nfds; i++)
			close(c->fds[i]);
		c->nfds = 0;
		return;
	}
	if (c->stalled) {		/* resumed while the other end still reads nothing */
		event_del(c->rev);
		c->reading = 0;
		return;
	}
	if (what & EV_TIMEOUT) {
		if (c->noise != NULL)
			conn_lost(c, "timed out");
		else
			conn_send_error(c, CUSTODY_EPROTO, "timed out waiting for a request");
		return;
	}
	/* over the bandwidth limit: read no more for now, but dispatch what is buffered */
	if ((n = conn_rate_allow(c, CONN_RX, c->noise != NULL ? CONN_READ_NOISE :
	    sizeof buf)) == 0) {
		conn_process(c);
		return;
	}
	/* TCP carries no descriptors: a Noise connection reads bytes alone, straight into c->in */
	r = c->noise != NULL ? conn_recv_in(c, n) : conn_recvmsg(c, buf, n);
	if (r == CONN_REFUSED)
		return;
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		conn_process(c);	/* resumed: dispatch what is already buffered */
		return;
	}
	if (r < 0) {
		conn_lost(c, "read: %s", strerror(errno));
		return;
	}
	if (r == 0) {
		conn_lost(c, "%s", c->noise != NULL ? conn_noise_closed(c) :
		    "connection closed by the peer");
		return;
	}
	conn_rate_spend(c, CONN_RX, (size_t)r);
	if (c->noise == NULL && evbuffer_add(c->in, buf, (size_t)r) != 0) {
		conn_lost(c, "out of memory");
		return;
	}
	conn_process(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t n;
	int w;

	if (what & EV_TIMEOUT) {
		conn_lost(c, "timed out: the other end reads nothing of what is sent to it");
		return;
	}
	if ((n = evbuffer_get_length(c->out)) > 0 && (n = conn_rate_allow(c, CONN_TX, n)) == 0)
		return;		/* over the bandwidth limit: the rate timer goes on */
	if ((w = evbuffer_write_atmost(c->out, fd, (ev_ssize_t)n)) < 0 && errno != EAGAIN &&
	    errno != EINTR) {
		conn_lost(c, "%s", strerror(errno));
		return;
	}
	if (w > 0)
		conn_rate_spend(c, CONN_TX, (size_t)w);
	if (c->stalled && conn_backlog(c) <= CONN_OUT_LOW) {
		c->stalled = 0;		/* it reads again: so do we */
		if (!c->paused && !c->closing)
			event_active(c->rev, EV_READ, 0);
	}
	if (evbuffer_get_length(c->out) > 0)
		return;
	event_del(c->wev);
	if (c->closing)
		conn_drain(c);
	else if (c->drained != NULL)
		c->drained(c->drained_arg);
}

/* No Hello, or no whole handshake, within CONN_AUTH_TIMEOUT; or no end to draining. */
static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->draining)
		conn_lost(c, "closed");
	else if (c->noise != NULL)
		conn_lost(c, "handshake timed out");
	else if (!c->closing)
		conn_send_error(c, CUSTODY_EPROTO, "timed out waiting for a request");
}

/* Call cb(arg) each time the queued output has all been written (NULL: stop). */
void
conn_on_drained(struct conn *c, void (*cb)(void *), void *arg)
{
	c->drained = cb;
	c->drained_arg = arg;
}

struct conn *
conn_alloc(struct event_base *base, int fd, conn_dispatch_cb cb, void *arg)
{
	struct conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return NULL;
	}
	c->base = base;
	c->fd = fd;
	c->cb = cb;
	c->arg = arg;
	c->timeout = 3600;
	evutil_make_socket_nonblocking(fd);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->deadline = evtimer_new(base, conn_deadline_cb, c);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	if (c->rev == NULL || c->wev == NULL || c->deadline == NULL || c->in == NULL ||
	    c->out == NULL) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* A plain connection on a connected socket. */
struct conn *
conn_new(struct event_base *base, int fd, conn_dispatch_cb cb, void *arg)
{
	struct timeval tv = { CONN_AUTH_TIMEOUT, 0 };
	struct conn *c;

	if ((c = conn_alloc(base, fd, cb, arg)) == NULL)
		return NULL;
	evtimer_add(c->deadline, &tv);
	conn_arm(c);
	return c;
}

/*
 * Can we queue output? Not once lost; a Noise connection also not once closing, while a local
 * client still gets what is queued before its connection is shut down.
 */
static bool
conn_open(const struct conn *c)
{
	return !c->dead && !(c->closing && c->noise != NULL);
}

/* Queue one message. */
int
conn_send(struct conn *c, const Envelope *env)
{
	size_t len = c->pending.len;
	int error;

	if (!conn_open(c))
		return CUSTODY_EIO;
	if ((error = wire_encode(&c->pending, env)) < 0) {
		c->pending.len = len;
		return error;
	}
	return conn_push(c);
}

/* Queue message frames encoded elsewhere (by wire_encode, perhaps on another thread). */
int
conn_send_frames(struct conn *c, const struct cbuf *frames)
{
	int error;

	if (!conn_open(c))
		return CUSTODY_EIO;
	if (frames->len == 0)
		return 0;
	if (c->noise == NULL)
		return conn_queue(c, frames->data, frames->len);
	/* sealed from where they lie: no copy into pending first */
	if (c->established && c->pending.len == 0)
		return conn_noise_seal_bytes(c, frames->data, frames->len);
	if ((error = cbuf_put(&c->pending, frames->data, frames->len)) < 0)
		return error;
	return conn_push(c);
}

/* Send an Error and close after it is written. */
void
conn_send_error(struct conn *c, int code, const char *fmt, ...)
{
	Custody__Error err;
	Envelope env;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	wire_error(&env, &err, code, msg);
	if (conn_send(c, &env) < 0) {
		conn_lost(c, "cannot send: %s", msg);
		return;
	}
	conn_close_after_flush(c);
}

/* Take the oldest received descriptor. */
int
conn_take_fd(struct conn *c)
{
	int fd;

	if (c->nfds == 0)
		return -1;
	fd = c->fds[0];
	memmove(c->fds, c->fds + 1, (c->nfds - 1) * sizeof *c->fds);
	c->nfds--;
	return fd;
}

void
conn_pause(struct conn *c)
{
	c->paused = 1;
	event_del(c->rev);
	c->reading = 0;
}

void
conn_resume(struct conn *c)
{
	if (c->dead || !c->paused)
		return;
	c->paused = 0;
	event_active(c->rev, EV_READ, 0);
}

/* Close once the output is written. */
void
conn_close_after_flush(struct conn *c)
{
	if (c->dead || c->closing)
		return;
	c->closing = 1;
	event_del(c->rev);
	c->reading = 0;
	if (evbuffer_get_length(c->out) == 0)
		conn_drain(c);
	else
		conn_want_write(c);	/* now with the closing timeout */
}

/* Drop the connection now, without a word (the owner's callback learns it is gone). */
void
conn_abort(struct conn *c)
{
	conn_lost(c, "dropped");
}

void
conn_set_timeout(struct conn *c, int seconds)
{
	c->timeout = seconds;
	if (c->established && !c->draining)
		conn_arm(c);
}

bool
conn_established(const struct conn *c)
{
	return c->established;
}

const char *
conn_office(const struct conn *c)
{
	return c->noise != NULL ? c->noise->office : NULL;
}

/* The peer's proven Ed25519 identity key. */
int
conn_remote_key(const struct conn *c, uint8_t out[static 32])
{
	if (c->noise == NULL || !c->noise->has_remote)
		return CUSTODY_ENOTFOUND;
	memcpy(out, c->noise->remote_ed, 32);
	return 0;
}

const char *
conn_error(const struct conn *c)
{
	return c->why;
}

/* Close the socket and any unclaimed descriptors, wipe the keys; NULL is fine. */
void
conn_free(struct conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	if (c->pending.data != NULL)
		sodium_memzero(c->pending.data, c->pending.cap);
	cbuf_free(&c->pending);
	conn_noise_free(c->noise);
	conn_rate_free(c);
	for (i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	close(c->fd);
	free(c);
}
