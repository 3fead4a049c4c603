/*
 * What the index knows of the sites (custody sites): the evidence linked to each, from the
 * evidence_sites rows of each evidence record's current revision, and the persons whose
 * events name it, from the person_events rows; both counted in two grouped queries, whatever
 * the number of sites asked. Sites and evidence are keyed tokens, never ids.
 */
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "index-int.h"

/*
 * The sites an evidence revision (indexed at lamport by office) is linked to, when it is the
 * current revision: a revision older than one already indexed changes nothing.
 */
int
index_sites_put(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, const json_t *doc)
{
	uint8_t site[TOKEN_LEN];
	sqlite3_stmt *st;
	const json_t *v;
	size_t i;
	int rc, error;

	if ((st = index_stmt(db, "SELECT 1 FROM records WHERE tok=? AND (lamport, "
	    INDEX_OFFICE_KEY("office") ") > (?, " INDEX_OFFICE_KEY("?") ")")) == NULL)
		return index_fail(db, "prepare");
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lamport);
	sqlite3_bind_int64(st, 3, office);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return index_fail(db, "evidence sites");
	if ((error = index_exec(db, "DELETE FROM evidence_sites WHERE tok=?", "b", tok)) < 0)
		return error;
	json_array_foreach(json_object_get(doc, "sites"), i, v) {
		if (json_string_value(v) == NULL)
			continue;
		archive_token(a, site, json_string_value(v));
		if ((error = index_exec(db, "INSERT OR IGNORE INTO evidence_sites VALUES(?,?)",
		    "bb", tok, site)) < 0)
			return error;
	}
	return 0;
}

/* A site asked for: its token and its place in the question. */
struct index_sites_ask {
	uint8_t	tok[TOKEN_LEN];
	size_t	at;
};

static int
index_sites_ask_cmp(const void *x, const void *y)
{
	const struct index_sites_ask *a = x, *b = y;

	return memcmp(a->tok, b->tok, TOKEN_LEN);
}

/* Add each (site, count) row of sql to out[] of the sites asked (sorted by token). */
static int
index_sites_tally(sqlite3 *db, const char *sql, const struct index_sites_ask *ask, size_t n,
    uint64_t *out)
{
	struct index_sites_ask key, *hit;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return index_fail(db, "prepare");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN)
			continue;
		memcpy(key.tok, sqlite3_column_blob(st, 0), TOKEN_LEN);
		if ((hit = bsearch(&key, ask, n, sizeof *ask, index_sites_ask_cmp)) == NULL)
			continue;
		/* an id asked more than once: each place of it */
		while (hit > ask && memcmp(hit[-1].tok, key.tok, TOKEN_LEN) == 0)
			hit--;
		for (; hit < ask + n && memcmp(hit->tok, key.tok, TOKEN_LEN) == 0; hit++)
			out[hit->at] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : index_fail(db, "site counts");
}

/*
 * For each of the n site ids: the evidence records linked to it (evidence[i]) and the persons
 * with an event naming it (persons[i]), 0 for an id the index does not know.
 */
int
index_sites_counts(struct archive *a, const char *const *ids, size_t n, uint64_t *evidence,
    uint64_t *persons)
{
	sqlite3 *db = archive_db(a);
	struct index_sites_ask *ask;
	size_t i;
	int error;

	if (db == NULL)
		return CUSTODY_EIO;
	memset(evidence, 0, n * sizeof *evidence);
	memset(persons, 0, n * sizeof *persons);
	if (n == 0)
		return 0;
	if ((ask = calloc(n, sizeof *ask)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		archive_token(a, ask[i].tok, ids[i]);
		ask[i].at = i;
	}
	qsort(ask, n, sizeof *ask, index_sites_ask_cmp);
	if ((error = index_sites_tally(db, "SELECT site, count(*) FROM evidence_sites"
	    " GROUP BY site", ask, n, evidence)) == 0)
		error = index_sites_tally(db, "SELECT site, count(DISTINCT person) FROM"
		    " person_events WHERE site IS NOT NULL GROUP BY site", ask, n, persons);
	free(ask);
	return error;
}
