/*
 * The status of a person at a date (domain/person-status.c): small hand-made histories whose
 * status was worked out by hand from the rule, written next to each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "custody/persons.h"

#define N 90
#define MAXEV 8

/* A history: up to MAXEV events. */
struct hist {
	struct person_event	ev[MAXEV];
	size_t			n;
};

/* Append an event of type t on date (YYYY[-MM[-DD]]), with a party. */
static void
add(struct hist *h, enum person_event_type t, const char *date, const char *party)
{
	struct person_event *e = &h->ev[h->n++];

	assert_true(h->n <= MAXEV);
	memset(e, 0, sizeof *e);
	e->type = t;
	e->party = party;
	if (cdate_parse(&e->date, date) != 0)
		fail_msg("bad test date %s", date);
}

/* The day of YYYY-MM-DD. */
static int64_t
day(const char *ymd)
{
	int64_t d;

	assert_int_equal(person_day(&d, ymd), 0);
	return d;
}

/* The status of h at ymd with N days. */
static enum person_status
at(const struct hist *h, const char *ymd)
{
	return person_status_at(h->ev, h->n, day(ymd), N);
}

/* Names: both ways, every one, and exactly (no case folding, length-bounded). */
static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < PERSON_EV_NTYPES; i++)
		assert_int_equal(person_event_type_from_name(person_event_type_name(i),
		    strlen(person_event_type_name(i))), i);
	for (i = 0; i < PERSON_NSTATUS; i++)
		assert_int_equal(person_status_from_name(person_status_name(i),
		    strlen(person_status_name(i))), i);
	/* the order, which also breaks ties */
	assert_string_equal(person_event_type_name(PERSON_EV_LAST_SEEN), "last_seen");
	assert_string_equal(person_event_type_name(PERSON_EV_SEEN_IN_CUSTODY), "seen_in_custody");
	assert_string_equal(person_event_type_name(PERSON_EV_INQUIRY), "inquiry");
	assert_string_equal(person_event_type_name(PERSON_EV_IDENTIFIED), "identified");
	assert_int_equal(PERSON_EV_NTYPES, 11);
	assert_true(PERSON_EV_ARREST < PERSON_EV_RELEASE);
	assert_true(PERSON_EV_SEEN_IN_CUSTODY < PERSON_EV_DENIAL);
	assert_string_equal(person_status_name(PERSON_DIED_IN_CUSTODY), "died_in_custody");
	assert_string_equal(person_status_name(PERSON_FOUND_DEAD), "found_dead");
	assert_null(person_status_name(PERSON_STATUS_NONE));
	assert_null(person_status_name(PERSON_NSTATUS));
	assert_null(person_event_type_name(PERSON_EV_NTYPES));
	assert_int_equal(person_event_type_from_name("Arrest", 6), -1);
	assert_int_equal(person_event_type_from_name("arres", 5), -1);
	assert_int_equal(person_event_type_from_name("arrestX", 6), PERSON_EV_ARREST);
	assert_int_equal(person_event_type_from_name(NULL, 0), -1);
	assert_int_equal(person_status_from_name("dead", 4), PERSON_STATUS_NONE);
	assert_true(person_event_type_needs_party(PERSON_EV_DEATH_IN_CUSTODY));
	assert_false(person_event_type_needs_party(PERSON_EV_RELEASE));
	assert_true(person_event_type_custody(PERSON_EV_TRANSFER));
	assert_false(person_event_type_custody(PERSON_EV_DENIAL));
}

/* Dates count from their start; a month or a year covers all its days. */
static void
test_dates(void **state)
{
	struct cdate d;
	int64_t x;

	(void)state;
	assert_int_equal(cdate_parse(&d, "2024-02"), 0);
	assert_int_equal(person_date_start(&d), day("2024-02-01"));
	assert_int_equal(person_date_end(&d), day("2024-02-29"));
	assert_int_equal(cdate_parse(&d, "2023"), 0);
	assert_int_equal(person_date_start(&d), day("2023-01-01"));
	assert_int_equal(person_date_end(&d), day("2023-12-31"));
	assert_int_equal(cdate_parse(&d, "2024-12-05"), 0);
	assert_int_equal(person_date_start(&d), person_date_end(&d));
	assert_int_equal(day("1970-01-02"), 1);
	assert_int_equal(person_day(&x, "2024-12"), CUSTODY_EINVAL);
	assert_int_equal(person_day(&x, "2024-02-30"), CUSTODY_EINVAL);
	assert_int_equal(person_day(&x, NULL), CUSTODY_EINVAL);
}

/* No event on or before D, or inquiries only: no status. */
static void
test_no_status(void **state)
{
	struct hist h = { 0 };

	(void)state;
	assert_int_equal(at(&h, "2024-12-31"), PERSON_STATUS_NONE);
	add(&h, PERSON_EV_INQUIRY, "2024-06-01", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_STATUS_NONE);
	add(&h, PERSON_EV_ARREST, "2025-01-01", "p");
	/* the arrest is the day after D */
	assert_int_equal(at(&h, "2024-12-31"), PERSON_STATUS_NONE);
	assert_int_equal(at(&h, "2025-01-01"), PERSON_DETAINED);
	assert_int_equal(person_status_last(h.ev, h.n, day("2024-12-31")), h.n);
	assert_int_equal(person_status_last(h.ev, h.n, day("2025-01-01")), 1);
}

/* Each type's status, alone. */
static void
test_each_type(void **state)
{
	static const struct {
		enum person_event_type	t;
		enum person_status	s;
	} want[] = {
		{ PERSON_EV_LAST_SEEN, PERSON_MISSING },
		{ PERSON_EV_ARREST, PERSON_DETAINED },
		{ PERSON_EV_ABDUCTION, PERSON_DETAINED },
		{ PERSON_EV_TRANSFER, PERSON_DETAINED },
		{ PERSON_EV_SEEN_IN_CUSTODY, PERSON_DETAINED },
		{ PERSON_EV_INQUIRY, PERSON_STATUS_NONE },
		{ PERSON_EV_DENIAL, PERSON_DISAPPEARED },
		{ PERSON_EV_RELEASE, PERSON_RELEASED },
		{ PERSON_EV_DEATH_IN_CUSTODY, PERSON_DIED_IN_CUSTODY },
		{ PERSON_EV_REMAINS_FOUND, PERSON_FOUND_DEAD },
		{ PERSON_EV_IDENTIFIED, PERSON_IDENTIFIED },
	};
	struct hist h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		memset(&h, 0, sizeof h);
		add(&h, want[i].t, "2024-12-01", "p");
		assert_int_equal(at(&h, "2024-12-31"), want[i].s);
	}
}

/*
 * Arrested 2024-01-10, released 2024-03-01, arrested again 2024-11-20: on 2024-12-31 the last
 * event is the re-arrest, 41 days before, so detained; on 2024-06-01 the release decides.
 */
static void
test_rearrest(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_ARREST, "2024-01-10", "syrian_regime");
	add(&h, PERSON_EV_RELEASE, "2024-03-01", NULL);
	add(&h, PERSON_EV_ARREST, "2024-11-20", "syrian_regime");
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DETAINED);
	assert_int_equal(at(&h, "2024-06-01"), PERSON_RELEASED);
	assert_int_equal(at(&h, "2024-01-09"), PERSON_STATUS_NONE);
	/* 50 days after the first arrest, before the release: detained */
	assert_int_equal(at(&h, "2024-02-29"), PERSON_DETAINED);
	/* in any order */
	struct hist r = { 0 };
	r.ev[0] = h.ev[2];
	r.ev[1] = h.ev[0];
	r.ev[2] = h.ev[1];
	r.n = 3;
	assert_int_equal(at(&r, "2024-12-31"), PERSON_DETAINED);
	assert_int_equal(at(&r, "2024-06-01"), PERSON_RELEASED);
}

/* Arrested 2024-12-01, the authorities deny holding them on 2024-12-10: disappeared. */
static void
test_denial(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_ARREST, "2024-12-01", "syrian_regime");
	add(&h, PERSON_EV_DENIAL, "2024-12-10", NULL);
	assert_int_equal(at(&h, "2024-12-05"), PERSON_DETAINED);
	assert_int_equal(at(&h, "2024-12-10"), PERSON_DISAPPEARED);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DISAPPEARED);
	/* seen in custody after the denial: detained again */
	add(&h, PERSON_EV_SEEN_IN_CUSTODY, "2024-12-20", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DETAINED);
}

/*
 * D = 2024-12-31, N = 90: an arrest on 2024-10-03 is 89 days before (detained), on 2024-10-02
 * 90 days (still detained: not MORE than 90), on 2024-10-01 91 days (disappeared).
 */
static void
test_89_90_91(void **state)
{
	static const struct {
		const char		*date;
		enum person_status	 s;
	} want[] = {
		{ "2024-10-03", PERSON_DETAINED },
		{ "2024-10-02", PERSON_DETAINED },
		{ "2024-10-01", PERSON_DISAPPEARED },
	};
	struct hist h;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		memset(&h, 0, sizeof h);
		add(&h, PERSON_EV_ARREST, want[i].date, "p");
		assert_int_equal(day("2024-12-31") - day(want[i].date), 89 + (int)i);
		assert_int_equal(at(&h, "2024-12-31"), want[i].s);
	}
	/* N = 0: detained on the day itself only */
	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_ABDUCTION, "2024-12-31", "p");
	assert_int_equal(person_status_at(h.ev, h.n, day("2024-12-31"), 0), PERSON_DETAINED);
	assert_int_equal(person_status_at(h.ev, h.n, day("2025-01-01"), 0), PERSON_DISAPPEARED);
}

/*
 * The clock runs from the last of arrest, abduction, transfer and seen_in_custody: arrested
 * 2024-01-01, transferred 2024-09-01 (121 days before 2024-12-31: disappeared), seen in
 * custody 2024-11-15 (46 days before: detained).
 */
static void
test_clock_restarts(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_ARREST, "2024-01-01", "p");
	add(&h, PERSON_EV_TRANSFER, "2024-09-01", "p");
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DISAPPEARED);
	add(&h, PERSON_EV_SEEN_IN_CUSTODY, "2024-11-15", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DETAINED);
}

/*
 * A month-precise arrest counts from its first day: "2024-09" is 2024-09-01, 91 days before
 * 2024-12-01 (disappeared) and 90 days before 2024-11-30 (detained). A year-precise one
 * from January 1st: "2024" on 2024-03-31 is 90 days on (detained).
 */
static void
test_imprecise_dates(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_ARREST, "2024-09", "p");
	assert_int_equal(at(&h, "2024-11-30"), PERSON_DETAINED);
	assert_int_equal(at(&h, "2024-12-01"), PERSON_DISAPPEARED);
	/* on or before D by its start: "2024-09" is on or before 2024-09-01 */
	assert_int_equal(at(&h, "2024-09-01"), PERSON_DETAINED);
	assert_int_equal(at(&h, "2024-08-31"), PERSON_STATUS_NONE);
	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_ARREST, "2024", "p");
	assert_int_equal(at(&h, "2024-03-31"), PERSON_DETAINED);
	assert_int_equal(at(&h, "2024-04-01"), PERSON_DISAPPEARED);
}

/*
 * Ties on one date go by the type order, whatever the order of the array: a release and an
 * arrest on one day -> released; seen in custody and death in custody -> died in custody;
 * a month-precise arrest "2024-12" and a release on 2024-12-01 start on the same day ->
 * released; a release known only to "2024" starts on 2024-01-01, before an arrest on
 * 2024-03-05 -> detained.
 */
static void
test_ties(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_RELEASE, "2024-12-10", NULL);
	add(&h, PERSON_EV_ARREST, "2024-12-10", "p");
	assert_int_equal(at(&h, "2024-12-31"), PERSON_RELEASED);
	assert_int_equal(person_status_last(h.ev, h.n, day("2024-12-31")), 0);
	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_ARREST, "2024-12-10", "p");
	add(&h, PERSON_EV_RELEASE, "2024-12-10", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_RELEASED);
	/* of two equal ones, the last in the array decides */
	add(&h, PERSON_EV_RELEASE, "2024-12-10", NULL);
	assert_int_equal(person_status_last(h.ev, h.n, day("2024-12-31")), 2);

	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_DEATH_IN_CUSTODY, "2024-12-10", "p");
	add(&h, PERSON_EV_SEEN_IN_CUSTODY, "2024-12-10", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DIED_IN_CUSTODY);

	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_ARREST, "2024-12", "p");
	add(&h, PERSON_EV_RELEASE, "2024-12-01", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_RELEASED);

	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_ARREST, "2024-03-05", "p");
	add(&h, PERSON_EV_RELEASE, "2024", NULL);
	assert_int_equal(at(&h, "2024-04-01"), PERSON_DETAINED);

	/* last_seen and arrest on one day: the arrest comes after -> detained */
	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_ARREST, "2024-12-10", "p");
	add(&h, PERSON_EV_LAST_SEEN, "2024-12-10", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DETAINED);
}

/*
 * An inquiry never changes a status, not even the clock: arrested 2024-01-01, inquiry on
 * 2024-12-01 -> on 2024-12-31 (365 days) disappeared; an inquiry the same day as a
 * last_seen (after it in type order, yet ignored) -> missing.
 */
static void
test_inquiry_ignored(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_ARREST, "2024-01-01", "p");
	add(&h, PERSON_EV_INQUIRY, "2024-12-01", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DISAPPEARED);
	assert_int_equal(at(&h, "2024-02-01"), PERSON_DETAINED);
	memset(&h, 0, sizeof h);
	add(&h, PERSON_EV_LAST_SEEN, "2024-05-01", NULL);
	add(&h, PERSON_EV_INQUIRY, "2024-05-01", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_MISSING);
}

/*
 * Events after D are ignored: arrested 2024-11-01, released 2025-01-05 -> on 2024-12-31
 * detained (60 days), on 2025-01-05 released. Remains found after D do not count either.
 */
static void
test_after_d_ignored(void **state)
{
	struct hist h = { 0 };

	(void)state;
	add(&h, PERSON_EV_ARREST, "2024-11-01", "p");
	add(&h, PERSON_EV_RELEASE, "2025-01-05", NULL);
	add(&h, PERSON_EV_REMAINS_FOUND, "2025-03", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_DETAINED);
	assert_int_equal(at(&h, "2025-01-05"), PERSON_RELEASED);
	assert_int_equal(at(&h, "2025-03-01"), PERSON_FOUND_DEAD);
	add(&h, PERSON_EV_IDENTIFIED, "2025-04-02", NULL);
	assert_int_equal(at(&h, "2025-04-01"), PERSON_FOUND_DEAD);
	assert_int_equal(at(&h, "2025-04-02"), PERSON_IDENTIFIED);
}

/* An event without a date (never parsed) decides nothing. */
static void
test_undated_ignored(void **state)
{
	struct hist h = { 0 };

	(void)state;
	h.ev[h.n++].type = PERSON_EV_RELEASE;	/* zeroed date */
	assert_int_equal(at(&h, "2024-12-31"), PERSON_STATUS_NONE);
	add(&h, PERSON_EV_LAST_SEEN, "2024-05-01", NULL);
	assert_int_equal(at(&h, "2024-12-31"), PERSON_MISSING);
	memset(&h, 0, sizeof h);
	h.ev[h.n++].type = PERSON_EV_LAST_SEEN;
	assert_int_equal(person_case_first(h.ev, h.n), 1);
}

/*
 * The date of disappearance of a case: the first last_seen, arrest or abduction. Here
 * inquiry 2024-01-01 (not one), arrest 2024-03-05, last_seen 2024-02-01 and abduction
 * 2024-02-01 (same day: last_seen first by type) -> the last_seen, index 4. Month-precise
 * "2024-01" starts on 2024-01-01, before both -> it is first (index 5).
 */
static void
test_case_first(void **state)
{
	struct hist h = { 0 };

	(void)state;
	assert_int_equal(person_case_first(h.ev, 0), 0);
	add(&h, PERSON_EV_INQUIRY, "2024-01-01", NULL);
	add(&h, PERSON_EV_RELEASE, "2024-01-02", NULL);
	assert_int_equal(person_case_first(h.ev, h.n), h.n);
	add(&h, PERSON_EV_ARREST, "2024-03-05", "syrian_regime");
	assert_int_equal(person_case_first(h.ev, h.n), 2);
	add(&h, PERSON_EV_ABDUCTION, "2024-02-01", "isis");
	add(&h, PERSON_EV_LAST_SEEN, "2024-02-01", NULL);
	assert_int_equal(person_case_first(h.ev, h.n), 4);
	add(&h, PERSON_EV_ABDUCTION, "2024-01", "isis");
	assert_int_equal(person_case_first(h.ev, h.n), 5);
	/* of two equal ones, the first in the array */
	add(&h, PERSON_EV_ABDUCTION, "2024-01", "sdf");
	assert_int_equal(person_case_first(h.ev, h.n), 5);
}

/*
 * Child and woman as for victims: a girl of 16 is a child, not a woman; a female of 30 is a
 * woman; of no age and group child, a child; of no age and group adult, a woman; of no age
 * and group unknown, neither; a male is never a woman.
 */
static void
test_child_woman(void **state)
{
	static const struct {
		const char	*sex;
		int		 age;
		const char	*group;
		int		 child, woman;
	} want[] = {
		{ "female", 16, "child", 1, 0 },
		{ "female", 17, NULL, 1, 0 },
		{ "female", 18, "adult", 0, 1 },
		{ "female", 30, NULL, 0, 1 },
		{ "female", -1, "child", 1, 0 },
		{ "female", -1, "adult", 0, 1 },
		{ "female", -1, "unknown", 0, 0 },
		{ "female", -1, NULL, 0, 0 },
		{ "male", 30, "adult", 0, 0 },
		{ "male", 10, "child", 1, 0 },
		{ "unknown", 30, "adult", 0, 0 },
		{ NULL, -1, "child", 1, 0 },
		{ NULL, 40, NULL, 0, 0 },
		/* not canonical (records.c refuses a group contradicting the age): a child wins */
		{ "female", 30, "child", 1, 0 },
		{ "female", 12, "adult", 1, 0 },
	};
	size_t i;
	int child, woman;

	(void)state;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		person_child_woman(&child, &woman, want[i].sex, want[i].age, want[i].group);
		if (child != want[i].child || woman != want[i].woman)
			fail_msg("case %zu: child %d woman %d, want %d %d", i, child, woman,
			    want[i].child, want[i].woman);
	}
}

/*
 * Events from canonical records: strings borrowed, the date with its precision; an unknown
 * type or a bad date is refused. An arrest record of "2024-09" and a release of 2024-12-01
 * give released on 2024-12-31; the age of a record, or -1.
 */
static void
test_json(void **state)
{
	json_t *a = json_pack("{ss ss ss ss ss}", "kind", "person_event", "type", "arrest",
	    "date", "2024-09", "party", "hts", "governorate", "idlib");
	json_t *r = json_pack("{ss ss}", "type", "release", "date", "2024-12-01");
	json_t *bad;
	struct person_event ev[2];

	(void)state;
	assert_int_equal(person_json_event(&ev[0], a), 0);
	assert_int_equal(ev[0].type, PERSON_EV_ARREST);
	assert_int_equal(ev[0].date.precision, DATE_MONTH);
	assert_string_equal(ev[0].party, "hts");
	assert_string_equal(ev[0].governorate, "idlib");
	assert_int_equal(person_json_event(&ev[1], r), 0);
	assert_null(ev[1].party);
	assert_int_equal(person_status_at(ev, 2, day("2024-11-30"), N), PERSON_DETAINED);
	assert_int_equal(person_status_at(ev, 2, day("2024-12-31"), N), PERSON_RELEASED);

	bad = json_pack("{ss ss}", "type", "Arrest", "date", "2024-09");
	assert_int_equal(person_json_event(&ev[0], bad), CUSTODY_EINVAL);
	json_decref(bad);
	bad = json_pack("{ss ss}", "type", "arrest", "date", "2024-13");
	assert_int_equal(person_json_event(&ev[0], bad), CUSTODY_EINVAL);
	assert_int_equal(ev[0].date.year, 0);
	json_decref(bad);
	bad = json_pack("{ss}", "type", "arrest");
	assert_int_equal(person_json_event(&ev[0], bad), CUSTODY_EINVAL);
	json_decref(bad);

	assert_int_equal(person_json_age(a), -1);
	json_object_set_new(a, "age", json_integer(16));
	assert_int_equal(person_json_age(a), 16);
	json_object_set_new(a, "age", json_string("16"));
	assert_int_equal(person_json_age(a), -1);
	json_object_set_new(a, "age", json_integer(-3));
	assert_int_equal(person_json_age(a), -1);
	json_decref(a);
	json_decref(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_no_status),
		cmocka_unit_test(test_each_type),
		cmocka_unit_test(test_rearrest),
		cmocka_unit_test(test_denial),
		cmocka_unit_test(test_89_90_91),
		cmocka_unit_test(test_clock_restarts),
		cmocka_unit_test(test_imprecise_dates),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_inquiry_ignored),
		cmocka_unit_test(test_after_d_ignored),
		cmocka_unit_test(test_undated_ignored),
		cmocka_unit_test(test_case_first),
		cmocka_unit_test(test_child_woman),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
