/*
 * The figures status shows, read from the counts the index keeps as its rows come and go
 * (triggers in index.c's schema): a few rows read, however large the archive.
 */
#include "archive.h"
#include "index-int.h"

/* One figure of the counts table (0 when absent). */
static int
index_counts_get(sqlite3 *db, const char *k, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if ((st = index_stmt(db, "SELECT n FROM counts WHERE k=?")) == NULL)
		return index_fail(db, "counts");
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : index_fail(db, "counts");
}

/* The commits of every feed: a row per feed, not per commit. */
static int
index_counts_commits(sqlite3 *db, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if ((st = index_stmt(db, "SELECT coalesce(sum(seq), 0) FROM feeds")) == NULL)
		return index_fail(db, "counts");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : index_fail(db, "counts");
}

/* Counts for status: evidence and record rows, and commits (the feeds' sequence numbers). */
int
index_counts(struct archive *a, uint64_t *evidence, uint64_t *records, uint64_t *commits)
{
	sqlite3 *db = archive_db(a);
	int error;

	if (db == NULL)
		return CUSTODY_EIO;
	if ((error = index_counts_get(db, "evidence", evidence)) < 0 ||
	    (error = index_counts_get(db, "records", records)) < 0)
		return error;
	return index_counts_commits(db, commits);
}

/* The stored bytes of the blobs the evidence records name. */
int
index_blob_bytes(struct archive *a, uint64_t *bytes)
{
	sqlite3 *db = archive_db(a);

	if (db == NULL)
		return CUSTODY_EIO;
	return index_counts_get(db, "blob_bytes", bytes);
}
