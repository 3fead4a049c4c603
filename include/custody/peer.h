/*
 * A connection on the event loop: reads frames (and descriptors passed with them), checks the
 * protocol version and size limits, and hands each decoded message to a dispatch callback. The
 * callback gets NULL when the peer is gone or broke the protocol; it then frees the peer from
 * the loop later, never inside the callback.
 */
#ifndef CUSTODY_PEER_H
#define CUSTODY_PEER_H

#include <event2/event.h>

#include "custody/wire.h"

struct peer;
typedef void (*peer_dispatch_cb)(struct peer *, Envelope *, void *);

/* The first message must be Hello with our version; peer answers version errors itself. */
struct peer *peer_new(struct event_base *, int fd, peer_dispatch_cb, void *arg);
/* Queue a message; 0 or an error (the peer is then marked broken). */
int peer_send(struct peer *, const Envelope *);
/* Queue whole frames already encoded (by wire_encode, possibly on another thread). */
int peer_send_frames(struct peer *, const struct cbuf *);
/* Send an Error and close once it is written. */
void peer_send_error(struct peer *, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The next descriptor that arrived with the peer's frames, or -1. The caller owns it. */
int peer_take_fd(struct peer *);
/* Stop or restart dispatching (while a request is being worked on). */
void peer_pause(struct peer *);
void peer_resume(struct peer *);
/* Drop the connection once queued output is written. */
void peer_close_after_flush(struct peer *);
/* Time out a peer silent for so long (0 for none). */
void peer_set_timeout(struct peer *, int seconds);
/* Drop the connection at once; the dispatch callback gets NULL. */
void peer_abort(struct peer *);
void peer_free(struct peer *);

#endif
