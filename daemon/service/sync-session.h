/*
 * An outgoing sync session (sync-pull.c), shared with the blob fetching of sync-blobs.c.
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
};

/* The next message from the peer, or NULL (s->why says why). */
Envelope *session_recv(struct session *);

struct sync_incoming;
/* Fetch every blob the incoming records name that this office does not hold (sync-blobs.c). */
int sync_fetch_blobs(struct session *, struct sync_incoming *);

#endif
