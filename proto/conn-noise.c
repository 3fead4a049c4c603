/* The Noise transform of a connection between offices: the handshake, authorization, sealing. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conn-int.h"

/* Queue one outer frame. */
static int
conn_noise_frame_out(struct conn *c, uint8_t type, const uint8_t *body, size_t len)
{
	struct cbuf b = { 0 };
	int error;

	if ((error = frame_put_header(&b, type, len)) == 0 && (error = cbuf_put(&b, body,
	    len)) == 0)
		error = conn_queue(c, b.data, b.len);
	cbuf_free(&b);
	return error;
}

#define CONN_ROOM_MIN (256u << 10)	/* sealed output this large goes out of a room */
#define CONN_ROOMS_KEPT 4		/* rooms a connection keeps for its next answers */

/* The output queued from a room is written (or dropped): keep the room, or free it. */
static void
conn_room_release(const void *data, size_t len, void *arg)
{
	struct conn_room *r = arg;
	struct conn_noise *n = r->owner;

	(void)data;
	(void)len;
	if (n != NULL && n->nrooms < CONN_ROOMS_KEPT) {
		r->next = n->rooms;
		n->rooms = r;
		n->nrooms++;
	} else
		free(r);
}

/* A room of at least len bytes: a kept one, or a new one; NULL when out of memory. */
static struct conn_room *
conn_room_take(struct conn_noise *n, size_t len)
{
	struct conn_room *r;

	while ((r = n->rooms) != NULL) {
		n->rooms = r->next;
		n->nrooms--;
		if (r->cap >= len)
			return r;
		free(r);	/* too small for what is sent now */
	}
	if ((r = malloc(sizeof *r + len)) == NULL)
		return NULL;
	r->owner = n;
	r->cap = len;
	return r;
}

/*
 * Encrypt len bytes of message frames into transport messages, one FRAME_NOISE frame each,
 * sealed straight into the room they go out of: a room of their own queued by reference when
 * they are many (an answer of a megabyte: no copy, and no fresh memory faulted in for each),
 * else room reserved on the output at once for all of them (one chain, not one per frame).
 */
int
conn_noise_seal_bytes(struct conn *c, const uint8_t *data, size_t len)
{
	struct evbuffer_iovec v;
	struct conn_room *r = NULL;
	size_t off, n, msgs, total;
	uint8_t *p;
	int error = 0;

	if (len == 0)
		return 0;
	msgs = (len + NOISE_MAX_PAYLOAD - 1) / NOISE_MAX_PAYLOAD;
	total = len + msgs * (FRAME_HEADER_LEN + NOISE_TAG_LEN);
	if (total > SSIZE_MAX)
		return CUSTODY_ENOMEM;
	if (total >= CONN_ROOM_MIN) {
		if ((r = conn_room_take(c->noise, total)) == NULL)
			return CUSTODY_ENOMEM;
		p = r->data;
	} else if (evbuffer_reserve_space(c->out, (ev_ssize_t)total, &v, 1) != 1 ||
	    v.iov_len < total)
		return CUSTODY_ENOMEM;
	else
		p = v.iov_base;
	for (off = 0; off < len && error == 0; off += n) {
		n = len - off < NOISE_MAX_PAYLOAD ? len - off : NOISE_MAX_PAYLOAD;
		frame_header(p, FRAME_NOISE, (uint32_t)(n + NOISE_TAG_LEN));
		error = noise_encrypt_to(c->noise->tx, p + FRAME_HEADER_LEN, data + off, n);
		p += FRAME_HEADER_LEN + n + NOISE_TAG_LEN;
	}
	if (error == 0 && r != NULL) {
		if (evbuffer_add_reference(c->out, r->data, total, conn_room_release, r) != 0)
			error = CUSTODY_ENOMEM;
		else
			r = NULL;	/* the output owns it now */
	} else if (error == 0) {
		v.iov_len = total;
		if (evbuffer_commit_space(c->out, &v, 1) != 0)
			error = CUSTODY_ENOMEM;
	}
	if (r != NULL)		/* nothing of it goes out: the session ends */
		conn_room_release(r->data, 0, r);
	if (error < 0)
		return error;
	conn_want_write(c);
	return 0;
}

/* Encrypt the pending message frames (conn_noise_seal_bytes), wiping them once sealed. */
int
conn_noise_seal(struct conn *c)
{
	int error;

	error = conn_noise_seal_bytes(c, c->pending.data, c->pending.len);
	if (c->pending.len > 0)
		sodium_memzero(c->pending.data, c->pending.len);
	c->pending.len = 0;
	return error;
}

/* Write our next handshake message. */
static int
conn_noise_hs_write(struct conn *c)
{
	struct conn_noise *n = c->noise;
	struct cbuf msg = { 0 };
	int error;

	/* messages 1 and 2 carry no payload; 3 (the initiator's) carries our Ed25519 identity */
	if ((error = noise_hs_write(n->hs, &msg, n->ed_pub, n->nhs == 2 ? 32 : 0)) == 0)
		error = conn_noise_frame_out(c, FRAME_HANDSHAKE, msg.data, msg.len);
	n->nhs++;
	cbuf_free(&msg);
	return error;
}

/* Ask the owner about the peer's proven static key; 0 or CUSTODY_EPERM. */
static int
conn_noise_authorize(struct conn *c)
{
	struct conn_noise *n = c->noise;
	const char *office;
	char hex[2 * NOISE_KEY_LEN + 1];

	if (noise_hs_remote_static(n->hs, n->remote) < 0)
		return CUSTODY_EPROTO;
	n->has_remote = 1;
	if ((office = n->authorize(c, n->remote_ed, c->arg)) == NULL) {
		sodium_bin2hex(hex, sizeof hex, n->remote_ed, sizeof n->remote_ed);
		snprintf(c->why, sizeof c->why, "peer key %s is not authorized", hex);
		return CUSTODY_EPERM;
	}
	if ((n->office = strdup(office)) == NULL)
		return CUSTODY_ENOMEM;
	return 0;
}

/* The handshake is done and the peer authorized: switch to transport messages. */
static int
conn_noise_establish(struct conn *c)
{
	struct conn_noise *n = c->noise;
	int error;

	if ((error = noise_hs_split(n->hs, &n->tx, &n->rx)) < 0)
		return error;
	noise_hs_free(n->hs);
	n->hs = NULL;
	conn_establish(c);
	return conn_noise_seal(c);
}

/*
 * The payload of handshake message idx (0, 1 or 2): none in messages 1 and 2; in message 3, the
 * initiator's Ed25519 key, which must be the one its proven static X25519 key derives from.
 */
static int
conn_noise_identity(struct conn_noise *n, const struct cbuf *payload, int idx)
{
	uint8_t x[NOISE_KEY_LEN];

	if (idx < 2)
		return payload->len == 0 ? 0 : custody_fail(CUSTODY_EPROTO, "handshake "
		    "message %d must have no payload", idx + 1);
	if (noise_hs_remote_static(n->hs, n->remote) < 0 || payload->len != 32 ||
	    noise_pub_from_ed25519(x, payload->data) < 0 ||
	    sodium_memcmp(x, n->remote, NOISE_KEY_LEN) != 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's identity key does not match "
		    "its handshake key");
	memcpy(n->remote_ed, payload->data, 32);
	return 0;
}

/* One handshake frame from the peer. */
static int
conn_noise_hs_frame(struct conn *c, const uint8_t *body, size_t len)
{
	struct conn_noise *n = c->noise;
	struct cbuf payload = { 0 };
	int error, idx;

	if (noise_hs_want_write(n->hs))
		return custody_fail(CUSTODY_EPROTO, "handshake message out of turn");
	/*
	 * A responder that cannot read message 1 (made for another key, or not Noise at all)
	 * drops the connection having sent nothing: a prober learns nothing about this office.
	 */
	error = noise_hs_read(n->hs, &payload, body, len);
	/* a responder that rotated its key still answers a peer dialling the one before */
	if (error < 0 && !n->initiator && n->nhs == 0 && n->fallback != NULL) {
		noise_hs_free(n->hs);
		n->hs = NULL;
		cbuf_free(&payload);
		if ((error = noise_hs_new(&n->hs, "XK", false, n->fallback, NULL,
		    CONN_PROLOGUE, strlen(CONN_PROLOGUE))) == 0)
			error = noise_hs_read(n->hs, &payload, body, len);
	}
	idx = n->nhs++;
	if (error == 0)
		error = conn_noise_identity(n, &payload, idx);
	cbuf_free(&payload);
	if (error < 0)
		return error;
	if (noise_hs_done(n->hs)) {		/* responder, after message 3 */
		if ((error = conn_noise_authorize(c)) < 0)
			return error;
		return conn_noise_establish(c);
	}
	/* initiator after message 2: the responder proved it holds the key we dialled */
	if (n->initiator && (error = conn_noise_authorize(c)) < 0)
		return error;
	if ((error = conn_noise_hs_write(c)) < 0)
		return error;
	if (noise_hs_done(n->hs))
		return conn_noise_establish(c);
	return 0;
}

#define CONN_NOISE_PIECES 8	/* pieces of c->in a transport frame is decrypted from in place */
/* A stream of plaintext left empty with more room than this gives it back. */
#define CONN_NOISE_PLAIN_KEEP (2u << 20)

/*
 * Room for len more bytes at the end of the plaintext stream; what was dispatched is dropped
 * first (a frame cut by the end of the last transport message is moved to the front: a part of
 * one transport message, as frames are dispatched after each).
 */
static uint8_t *
conn_noise_plain_room(struct conn_noise *n, size_t len)
{
	struct cbuf *p = &n->plain;

	if (n->plain_off > 0) {
		memmove(p->data, p->data + n->plain_off, p->len - n->plain_off);
		p->len -= n->plain_off;
		n->plain_off = 0;
	}
	if (cbuf_reserve(p, len) < 0)
		return NULL;
	return p->data + p->len;
}

/* The plaintext stream is all dispatched: empty it, and give back a room grown large. */
static void
conn_noise_plain_done(struct conn_noise *n)
{
	if (n->plain_off < n->plain.len)
		return;
	n->plain.len = n->plain_off = 0;
	if (n->plain.cap > CONN_NOISE_PLAIN_KEEP) {
		sodium_memzero(n->plain.data, n->plain.cap);
		cbuf_free(&n->plain);
	}
}

/* Dispatch the whole message frames of the plaintext stream while not paused. */
static int
conn_noise_frames(struct conn *c)
{
	int error;

	error = conn_frames_flat(c, &c->noise->plain, &c->noise->plain_off);
	conn_noise_plain_done(c->noise);
	return error;
}

/*
 * The transport frame of len bytes after the header at the start of c->in: decrypt it from where
 * it lies (the pieces it was read in, no pullup) onto the end of the plaintext stream, which
 * takes it once it authenticates (what does not is wiped).
 */
static int
conn_noise_transport_frame(struct conn *c, size_t len)
{
	struct conn_noise *n = c->noise;
	struct evbuffer_iovec ev[CONN_NOISE_PIECES];
	struct iovec ct[CONN_NOISE_PIECES];
	struct evbuffer_ptr at;
	uint8_t none[1], *data;
	int i, k, error;

	n->received = 1;
	if (len < NOISE_TAG_LEN)
		return custody_fail(CUSTODY_EINVAL, "noise: transport message of %zu bytes", len);
	if (evbuffer_ptr_set(c->in, &at, FRAME_HEADER_LEN, EVBUFFER_PTR_SET) != 0 ||
	    (k = evbuffer_peek(c->in, (ev_ssize_t)len, &at, ev, CONN_NOISE_PIECES)) < 1 ||
	    k > CONN_NOISE_PIECES) {	/* in too many pieces: make it one */
		if ((data = evbuffer_pullup(c->in, (ev_ssize_t)(FRAME_HEADER_LEN + len))) == NULL)
			return CUSTODY_ENOMEM;
		ev[0].iov_base = data + FRAME_HEADER_LEN;
		ev[0].iov_len = len;
		k = 1;
	}
	for (i = 0; i < k; i++) {
		ct[i].iov_base = ev[i].iov_base;
		ct[i].iov_len = ev[i].iov_len;
	}
	if (len == NOISE_TAG_LEN)	/* an empty message */
		return noise_decrypt_iov(n->rx, none, ct, k, len);
	if ((data = conn_noise_plain_room(n, len - NOISE_TAG_LEN)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = noise_decrypt_iov(n->rx, data, ct, k, len)) < 0)
		return error;
	n->plain.len += len - NOISE_TAG_LEN;
	return 0;
}

/* Handle every whole outer frame of c->in, dispatching the messages they carry. */
int
conn_noise_process(struct conn *c)
{
	struct frame f;
	uint8_t *data;
	size_t used, avail, max;
	int error;

	/* messages decrypted before a pause or a stall come first */
	if (c->established && (error = conn_noise_frames(c)) < 0)
		return error;
	while (!c->dead && !c->paused && !c->closing && !c->stalled) {
		avail = evbuffer_get_length(c->in);
		if (avail < FRAME_HEADER_LEN)
			return 0;
		max = c->established ? NOISE_MAX_MSG : CONN_MAX_HS_FRAME;
		data = evbuffer_pullup(c->in, FRAME_HEADER_LEN);
		if ((error = frame_parse(&f, &used, data, FRAME_HEADER_LEN, max)) < 0)
			return error;
		if ((data[4] != FRAME_HANDSHAKE || c->established) &&
		    (data[4] != FRAME_NOISE || !c->established))
			return custody_fail(CUSTODY_EPROTO, "unexpected frame type %u %s the "
			    "handshake", data[4], c->established ? "after" : "during");
		if (avail < frame_total(data))
			return 0;
		avail = frame_total(data);
		if (data[4] == FRAME_NOISE)	/* decrypted where it lies: no pullup */
			error = conn_noise_transport_frame(c, avail - FRAME_HEADER_LEN);
		else {
			data = evbuffer_pullup(c->in, (ev_ssize_t)avail);
			if ((error = frame_parse(&f, &used, data, avail, max)) < 0)
				return error;
			if (used == 0)
				return 0;
			error = conn_noise_hs_frame(c, f.body, f.len);
		}
		evbuffer_drain(c->in, avail);
		if (error < 0)
			return error;
		if (c->established && (error = conn_noise_frames(c)) < 0)
			return error;
	}
	return 0;
}

/* Why a connection closed by its peer was lost, by how far the handshake had come. */
const char *
conn_noise_closed(const struct conn *c)
{
	const struct conn_noise *n = c->noise;

	if (c->established && n->received)
		return "connection closed by the peer";
	if (n->has_remote)
		return "connection closed by the peer after the handshake: does it pin this "
		    "office's key?";
	if (n->initiator)
		return "connection closed by the peer during the handshake: it may not hold the "
		    "key we dialled, or may speak another protocol version";
	return "connection closed by the peer during the handshake";
}

void
conn_noise_drop_hs(struct conn *c)
{
	noise_hs_free(c->noise->hs);
	c->noise->hs = NULL;
	sodium_free(c->noise->fallback);
	c->noise->fallback = NULL;
}

void
conn_noise_free(struct conn_noise *n)
{
	struct conn_room *r;

	if (n == NULL)
		return;
	if (n->plain.data != NULL)
		sodium_memzero(n->plain.data, n->plain.cap);
	cbuf_free(&n->plain);
	while ((r = n->rooms) != NULL) {
		n->rooms = r->next;
		free(r);
	}
	noise_hs_free(n->hs);
	noise_cipher_free(n->tx);
	noise_cipher_free(n->rx);
	sodium_free(n->fallback);
	free(n->office);
	free(n);
}

/* A Noise connection on fd; the initiator (dial != NULL) queues the first handshake message. */
struct conn *
conn_noise_new(struct event_base *base, int fd, const uint8_t *dial,
    const uint8_t s_priv[static NOISE_KEY_LEN], const uint8_t ed_pub[static 32],
    conn_authorize_cb authorize, conn_dispatch_cb cb, void *arg)
{
	struct timeval tv = { CONN_AUTH_TIMEOUT, 0 };
	struct conn_noise *n;
	struct conn *c;
	uint8_t rs[NOISE_KEY_LEN];
	bool initiator = dial != NULL;

	if ((c = conn_alloc(base, fd, cb, arg)) == NULL)
		return NULL;
	if ((n = c->noise = calloc(1, sizeof *n)) == NULL) {
		conn_free(c);
		return NULL;
	}
	n->authorize = authorize;
	n->initiator = initiator;
	memcpy(n->ed_pub, ed_pub, 32);
	if (initiator)
		memcpy(n->remote_ed, dial, 32);
	if ((initiator && noise_pub_from_ed25519(rs, dial) < 0) ||
	    noise_hs_new(&n->hs, "XK", initiator, s_priv, initiator ? rs : NULL,
	    CONN_PROLOGUE, strlen(CONN_PROLOGUE)) < 0 ||
	    (initiator && conn_noise_hs_write(c) < 0)) {
		conn_free(c);
		return NULL;
	}
	evtimer_add(c->deadline, &tv);
	conn_arm(c);
	return c;
}

/* A responder's earlier static key, tried when message 1 was made for another (copied). */
int
conn_noise_set_fallback(struct conn *c, const uint8_t s_priv[static NOISE_KEY_LEN])
{
	struct conn_noise *n = c->noise;

	if (n == NULL || n->initiator || n->nhs > 0)
		return CUSTODY_EINVAL;
	if (n->fallback == NULL && (n->fallback = sodium_malloc(NOISE_KEY_LEN)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(n->fallback, s_priv, NOISE_KEY_LEN);
	return 0;
}
