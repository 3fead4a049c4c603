/* Feeds arriving from a peer: the pack, its verification, the blobs it needs, the ref. */
#ifndef CUSTODY_SYNC_VERIFY_H
#define CUSTODY_SYNC_VERIFY_H

#include <git2/sys/odb_backend.h>

#include "handover.h"
#include "sync-feeds.h"

/* The most objects one pack from a peer may hold (a first sync of a feed of a million records
 * is about 1.1 million). */
#define SYNC_PACK_MAX_OBJECTS (4u << 20)
/*
 * Bounds on what a peer sends (proto/PROTOCOL.md, "Bounds"). A feed's objects are small: an
 * encrypted record, a tree of a fan-out directory, a commit; the largest is far below
 * SYNC_OBJECT_MAX. A pack is refused as soon as it passes one of these, before libgit2 inflates
 * or allocates anything for it.
 */
#define SYNC_PACK_MAX_BYTES (1ull << 30)	/* bytes of one pack */
#define SYNC_OBJECT_MAX (16ull << 20)		/* inflated bytes of an object or delta result */
#define SYNC_PACK_MAX_EXPANDED (4ull << 30)	/* inflated bytes of a whole pack */
#define SYNC_SESSION_MAX_BYTES (4ull << 30)	/* bytes of packs in one session */
/*
 * A puller asks for the commits it lacks in packs of at most SYNC_PACK_PART bytes (PackRequest.
 * pack_bytes; CUSTODY_SYNC_PACK_BYTES in the environment sets another, for tests) and takes at
 * most SYNC_PACKS_MAX packs in one answer, each within the bounds above (a server of an earlier
 * version sends one pack whatever it is asked). Its memory then holds one pack's index at a time,
 * whatever the size of the feed.
 */
#define SYNC_PACK_PART (64ull << 20)
#define SYNC_PACKS_MAX 256

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
	uint64_t	max;	/* the most bytes its stored file may have (its record's size) */
};

/* sync-quarantine.c: a peer's pack, kept apart until its commits are verified. */
struct sync_quarantine;
int sync_quarantine_begin(struct sync_quarantine **, struct archive *);
int sync_quarantine_pack(struct sync_quarantine *, const void *data, size_t len);
int sync_quarantine_pack_end(struct sync_quarantine *);
int sync_quarantine_close(struct sync_quarantine *, git_repository **repo);
void sync_quarantine_use(struct sync_quarantine *, const git_oid *);
int sync_quarantine_only(struct sync_quarantine *);
int sync_quarantine_admit(struct sync_quarantine *);
int sync_quarantine_admit_used(struct sync_quarantine *);
void sync_quarantine_release(struct sync_quarantine *);
void sync_quarantine_free(struct sync_quarantine *);
void sync_quarantine_remove_dir(const char *dir);

struct sync_incoming {
	struct archive		*a;
	char			 hex[65];
	uint8_t			 pk[ED25519_PK_LEN];
	uint64_t		 old_seq;
	git_oid			 old_head;
	int			 have_old;
	struct sync_quarantine	*q;
	git_repository		*repo;	/* the quarantine's view, once the pack is complete */
	int			 partial;	/* taken up to a revoked office's cut: admit
						   only the used objects, not the pack */
	int			 overlap;	/* set before verify: the pack may also hold
						   commits we hold (a bundle made from an older
						   head); only the used objects are admitted */
	uint64_t		 new_seq;
	char			 new_head[GIT_OID_HEXSZ + 1];
	git_oid			 new_oid;
	struct sync_need	*need;
	size_t			 nneed, nblobs;
	int			 epoch_missing;	/* a record is wrapped under an epoch
					   not held yet: another feed may bring it */
	char			*refused;	/* set when a commit the owner signed was refused
						   and kept as evidence: the line to report */
	struct handover_feed	*keys;		/* the feed's key handovers, as its commits are
						   read (handover.h) */
	unsigned		 handovers;	/* handover records in the commit being read */
	size_t			 records;	/* records the commit being read changes */
	uint8_t			 ho_from[ED25519_PK_LEN], ho_to[ED25519_PK_LEN];
	size_t			 news;	/* records read that are not witness records */
	uint64_t		 since;	/* archive_sync_mark() before anything was received */
};

int sync_incoming_begin(struct sync_incoming *, struct archive *, const char *hex,
    const uint8_t pk[static ED25519_PK_LEN], uint64_t seq, const git_oid *head);
int sync_incoming_pack(struct sync_incoming *, const void *data, size_t len);
int sync_incoming_pack_end(struct sync_incoming *);
int sync_incoming_verify(struct sync_incoming *, const char *head, uint64_t seq);
int sync_incoming_finish(struct sync_incoming *);
void sync_incoming_free(struct sync_incoming *);
int sync_place_blob(struct archive *, const struct sync_need *, const char *partial,
    const uint8_t sum[static SHA256_LEN]);
int sync_fork_evidence(struct archive *, const char *hex, const uint8_t pk[static 32],
    uint64_t seq, const char *ours, const void *commit, size_t len, char **line);
int sync_witness(struct archive *, const struct sync_witness *, size_t);

#endif
