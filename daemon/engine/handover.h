/*
 * Signing-key handovers: an office moving its feed to a new Ed25519 key. A handover record
 * (kind "handover", id "handover-<new key hex>") in a commit signed by the feed's current key
 * names the next key; every later commit of that feed must be signed by the next key. The feed
 * keeps its ref name (the owner's original key) and the office keeps its name.
 */
#ifndef CUSTODY_HANDOVER_H
#define CUSTODY_HANDOVER_H

#include <stdint.h>

#include <jansson.h>

#include "custody/sshsig.h"
#include "archive.h"

#define HANDOVER_MAX 64		/* handovers one feed may make */

/* The key a feed's commits are signed by, as its commits are read in order. */
struct handover_chain {
	uint8_t		original[ED25519_PK_LEN];	/* the owner's key: the feed's ref name */
	uint8_t		current[ED25519_PK_LEN];	/* the key the next commit must carry */
	uint64_t	seq;		/* the commit of the last handover (0: none) */
	unsigned	n;		/* handovers made */
};

/* A chain at the start of original's feed. */
void handover_chain_init(struct handover_chain *, const uint8_t original[static ED25519_PK_LEN]);
/*
 * The commit seq, whose signature verified under the chain's current key, holds a handover
 * naming next (NULL: none): from the next commit on the chain expects next. Refused
 * (CUSTODY_EPROTO, with the reason) when next is a key the feed already used or the feed made
 * HANDOVER_MAX handovers.
 */
int handover_chain_step(struct handover_chain *, uint64_t seq, const uint8_t *next);

/* The record id of a handover to next. */
void handover_id(char id[static ID_MAX + 1], const uint8_t next[static ED25519_PK_LEN]);
/*
 * A handover record's keys, checked: kind "handover", "from" and "to" 64 lower-case hex keys
 * that differ, and the id handover_id gives for "to". Returns 0 with from/to set, or
 * CUSTODY_EPROTO naming what is wrong.
 */
int handover_parse(const json_t *doc, uint8_t from[static ED25519_PK_LEN],
    uint8_t to[static ED25519_PK_LEN]);

/* handover-feed.c: the handovers of a feed as this office holds it. */
struct handover_step {
	uint64_t	seq;		/* the handover commit */
	int64_t		time;		/* its commit time */
	uint8_t		from[ED25519_PK_LEN], to[ED25519_PK_LEN];
};
struct handover_feed {
	struct handover_chain	ch;
	struct handover_step	step[HANDOVER_MAX];	/* ch.n of them, oldest first */
};

/*
 * The handover from -> to in commit seq (made at time) of the feed f has read so far: from must
 * be the key that signs the feed now, to a key it never used, within HANDOVER_MAX. 0, or
 * CUSTODY_EPROTO saying why not (f unchanged).
 */
int handover_feed_step(struct handover_feed *f, uint64_t seq, int64_t time,
    const uint8_t from[static ED25519_PK_LEN], const uint8_t to[static ED25519_PK_LEN]);
/*
 * Does commit c of a feed hold a handover? 1 with from and to set, 0 when not, or an error. A
 * handover commit holds the handover record alone (sync-verify.c refuses any other), so only a
 * commit that changes one record is opened.
 */
int handover_in_commit(struct archive *, git_repository *, git_commit *c,
    uint8_t from[static ED25519_PK_LEN], uint8_t to[static ED25519_PK_LEN]);
/*
 * The handovers of the feed hex (held and verified here) up to its commit head (NULL: the
 * feed's ref; a feed not held yet has none). Feeds that never rotated cost one signature check;
 * others a walk of the commits past the last one read (kept in memory).
 */
int handover_feed_read(struct archive *, git_repository *, const char *hex, const git_oid *head,
    struct handover_feed *);
/* The key that signed commit seq of a feed first signed by original, as f has read it. */
const uint8_t *handover_key_at(const struct handover_feed *f, const uint8_t *original,
    uint64_t seq);
/* The key that signs office identity's feed now (identity itself when it never rotated). */
int handover_current(struct archive *, const uint8_t identity[static ED25519_PK_LEN],
    uint8_t current[static ED25519_PK_LEN]);
/*
 * The office whose feed key is now key, among the feeds handover_feed_read has read (no I/O,
 * for the event loop): 0 with identity set, or CUSTODY_ENOTFOUND (key may be an identity).
 */
int handover_identity(const uint8_t key[static ED25519_PK_LEN],
    uint8_t identity[static ED25519_PK_LEN]);
/* Is key one that a feed read here handed over (no I/O)? */
int handover_handed_over(const uint8_t key[static ED25519_PK_LEN]);

#endif
