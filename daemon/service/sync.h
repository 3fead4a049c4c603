/*
 * Replication between offices, the service's part: serving feeds to peers and pulling theirs
 * (the feeds we hold and the forks we keep: sync-feeds.h).
 */
#ifndef CUSTODY_SYNC_H
#define CUSTODY_SYNC_H

#include "archive.h"
#include "custody/wire.h"
#include "sync-feeds.h"

struct peers_entry;

/* sync-serve.c: answer a peer's replication request (on a worker) into encoded frames. */
int sync_is_request(const Envelope *);
int sync_serve(struct archive *, const Envelope *, struct cbuf *out);
/* The same, a pack in pieces: the first into out, the rest from *more, one at a time. */
struct sync_stream;
int sync_serve_stream(struct archive *, const Envelope *, struct cbuf *out,
    struct sync_stream **more);
int sync_stream_next(struct sync_stream *, struct cbuf *out);
void sync_stream_free(struct sync_stream *);

/* sync-timer.c: pull from every peer every [sync] interval seconds, backing off failures. */
struct server;
struct sync_timer;
struct sync_timer *sync_timer_start(struct server *);
void sync_timer_stop(struct sync_timer *);

/* sync-pull.c: dial a peer and pull what it has that we lack; NULL or why it failed. */
const char *sync_with_peer(struct archive *, const struct peers_entry *, struct sync_result *);
/* Stop every session in progress at its next tick (within a second), and refuse new ones. */
void sync_stop(void);
int sync_stopped(void);

#endif
