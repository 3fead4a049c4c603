/*
 * What the dialler serves the other office in its turn of a two-way session (sync-turn.c), kept
 * within bounds however long that office keeps asking: at most TURN_REQUESTS_MAX requests, each
 * range of a blob at most twice, and the whole turn within TURN_TIME_BASE seconds plus the time
 * its bytes take at the peer's configured rate (at most TURN_RATE_MAX bytes a second).
 */
#ifndef SYNC_TURN_LIMIT_H
#define SYNC_TURN_LIMIT_H

#include <stdint.h>
#include <time.h>

#include "sync.h"

#define TURN_REQUESTS_MAX (1u << 16)	/* requests in one turn */
#define TURN_RANGE_MAX 2		/* times one range of a blob is served in a turn */
#define TURN_TIME_BASE 600		/* seconds a turn may take, beyond its bytes' time */
#define TURN_RATE_MAX (64u << 10)	/* bytes a second the bytes' time is counted at, at most */

struct turn_range;

struct turn_limit {
	struct timespec		 start;
	uint64_t		 rate;		/* bytes a second the bytes' time is counted at */
	uint32_t		 requests;
	struct turn_range	*ranges;	/* open addressing, a power of two slots */
	size_t			 nranges, cap;
};

/* Start counting a turn served to a peer whose rate is rate bytes a second (0: none). */
void turn_limit_init(struct turn_limit *, uint64_t rate);
/*
 * Count one request of the turn, with served bytes served so far: 0 when it may be answered,
 * or CUSTODY_ETOOBIG with custody_error() saying which limit the peer passed.
 */
int turn_limit_check(struct turn_limit *, const Envelope *, uint64_t served);
/* Free what the counting holds. */
void turn_limit_free(struct turn_limit *);

#endif
