/* Feeds arriving from a peer: the pack, its verification, the blobs it needs, the ref. */
#ifndef CUSTODY_SYNC_VERIFY_H
#define CUSTODY_SYNC_VERIFY_H

#include <git2/sys/odb_backend.h>

#include "sync.h"

struct session;

/* The most objects one pack from a peer may hold (a first sync of a feed of a million records
 * is about 1.1 million). */
#define SYNC_PACK_MAX_OBJECTS (4u << 20)

/* A feed we received and must witness. */
struct sync_witness {
	char		hex[65];
	uint64_t	seq;
	char		head[GIT_OID_HEXSZ + 1];
};

/* A blob an incoming evidence record names that we do not hold yet. */
struct sync_need {
	char		name[SHA256_HEX_LEN + 1];
	char		sha256[SHA256_HEX_LEN + 1];	/* of the plaintext */
	uint8_t		key[32];
};

struct sync_incoming {
	struct archive		*a;
	char			 hex[65];
	uint8_t			 pk[ED25519_PK_LEN];
	uint64_t		 old_seq;
	git_oid			 old_head;
	int			 have_old;
	git_odb			*odb;
	git_odb_writepack	*wp;
	git_indexer_progress	 stats;
	uint8_t			 packhdr[12];	/* checked before the indexer sees it */
	size_t			 packhdr_len;
	uint64_t		 new_seq;
	char			 new_head[GIT_OID_HEXSZ + 1];
	git_oid			 new_oid;
	struct sync_need	*need;
	size_t			 nneed, nblobs;
	char			*refused;	/* set when a commit the owner signed was refused
						   and kept as evidence: the line to report */
};

int sync_incoming_begin(struct sync_incoming *, struct archive *, const char *hex,
    const uint8_t pk[static ED25519_PK_LEN], uint64_t seq, const git_oid *head);
int sync_incoming_pack(struct sync_incoming *, const void *data, size_t len);
int sync_incoming_verify(struct sync_incoming *, const char *head, uint64_t seq);
int sync_incoming_finish(struct sync_incoming *);
void sync_incoming_free(struct sync_incoming *);
int sync_place_blob(struct archive *, const struct sync_need *, const char *partial,
    const uint8_t sum[static SHA256_LEN]);
int sync_fork_evidence(struct archive *, const char *hex, const uint8_t pk[static 32],
    uint64_t seq, const char *ours, const void *commit, size_t len, char **line);
int sync_witness(struct archive *, const struct sync_witness *, size_t);
int sync_fetch_blobs(struct session *, struct sync_incoming *);

#endif
