/*
 * The persons and person_events tables of a real index, as the indexer fills them from
 * canonical records (index_put_casualty, the path of local writes, syncs and rebuilds; imports
 * write the same packed rows): what they keep and what they never keep, the current revision
 * winning whatever the order, and the detention report and person queries read over them
 * (events of a person the index lacks are passed over, victims rows change nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "index-int.h"
#include "index-row.h"
#include "report.h"

#include "index-fixture.h"

static const char *const person_json =
    "{\"kind\": \"person\", \"id\": \"P-1\", \"name\": \"Secretname Qaratalli\","
    " \"sex\": \"female\", \"age\": 15, \"age_group\": \"child\", \"birth_year\": 2009,"
    " \"governorate\": \"damascus\", \"area\": \"Secretarea\", \"consent\": [\"icmp\","
    " \"wgeid\"], \"reporter_contact\": \"+963-SECRET\", \"marks\": \"Secretscar\","
    " \"notes\": \"Secretnote\"}";

static const char *const event_json =
    "{\"kind\": \"person_event\", \"id\": \"E-1\", \"person_id\": \"P-1\","
    " \"type\": \"arrest\", \"date\": \"2024-12\", \"date_precision\": \"month\","
    " \"party\": \"syrian_regime\", \"site_id\": \"S-1\", \"governorate\": \"damascus\","
    " \"area\": \"Secretarea\", \"source_id\": \"SRC-1\", \"notes\": \"Secretnote\"}";

/* Index doc (JSON text) as id at lamport, as office-a. */
static void
put(struct fixture *f, const char *text, int64_t lamport)
{
	json_error_t err;
	json_t *doc = json_loads(text, 0, &err);
	uint8_t tok[TOKEN_LEN];
	int64_t office;

	assert_non_null(doc);
	archive_token(f->a, tok, json_string_value(json_object_get(doc, "id")));
	assert_int_equal(index_office_id(f->db, "office-a", &office), 0);
	assert_int_equal(index_put_casualty(f->a, f->db, tok, office, lamport, doc), 0);
	json_decref(doc);
}

/* The text of the first column of the first row of sql, or "" (a static buffer). */
static const char *
one(struct fixture *f, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *st;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* The rows keep what the report needs; the packed rows hold no protected byte. */
static void
test_rows(void **state)
{
	struct fixture *f = *state;
	struct cbuf b = { 0 };
	json_t *doc;
	uint8_t ptok[TOKEN_LEN], stok[TOKEN_LEN];
	const char *secrets[] = { "Secret", "Qaratalli", "SRC-1", "P-1", "S-1" };
	size_t i, k;
	int found;

	put(f, person_json, 1);
	put(f, event_json, 2);
	assert_string_equal(one(f, "SELECT sex || ',' || age || ',' || age_group || ',' || child"
	    " || ',' || woman || ',' || governorate || ',' || consent FROM persons"),
	    "female,15,child,1,0,damascus,9");	/* icmp bit 0, wgeid bit 3 */
	assert_string_equal(one(f, "SELECT type || ',' || date || ',' || date_from || ',' ||"
	    " date_to || ',' || precision || ',' || party || ',' || governorate FROM"
	    " person_events"), "arrest,2024-12,2024-12-01,2024-12-31,month,syrian_regime,damascus");
	archive_token(f->a, ptok, "P-1");
	archive_token(f->a, stok, "S-1");
	assert_string_equal(one(f, "SELECT count(*) FROM person_events e JOIN persons p ON"
	    " p.tok = e.person"), "1");
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT site FROM person_events", -1,
		    &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_bytes(st, 0), TOKEN_LEN);
		assert_memory_equal(sqlite3_column_blob(st, 0), stok, TOKEN_LEN);
		sqlite3_finalize(st);
	}
	(void)ptok;
	/* no secret in the packed rows, the bytes that the import keeps and writes */
	for (k = 0; k < 2; k++) {
		doc = json_loads(k == 0 ? person_json : event_json, 0, NULL);
		assert_non_null(doc);
		b.len = 0;
		assert_int_equal(index_row_pack(f->a, doc, &b), 0);
		assert_true(b.len > 0);
		for (i = 0; i < sizeof secrets / sizeof *secrets; i++) {
			found = memmem(b.data, b.len, secrets[i], strlen(secrets[i])) != NULL;
			if (found)
				fail_msg("a packed row holds \"%s\"", secrets[i]);
		}
		json_decref(doc);
	}
	cbuf_free(&b);
}

/* An older revision arriving after a newer one changes nothing; a newer one replaces it. */
static void
test_current_revision(void **state)
{
	struct fixture *f = *state;
	char *older = strdup(event_json), *p;

	put(f, person_json, 1);
	put(f, event_json, 5);
	p = strstr(older, "\"arrest\"");
	memcpy(p, "\"denial\"", 8);
	put(f, older, 3);
	assert_string_equal(one(f, "SELECT type FROM person_events"), "arrest");
	put(f, older, 6);
	assert_string_equal(one(f, "SELECT type FROM person_events"), "denial");
	free(older);
}

/* The report over the tables; an event of a person the index lacks counts for nothing. */
static void
test_report(void **state)
{
	struct fixture *f = *state;
	json_t *r = NULL;

	put(f, person_json, 1);
	put(f, event_json, 2);
	put(f, "{\"kind\": \"person_event\", \"id\": \"E-9\", \"person_id\": \"P-unsynced\","
	    " \"type\": \"arrest\", \"date\": \"2024-12-05\", \"party\": \"isis\"}", 3);
	assert_int_equal(report_detentions_build(&r, f->db, "2024-12-01", "2024-12-31", 90), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "arrests")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "children")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "women")), 0);
	assert_null(json_object_get(json_object_get(r, "by_party"), "isis"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "status_at_end"),
	    "detained")), 1);
	json_decref(r);
	/* half of December: the month-precise arrest is not wholly inside */
	assert_int_equal(report_detentions_build(&r, f->db, "2024-12-01", "2024-12-15", 90), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "arrests")), 0);
	json_decref(r);
	assert_int_equal(report_detentions_build(&r, f->db, "2024-12-31", "2024-12-01", 90),
	    CUSTODY_EINVAL);
	assert_int_equal(report_detentions_build(&r, f->db, "2024-02-30", "2024-12-01", 90),
	    CUSTODY_EINVAL);
}

/*
 * The report's scan over many events of a person (more than its first buffers hold), words
 * of every length, and inquiries (left out by the query, as they decide nothing): Q-1, a man,
 * 40 arrests 2024-03-01.. by five parties, the even ones in two long governorates, the odd
 * ones in none (the person's, homs); Q-2 an inquiry only (no status); Q-3, a woman, an
 * abduction 12-01 then an inquiry 12-20 (detained on 12-31).
 */
static void
test_report_many(void **state)
{
	struct fixture *f = *state;
	char doc[1024], gov[2][301], key[16];
	json_t *r = NULL, *o;
	int i;

	for (i = 0; i < 2; i++) {
		memset(gov[i], 'a' + i, 300);
		gov[i][300] = '\0';
	}
	put(f, "{\"kind\": \"person\", \"id\": \"Q-1\", \"sex\": \"male\", \"age\": 30,"
	    " \"age_group\": \"adult\", \"governorate\": \"homs\"}", 1);
	put(f, "{\"kind\": \"person\", \"id\": \"Q-2\", \"sex\": \"female\", \"age\": 30,"
	    " \"age_group\": \"adult\", \"governorate\": \"hama\"}", 1);
	put(f, "{\"kind\": \"person\", \"id\": \"Q-3\", \"sex\": \"female\", \"age\": 40,"
	    " \"age_group\": \"adult\", \"governorate\": \"idlib\"}", 1);
	for (i = 0; i < 40; i++) {
		snprintf(doc, sizeof doc, "{\"kind\": \"person_event\", \"id\": \"QE-%d\","
		    " \"person_id\": \"Q-1\", \"type\": \"arrest\", \"date\": \"2024-%02d-%02d\","
		    " \"party\": \"party-%d\"%s%s%s}", i, 3 + i / 28, 1 + i % 28, i % 5,
		    i % 2 == 0 ? ", \"governorate\": \"" : "", i % 2 == 0 ? gov[i / 2 % 2] : "",
		    i % 2 == 0 ? "\"" : "");
		put(f, doc, 2);
	}
	put(f, "{\"kind\": \"person_event\", \"id\": \"QI-2\", \"person_id\": \"Q-2\","
	    " \"type\": \"inquiry\", \"date\": \"2024-05-01\"}", 2);
	put(f, "{\"kind\": \"person_event\", \"id\": \"QA-3\", \"person_id\": \"Q-3\","
	    " \"type\": \"abduction\", \"date\": \"2024-12-01\", \"party\": \"sdf\"}", 2);
	put(f, "{\"kind\": \"person_event\", \"id\": \"QI-3\", \"person_id\": \"Q-3\","
	    " \"type\": \"inquiry\", \"date\": \"2024-12-20\"}", 2);

	assert_int_equal(report_detentions_build(&r, f->db, "2024-01-01", "2024-12-31", 90), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "arrests")), 41);
	assert_int_equal(json_integer_value(json_object_get(r, "children")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "women")), 1);
	o = json_object_get(r, "by_party");
	assert_int_equal(json_object_size(o), 6);
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof key, "party-%d", i);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(o, key),
		    "arrests")), 8);
	}
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "sdf"),
	    "women")), 1);
	o = json_object_get(r, "by_governorate");
	assert_int_equal(json_object_size(o), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, gov[0]),
	    "arrests")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, gov[1]),
	    "arrests")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "homs"),
	    "arrests")), 20);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "idlib"),
	    "arrests")), 1);
	o = json_object_get(r, "status_at_end");
	assert_int_equal(json_integer_value(json_object_get(o, "disappeared")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "detained")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "missing")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "released")), 0);
	json_decref(r);
}

static int
count_cb(void *arg, const uint8_t tok[16], const char *office)
{
	(void)tok;
	(void)office;
	++*(int *)arg;
	return 0;
}

/* Person queries: status at a day, party, site, child; bad statuses refused. */
static void
test_query(void **state)
{
	struct fixture *f = *state;
	struct person_filter pf = { 0 };
	uint8_t stok[TOKEN_LEN];
	int n;

	put(f, person_json, 1);
	put(f, event_json, 2);
	pf.status = "detained";
	pf.at = "2024-12-31";
	n = 0;
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), 0);
	assert_int_equal(n, 1);
	pf.at = "2025-03-31";	/* 2024-12-01 is 120 days before */
	n = 0;
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), 0);
	assert_int_equal(n, 0);
	pf.status = "disappeared";
	n = 0;
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), 0);
	assert_int_equal(n, 1);
	memset(&pf, 0, sizeof pf);
	pf.party = "isis";
	n = 0;
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), 0);
	assert_int_equal(n, 0);
	pf.party = "syrian_regime";
	archive_token(f->a, stok, "S-1");
	pf.site = stok;
	pf.child = 1;
	n = 0;
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), 0);
	assert_int_equal(n, 1);
	pf.woman = 1;
	n = 0;
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), 0);
	assert_int_equal(n, 0);
	memset(&pf, 0, sizeof pf);
	pf.status = "vanished";
	pf.at = "2024-12-31";
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), CUSTODY_EINVAL);
	pf.status = "missing";
	pf.at = "2024-13-01";
	assert_int_equal(query_persons(f->db, &pf, 90, count_cb, &n), CUSTODY_EINVAL);
}

/* What query_persons_duplicates reported: a group number per person, by its id. */
struct dups {
	struct fixture	*f;
	const char	*ids[8];
	long		 group[8];	/* -1: in no group */
	size_t		 calls, groups;
};

static int
dups_cb(void *arg, size_t group, const uint8_t tok[16], const char *office)
{
	struct dups *d = arg;
	uint8_t t[TOKEN_LEN];
	size_t i;

	assert_string_equal(office, "office-a");
	for (i = 0; i < 8 && d->ids[i] != NULL; i++) {
		archive_token(d->f->a, t, d->ids[i]);
		if (memcmp(t, tok, TOKEN_LEN) == 0) {
			assert_int_equal(d->group[i], -1);	/* once */
			d->group[i] = (long)group;
		}
	}
	if (group + 1 > d->groups)
		d->groups = group + 1;
	d->calls++;
	return 0;
}

static void
dups_run(struct fixture *f, struct dups *d)
{
	size_t i;

	d->f = f;
	d->calls = d->groups = 0;
	for (i = 0; i < 8; i++)
		d->group[i] = -1;
	assert_int_equal(query_persons_duplicates(f->db, dups_cb, d), 0);
}

/*
 * Duplicates among persons: the same normalised name and governorate with the same age or
 * the same birth year; sharing either joins, through a third person too; a new revision moves
 * a person out.
 */
static void
test_duplicates(void **state)
{
	struct fixture *f = *state;
	struct dups d = { .ids = { "A", "B", "C", "D", "E", "F", "G", "H" } };

	put(f, "{\"kind\": \"person\", \"id\": \"A\", \"name\": \"Omar Haddad\", \"age\": 30,"
	    " \"governorate\": \"aleppo\"}", 1);
	put(f, "{\"kind\": \"person\", \"id\": \"B\", \"name\": \" omar  HADDAD\", \"age\": 30,"
	    " \"birth_year\": 1994, \"governorate\": \"aleppo\"}", 2);
	put(f, "{\"kind\": \"person\", \"id\": \"C\", \"name\": \"Omar Haddad\","
	    " \"birth_year\": 1994, \"governorate\": \"aleppo\"}", 3);
	put(f, "{\"kind\": \"person\", \"id\": \"D\", \"name\": \"Omar Haddad\", \"age\": 30,"
	    " \"governorate\": \"idlib\"}", 4);
	put(f, "{\"kind\": \"person\", \"id\": \"E\", \"name\": \"Sara Ali\", \"age\": 20,"
	    " \"governorate\": \"homs\"}", 5);
	put(f, "{\"kind\": \"person\", \"id\": \"F\", \"name\": \"S\u00e1ra Ali\", \"age\": 20,"
	    " \"governorate\": \"homs\"}", 6);
	put(f, "{\"kind\": \"person\", \"id\": \"G\", \"age\": 20, \"governorate\": \"homs\"}", 7);
	put(f, "{\"kind\": \"person\", \"id\": \"H\", \"name\": \"Sara Ali\", \"age\": 20}", 8);
	dups_run(f, &d);
	assert_int_equal(d.groups, 2);
	assert_int_equal(d.calls, 5);
	assert_true(d.group[0] >= 0);
	assert_int_equal(d.group[1], d.group[0]);	/* A and B by age */
	assert_int_equal(d.group[2], d.group[0]);	/* C with B by birth year, so with A */
	assert_int_equal(d.group[3], -1);		/* another governorate */
	assert_true(d.group[4] >= 0 && d.group[4] != d.group[0]);
	assert_int_equal(d.group[5], d.group[4]);	/* the accent is normalised away */
	assert_int_equal(d.group[6], -1);		/* no name */
	assert_int_equal(d.group[7], -1);		/* no governorate */

	/* B corrected: another age and birth year; A and C no longer meet */
	put(f, "{\"kind\": \"person\", \"id\": \"B\", \"name\": \"Omar Haddad\", \"age\": 31,"
	    " \"birth_year\": 1993, \"governorate\": \"aleppo\"}", 9);
	dups_run(f, &d);
	assert_int_equal(d.groups, 1);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.group[0], -1);
	assert_int_equal(d.group[1], -1);
	assert_int_equal(d.group[2], -1);
	assert_int_equal(d.group[4], 0);
	assert_int_equal(d.group[5], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_revision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup_dataset, teardown),
		cmocka_unit_test_setup_teardown(test_report_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
