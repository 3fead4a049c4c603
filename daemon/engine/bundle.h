/*
 * Bundles: what one office carries to another with no network (proto/PROTOCOL.md, "Bundles";
 * the format: include/custody/bundlefmt.h). bundle-create.c writes one for an office, age-
 * encrypted to its key; bundle-apply.c takes one in with the checks of a network sync.
 */
#ifndef CUSTODY_BUNDLE_H
#define CUSTODY_BUNDLE_H

#include "archive.h"
#include "sync-feeds.h"

/* What bundle_create wrote. */
struct bundle_created {
	uint64_t	size;		/* bytes of the file */
	uint32_t	feeds, blobs;
	uint64_t	commits, blob_bytes;
};

/*
 * Write into fd (an empty file the caller made) a bundle for the office called office (pinned
 * or known by an office record): every feed's commits that office lacks as far as this office
 * knows (all of them when all is set; those after since when since is set: "YYYY-MM-DD" for the
 * commits made that day or later, or a number N for the commits after the N-th of each feed),
 * with the blobs their evidence records name. What the office "knows": its own feed, and the
 * feeds its witness records (in its feed, as this office holds it) say it received, up to the
 * sequence they name. progress (may be NULL) counts bytes written.
 */
int bundle_create(struct bundle_created *out, struct archive *, const char *office, int all,
    const char *since, int fd, uint64_t *progress);

/*
 * Take in the bundle read from fd: decrypted with this office's key, every byte staged and the
 * sender's signature checked before anything is verified; then every feed verified as a sync
 * verifies it (sync-verify.h), the blobs its records name checked by hash and size, and only
 * then the feeds moved and witness records written. Any failure before that point leaves the
 * archive as it was (a negative return). Commits a pull would refuse (forks, past a revocation
 * cut) are refused as a pull refuses them: kept as evidence, a line in res->forks. res->moved
 * gets a line for each feed that moved, or "nothing new".
 */
int bundle_apply(struct sync_result *res, char sender[static OFFICE_NAME_MAX + 1],
    struct archive *, int fd);

#endif
