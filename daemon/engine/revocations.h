/*
 * Revocations: offices cutting a seized office off. A revocation record (kind "revocation",
 * id "revocation-<revoked key hex>-<from_seq>") in an office's feed is that office's signature
 * on cutting the revoked office off after its commit from_seq. It takes effect once enough
 * distinct offices signed it (the quorum), counted the same way at every office.
 */
#ifndef CUSTODY_REVOCATIONS_H
#define CUSTODY_REVOCATIONS_H

#include "offices.h"

#define REVOCATIONS_SIGNERS_MAX 64	/* signers kept per revocation; more are not read */
#define REVOCATIONS_RECS_MAX 4096	/* revocation records read from all feeds */
#define REVOCATIONS_PER_FEED 64		/* the same from one feed */

/* One revocation record: signer's signature on cutting target off after from_seq. */
struct revocation_sig {
	uint8_t		signer[ED25519_PK_LEN];
	uint8_t		target[ED25519_PK_LEN];
	uint64_t	from_seq;
	uint64_t	seq;		/* the signer's commit that first wrote it */
	uint64_t	lamport;	/* its clock */
};

/* One revocation (target, from_seq) with its signers, as computed. */
struct revocation {
	uint8_t		target[ED25519_PK_LEN];
	uint64_t	from_seq;
	int		effective;
	size_t		quorum;		/* signers it needs (when it was counted) */
	size_t		nsigners;
	struct {
		uint8_t	pk[ED25519_PK_LEN];
		int	counted;	/* 0: signed by a revoked office (which revokes no
					   one), not an admitted office, or the target */
	}		signers[REVOCATIONS_SIGNERS_MAX];
};

/* revocations.c */
/*
 * The signers needed: conf when set (> 0), else more than half of the others (the admitted
 * offices but the target, revoked ones included, whose signatures never count).
 */
size_t revocations_quorum(size_t others, int conf);
/*
 * Count sigs (the same signer twice counts once) against the admitted offices, until no
 * pending revocation reaches its quorum: the one whose quorum completed at the lowest clock
 * (then by key) takes effect first; from then on the revoked office's signatures count for
 * nothing. Signatures about offices not admitted are dropped. *out, sorted by target key and
 * from_seq, is the caller's to free.
 */
int revocations_compute(const struct revocation_sig *sigs, size_t nsigs,
    const struct office *admitted, size_t nadmitted, int quorum_conf,
    struct revocation **out, size_t *n);
/* Every revocation held in this archive; caller frees *out. */
int revocations_list(struct archive *, struct revocation **out, size_t *n);
/* 1 and *from_seq when pk's revocation is effective, 0 when not (errors: 0 and logged). */
int revocations_cut(struct archive *, const uint8_t pk[static ED25519_PK_LEN],
    uint64_t *from_seq);
/* The record id of a revocation of pk after from_seq. */
void revocations_id(char id[static ID_MAX + 1], const uint8_t pk[static ED25519_PK_LEN],
    uint64_t from_seq);
/* The default from_seq: the last commit of pk another office witnessed (0 when none). */
int revocations_default_seq(struct archive *, const uint8_t pk[static ED25519_PK_LEN],
    uint64_t *out);
/* The commit time (unix seconds) of pk's commit at seq, for allowed-signers. */
int revocations_commit_time(struct archive *, const uint8_t pk[static ED25519_PK_LEN],
    uint64_t seq, int64_t *out);

/*
 * 1 and when (an allowed-signers valid-before, YYYYMMDDHHMMSSZ) when pk is revoked: the time
 * of its commit at the cut, or of the newest held when the cut is past it; 0 when not revoked.
 */
int revocations_valid_before(struct archive *, const uint8_t pk[static ED25519_PK_LEN],
    char when[static 32]);

/* One line per revocation ("office c (SHA256:...) revoked after its commit 4, by a, b");
 * caller frees with offices_refused_free. */
int revocations_lines(struct archive *, char ***lines, size_t *n);
/*
 * When the office (key hex) whose feed holds the current revision of record tok is revoked,
 * say in doc whether that revision was signed before its revocation ("revocation": {...}).
 */
int revocations_mark(struct archive *, const char *office_hex, const char *tok_hex, json_t *doc);

#endif
