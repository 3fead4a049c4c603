/* Dossiers (proto/DOSSIER.md): recipients, and extracts written as age(tar(BagIt)). */
#ifndef CUSTODY_DAEMON_DOSSIER_H
#define CUSTODY_DAEMON_DOSSIER_H

#include "archive.h"

/* recipients.c */
int recipient_load(struct archive *, const char *name, json_t **doc);
/* Whether "KIND.FIELD" is a field a dossier can withhold. */
int recipient_withholdable(const char *name);
int recipient_add(json_t **out, struct records_written *, struct archive *, const char *name,
    const char *key, const char *consent_class, char **withhold, size_t nw, char **disclose,
    size_t nd);
/* Whether cls is a consent class (records.h). */
int recipient_class_ok(const char *cls);
/* Add to policy what every extract withholds from the recipient record r beyond its own. */
int recipient_policy_extra(json_t *policy, const json_t *r);
int recipient_list(json_t **out, struct archive *);

/* extract-proof.c: where a record revision stands in its feed, and who witnessed it. */
struct xfeed;
struct proof_ctx {
	struct archive	*a;
	git_repository	*repo;
	struct xfeed	**feeds;
	size_t		 nfeeds;
	json_t		*objects;	/* "OID.TYPE" already written */
	/* called for each git object a proof needs that is not written yet */
	int		(*object)(void *arg, const char *name, const void *body, size_t len);
	void		*arg;
};
/*
 * The proof of the current revision of the record at token tok in feed office_hex: *proof
 * (PROOF of DOSSIER.md without the keys), *doc (the record, opened), record_key (its key),
 * *commits and *witnesses as the item file wants them, and the commit time of the revision.
 */
int proof_build(struct proof_ctx *, const char *office_hex, const uint8_t tok[static TOKEN_LEN],
    json_t **proof, json_t **doc, uint8_t record_key[static 32], json_t **commits,
    json_t **witnesses, char when[static 32]);
/*
 * The PROOF of the handover from -> to in commit seq of feed office_hex, with its record key
 * and "from" / "to" (the handovers of custody/offices.json).
 */
int proof_handover(struct proof_ctx *, const char *office_hex, uint64_t seq,
    const uint8_t from[static ED25519_PK_LEN], const uint8_t to[static ED25519_PK_LEN],
    json_t **proof);
void proof_free(struct proof_ctx *);

/*
 * extract-keys.c: the allowed_signers lines of one office (each key its feed was signed by,
 * valid-after / valid-before its handovers' times; before, when revoked, on its last key) and
 * the PROOFs of its handovers (*handovers, NULL when it never rotated).
 */
int extract_keys(struct proof_ctx *, struct cbuf *signers, const char *name,
    const uint8_t pk[static ED25519_PK_LEN], const char *revoked_before, json_t **handovers);

#endif
