/*
 * The listener's half of a two-way session (sync-both.c): the office that dialled us hands us
 * the turn and we pull from it over its channel, on a worker, the loop relaying the messages.
 */
#ifndef SYNC_BOTH_H
#define SYNC_BOTH_H

#include <event2/event.h>

#include "archive.h"
#include "custody/conn.h"
#include "pool.h"

struct sync_relay;

/*
 * Pull from the office at the other end of ch on a worker of pool; done(arg) runs on the loop
 * once the turn is handed back, and only then may ch go. *out stays NULL when the turn was
 * declined at once (another such pull is running).
 */
int sync_relay_start(struct sync_relay **out, struct archive *, struct pool *,
    struct event_base *, struct conn *ch, void (*done)(void *), void *arg);
/* On the loop: an answer of the office, for the pull (reading pauses while the pull lags). */
void sync_relay_push(struct sync_relay *, Envelope *);
/* On the loop: the channel is gone. */
void sync_relay_lost(struct sync_relay *);

#endif
