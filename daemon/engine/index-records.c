/*
 * The casualty part of the index: a row per victim and per incident, the current revision
 * only (the highest lamport clock, then the highest office key: every office picks the same).
 * What a query or a report needs, as vocabulary words, dates and keyed tokens; never a name,
 * an area, notes or any other free text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "index-row.h"
#include "offices.h"

#define INDEX_LOOKUP_CACHE "2048"	/* KiB of page cache for many reads of one request */

/* Index a victim or incident revision (index-row.c works out its row). */
int
index_put_casualty(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, json_t *doc)
{
	struct cbuf b = { 0 };
	struct index_row row;
	int error;

	if ((error = index_row_pack(a, doc, &b)) == 0 &&
	    (error = index_row_unpack(&row, b.data, b.len)) == 0)
		error = index_row_put(db, tok, office, lamport, &row);
	cbuf_free(&b);
	return error;
}

/*
 * Bound the calling thread's page cache (bounded = 1) while it looks up many tokens at random
 * (the references of an import's records) or reads many rows once (a list), then give it back
 * its size (0): every page those reads touched would otherwise stay in the connection's
 * cache, up to its 64 MiB, on each thread that did such work. Lowering the size frees the
 * pages beyond it.
 */
void
index_lookup_cache(struct archive *a, int bounded)
{
	sqlite3 *db = archive_db(a);

	if (db != NULL)
		sqlite3_exec(db, bounded ? "PRAGMA cache_size=-" INDEX_LOOKUP_CACHE :
		    "PRAGMA cache_size=-65536", NULL, NULL, NULL);	/* archive.c's */
}

/* The content hash, office and kind of a record's current revision; ENOTFOUND if none. */
int
index_current_chash(struct archive *a, const uint8_t tok[static TOKEN_LEN],
    uint8_t chash[static TOKEN_LEN], char office_hex[65], char kind[16])
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	int rc;

	if (db == NULL)
		return CUSTODY_EIO;
	if ((st = index_stmt(db, "SELECT chash, " INDEX_OFFICE_KEY("office") " AS k, kind FROM"
	    " records WHERE tok=? ORDER BY lamport DESC, k DESC LIMIT 1")) == NULL)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == TOKEN_LEN)
			memcpy(chash, sqlite3_column_blob(st, 0), TOKEN_LEN);
		snprintf(office_hex, 65, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? CUSTODY_ENOTFOUND : custody_fail(CUSTODY_EIO, "index: %s",
	    sqlite3_errmsg(db));
}

/* Is hex (a feed key) one of the n admitted offices in v? */
static int
index_witness_admitted(const struct office *v, size_t n, const char *hex)
{
	uint8_t pk[ED25519_PK_LEN];
	size_t i;

	if (hex == NULL || strlen(hex) != 2 * ED25519_PK_LEN || hex_decode(pk, sizeof pk, hex) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0)
			return 1;
	return 0;
}

/*
 * The offices that witnessed a record: the admitted offices whose witness records cover the
 * commit that first wrote it in its office's feed. A JSON array of {"office": key hex, "time", "seq"}.
 */
int
index_witnesses(struct archive *a, const char *id, json_t **out)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st = NULL, *w = NULL;
	uint8_t tok[TOKEN_LEN];
	struct office *admitted = NULL;
	size_t nadmitted = 0;
	int64_t office, first;
	int rc, error = 0;

	*out = json_array();
	if (db == NULL || *out == NULL)
		return CUSTODY_EIO;
	archive_token(a, tok, id);
	if ((st = index_stmt(db, "SELECT office, first_seq FROM records WHERE tok=?"
	    " ORDER BY first_seq, " INDEX_OFFICE_KEY("office") " LIMIT 1")) == NULL ||
	    (w = index_stmt(db, "SELECT " INDEX_OFFICE_KEY("witness") ", min(time), min(seq)"
	    " FROM witnesses WHERE feed=? AND seq>=? GROUP BY witness ORDER BY 2, 1")) == NULL)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	if ((error = offices_list(a, &admitted, &nadmitted)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		office = sqlite3_column_int64(st, 0);
		first = sqlite3_column_int64(st, 1);
		sqlite3_bind_int64(w, 1, office);
		sqlite3_bind_int64(w, 2, first);
		while ((rc = sqlite3_step(w)) == SQLITE_ROW)
			if (index_witness_admitted(admitted, nadmitted,
			    (const char *)sqlite3_column_text(w, 0)))
				json_array_append_new(*out, json_pack("{s:s,s:s,s:I}", "office",
				    (const char *)sqlite3_column_text(w, 0), "time",
				    (const char *)sqlite3_column_text(w, 1), "seq",
				    (json_int_t)sqlite3_column_int64(w, 2)));
		if (rc != SQLITE_DONE)
			error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	}
	sqlite3_reset(w);
	sqlite3_reset(st);
	free(admitted);
	return error;
}

#define INDEX_SCAN_STEPS 8	/* rows stepped over before a seek instead */

/*
 * The current revisions of many records asked in the order of their tokens (an import): one
 * statement walks the records table in key order, stepping to the next token asked when it is
 * near and seeking it when it is far, so a load into a small index costs a few steps per
 * record and a small load into a large index a seek per record. The caller holds the index's
 * write transaction (nothing else writes it), and what it writes itself lies behind the scan.
 */
struct index_scan {
	sqlite3_stmt	*st;
	int		 row;		/* st is on a row */
	int		 end;		/* no row at or past the last token asked */
};

int
index_scan_new(struct archive *a, struct index_scan **out)
{
	sqlite3 *db = archive_db(a);

	*out = NULL;
	if (db == NULL)
		return CUSTODY_EIO;
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return CUSTODY_ENOMEM;
	/* in the primary key's order: the office's tie-break is index_scan_current's */
	if (sqlite3_prepare_v2(db, "SELECT tok, " INDEX_OFFICE_KEY("office") ", kind, lamport,"
	    " chash FROM records WHERE tok >= ? ORDER BY tok", -1, &(*out)->st, NULL) != SQLITE_OK) {
		free(*out);
		*out = NULL;
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	}
	return 0;
}

static int
index_scan_step(struct index_scan *s)
{
	int rc = sqlite3_step(s->st);

	s->row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(sqlite3_db_handle(s->st)));
}

/* The row's token against tok. */
static int
index_scan_cmp(struct index_scan *s, const uint8_t tok[static TOKEN_LEN])
{
	const void *t = sqlite3_column_blob(s->st, 0);
	int n = sqlite3_column_bytes(s->st, 0), c;

	c = memcmp(t, tok, (size_t)(n < TOKEN_LEN ? n : TOKEN_LEN));
	return c != 0 ? c : n - TOKEN_LEN;
}

/* As index_current_chash; each tok past the one asked before. */
int
index_scan_current(struct index_scan *s, const uint8_t tok[static TOKEN_LEN],
    uint8_t chash[static TOKEN_LEN], char office_hex[65], char kind[16])
{
	int64_t best = -1, l;
	int i, error, found = 0;
	const char *o;

	if (s->end)
		return CUSTODY_ENOTFOUND;	/* past the last token, which asks go beyond */
	for (i = 0; s->row && i < INDEX_SCAN_STEPS && index_scan_cmp(s, tok) < 0; i++)
		if ((error = index_scan_step(s)) < 0)
			return error;
	if (!s->row || i == INDEX_SCAN_STEPS) {
		/* far, or not started: seek */
		sqlite3_reset(s->st);
		sqlite3_bind_blob(s->st, 1, tok, TOKEN_LEN, SQLITE_TRANSIENT);
		if ((error = index_scan_step(s)) < 0)
			return error;
		s->end = !s->row;
	}
	for (; s->row && index_scan_cmp(s, tok) == 0; ) {
		l = sqlite3_column_int64(s->st, 3);
		o = (const char *)sqlite3_column_text(s->st, 1);
		if (o != NULL && (l > best || (l == best && strcmp(o, office_hex) > 0))) {
			best = l;
			snprintf(office_hex, 65, "%s", o);
			snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(s->st, 2));
			if (sqlite3_column_bytes(s->st, 4) == TOKEN_LEN)
				memcpy(chash, sqlite3_column_blob(s->st, 4), TOKEN_LEN);
			found = 1;
		}
		if ((error = index_scan_step(s)) < 0)
			return error;
	}
	return found ? 0 : CUSTODY_ENOTFOUND;
}

/* Let go of the statement (before other statements change the schema); the next ask seeks. */
void
index_scan_pause(struct index_scan *s)
{
	sqlite3_reset(s->st);
	s->row = 0;
}

void
index_scan_free(struct index_scan *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}
