/* Shared by the dossier verifier's files in proto/ (not part of the public API). */
#ifndef CUSTODY_DOSSIER_INT_H
#define CUSTODY_DOSSIER_INT_H

#include <stdarg.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "custody/dossier.h"
#include "custody/sshsig.h"

#define DOSSIER_OID_HEX		40	/* a git SHA-1 */
#define DOSSIER_OFFICE_HEX	64	/* an Ed25519 public key */
#define DOSSIER_WHY_LEN		512	/* one reason */

/* A commit object taken apart, its signature checked (but not against any key). */
struct dcommit {
	char		*why;		/* NULL when well-formed and validly signed */
	uint8_t		 signer[ED25519_PK_LEN];
	char		 tree[DOSSIER_OID_HEX + 1];
	char		 parent[DOSSIER_OID_HEX + 1];	/* "" for a root commit */
	uint64_t	 seq;		/* Custody-Seq */
	char		 office[DOSSIER_OFFICE_HEX + 1];	/* Custody-Office */
	int64_t		 time;		/* committer time, seconds since the epoch */
};

/* One name in the bag. */
struct dfile {
	char		*path;		/* relative to the bag root, '/'-separated */
	int		 dir;		/* a directory: no data */
	int		 kept;		/* its bytes are in data (all but evidence files) */
	struct cbuf	 data;
	uint64_t	 size;
	char		 sha256[SHA256_HEX_LEN + 1];	/* of its bytes; "" for directories */
	int		 git;		/* custody/objects/: 0 unchecked, 1 hashes to its name,
					   -1 does not */
	struct dcommit	*commit;	/* a commit object once parsed */
	int		 claimed;	/* an item names it */
};

/* The files of one bag; sorted by path by dossier_set_seal. */
struct dset {
	struct dfile	*f;
	size_t		 n;
	size_t		 cap;
	uint64_t	 kept;		/* bytes kept in memory */
	char		*top;		/* the tar's top directory, NULL for a directory */
};

#define DOSSIER_HANDOVER_MAX	64	/* handovers one feed may make */

/* A handover of an office's feed to a new key, checked (dossier-keys.c). */
struct dhandover {
	uint64_t	 seq;		/* the handover commit */
	int64_t		 time;		/* its committer time */
	uint8_t		 from[ED25519_PK_LEN], to[ED25519_PK_LEN];
};

/* An office the dossier names (custody/offices.json). */
struct doffice {
	uint8_t		 pk[ED25519_PK_LEN];	/* its identity: the key that names its feed */
	char		 hex[DOSSIER_OFFICE_HEX + 1];
	char		*name;
	json_t		*handovers;	/* its "handovers" as given, NULL when none */
	struct dhandover *hand;		/* those that hold, in order: the chain so far */
	size_t		 nhand;
};

/* One verification in progress. */
struct dcheck {
	struct dset		*set;
	struct dossier_result	*res;
	struct doffice		*offices;
	size_t			 noffices;
	const struct doffice	*exporter;
	uint8_t			 first_signer[ED25519_PK_LEN];	/* allowed_signers' first key */
	int			 have_first_signer;
	struct bagit_manifest	 man;		/* manifest-sha256.txt, sorted by path */
	int			 have_man;
	struct bagit_info	 info;		/* bag-info.txt */
	json_t			*export;	/* custody/export.json when it parsed */
};

/* The reasons one item failed. */
struct dreasons {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/* ---- dossier-set.c: the files, from a directory or a tar ---- */
int dossier_set_add(struct dset *s, struct dfile **out, const char *path, int dir);
/* Keep n more bytes of f in memory, within DOSSIER_FILE_MAX and DOSSIER_TOTAL_MAX. */
int dossier_set_keep(struct dset *s, struct dfile *f, const void *p, size_t n);
/* Sort by path; CUSTODY_EINVAL (custody_error says which) when a name appears twice. */
int dossier_set_seal(struct dset *s);
/* The file or directory called path, or NULL. */
struct dfile *dossier_set_find(const struct dset *s, const char *path);
/* The regular file called path, or NULL. */
struct dfile *dossier_set_file(const struct dset *s, const char *path);
void dossier_set_free(struct dset *s);
/* True when path lies under data/evidence/: streamed and hashed, never kept. */
int dossier_set_streamed(const char *path);

/* ---- dossier-bag.c: checks 1 and 2, and the layout of the bag ---- */
int dossier_bag_check(struct dcheck *c);
/* The manifest's digest for a payload path, or NULL. */
const char *dossier_bag_listed(const struct dcheck *c, const char *path);
/* True when s is a record kind a dossier carries. */
int dossier_kind_ok(const char *s);
/* Split "KIND/ID.json" (kind and id checked); CUSTODY_EINVAL when rest is not one. */
int dossier_kind_id(const char *rest, char kind[static 16], char id[static 129]);
/* The bytes of a kept file (never NULL). */
const uint8_t *dossier_bytes(const struct dfile *f);

/* ---- dossier-git.c: raw git objects ---- */
/*
 * The object custody/objects/OID.TYPE, checked to hash to its name. CUSTODY_EINVAL with why
 * (whylen bytes) when missing or not; other codes on failure.
 */
int dossier_git_object(struct dcheck *c, const struct dfile **out, const char *oid,
    const char *type, char *why, size_t whylen);
/* The commit OID, parsed and its signature checked; CUSTODY_EINVAL with why when it is not. */
int dossier_git_commit(struct dcheck *c, const struct dcommit **out, const char *oid,
    char *why, size_t whylen);
/* Follow path from tree OID to a blob entry: its OID into blob; CUSTODY_EINVAL with why. */
int dossier_git_path(struct dcheck *c, char blob[static DOSSIER_OID_HEX + 1],
    const char *tree, const char *path, char *why, size_t whylen);
/* Check that every object in custody/objects/ hashes to its name. */
int dossier_git_objects(struct dcheck *c);
void dossier_git_commit_free(struct dcommit *cm);

/* ---- dossier-proof.c: one PROOF (check 5) ---- */
/* What a proof showed. */
struct dproof {
	int			 ok;		/* it holds (no reason was added) */
	const struct doffice	*office;	/* the feed's office */
	const struct dcommit	*commit;
	char			 commit_oid[DOSSIER_OID_HEX + 1];
	uint64_t		 seq;
	json_t			*record;	/* opened, disclosed fields opened; NULL without
						   a record key */
	json_t			*disclosed;	/* array of the fields a key opened */
	int			 keyed;		/* a record key was given */
};
/*
 * Check proof, whose record must be of kind and (id != NULL) id; reasons go to rs, each
 * prefixed with what. 0 (out->ok says whether it held) or a negative code.
 */
int dossier_proof_check(struct dcheck *c, struct dproof *out, struct dreasons *rs,
    const char *what, const json_t *proof, const char *kind, const char *id);
void dossier_proof_free(struct dproof *p);
/* Compare the record file with the opened record: reasons name the fields that differ. */
int dossier_proof_compare(struct dreasons *rs, const struct dproof *p, const json_t *file);

/* ---- dossier-keys.c: each office's keys, from its identity through its handovers ---- */
/* Check every office's handovers in order; the chain of each stops at the first that fails. */
int dossier_keys_check(struct dcheck *c);
/* The key that signs commit seq of o's feed: the last handover before it named it. */
const uint8_t *dossier_key_at(const struct doffice *o, uint64_t seq);
/* The key that signs o's feed now (its last handover's, or its identity). */
const uint8_t *dossier_key_current(const struct doffice *o);
/* The office that pk is a key of (identity or handed over to), or NULL. */
const struct doffice *dossier_key_office(const struct dcheck *c, const uint8_t *pk);
/*
 * Is commit oid (parsed as cm) of o's feed signed by the key the feed had at its seq? 0, or
 * CUSTODY_EINVAL with why saying what key signed it instead (a handed-over one, a later one,
 * one the dossier does not show the feed taking).
 */
int dossier_key_commit(const struct doffice *o, const struct dcommit *cm, const char *oid,
    char *why, size_t whylen);
/* The handover of o that passed pk on, or NULL. */
const struct dhandover *dossier_key_handed(const struct doffice *o, const uint8_t *pk);
void dossier_keys_free(struct doffice *o);

/* ---- dossier-item.c: checks 4 and 6-8 ---- */
int dossier_items_check(struct dcheck *c);

/* ---- dossier-verify.c ---- */
int dossier_reason(struct dreasons *rs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dossier_reasons_free(struct dreasons *rs);
/* The office whose key is hex, or NULL. */
const struct doffice *dossier_office(const struct dcheck *c, const char *hex);
/* A finding about the dossier (not the bag, not one item). */
int dossier_problem(struct dcheck *c, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parse a kept file as a JSON object: NULL with a problem about it when it is not one. */
json_t *dossier_json_file(const struct dfile *f, char *why, size_t whylen);
/* Run checks 1-8 on a complete set; extra (may be NULL) is bagit_validate's report. */
int dossier_check(struct dossier_result *res, struct dset *set, const char *expect,
    const struct bagit_report *extra);
int dossier_result_new(struct dossier_result **out);
/* Set res->fatal (once) and return code. */
int dossier_fatal(struct dossier_result *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
