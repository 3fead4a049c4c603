/* Channels between offices: the Noise handshake, authorization, then encrypted frames. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "custody/channel.h"

#define CHANNEL_READ 65536
#define CHANNEL_DRAIN_TIMEOUT 2

struct channel {
	struct event_base	*base;
	int			 fd;
	struct event		*rev, *wev, *hs_timer;
	struct evbuffer		*in, *out;	/* outer frames, as on the socket */
	struct evbuffer		*plain;		/* decrypted stream of inner frames */
	struct cbuf		 pending;	/* inner frames queued before the handshake ends */
	struct noise_hs		*hs;
	struct noise_cipher	*tx, *rx;
	uint8_t			 remote[NOISE_KEY_LEN];
	uint8_t			 ed_pub[32];	/* ours, sent in message 3 by an initiator */
	uint8_t			 remote_ed[32];	/* theirs: dialled, or checked against remote */
	char			*office;
	char			 why[256];
	channel_authorize_cb	 authorize;
	channel_dispatch_cb	 cb;
	void			*arg;
	void			(*drained)(void *);	/* the output has all been written */
	void			*drained_arg;
	int			 timeout;
	int			 nhs;		/* handshake messages so far */
	uint8_t			*fallback;	/* a responder's earlier static key, or NULL */
	unsigned		 established : 1, closing : 1, dead : 1, draining : 1,
				 has_remote : 1, received : 1, initiator : 1;
};

static void channel_process(struct channel *);

/* The channel is gone or broken: stop everything and tell the owner once. */
static void __attribute__((format(printf, 2, 3)))
channel_lost(struct channel *ch, const char *fmt, ...)
{
	va_list ap;

	if (ch->dead)
		return;
	if (ch->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ch->why, sizeof ch->why, fmt, ap);
		va_end(ap);
	}
	ch->dead = 1;
	shutdown(ch->fd, SHUT_RDWR);	/* the peer learns at once, not when we free */
	event_del(ch->rev);
	event_del(ch->wev);
	event_del(ch->hs_timer);
	noise_hs_free(ch->hs);
	sodium_free(ch->fallback);
	ch->hs = NULL;
	ch->cb(ch, NULL, ch->arg);
}

/* (Re)arm the read event with the timeout that applies now. */
static void
channel_arm(struct channel *ch)
{
	struct timeval tv = { .tv_sec = ch->timeout };

	if (ch->dead || ch->closing)
		return;
	event_add(ch->rev, ch->established && ch->timeout > 0 ? &tv : NULL);
}

/* Queue bytes for the socket. */
static int
channel_queue(struct channel *ch, const void *p, size_t len)
{
	if (evbuffer_add(ch->out, p, len) != 0)
		return CUSTODY_ENOMEM;
	event_add(ch->wev, NULL);
	return 0;
}

/* Queue one outer frame. */
static int
channel_queue_frame(struct channel *ch, uint8_t type, const uint8_t *body, size_t len)
{
	struct cbuf b = { 0 };
	int error;

	if ((error = frame_put_header(&b, type, len)) == 0 && (error = cbuf_put(&b, body,
	    len)) == 0)
		error = channel_queue(ch, b.data, b.len);
	cbuf_free(&b);
	return error;
}

/* Encrypt the pending inner frames into transport messages, one FRAME_NOISE frame each. */
static int
channel_seal_pending(struct channel *ch)
{
	struct cbuf ct = { 0 };
	size_t off, n;
	int error = 0;

	for (off = 0; off < ch->pending.len && error == 0; off += n) {
		n = ch->pending.len - off;
		if (n > NOISE_MAX_PAYLOAD)
			n = NOISE_MAX_PAYLOAD;
		ct.len = 0;
		if ((error = noise_encrypt(ch->tx, &ct, ch->pending.data + off, n)) == 0)
			error = channel_queue_frame(ch, FRAME_NOISE, ct.data, ct.len);
	}
	sodium_memzero(ch->pending.data, ch->pending.len);
	ch->pending.len = 0;
	cbuf_free(&ct);
	return error;
}

/* Write our next handshake message. */
static int
channel_hs_write(struct channel *ch)
{
	struct cbuf msg = { 0 };
	int error;

	/* messages 1 and 2 carry no payload; 3 (the initiator's) carries our Ed25519 identity */
	if ((error = noise_hs_write(ch->hs, &msg, ch->ed_pub, ch->nhs == 2 ? 32 : 0)) == 0)
		error = channel_queue_frame(ch, FRAME_HANDSHAKE, msg.data, msg.len);
	ch->nhs++;
	cbuf_free(&msg);
	return error;
}

/* Ask the owner about the peer's proven static key; 0 or CUSTODY_EPERM. */
static int
channel_authorize(struct channel *ch)
{
	const char *office;
	char hex[2 * NOISE_KEY_LEN + 1];

	if (noise_hs_remote_static(ch->hs, ch->remote) < 0)
		return CUSTODY_EPROTO;
	ch->has_remote = 1;
	if ((office = ch->authorize(ch, ch->remote_ed, ch->arg)) == NULL) {
		sodium_bin2hex(hex, sizeof hex, ch->remote_ed, sizeof ch->remote_ed);
		snprintf(ch->why, sizeof ch->why, "peer key %s is not authorized", hex);
		return CUSTODY_EPERM;
	}
	if ((ch->office = strdup(office)) == NULL)
		return CUSTODY_ENOMEM;
	return 0;
}

/* The handshake is done and the peer authorized: switch to transport messages. */
static int
channel_establish(struct channel *ch)
{
	int error;

	if ((error = noise_hs_split(ch->hs, &ch->tx, &ch->rx)) < 0)
		return error;
	noise_hs_free(ch->hs);
	ch->hs = NULL;
	ch->established = 1;
	event_del(ch->hs_timer);
	channel_arm(ch);
	return channel_seal_pending(ch);
}

/*
 * The payload of handshake message idx (0, 1 or 2): none in messages 1 and 2; in message 3, the
 * initiator's Ed25519 key, which must be the one its proven static X25519 key derives from.
 */
static int
channel_identity(struct channel *ch, const struct cbuf *payload, int idx)
{
	uint8_t x[NOISE_KEY_LEN];

	if (idx < 2)
		return payload->len == 0 ? 0 : custody_fail(CUSTODY_EPROTO, "handshake "
		    "message %d must have no payload", idx + 1);
	if (noise_hs_remote_static(ch->hs, ch->remote) < 0 || payload->len != 32 ||
	    noise_pub_from_ed25519(x, payload->data) < 0 ||
	    sodium_memcmp(x, ch->remote, NOISE_KEY_LEN) != 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's identity key does not match "
		    "its handshake key");
	memcpy(ch->remote_ed, payload->data, 32);
	return 0;
}

/* One handshake frame from the peer. */
static int
channel_hs_frame(struct channel *ch, const uint8_t *body, size_t len)
{
	struct cbuf payload = { 0 };
	int error, idx;

	if (noise_hs_want_write(ch->hs))
		return custody_fail(CUSTODY_EPROTO, "handshake message out of turn");
	/*
	 * A responder that cannot read message 1 (made for another key, or not Noise at all)
	 * drops the connection having sent nothing: a prober learns nothing about this office.
	 */
	error = noise_hs_read(ch->hs, &payload, body, len);
	/* a responder that rotated its key still answers a peer dialling the one before */
	if (error < 0 && !ch->initiator && ch->nhs == 0 && ch->fallback != NULL) {
		noise_hs_free(ch->hs);
		ch->hs = NULL;
		cbuf_free(&payload);
		if ((error = noise_hs_new(&ch->hs, "XK", false, ch->fallback, NULL,
		    CHANNEL_PROLOGUE, strlen(CHANNEL_PROLOGUE))) == 0)
			error = noise_hs_read(ch->hs, &payload, body, len);
	}
	idx = ch->nhs++;
	if (error == 0)
		error = channel_identity(ch, &payload, idx);
	cbuf_free(&payload);
	if (error < 0)
		return error;
	if (noise_hs_done(ch->hs)) {		/* responder, after message 3 */
		if ((error = channel_authorize(ch)) < 0)
			return error;
		return channel_establish(ch);
	}
	/* initiator after message 2: the responder proved it holds the key we dialled */
	if (ch->initiator && (error = channel_authorize(ch)) < 0)
		return error;
	if ((error = channel_hs_write(ch)) < 0)
		return error;
	if (noise_hs_done(ch->hs))
		return channel_establish(ch);
	return 0;
}

/* One transport frame: decrypt and add to the inner stream. */
static int
channel_noise_frame(struct channel *ch, const uint8_t *body, size_t len)
{
	struct cbuf pt = { 0 };
	int error;

	ch->received = 1;
	if ((error = noise_decrypt(ch->rx, &pt, body, len)) == 0 &&
	    evbuffer_add(ch->plain, pt.data, pt.len) != 0)
		error = CUSTODY_ENOMEM;
	if (pt.data != NULL)
		sodium_memzero(pt.data, pt.len);
	cbuf_free(&pt);
	return error;
}

/* Dispatch every whole inner frame of the decrypted stream. */
static int
channel_dispatch_plain(struct channel *ch)
{
	struct frame f;
	Envelope *env;
	uint8_t *data;
	size_t used, avail;
	int error;

	while (!ch->dead && !ch->closing) {
		avail = evbuffer_get_length(ch->plain);
		if (avail < FRAME_HEADER_LEN)
			return 0;
		data = evbuffer_pullup(ch->plain, FRAME_HEADER_LEN);
		if ((error = frame_parse(&f, &used, data, FRAME_HEADER_LEN, FRAME_MAX)) < 0)
			return error;
		/* pull up this frame only: the whole buffer each time would be quadratic */
		if (avail < frame_total(data))
			return 0;
		avail = frame_total(data);
		data = evbuffer_pullup(ch->plain, (ev_ssize_t)avail);
		if ((error = frame_parse(&f, &used, data, avail, FRAME_MAX)) < 0)
			return error;
		if (used == 0)
			return 0;
		if (f.type != FRAME_MSG)
			return custody_fail(CUSTODY_EPROTO, "unexpected frame type %u in the "
			    "channel", f.type);
		if ((error = wire_decode(&env, f.body, f.len)) < 0)
			return error;
		evbuffer_drain(ch->plain, used);
		ch->cb(ch, env, ch->arg);
	}
	return 0;
}

/* Handle every whole outer frame in the input buffer. */
static void
channel_process(struct channel *ch)
{
	struct frame f;
	uint8_t *data;
	size_t used, avail, max;
	int error;

	while (!ch->dead && !ch->closing) {
		avail = evbuffer_get_length(ch->in);
		if (avail < FRAME_HEADER_LEN)
			return;
		max = ch->established ? NOISE_MAX_MSG : CHANNEL_MAX_HS_FRAME;
		data = evbuffer_pullup(ch->in, FRAME_HEADER_LEN);
		if ((error = frame_parse(&f, &used, data, FRAME_HEADER_LEN, max)) < 0)
			goto bad;
		if ((data[4] != FRAME_HANDSHAKE || ch->established) &&
		    (data[4] != FRAME_NOISE || !ch->established)) {
			error = custody_fail(CUSTODY_EPROTO, "unexpected frame type %u %s the "
			    "handshake", data[4], ch->established ? "after" : "during");
			goto bad;
		}
		if (avail < frame_total(data))
			return;
		avail = frame_total(data);
		data = evbuffer_pullup(ch->in, (ev_ssize_t)avail);
		if ((error = frame_parse(&f, &used, data, avail, max)) < 0)
			goto bad;
		if (used == 0)
			return;
		if (f.type == FRAME_HANDSHAKE)
			error = channel_hs_frame(ch, f.body, f.len);
		else
			error = channel_noise_frame(ch, f.body, f.len);
		evbuffer_drain(ch->in, used);
		if (error < 0)
			goto bad;
		if (ch->established && (error = channel_dispatch_plain(ch)) < 0)
			goto bad;
	}
	return;
bad:
	if (ch->why[0] == '\0')
		snprintf(ch->why, sizeof ch->why, "%s", custody_error()[0] ? custody_error() :
		    custody_strerror(error));
	channel_lost(ch, "%s", ch->why);
}

/* Everything is written: half-close and read (dropping it) until the peer closes. */
static void
channel_drain(struct channel *ch)
{
	struct timeval tv = { CHANNEL_DRAIN_TIMEOUT, 0 };

	ch->draining = 1;
	event_del(ch->wev);
	if (shutdown(ch->fd, SHUT_WR) != 0) {
		channel_lost(ch, "shutdown: %s", strerror(errno));
		return;
	}
	event_add(ch->rev, &tv);
}

static void
channel_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;
	uint8_t buf[CHANNEL_READ];
	ssize_t r;

	if (ch->draining) {
		if ((what & EV_TIMEOUT) || recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			channel_lost(ch, "closed");
		return;
	}
	if (what & EV_TIMEOUT) {
		channel_lost(ch, "timed out");
		return;
	}
	r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		channel_lost(ch, "read: %s", strerror(errno));
		return;
	}
	if (r == 0) {
		if (ch->established && ch->received)
			channel_lost(ch, "connection closed by the peer");
		else if (ch->has_remote)
			channel_lost(ch, "connection closed by the peer after the handshake: does "
			    "it pin this office's key?");
		else if (ch->initiator)
			channel_lost(ch, "connection closed by the peer during the handshake: it "
			    "may not hold the key we dialled, or may speak another protocol "
			    "version");
		else
			channel_lost(ch, "connection closed by the peer during the handshake");
		return;
	}
	if (evbuffer_add(ch->in, buf, (size_t)r) != 0) {
		channel_lost(ch, "out of memory");
		return;
	}
	channel_process(ch);
}

static void
channel_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	if (evbuffer_write(ch->out, fd) < 0 && errno != EAGAIN && errno != EINTR) {
		channel_lost(ch, "%s", strerror(errno));
		return;
	}
	if (evbuffer_get_length(ch->out) > 0)
		return;
	event_del(ch->wev);
	if (ch->closing)
		channel_drain(ch);
	else if (ch->drained != NULL)
		ch->drained(ch->drained_arg);
}

/* Call cb(arg) each time the queued output has all been written (NULL: stop). */
void
channel_on_drained(struct channel *ch, void (*cb)(void *), void *arg)
{
	ch->drained = cb;
	ch->drained_arg = arg;
}

static void
channel_hs_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	channel_lost(arg, "handshake timed out");
}

/* A channel on fd; the initiator (dial != NULL) queues the first handshake message at once. */
struct channel *
channel_new(struct event_base *base, int fd, const uint8_t *dial,
    const uint8_t s_priv[static NOISE_KEY_LEN], const uint8_t ed_pub[static 32],
    channel_authorize_cb authorize,
    channel_dispatch_cb cb, void *arg)
{
	struct channel *ch;
	struct timeval tv = { CHANNEL_HS_TIMEOUT, 0 };
	uint8_t rs[NOISE_KEY_LEN];
	bool initiator = dial != NULL;

	if ((ch = calloc(1, sizeof *ch)) == NULL) {
		close(fd);
		return NULL;
	}
	ch->base = base;
	ch->fd = fd;
	ch->authorize = authorize;
	ch->cb = cb;
	ch->arg = arg;
	ch->timeout = 3600;
	ch->initiator = initiator;
	memcpy(ch->ed_pub, ed_pub, 32);
	if (initiator)
		memcpy(ch->remote_ed, dial, 32);
	evutil_make_socket_nonblocking(fd);
	ch->rev = event_new(base, fd, EV_READ | EV_PERSIST, channel_read_cb, ch);
	ch->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, channel_write_cb, ch);
	ch->hs_timer = evtimer_new(base, channel_hs_timeout_cb, ch);
	ch->in = evbuffer_new();
	ch->out = evbuffer_new();
	ch->plain = evbuffer_new();
	if (ch->rev == NULL || ch->wev == NULL || ch->hs_timer == NULL || ch->in == NULL ||
	    ch->out == NULL || ch->plain == NULL ||
	    (initiator && noise_pub_from_ed25519(rs, dial) < 0) ||
	    noise_hs_new(&ch->hs, "XK", initiator, s_priv, initiator ? rs : NULL,
	    CHANNEL_PROLOGUE, strlen(CHANNEL_PROLOGUE)) < 0 ||
	    (initiator && channel_hs_write(ch) < 0)) {
		channel_free(ch);
		return NULL;
	}
	evtimer_add(ch->hs_timer, &tv);
	channel_arm(ch);
	return ch;
}

/* A responder's earlier static key, tried when message 1 was made for another (copied). */
int
channel_set_fallback(struct channel *ch, const uint8_t s_priv[static NOISE_KEY_LEN])
{
	if (ch->initiator || ch->nhs > 0)
		return CUSTODY_EINVAL;
	if (ch->fallback == NULL && (ch->fallback = sodium_malloc(NOISE_KEY_LEN)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(ch->fallback, s_priv, NOISE_KEY_LEN);
	return 0;
}

/* Queue one message (encrypted now if the handshake is done, else when it is). */
int
channel_send(struct channel *ch, const Envelope *env)
{
	int error;

	if (ch->dead || ch->closing)
		return CUSTODY_EIO;
	if ((error = wire_encode(&ch->pending, env)) < 0)
		return error;
	if (!ch->established)
		return 0;
	return channel_seal_pending(ch);
}

/* Queue message frames encoded elsewhere (by wire_encode, perhaps on another thread). */
int
channel_send_frames(struct channel *ch, const struct cbuf *frames)
{
	int error;

	if (ch->dead || ch->closing)
		return CUSTODY_EIO;
	if (frames->len == 0)
		return 0;
	if ((error = cbuf_put(&ch->pending, frames->data, frames->len)) < 0)
		return error;
	if (!ch->established)
		return 0;
	return channel_seal_pending(ch);
}

/* Send an Error and close after it is written. */
void
channel_send_error(struct channel *ch, int code, const char *fmt, ...)
{
	Custody__Error err;
	Envelope env;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	wire_error(&env, &err, code, msg);
	if (channel_send(ch, &env) < 0) {
		channel_lost(ch, "cannot send: %s", msg);
		return;
	}
	channel_close_after_flush(ch);
}

/* Close once the output is written. */
void
channel_close_after_flush(struct channel *ch)
{
	if (ch->dead || ch->closing)
		return;
	ch->closing = 1;
	event_del(ch->rev);
	if (evbuffer_get_length(ch->out) == 0)
		channel_drain(ch);
	else
		event_add(ch->wev, NULL);
}

void
channel_set_timeout(struct channel *ch, int seconds)
{
	ch->timeout = seconds;
	if (ch->established && !ch->draining)
		channel_arm(ch);
}

bool
channel_established(const struct channel *ch)
{
	return ch->established;
}

const char *
channel_office(const struct channel *ch)
{
	return ch->office;
}

/* The peer's proven Ed25519 identity key. */
int
channel_remote_key(const struct channel *ch, uint8_t out[static 32])
{
	if (!ch->has_remote)
		return CUSTODY_ENOTFOUND;
	memcpy(out, ch->remote_ed, 32);
	return 0;
}

const char *
channel_error(const struct channel *ch)
{
	return ch->why;
}

/* Free everything; NULL is fine. */
void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	if (ch->rev != NULL)
		event_free(ch->rev);
	if (ch->wev != NULL)
		event_free(ch->wev);
	if (ch->hs_timer != NULL)
		event_free(ch->hs_timer);
	if (ch->in != NULL)
		evbuffer_free(ch->in);
	if (ch->out != NULL)
		evbuffer_free(ch->out);
	if (ch->plain != NULL)
		evbuffer_free(ch->plain);
	if (ch->pending.data != NULL)
		sodium_memzero(ch->pending.data, ch->pending.cap);
	cbuf_free(&ch->pending);
	noise_hs_free(ch->hs);
	noise_cipher_free(ch->tx);
	noise_cipher_free(ch->rx);
	free(ch->office);
	close(ch->fd);
	free(ch);
}
