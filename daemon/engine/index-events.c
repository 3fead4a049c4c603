/*
 * The custody events of the index: a row per event record (its clock, time, action and feed)
 * and a row per item it names (evidence, a file of an ingest batch, an incident, a record an
 * extract carried), so that `custody audit` pages through them in order and finds those about
 * one item without opening every event. Items are keyed tokens, never an evidence hash or an
 * id; who acted and what the event says stay in the encrypted record, opened only for the page
 * asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "index-int.h"

/* One item an event names, as a keyed token. */
static int
index_events_item(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, const char *time, const char *id)
{
	uint8_t item[TOKEN_LEN];

	if (id == NULL || *id == '\0')
		return 0;
	archive_token(a, item, id);
	return index_exec(db, "INSERT OR IGNORE INTO event_items VALUES(?,?,?,?,?)", "bitbi",
	    item, lamport, time, tok, office);
}

/* Index a custody event revision: its row and the items it names (service_event_about's). */
int
index_events_put(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, json_t *doc)
{
	char time[INDEX_EVENT_TIME_LEN];
	const char *action = json_string_value(json_object_get(doc, "action")) ?: "";
	const char *s;
	json_t *v;
	size_t i;
	int error;

	/* bounded, so that a page's cursor always holds the whole of it */
	snprintf(time, sizeof time, "%s", json_string_value(json_object_get(doc, "time")) ?: "");
	if ((error = index_exec(db, "INSERT OR IGNORE INTO events VALUES(?,?,?,?,?)", "itbit",
	    lamport, time, tok, office, action)) < 0)
		return error;
	if ((error = index_events_item(a, db, tok, office, lamport, time,
	    json_string_value(json_object_get(doc, "evidence")))) < 0 ||
	    (error = index_events_item(a, db, tok, office, lamport, time,
	    json_string_value(json_object_get(doc, "incident")))) < 0)
		return error;
	json_array_foreach(json_object_get(doc, "files"), i, v)	/* an ingest batch */
		if ((error = index_events_item(a, db, tok, office, lamport, time,
		    json_string_value(json_object_get(v, "evidence")))) < 0)
			return error;
	json_array_foreach(json_object_get(doc, "items"), i, v)	/* an extract: "kind:id" */
		if ((s = json_string_value(v)) != NULL && (s = strchr(s, ':')) != NULL &&
		    (error = index_events_item(a, db, tok, office, lamport, time, s + 1)) < 0)
			return error;
	return 0;
}

/*
 * The next events in causal order (clock, time, token) past *at, at most max: each given to
 * fn with its feed and token (hex). id NULL: every event; else those naming id. at is moved
 * to the last event given; *more says whether more may follow. fn returning 1 stops early
 * (the page is full) without error, that event not given.
 */
int
index_events_page(struct archive *a, const char *id, struct index_event_at *at, size_t max,
    int (*fn)(void *, const char *office, const char *tok), void *arg, int *more)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	uint8_t item[TOKEN_LEN];
	char hex[TOKEN_HEX_LEN + 1];
	size_t n = 0;
	int rc, error = 0, r;

	*more = 0;
	if (db == NULL)
		return CUSTODY_EIO;
	if (id == NULL)
		st = index_stmt(db, "SELECT lamport, time, tok, " INDEX_OFFICE_KEY("office")
		    " FROM events"
		    " WHERE (lamport, time, tok) > (?, ?, ?) ORDER BY lamport, time, tok");
	else
		st = index_stmt(db, "SELECT lamport, time, tok, " INDEX_OFFICE_KEY("office")
		    " FROM event_items"
		    " WHERE item=? AND (lamport, time, tok) > (?, ?, ?)"
		    " ORDER BY lamport, time, tok");
	if (st == NULL)
		return index_fail(db, "events");
	r = 1;
	if (id != NULL) {
		archive_token(a, item, id);
		sqlite3_bind_blob(st, r++, item, TOKEN_LEN, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, r++, at->lamport);
	sqlite3_bind_text(st, r++, at->time, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, r++, at->tok, TOKEN_LEN, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == max) {
			*more = 1;
			break;
		}
		if (sqlite3_column_bytes(st, 2) != TOKEN_LEN || sqlite3_column_text(st, 3) == NULL)
			continue;
		hex_encode(hex, sqlite3_column_blob(st, 2), TOKEN_LEN);
		if ((r = fn(arg, (const char *)sqlite3_column_text(st, 3), hex)) < 0) {
			error = r;
			break;
		}
		if (r == 1) {
			*more = 1;
			break;
		}
		at->lamport = sqlite3_column_int64(st, 0);
		snprintf(at->time, sizeof at->time, "%s", (const char *)sqlite3_column_text(st, 1));
		memcpy(at->tok, sqlite3_column_blob(st, 2), TOKEN_LEN);
		n++;
	}
	if (error == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = index_fail(db, "events");
	sqlite3_reset(st);
	return error;
}
