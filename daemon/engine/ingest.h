/*
 * Ingest in the engine (ingest.c): a file hashed, encrypted and placed in blobs/, and a batch
 * of placed files committed as one signed commit (an evidence record per new file, custody
 * events naming every file). The requests that ask for it are in service-ingest.c.
 */
#ifndef CUSTODY_INGEST_H
#define CUSTODY_INGEST_H

#include "archive.h"

#define INGEST_NAME_MAX 4096	/* bytes of a recorded name (a relative path) */

/* One file of a batch. */
struct ingest_file {
	struct blob_info	 blob;
	char			*name;		/* as ingest_clean_name made it */
	uint32_t		 index;		/* its place in the batch */
	int			 duplicate;	/* its bytes are in the archive, or earlier in the batch */
	int			 placed;	/* in blobs/, not yet committed */
	uint8_t			 wrapped[WRAPPED_KEY_LEN];	/* its key, at the commit */
};

/* A copy of s with invalid UTF-8 replaced, control characters dropped; NULL when out of memory. */
char *ingest_clean_text(const char *s, size_t max);
/* The name a file is recorded under (a clean relative path); NULL when out of memory. */
char *ingest_clean_name(const char *name);
/*
 * Hash and encrypt the file open on fd into f->blob; a file the archive already holds is marked
 * a duplicate and dropped, any other is placed in blobs/ (f->placed) until the commit.
 */
int ingest_file_place(struct archive *, struct ingest_file *f, int fd);
/* Drop a file of a batch that is not committed: its placed blob removed, its temporary file too. */
void ingest_file_drop(struct archive *, struct ingest_file *f);
/*
 * Commit the n files of a batch, in order, as one signed commit by actor at now, for incident
 * (or "") with note (or NULL): later copies of the same bytes within the batch are marked
 * duplicates and dropped; the index follows (a failure there is logged and caught up at the
 * next start). On success *fc names the commit and no file is left placed.
 */
int ingest_commit(struct archive *, struct feed_commit *fc, struct ingest_file **files, size_t n,
    const char *actor, const char *now, const char *incident, const char *note);

#endif
