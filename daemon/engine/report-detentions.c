/*
 * The detention report over the index (custody report detentions): the persons table and the
 * person_events table read side by side in token order, in one pass, each person handed with
 * its events to report_detentions_* (domain/report-detentions.c), which keeps counters only.
 * Memory: one person's events at a time, their words copied into one buffer reused from
 * person to person (no allocation per event). Events of a person the index does not hold (a
 * record of another office not yet synced) are passed over, as are events that start after
 * the period and inquiries (they decide nothing in it: an inquiry never sets a status and the
 * report counts none), which the query leaves out.
 */
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/report-detentions.h"
#include "report.h"

/* Where a word of the current person lies in the scan's text: RD_NONE for NULL. */
#define RD_NONE SIZE_MAX

struct rd_words {
	size_t	party, governorate;
};

/* The two statements and the person being handed out. */
struct rd_scan {
	sqlite3_stmt			*persons, *events;
	int				 erow;		/* events is on a row */
	char				 id[2 * 16 + 1];
	struct person_event		*ev;
	struct rd_words			*words;		/* of each event, in text */
	size_t				 nev, cap;
	struct cbuf			 text;		/* the current person's words */
	struct report_detentions_person	 p;
};

/* Forget the current person (keeping the buffers for the next). */
static void
rd_scan_clear(struct rd_scan *s)
{
	s->nev = 0;
	s->text.len = 0;
}

/* Copy a text column into the scan's text: its offset, RD_NONE for NULL; *error when no memory. */
static size_t
rd_text(struct rd_scan *s, sqlite3_stmt *st, int col, int *error)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t off = s->text.len;

	if (t == NULL)
		return RD_NONE;
	if (cbuf_put(&s->text, t, (size_t)sqlite3_column_bytes(st, col) + 1) < 0)
		*error = CUSTODY_ENOMEM;
	return off;
}

/* The word at off in the scan's text, NULL for RD_NONE. */
static const char *
rd_word_at(const struct rd_scan *s, size_t off)
{
	return off == RD_NONE ? NULL : (const char *)s->text.data + off;
}

static int
rd_step(sqlite3_stmt *st, int *row)
{
	int rc = sqlite3_step(st);

	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
}

/* The event row's person token against tok (16 bytes). */
static int
rd_cmp(sqlite3_stmt *events, const void *tok, int n)
{
	int m = sqlite3_column_bytes(events, 0), c;

	c = memcmp(sqlite3_column_blob(events, 0), tok, (size_t)(m < n ? m : n));
	return c != 0 ? c : m - n;
}

/* Add the event row to the current person (a row whose type or date does not parse: none). */
static int
rd_event(struct rd_scan *s)
{
	const char *type = (const char *)sqlite3_column_text(s->events, 1);
	const char *date = (const char *)sqlite3_column_text(s->events, 2);
	struct person_event e = { 0 };
	int t, error = 0;

	if (type == NULL || date == NULL ||
	    (t = person_event_type_from_name(type, strlen(type))) < 0 ||
	    cdate_parse(&e.date, date) < 0)
		return 0;
	e.type = (enum person_event_type)t;
	if (s->nev == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct person_event *v = reallocarray(s->ev, cap, sizeof *v);
		struct rd_words *w;

		if (v == NULL)
			return CUSTODY_ENOMEM;
		s->ev = v;
		if ((w = reallocarray(s->words, cap, sizeof *w)) == NULL)
			return CUSTODY_ENOMEM;
		s->words = w;
		s->cap = cap;
	}
	/* the words' places only: the text may move until the person is whole */
	s->words[s->nev].party = rd_text(s, s->events, 3, &error);
	s->words[s->nev].governorate = rd_text(s, s->events, 4, &error);
	s->ev[s->nev++] = e;
	return error;
}

/* report_detentions_next: the next person with events on or before the period's end. */
static int
rd_next(void *arg, const struct report_detentions_person **out)
{
	struct rd_scan *s = arg;
	const void *tok;
	size_t sex, group, gov, i;
	int prow, n, error = 0;

	for (;;) {
		rd_scan_clear(s);
		if (!s->erow)
			return 0;	/* no events left: no person has any status to add */
		if ((error = rd_step(s->persons, &prow)) < 0)
			return error;
		if (!prow)
			return 0;
		tok = sqlite3_column_blob(s->persons, 0);
		n = sqlite3_column_bytes(s->persons, 0);
		if (tok == NULL || n != 16)
			continue;
		while (s->erow && rd_cmp(s->events, tok, n) < 0)
			if ((error = rd_step(s->events, &s->erow)) < 0)
				return error;
		while (error == 0 && s->erow && rd_cmp(s->events, tok, n) == 0)
			if ((error = rd_event(s)) == 0)
				error = rd_step(s->events, &s->erow);
		if (error < 0)
			return error;
		if (s->nev == 0)
			continue;
		hex_encode(s->id, tok, 16);
		sex = rd_text(s, s->persons, 1, &error);
		group = rd_text(s, s->persons, 3, &error);
		gov = rd_text(s, s->persons, 4, &error);
		if (error < 0)
			return error;
		for (i = 0; i < s->nev; i++) {
			s->ev[i].party = rd_word_at(s, s->words[i].party);
			s->ev[i].governorate = rd_word_at(s, s->words[i].governorate);
		}
		s->p.id = s->id;
		s->p.sex = rd_word_at(s, sex);
		s->p.age = sqlite3_column_type(s->persons, 2) == SQLITE_INTEGER ?
		    sqlite3_column_int(s->persons, 2) : -1;
		s->p.age_group = rd_word_at(s, group);
		s->p.governorate = rd_word_at(s, gov);
		s->p.events = s->ev;
		s->p.nevents = s->nev;
		*out = &s->p;
		return 1;
	}
}

/* The detention report of from..to (YYYY-MM-DD) over the index; *out belongs to the caller. */
int
report_detentions_build(json_t **out, sqlite3 *db, const char *from, const char *to,
    unsigned disappeared_after_days)
{
	struct rd_scan s = { 0 };
	int error;

	*out = NULL;
	if (report_check_date(from) < 0 || report_check_date(to) < 0)
		return custody_fail(CUSTODY_EINVAL, "a period is two days YYYY-MM-DD");
	if (strcmp(from, to) > 0)
		return custody_fail(CUSTODY_EINVAL, "the period ends (%s) before it starts (%s)",
		    to, from);
	if (sqlite3_prepare_v2(db, "SELECT tok, sex, age, age_group, governorate FROM persons"
	    " ORDER BY tok", -1, &s.persons, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT person, type, date, party, governorate"
	    " FROM person_events WHERE date_from <= ? AND type <> 'inquiry'"
	    " ORDER BY person", -1, &s.events, NULL) != SQLITE_OK) {
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(s.events, 1, to, -1, SQLITE_STATIC);
	if ((error = rd_step(s.events, &s.erow)) < 0)
		goto done;
	error = report_detentions_run(out, from, to, disappeared_after_days, rd_next, &s);
done:
	free(s.ev);
	free(s.words);
	cbuf_free(&s.text);
	sqlite3_finalize(s.persons);
	sqlite3_finalize(s.events);
	return error;
}
