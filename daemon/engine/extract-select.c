/*
 * What a dossier holds: the records an extract asks for, then one step out (extract.h). Each
 * record is read once to follow its links; extract.c reads it again at the commit that wrote
 * it, for its proof.
 */
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "feed-reader.h"
#include "log.h"
#include "report.h"

const char *const xkinds[K_COUNT] = { "incident", "victim", "evidence", "source", "person",
    "person_event", "site" };

static int
xkind(const char *kind)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(kind, xkinds[k]) == 0)
			return k;
	return -1;
}

/* Whether the link field of kind may be followed: the policy does not withhold it. */
static int
xsel_follows(const struct selection *x, const char *kind, const char *field)
{
	char name[64];

	snprintf(name, sizeof name, "%s.%s", kind, field);
	return x->policy == NULL || json_object_get(x->policy, name) == NULL;
}

/* Whether the person doc consents to the recipient's class. */
static int
xsel_consents(const struct selection *x, json_t *doc)
{
	json_t *v;
	size_t i;

	if (x->consent_class == NULL)
		return 0;
	json_array_foreach(json_object_get(doc, "consent"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), x->consent_class) == 0)
			return 1;
	return 0;
}

/*
 * Add the record at (tok, office); kind < 0: any. A person whose consent leaves out the
 * recipient's class goes into x->left instead; an event only comes in with its person.
 */
static int
xsel_add_tok(struct selection *x, const uint8_t tok[static TOKEN_LEN], const char *office,
    int kind, int primary, const char *asked)
{
	char tokhex[TOKEN_HEX_LEN + 1];
	struct xsel *s;
	json_t *doc = NULL;
	int k, error;

	hex_encode(tokhex, tok, TOKEN_LEN);
	if ((error = feed_read_token(x->a, office, tokhex, &doc)) < 0)
		return error;
	k = xkind(record_kind(doc));
	if (k < 0 || (kind >= 0 && k != kind)) {
		error = custody_fail(CUSTODY_EINVAL, "%s is a%s %s record, not %s %s", asked,
		    strchr("aeiou", record_kind(doc)[0]) ? "n" : "", record_kind(doc),
		    kind == K_INCIDENT || kind == K_EVIDENCE ? "an" : "a",
		    kind >= 0 ? xkinds[kind] : "one a dossier holds");
		json_decref(doc);
		return error;
	}
	if (json_object_get(x->seen, record_id(doc)) != NULL ||
	    json_object_get(x->left, record_id(doc)) != NULL) {
		json_decref(doc);
		return 0;
	}
	if (k == K_PERSON && !xsel_consents(x, doc)) {
		error = json_object_set_new(x->left, record_id(doc), json_true()) == 0 ? 0 :
		    CUSTODY_ENOMEM;
		json_decref(doc);
		return error;
	}
	if (k == K_PERSON_EVENT && json_object_get(x->seen, json_string_value(
	    json_object_get(doc, "person_id")) ?: "") == NULL) {
		json_decref(doc);
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;

		if ((s = reallocarray(x->v, cap, sizeof *s)) == NULL) {
			json_decref(doc);
			return CUSTODY_ENOMEM;
		}
		x->v = s;
		x->cap = cap;
	}
	s = &x->v[x->n];
	memset(s, 0, sizeof *s);
	s->kind = k;
	s->primary = primary;
	s->doc = doc;
	snprintf(s->office, sizeof s->office, "%s", office);
	memcpy(s->tok, tok, TOKEN_LEN);
	if ((s->id = strdup(record_id(doc))) == NULL) {
		json_decref(doc);
		return CUSTODY_ENOMEM;
	}
	x->n++;
	return json_object_set_new(x->seen, s->id, json_true()) == 0 ? 0 : CUSTODY_ENOMEM;
}

/* Add the record id (of kind, or any when kind < 0). quiet: a missing link is no error. */
static int
xsel_add(struct selection *x, const char *id, int kind, int primary, int quiet)
{
	uint8_t tok[TOKEN_LEN];
	char office[65];
	int error;

	if (archive_check_id(id) < 0) {
		if (quiet)
			return 0;
		return custody_fail(CUSTODY_EINVAL, "'%s' is not a record id", id);
	}
	if (json_object_get(x->seen, id) != NULL || json_object_get(x->left, id) != NULL)
		return 0;
	if ((error = index_record_office(x->a, id, office)) < 0) {
		if (error == CUSTODY_ENOTFOUND) {
			if (quiet) {
				hex_encode(office, tok, TOKEN_LEN);
				log_warn("extract: record %s is linked but not here; left out",
				    office);
				return 0;
			}
			return custody_fail(error, "no such record: %s", id);
		}
		return error;
	}
	archive_token(x->a, tok, id);
	return xsel_add_tok(x, tok, office, kind, primary, id);
}

static int
xsel_query_cb(void *arg, const uint8_t tok[16], const char *office)
{
	struct selection *x = arg;

	return xsel_add_tok(x, tok, office, K_VICTIM, 1, "a queried victim");
}

/* A person of the person query: added when its consent allows, else left out (counted). */
struct xsel_persons {
	struct selection	*x;
	unsigned		 limit, added;
};

static int
xsel_person_query_cb(void *arg, const uint8_t tok[16], const char *office)
{
	struct xsel_persons *q = arg;
	size_t before = q->x->n;
	int error;

	if ((error = xsel_add_tok(q->x, tok, office, K_PERSON, 1, "a queried person")) < 0)
		return error;
	if (q->x->n > before && q->limit > 0 && ++q->added == q->limit)
		return 1;	/* --limit counts the persons that go in */
	return 0;
}

static int
xsel_incident_cb(void *arg, const uint8_t tok[16], const char *office)
{
	return xsel_add_tok(arg, tok, office, K_VICTIM, 0, "a victim of the incident");
}

/* True when a record of kind is selected. */
static int
xsel_has_kind(const struct selection *x, int kind)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (x->v[i].kind == kind)
			return 1;
	return 0;
}

/* True when any member of the array doc[field] is a selected id of one of the kinds. */
static int
xsel_links_to(struct selection *x, json_t *doc, const char *field)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(doc, field), i, v)
		if (json_is_string(v) && json_object_get(x->seen, json_string_value(v)) != NULL)
			return 1;
	return 0;
}

/* What a pass over every record of a kind does with each (xsel_scan). */
typedef int (*xsel_each)(struct selection *, const uint8_t tok[static TOKEN_LEN],
    const char *office, json_t *doc, void *arg);

/*
 * One pass over every revision of a kind in the index, in the order of the keys (as revisions
 * of one record in two feeds were read before): each read through one feed reader, then given
 * to each.
 */
static int
xsel_scan(struct selection *x, const char *kind, xsel_each each, void *arg)
{
	sqlite3 *db = archive_db(x->a);
	sqlite3_stmt *st;
	struct feed_reader *fr;
	char tokhex[TOKEN_HEX_LEN + 1], office[65];
	uint8_t tok[TOKEN_LEN];
	json_t *doc;
	int error = 0;

	if (db == NULL || (st = index_stmt(db, "SELECT tok, " INDEX_OFFICE_KEY("office")
	    " AS okey FROM records WHERE kind=? ORDER BY tok, okey")) == NULL)
		return custody_fail(CUSTODY_EIO, "index: cannot list %s records", kind);
	if ((fr = feed_reader_new(x->a)) == NULL)
		return CUSTODY_ENOMEM;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while (error == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN)
			continue;
		memcpy(tok, sqlite3_column_blob(st, 0), TOKEN_LEN);
		snprintf(office, sizeof office, "%s", (const char *)sqlite3_column_text(st, 1));
		hex_encode(tokhex, tok, TOKEN_LEN);
		if ((error = feed_reader_read(fr, office, tokhex, &doc, 0)) < 0)
			break;
		error = each(x, tok, office, doc, arg);
		json_decref(doc);
	}
	sqlite3_reset(st);
	feed_reader_free(fr);
	return error;
}

/* Evidence linked to a selected incident, victim, person or site: brought in. */
static int
xsel_evidence_each(struct selection *x, const uint8_t tok[static TOKEN_LEN],
    const char *office, json_t *doc, void *arg)
{
	(void)arg;
	if (json_object_get(x->seen, record_id(doc)) == NULL &&
	    ((xsel_follows(x, "evidence", "incidents") &&
	    xsel_links_to(x, doc, "incidents")) ||
	    (xsel_follows(x, "evidence", "victims") && xsel_links_to(x, doc, "victims")) ||
	    (xsel_follows(x, "evidence", "persons") && xsel_links_to(x, doc, "persons")) ||
	    (xsel_follows(x, "evidence", "sites") && xsel_links_to(x, doc, "sites"))))
		return xsel_add_tok(x, tok, office, K_EVIDENCE, 0, record_id(doc));
	return 0;
}

/*
 * A person event. sites set (site id -> true): bring the person of an event at one of them
 * (its consent allowing). Otherwise: bring the event of a selected person, or count it among
 * those of the persons left out.
 */
static int
xsel_event_each(struct selection *x, const uint8_t tok[static TOKEN_LEN], const char *office,
    json_t *doc, void *arg)
{
	json_t *sites = arg;
	const char *pid = json_string_value(json_object_get(doc, "person_id"));
	const char *sid = json_string_value(json_object_get(doc, "site_id"));

	if (pid == NULL || json_object_get(x->seen, record_id(doc)) != NULL)
		return 0;
	if (sites != NULL)
		return sid != NULL && json_object_get(sites, sid) != NULL ?
		    xsel_add(x, pid, K_PERSON, 0, 1) : 0;
	if (json_object_get(x->left, pid) != NULL)
		x->events_left++;
	else if (json_object_get(x->seen, pid) != NULL)
		return xsel_add_tok(x, tok, office, K_PERSON_EVENT, 0, record_id(doc));
	return 0;
}

static int
xsel_links(struct selection *x, json_t *doc, const char *field, int kind)
{
	json_t *v;
	size_t i;
	int error = 0;

	json_array_foreach(json_object_get(doc, field), i, v)
		if (error == 0 && json_is_string(v))
			error = xsel_add(x, json_string_value(v), kind, 0, 1);
	return error;
}

/*
 * A query that filters on a field the policy withholds would tell the field's value by who is
 * in the dossier: refused, naming the field.
 */
static int
xsel_query_check(const struct selection *x, const Custody__QueryRequest *q)
{
	const char *f = NULL;

	if ((q->from[0] != '\0' || q->to[0] != '\0') && strcmp(q->basis, "death") == 0 &&
	    !xsel_follows(x, "victim", "date_of_death"))
		f = "date_of_death";
	else if ((q->from[0] != '\0' || q->to[0] != '\0') && strcmp(q->basis, "death") != 0 &&
	    !xsel_follows(x, "victim", "date_documented"))
		f = "date_documented";
	else if (q->party[0] != '\0' && !xsel_follows(x, "victim", "party"))
		f = "party";
	else if (q->governorate[0] != '\0' && !xsel_follows(x, "victim", "governorate"))
		f = "governorate";
	else if (q->cause[0] != '\0' && !xsel_follows(x, "victim", "cause"))
		f = "cause";
	else if (q->category[0] != '\0' && !xsel_follows(x, "victim", "categories"))
		f = "categories";
	else if (q->child && !xsel_follows(x, "victim", "age"))
		f = "age";
	else if (q->child && !xsel_follows(x, "victim", "age_group"))
		f = "age_group";
	else if (q->woman && !xsel_follows(x, "victim", "sex"))
		f = "sex";
	else if (q->incident[0] != '\0' && !xsel_follows(x, "victim", "incident_id"))
		f = "incident_id";
	if (f == NULL)
		return 0;
	return custody_fail(CUSTODY_EINVAL, "the query selects by victim.%s, which the recipient "
	    "withholds: who is in the dossier would tell it", f);
}

/*
 * As xsel_query_check, for a person query: each filter and the fields that decide it (a
 * status, the type and date of the person's events).
 */
static int
xsel_person_query_check(const struct selection *x, const Custody__PersonQueryRequest *q)
{
	const char *f = NULL;

	if (q->status[0] != '\0' && !xsel_follows(x, "person_event", "person_id"))
		f = "person_event.person_id";
	else if (q->status[0] != '\0' && !xsel_follows(x, "person_event", "type"))
		f = "person_event.type";
	else if (q->status[0] != '\0' && !xsel_follows(x, "person_event", "date"))
		f = "person_event.date";
	else if (q->party[0] != '\0' && !xsel_follows(x, "person_event", "party"))
		f = "person_event.party";
	else if (q->governorate[0] != '\0' && !xsel_follows(x, "person", "governorate"))
		f = "person.governorate";
	else if (q->governorate[0] != '\0' && !xsel_follows(x, "person_event", "governorate"))
		f = "person_event.governorate";
	else if (q->site[0] != '\0' && !xsel_follows(x, "person_event", "site_id"))
		f = "person_event.site_id";
	else if ((q->child || q->woman) && !xsel_follows(x, "person", "age"))
		f = "person.age";
	else if ((q->child || q->woman) && !xsel_follows(x, "person", "age_group"))
		f = "person.age_group";
	else if (q->woman && !xsel_follows(x, "person", "sex"))
		f = "person.sex";
	if (f == NULL)
		return 0;
	return custody_fail(CUSTODY_EINVAL, "the query selects persons by %s, which the "
	    "recipient withholds: who is in the dossier would tell it", f);
}

/* The persons of the person query, consent allowing (xsel_person_query_cb). */
static int
xsel_person_query(struct selection *x, const Custody__PersonQueryRequest *q)
{
	struct xsel_persons qp = { .x = x, .limit = q->limit };
	struct person_filter f;
	uint8_t stok[TOKEN_LEN];
	sqlite3 *db = archive_db(x->a);
	int error;

	if (db == NULL)
		return CUSTODY_EIO;
	if ((error = xsel_person_query_check(x, q)) < 0)
		return error;
	person_filter_request(&f, stok, x->a, q);
	f.limit = 0;
	return query_persons(db, &f, (unsigned)x->a->conf.disappeared_after_days,
	    xsel_person_query_cb, &qp);
}

int
selection_build(struct selection *x, const Custody__ExtractRequest *m)
{
	struct query_filter f = { 0 };
	const Custody__QueryRequest *q = m->query;
	uint8_t itok[TOKEN_LEN];
	sqlite3 *db = archive_db(x->a);
	size_t i, n;
	const char *s;
	int error = 0;

	for (i = 0; i < m->n_incidents && error == 0; i++)
		error = xsel_add(x, m->incidents[i], K_INCIDENT, 1, 0);
	for (i = 0; i < m->n_victims && error == 0; i++)
		error = xsel_add(x, m->victims[i], K_VICTIM, 1, 0);
	for (i = 0; i < m->n_evidence && error == 0; i++)
		error = xsel_add(x, m->evidence[i], K_EVIDENCE, 1, 0);
	for (i = 0; i < m->n_persons && error == 0; i++)
		error = xsel_add(x, m->persons[i], K_PERSON, 1, 0);
	for (i = 0; i < m->n_sites && error == 0; i++)
		error = xsel_add(x, m->sites[i], K_SITE, 1, 0);
	if (error == 0 && m->query_set && q != NULL) {
		if (db == NULL)
			return CUSTODY_EIO;
		if ((error = xsel_query_check(x, q)) < 0)
			return error;
		query_filter_request(&f, itok, x->a, q);
		error = query_victims(db, &f, xsel_query_cb, x);
	}
	if (error == 0 && m->person_query_set && m->person_query != NULL)
		error = xsel_person_query(x, m->person_query);
	if (error < 0)
		return error;
	if (x->n == 0 && json_object_size(x->left) > 0)
		return custody_fail(CUSTODY_EINVAL, "nothing to extract: the %zu person%s asked "
		    "for %s left out, as %s consent does not include %s%s", json_object_size(x->left),
		    json_object_size(x->left) == 1 ? "" : "s", json_object_size(x->left) == 1 ?
		    "is" : "are", json_object_size(x->left) == 1 ? "its" : "their",
		    x->consent_class != NULL ? "the recipient's class, " : "a recipient without a "
		    "consent class", x->consent_class != NULL ? x->consent_class : "");
	if (x->n == 0)
		return custody_fail(CUSTODY_EINVAL, "nothing selected: give --incident, --victim, "
		    "--evidence, --person, --site, --persons or query flags that match");
	/* an incident asked for brings its victims */
	n = x->n;
	for (i = 0; i < n && error == 0 && xsel_follows(x, "victim", "incident_id"); i++)
		if (x->v[i].kind == K_INCIDENT && x->v[i].primary) {
			memset(&f, 0, sizeof f);
			f.basis = "documented";
			f.incident = x->v[i].tok;
			error = query_victims(db, &f, xsel_incident_cb, x);
		}
	/* the persons of the events at the sites asked for */
	if (error == 0 && m->n_sites > 0 && xsel_follows(x, "person_event", "site_id") &&
	    xsel_follows(x, "person_event", "person_id")) {
		json_t *sites = json_object();

		if (sites == NULL)
			return CUSTODY_ENOMEM;
		for (i = 0; i < x->n; i++)
			if (x->v[i].kind == K_SITE && x->v[i].primary)
				json_object_set_new(sites, x->v[i].id, json_true());
		error = xsel_scan(x, "person_event", xsel_event_each, sites);
		json_decref(sites);
	}
	/* evidence linked to the incidents, victims, persons and sites */
	for (i = 0; i < x->n && error == 0; i++)
		if (x->v[i].kind == K_INCIDENT || x->v[i].kind == K_VICTIM ||
		    x->v[i].kind == K_PERSON || x->v[i].kind == K_SITE) {
			error = xsel_scan(x, "evidence", xsel_evidence_each, NULL);
			break;
		}
	/* a victim's incident; the records evidence asked for is linked to */
	n = x->n;
	for (i = 0; i < n && error == 0; i++) {
		json_t *doc = x->v[i].doc;

		if (x->v[i].kind == K_VICTIM && xsel_follows(x, "victim", "incident_id") &&
		    (s = json_string_value(json_object_get(doc, "incident_id"))) != NULL)
			error = xsel_add(x, s, K_INCIDENT, 0, 1);
		else if (x->v[i].kind == K_EVIDENCE && x->v[i].primary) {
			if (xsel_follows(x, "evidence", "incidents"))
				error = xsel_links(x, doc, "incidents", K_INCIDENT);
			if (error == 0 && xsel_follows(x, "evidence", "victims"))
				error = xsel_links(x, doc, "victims", K_VICTIM);
			if (error == 0 && xsel_follows(x, "evidence", "persons"))
				error = xsel_links(x, doc, "persons", K_PERSON);
			if (error == 0 && xsel_follows(x, "evidence", "sites"))
				error = xsel_links(x, doc, "sites", K_SITE);
		}
	}
	/* the events of the persons, and the count of those left out */
	if (error == 0 && xsel_follows(x, "person_event", "person_id") &&
	    (json_object_size(x->left) > 0 || xsel_has_kind(x, K_PERSON)))
		error = xsel_scan(x, "person_event", xsel_event_each, NULL);
	/* the site of each event */
	n = x->n;
	for (i = 0; i < n && error == 0; i++)
		if (x->v[i].kind == K_PERSON_EVENT && xsel_follows(x, "person_event", "site_id") &&
		    (s = json_string_value(json_object_get(x->v[i].doc, "site_id"))) != NULL)
			error = xsel_add(x, s, K_SITE, 0, 1);
	/* and the sources of every victim and evidence item */
	n = x->n;
	for (i = 0; i < n && error == 0; i++) {
		json_t *doc = x->v[i].doc;

		if (x->v[i].kind == K_VICTIM && xsel_follows(x, "victim", "source_id") &&
		    (s = json_string_value(json_object_get(doc, "source_id"))) != NULL)
			error = xsel_add(x, s, K_SOURCE, 0, 1);
		else if (x->v[i].kind == K_EVIDENCE && xsel_follows(x, "evidence", "sources"))
			error = xsel_links(x, doc, "sources", K_SOURCE);
		else if (x->v[i].kind == K_PERSON_EVENT &&
		    xsel_follows(x, "person_event", "source_id") &&
		    (s = json_string_value(json_object_get(doc, "source_id"))) != NULL)
			error = xsel_add(x, s, K_SOURCE, 0, 1);
	}
	for (i = 0; i < x->n; i++) {
		if (x->v[i].kind == K_EVIDENCE)
			x->evidence_bytes += (uint64_t)json_integer_value(json_object_get(
			    x->v[i].doc, "size"));
		json_decref(x->v[i].doc);
		x->v[i].doc = NULL;
	}
	return error;
}

int
selection_cmp(const void *p, const void *q)
{
	const struct xsel *a = p, *b = q;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	return strcmp(a->id, b->id);
}

void
selection_free(struct selection *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].id);
		json_decref(s->v[i].doc);
	}
	free(s->v);
	json_decref(s->seen);
	json_decref(s->left);
	memset(s, 0, sizeof *s);
}
