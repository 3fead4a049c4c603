/*
 * Lamport clocks of feeds. A commit's clock (its Custody-Lamport trailer) is past every clock
 * its office held when it wrote it, and clocks grow along each feed, so the highest clock an
 * archive holds is the highest of its feed heads: read from git, not from the derived index.
 * The bounds (no clock past CUSTODY_LAMPORT_MAX, none from a peer more than
 * CUSTODY_LAMPORT_AHEAD past ours) are in include/custody/trailers.h.
 */
#include <inttypes.h>
#include <string.h>

#include "archive.h"
#include "custody/trailers.h"

/* The highest clock of any feed head this archive holds (0 when it holds none). */
int
feed_clock_seen(struct archive *a, uint64_t *out)
{
	git_repository *repo = archive_repo(a);
	git_reference_iterator *it = NULL;
	git_reference *ref;
	const char *name;
	uint64_t seq, lamport;
	git_oid head;
	int error = 0, e;

	*out = 0;
	if (repo == NULL)
		return CUSTODY_EIO;
	if (git_reference_iterator_glob_new(&it, repo, FEEDFMT_REF_GLOB) < 0)
		return custody_fail(CUSTODY_EIO, "cannot list feeds");
	while (error == 0 && git_reference_next(&ref, it) == 0) {
		if ((name = feedfmt_ref_office(git_reference_name(ref))) != NULL) {
			e = feed_head(a, name, &head, &seq, &lamport);
			if (e == 0 && lamport > *out)
				*out = lamport;
			else if (e < 0 && e != CUSTODY_ENOTFOUND)
				error = e;
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return error;
}

/* The clock of this office's next commit: past everything it holds, and never past the bound. */
int
feed_clock_next(struct archive *a, uint64_t *out)
{
	uint64_t seen;
	int error;

	*out = 0;
	if ((error = feed_clock_seen(a, &seen)) < 0)
		return error;
	if (seen >= CUSTODY_LAMPORT_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "the Lamport clock is exhausted (%" PRIu64
		    "): this office can write no more commits", seen);
	*out = seen + 1;
	return 0;
}
