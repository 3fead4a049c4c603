/*
 * Probable duplicates among persons (custody duplicates persons): persons whose normalised
 * name and governorate are the same, with the same age or the same birth year. The index
 * holds these as two keyed tokens a person (dup_age, dup_birth); persons sharing either are
 * one group, so that a person recorded with an age and again with a birth year and the same
 * age joins the group of both. Memory: the persons that share a token with another.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "archive.h"
#include "report.h"

#define QPD_SQL "SELECT tok, " INDEX_OFFICE_KEY("office") ", dup_age, dup_birth FROM persons" \
	" WHERE" \
	" dup_age IN (SELECT dup_age FROM persons WHERE dup_age IS NOT NULL" \
	" GROUP BY dup_age HAVING count(*) > 1) OR" \
	" dup_birth IN (SELECT dup_birth FROM persons WHERE dup_birth IS NOT NULL" \
	" GROUP BY dup_birth HAVING count(*) > 1) ORDER BY tok"

/* A person sharing a token with another. */
struct qpd {
	uint8_t		 tok[16], age[16], birth[16];
	int		 has_age, has_birth;
	char		 office[65];
	size_t		 up;		/* union-find parent */
	size_t		 group;
};

/* The root of i, halving the path on the way. */
static size_t
qpd_root(struct qpd *v, size_t i)
{
	while (v[i].up != i) {
		v[i].up = v[v[i].up].up;
		i = v[i].up;
	}
	return i;
}

/* A token and the person holding it, for sorting. */
struct qpd_key {
	uint8_t		 key[16];
	size_t		 i;
};

static int
qpd_key_cmp(const void *p, const void *q)
{
	return memcmp(((const struct qpd_key *)p)->key, ((const struct qpd_key *)q)->key, 16);
}

/* Join the persons that share the age token (birth = 0) or the birth-year token (1). */
static void
qpd_join(struct qpd *v, struct qpd_key *k, size_t n, int birth)
{
	size_t i, m = 0, ra, rb;

	for (i = 0; i < n; i++)
		if (birth ? v[i].has_birth : v[i].has_age) {
			memcpy(k[m].key, birth ? v[i].birth : v[i].age, 16);
			k[m++].i = i;
		}
	qsort(k, m, sizeof *k, qpd_key_cmp);
	for (i = 1; i < m; i++) {
		if (memcmp(k[i - 1].key, k[i].key, 16) != 0)
			continue;
		ra = qpd_root(v, k[i - 1].i);
		rb = qpd_root(v, k[i].i);
		if (ra != rb)	/* the lower index is the root: a group's first in token order */
			v[ra > rb ? ra : rb].up = ra < rb ? ra : rb;
	}
}

/* Order by group, then token (the rows came in token order: keep it). */
static int
qpd_group_cmp(const void *p, const void *q)
{
	const struct qpd *a = p, *b = q;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return memcmp(a->tok, b->tok, 16);
}

static int
qpd_blob(uint8_t out[static 16], sqlite3_stmt *st, int col)
{
	if (sqlite3_column_bytes(st, col) != 16)
		return 0;
	memcpy(out, sqlite3_column_blob(st, col), 16);
	return 1;
}

int
query_persons_duplicates(sqlite3 *db, person_dup_cb cb, void *arg)
{
	struct qpd *v = NULL, *nv;
	sqlite3_stmt *st = NULL;
	struct qpd_key *k = NULL;
	size_t n = 0, cap = 0, i, *ix = NULL, groups = 0, r;
	int rc, error = 0;

	if (sqlite3_prepare_v2(db, QPD_SQL, -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 16)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = reallocarray(v, cap, sizeof *v)) == NULL) {
				error = CUSTODY_ENOMEM;
				goto done;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		memcpy(v[n].tok, sqlite3_column_blob(st, 0), 16);
		snprintf(v[n].office, sizeof v[n].office, "%s",
		    (const char *)sqlite3_column_text(st, 1) ?: "");
		v[n].has_age = qpd_blob(v[n].age, st, 2);
		v[n].has_birth = qpd_blob(v[n].birth, st, 3);
		v[n].up = n;
		n++;
	}
	if (rc != SQLITE_DONE) {
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
		goto done;
	}
	if (n == 0)
		goto done;
	if ((ix = calloc(n, sizeof *ix)) == NULL || (k = calloc(n, sizeof *k)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	qpd_join(v, k, n, 0);
	qpd_join(v, k, n, 1);
	/* a group is numbered by its first person in token order (its root, the lowest index) */
	for (i = 0; i < n; i++)
		ix[i] = SIZE_MAX;
	for (i = 0; i < n; i++) {
		r = qpd_root(v, i);
		if (ix[r] == SIZE_MAX)
			ix[r] = groups++;
		v[i].group = ix[r];
	}
	qsort(v, n, sizeof *v, qpd_group_cmp);
	for (i = 0; i < n && error == 0; i++)
		error = cb(arg, v[i].group, v[i].tok, v[i].office);
done:
	sqlite3_finalize(st);
	free(k);
	free(ix);
	free(v);
	return error;
}
