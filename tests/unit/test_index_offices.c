/*
 * The index names offices by small ids given in the order it hears of them, but which of two
 * revisions of one record at the same clock is current is decided by their offices' keys, as
 * every office decides it. Here the office heard of first has the higher key and the one heard
 * of second the lower: its revision, at the same clock, must change nothing (a tie-break on
 * the ids would make it current) in the victims, incidents and persons rows, the evidence's
 * sites, and what index_record_office and index_current_chash return; a later clock still
 * wins whatever its key. Then an index made by schema 11 (office keys as text) is derived
 * again, once, when it is opened.
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

#include "index-fixture.h"

#define HIGH "f000000000000000000000000000000000000000000000000000000000000001"
#define LOW  "0000000000000000000000000000000000000000000000000000000000000002"

/* Index doc (JSON text) as office's revision at lamport, in a transaction of its own. */
static void
put(struct fixture *f, const char *office, int64_t lamport, const char *text)
{
	assert_int_equal(index_exec(f->db, "BEGIN IMMEDIATE", ""), 0);
	fixture_put(f, office, lamport, text);
	assert_int_equal(index_exec(f->db, "COMMIT", ""), 0);
}

/* The text of the first column of the first row of sql with id's token bound, or "". */
static const char *
one(struct fixture *f, const char *sql, const char *id)
{
	static char buf[256];
	uint8_t tok[TOKEN_LEN];
	sqlite3_stmt *st;

	buf[0] = '\0';
	archive_token(f->a, tok, id);
	assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* The office index_record_office and index_current_chash name for id, which must agree. */
static const char *
current(struct fixture *f, const char *id, const char *text_of_current)
{
	static char office[65];
	char other[65], kind[16];
	uint8_t tok[TOKEN_LEN], chash[TOKEN_LEN], want[TOKEN_LEN];
	json_t *doc = json_loads(text_of_current, 0, NULL);

	assert_non_null(doc);
	record_content_hash(f->a, doc, want);
	json_decref(doc);
	assert_int_equal(index_record_office(f->a, id, office), 0);
	archive_token(f->a, tok, id);
	assert_int_equal(index_current_chash(f->a, tok, chash, other, kind), 0);
	assert_string_equal(other, office);
	assert_memory_equal(chash, want, TOKEN_LEN);
	return office;
}

static const char v_high[] = "{\"kind\": \"victim\", \"id\": \"V-1\", \"date_documented\":"
    " \"2024-01-02\", \"sex\": \"female\", \"governorate\": \"aleppo\"}";
static const char v_low[] = "{\"kind\": \"victim\", \"id\": \"V-1\", \"date_documented\":"
    " \"2024-01-02\", \"sex\": \"female\", \"governorate\": \"idlib\"}";
static const char v_later[] = "{\"kind\": \"victim\", \"id\": \"V-1\", \"date_documented\":"
    " \"2024-01-02\", \"sex\": \"female\", \"governorate\": \"homs\"}";
static const char i_high[] = "{\"kind\": \"incident\", \"id\": \"I-1\", \"date\":"
    " \"2024-01-01\", \"governorate\": \"aleppo\"}";
static const char i_low[] = "{\"kind\": \"incident\", \"id\": \"I-1\", \"date\":"
    " \"2024-01-01\", \"governorate\": \"idlib\"}";
static const char p_high[] = "{\"kind\": \"person\", \"id\": \"P-1\", \"sex\": \"male\","
    " \"governorate\": \"aleppo\"}";
static const char p_low[] = "{\"kind\": \"person\", \"id\": \"P-1\", \"sex\": \"male\","
    " \"governorate\": \"idlib\"}";
static const char e_high[] = "{\"kind\": \"evidence\", \"id\": \"E-1\", \"size\": 10,"
    " \"media_type\": \"text/plain\", \"sites\": [\"S-1\"]}";
static const char e_low[] = "{\"kind\": \"evidence\", \"id\": \"E-1\", \"size\": 10,"
    " \"media_type\": \"text/plain\", \"sites\": [\"S-2\"]}";

static void
test_tie_by_key(void **state)
{
	struct fixture *f = *state;
	uint64_t ev[2], pe[2];
	const char *sites[] = { "S-1", "S-2" };

	/* HIGH is heard of first: the lower id */
	put(f, HIGH, 5, v_high);
	put(f, HIGH, 5, i_high);
	put(f, HIGH, 5, p_high);
	put(f, HIGH, 5, e_high);
	put(f, LOW, 5, v_low);
	put(f, LOW, 5, i_low);
	put(f, LOW, 5, p_low);
	put(f, LOW, 5, e_low);
	assert_string_equal(one(f, "SELECT id FROM offices WHERE key='" HIGH "'", ""), "1");
	assert_string_equal(one(f, "SELECT id FROM offices WHERE key='" LOW "'", ""), "2");

	assert_string_equal(one(f, "SELECT governorate FROM victims WHERE tok=?", "V-1"),
	    "aleppo");
	assert_string_equal(one(f, "SELECT " INDEX_OFFICE_KEY("office") " FROM victims WHERE"
	    " tok=?", "V-1"), HIGH);
	assert_string_equal(one(f, "SELECT governorate FROM incidents WHERE tok=?", "I-1"),
	    "aleppo");
	assert_string_equal(one(f, "SELECT governorate FROM persons WHERE tok=?", "P-1"),
	    "aleppo");
	assert_string_equal(current(f, "V-1", v_high), HIGH);
	assert_string_equal(current(f, "I-1", i_high), HIGH);
	assert_string_equal(current(f, "E-1", e_high), HIGH);
	assert_int_equal(index_sites_counts(f->a, sites, 2, ev, pe), 0);
	assert_int_equal(ev[0], 1);	/* HIGH's revision links S-1 */
	assert_int_equal(ev[1], 0);

	/* a later clock wins whatever the key */
	put(f, LOW, 6, v_later);
	assert_string_equal(one(f, "SELECT governorate FROM victims WHERE tok=?", "V-1"), "homs");
	assert_string_equal(current(f, "V-1", v_later), LOW);
}

/* An index of schema 11: office keys as text, no offices table. */
static const char schema11[] =
    "DROP TABLE records; DROP TABLE offices; DROP TABLE feeds;"
    "CREATE TABLE feeds(office TEXT PRIMARY KEY, head TEXT NOT NULL, seq INTEGER NOT NULL);"
    "CREATE TABLE records(tok BLOB NOT NULL, office TEXT NOT NULL,"
    "  kind TEXT NOT NULL, lamport INTEGER NOT NULL, chash BLOB NOT NULL,"
    "  seq INTEGER NOT NULL, first_seq INTEGER NOT NULL,"
    "  PRIMARY KEY(tok, office)) WITHOUT ROWID;"
    "INSERT INTO records VALUES(x'00', '" LOW "', 'victim', 1, x'00', 1, 1);"
    "UPDATE meta SET v='11' WHERE k='schema';";

static void
test_schema11_rebuilt(void **state)
{
	struct fixture *f = *state;
	struct feed_commit c;
	json_t *doc = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", "inc-1", "title", "t");
	char office[65];

	assert_int_equal(feed_append(f->a, &c, "put", &doc, 1), 0);
	json_decref(doc);
	assert_int_equal(sqlite3_exec(f->db, schema11, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(index_open(f->a, &(char *){ NULL }), 0);
	assert_int_equal(index_catch_up(f->a, 0), 0);
	assert_string_equal(one(f, "SELECT v FROM meta WHERE k='schema'", ""), "12");
	assert_string_equal(one(f, "SELECT count(*) FROM records", ""), "1");
	assert_string_equal(one(f, "SELECT group_concat(DISTINCT typeof(office)) FROM records",
	    ""), "integer");
	assert_int_equal(index_record_office(f->a, "inc-1", office), 0);
	assert_string_equal(office, f->a->office_hex);
	assert_string_equal(one(f, "SELECT " INDEX_OFFICE_KEY("office") " FROM feeds", ""),
	    f->a->office_hex);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tie_by_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema11_rebuilt, setup_dataset,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
