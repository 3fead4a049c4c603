/*
 * Victim queries over the index: the victims matching every filter given, in the order of
 * their basis date, then token. The period means what it means in a report (report.c): by
 * basis documented, from <= documented <= to; by basis death, from <= death_from and
 * death_to <= to, and only victims with a death date. Unlike the report, every status is
 * returned.
 *
 * The statement is put together from the constant fragments below, one per filter given;
 * every value is bound, never pasted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "custody.pb-c.h"
#include "report.h"

#define QUERY_TOKEN_LEN 16

/*
 * Without an incident the date range is searched in the basis index once per status (the
 * statuses found by a loose index scan), since status leads both indexes; with one, the
 * victims_incident index finds the few victims of the incident. Every filter is a column of
 * the basis index, so the victims are chosen, sorted and limited there (m), and only the
 * chosen ones are looked up in the table for their office.
 */
static const char query_head[] =
    "WITH RECURSIVE s(v) AS (SELECT min(status) FROM victims UNION ALL"
    " SELECT (SELECT min(status) FROM victims WHERE status > s.v) FROM s"
    " WHERE s.v IS NOT NULL),"
    " m AS (SELECT tok AS t, ";
static const char query_statuses[] = " AND status IN (SELECT v FROM s)";
static const char query_tail[] =
    " LIMIT :limit)"
    " SELECT victims.tok, " INDEX_OFFICE_KEY("victims.office") " FROM m CROSS JOIN victims"
    " ON victims.tok = m.t"
    " ORDER BY m.d, m.t";

struct query_clause {
	const char	*documented;	/* the fragment by basis documented */
	const char	*death;		/* and by basis death */
};

enum {
	Q_FROM, Q_TO, Q_PARTY, Q_GOVERNORATE, Q_CAUSE, Q_CATEGORY, Q_CHILD, Q_WOMAN,
	Q_INCIDENT, Q_CLAUSES
};

static const struct query_clause query_clauses[Q_CLAUSES] = {
	[Q_FROM] = { " AND documented >= :from", " AND death_from >= :from" },
	[Q_TO] = { " AND documented <= :to", " AND death_from <= :to AND death_to <= :to" },
	[Q_PARTY] = { " AND (party = :party OR (:party = 'unknown' AND party IS NULL))", NULL },
	[Q_GOVERNORATE] = { " AND (governorate = :gov OR (:gov = 'unknown' AND"
	    " governorate IS NULL))", NULL },
	[Q_CAUSE] = { " AND cause = :cause", NULL },
	[Q_CATEGORY] = { " AND (categories & :cat) <> 0", NULL },
	[Q_CHILD] = { " AND child = 1", NULL },
	[Q_WOMAN] = { " AND woman = 1", NULL },
	[Q_INCIDENT] = { " AND incident = :incident", NULL },
};

/* The categories bits, as the indexer sets them. */
static const char *const query_categories[] = { "medical", "civil_defense", "media" };

/* Check a filter; *death and *cat (0 when no category) set from it. */
static int
query_check(const struct query_filter *f, int *death, int *cat)
{
	int error;
	size_t i;

	if (f->from != NULL && (error = report_check_date(f->from)) < 0)
		return error;
	if (f->to != NULL && (error = report_check_date(f->to)) < 0)
		return error;
	if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) > 0)
		return custody_fail(CUSTODY_EINVAL, "the period ends (%s) before it starts (%s)",
		    f->to, f->from);
	if (f->basis != NULL && strcmp(f->basis, "documented") != 0 &&
	    strcmp(f->basis, "death") != 0)
		return custody_fail(CUSTODY_EINVAL, "bad basis \"%.32s\": documented or death",
		    f->basis);
	*death = f->basis != NULL && strcmp(f->basis, "death") == 0;
	*cat = 0;
	if (f->category != NULL) {
		for (i = 0; i < sizeof query_categories / sizeof *query_categories; i++)
			if (strcmp(f->category, query_categories[i]) == 0)
				*cat = 1 << i;
		if (*cat == 0)
			return custody_fail(CUSTODY_EINVAL, "bad category \"%.32s\": medical,"
			    " civil_defense or media", f->category);
	}
	return 0;
}

/* The SQL text for f (caller frees); f already checked. */
static char *
query_sql(const struct query_filter *f, int death)
{
	const int given[Q_CLAUSES] = {
		[Q_FROM] = f->from != NULL, [Q_TO] = f->to != NULL,
		[Q_PARTY] = f->party != NULL, [Q_GOVERNORATE] = f->governorate != NULL,
		[Q_CAUSE] = f->cause != NULL, [Q_CATEGORY] = f->category != NULL,
		[Q_CHILD] = f->child != 0, [Q_WOMAN] = f->woman != 0,
		[Q_INCIDENT] = f->incident != NULL,
	};
	const struct query_clause *c;
	struct cbuf b = { 0 };
	int i, bad = 0;

	bad |= cbuf_puts(&b, query_head);
	bad |= cbuf_puts(&b, death ? "death_from AS d" : "documented AS d");
	bad |= cbuf_puts(&b, " FROM victims WHERE 1");
	if (f->incident == NULL)
		bad |= cbuf_puts(&b, query_statuses);
	if (death)
		bad |= cbuf_puts(&b, " AND death_from IS NOT NULL");
	for (i = 0; i < Q_CLAUSES; i++) {
		c = &query_clauses[i];
		if (given[i])
			bad |= cbuf_puts(&b, death && c->death ? c->death : c->documented);
	}
	bad |= cbuf_puts(&b, death ? " ORDER BY death_from, tok" : " ORDER BY documented, tok");
	bad |= cbuf_puts(&b, query_tail);
	if (bad) {
		cbuf_free(&b);
		return NULL;
	}
	return cbuf_detach(&b);
}

/* Bind a text parameter when the statement has it. */
static void
query_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0 && v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Prepare and bind the statement of f. */
static int
query_prepare(sqlite3_stmt **out, sqlite3 *db, const struct query_filter *f)
{
	sqlite3_stmt *st;
	int error, death, cat, rc;
	char *sql;

	*out = NULL;
	if ((error = query_check(f, &death, &cat)) < 0)
		return error;
	if ((sql = query_sql(f, death)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "query: out of memory");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "query: prepare: %s", sqlite3_errmsg(db));
	query_bind_text(st, ":from", f->from);
	query_bind_text(st, ":to", f->to);
	query_bind_text(st, ":party", f->party);
	query_bind_text(st, ":gov", f->governorate);
	query_bind_text(st, ":cause", f->cause);
	if (cat != 0)
		sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":cat"), cat);
	if (f->incident != NULL)
		sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":incident"), f->incident,
		    QUERY_TOKEN_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
	    f->limit ? (sqlite3_int64)f->limit : -1);
	*out = st;
	return 0;
}

/* Call cb with the token and office of every victim matching f, in basis-date order. */
int
query_victims(sqlite3 *db, const struct query_filter *f, query_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int error, rc;

	if ((error = query_prepare(&st, db, f)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != QUERY_TOKEN_LEN) {
			error = custody_fail(CUSTODY_EIO, "query: a victim token of %d bytes",
			    sqlite3_column_bytes(st, 0));
			goto done;
		}
		if ((error = cb(arg, sqlite3_column_blob(st, 0),
		    (const char *)sqlite3_column_text(st, 1))) != 0) {
			if (error > 0)
				error = 0;
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		error = custody_fail(CUSTODY_EIO, "query: %s", sqlite3_errmsg(db));
done:
	sqlite3_finalize(st);
	return error;
}

/* The EXPLAIN QUERY PLAN of the statement query_victims would run for f (caller frees). */
int
query_plan(char **out, sqlite3 *db, const struct query_filter *f)
{
	const char *sqls[1];
	int error, death, cat;
	char *sql;

	*out = NULL;
	if ((error = query_check(f, &death, &cat)) < 0)
		return error;
	if ((sql = query_sql(f, death)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "query: out of memory");
	sqls[0] = sql;
	error = report_explain(out, db, sqls, 1);
	free(sql);
	return error;
}

/* The filter a QueryRequest asks for (itok holds the incident's token, when one is given). */
void
query_filter_request(struct query_filter *f, uint8_t itok[static TOKEN_LEN],
    const struct archive *a, const struct Custody__QueryRequest *m)
{
	memset(f, 0, sizeof *f);
	f->from = m->from[0] ? m->from : NULL;
	f->to = m->to[0] ? m->to : NULL;
	f->basis = m->basis[0] ? m->basis : "documented";
	f->party = m->party[0] ? m->party : NULL;
	f->governorate = m->governorate[0] ? m->governorate : NULL;
	f->cause = m->cause[0] ? m->cause : NULL;
	f->category = m->category[0] ? m->category : NULL;
	f->child = m->child;
	f->woman = m->woman;
	f->limit = m->limit;
	if (m->incident[0] != '\0') {
		archive_token(a, itok, m->incident);
		f->incident = itok;
	}
}
