/*
 * A connection on the event loop: one object for the local clients on the Unix socket and for
 * the offices over TCP. It reads frames, checks their size limits and the protocol version, and
 * hands each decoded message to a dispatch callback; the callback gets NULL when the other end
 * is gone or broke the protocol (conn_error says why), and the owner then frees the connection
 * from the loop later, never inside the callback.
 *
 * Two transforms carry the message frames (5-byte header and body, see custody/wire.h):
 * - plain (conn_new), for local clients: the frames as they are, descriptors passed with them
 *   (SCM_RIGHTS); the first message must be a Hello with our protocol version, in a frame of at
 *   most FRAME_MAX_HELLO bytes, within CONN_AUTH_TIMEOUT seconds. A client that breaks the
 *   protocol is sent an Error and closed.
 * - Noise (conn_noise_new), between offices: Noise_XK_25519_ChaChaPoly_BLAKE2b (see
 *   proto/PROTOCOL.md, "Channels between offices"). The office that dials always knows the key
 *   of the office it dials (pinned, or from the invitation), so the responder's static key is an
 *   XK pre-message: a responder drops a message 1 that was not made for its key having sent
 *   nothing at all, and a stranger learns nothing about who answers. The three handshake
 *   messages travel in FRAME_HANDSHAKE frames of at most CONN_MAX_HS_FRAME bytes, within
 *   CONN_AUTH_TIMEOUT seconds; the prologue "custody/VERSION" binds the protocol version. Once
 *   the peer has proven its static key, the authorize callback decides whether it may talk to
 *   us; only then is anything dispatched. After that, the message frames form a byte stream that
 *   is cut into Noise transport messages, each sent as one FRAME_NOISE frame. A peer that breaks
 *   the protocol is dropped without a word.
 */
#ifndef CUSTODY_CONN_H
#define CUSTODY_CONN_H

#include <stdbool.h>

#include <event2/event.h>

#include "custody/noise.h"
#include "custody/wire.h"

#define CONN_STR_(x) #x
#define CONN_STR(x) CONN_STR_(x)
#define CONN_PROLOGUE "custody/" CONN_STR(CUSTODY_PROTOCOL_VERSION)
#define CONN_MAX_HS_FRAME 1024	/* any frame of a Noise connection before the handshake is done */
#define CONN_AUTH_TIMEOUT 10	/* seconds for the Hello, or for the whole handshake */

struct conn;

/* A message, or NULL when the connection is gone. */
typedef void (*conn_dispatch_cb)(struct conn *, Envelope *, void *);
/*
 * The peer proved it holds the static key of the Ed25519 identity remote_ed (the X25519 key
 * derived from it). Return the name of the office it belongs to (copied by the connection), or
 * NULL to refuse: the connection is dropped before any message is dispatched or sent.
 */
typedef const char *(*conn_authorize_cb)(struct conn *, const uint8_t remote_ed[static 32],
    void *);

/*
 * A plain connection on a connected socket (a local client); it owns fd. NULL when out of
 * memory (fd is then closed).
 */
struct conn *conn_new(struct event_base *, int fd, conn_dispatch_cb, void *arg);
/*
 * A Noise connection on a connected (or connecting) non-blocking socket; it owns fd. dial: the
 * Ed25519 key of the office we dial (we are the initiator and send the first handshake message;
 * the authorize callback is asked about that key once the responder proved it holds it), or
 * NULL when we answer. s_priv is our static X25519 private key (copied), derived from our
 * Ed25519 identity ed_pub (noise_static_from_ed25519); an initiator's message 3 carries ed_pub
 * encrypted so that the responder learns which office key it is talking to. NULL when out of
 * memory or a key is unusable (fd is then closed).
 */
struct conn *conn_noise_new(struct event_base *, int fd, const uint8_t *dial,
    const uint8_t s_priv[static NOISE_KEY_LEN], const uint8_t ed_pub[static 32],
    conn_authorize_cb, conn_dispatch_cb, void *arg);
/*
 * A Noise responder's earlier static X25519 key (copied): when the peer's first handshake
 * message was made for it and not for s_priv, the handshake goes on with it. An office that
 * rotated its key answers peers that have not learnt of the handover yet.
 */
int conn_noise_set_fallback(struct conn *, const uint8_t s_priv[static NOISE_KEY_LEN]);

/* Queue a message (a Noise connection sends it once the handshake is done); 0 or an error. */
int conn_send(struct conn *, const Envelope *);
/* Queue whole message frames already encoded (by wire_encode, possibly on another thread). */
int conn_send_frames(struct conn *, const struct cbuf *);
/* Send an Error and close once it is written. */
void conn_send_error(struct conn *, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Call cb(arg) on the loop each time the queued output has all been written to the socket (NULL:
 * no more), so that a sender of many pieces can hold only one at a time.
 */
void conn_on_drained(struct conn *, void (*cb)(void *), void *arg);
/* The next descriptor that arrived with a plain connection's frames, or -1. The caller owns it. */
int conn_take_fd(struct conn *);
/* Stop or restart dispatching (while a request is being worked on). */
void conn_pause(struct conn *);
void conn_resume(struct conn *);
/* Drop the connection once queued output is written. */
void conn_close_after_flush(struct conn *);
/* Idle timeout once the Hello is accepted or the handshake done, in seconds (0: none; default 3600). */
void conn_set_timeout(struct conn *, int seconds);
/* Limit the connection to bytes_per_second in each direction (0: no limit); 0 or ENOMEM. */
int conn_set_rate(struct conn *, uint64_t bytes_per_second);
/* Drop the connection at once, without a word; the dispatch callback gets NULL. */
void conn_abort(struct conn *);
/* True once the Hello is accepted (plain) or the handshake done and the peer authorized (Noise). */
bool conn_established(const struct conn *);
/* The office the authorize callback named, or NULL. */
const char *conn_office(const struct conn *);
/* The peer's Ed25519 identity once it proved its key; CUSTODY_ENOTFOUND before (and if plain). */
int conn_remote_key(const struct conn *, uint8_t out[static 32]);
/* Why the connection was lost ("" while it is not). */
const char *conn_error(const struct conn *);
/* Close the socket and any unclaimed descriptors, wipe the keys; NULL is fine. */
void conn_free(struct conn *);

#endif
