/*
 * The index of an import: the rows of a commit of this office go in while the commit is
 * written (feed-import.c), in one transaction with a bounded page cache, the secondary indexes
 * and counting triggers dropped for a load at least as large as the index and made again at
 * its end.
 */
#include <string.h>

#include <git2.h>

#include "custody/trailers.h"

#include "archive.h"
#include "index-int.h"
#include "index-row.h"

/* The connection's settings back as archive.c makes them, after an import's transaction. */
static void
index_import_settings(sqlite3 *db)
{
	sqlite3_exec(db, "PRAGMA cache_size=-65536; PRAGMA threads=0;"
	    " PRAGMA wal_autocheckpoint=1000", NULL, NULL, NULL);
}

/*
 * The office's id in the index for the transaction index_import_begin opened on this thread
 * (each thread has its own connection): looked up once, not for each of its rows.
 */
static _Thread_local int64_t index_import_office;

/*
 * Index a commit of this office while it is written (an import, feed-import.c): 1 when the
 * index follows the feed, and the rows of index_import_put_row then go in one transaction that
 * index_import_end commits once the commit is on disk; 0 when the index catches up from git
 * after the commit instead (it had fallen behind, or the office is cut off).
 */
int
index_import_begin(struct archive *a, const struct feed_commit *fc, size_t n)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	char known[GIT_OID_HEXSZ + 1];
	uint64_t cut = UINT64_MAX;
	int64_t rows = INT64_MAX;

	if (db == NULL)
		return 0;
	index_feed_head(db, a->office_hex, known);
	index_cuts_of(db, a->office_hex, &cut);
	if ((fc->seq > 1 && strcmp(known, fc->parent) != 0) || fc->seq > cut)
		return 0;
	if (index_exec(db, "BEGIN IMMEDIATE", "") < 0)
		return 0;
	if (index_office_id(db, a->office_hex, &index_import_office) < 0) {
		index_exec(db, "ROLLBACK", "");
		return 0;
	}
	/* a bounded cache: dirty pages beyond it spill to the WAL, whatever the load's size */
	sqlite3_exec(db, "PRAGMA cache_size=-" INDEX_IMPORT_CACHE, NULL, NULL, NULL);
	/* the indexes built again at the end sort on a second thread */
	sqlite3_exec(db, "PRAGMA threads=2", NULL, NULL, NULL);
	/* its pages go into index.sqlite after the reply (index-checkpoint.c), not in COMMIT */
	sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
	/*
	 * A load at least as large as what the index holds: the secondary indexes are dropped
	 * and built again at the end, in the same transaction (a sort instead of a random
	 * insert per row in each; about twice as fast).
	 */
	if ((st = index_stmt(db, "SELECT count(*) FROM records")) != NULL &&
	    sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	if (rows > (int64_t)n)
		return 1;
	if (sqlite3_exec(db, index_secondary_drop, NULL, NULL, NULL) != SQLITE_OK) {
		index_exec(db, "ROLLBACK", "");
		index_import_settings(db);
		return 0;
	}
	/*
	 * What is left to write is keyed by token, and the rows come in token order: each page
	 * is visited once, in order, and a larger cache would only hold pages written already.
	 */
	sqlite3_exec(db, "PRAGMA cache_size=-" INDEX_BUILD_CACHE, NULL, NULL, NULL);
	return 1;
}

/*
 * One record of the commit being written, from what the import kept of it: its kind, its
 * packed index row (index-row.h; none for a source) and its content hash.
 */
int
index_import_put_row(struct archive *a, const struct feed_commit *fc,
    const uint8_t tok[static TOKEN_LEN], const char *kind, const uint8_t *row, size_t len,
    const uint8_t chash[static TOKEN_LEN])
{
	sqlite3 *db = archive_db(a);
	int64_t lamport = (int64_t)(fc->lamport < CUSTODY_LAMPORT_MAX ? fc->lamport :
	    CUSTODY_LAMPORT_MAX);
	struct index_row r;
	int error;

	if ((error = index_row_unpack(&r, row, len)) < 0 ||
	    (error = index_exec(db, INDEX_RECORDS_PUT, "bitibii", tok, index_import_office, kind,
	    lamport, chash, (int64_t)fc->seq, (int64_t)fc->seq)) < 0)
		return error;
	return index_row_put(db, tok, index_import_office, lamport, &r);
}

/*
 * The counts and the secondary indexes of index_import_begin's transaction made again once its
 * last row is in, if it dropped them: on a second thread while the commit is completed and
 * made durable, with db (the importing thread's connection) untouched by any other meanwhile.
 * index_import_end finds them made (else it makes them).
 */
int
index_import_build(sqlite3 *db)
{
	/* the sorter's runs are as large as the cache: smaller runs, not a larger peak */
	sqlite3_exec(db, "PRAGMA cache_size=-" INDEX_BUILD_CACHE, NULL, NULL, NULL);
	if (!index_counting(db) && sqlite3_exec(db, index_recount, NULL, NULL, NULL) != SQLITE_OK)
		return index_fail(db, "counting");
	if (sqlite3_exec(db, index_schema, NULL, NULL, NULL) != SQLITE_OK)
		return index_fail(db, "building the indexes");
	return 0;
}

/*
 * The end of index_import_begin's transaction (open: it returned 1): committed with the feed's
 * new head when the commit is on disk, else rolled back. Without it, catch up from git.
 */
int
index_import_end(struct archive *a, const struct feed_commit *fc, int open, int committed)
{
	sqlite3 *db = archive_db(a);
	char head[GIT_OID_HEXSZ + 1];
	int error = 0;

	if (db == NULL)
		return CUSTODY_EIO;
	if (!open)
		return committed ? index_catch_up(a, 0) : 0;
	git_oid_tostr(head, sizeof head, &fc->oid);
	if (committed)
		error = index_exec(db, "INSERT OR REPLACE INTO feeds VALUES(?,?,?)", "iti",
		    index_import_office, head, (int64_t)fc->seq);
	if (committed && error == 0)
		error = index_note_seq(db, a->office_hex, fc->seq);
	if (committed && error == 0)	/* if index_import_build did not */
		error = index_import_build(db);
	if (committed && error == 0 && (error = index_exec(db, "COMMIT", "")) < 0)
		committed = 0;
	if (!committed || error < 0)
		index_exec(db, "ROLLBACK", "");
	index_import_settings(db);
	if (committed && error == 0)
		index_checkpoint_later(a);
	if (error < 0 || !committed)
		return error < 0 || committed ? index_catch_up(a, 0) : 0;
	return 0;
}
