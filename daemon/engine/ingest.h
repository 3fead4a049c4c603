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
};

/*
 * The files of a batch kept for its commit under tmp/, sealed (ingest-batch.c): a file placed
 * on a worker is put at its place in the batch (several workers at once), and the batch owns
 * its blob from then on; the commit reads them back one at a time.
 */
struct ingest_batch;

/* A file read back from a batch (ingest_batch_entry_free wipes its key). */
struct ingest_entry {
	uint8_t		 sha256[SHA256_LEN];
	uint8_t		 key[32];
	char		 blob[SHA256_HEX_LEN + 1];
	uint64_t	 size;
	int		 duplicate;
	char		*var;		/* holds media_type and name */
	const char	*media_type, *name;
};

/* A batch of n files, each to be put once before the commit. */
int ingest_batch_new(struct ingest_batch **, struct archive *, uint32_t n);
/* Keep f (placed, or a duplicate of the archive's) as file f->index; the blob is the batch's. */
int ingest_batch_put(struct ingest_batch *, const struct ingest_file *f);
uint32_t ingest_batch_count(const struct ingest_batch *);
int ingest_batch_get(const struct ingest_batch *, uint32_t i, struct ingest_entry *);
void ingest_batch_entry_free(struct ingest_entry *);
int ingest_batch_duplicate(const struct ingest_batch *, uint32_t i);
/*
 * Mark later copies of the same bytes within the batch as duplicates and remove their blobs;
 * *dups gets their places (the caller frees it). Every file must have been put.
 */
int ingest_batch_dedupe(struct ingest_batch *, uint32_t **dups, size_t *ndups);
/* After ingest_batch_dedupe: the count of new files, and the place of the k-th. */
size_t ingest_batch_nfresh(const struct ingest_batch *);
uint32_t ingest_batch_fresh(const struct ingest_batch *, size_t k);
/* The wrapped key of file i, kept at the commit and read back for its records. */
int ingest_batch_wrap(struct ingest_batch *, uint32_t i, const uint8_t wrapped[WRAPPED_KEY_LEN]);
int ingest_batch_wrapped(const struct ingest_batch *, uint32_t i,
    uint8_t wrapped[WRAPPED_KEY_LEN]);
/*
 * The placed blobs are written back while the batch goes on (archive-flush.c): kick asks for
 * one more sync when the commit begins; flushed waits for the one under way and gives the
 * error any met, which must fail the commit before its commit point; flushes counts them.
 */
void ingest_batch_flush_kick(struct ingest_batch *);
int ingest_batch_flushed(struct ingest_batch *);
unsigned ingest_batch_flushes(struct ingest_batch *);
/* archive_sync_mark() from before its first blob: the commit point fails on any error since. */
uint64_t ingest_batch_since(const struct ingest_batch *);
/* The batch is committed: its blobs stay when it is freed. */
void ingest_batch_committed(struct ingest_batch *);
/* Free the batch; the blobs of one not committed are removed. */
void ingest_batch_free(struct ingest_batch *);

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
 * Commit the files of batch b, in order, as one signed commit by actor at now, for incident
 * (or "") with note (or NULL): later copies of the same bytes within the batch are marked
 * duplicates and dropped (*dups, *ndups: their places); the index follows (a failure there is
 * logged and caught up at the next start). On success *fc names the commit, and the batch
 * keeps its blobs when it is freed.
 */
int ingest_commit(struct archive *, struct feed_commit *fc, struct ingest_batch *b,
    const char *actor, const char *now, const char *incident, const char *note,
    uint32_t **dups, size_t *ndups);

#endif
