/* Replication between offices: serving feeds to peers and pulling theirs. */
#ifndef CUSTODY_SYNC_H
#define CUSTODY_SYNC_H

#include "archive.h"
#include "custody/wire.h"

struct peers_entry;

/* One feed we hold. */
struct sync_feed {
	uint8_t		 pk[ED25519_PK_LEN];
	char		 hex[2 * ED25519_PK_LEN + 1];
	uint64_t	 seq;
	char		 head[GIT_OID_HEXSZ + 1];
};

/* What one session with a peer did, for the client and the log. */
struct sync_result {
	char		**moved;	/* lines: "feed NAME: N commits, M blobs" */
	size_t		  nmoved;
	char		**forks;	/* lines naming each fork found */
	size_t		  nforks;
	uint64_t	 *done, *total;	/* bytes of blobs received / to receive (may be NULL) */
};
void sync_result_add(struct sync_result *, int fork, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sync_result_free(struct sync_result *);

#define SYNC_FORK_MAX_BYTES (64u << 10)	/* a commit kept as evidence of a fork */
#define SYNC_FORKS_PER_FEED 16		/* fork commits kept per feed; later ones are reported */

/* sync-feeds.c */
int sync_list_feeds(struct archive *, struct sync_feed **out, size_t *n);
int sync_commit_at(struct archive *, const git_oid *head, uint64_t head_seq, uint64_t seq,
    git_oid *out);
int sync_record_fork(struct archive *, const char *office_hex, uint64_t seq,
    const char *ours, const void *theirs, size_t len, char **line);
int sync_record_refused(struct archive *, const char *office_hex, uint64_t seq,
    const char *why, const void *commit, size_t len, char **line);
int sync_list_forks(struct archive *, char ***lines, size_t *n);
char *sync_office_name(struct archive *, const uint8_t pk[static ED25519_PK_LEN]);

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
