/*
 * A sync session (sync-pull.c), shared with the blob fetching of sync-blobs.c and the turns of a
 * two-way session (sync-turn.c: the dialler; sync-both.c: the listener, whose pull reaches the
 * channel through a relay to the loop that owns it).
 */
#ifndef SYNC_SESSION_H
#define SYNC_SESSION_H

#include <event2/event.h>

#include "custody/conn.h"
#include "peers.h"
#include "sync.h"

#define SYNC_WINDOW 8		/* blob requests in flight */
#define SYNC_BLOB_CHUNK (1 << 20)	/* what the peer answers per request (sync-serve.c) */

struct msgq {
	Envelope	*msg;
	struct msgq	*next;
};

/* One outgoing session. */
struct session {
	struct archive			*a;
	const struct peers_entry	*peer;
	struct event_base		*base;
	struct conn			*ch;
	struct event			*timer;
	struct msgq			*head, **tail;
	int				 gone, timed_out, waited;
	int				 patience;	/* seconds to wait for the next message
						   when more than SYNC_TIMEOUT (0: that) */
	uint64_t			 pack_bytes;	/* of every pack this session */
	char				 why[400];
	struct sync_result		*res;
	uint8_t				 dial[ED25519_PK_LEN];	/* the peer's key now: its
						   pinned one, or the one it handed over to */
	struct sync_relay		*relay;		/* the listener's pull (sync-both.c):
						   ch, base and timer are NULL */
	int				 records_first;	/* a feed whose commits name a blob
						   we lack waits for the next pull */
	size_t				 deferred;	/* feeds that waited so */
	int				 drained;	/* sync-turn.c: the output is written */
	uint64_t			 served;	/* bytes of packs served in the turn */
	struct sync_witness		*wit;		/* feeds taken, to witness */
	size_t				 nwit;
	uint64_t			 own_seen;	/* the most of our own feed the peer holds */
};

/* The next message from the peer, or NULL (s->why says why). */
Envelope *session_recv(struct session *);
/* Send a message to the peer; 0 or an error (s->why says why). */
int session_send(struct session *, const Envelope *);
/* Pull every feed the peer holds further than we do (sync-pull.c). */
int session_pull(struct session *, struct sync_result *);
/* Write the witness records of what the session's pulls took (a pull of records first does not). */
void session_witness(struct session *);

/* sync-turn.c: the dialler hands the turn over and serves the listener's pull until it ends. */
int sync_turn_give(struct session *, struct sync_result *);

/* sync-both.c: the listener's pull reads and writes the channel through the loop. */
struct sync_relay;
Envelope *sync_relay_recv(struct session *);
int sync_relay_send(struct sync_relay *, const Envelope *);

struct sync_incoming;
/* Fetch every blob the incoming records name that this office does not hold (sync-blobs.c). */
int sync_fetch_blobs(struct session *, struct sync_incoming *);

#endif
