/*
 * The cuts the index is derived with: an office whose revocation is effective has its commits
 * past the cut left out of the index (they stay in git, as evidence), so that its later
 * records count for nothing in queries, reports, listings and extracts. The cuts the index was
 * last derived with are kept in meta as "cuts" ("KEYHEX:SEQ;..." sorted by key), so that every
 * office derives the same index from the same feeds and revocations.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "revocations.h"

/* The effective cuts as computed now from the revocations the index holds. */
static int
index_cuts_now(struct archive *a, char **out)
{
	struct revocation *v = NULL;
	size_t n = 0, i, len = 0;
	char *s;
	int error;

	*out = NULL;
	if ((error = revocations_list(a, &v, &n)) < 0)
		return error;
	if ((s = calloc(n + 1, 2 * ED25519_PK_LEN + 1 + 21 + 1)) == NULL) {
		free(v);
		return CUSTODY_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!v[i].effective)
			continue;
		hex_encode(s + len, v[i].target, ED25519_PK_LEN);
		len += 2 * ED25519_PK_LEN;
		len += (size_t)sprintf(s + len, ":%" PRIu64 ";", v[i].from_seq);
	}
	free(v);
	*out = s;
	return 0;
}

/* The cuts the index was derived with ("" when none); caller frees. */
static char *
index_cuts_stored(sqlite3 *db)
{
	sqlite3_stmt *st;
	char *s = NULL;

	if ((st = index_stmt(db, "SELECT v FROM meta WHERE k='cuts'")) == NULL)
		return strdup("");
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return s != NULL ? s : strdup("");
}

/* 1 and *seq when office (key hex) is cut after *seq in the index, else 0. */
int
index_cuts_of(sqlite3 *db, const char *office, uint64_t *seq)
{
	char *s = index_cuts_stored(db), *p;
	size_t len = strlen(office);
	int found = 0;

	for (p = s; p != NULL && *p != '\0'; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
		if (strncmp(p, office, len) == 0 && p[len] == ':') {
			*seq = strtoull(p + len + 1, NULL, 10);
			found = 1;
			break;
		}
	free(s);
	return found;
}

/*
 * Compare the cuts the index was derived with to the effective revocations it now holds: 1
 * when they differ (they are then stored, and the caller derives the index again), 0 when not.
 */
int
index_cuts_settle(struct archive *a)
{
	sqlite3 *db = archive_db(a);
	char *now = NULL, *was = NULL;
	int error;

	if (db == NULL)
		return CUSTODY_EIO;
	if ((error = index_cuts_now(a, &now)) < 0)
		return error;
	if ((was = index_cuts_stored(db)) == NULL) {
		free(now);
		return CUSTODY_ENOMEM;
	}
	error = strcmp(now, was) != 0;
	if (error == 1 && (error = index_exec(db, "INSERT OR REPLACE INTO meta VALUES('cuts', ?)",
	    "t", now)) == 0)
		error = 1;
	free(now);
	free(was);
	return error;
}
