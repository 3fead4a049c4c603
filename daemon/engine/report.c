/*
 * The statistics report of a period (issue "monthly report"), computed from the index.
 *
 * Decisions, as the issue and its discussion settled them:
 * - A victim is in the period, by basis documented, when from <= documented <= to; by basis
 *   death, when from <= death_from and death_to <= to: the whole span its death date may
 *   cover lies in the period. So a death known only to the year is in no month's report, and
 *   a victim without a death date is in no death-basis report.
 * - Only civilians (status civilian) are counted; victims of the period with any other status
 *   are left out and counted as non_civilians_excluded.
 * - child and woman are the indexer's precomputed columns (a child is under 18 or of age
 *   group child; a woman is an adult female who is not a child). Torture is cause torture.
 * - by_party and by_governorate use the victim's own party and governorate; a victim without
 *   one counts under "unknown", so that each object sums to the report's total.
 * - by_month: the month (YYYY-MM) of the basis date. By basis death it is the month of
 *   death_from when the death date is known at least to the month (death_from and death_to in
 *   the same month); a death known only to the year counts under the key "YYYY" (only a period
 *   spanning a whole year can hold one). by_month sums to victims.
 * - A massacre is an incident linked to at least threshold of the civilians counted in this
 *   report (victims without an incident are ignored); it is attributed to the incident's own
 *   party, "unknown" when the incident has none or is not in the incidents table.
 * - percent: of the report's total, rounded to one decimal, half away from zero.
 * - Every object keyed by party, governorate or month holds only its non-zero entries (an
 *   empty object when there are none), sorted by key. All other keys are always present.
 *
 * Speed: the civilians of the period are read in one range scan of a covering index
 * (victims_documented or victims_death) and tallied here; the non-civilians are counted by a
 * range scan per other status of the same index, the statuses found by a loose index scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/records.h"
#include "report.h"

#define REPORT_TOKEN_LEN 16

/* Counters of one party (all of them), governorate or month (victims only). */
enum {
	N_VICTIMS, N_CHILDREN, N_WOMEN,
	N_T_VICTIMS, N_T_CHILDREN, N_T_WOMEN,	/* under torture */
	N_MEDICAL, N_CIVIL_DEFENSE, N_MEDIA,	/* categories bits 0, 1, 2 */
	N_MASSACRES,
	N_COUNTERS
};

struct report_entry {
	char		*name;
	size_t		 len;
	uint64_t	 n[N_COUNTERS];
};

/* A small list of keys (parties, governorates, months): a handful, so searched linearly. */
struct report_list {
	struct report_entry	*v;
	size_t			 n, cap, last;
};

/* Victims counted per incident token: open addressing, linear probing. */
struct report_incident {
	uint8_t		tok[REPORT_TOKEN_LEN];
	uint32_t	count;
	uint32_t	used;
};

struct report_incidents {
	struct report_incident	*v;
	size_t			 n, cap;	/* cap a power of two */
};

struct report {
	struct report_list	 parties, governorates, months;
	struct report_incidents	 incidents;
	uint64_t		 total[N_COUNTERS];
	uint64_t		 excluded, massacres;
};

/*
 * The statements. Column names and the basis are chosen among these constant texts; values
 * are always bound (:from, :to, :tok). The scans return the columns as stored and read them
 * as bytes: asking SQLite for NUL-terminated text would copy every one.
 */
static const char report_scan_documented[] =
    "SELECT party, governorate, cause, child, woman, categories, incident, documented, NULL"
    " FROM victims WHERE status = 'civilian' AND documented BETWEEN :from AND :to";
static const char report_scan_death[] =
    "SELECT party, governorate, cause, child, woman, categories, incident, death_from,"
    " death_to"
    " FROM victims WHERE status = 'civilian' AND death_from BETWEEN :from AND :to"
    " AND death_to <= :to";
/* The statuses present, one index seek each, then one range count per non-civilian one. */
#define REPORT_STATUSES \
    "WITH RECURSIVE s(v) AS (SELECT min(status) FROM victims UNION ALL" \
    " SELECT (SELECT min(status) FROM victims WHERE status > s.v) FROM s" \
    " WHERE s.v IS NOT NULL)" \
    " SELECT count(*) FROM s CROSS JOIN victims ON victims.status = s.v" \
    " WHERE s.v <> 'civilian' AND "
static const char report_excluded_documented[] =
    REPORT_STATUSES "documented BETWEEN :from AND :to";
static const char report_excluded_death[] =
    REPORT_STATUSES "death_from BETWEEN :from AND :to AND death_to <= :to";
static const char report_incident_party[] = "SELECT party FROM incidents WHERE tok = :tok";

/* Fail with SQLite's message. */
static int
report_db_fail(sqlite3 *db, const char *what)
{
	return custody_fail(CUSTODY_EIO, "report: %s: %s", what, sqlite3_errmsg(db));
}

/* Whether s is a real calendar day YYYY-MM-DD of the years 1900-2100 (cdate_parse). */
int
report_check_date(const char *s)
{
	struct cdate d;

	if (s == NULL || cdate_parse(&d, s) < 0 || d.precision != DATE_DAY)
		return custody_fail(CUSTODY_EINVAL, "bad date \"%.32s\": want YYYY-MM-DD",
		    s ? s : "");
	return 0;
}

/* The first and last day of a month ("YYYY-MM") or a year ("YYYY"): exactly one of the two. */
int
report_period(char from[11], char to[11], const char *month, const char *year)
{
	struct cdate d;

	if ((month == NULL) == (year == NULL))
		return custody_fail(CUSTODY_EINVAL, "give either a month or a year");
	if (year != NULL && (cdate_parse(&d, year) < 0 || d.precision != DATE_YEAR))
		return custody_fail(CUSTODY_EINVAL, "bad year \"%.32s\": want YYYY", year);
	if (month != NULL && (cdate_parse(&d, month) < 0 || d.precision != DATE_MONTH))
		return custody_fail(CUSTODY_EINVAL, "bad month \"%.32s\": want YYYY-MM", month);
	memcpy(from, d.first, 11);
	memcpy(to, d.last, 11);
	return 0;
}

/* The entry of name (len bytes, not NUL-terminated) in a list, added when new. */
static struct report_entry *
report_list_get(struct report_list *l, const void *name, size_t len)
{
	struct report_entry *e;
	size_t i;

	if (l->n > 0) {
		e = &l->v[l->last];
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		if (e->len == len && memcmp(e->name, name, len) == 0) {
			l->last = i;
			return e;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		if ((e = reallocarray(l->v, cap, sizeof *e)) == NULL)
			return NULL;
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof *e);
	if ((e->name = strndup(name, len)) == NULL)
		return NULL;
	e->len = len;
	l->last = l->n++;
	return e;
}

/* Order entries by key. */
static int
report_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_entry *)a)->name,
	    ((const struct report_entry *)b)->name);
}

/* Sort a list by key, for output in a stable order. */
static void
report_list_sort(struct report_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, report_entry_cmp);
	l->last = 0;
}

/* Free a list's keys and entries. */
static void
report_list_free(struct report_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* The slot of a token: its own, or the empty one where it goes. */
static struct report_incident *
report_incident_slot(struct report_incidents *t, const uint8_t *tok)
{
	uint64_t a, h;
	size_t i;

	/* both halves through a 64-bit finaliser: test tokens need not be uniform */
	memcpy(&a, tok, sizeof a);
	memcpy(&h, tok + 8, sizeof h);
	h ^= a * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	i = (size_t)h & (t->cap - 1);
	while (t->v[i].used && memcmp(t->v[i].tok, tok, REPORT_TOKEN_LEN) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

/* Count one more victim of an incident. */
static int
report_incident_add(struct report_incidents *t, const uint8_t *tok)
{
	struct report_incident *slot, *old = t->v;
	size_t i, oldcap = t->cap;

	if (2 * (t->n + 1) > t->cap) {
		t->cap = oldcap ? 2 * oldcap : 1024;
		if ((t->v = calloc(t->cap, sizeof *t->v)) == NULL) {
			t->v = old;
			t->cap = oldcap;
			return CUSTODY_ENOMEM;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].used)
				*report_incident_slot(t, old[i].tok) = old[i];
		free(old);
	}
	slot = report_incident_slot(t, tok);
	if (!slot->used) {
		memcpy(slot->tok, tok, REPORT_TOKEN_LEN);
		slot->used = 1;
		t->n++;
	}
	slot->count++;
	return 0;
}

/* Free what a report collected. */
static void
report_free(struct report *r)
{
	report_list_free(&r->parties);
	report_list_free(&r->governorates);
	report_list_free(&r->months);
	free(r->incidents.v);
}

/* Bind :from and :to (and nothing else) of a statement. */
static void
report_bind_period(sqlite3_stmt *st, const char *from, const char *to)
{
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":from"), from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":to"), to, -1, SQLITE_STATIC);
}

/* A text column's bytes without a copy; "unknown" for NULL. */
static const void *
report_text(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);

	if (p == NULL) {
		*len = 7;
		return "unknown";
	}
	*len = (size_t)sqlite3_column_bytes(st, col);
	return p;
}

/*
 * The by_month key of a row: the month of the basis date (YYYY-MM); by basis death, the year
 * (YYYY) when the death date spans more than one month (known only to the year).
 */
static const void *
report_month(sqlite3_stmt *st, size_t *len)
{
	const char *d = sqlite3_column_blob(st, 7), *last = sqlite3_column_blob(st, 8);

	if (d == NULL || sqlite3_column_bytes(st, 7) < 10) {
		*len = 7;
		return "unknown";	/* not a date the indexer writes */
	}
	*len = 7;
	if (last != NULL && (sqlite3_column_bytes(st, 8) < 7 || memcmp(d, last, 7) != 0))
		*len = 4;
	return d;
}

/* Tally one civilian of the period (a row of the scan). */
static int
report_row(struct report *r, sqlite3_stmt *st)
{
	const void *party, *gov, *month, *cause, *incident;
	size_t plen, glen, mlen, clen;
	uint64_t add[N_COUNTERS];
	struct report_entry *p, *g, *m;
	int64_t cat;
	int i, torture, child, woman;

	party = report_text(st, 0, &plen);
	gov = report_text(st, 1, &glen);
	cause = sqlite3_column_blob(st, 2);
	clen = (size_t)sqlite3_column_bytes(st, 2);
	torture = cause != NULL && clen == 7 && memcmp(cause, "torture", 7) == 0;
	child = sqlite3_column_int(st, 3) != 0;
	woman = sqlite3_column_int(st, 4) != 0;
	cat = sqlite3_column_int64(st, 5);
	month = report_month(st, &mlen);

	add[N_VICTIMS] = 1;
	add[N_CHILDREN] = child;
	add[N_WOMEN] = woman;
	add[N_T_VICTIMS] = torture;
	add[N_T_CHILDREN] = torture && child;
	add[N_T_WOMEN] = torture && woman;
	add[N_MEDICAL] = (cat & 1) != 0;
	add[N_CIVIL_DEFENSE] = (cat & 2) != 0;
	add[N_MEDIA] = (cat & 4) != 0;
	add[N_MASSACRES] = 0;

	if ((p = report_list_get(&r->parties, party, plen)) == NULL ||
	    (g = report_list_get(&r->governorates, gov, glen)) == NULL ||
	    (m = report_list_get(&r->months, month, mlen)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "report: out of memory");
	for (i = 0; i < N_COUNTERS; i++) {
		r->total[i] += add[i];
		p->n[i] += add[i];
	}
	g->n[N_VICTIMS]++;
	m->n[N_VICTIMS]++;
	/* Incident tokens are TOKEN_LEN bytes; anything else is not a link the indexer made. */
	if ((incident = sqlite3_column_blob(st, 6)) != NULL &&
	    sqlite3_column_bytes(st, 6) == REPORT_TOKEN_LEN)
		return report_incident_add(&r->incidents, incident);
	return 0;
}

/* Read the civilians and count the non-civilians of the period. */
static int
report_scan(struct report *r, sqlite3 *db, const char *from, const char *to, int death)
{
	sqlite3_stmt *st = NULL;
	int error = 0, rc;

	if (sqlite3_prepare_v2(db, death ? report_scan_death : report_scan_documented, -1, &st,
	    NULL) != SQLITE_OK)
		return report_db_fail(db, "prepare");
	report_bind_period(st, from, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((error = report_row(r, st)) < 0)
			goto done;
	if (rc != SQLITE_DONE) {
		error = report_db_fail(db, "scan");
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(db, death ? report_excluded_death : report_excluded_documented,
	    -1, &st, NULL) != SQLITE_OK) {
		error = report_db_fail(db, "prepare");
		goto done;
	}
	report_bind_period(st, from, to);
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = report_db_fail(db, "count");
		goto done;
	}
	r->excluded = (uint64_t)sqlite3_column_int64(st, 0);
done:
	sqlite3_finalize(st);
	return error;
}

/* Order tokens as SQLite orders blobs. */
static int
report_token_cmp(const void *a, const void *b)
{
	return memcmp(a, b, REPORT_TOKEN_LEN);
}

/*
 * Find the massacres among the period's incidents and attribute them to parties. The
 * incidents are looked up in token order, so the index pages they need are read once.
 */
static int
report_massacres(struct report *r, sqlite3 *db, int threshold)
{
	struct report_incidents *t = &r->incidents;
	uint8_t (*toks)[REPORT_TOKEN_LEN] = NULL;
	struct report_entry *p;
	sqlite3_stmt *st = NULL;
	const char *party;
	size_t i, n = 0;
	int error = 0, rc;

	for (i = 0; i < t->cap; i++)
		n += t->v[i].used && t->v[i].count >= (uint32_t)threshold;
	if (n == 0)
		return 0;
	if ((toks = calloc(n, sizeof *toks)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "report: out of memory");
	for (i = 0, n = 0; i < t->cap; i++)
		if (t->v[i].used && t->v[i].count >= (uint32_t)threshold)
			memcpy(toks[n++], t->v[i].tok, REPORT_TOKEN_LEN);
	qsort(toks, n, sizeof *toks, report_token_cmp);

	if (sqlite3_prepare_v2(db, report_incident_party, -1, &st, NULL) != SQLITE_OK) {
		error = report_db_fail(db, "prepare");
		goto done;
	}
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, toks[i], REPORT_TOKEN_LEN, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			error = report_db_fail(db, "incident");
			goto done;
		}
		party = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (party == NULL)
			party = "unknown";
		if ((p = report_list_get(&r->parties, party, strlen(party))) == NULL) {
			error = custody_fail(CUSTODY_ENOMEM, "report: out of memory");
			goto done;
		}
		p->n[N_MASSACRES]++;
		r->massacres++;
	}
done:
	sqlite3_finalize(st);
	free(toks);
	return error;
}

/* Set o[key] = v, taking v; -1 when either is NULL or out of memory. */
static int
report_set(json_t *o, const char *key, json_t *v)
{
	if (o == NULL)
		return (json_decref(v), -1);
	return json_object_set_new(o, key, v);
}

/* {"victims": a, "children": b, "women": c} from three counters. */
static json_t *
report_vcw(const uint64_t *n, int first)
{
	return json_pack("{sI sI sI}", "victims", (json_int_t)n[first],
	    "children", (json_int_t)n[first + 1], "women", (json_int_t)n[first + 2]);
}

/* An object of the list's entries whose counter c is not zero; vcw: as report_vcw(c). */
static json_t *
report_keyed(const struct report_list *l, int c, int vcw)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o != NULL && i < l->n; i++) {
		if (l->v[i].n[c] == 0)
			continue;
		if (report_set(o, l->v[i].name, vcw ? report_vcw(l->v[i].n, c) :
		    json_integer((json_int_t)l->v[i].n[c])) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* The governorates with their share of the total, rounded half away from zero. */
static json_t *
report_governorates(const struct report_list *l, uint64_t total)
{
	json_t *o = json_object(), *e;
	uint64_t v, tenths;
	size_t i;

	for (i = 0; o != NULL && i < l->n; i++) {
		if ((v = l->v[i].n[N_VICTIMS]) == 0)
			continue;
		/* round(1000 v / total) in integers: no binary fraction decides a half */
		tenths = (2000 * v + total) / (2 * total);
		e = json_pack("{sI so}", "victims", (json_int_t)v, "percent",
		    json_real((double)tenths / 10.0));
		if (report_set(o, l->v[i].name, e) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* The report's JSON, in the order of the shape. */
static json_t *
report_json(struct report *r, const char *from, const char *to, const char *basis,
    int threshold)
{
	static const char *cats[] = { "medical", "civil_defense", "media" };
	json_t *o = json_object(), *torture, *categories, *c;
	int i, bad = 0;

	report_list_sort(&r->parties);
	report_list_sort(&r->governorates);
	report_list_sort(&r->months);

	bad |= report_set(o, "period", json_pack("{ss ss ss}", "from", from, "to", to,
	    "basis", basis));
	bad |= report_set(o, "victims", json_integer((json_int_t)r->total[N_VICTIMS]));
	bad |= report_set(o, "children", json_integer((json_int_t)r->total[N_CHILDREN]));
	bad |= report_set(o, "women", json_integer((json_int_t)r->total[N_WOMEN]));
	bad |= report_set(o, "non_civilians_excluded", json_integer((json_int_t)r->excluded));
	bad |= report_set(o, "by_party", report_keyed(&r->parties, N_VICTIMS, 1));
	bad |= report_set(o, "by_governorate", report_governorates(&r->governorates,
	    r->total[N_VICTIMS]));

	torture = report_vcw(r->total, N_T_VICTIMS);
	bad |= report_set(torture, "by_party", report_keyed(&r->parties, N_T_VICTIMS, 1));
	bad |= report_set(o, "torture", torture);

	categories = json_object();
	for (i = 0; i < 3; i++) {
		c = json_pack("{sI}", "victims", (json_int_t)r->total[N_MEDICAL + i]);
		bad |= report_set(c, "by_party", report_keyed(&r->parties, N_MEDICAL + i, 0));
		bad |= report_set(categories, cats[i], c);
	}
	bad |= report_set(o, "categories", categories);

	c = json_pack("{si sI}", "threshold", threshold, "count", (json_int_t)r->massacres);
	bad |= report_set(c, "by_party", report_keyed(&r->parties, N_MASSACRES, 0));
	bad |= report_set(o, "massacres", c);
	bad |= report_set(o, "by_month", report_keyed(&r->months, N_VICTIMS, 0));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Check a report's period and basis; *death set by the basis. */
static int
report_check(const char *from, const char *to, const char *basis, int *death)
{
	int error;

	if ((error = report_check_date(from)) < 0 || (error = report_check_date(to)) < 0)
		return error;
	if (strcmp(from, to) > 0)
		return custody_fail(CUSTODY_EINVAL, "the period ends (%s) before it starts (%s)",
		    to, from);
	if (strcmp(basis, "documented") != 0 && strcmp(basis, "death") != 0)
		return custody_fail(CUSTODY_EINVAL, "bad basis \"%.32s\": documented or death",
		    basis);
	*death = strcmp(basis, "death") == 0;
	return 0;
}

/* The report of from..to by basis, with massacres of threshold civilians or more. */
int
report_build(json_t **out, sqlite3 *db, const char *from, const char *to, const char *basis,
    int threshold)
{
	struct report r;
	int error, death = 0, own;

	*out = NULL;
	if (basis == NULL)
		basis = "documented";
	if ((error = report_check(from, to, basis, &death)) < 0)
		return error;
	if (threshold < 1)
		return custody_fail(CUSTODY_EINVAL, "bad massacre threshold %d: want 1 or more",
		    threshold);
	memset(&r, 0, sizeof r);
	/* one read transaction: the scan and the counts see the same index */
	if ((own = sqlite3_get_autocommit(db)) &&
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return report_db_fail(db, "begin");
	if ((error = report_scan(&r, db, from, to, death)) < 0 ||
	    (error = report_massacres(&r, db, threshold)) < 0)
		goto done;
	if ((*out = report_json(&r, from, to, basis, threshold)) == NULL)
		error = custody_fail(CUSTODY_ENOMEM, "report: out of memory (or a name in the"
		    " index is not UTF-8)");
done:
	if (own)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	report_free(&r);
	return error;
}

/* The EXPLAIN QUERY PLAN of n statements, a line per step (caller frees *out). */
int
report_explain(char **out, sqlite3 *db, const char *const *sqls, size_t n)
{
	struct cbuf b = { 0 };
	sqlite3_stmt *st = NULL;
	char *explain;
	int error = 0, rc;
	size_t i;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if (asprintf(&explain, "EXPLAIN QUERY PLAN %s", sqls[i]) < 0) {
			error = CUSTODY_ENOMEM;
			goto done;
		}
		rc = sqlite3_prepare_v2(db, explain, -1, &st, NULL);
		free(explain);
		if (rc != SQLITE_OK) {
			error = report_db_fail(db, "explain");
			goto done;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (cbuf_printf(&b, "%s\n", (const char *)sqlite3_column_text(st, 3)) < 0) {
				error = CUSTODY_ENOMEM;
				goto done;
			}
		}
		if (rc != SQLITE_DONE) {
			error = report_db_fail(db, "explain");
			goto done;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((*out = cbuf_detach(&b)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	sqlite3_finalize(st);
	cbuf_free(&b);
	return error;
}

/* The EXPLAIN QUERY PLAN of the report's statements, one line each (caller frees). */
int
report_plan(char **out, sqlite3 *db, const char *basis)
{
	int death = basis != NULL && strcmp(basis, "death") == 0;
	const char *sqls[] = {
		death ? report_scan_death : report_scan_documented,
		death ? report_excluded_death : report_excluded_documented,
		report_incident_party,
	};

	return report_explain(out, db, sqls, 3);
}
