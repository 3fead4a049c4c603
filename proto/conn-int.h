/*
 * What conn.c (the lifecycle of a connection and its plain transform) and conn-noise.c (the
 * Noise transform) share.
 */
#ifndef CUSTODY_CONN_INT_H
#define CUSTODY_CONN_INT_H

#include <sys/time.h>

#include <event2/buffer.h>

#include "custody/conn.h"

#define CONN_MAX_QUEUED_FDS 64

/*
 * A room a large answer is sealed into and queued from by reference, with no copy: given back
 * to its connection once written (kept for the next answer), or freed.
 */
struct conn_room {
	struct conn_noise	*owner;
	struct conn_room	*next;
	size_t			 cap;
	uint8_t			 data[];
};

/* The state of the Noise transform. */
struct conn_noise {
	struct cbuf		 plain;		/* decrypted stream of message frames, one
						   flat run: a frame is dispatched from where
						   it was decrypted, with no pullup */
	size_t			 plain_off;	/* the bytes of it dispatched */
	struct conn_room	*rooms;		/* written, free for the next answers */
	size_t			 nrooms;
	struct noise_hs		*hs;		/* until the handshake is done */
	struct noise_cipher	*tx, *rx;	/* after */
	uint8_t			 remote[NOISE_KEY_LEN];
	uint8_t			 ed_pub[32];	/* ours, sent in message 3 by an initiator */
	uint8_t			 remote_ed[32];	/* theirs: dialled, or checked against remote */
	char			*office;
	conn_authorize_cb	 authorize;
	int			 nhs;		/* handshake messages so far */
	uint8_t			*fallback;	/* a responder's earlier static key, or NULL */
	unsigned		 has_remote : 1, received : 1, initiator : 1;
};

/* A bandwidth limit (conn-rate.c): a token bucket per direction. */
enum { CONN_RX, CONN_TX };
struct conn_rate {
	uint64_t		 rate, burst;	/* bytes per second; the most a bucket holds */
	uint64_t		 tokens[2];	/* CONN_RX, CONN_TX */
	uint64_t		 last[2];	/* the last refill, monotonic microseconds */
	struct event		*ev;		/* wakes the waiting directions */
	unsigned		 rx_wait : 1, tx_wait : 1;
};

struct conn {
	struct event_base	*base;
	int			 fd;
	struct event		*rev, *wev;
	struct event		*deadline;	/* for the Hello or handshake, then for draining */
	struct evbuffer		*in, *out;	/* frames as on the socket */
	struct cbuf		 pending;	/* message frames not yet queued on out */
	struct conn_noise	*noise;		/* NULL: plain */
	struct conn_rate	*rate;		/* NULL: no bandwidth limit */
	int			 fds[CONN_MAX_QUEUED_FDS];
	size_t			 nfds;
	conn_dispatch_cb	 cb;
	void			*arg;
	void			(*drained)(void *);	/* the output has all been written */
	void			*drained_arg;
	int			 timeout;
	char			 why[256];
	unsigned		 established : 1, paused : 1, closing : 1, dead : 1, reading : 1,
				 draining : 1, stalled : 1;	/* stalled: see CONN_OUT_HIGH */
};

/* The connection is gone or broken: stop everything and tell the owner once. */
void conn_lost(struct conn *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* (Re)arm the read event with the timeout that applies now. */
void conn_arm(struct conn *);
/* Wait for the socket to take output, with the timeout for an end that reads nothing. */
void conn_want_write(struct conn *);
/* Queue bytes for the socket. */
int conn_queue(struct conn *, const void *, size_t);
/* The handshake or the Hello is done: stop its timer, arm the idle timeout. */
void conn_establish(struct conn *);
/* Dispatch every whole message frame of buf while not paused; 0 or an error. */
int conn_frames(struct conn *, struct evbuffer *buf);
/* The same for the flat buffer b from *off on, moving *off past what was dispatched. */
int conn_frames_flat(struct conn *, const struct cbuf *b, size_t *off);
/* A new connection with its events and buffers, or NULL (fd is then closed). */
struct conn *conn_alloc(struct event_base *, int fd, conn_dispatch_cb, void *arg);

/* Handle every whole Noise frame of c->in; 0 or an error. */
int conn_noise_process(struct conn *);
/* Encrypt the pending message frames into FRAME_NOISE frames (once established). */
int conn_noise_seal(struct conn *);
/* Encrypt len bytes of message frames into FRAME_NOISE frames on the output (established). */
int conn_noise_seal_bytes(struct conn *, const uint8_t *, size_t);
/* Why a Noise connection closed by its peer was lost, by how far it had come. */
const char *conn_noise_closed(const struct conn *);
/* Wipe the handshake state (the connection is lost). */
void conn_noise_drop_hs(struct conn *);
/* How many of want bytes may move in direction dir now; 0: that direction now waits. */
size_t conn_rate_allow(struct conn *, int dir, size_t want);
/* n bytes moved in direction dir. */
void conn_rate_spend(struct conn *, int dir, size_t n);
/* Is direction dir waiting for tokens? */
bool conn_rate_waiting(const struct conn *, int dir);
/* Drop the limit and its timer. */
void conn_rate_free(struct conn *);
/* Free the Noise state; NULL is fine. */
void conn_noise_free(struct conn_noise *);

#endif
