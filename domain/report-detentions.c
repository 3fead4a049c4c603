/*
 * The detention report of a period, counted over a stream of persons with their events
 * (the definitions are in include/custody/report-detentions.h).
 */
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/persons.h"
#include "custody/report-detentions.h"

/* Counters of one party or governorate. */
enum { RD_ARRESTS, RD_CHILDREN, RD_WOMEN, RD_DIED, RD_NCOUNTERS };

struct rd_entry {
	char		*name;
	size_t		 len;
	uint64_t	 n[RD_NCOUNTERS];
};

/* The parties or governorates seen: a handful of vocabulary words, searched linearly. */
struct rd_list {
	struct rd_entry	*v;
	size_t		 n, cap, last;
};

struct report_detentions {
	char		 from[11], to[11];
	int64_t		 dfrom, dto;
	unsigned	 after;
	char		*last_id;
	uint64_t	 arrests, children, women, released, died;
	uint64_t	 status[PERSON_NSTATUS];
	struct rd_list	 parties, governorates;
};

/* The entry of a word in a list, or NULL. */
static struct rd_entry *
rd_find(struct rd_list *l, const char *name, size_t len)
{
	struct rd_entry *e;
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
	return NULL;
}

/* Make sure a word has an entry in a list (what = "party" or "governorate"). */
static int
rd_ensure(struct rd_list *l, const char *name, const char *what)
{
	size_t len = strlen(name);
	struct rd_entry *e;
	json_t *check;

	if (rd_find(l, name, len) != NULL)
		return 0;
	/* a key of the JSON to come: it must be text jansson takes */
	if ((check = json_stringn(name, len)) == NULL)
		return custody_fail(CUSTODY_EINVAL, "detention report: a %s that is not UTF-8"
		    " text", what);
	json_decref(check);
	if (l->n == REPORT_DETENTIONS_KEYS)
		return custody_fail(CUSTODY_ETOOBIG, "detention report: more than %d distinct"
		    " %s values", REPORT_DETENTIONS_KEYS, what);
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		if ((e = reallocarray(l->v, cap, sizeof *e)) == NULL)
			return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof *e);
	if ((e->name = strndup(name, len)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	e->len = len;
	l->last = l->n++;
	return 0;
}

/* The entry of a word known to be in the list. */
static struct rd_entry *
rd_get(struct rd_list *l, const char *name)
{
	return rd_find(l, name, strlen(name));
}

/* Order entries by word. */
static int
rd_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rd_entry *)a)->name, ((const struct rd_entry *)b)->name);
}

/* Free a list's words and entries. */
static void
rd_list_free(struct rd_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* Start a report of from..to. */
int
report_detentions_new(struct report_detentions **out, const char *from, const char *to,
    unsigned disappeared_after_days)
{
	struct report_detentions *r;
	int64_t dfrom, dto;
	int error;

	*out = NULL;
	if ((error = person_day(&dfrom, from)) < 0 || (error = person_day(&dto, to)) < 0)
		return error;
	if (dfrom > dto)
		return custody_fail(CUSTODY_EINVAL, "the period ends (%s) before it starts (%s)",
		    to, from);
	if ((r = calloc(1, sizeof *r)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	memcpy(r->from, from, 11);
	memcpy(r->to, to, 11);
	r->dfrom = dfrom;
	r->dto = dto;
	r->after = disappeared_after_days;
	*out = r;
	return 0;
}

/* Free a report. */
void
report_detentions_free(struct report_detentions *r)
{
	if (r == NULL)
		return;
	rd_list_free(&r->parties);
	rd_list_free(&r->governorates);
	free(r->last_id);
	free(r);
}

/* A word, or "unknown" when there is none. */
static const char *
rd_word(const char *w)
{
	return w != NULL && *w != '\0' ? w : "unknown";
}

/* 1 when the whole date of an event lies in the report's period. */
static int
rd_in_period(const struct report_detentions *r, const struct person_event *e)
{
	return e->date.year != 0 && person_date_start(&e->date) >= r->dfrom &&
	    person_date_end(&e->date) <= r->dto;
}

/* 1 for an arrest or abduction in the period. */
static int
rd_arrest(const struct report_detentions *r, const struct person_event *e)
{
	return (e->type == PERSON_EV_ARREST || e->type == PERSON_EV_ABDUCTION) &&
	    rd_in_period(r, e);
}

/* The governorate an arrest counts under: the event's, else the person's. */
static const char *
rd_governorate(const struct person_event *e, const struct report_detentions_person *p)
{
	if (e->governorate != NULL && *e->governorate != '\0')
		return e->governorate;
	return rd_word(p->governorate);
}

/* Make the entries a person's events will count under, so that counting cannot fail. */
static int
rd_prepare(struct report_detentions *r, const struct report_detentions_person *p)
{
	const struct person_event *e;
	size_t i;
	int error;

	for (i = 0; i < p->nevents; i++) {
		e = &p->events[i];
		if (rd_arrest(r, e)) {
			if ((error = rd_ensure(&r->parties, rd_word(e->party), "party")) < 0 ||
			    (error = rd_ensure(&r->governorates, rd_governorate(e, p),
			    "governorate")) < 0)
				return error;
		} else if (e->type == PERSON_EV_DEATH_IN_CUSTODY && rd_in_period(r, e)) {
			if ((error = rd_ensure(&r->parties, rd_word(e->party), "party")) < 0)
				return error;
		}
	}
	return 0;
}

/* Count one person with their events. */
int
report_detentions_add(struct report_detentions *r, const struct report_detentions_person *p)
{
	const struct person_event *e;
	struct rd_entry *party, *gov;
	enum person_status st;
	char *id = NULL;
	int child, woman, error;
	size_t i;

	if (p->id != NULL) {
		if (r->last_id != NULL && strcmp(p->id, r->last_id) <= 0)
			return custody_fail(CUSTODY_EINVAL, "detention report: persons out of id"
			    " order (a person given twice, or its events split)");
		if ((id = strdup(p->id)) == NULL)
			return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	}
	if ((error = rd_prepare(r, p)) < 0) {
		free(id);
		return error;
	}
	if (id != NULL) {
		free(r->last_id);
		r->last_id = id;
	}

	person_child_woman(&child, &woman, p->sex, p->age, p->age_group);
	for (i = 0; i < p->nevents; i++) {
		e = &p->events[i];
		if (rd_arrest(r, e)) {
			party = rd_get(&r->parties, rd_word(e->party));
			gov = rd_get(&r->governorates, rd_governorate(e, p));
			r->arrests++;
			r->children += child;
			r->women += woman;
			party->n[RD_ARRESTS]++;
			party->n[RD_CHILDREN] += child;
			party->n[RD_WOMEN] += woman;
			gov->n[RD_ARRESTS]++;
		} else if (e->type == PERSON_EV_RELEASE && rd_in_period(r, e)) {
			r->released++;
		} else if (e->type == PERSON_EV_DEATH_IN_CUSTODY && rd_in_period(r, e)) {
			r->died++;
			rd_get(&r->parties, rd_word(e->party))->n[RD_DIED]++;
		}
	}
	if ((st = person_status_at(p->events, p->nevents, r->dto, r->after)) !=
	    PERSON_STATUS_NONE)
		r->status[st]++;
	return 0;
}

/* Set o[key] = v, taking v; 1 when either is NULL or out of memory (for bad |= ...). */
static int
rd_set(json_t *o, const char *key, json_t *v)
{
	if (o == NULL || v == NULL) {
		json_decref(v);
		return 1;
	}
	return json_object_set_new(o, key, v) != 0;
}

/* An object of the entries whose counter c is not zero: {w: n} or, vcw, {w: {a, c, w}}. */
static json_t *
rd_keyed(const struct rd_list *l, int c, int vcw)
{
	json_t *o = json_object(), *v;
	const struct rd_entry *e;
	size_t i;

	for (i = 0; o != NULL && i < l->n; i++) {
		e = &l->v[i];
		if (e->n[c] == 0)
			continue;
		v = vcw ? json_pack("{sI sI sI}", "arrests", (json_int_t)e->n[RD_ARRESTS],
		    "children", (json_int_t)e->n[RD_CHILDREN], "women",
		    (json_int_t)e->n[RD_WOMEN]) : json_integer((json_int_t)e->n[c]);
		if (rd_set(o, e->name, v)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* The governorates with their share of all arrests, rounded half away from zero. */
static json_t *
rd_governorates(const struct rd_list *l, uint64_t total)
{
	json_t *o = json_object();
	uint64_t v, tenths;
	size_t i;

	for (i = 0; o != NULL && i < l->n; i++) {
		if ((v = l->v[i].n[RD_ARRESTS]) == 0)
			continue;
		/* round(1000 v / total) in integers; v > 0 so total > 0 */
		tenths = (2000 * v + total) / (2 * total);
		if (rd_set(o, l->v[i].name, json_pack("{sI so}", "arrests", (json_int_t)v,
		    "percent", json_real((double)tenths / 10.0)))) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* The statuses, always the seven, in the order. */
static json_t *
rd_statuses(const struct report_detentions *r)
{
	static const enum person_status order[PERSON_NSTATUS] = {
		PERSON_DETAINED, PERSON_DISAPPEARED, PERSON_RELEASED, PERSON_DIED_IN_CUSTODY,
		PERSON_FOUND_DEAD, PERSON_IDENTIFIED, PERSON_MISSING,
	};
	json_t *o = json_object();
	int i, bad = 0;

	for (i = 0; i < PERSON_NSTATUS; i++)
		bad |= rd_set(o, person_status_name(order[i]),
		    json_integer((json_int_t)r->status[order[i]]));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The report's JSON. */
int
report_detentions_json(json_t **out, struct report_detentions *r)
{
	json_t *o = json_object(), *died;
	int bad = 0;

	*out = NULL;
	if (r->parties.n > 1)
		qsort(r->parties.v, r->parties.n, sizeof *r->parties.v, rd_entry_cmp);
	if (r->governorates.n > 1)
		qsort(r->governorates.v, r->governorates.n, sizeof *r->governorates.v,
		    rd_entry_cmp);
	r->parties.last = r->governorates.last = 0;

	bad |= rd_set(o, "period", json_pack("{ss ss}", "from", r->from, "to", r->to));
	bad |= rd_set(o, "arrests", json_integer((json_int_t)r->arrests));
	bad |= rd_set(o, "children", json_integer((json_int_t)r->children));
	bad |= rd_set(o, "women", json_integer((json_int_t)r->women));
	bad |= rd_set(o, "by_party", rd_keyed(&r->parties, RD_ARRESTS, 1));
	bad |= rd_set(o, "by_governorate", rd_governorates(&r->governorates, r->arrests));
	bad |= rd_set(o, "released", json_integer((json_int_t)r->released));
	died = json_pack("{sI}", "count", (json_int_t)r->died);
	bad |= rd_set(died, "by_party", rd_keyed(&r->parties, RD_DIED, 0));
	bad |= rd_set(o, "died_in_custody", died);
	bad |= rd_set(o, "status_at_end", rd_statuses(r));
	bad |= rd_set(o, "disappeared_after_days", json_integer((json_int_t)r->after));
	if (bad) {
		json_decref(o);
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	}
	*out = o;
	return 0;
}

/* The whole report of a stream of persons. */
int
report_detentions_run(json_t **out, const char *from, const char *to,
    unsigned disappeared_after_days, report_detentions_next next, void *arg)
{
	const struct report_detentions_person *p;
	struct report_detentions *r = NULL;
	int error;

	*out = NULL;
	if ((error = report_detentions_new(&r, from, to, disappeared_after_days)) < 0)
		return error;
	while ((error = next(arg, &p)) > 0)
		if ((error = report_detentions_add(r, p)) < 0)
			goto done;
	if (error == 0)
		error = report_detentions_json(out, r);
done:
	report_detentions_free(r);
	return error;
}
