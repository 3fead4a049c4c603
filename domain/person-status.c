/* The status of a missing or detained person at a date, from what happened to them. */
#include <string.h>

#include "custody/common.h"
#include "custody/persons.h"

static const char *const person_event_types[PERSON_EV_NTYPES] = {
	"last_seen", "arrest", "abduction", "transfer", "seen_in_custody", "inquiry", "denial",
	"release", "death_in_custody", "remains_found", "identified",
};

static const char *const person_statuses[PERSON_NSTATUS] = {
	"missing", "detained", "disappeared", "released", "died_in_custody", "found_dead",
	"identified",
};

/* The index of the word of len bytes at s in a table of n words, or -1. */
static int
person_word(const char *const *words, int n, const char *s, size_t len)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
			return i;
	return -1;
}

/* The name of an event type, NULL when out of range. */
const char *
person_event_type_name(enum person_event_type t)
{
	if ((int)t < 0 || t >= PERSON_EV_NTYPES)
		return NULL;
	return person_event_types[t];
}

/* The event type named by len bytes at s, or -1. */
int
person_event_type_from_name(const char *s, size_t len)
{
	return person_word(person_event_types, PERSON_EV_NTYPES, s, len);
}

/* 1 for the types that mean the person is held. */
int
person_event_type_custody(enum person_event_type t)
{
	return t == PERSON_EV_ARREST || t == PERSON_EV_ABDUCTION || t == PERSON_EV_TRANSFER ||
	    t == PERSON_EV_SEEN_IN_CUSTODY;
}

/* 1 for the types that must name a party. */
int
person_event_type_needs_party(enum person_event_type t)
{
	return t == PERSON_EV_ARREST || t == PERSON_EV_ABDUCTION || t == PERSON_EV_TRANSFER ||
	    t == PERSON_EV_DEATH_IN_CUSTODY;
}

/* The name of a status, NULL for none or out of range. */
const char *
person_status_name(enum person_status s)
{
	if ((int)s < 0 || s >= PERSON_NSTATUS)
		return NULL;
	return person_statuses[s];
}

/* The status named by len bytes at s, or PERSON_STATUS_NONE. */
enum person_status
person_status_from_name(const char *s, size_t len)
{
	int i = person_word(person_statuses, PERSON_NSTATUS, s, len);

	return i < 0 ? PERSON_STATUS_NONE : (enum person_status)i;
}

/* The first day a date may cover. */
int64_t
person_date_start(const struct cdate *d)
{
	return cdate_days(d->year, d->month ? d->month : 1, d->day ? d->day : 1);
}

/* The last day a date may cover. */
int64_t
person_date_end(const struct cdate *d)
{
	int m = d->month ? d->month : 12;

	return cdate_days(d->year, m, d->day ? d->day : cdate_mdays(d->year, m));
}

/* The day of a real calendar day "YYYY-MM-DD". */
int
person_day(int64_t *day, const char *ymd)
{
	struct cdate d;

	*day = 0;
	if (ymd == NULL || cdate_parse(&d, ymd) < 0 || d.precision != DATE_DAY)
		return custody_fail(CUSTODY_EINVAL, "bad date \"%.32s\": want YYYY-MM-DD",
		    ymd ? ymd : "");
	*day = person_date_start(&d);
	return 0;
}

/* 1 when an event has a date (a cdate that was parsed) and a known type. */
static int
person_event_ok(const struct person_event *e)
{
	return e->date.year != 0 && (int)e->type >= 0 && e->type < PERSON_EV_NTYPES;
}

/* The event deciding the status at day d, or n. */
size_t
person_status_last(const struct person_event *ev, size_t n, int64_t d)
{
	size_t i, last = n;
	int64_t start, best = 0;

	for (i = 0; i < n; i++) {
		if (!person_event_ok(&ev[i]) || ev[i].type == PERSON_EV_INQUIRY)
			continue;
		if ((start = person_date_start(&ev[i].date)) > d)
			continue;
		/* later start wins; on the same start, a later type (or the same: the later one) */
		if (last == n || start > best || (start == best && ev[i].type >= ev[last].type)) {
			last = i;
			best = start;
		}
	}
	return last;
}

/* The status at day d. */
enum person_status
person_status_at(const struct person_event *ev, size_t n, int64_t d,
    unsigned disappeared_after_days)
{
	size_t last = person_status_last(ev, n, d);

	if (last == n)
		return PERSON_STATUS_NONE;
	switch (ev[last].type) {
	case PERSON_EV_LAST_SEEN:
		return PERSON_MISSING;
	case PERSON_EV_ARREST:
	case PERSON_EV_ABDUCTION:
	case PERSON_EV_TRANSFER:
	case PERSON_EV_SEEN_IN_CUSTODY:
		/* "more than N days before d": exactly N days before is still detained */
		if (d - person_date_start(&ev[last].date) > (int64_t)disappeared_after_days)
			return PERSON_DISAPPEARED;
		return PERSON_DETAINED;
	case PERSON_EV_DENIAL:
		return PERSON_DISAPPEARED;
	case PERSON_EV_RELEASE:
		return PERSON_RELEASED;
	case PERSON_EV_DEATH_IN_CUSTODY:
		return PERSON_DIED_IN_CUSTODY;
	case PERSON_EV_REMAINS_FOUND:
		return PERSON_FOUND_DEAD;
	case PERSON_EV_IDENTIFIED:
		return PERSON_IDENTIFIED;
	case PERSON_EV_INQUIRY:
	case PERSON_EV_NTYPES:
		break;
	}
	return PERSON_STATUS_NONE;
}

/* The first last_seen, arrest or abduction, or n. */
size_t
person_case_first(const struct person_event *ev, size_t n)
{
	size_t i, first = n;
	int64_t start, best = 0;

	for (i = 0; i < n; i++) {
		if (!person_event_ok(&ev[i]) || (ev[i].type != PERSON_EV_LAST_SEEN &&
		    ev[i].type != PERSON_EV_ARREST && ev[i].type != PERSON_EV_ABDUCTION))
			continue;
		start = person_date_start(&ev[i].date);
		if (first == n || start < best || (start == best && ev[i].type < ev[first].type)) {
			first = i;
			best = start;
		}
	}
	return first;
}

/* Child and woman as for victims. */
void
person_child_woman(int *child, int *woman, const char *sex, int age, const char *age_group)
{
	int group_child = age_group != NULL && strcmp(age_group, "child") == 0;
	int group_adult = age_group != NULL && strcmp(age_group, "adult") == 0;

	/* a canonical record's age group agrees with its age; either way, a child wins */
	*child = (age >= 0 && age < 18) || group_child;
	*woman = !*child && (age >= 18 || group_adult) && sex != NULL &&
	    strcmp(sex, "female") == 0;
}
