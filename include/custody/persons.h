/*
 * The missing and the detained: what happened to a person over time (person events) and the
 * status that follows from it at a date. Pure computations over plain structs, shared by the
 * daemon (the index, the detention report, the WGEID case) and the client.
 *
 * Dates. An event's date keeps its precision (a struct cdate: day, month or year). Everything
 * here uses its START, the first day it may cover (cdate "first"): "2024-09" counts as
 * 2024-09-01 and "2024" as 2024-01-01, when it is compared with a day D, when events are
 * ordered and when the days since the last custody event are counted. So an imprecise
 * detention turns disappeared at the earliest day the rule may hold (the start is the longest
 * the person may have been held), and an event is "on or before D" as soon as it may have
 * happened by then. Days are counted as cdate_days() counts them (since 1970-01-01).
 */
#ifndef CUSTODY_PERSONS_H
#define CUSTODY_PERSONS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "custody/records.h"

/*
 * The types of person events, in the order; the order also breaks ties between
 * events of the same date (a release and an arrest on one day: the release comes after).
 */
enum person_event_type {
	PERSON_EV_LAST_SEEN,
	PERSON_EV_ARREST,
	PERSON_EV_ABDUCTION,
	PERSON_EV_TRANSFER,
	PERSON_EV_SEEN_IN_CUSTODY,
	PERSON_EV_INQUIRY,		/* a step by the family or office: never changes a status */
	PERSON_EV_DENIAL,		/* the authorities deny holding the person */
	PERSON_EV_RELEASE,
	PERSON_EV_DEATH_IN_CUSTODY,
	PERSON_EV_REMAINS_FOUND,
	PERSON_EV_IDENTIFIED,
	PERSON_EV_NTYPES
};

/* The status of a person at a date; PERSON_STATUS_NONE when no event decides one. */
enum person_status {
	PERSON_STATUS_NONE = -1,
	PERSON_MISSING,
	PERSON_DETAINED,
	PERSON_DISAPPEARED,
	PERSON_RELEASED,
	PERSON_DIED_IN_CUSTODY,
	PERSON_FOUND_DEAD,
	PERSON_IDENTIFIED,
	PERSON_NSTATUS
};

/* The default of custody.conf's [persons] disappeared_after_days. */
#define PERSON_DISAPPEARED_AFTER_DAYS 90

/*
 * One event of a person, as the computations need it. date is a parsed cdate (cdate_parse);
 * an event whose date was never set (year 0) is ignored everywhere. party and governorate
 * are vocabulary words, NULL or "" when the event has none; they are borrowed.
 */
struct person_event {
	enum person_event_type	 type;
	struct cdate		 date;
	const char		*party;
	const char		*governorate;
};

/* The name of an event type ("last_seen", ...), NULL when out of range. */
const char *person_event_type_name(enum person_event_type);
/* The type named by len bytes at s (exactly, lower-case), or -1. */
int person_event_type_from_name(const char *s, size_t len);
/* 1 for arrest, abduction, transfer and seen_in_custody: the person is held. */
int person_event_type_custody(enum person_event_type);
/* 1 for the types that must name a party: arrest, abduction, transfer, death_in_custody. */
int person_event_type_needs_party(enum person_event_type);

/* The name of a status ("missing", ...), NULL for PERSON_STATUS_NONE or out of range. */
const char *person_status_name(enum person_status);
/* The status named by len bytes at s (exactly, lower-case), or PERSON_STATUS_NONE. */
enum person_status person_status_from_name(const char *s, size_t len);

/* The first and the last day a date may cover, in days since 1970-01-01 (a set cdate). */
int64_t person_date_start(const struct cdate *);
int64_t person_date_end(const struct cdate *);
/* The day of "YYYY-MM-DD" (a real day, years 1900-2100) into *day; CUSTODY_EINVAL if not. */
int person_day(int64_t *day, const char *ymd);

/*
 * The event that decides the status at day d: among the events whose start is on or before
 * d, inquiries left out, the last by (start, type order); of equal ones, the last in the
 * array. Its index, or n when there is none.
 */
size_t person_status_last(const struct person_event *ev, size_t n, int64_t d);

/*
 * The status of a person at day d (days since 1970-01-01), from all the person's events in
 * any order. The event person_status_last() picks decides:
 *   last_seen -> missing; denial -> disappeared; release -> released; death_in_custody ->
 *   died_in_custody; remains_found -> found_dead; identified -> identified;
 *   arrest, abduction, transfer, seen_in_custody -> detained, or disappeared when that event
 *   (then the last of these four) starts MORE than disappeared_after_days days before d:
 *   with 90, an arrest 90 days before d is still detained, 91 days before is disappeared.
 * PERSON_STATUS_NONE when no event decides (none on or before d, or inquiries only).
 */
enum person_status person_status_at(const struct person_event *ev, size_t n, int64_t d,
    unsigned disappeared_after_days);

/*
 * The date of disappearance of a WGEID case: the first last_seen, arrest or abduction, by
 * (start, type order), of equal ones the first in the array, at any date. Its index, or n
 * when the person has none (no case can be made yet).
 */
size_t person_case_first(const struct person_event *ev, size_t n);

/*
 * Child and woman, decided as for victims (the index's victims columns): a child is under
 * 18 or of age group child; a woman is female, not a child, and adult (18 or more, or of age
 * group adult), so a female of unknown age and age group is not counted as a woman. A
 * canonical record's age group agrees with its age (records.c derives it). sex and age_group
 * may be NULL (unknown); age < 0 is not known.
 */
void person_child_woman(int *child, int *woman, const char *sex, int age,
    const char *age_group);

/*
 * The event of a canonical person event record (as records.c makes it): "type", "date",
 * "party", "governorate"; the strings are borrowed from doc. CUSTODY_EINVAL (e zeroed) for an
 * unknown type or a date cdate_parse refuses.
 */
int person_json_event(struct person_event *e, const json_t *doc);
/* The "age" of a canonical person record, -1 when absent or not a plausible age. */
int person_json_age(const json_t *doc);

#endif
