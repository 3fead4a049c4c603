/*
 * The requests that read casualty records: lists, queries, duplicates, history and the report.
 * The index finds the records (by token); their content comes from the feeds, opened as the
 * client may see them (records-view.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed-reader.h"
#include "log.h"
#include "records-write.h"
#include "report.h"
#include "server.h"

#define LIST_CHUNK 1000		/* records per RecordList message */

/* Records gathered for RecordList messages. */
struct listing {
	struct archive	*a;
	struct request	*r;
	char		**json;
	size_t		 n;
	size_t		 total;
	int		 error;
	struct feed_reader *fr;		/* the records' feeds, read in token order */
};

static int
listing_flush(struct listing *l, int more)
{
	Custody__RecordList rl = CUSTODY__RECORD_LIST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	size_t i;
	int error;

	rl.json = l->json;
	rl.n_json = l->n;
	rl.more = more;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_LIST;
	env.record_list = &rl;
	error = server_reply(l->r, &env);
	for (i = 0; i < l->n; i++)
		free(l->json[i]);
	l->n = 0;
	if (error == 0 && more)		/* a long list goes out as it is made */
		error = server_reply_flush(l->r);
	return error;
}

/* Add the current revision of the record at tok (written last by office) to the listing. */
static int
listing_add(void *arg, const uint8_t tok[16], const char *office)
{
	struct listing *l = arg;
	char hex[TOKEN_HEX_LEN + 1];
	json_t *doc = NULL;
	int error;

	hex_encode(hex, tok, TOKEN_LEN);
	if (l->fr == NULL && (l->fr = feed_reader_new(l->a)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = records_view(l->r->c, l->fr, office, hex, &doc)) < 0) {
		log_warn("index names record %s in feed %.16s: %s", hex, office, custody_error());
		return 0;	/* the index is behind; skip rather than fail the whole list */
	}
	if (l->json == NULL && (l->json = calloc(LIST_CHUNK, sizeof *l->json)) == NULL)
		error = CUSTODY_ENOMEM;
	else if ((l->json[l->n] = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		error = CUSTODY_ENOMEM;
	else {
		l->n++;
		l->total++;
		if (l->n == LIST_CHUNK)
			error = listing_flush(l, 1);
	}
	json_decref(doc);
	return error;
}

static int
listing_finish(struct listing *l, int error)
{
	if (error == 0)
		error = listing_flush(l, 0);
	else {
		while (l->n > 0)
			free(l->json[--l->n]);
	}
	free(l->json);
	feed_reader_free(l->fr);
	return error;
}

/* Run a SELECT of (tok, office) rows with one optional text parameter into the listing. */
static int
listing_select(struct listing *l, const char *sql, const char *param, int64_t limit)
{
	sqlite3 *db = archive_db(l->a);
	sqlite3_stmt *st;
	int rc, error = 0;

	if (db == NULL)
		return CUSTODY_EIO;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	if (param != NULL)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, param != NULL ? 2 : 1, limit);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == TOKEN_LEN)
			error = listing_add(l, sqlite3_column_blob(st, 0),
			    (const char *)sqlite3_column_text(st, 1));
	if (error == 0 && rc != SQLITE_DONE)
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return error;
}

/* ListRequest: every record of a kind, current revisions. */
int
service_list(struct request *r)
{
	Custody__ListRequest *m = r->msg->list_request;
	struct listing l = { .a = r->c->s->a, .r = r };

	if (!records_kind_ok(m->kind) && strcmp(m->kind, "evidence") != 0)
		return custody_fail(CUSTODY_EINVAL, "unknown record kind");
	return listing_finish(&l, listing_select(&l, "SELECT tok, " INDEX_OFFICE_KEY("office")
	    " FROM records r WHERE kind=? AND NOT EXISTS (SELECT 1 FROM records o WHERE"
	    " o.tok=r.tok AND (o.lamport > r.lamport OR (o.lamport = r.lamport AND"
	    " o.office <> r.office AND " INDEX_OFFICE_KEY("o.office") " > "
	    INDEX_OFFICE_KEY("r.office") "))) ORDER BY tok LIMIT ?", m->kind,
	    m->limit ? (int64_t)m->limit : -1));
}

/* QueryRequest: victims matching the filters. */
int
service_query(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__QueryRequest *m = r->msg->query_request;
	struct listing l = { .a = a, .r = r };
	struct query_filter f;
	uint8_t itok[TOKEN_LEN];
	sqlite3 *db;

	if ((db = archive_db(a)) == NULL)
		return CUSTODY_EIO;
	query_filter_request(&f, itok, a, m);
	return listing_finish(&l, query_victims(db, &f, listing_add, &l));
}

/* Persons' duplicate groups being gathered (service_duplicates_person). */
struct dupgroups {
	Custody__DuplicateGroup	**groups;
	size_t			  n;
	struct listing		 *l;
};

/* Close the group being gathered: its records go to the last group. */
static void
service_duplicates_close(struct dupgroups *d)
{
	if (d->n > 0 && d->groups[d->n - 1]->json == NULL) {
		d->groups[d->n - 1]->json = d->l->json;
		d->groups[d->n - 1]->n_json = d->l->n;
		d->l->json = NULL;
		d->l->n = 0;
	}
}

/* A person of group (query_persons_duplicates): a new group when the number changes. */
static int
service_duplicates_person(void *arg, size_t group, const uint8_t tok[16], const char *office)
{
	struct dupgroups *d = arg;
	Custody__DuplicateGroup **v, *g;

	if (d->n == 0 || group != d->n - 1) {
		service_duplicates_close(d);
		if ((v = reallocarray(d->groups, d->n + 1, sizeof *v)) == NULL)
			return CUSTODY_ENOMEM;
		d->groups = v;
		if ((g = calloc(1, sizeof *g)) == NULL)
			return CUSTODY_ENOMEM;
		custody__duplicate_group__init(g);
		d->groups[d->n++] = g;
	}
	if (d->l->n >= LIST_CHUNK - 1)
		return 0;	/* as for victims: a group is cut short at a message's records */
	return listing_add(d->l, tok, office);
}

/*
 * DuplicatesRequest: victims sharing a normalised name, a date of death and a governorate;
 * or persons sharing a normalised name and a governorate with the same age or birth year.
 */
int
service_duplicates(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__DuplicatesReply dr = CUSTODY__DUPLICATES_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__DuplicateGroup **groups = NULL, **v = NULL, *g;
	struct listing l = { .a = a, .r = r };
	struct dupgroups d = { .l = &l };
	const char *kind = r->msg->duplicates_request->kind;
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st = NULL, *mem = NULL;
	size_t n = 0, i, j;
	int error = 0;

	if (db == NULL)
		return CUSTODY_EIO;
	if (strcmp(kind, "persons") == 0) {
		error = query_persons_duplicates(db, service_duplicates_person, &d);
		service_duplicates_close(&d);
		groups = d.groups;
		n = d.n;
		for (i = 0; l.json != NULL && i < l.n; i++)
			free(l.json[i]);
		free(l.json);
		l.json = NULL;
		if (error == 0)
			goto reply;
		goto done;
	}
	if (kind[0] != '\0' && strcmp(kind, "victims") != 0)
		return custody_fail(CUSTODY_EINVAL, "duplicates of victims or persons, not \"%.32s\"",
		    kind);
	if (sqlite3_prepare_v2(db, "SELECT dup_tok FROM victims WHERE dup_tok IS NOT NULL"
	    " GROUP BY dup_tok HAVING count(*) > 1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT tok, " INDEX_OFFICE_KEY("office") " FROM victims"
	    " WHERE dup_tok=? ORDER BY tok", -1, &mem, NULL) != SQLITE_OK) {
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
		goto done;
	}
	while (error == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if ((v = reallocarray(groups, n + 1, sizeof *groups)) == NULL ||
		    (g = calloc(1, sizeof *g)) == NULL) {
			if (v != NULL)
				groups = v;
			error = CUSTODY_ENOMEM;
			break;
		}
		groups = v;
		custody__duplicate_group__init(g);
		groups[n++] = g;
		sqlite3_bind_blob(mem, 1, sqlite3_column_blob(st, 0), TOKEN_LEN, SQLITE_STATIC);
		/* listing_add allocates l.json with the group's first record */
		while (error == 0 && l.n < LIST_CHUNK - 1 && sqlite3_step(mem) == SQLITE_ROW)
			error = listing_add(&l, sqlite3_column_blob(mem, 0),
			    (const char *)sqlite3_column_text(mem, 1));
		sqlite3_reset(mem);
		g->json = l.json;
		g->n_json = l.n;
		l.json = NULL;
		l.n = 0;
	}
reply:
	if (error == 0) {
		dr.groups = groups;
		dr.n_groups = n;
		env.body_case = CUSTODY__ENVELOPE__BODY_DUPLICATES_REPLY;
		env.duplicates_reply = &dr;
		error = server_reply(r, &env);
	}
done:
	for (i = 0; i < n; i++) {
		for (j = 0; j < groups[i]->n_json; j++)
			free(groups[i]->json[j]);
		free(groups[i]->json);
		free(groups[i]);
	}
	free(groups);
	sqlite3_finalize(st);
	sqlite3_finalize(mem);
	feed_reader_free(l.fr);	/* its groups were gathered without listing_finish */
	return error;
}

/* ReportRequest: the statistics of a period. */
int
service_report(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__ReportRequest *m = r->msg->report_request;
	Custody__ReportReply rr = CUSTODY__REPORT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	json_t *rep = NULL;
	sqlite3 *db;
	int error;

	if ((db = archive_db(a)) == NULL)
		return CUSTODY_EIO;
	if ((error = report_build(&rep, db, m->from, m->to, m->basis[0] ? m->basis :
	    "documented", a->conf.massacre_threshold)) < 0)
		return error;
	rr.json = json_dumps(rep, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	json_decref(rep);
	if (rr.json == NULL)
		return CUSTODY_ENOMEM;
	env.body_case = CUSTODY__ENVELOPE__BODY_REPORT_REPLY;
	env.report_reply = &rr;
	error = server_reply(r, &env);
	free(rr.json);
	return error;
}

/* One revision found in a feed's history. */
struct revision {
	json_t		*doc;
	char		 office[65];
	uint64_t	 seq, lamport;
	int64_t		 time;
	char		 commit[GIT_OID_HEXSZ + 1];
};

static int
revision_cmp(const void *x, const void *y)
{
	const struct revision *a = x, *b = y;
	int c;

	if (a->lamport != b->lamport)
		return a->lamport < b->lamport ? -1 : 1;
	c = strcmp(a->office, b->office);
	return c != 0 ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Every commit of an office's feed that changed the record at tok, as client cl may see it. */
static int
history_feed(const struct client *cl, const char *office, const char *tok,
    struct revision **revs, size_t *n)
{
	struct archive *a = cl->s->a;
	git_repository *repo = archive_repo(a);
	git_commit *c = NULL, *p = NULL;
	git_oid head, obj, pobj;
	uint64_t seq, lamport;
	char hex[65];
	json_t *doc, *pdoc;
	int error = 0, have, phave;

	if ((error = feed_head(a, office, &head, &seq, &lamport)) < 0)
		return error == CUSTODY_ENOTFOUND ? 0 : error;
	if (git_commit_lookup(&c, repo, &head) < 0)
		return custody_fail(CUSTODY_EIO, "feed %.16s unreadable", office);
	/* a revoked office's revisions past its cut count for nothing */
	if ((error = feed_cut_back(a, office, &c, seq)) < 0)
		return error;
	while (c != NULL && error == 0) {
		doc = pdoc = NULL;
		have = records_view_at(cl, c, tok, &doc, &obj) == 0;
		p = NULL;
		if (git_commit_parentcount(c) > 0)
			git_commit_parent(&p, c, 0);
		/* only its object is wanted: nothing protected is opened */
		phave = p != NULL && feed_read_at_flags(a, p, tok, &pdoc, &pobj, RECORD_SEALED) ==
		    0;
		json_decref(pdoc);
		if (have && (!phave || !git_oid_equal(&obj, &pobj))) {
			struct revision *rv;

			if ((rv = reallocarray(*revs, *n + 1, sizeof **revs)) == NULL) {
				json_decref(doc);
				error = CUSTODY_ENOMEM;
				break;
			}
			*revs = rv;
			rv = &(*revs)[(*n)++];
			rv->doc = doc;
			doc = NULL;
			snprintf(rv->office, sizeof rv->office, "%s", office);
			feed_parse_message(git_commit_message(c), &rv->seq, &rv->lamport, hex);
			rv->time = git_commit_time(c);
			git_oid_tostr(rv->commit, sizeof rv->commit, git_commit_id(c));
		}
		json_decref(doc);
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	return error;
}

/* The fields that differ between two revisions (added, changed or removed). */
static char **
history_changed(json_t *prev, json_t *cur, size_t *n)
{
	const char *k;
	json_t *v;
	char **out = NULL;

	*n = 0;
	json_object_foreach(cur, k, v) {
		if (strcmp(k, "rev") == 0 || (prev != NULL && json_equal(v,
		    json_object_get(prev, k))))
			continue;
		out = reallocarray(out, *n + 1, sizeof *out);
		out[(*n)++] = strdup(k);
	}
	if (prev != NULL)
		json_object_foreach(prev, k, v) {
			if (strcmp(k, "rev") == 0 || json_object_get(cur, k) != NULL)
				continue;
			out = reallocarray(out, *n + 1, sizeof *out);
			out[(*n)++] = strdup(k);
		}
	return out;
}

/* HistoryRequest: every revision of a record, from every office, oldest first. */
int
service_history(struct request *r)
{
	struct archive *a = r->c->s->a;
	const char *id = r->msg->history_request->id;
	Custody__HistoryReply hr = CUSTODY__HISTORY_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__Revision *rv = NULL, **pv = NULL;
	struct revision *revs = NULL;
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st = NULL;
	uint8_t tok[TOKEN_LEN];
	char hex[TOKEN_HEX_LEN + 1];
	size_t n = 0, i, j;
	int error;

	if ((error = archive_check_id(id)) < 0)
		return error;
	if (db == NULL)
		return CUSTODY_EIO;
	archive_token(a, tok, id);
	hex_encode(hex, tok, TOKEN_LEN);
	if (sqlite3_prepare_v2(db, "SELECT " INDEX_OFFICE_KEY("office") " FROM records WHERE"
	    " tok=?", -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	while (error == 0 && sqlite3_step(st) == SQLITE_ROW)
		error = history_feed(r->c, (const char *)sqlite3_column_text(st, 0), hex, &revs,
		    &n);
	sqlite3_finalize(st);
	if (error == 0 && n == 0)
		error = custody_fail(CUSTODY_ENOTFOUND, "no such record: %s", id);
	if (error < 0)
		goto done;
	qsort(revs, n, sizeof *revs, revision_cmp);
	if ((rv = calloc(n, sizeof *rv)) == NULL || (pv = calloc(n, sizeof *pv)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		custody__revision__init(&rv[i]);
		rv[i].office = strcmp(revs[i].office, a->office_hex) == 0 ? a->conf.office :
		    revs[i].office;
		rv[i].seq = revs[i].seq;
		rv[i].lamport = revs[i].lamport;
		rv[i].time = revs[i].time;
		rv[i].commit = revs[i].commit;
		rv[i].changed = history_changed(i > 0 ? revs[i - 1].doc : NULL, revs[i].doc,
		    &rv[i].n_changed);
		rv[i].json = json_dumps(revs[i].doc, JSON_COMPACT | JSON_SORT_KEYS);
		pv[i] = &rv[i];
	}
	hr.revisions = pv;
	hr.n_revisions = n;
	env.body_case = CUSTODY__ENVELOPE__BODY_HISTORY_REPLY;
	env.history_reply = &hr;
	error = server_reply(r, &env);
done:
	for (i = 0; i < n; i++) {
		if (rv != NULL) {
			for (j = 0; j < rv[i].n_changed; j++)
				free(rv[i].changed[j]);
			free(rv[i].changed);
			free(rv[i].json);
		}
		json_decref(revs[i].doc);
	}
	free(rv);
	free(pv);
	free(revs);
	return error;
}

/* DetentionsRequest: the detention report of a period. */
int
service_detentions(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__DetentionsRequest *m = r->msg->detentions_request;
	Custody__DetentionsReply dr = CUSTODY__DETENTIONS_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	json_t *rep = NULL;
	sqlite3 *db;
	int error;

	if ((db = archive_db(a)) == NULL)
		return CUSTODY_EIO;
	if ((error = report_detentions_build(&rep, db, m->from, m->to,
	    (unsigned)a->conf.disappeared_after_days)) < 0)
		return error;
	dr.json = json_dumps(rep, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	json_decref(rep);
	if (dr.json == NULL)
		return CUSTODY_ENOMEM;
	env.body_case = CUSTODY__ENVELOPE__BODY_DETENTIONS_REPLY;
	env.detentions_reply = &dr;
	error = server_reply(r, &env);
	free(dr.json);
	return error;
}

/* SiteCountsRequest: the evidence and persons of each site asked, counted over the index. */
int
service_site_counts(struct request *r)
{
	Custody__SiteCountsRequest *m = r->msg->site_counts_request;
	Custody__SiteCountsReply sr = CUSTODY__SITE_COUNTS_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint64_t *ev, *pe;
	int error;

	ev = calloc(m->n_site ? m->n_site : 1, sizeof *ev);
	pe = calloc(m->n_site ? m->n_site : 1, sizeof *pe);
	if (ev == NULL || pe == NULL)
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
	else if ((error = index_sites_counts(r->c->s->a, (const char *const *)m->site,
	    m->n_site, ev, pe)) == 0) {
		sr.n_evidence = sr.n_persons = m->n_site;
		sr.evidence = ev;
		sr.persons = pe;
		env.body_case = CUSTODY__ENVELOPE__BODY_SITE_COUNTS_REPLY;
		env.site_counts_reply = &sr;
		error = server_reply(r, &env);
	}
	free(ev);
	free(pe);
	return error;
}

/*
 * PersonCaseRequest: the person, the person's events (by first day, then type order), the
 * sites they name, each once, and the office record of the office whose revision of the
 * person is current, as RecordList messages (as the client may see them).
 */
int
service_person_case(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__PersonCaseRequest *m = r->msg->person_case_request;
	struct listing l = { .a = a, .r = r };
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st = NULL;
	uint8_t tok[TOKEN_LEN];
	char office[65], kind[16], oid[80];
	uint8_t chash[TOKEN_LEN];
	int error, rc = SQLITE_DONE, i;
	static const char *const sql[] = {
		"SELECT e.tok, " INDEX_OFFICE_KEY("e.office") " FROM person_events e"
		" WHERE e.person=?"
		" ORDER BY e.date_from, CASE e.type WHEN 'last_seen' THEN 0 WHEN 'arrest' THEN 1"
		" WHEN 'abduction' THEN 2 WHEN 'transfer' THEN 3 WHEN 'seen_in_custody' THEN 4"
		" WHEN 'inquiry' THEN 5 WHEN 'denial' THEN 6 WHEN 'release' THEN 7"
		" WHEN 'death_in_custody' THEN 8 WHEN 'remains_found' THEN 9 ELSE 10 END, e.tok",
		"SELECT s.tok, " INDEX_OFFICE_KEY("s.office") " FROM records s WHERE s.tok IN"
		" (SELECT site FROM person_events WHERE person=? AND site IS NOT NULL) AND"
		" s.kind='site' AND NOT EXISTS (SELECT 1 FROM records o WHERE o.tok=s.tok AND"
		" (o.lamport > s.lamport OR (o.lamport = s.lamport AND o.office <> s.office AND "
		INDEX_OFFICE_KEY("o.office") " > " INDEX_OFFICE_KEY("s.office") ")))"
		" ORDER BY s.tok",
	};

	if (db == NULL)
		return CUSTODY_EIO;
	if (m->id[0] == '\0' || strlen(m->id) > 64)
		return custody_fail(CUSTODY_EINVAL, "a person's id is needed");
	archive_token(a, tok, m->id);
	error = index_current_chash(a, tok, chash, office, kind);
	if (error == CUSTODY_ENOTFOUND || (error == 0 && strcmp(kind, "person") != 0))
		return custody_fail(CUSTODY_ENOTFOUND, "no such person: %s", m->id);
	if (error < 0 || (error = listing_add(&l, tok, office)) < 0)
		return listing_finish(&l, error);
	for (i = 0; i < 2 && error == 0; i++) {
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) {
			error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
			break;
		}
		sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
		while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
			if (sqlite3_column_bytes(st, 0) == TOKEN_LEN)
				error = listing_add(&l, sqlite3_column_blob(st, 0),
				    (const char *)sqlite3_column_text(st, 1));
		if (error == 0 && rc != SQLITE_DONE)
			error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		st = NULL;
	}
	/* the office record of the office whose revision of the person is current, if held */
	snprintf(oid, sizeof oid, "office-%s", office);
	archive_token(a, tok, oid);
	if (error == 0 && index_current_chash(a, tok, chash, office, kind) == 0 &&
	    strcmp(kind, "office") == 0)
		error = listing_add(&l, tok, office);
	return listing_finish(&l, error);
}

/* PersonQueryRequest: persons matching the filters. */
int
service_query_persons(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__PersonQueryRequest *m = r->msg->person_query_request;
	struct listing l = { .a = a, .r = r };
	struct person_filter f = { 0 };
	uint8_t stok[TOKEN_LEN];
	sqlite3 *db;

	if ((db = archive_db(a)) == NULL)
		return CUSTODY_EIO;
	person_filter_request(&f, stok, a, m);
	return listing_finish(&l, query_persons(db, &f, (unsigned)a->conf.disappeared_after_days,
	    listing_add, &l));
}
