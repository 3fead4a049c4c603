/*
 * What the parts of the index (index-schema.c, index.c, index-import.c) share and nothing else
 * uses.
 */
#ifndef INDEX_INT_H
#define INDEX_INT_H

#include <stdint.h>

#include <git2.h>
#include <jansson.h>
#include <sqlite3.h>

#include "archive.h"

#define INDEX_IMPORT_CACHE "16384"	/* KiB of page cache while an import writes */
/*
 * KiB of page cache for a load made without the secondary indexes (rows in token order), and
 * while they are built again after it. SQLite's sorter takes its memory from it: a run of at
 * most that much is sorted in memory before it goes to a temporary file, on each of the
 * threads ("PRAGMA threads") and the caller's, so a build holds about three times this much
 * besides the cache.
 */
#define INDEX_BUILD_CACHE "4096"

/* a revision in the records table: tok, office id, kind, lamport, chash, seq, first_seq */
#define INDEX_RECORDS_PUT "INSERT INTO records VALUES(?,?,?,?,?,?,?) ON CONFLICT(tok, office)" \
	" DO UPDATE SET kind=excluded.kind, lamport=excluded.lamport, chash=excluded.chash," \
	" seq=excluded.seq, first_seq=min(records.first_seq, excluded.first_seq)"

extern const char index_schema[];		/* every table, index and trigger */
extern const char index_secondary_drop[];	/* the secondary indexes and counting triggers */
extern const char index_recount[];		/* the counts again, after a load without them */
extern const char index_empty[];		/* every table emptied, for a rebuild */

/* CUSTODY_EIO naming what failed and SQLite's message. */
int index_fail(sqlite3 *, const char *what);
int index_counting(sqlite3 *);
int index_office_id(sqlite3 *, const char *office, int64_t *id);
int index_note_seq(sqlite3 *, const char *office, uint64_t seq);
int index_put_hashed(struct archive *, sqlite3 *, const uint8_t tok[static TOKEN_LEN],
    const char *office, int64_t office_id, uint64_t seq, uint64_t clock, json_t *doc,
    const uint8_t chash[static TOKEN_LEN]);
void index_feed_head(sqlite3 *, const char *office, char head[GIT_OID_HEXSZ + 1]);
int index_sites_put(struct archive *, sqlite3 *, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, const json_t *doc);

#endif
