/*
 * The index's schema and its connection: the tables, indexes and triggers (a version bump
 * rebuilds an index made by another), opening it, and the prepared statements every part of
 * the index runs (index_exec).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "index-int.h"

#define INDEX_SCHEMA_VERSION "12"

const char index_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    /*
     * Every office key (hex) the index names, as a small integer: the office, feed and
     * witness columns below hold these ids, a few bytes in each row and index entry instead
     * of 64. Ids follow arrival, so an order between offices (the tie-break between two
     * revisions at one clock) compares their keys (INDEX_OFFICE_KEY), never their ids.
     */
    "CREATE TABLE IF NOT EXISTS offices(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS feeds(office INTEGER PRIMARY KEY, head TEXT NOT NULL,"
    "  seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS records(tok BLOB NOT NULL, office INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, lamport INTEGER NOT NULL, chash BLOB NOT NULL,"
    "  seq INTEGER NOT NULL, first_seq INTEGER NOT NULL,"
    "  PRIMARY KEY(tok, office)) WITHOUT ROWID;"
    /* feed (an office id) witnessed up to seq by office witness at time (ISO 8601) */
    "CREATE TABLE IF NOT EXISTS witnesses(feed INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  witness INTEGER NOT NULL, time TEXT NOT NULL, PRIMARY KEY(feed, witness, seq))"
    "  WITHOUT ROWID;"
    /* (no index on lamport: every query by clock asks for one token, the primary key) */
    "CREATE INDEX IF NOT EXISTS records_kind ON records(kind);"
    "CREATE TABLE IF NOT EXISTS evidence(tok BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    "  media_type TEXT NOT NULL) WITHOUT ROWID;"
    /* size: the stored file's bytes (custody/blobfmt.h), from the evidence record */
    "CREATE TABLE IF NOT EXISTS blobs(name TEXT PRIMARY KEY, size INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    /*
     * The current revision of every victim, for queries and reports. Dates are text:
     * documented YYYY-MM-DD; death as given (YYYY, YYYY-MM or YYYY-MM-DD, NULL unknown) and
     * the first and last day it may be (death_from, death_to). categories: bit 0 medical,
     * 1 civil_defense, 2 media. child and woman as the report defines them (0/1). incident,
     * name_tok and dup_tok are keyed tokens, never names.
     */
    "CREATE TABLE IF NOT EXISTS victims(tok BLOB PRIMARY KEY, office INTEGER NOT NULL,"
    "  lamport INTEGER NOT NULL, documented TEXT NOT NULL, death TEXT, death_from TEXT,"
    "  death_to TEXT, sex TEXT NOT NULL, age INTEGER, age_group TEXT NOT NULL,"
    "  status TEXT NOT NULL, child INTEGER NOT NULL, woman INTEGER NOT NULL,"
    "  categories INTEGER NOT NULL, governorate TEXT, party TEXT, cause TEXT,"
    "  incident BLOB, name_tok BLOB, dup_tok BLOB) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS victims_documented ON victims(status, documented, party,"
    "  governorate, cause, child, woman, categories, incident);"
    "CREATE INDEX IF NOT EXISTS victims_death ON victims(status, death_from, death_to, party,"
    "  governorate, cause, child, woman, categories, incident);"
    "CREATE INDEX IF NOT EXISTS victims_dup ON victims(dup_tok);"
    "CREATE INDEX IF NOT EXISTS victims_incident ON victims(incident);"
    "CREATE TABLE IF NOT EXISTS incidents(tok BLOB PRIMARY KEY, office INTEGER NOT NULL,"
    "  lamport INTEGER NOT NULL, date TEXT, governorate TEXT, party TEXT, type TEXT)"
    "  WITHOUT ROWID;"
    /*
     * The current revision of every missing or detained person and of every person event,
     * for the detention report, statuses and cases. Persons: sex, age, age group, child and
     * woman (as persons.h decides them), governorate, consent (bit i: consent class i of
     * record_consent_classes). Events: the person's and the site's keyed tokens, type (a
     * word), the date as given and the first and last day it may be, precision (day, month,
     * year), party and governorate. Never a name, a contact, an area, notes, a source, an
     * ante-mortem field or a coordinate. A person's dup_age and dup_birth are keyed tokens of
     * its normalised name and governorate with its age, or its birth year (duplicates).
     */
    "CREATE TABLE IF NOT EXISTS persons(tok BLOB PRIMARY KEY, office INTEGER NOT NULL,"
    "  lamport INTEGER NOT NULL, sex TEXT NOT NULL, age INTEGER, age_group TEXT NOT NULL,"
    "  child INTEGER NOT NULL, woman INTEGER NOT NULL, governorate TEXT,"
    "  consent INTEGER NOT NULL, dup_age BLOB, dup_birth BLOB) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS persons_dup_age ON persons(dup_age);"
    "CREATE INDEX IF NOT EXISTS persons_dup_birth ON persons(dup_birth);"
    "CREATE TABLE IF NOT EXISTS person_events(tok BLOB PRIMARY KEY, office INTEGER NOT NULL,"
    "  lamport INTEGER NOT NULL, person BLOB NOT NULL, type TEXT NOT NULL, date TEXT NOT NULL,"
    "  date_from TEXT NOT NULL, date_to TEXT NOT NULL, precision TEXT NOT NULL, party TEXT,"
    "  governorate TEXT, site BLOB) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS person_events_person ON person_events(person, date_from,"
    "  type, date, party, governorate);"
    "CREATE INDEX IF NOT EXISTS person_events_site ON person_events(site);"
    /* the sites the current revision of each evidence record is linked to (index-sites.c) */
    "CREATE TABLE IF NOT EXISTS evidence_sites(tok BLOB NOT NULL, site BLOB NOT NULL,"
    "  PRIMARY KEY(site, tok)) WITHOUT ROWID;"
    /*
     * Custody events in causal order (index-events.c): clock, time (ISO 8601), token, feed
     * and action word; event_items the keyed tokens of what each names. Never an actor, a
     * file name or an evidence hash.
     */
    "CREATE TABLE IF NOT EXISTS events(lamport INTEGER NOT NULL, time TEXT NOT NULL,"
    "  tok BLOB NOT NULL, office INTEGER NOT NULL, action TEXT NOT NULL,"
    "  PRIMARY KEY(lamport, time, tok)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS event_items(item BLOB NOT NULL, lamport INTEGER NOT NULL,"
    "  time TEXT NOT NULL, tok BLOB NOT NULL, office INTEGER NOT NULL,"
    "  PRIMARY KEY(item, lamport, time, tok)) WITHOUT ROWID;"
    /*
     * The figures status shows, kept as rows come and go (index-counts.c): records rows,
     * evidence rows, blobs named and their stored bytes.
     */
    "CREATE TABLE IF NOT EXISTS counts(k TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO counts VALUES('records', 0), ('evidence', 0), ('blobs', 0),"
    "  ('blob_bytes', 0);"
    "CREATE TRIGGER IF NOT EXISTS records_in AFTER INSERT ON records BEGIN"
    "  UPDATE counts SET n=n+1 WHERE k='records'; END;"
    "CREATE TRIGGER IF NOT EXISTS records_out AFTER DELETE ON records BEGIN"
    "  UPDATE counts SET n=n-1 WHERE k='records'; END;"
    "CREATE TRIGGER IF NOT EXISTS evidence_in AFTER INSERT ON evidence BEGIN"
    "  UPDATE counts SET n=n+1 WHERE k='evidence'; END;"
    "CREATE TRIGGER IF NOT EXISTS evidence_out AFTER DELETE ON evidence BEGIN"
    "  UPDATE counts SET n=n-1 WHERE k='evidence'; END;"
    "CREATE TRIGGER IF NOT EXISTS blobs_in AFTER INSERT ON blobs BEGIN"
    "  UPDATE counts SET n=n+1 WHERE k='blobs';"
    "  UPDATE counts SET n=n+new.size WHERE k='blob_bytes'; END;"
    "CREATE TRIGGER IF NOT EXISTS blobs_out AFTER DELETE ON blobs BEGIN"
    "  UPDATE counts SET n=n-1 WHERE k='blobs';"
    "  UPDATE counts SET n=n-old.size WHERE k='blob_bytes'; END;";

/*
 * Emptied for a rebuild, after index_secondary_drop: the secondary indexes and the counting
 * triggers come back with the counts when the rebuild ends (index_rebuilt).
 */
const char index_empty[] =
    "DELETE FROM records; DELETE FROM evidence; DELETE FROM blobs; DELETE FROM victims;"
    "DELETE FROM incidents; DELETE FROM witnesses; DELETE FROM events;"
    "DELETE FROM event_items; DELETE FROM feeds; DELETE FROM persons;"
    "DELETE FROM person_events; DELETE FROM evidence_sites; UPDATE counts SET n=0;";

/*
 * The secondary indexes of records and victims, and the counting triggers (index_schema
 * creates them); index_recount sets the counts again after a load made without them.
 */
const char index_secondary_drop[] =
    "DROP INDEX IF EXISTS records_kind; DROP INDEX IF EXISTS records_lamport;"
    "DROP INDEX IF EXISTS victims_documented; DROP INDEX IF EXISTS victims_death;"
    "DROP INDEX IF EXISTS victims_dup; DROP INDEX IF EXISTS victims_incident;"
    "DROP INDEX IF EXISTS person_events_person; DROP INDEX IF EXISTS person_events_site;"
    "DROP INDEX IF EXISTS persons_dup_age; DROP INDEX IF EXISTS persons_dup_birth;"
    "DROP TRIGGER IF EXISTS records_in; DROP TRIGGER IF EXISTS records_out;"
    "DROP TRIGGER IF EXISTS evidence_in; DROP TRIGGER IF EXISTS evidence_out;"
    "DROP TRIGGER IF EXISTS blobs_in; DROP TRIGGER IF EXISTS blobs_out;";

const char index_recount[] =
    "UPDATE counts SET n=(SELECT count(*) FROM records) WHERE k='records';"
    "UPDATE counts SET n=(SELECT count(*) FROM evidence) WHERE k='evidence';"
    "UPDATE counts SET n=(SELECT count(*) FROM blobs) WHERE k='blobs';"
    "UPDATE counts SET n=(SELECT coalesce(sum(size), 0) FROM blobs) WHERE k='blob_bytes';";

static const char index_drop[] =
    "DROP TABLE IF EXISTS feeds; DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS evidence;"
    "DROP TABLE IF EXISTS blobs; DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS victims;"
    "DROP TABLE IF EXISTS incidents; DROP TABLE IF EXISTS witnesses;"
    "DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS event_items;"
    "DROP TABLE IF EXISTS counts; DROP TABLE IF EXISTS persons;"
    "DROP TABLE IF EXISTS person_events; DROP TABLE IF EXISTS evidence_sites;"
    "DROP TABLE IF EXISTS offices;";

int
index_fail(sqlite3 *db, const char *what)
{
	return custody_fail(CUSTODY_EIO, "index: %s: %s", what, sqlite3_errmsg(db));
}

/*
 * The id of an office key (hex) in the offices table, made if new. An id made inside a
 * transaction goes with it if it is rolled back: keep it no longer than the transaction.
 */
int
index_office_id(sqlite3 *db, const char *office, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if ((rc = index_exec(db, "INSERT OR IGNORE INTO offices(key) VALUES(?)", "t", office)) < 0)
		return rc;
	if ((st = index_stmt(db, "SELECT id FROM offices WHERE key=?")) == NULL)
		return index_fail(db, "prepare");
	sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : index_fail(db, "office id");
}

/* Whether the index was made by another version (it is then rebuilt from the feeds). */
static int
index_schema_stale(sqlite3 *db)
{
	sqlite3_stmt *st;
	int stale = 0;

	if (sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k='schema'", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;	/* no meta table: a new index */
	if (sqlite3_step(st) == SQLITE_ROW)
		stale = strcmp((const char *)sqlite3_column_text(st, 0), INDEX_SCHEMA_VERSION) != 0;
	sqlite3_finalize(st);
	return stale;
}

/* The connection's prepared statement for sql (looked up by text), or NULL. */
sqlite3_stmt *
index_stmt(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	while ((st = sqlite3_next_stmt(db, st)) != NULL)
		if (strcmp(sqlite3_sql(st), sql) == 0 && !sqlite3_stmt_busy(st))
			return st;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

/* Whether the counting triggers are there (index_import_begin may drop them for a load). */
int
index_counting(sqlite3 *db)
{
	sqlite3_stmt *st;
	int found;

	if ((st = index_stmt(db, "SELECT 1 FROM sqlite_master WHERE type='trigger' AND"
	    " name='records_in'")) == NULL)
		return 0;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/*
 * Whether the index holds rows but not the counting triggers: a rebuild (which drops them,
 * index_catch_up_pass) was cut short, and the counts are behind the rows.
 */
static int
index_uncounted(sqlite3 *db)
{
	sqlite3_stmt *st;
	int tables = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND"
	    " name='counts'", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		tables = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return tables > 0 && !index_counting(db);
}

/* Create the schema if needed. */
int
index_open(struct archive *a, char **cause)
{
	sqlite3 *db;
	char *err = NULL;
	int error;

	if ((error = archive_index_memory(a, cause)) < 0)
		return error;
	if ((db = archive_db(a)) == NULL) {
		custody_cause(cause, "%s", custody_error());
		return CUSTODY_EIO;
	}
	if (index_schema_stale(db) && sqlite3_exec(db, index_drop, NULL, NULL, &err) != SQLITE_OK) {
		custody_cause(cause, "cannot reset the index: %s", err ? err : "?");
		sqlite3_free(err);
		return CUSTODY_EIO;
	}
	/* a rebuild cut short: count what it wrote without the triggers, then make them */
	if (index_uncounted(db) && (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) !=
	    SQLITE_OK || sqlite3_exec(db, index_recount, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, index_schema, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)) {
		custody_cause(cause, "cannot count the index again: %s", err ? err : "?");
		sqlite3_free(err);
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return CUSTODY_EIO;
	}
	if (sqlite3_exec(db, index_schema, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, "INSERT OR IGNORE INTO meta VALUES('schema', '"
	    INDEX_SCHEMA_VERSION "')", NULL, NULL, &err) != SQLITE_OK) {
		custody_cause(cause, "cannot set up the index: %s", err ? err : "?");
		sqlite3_free(err);
		return CUSTODY_EIO;
	}
	return 0;
}

/*
 * Run one statement with parameters: "t" text, "T" text or NULL, "b" token blob, "B" token blob
 * or NULL, "i" int64, "I" pointer to int64 or NULL, "n" NULL. Statements are prepared once per
 * connection and kept (sqlite3_prepare_v3 PERSISTENT): an import runs the same few statements
 * hundreds of thousands of times. Values are bound without a copy (SQLITE_STATIC): the
 * caller's stay valid until the statement has run and its bindings are cleared, below.
 */
int
index_exec(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	const char *t;
	int i, rc;

	if ((st = index_stmt(db, sql)) == NULL)
		return index_fail(db, "prepare");
	va_start(ap, types);
	for (i = 0; types[i] != '\0'; i++) {
		switch (types[i]) {
		case 't':
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'T':
			if ((t = va_arg(ap, const char *)) != NULL)
				sqlite3_bind_text(st, i + 1, t, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		case 'b':
			sqlite3_bind_blob(st, i + 1, va_arg(ap, const uint8_t *), TOKEN_LEN,
			    SQLITE_STATIC);
			break;
		case 'B': {
			const uint8_t *b = va_arg(ap, const uint8_t *);

			if (b != NULL)
				sqlite3_bind_blob(st, i + 1, b, TOKEN_LEN, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		}
		case 'n':
			sqlite3_bind_null(st, i + 1);
			break;
		case 'I': {
			const int64_t *v = va_arg(ap, const int64_t *);

			if (v != NULL)
				sqlite3_bind_int64(st, i + 1, *v);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		}
		default:
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : index_fail(db, "write");
}
