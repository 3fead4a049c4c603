/*
 * Person queries over the index (custody query persons): each person with its events, in
 * token order (persons joined with person_events by person), its status at a day worked out
 * as persons.h defines it, kept when every filter holds. Memory: one person's events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "custody.pb-c.h"
#include "custody/common.h"
#include "custody/persons.h"
#include "report.h"

#define QP_SQL "SELECT p.tok, " INDEX_OFFICE_KEY("p.office") ", p.child, p.woman," \
	" p.governorate, e.type, e.date," \
	" e.party, e.governorate, e.site FROM persons p LEFT JOIN person_events e" \
	" ON e.person = p.tok ORDER BY p.tok"

/* One person as it is being read. */
struct qp_person {
	uint8_t			 tok[16];
	char			 office[65];
	int			 child, woman, match_party, match_gov, match_site;
	struct person_event	*ev;
	size_t			 nev, cap;
};

static int
qp_eq(const unsigned char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp((const char *)a, b) == 0;
}

/* Add the event of the current row (columns 5-9) to p, and what the filters ask of it. */
static int
qp_event(struct qp_person *p, sqlite3_stmt *st, const struct person_filter *f)
{
	const char *type = (const char *)sqlite3_column_text(st, 5);
	const char *date = (const char *)sqlite3_column_text(st, 6);
	struct person_event e = { 0 };
	int t;

	if (type == NULL || date == NULL)
		return 0;	/* the person has no event (the LEFT JOIN's NULLs) */
	if (f->party != NULL && f->party[0] != '\0' && qp_eq(sqlite3_column_text(st, 7), f->party))
		p->match_party = 1;
	if (f->governorate != NULL && f->governorate[0] != '\0' &&
	    qp_eq(sqlite3_column_text(st, 8), f->governorate))
		p->match_gov = 1;
	if (f->site != NULL && sqlite3_column_bytes(st, 9) == 16 &&
	    memcmp(sqlite3_column_blob(st, 9), f->site, 16) == 0)
		p->match_site = 1;
	if ((t = person_event_type_from_name(type, strlen(type))) < 0 ||
	    cdate_parse(&e.date, date) < 0)
		return 0;
	e.type = (enum person_event_type)t;
	if (p->nev == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct person_event *v = reallocarray(p->ev, cap, sizeof *v);

		if (v == NULL)
			return CUSTODY_ENOMEM;
		p->ev = v;
		p->cap = cap;
	}
	p->ev[p->nev++] = e;	/* party and governorate are not needed for a status */
	return 0;
}

/* Whether p passes every filter. */
static int
qp_match(const struct qp_person *p, const struct person_filter *f, int64_t at, unsigned days)
{
	if (f->status != NULL && f->status[0] != '\0' &&
	    person_status_at(p->ev, p->nev, at, days) !=
	    person_status_from_name(f->status, strlen(f->status)))
		return 0;
	if (f->party != NULL && f->party[0] != '\0' && !p->match_party)
		return 0;
	if (f->governorate != NULL && f->governorate[0] != '\0' && !p->match_gov)
		return 0;
	if (f->site != NULL && !p->match_site)
		return 0;
	return (!f->child || p->child) && (!f->woman || p->woman);
}

/* Persons matching f, in token order, to cb. */
int
query_persons(sqlite3 *db, const struct person_filter *f, unsigned disappeared_after_days,
    query_cb cb, void *arg)
{
	struct qp_person p = { 0 };
	sqlite3_stmt *st = NULL;
	const void *tok;
	unsigned found = 0;
	int64_t at = 0;
	int rc, error = 0, have = 0;

	if (f->status != NULL && f->status[0] != '\0') {
		if (person_status_from_name(f->status, strlen(f->status)) == PERSON_STATUS_NONE)
			return custody_fail(CUSTODY_EINVAL, "unknown status \"%.32s\" (missing, "
			    "detained, disappeared, released, died_in_custody, found_dead, "
			    "identified)", f->status);
		if (f->at == NULL || person_day(&at, f->at) < 0)
			return custody_fail(CUSTODY_EINVAL, "a status needs a day YYYY-MM-DD");
	}
	if (sqlite3_prepare_v2(db, QP_SQL, -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	for (;;) {
		rc = sqlite3_step(st);
		tok = rc == SQLITE_ROW ? sqlite3_column_blob(st, 0) : NULL;
		if (rc == SQLITE_ROW && (tok == NULL || sqlite3_column_bytes(st, 0) != 16))
			continue;
		/* a new person, or the end: the one read so far is complete */
		if (have && (rc != SQLITE_ROW || memcmp(tok, p.tok, 16) != 0)) {
			if (qp_match(&p, f, at, disappeared_after_days)) {
				if ((error = cb(arg, p.tok, p.office)) != 0)
					break;
				if (f->limit > 0 && ++found == f->limit)
					break;
			}
			have = 0;
		}
		if (rc != SQLITE_ROW)
			break;
		if (!have) {
			memcpy(p.tok, tok, 16);
			snprintf(p.office, sizeof p.office, "%s",
			    (const char *)sqlite3_column_text(st, 1) ?: "");
			p.child = sqlite3_column_int(st, 2);
			p.woman = sqlite3_column_int(st, 3);
			p.match_party = p.match_site = 0;
			p.match_gov = f->governorate != NULL && f->governorate[0] != '\0' &&
			    qp_eq(sqlite3_column_text(st, 4), f->governorate);
			p.nev = 0;
			have = 1;
		}
		if ((error = qp_event(&p, st, f)) < 0)
			break;
	}
	if (error == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(p.ev);
	return error > 0 ? 0 : error;
}

void
person_filter_request(struct person_filter *f, uint8_t stok[static 16], const struct archive *a,
    const struct Custody__PersonQueryRequest *m)
{
	memset(f, 0, sizeof *f);
	f->status = m->status;
	f->at = m->at;
	f->party = m->party;
	f->governorate = m->governorate;
	if (m->site[0] != '\0') {
		archive_token(a, stok, m->site);
		f->site = stok;
	}
	f->child = m->child;
	f->woman = m->woman;
	f->limit = m->limit;
}
