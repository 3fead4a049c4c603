/*
 * A channel between offices: Noise_XK_25519_ChaChaPoly_BLAKE2b over a TCP socket, on the event
 * loop (see proto/PROTOCOL.md, "Channels between offices").
 *
 * The office that dials always knows the key of the office it dials (pinned, or from the
 * invitation), so the responder's static key is an XK pre-message: a responder drops a message 1
 * that was not made for its key having sent nothing at all, and a stranger learns nothing about
 * who answers. The three handshake messages travel in FRAME_HANDSHAKE frames of at most
 * CHANNEL_MAX_HS_FRAME bytes; the prologue "custody/VERSION" binds the protocol version. Once the
 * peer has proven its static key, the authorize callback decides whether it may talk to us; only
 * then is anything dispatched. After that, the ordinary frames (5-byte header and body) form a byte stream that
 * is cut into Noise transport messages, each sent as one FRAME_NOISE frame. Decoded Envelopes go
 * to the dispatch callback; NULL means the channel is gone (channel_error says why), and the
 * owner then frees it from the loop later, never inside the callback.
 */
#ifndef CUSTODY_CHANNEL_H
#define CUSTODY_CHANNEL_H

#include <stdbool.h>

#include <event2/event.h>

#include "custody/noise.h"
#include "custody/wire.h"

#define CHANNEL_STR_(x) #x
#define CHANNEL_STR(x) CHANNEL_STR_(x)
#define CHANNEL_PROLOGUE "custody/" CHANNEL_STR(CUSTODY_PROTOCOL_VERSION)
#define CHANNEL_MAX_HS_FRAME 1024	/* any frame before the handshake is done */
#define CHANNEL_HS_TIMEOUT 10		/* seconds for the whole handshake */

struct channel;

/* A message, or NULL when the channel is gone. */
typedef void (*channel_dispatch_cb)(struct channel *, Envelope *, void *);
/*
 * The peer proved it holds the static key of the Ed25519 identity remote_ed (the X25519 key
 * derived from it). Return the name of the office it belongs to (copied by the channel), or NULL
 * to refuse: the connection is dropped before any message is dispatched or sent.
 */
typedef const char *(*channel_authorize_cb)(struct channel *, const uint8_t remote_ed[static 32],
    void *);

/*
 * A channel on a connected (or connecting) non-blocking socket; it owns fd. dial: the Ed25519
 * key of the office we dial (we are the initiator and send the first handshake message; the
 * authorize callback is asked about that key once the responder proved it holds it), or NULL
 * when we answer. s_priv is our static X25519 private key (copied), derived from our Ed25519
 * identity ed_pub (noise_static_from_ed25519); an initiator's message 3 carries ed_pub encrypted
 * so that the responder learns which office key it is talking to. NULL when out of memory or a
 * key is unusable (fd is then closed).
 */
struct channel *channel_new(struct event_base *, int fd, const uint8_t *dial,
    const uint8_t s_priv[static NOISE_KEY_LEN], const uint8_t ed_pub[static 32],
    channel_authorize_cb, channel_dispatch_cb, void *arg);
/*
 * A responder's earlier static X25519 key (copied): when the peer's first handshake message
 * was made for it and not for s_priv, the handshake goes on with it. An office that rotated its
 * key answers peers that have not learnt of the handover yet.
 */
int channel_set_fallback(struct channel *, const uint8_t s_priv[static NOISE_KEY_LEN]);
/* Queue a message; sent once the handshake is done. 0 or an error. */
int channel_send(struct channel *, const Envelope *);
/* Queue whole message frames already encoded (wire_encode), possibly on another thread. */
int channel_send_frames(struct channel *, const struct cbuf *);
/* Send an Error and close once it is written. */
void channel_send_error(struct channel *, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Call cb(arg) on the loop each time the queued output has all been written to the socket (NULL:
 * no more), so that a sender of many pieces can hold only one at a time.
 */
void channel_on_drained(struct channel *, void (*cb)(void *), void *arg);
/* Drop the connection once queued output is written. */
void channel_close_after_flush(struct channel *);
/* Idle timeout once established, in seconds (0: none; default 3600). */
void channel_set_timeout(struct channel *, int seconds);
/* True once the handshake is done and the peer authorized. */
bool channel_established(const struct channel *);
/* The office the authorize callback named, or NULL. */
const char *channel_office(const struct channel *);
/* The peer's Ed25519 identity once it proved its key; CUSTODY_ENOTFOUND before. */
int channel_remote_key(const struct channel *, uint8_t out[static 32]);
/* Why the channel was lost ("" while it is not). */
const char *channel_error(const struct channel *);
/* Close the socket and wipe the keys; NULL is fine. */
void channel_free(struct channel *);

#endif
