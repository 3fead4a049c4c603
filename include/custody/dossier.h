/*
 * Offline verification of custody dossiers (proto/DOSSIER.md, "Verification"): the bag, the
 * exporting office's signature over it, and for each item the proofs that place its record in
 * the signed feed of the office that recorded it and of the offices that witnessed it.
 *
 * Everything in a dossier is hostile input: every malformed thing becomes a named finding or
 * an item's reason, never a crash. Evidence files are hashed as they stream and never kept;
 * every other file is kept in memory within DOSSIER_FILE_MAX and DOSSIER_TOTAL_MAX. Nothing is
 * written to disk.
 */
#ifndef CUSTODY_DOSSIER_H
#define CUSTODY_DOSSIER_H

#include <stddef.h>
#include <stdint.h>

#include "custody/age.h"
#include "custody/bagit.h"
#include "custody/common.h"

#define DOSSIER_FILE_MAX	(64u << 20)	/* largest file kept in memory */
#define DOSSIER_TOTAL_MAX	(512ull << 20)	/* kept files and all names together */
#define DOSSIER_MAX_ENTRIES	(1u << 20)	/* names (files and directories) in a bag */
#define DOSSIER_NAME_LEN	(8 + 32)	/* "dossier-" and 32 lower-case hex digits */

/* What an item's checks (DOSSIER.md 5-8) showed. */
enum dossier_verdict {
	DOSSIER_PROVEN,		/* they hold with the record key: the feed proves the content */
	DOSSIER_ATTESTED,	/* they hold without one: the exporter alone vouches for the
				   content (FAILED when its signature or the bag does not hold) */
	DOSSIER_FAILED,
};

/* One item of the dossier: a record (and, for evidence, its file). */
struct dossier_item {
	char		*kind;		/* "victim", "incident", "evidence", "source" */
	char		*id;
	int		 verdict;	/* enum dossier_verdict */
	char		**reasons;	/* why it failed; none unless DOSSIER_FAILED */
	size_t		 nreasons;
	/* "recorded by alpha at seq 3 on 2026-11-28; witnessed by bravo 2026-11-28T21:00:00Z",
	   or NULL when the proof did not get that far */
	char		*summary;
};

/*
 * What a verification found. Owned by the caller; dossier_result_free. Strings come from the
 * dossier (names, paths): print them made safe.
 */
struct dossier_result {
	char			*fatal;		/* why nothing could be checked (bad age file,
						   bad tar, over a limit), else NULL */
	char			*name;		/* "dossier-ID" when known, else NULL */
	struct bagit_report	*bag;		/* checks 1-2: BagIt findings, each naming a file */
	struct bagit_report	*problems;	/* the rest of the dossier that is not one item's:
						   offices, export, layout, records without items */
	int			 sig_ok;	/* check 3: the tag manifest signature holds */
	char			*sig_why;	/* why not, when !sig_ok */
	char			*exporter;	/* the exporting office's name, when known */
	char			*fingerprint;	/* its key's "SHA256:..." when known */
	int			 expect;	/* 0 none expected, 1 it matched, -1 it did not */
	char			*expected;	/* the expected fingerprint, when given */
	struct dossier_item	*items;		/* in file order: custody/items/KIND/ID.json */
	size_t			 nitems;
	uint64_t		 payload_files;	/* files under data/ */
	uint64_t		 payload_octets;
	int			 ok;		/* everything holds */
	char			*signed_with;	/* when the exporter rotated its key: the
						   "SHA256:..." of the key that signed, which its
						   handovers in the dossier reach, else NULL */
	uint64_t		 signed_since;	/* the commit of the handover to that key */
};

void dossier_result_free(struct dossier_result *r);
/* "proven", "attested" or "FAILED". */
const char *dossier_verdict_name(int verdict);

/*
 * Verify the decrypted bag in directory dir (the dossier-ID directory itself); expect is the
 * exporter's fingerprint ("SHA256:...") given out of band, or NULL. Symbolic links and special
 * files are findings; bagit_validate checks the bag too. Returns 0 when the dossier holds,
 * CUSTODY_EINVAL when it does not (*out says why), or another negative code when the check
 * itself could not be made (custody_error() says why; *out is NULL).
 */
int dossier_verify_dir(struct dossier_result **out, const char *dir, const char *expect);

/*
 * Verify an age-encrypted dossier read from fd to its end, decrypted with one of ids (n >= 1).
 * The plaintext tar is read as it streams; the verdict needs age's final chunk, so a truncated
 * or altered file fails as a whole (*out's fatal says how). Returns as dossier_verify_dir.
 */
int dossier_verify_age(struct dossier_result **out, int fd, const struct age_identity *ids,
    size_t n, const char *expect);

/*
 * The same in pieces: feed the age file (or, with n == 0, the plain tar) in chunks of any size,
 * then dossier_reader_finish, which verifies and returns as dossier_verify_dir. A feed error
 * is sticky and reported by finish in *out's fatal.
 */
struct dossier_reader;
int dossier_reader_new(struct dossier_reader **out, const struct age_identity *ids, size_t n);
int dossier_reader_feed(struct dossier_reader *r, const void *buf, size_t len);
int dossier_reader_finish(struct dossier_result **out, struct dossier_reader *r,
    const char *expect);
void dossier_reader_free(struct dossier_reader *r);

#endif
