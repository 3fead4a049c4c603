/*
 * The detention report (domain/report-detentions.c): a hand-made dataset of thirteen persons
 * whose reports were worked out by hand (below, person by person, then as literal JSON), the
 * text and CSV made from it, the errors, and the time over 100,000 persons and 300,000 events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "custody/persons.h"
#include "custody/report-detentions.h"

#define MAXEV 4

struct ev_spec {
	enum person_event_type	 type;
	const char		*date, *party, *gov;
};

struct person_spec {
	const char	*id, *sex;
	int		 age;
	const char	*group, *gov;
	struct ev_spec	 ev[MAXEV];
};

#define A PERSON_EV_ARREST
#define AB PERSON_EV_ABDUCTION
#define LS PERSON_EV_LAST_SEEN
#define INQ PERSON_EV_INQUIRY
#define DEN PERSON_EV_DENIAL
#define REL PERSON_EV_RELEASE
#define DIC PERSON_EV_DEATH_IN_CUSTODY
#define RF PERSON_EV_REMAINS_FOUND
#define IDF PERSON_EV_IDENTIFIED

/*
 * The dataset. For December 2024 (2024-12-01..2024-12-31, N = 90), person by person:
 * p01 man 30: arrest 12-05 syrian_regime in damascus -> an arrest (damascus, the event's
 *     governorate over his aleppo); detained on 12-31 (26 days).
 * p02 girl 16: abduction 12-10 by isis, no event governorate -> an arrest in homs (hers); a
 *     child, not a woman; detained.
 * p03 woman 35: arrest "2024-12" (whole month inside) syrian_regime -> an arrest in homs, a
 *     woman; release 12-20 -> released 1; released.
 * p04 boy (no age, group child): arrest "2024-11" by sdf (not in December); death in
 *     custody 12-28 by sdf -> died_in_custody 1, sdf 1; died_in_custody.
 * p05 female of unknown age: last seen 06-01, arrest 08-15 syrian_regime, inquiry 12-15 ->
 *     138 days since the arrest: disappeared.
 * p06 woman 40: arrest 01-10 hts, release 03-01, arrest 12-30 hts in idlib -> an arrest in
 *     idlib, a woman; detained (the re-arrest).
 * p07 man 50: arrest 12-31 syrian_regime and denial 12-31 -> an arrest in aleppo (his);
 *     disappeared (the denial comes after the arrest on the same day).
 * p08 man 20: last seen 2025-01-05 -> nothing on or before 12-31: in no status.
 * p09 woman 25: an inquiry 12-01 only -> no status.
 * p10 man 33: arrest "2024" (a year: in no month's report), remains found 12-02, identified
 *     2025-02-01 (after) -> found_dead.
 * p11 man 45: last seen 12-03 -> missing.
 * p12 man 28: abduction 2023-05-01 isis, remains found 10-01, identified 12-12 -> identified.
 * p13 man: arrest 10-01 sdf, release 11-30 (before the period) -> released, not counted.
 * Arrests 5 (p01, p02, p03, p06, p07), children 1 (p02), women 2 (p03, p06); by party
 * syrian_regime 3/0/1, isis 1/1/0, hts 1/0/1 (no sdf: its arrests are zero); by governorate
 * aleppo 1, damascus 1, homs 2, idlib 1 of 5: 20.0, 20.0, 40.0, 20.0; released 1;
 * died_in_custody 1 (sdf 1); statuses detained 3 (p01 p02 p06), disappeared 2 (p05 p07),
 * released 2 (p03 p13), died_in_custody 1, found_dead 1, identified 1, missing 1.
 */
static const struct person_spec persons[] = {
	{ "p01", "male", 30, "adult", "aleppo", { { A, "2024-12-05", "syrian_regime",
	    "damascus" } } },
	{ "p02", "female", 16, "child", "homs", { { AB, "2024-12-10", "isis", NULL } } },
	{ "p03", "female", 35, "adult", "homs", { { REL, "2024-12-20", NULL, NULL },
	    { A, "2024-12", "syrian_regime", NULL } } },
	{ "p04", "male", -1, "child", "aleppo", { { A, "2024-11", "sdf", NULL },
	    { DIC, "2024-12-28", "sdf", NULL } } },
	{ "p05", "female", -1, "unknown", "idlib", { { LS, "2024-06-01", NULL, NULL },
	    { A, "2024-08-15", "syrian_regime", NULL }, { INQ, "2024-12-15", NULL, NULL } } },
	{ "p06", "female", 40, "adult", "damascus", { { A, "2024-01-10", "hts", NULL },
	    { REL, "2024-03-01", NULL, NULL }, { A, "2024-12-30", "hts", "idlib" } } },
	{ "p07", "male", 50, "adult", "aleppo", { { DEN, "2024-12-31", NULL, NULL },
	    { A, "2024-12-31", "syrian_regime", NULL } } },
	{ "p08", "male", 20, "adult", "raqqa", { { LS, "2025-01-05", NULL, NULL } } },
	{ "p09", "female", 25, "adult", "homs", { { INQ, "2024-12-01", NULL, NULL } } },
	{ "p10", "male", 33, "adult", "daraa", { { A, "2024", "syrian_regime", NULL },
	    { RF, "2024-12-02", NULL, NULL }, { IDF, "2025-02-01", NULL, NULL } } },
	{ "p11", "male", 45, "adult", "homs", { { LS, "2024-12-03", NULL, NULL } } },
	{ "p12", "male", 28, "adult", NULL, { { AB, "2023-05-01", "isis", NULL },
	    { RF, "2024-10-01", NULL, NULL }, { IDF, "2024-12-12", NULL, NULL } } },
	{ "p13", "male", -1, NULL, NULL, { { A, "2024-10-01", "sdf", NULL },
	    { REL, "2024-11-30", NULL, NULL } } },
};
#define NPERSONS (sizeof persons / sizeof persons[0])

static const char december[] =
    "{\"period\": {\"from\": \"2024-12-01\", \"to\": \"2024-12-31\"},"
    " \"arrests\": 5, \"children\": 1, \"women\": 2,"
    " \"by_party\": {\"hts\": {\"arrests\": 1, \"children\": 0, \"women\": 1},"
    "  \"isis\": {\"arrests\": 1, \"children\": 1, \"women\": 0},"
    "  \"syrian_regime\": {\"arrests\": 3, \"children\": 0, \"women\": 1}},"
    " \"by_governorate\": {\"aleppo\": {\"arrests\": 1, \"percent\": 20.0},"
    "  \"damascus\": {\"arrests\": 1, \"percent\": 20.0},"
    "  \"homs\": {\"arrests\": 2, \"percent\": 40.0},"
    "  \"idlib\": {\"arrests\": 1, \"percent\": 20.0}},"
    " \"released\": 1,"
    " \"died_in_custody\": {\"count\": 1, \"by_party\": {\"sdf\": 1}},"
    " \"status_at_end\": {\"detained\": 3, \"disappeared\": 2, \"released\": 2,"
    "  \"died_in_custody\": 1, \"found_dead\": 1, \"identified\": 1, \"missing\": 1},"
    " \"disappeared_after_days\": 90}";

/* A stream over a table of person specs, for report_detentions_run. */
struct stream {
	const struct person_spec		*specs;
	size_t					 n, next;
	struct person_event			 ev[MAXEV];
	struct report_detentions_person		 p;
};

/* The next person of the table, its events parsed. */
static int
stream_next(void *arg, const struct report_detentions_person **out)
{
	struct stream *s = arg;
	const struct person_spec *ps;
	size_t i;

	if (s->next == s->n)
		return 0;
	ps = &s->specs[s->next++];
	memset(&s->p, 0, sizeof s->p);
	s->p.id = ps->id;
	s->p.sex = ps->sex;
	s->p.age = ps->age;
	s->p.age_group = ps->group;
	s->p.governorate = ps->gov;
	s->p.events = s->ev;
	for (i = 0; i < MAXEV && ps->ev[i].date != NULL; i++) {
		memset(&s->ev[i], 0, sizeof s->ev[i]);
		s->ev[i].type = ps->ev[i].type;
		s->ev[i].party = ps->ev[i].party;
		s->ev[i].governorate = ps->ev[i].gov;
		if (cdate_parse(&s->ev[i].date, ps->ev[i].date) != 0)
			fail_msg("bad test date %s", ps->ev[i].date);
	}
	s->p.nevents = i;
	*out = &s->p;
	return 1;
}

/* got equals the JSON text want (order of keys aside); prints both when not. */
static void
expect_json(const json_t *got, const char *want)
{
	json_error_t err;
	json_t *w = json_loads(want, 0, &err);
	char *g, *ws;

	if (w == NULL)
		fail_msg("bad expected JSON: %s at %d", err.text, err.position);
	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		ws = json_dumps(w, JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		print_error("got  %s\nwant %s\n", g, ws);
		free(g);
		free(ws);
		json_decref(w);
		fail();
	}
	json_decref(w);
}

/* The report of the dataset (or n specs of another table) over from..to. */
static json_t *
run(const struct person_spec *specs, size_t n, const char *from, const char *to, unsigned days)
{
	struct stream s = { .specs = specs, .n = n };
	json_t *r = NULL;
	int error;

	if ((error = report_detentions_run(&r, from, to, days, stream_next, &s)) != 0)
		fail_msg("report_detentions_run: %d %s", error, custody_error());
	assert_non_null(r);
	return r;
}

/* December: the answer worked out above. */
static void
test_december(void **state)
{
	json_t *r = run(persons, NPERSONS, "2024-12-01", "2024-12-31", 90);

	(void)state;
	expect_json(r, december);
	json_decref(r);
}

/*
 * The first half of December (2024-12-01..2024-12-15): p03's "2024-12" arrest straddles the
 * period and is left out, p06's and p07's arrests are after it. Arrests p01 (damascus) and
 * p02 (homs, a child): 2, 50.0 each. p03's release (12-20) and p04's death (12-28) are after:
 * released 0, died 0, an empty by_party. On 12-15: p01 p02 detained, p03 detained (release
 * after D, 14 days from "2024-12"), p04 detained (44 days from "2024-11"), p05 disappeared
 * (122 days), p06 released (its re-arrest is after D), p07 no event by then, p08 none, p09
 * inquiry only, p10 found_dead, p11 missing, p12 identified, p13 released.
 */
static void
test_first_half(void **state)
{
	json_t *r = run(persons, NPERSONS, "2024-12-01", "2024-12-15", 90);

	(void)state;
	expect_json(r,
	    "{\"period\": {\"from\": \"2024-12-01\", \"to\": \"2024-12-15\"},"
	    " \"arrests\": 2, \"children\": 1, \"women\": 0,"
	    " \"by_party\": {\"isis\": {\"arrests\": 1, \"children\": 1, \"women\": 0},"
	    "  \"syrian_regime\": {\"arrests\": 1, \"children\": 0, \"women\": 0}},"
	    " \"by_governorate\": {\"damascus\": {\"arrests\": 1, \"percent\": 50.0},"
	    "  \"homs\": {\"arrests\": 1, \"percent\": 50.0}},"
	    " \"released\": 0, \"died_in_custody\": {\"count\": 0, \"by_party\": {}},"
	    " \"status_at_end\": {\"detained\": 4, \"disappeared\": 1, \"released\": 2,"
	    "  \"died_in_custody\": 0, \"found_dead\": 1, \"identified\": 1, \"missing\": 1},"
	    " \"disappeared_after_days\": 90}");
	json_decref(r);
}

/*
 * The month straddled: 2024-11-15..2024-12-31 holds "2024-12" but not p04's "2024-11". Arrests
 * as in December (5) plus nothing; p13's release 11-30 is now in: released 2. The year 2024:
 * p10's "2024" arrest is in, and p06's first arrest (01-10), p05's (08-15), p13's (10-01)
 * and p04's "2024-11": 10 arrests; releases p03, p06 (03-01), p13: 3.
 */
static void
test_straddle_and_year(void **state)
{
	json_t *r = run(persons, NPERSONS, "2024-11-15", "2024-12-31", 90);

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(r, "arrests")), 5);
	assert_int_equal(json_integer_value(json_object_get(r, "released")), 2);
	assert_null(json_object_get(json_object_get(r, "by_party"), "sdf"));
	json_decref(r);

	r = run(persons, NPERSONS, "2024-01-01", "2024-12-31", 90);
	assert_int_equal(json_integer_value(json_object_get(r, "arrests")), 10);
	assert_int_equal(json_integer_value(json_object_get(r, "released")), 3);
	/* p04's arrest: a boy's, by sdf; p05 is of unknown age: no woman */
	expect_json(json_object_get(json_object_get(r, "by_party"), "sdf"),
	    "{\"arrests\": 2, \"children\": 1, \"women\": 0}");
	assert_int_equal(json_integer_value(json_object_get(r, "children")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "women")), 3);
	json_decref(r);
}

/* N changes the statuses and is reported: with 365 days p05 (138 days) is detained. */
static void
test_days_reported(void **state)
{
	json_t *r = run(persons, NPERSONS, "2024-12-01", "2024-12-31", 365);
	json_t *st = json_object_get(r, "status_at_end");

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(st, "detained")), 4);
	assert_int_equal(json_integer_value(json_object_get(st, "disappeared")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "disappeared_after_days")), 365);
	json_decref(r);
}

/*
 * The exact text of the JSON: the key order; an empty period still has every key and
 * the seven statuses (before any event: all zero).
 */
static void
test_shape(void **state)
{
	json_t *r = run(persons, NPERSONS, "2020-01-01", "2020-01-31", 90);
	char *s = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(4));

	(void)state;
	assert_string_equal(s, "{\"period\":{\"from\":\"2020-01-01\",\"to\":\"2020-01-31\"},"
	    "\"arrests\":0,\"children\":0,\"women\":0,\"by_party\":{},\"by_governorate\":{},"
	    "\"released\":0,\"died_in_custody\":{\"count\":0,\"by_party\":{}},"
	    "\"status_at_end\":{\"detained\":0,\"disappeared\":0,\"released\":0,"
	    "\"died_in_custody\":0,\"found_dead\":0,\"identified\":0,\"missing\":0},"
	    "\"disappeared_after_days\":90}");
	free(s);
	json_decref(r);

	r = run(persons, NPERSONS, "2024-12-01", "2024-12-31", 90);
	s = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(4));
	assert_non_null(strstr(s, "\"by_governorate\":{\"aleppo\":{\"arrests\":1,\"percent\":20.0},"
	    "\"damascus\":"));
	free(s);
	json_decref(r);
}

/*
 * Percentages of arrests to one decimal, half away from zero in integers: of 3 arrests, 2 and
 * 1 are 66.7 and 33.3; of 16, 1 is 6.25 -> 6.3 (printf's "%.1f" would give 6.2) and 15 is
 * 93.75 -> 93.8.
 */
static void
test_percent(void **state)
{
	struct person_spec many[16];
	char ids[16][8];
	json_t *r, *g;
	size_t i;

	(void)state;
	memset(many, 0, sizeof many);
	for (i = 0; i < 16; i++) {
		snprintf(ids[i], sizeof ids[i], "q%02zu", i);
		many[i].id = ids[i];
		many[i].age = -1;
		many[i].gov = i == 0 || i == 3 ? "hama" : "tartus";
		many[i].ev[0] = (struct ev_spec){ A, "2024-12-05", "other", NULL };
	}
	r = run(many, 3, "2024-12-01", "2024-12-31", 90);
	g = json_object_get(r, "by_governorate");
	expect_json(g, "{\"hama\": {\"arrests\": 1, \"percent\": 33.3},"
	    " \"tartus\": {\"arrests\": 2, \"percent\": 66.7}}");
	json_decref(r);

	r = run(many, 16, "2024-12-01", "2024-12-31", 90);
	g = json_object_get(r, "by_governorate");
	/* hama holds q00 and q03: 2 of 16 = 12.5 exactly */
	expect_json(g, "{\"hama\": {\"arrests\": 2, \"percent\": 12.5},"
	    " \"tartus\": {\"arrests\": 14, \"percent\": 87.5}}");
	json_decref(r);

	many[3].gov = "tartus";
	r = run(many, 16, "2024-12-01", "2024-12-31", 90);
	expect_json(json_object_get(r, "by_governorate"),
	    "{\"hama\": {\"arrests\": 1, \"percent\": 6.3},"
	    " \"tartus\": {\"arrests\": 15, \"percent\": 93.8}}");
	json_decref(r);
}

/* A person's events without a party or governorate at all count under "unknown". */
static void
test_unknown(void **state)
{
	static const struct person_spec p[] = {
		{ "u1", "female", 12, NULL, NULL, { { AB, "2024-12-05", "", "" },
		    { DIC, "2024-12-06", NULL, NULL } } },
	};
	json_t *r = run(p, 1, "2024-12-01", "2024-12-31", 90);

	(void)state;
	expect_json(json_object_get(r, "by_party"),
	    "{\"unknown\": {\"arrests\": 1, \"children\": 1, \"women\": 0}}");
	expect_json(json_object_get(r, "by_governorate"),
	    "{\"unknown\": {\"arrests\": 1, \"percent\": 100.0}}");
	expect_json(json_object_get(r, "died_in_custody"),
	    "{\"count\": 1, \"by_party\": {\"unknown\": 1}}");
	json_decref(r);
}

/* Persons out of id order, twice, or a bad period are refused with a message. */
static void
test_errors(void **state)
{
	struct report_detentions *r = NULL;
	struct report_detentions_person p = { .id = "b", .age = -1 };
	struct person_event e = { .type = PERSON_EV_ARREST, .party = "bad\xff" };
	json_t *j = NULL;

	(void)state;
	assert_int_equal(report_detentions_new(&r, "2024-12-31", "2024-12-01", 90),
	    CUSTODY_EINVAL);
	assert_null(r);
	assert_int_equal(report_detentions_new(&r, "2024-12", "2024-12-31", 90), CUSTODY_EINVAL);
	assert_int_equal(report_detentions_new(&r, "2024-12-01", "2024-12-32", 90),
	    CUSTODY_EINVAL);
	assert_int_equal(report_detentions_new(&r, "2024-12-01", "2024-12-31", 90), 0);
	assert_int_equal(report_detentions_add(r, &p), 0);
	assert_int_equal(report_detentions_add(r, &p), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "id order"));
	p.id = "a";
	assert_int_equal(report_detentions_add(r, &p), CUSTODY_EINVAL);
	/* a party that is not UTF-8: refused, and the person is not counted at all */
	assert_int_equal(cdate_parse(&e.date, "2024-12-02"), 0);
	p.id = "c";
	p.events = &e;
	p.nevents = 1;
	assert_int_equal(report_detentions_add(r, &p), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "UTF-8"));
	assert_int_equal(report_detentions_json(&j, r), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "arrests")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "status_at_end"),
	    "detained")), 0);
	json_decref(j);
	/* the id of the refused person was not taken: "c" may come again */
	e.party = "ok";
	assert_int_equal(report_detentions_add(r, &p), 0);
	report_detentions_free(r);
	report_detentions_free(NULL);
}

/* An error of the stream stops the report and comes back unchanged. */
static int
stream_fail(void *arg, const struct report_detentions_person **out)
{
	(void)arg;
	(void)out;
	return CUSTODY_EIO;
}

static void
test_stream_error(void **state)
{
	json_t *r = NULL;

	(void)state;
	assert_int_equal(report_detentions_run(&r, "2024-12-01", "2024-12-31", 90, stream_fail,
	    NULL), CUSTODY_EIO);
	assert_null(r);
}

/* A label for the text: upper-case "syrian_regime" only. */
static const char *
label(char *buf, size_t len, const char *word)
{
	if (strcmp(word, "syrian_regime") != 0)
		return NULL;
	snprintf(buf, len, "Syrian regime forces");
	return buf;
}

/* The text of December: the title, the tables, largest first, labels, the closing line. */
static void
test_text(void **state)
{
	json_t *r = run(persons, NPERSONS, "2024-12-01", "2024-12-31", 90);
	struct cbuf b = { 0 };
	char *t;

	(void)state;
	assert_int_equal(report_detentions_text(&b, r, label), 0);
	assert_int_equal(cbuf_put(&b, "", 1), 0);
	t = (char *)b.data;
	if (getenv("SHOW_REPORT") != NULL)
		fputs(t, stdout);
	assert_true(strncmp(t, "Detention report for December 2024\n", 35) == 0);
	assert_non_null(strstr(t,
	    "Arrests by party\n"
	    "  Party                 Arrests  Children  Women\n"
	    "  Syrian regime forces        3         0      1\n"
	    "  hts                         1         0      1\n"
	    "  isis                        1         1      0\n"
	    "  Total                       5         1      2\n"));
	assert_non_null(strstr(t, "  homs               2  40.0%\n"));
	assert_non_null(strstr(t, "Released: 1\n"));
	assert_non_null(strstr(t, "Deaths in custody: 1\n  Party  Deaths\n  sdf         1\n"
	    "  Total       1\n"));
	assert_non_null(strstr(t, "Status on 2024-12-31 (persons with an event by then)\n"
	    "  Detained          3\n  Disappeared       2\n"));
	assert_non_null(strstr(t, "  Died in custody   1\n"
	    "  Found dead        1\n  Identified        1\n  Missing           1\n"
	    "  Total            11\n"));
	assert_non_null(strstr(t, "more than 90 days"));
	cbuf_free(&b);
	json_decref(r);

	/* a year, a period; words that could drive a terminal are escaped */
	r = run(persons, NPERSONS, "2024-01-01", "2024-12-31", 90);
	assert_int_equal(report_detentions_text(&b, r, NULL), 0);
	assert_true(strncmp((char *)b.data, "Detention report for 2024\n", 26) == 0);
	cbuf_free(&b);
	json_decref(r);
	r = json_pack("{s{ss ss} s{s{si}}}", "period", "from", "2024-12-02", "to", "2024-12-09",
	    "by_party", "x\x1b[2J\xc2\x9b", "arrests", 1);
	assert_int_equal(report_detentions_text(&b, r, NULL), 0);
	assert_int_equal(cbuf_put(&b, "", 1), 0);
	assert_true(strncmp((char *)b.data, "Detention report, 2024-12-02 to 2024-12-09\n", 43)
	    == 0);
	assert_null(memchr(b.data, 0x1b, b.len));
	assert_non_null(strstr((char *)b.data, "x\\x1b[2J\\xc2\\x9b"));
	/* missing members read as zero or empty */
	assert_non_null(strstr((char *)b.data, "Deaths in custody: 0\n  (none)\n"));
	cbuf_free(&b);
	json_decref(r);
}

/* The CSV of December, whole. */
static void
test_csv(void **state)
{
	json_t *r = run(persons, NPERSONS, "2024-12-01", "2024-12-31", 90);
	struct cbuf b = { 0 };

	(void)state;
	assert_int_equal(report_detentions_csv(&b, r), 0);
	assert_int_equal(cbuf_put(&b, "", 1), 0);
	assert_string_equal((char *)b.data,
	    "section,key,metric,value\r\n"
	    "period,,from,2024-12-01\r\n"
	    "period,,to,2024-12-31\r\n"
	    "totals,all,arrests,5\r\n"
	    "totals,all,children,1\r\n"
	    "totals,all,women,2\r\n"
	    "totals,all,released,1\r\n"
	    "totals,all,disappeared_after_days,90\r\n"
	    "by_party,hts,arrests,1\r\n" "by_party,hts,children,0\r\n" "by_party,hts,women,1\r\n"
	    "by_party,isis,arrests,1\r\n" "by_party,isis,children,1\r\n"
	    "by_party,isis,women,0\r\n"
	    "by_party,syrian_regime,arrests,3\r\n" "by_party,syrian_regime,children,0\r\n"
	    "by_party,syrian_regime,women,1\r\n"
	    "by_governorate,aleppo,arrests,1\r\n" "by_governorate,aleppo,percent,20.0\r\n"
	    "by_governorate,damascus,arrests,1\r\n" "by_governorate,damascus,percent,20.0\r\n"
	    "by_governorate,homs,arrests,2\r\n" "by_governorate,homs,percent,40.0\r\n"
	    "by_governorate,idlib,arrests,1\r\n" "by_governorate,idlib,percent,20.0\r\n"
	    "died_in_custody,all,count,1\r\n"
	    "died_in_custody_by_party,sdf,died_in_custody,1\r\n"
	    "status_at_end,all,detained,3\r\n" "status_at_end,all,disappeared,2\r\n"
	    "status_at_end,all,released,2\r\n" "status_at_end,all,died_in_custody,1\r\n"
	    "status_at_end,all,found_dead,1\r\n" "status_at_end,all,identified,1\r\n"
	    "status_at_end,all,missing,1\r\n");
	cbuf_free(&b);
	json_decref(r);

	/* a key with a comma or a quote is quoted */
	r = json_pack("{s{s{si}}}", "died_in_custody", "by_party", "a,\"b\"", 2);
	assert_int_equal(report_detentions_csv(&b, r), 0);
	assert_int_equal(cbuf_put(&b, "", 1), 0);
	assert_non_null(strstr((char *)b.data,
	    "died_in_custody_by_party,\"a,\"\"b\"\"\",died_in_custody,2\r\n"));
	cbuf_free(&b);
	json_decref(r);
}

#define BENCH_PERSONS 100000
#define BENCH_EVENTS 3

/* The synthetic stream: every person's events made in advance, so only the report is timed. */
struct bench {
	struct person_event		*ev;
	char				(*ids)[12];
	struct report_detentions_person	 p;
	size_t				 next;
};

static const char *const bench_parties[] = { "syrian_regime", "sna", "hts", "isis", "sdf",
    "russia", "coalition", "other" };
static const char *const bench_govs[] = { "damascus", "rif_dimashq", "aleppo", "homs", "hama",
    "idlib", "latakia", "tartus", "daraa", "suwayda", "quneitra", "deir_ez_zor", "raqqa",
    "hasakah" };

static int
bench_next(void *arg, const struct report_detentions_person **out)
{
	struct bench *b = arg;
	size_t i = b->next;

	if (i == BENCH_PERSONS)
		return 0;
	b->next++;
	b->p.id = b->ids[i];
	b->p.sex = i % 2 ? "female" : "male";
	b->p.age = (int)(i % 70);
	b->p.age_group = b->p.age < 18 ? "child" : "adult";
	b->p.governorate = bench_govs[i % 14];
	b->p.events = &b->ev[i * BENCH_EVENTS];
	b->p.nevents = BENCH_EVENTS;
	*out = &b->p;
	return 1;
}

/*
 * 100,000 persons with 300,000 events (last seen, arrest, and a release, a transfer or a
 * death, over 2020-2024), the year 2024: the time is printed; the bound only catches a report
 * gone quadratic, on a loaded machine. The statuses add up to the persons.
 */
static void
test_bench(void **state)
{
	static const enum person_event_type third[] = { PERSON_EV_RELEASE, PERSON_EV_TRANSFER,
	    PERSON_EV_DEATH_IN_CUSTODY, PERSON_EV_DENIAL, PERSON_EV_INQUIRY };
	struct bench b = { 0 };
	struct timespec t0, t1;
	json_t *r = NULL, *v;
	const char *k;
	long long sum = 0;
	double ms;
	size_t i;
	char date[48];
	int64_t base = cdate_days(2020, 1, 1), d;
	int y, m, dd;

	(void)state;
	b.ev = calloc((size_t)BENCH_PERSONS * BENCH_EVENTS, sizeof *b.ev);
	b.ids = calloc(BENCH_PERSONS, sizeof *b.ids);
	assert_non_null(b.ev);
	assert_non_null(b.ids);
	for (i = 0; i < BENCH_PERSONS; i++) {
		struct person_event *e = &b.ev[i * BENCH_EVENTS];

		snprintf(b.ids[i], sizeof b.ids[i], "p%07zu", i);
		for (int k2 = 0; k2 < BENCH_EVENTS; k2++) {
			d = base + (int64_t)((i * 7919 + (size_t)k2 * 97) % 1800) + k2 * 30;
			/* back from days to a date: walk the calendar (set-up only) */
			y = 2020;
			while (d - cdate_days(y + 1, 1, 1) >= 0)
				y++;
			for (m = 1; m < 12 && d >= cdate_days(y, m + 1, 1); m++)
				;
			dd = (int)(d - cdate_days(y, m, 1)) + 1;
			if (i % 10 == 0 && k2 == 1)
				snprintf(date, sizeof date, "%04d-%02d", y, m);
			else
				snprintf(date, sizeof date, "%04d-%02d-%02d", y, m, dd);
			assert_int_equal(cdate_parse(&e[k2].date, date), 0);
			e[k2].type = k2 == 0 ? PERSON_EV_LAST_SEEN : k2 == 1 ?
			    (i % 3 ? PERSON_EV_ARREST : PERSON_EV_ABDUCTION) : third[i % 5];
			e[k2].party = k2 == 0 ? NULL : bench_parties[(i / 3) % 8];
			e[k2].governorate = i % 4 ? bench_govs[(i / 7) % 14] : NULL;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(report_detentions_run(&r, "2024-01-01", "2024-12-31", 90, bench_next,
	    &b), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("detention report: %d persons, %d events, one year: %.1f ms\n", BENCH_PERSONS,
	    BENCH_PERSONS * BENCH_EVENTS, ms);
	json_object_foreach(json_object_get(r, "status_at_end"), k, v)
		sum += json_integer_value(v);
	/* every person has a last_seen by the end of 2024 (day 0..1799 from 2020-01-01) */
	assert_int_equal(sum, BENCH_PERSONS);
	assert_true(json_integer_value(json_object_get(r, "arrests")) > 0);
	assert_int_equal(json_object_size(json_object_get(r, "by_governorate")), 14);
	assert_true(ms < 5000.0);
	json_decref(r);
	free(b.ev);
	free(b.ids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_december),
		cmocka_unit_test(test_first_half),
		cmocka_unit_test(test_straddle_and_year),
		cmocka_unit_test(test_days_reported),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stream_error),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
