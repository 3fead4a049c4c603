/* The feeds we hold, what a sync did, and the forks we keep as evidence (sync-feeds.c). */
#ifndef CUSTODY_SYNC_FEEDS_H
#define CUSTODY_SYNC_FEEDS_H

#include "archive.h"

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
	size_t		  ntaken;	/* of the moved lines, those the peer took from us */
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

#endif
