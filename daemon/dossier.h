/* Dossiers (proto/DOSSIER.md): recipients, and extracts written as age(tar(BagIt)). */
#ifndef CUSTODY_DAEMON_DOSSIER_H
#define CUSTODY_DAEMON_DOSSIER_H

#include "archive.h"

struct request;

/* recipients.c */
int recipient_load(struct archive *, const char *name, json_t **doc);
/* Whether "KIND.FIELD" is a field a dossier can withhold. */
int recipient_withholdable(const char *name);
int service_recipient_add(struct request *);
int service_recipient_list(struct request *);

/* extract.c */
int service_extract(struct request *);

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
void proof_free(struct proof_ctx *);

#endif
