/*
 * The casualty part of the index: a row per victim and per incident, the current revision
 * only (the highest lamport clock, then the highest office key: every office picks the same).
 * What a query or a report needs, as vocabulary words, dates and keyed tokens; never a name,
 * an area, notes or any other free text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "offices.h"

#define CAT_MEDICAL 1
#define CAT_CIVIL_DEFENSE 2
#define CAT_MEDIA 4

static const char *
field(const json_t *doc, const char *name)
{
	return json_string_value(json_object_get(doc, name));
}

/* The categories array as a bitmask. */
static int64_t
index_categories(const json_t *doc)
{
	json_t *v;
	size_t i;
	int64_t bits = 0;

	json_array_foreach(json_object_get(doc, "categories"), i, v) {
		if (json_string_value(v) == NULL)
			continue;
		if (strcmp(json_string_value(v), "medical") == 0)
			bits |= CAT_MEDICAL;
		else if (strcmp(json_string_value(v), "civil_defense") == 0)
			bits |= CAT_CIVIL_DEFENSE;
		else if (strcmp(json_string_value(v), "media") == 0)
			bits |= CAT_MEDIA;
	}
	return bits;
}

/* The row of one victim revision, if it is the current one. */
static int
index_put_victim(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    const char *office, int64_t lamport, json_t *doc)
{
	const char *sex = field(doc, "sex") ?: "unknown", *group = field(doc, "age_group") ?:
	    "unknown", *death = field(doc, "date_of_death"), *name = field(doc, "name");
	json_t *age = json_object_get(doc, "age");
	uint8_t itok[TOKEN_LEN], ntok[TOKEN_LEN], dtok[TOKEN_LEN];
	struct cdate d = { 0 };
	int have_death = death != NULL && cdate_parse(&d, death) == 0, child, woman;
	int64_t agev = json_integer_value(age);
	char *norm = NULL, *dup = NULL;
	int error;

	child = (json_is_integer(age) && json_integer_value(age) < 18) ||
	    strcmp(group, "child") == 0;
	woman = !child && strcmp(sex, "female") == 0 && strcmp(group, "adult") == 0;
	if (field(doc, "incident_id") != NULL)
		archive_token(a, itok, field(doc, "incident_id"));
	if (name != NULL && (norm = name_normalize(name)) != NULL && norm[0] != '\0') {
		record_name_token(a, "name", norm, ntok);
		if (have_death && field(doc, "governorate") != NULL &&
		    asprintf(&dup, "%s%c%s%c%s", norm, 0, death, 0, field(doc, "governorate")) >=
		    0) {
			/* the NULs separate the parts; hash the whole buffer */
			crypto_generichash_state h;
			size_t len = strlen(norm) + 1 + strlen(death) + 1 +
			    strlen(field(doc, "governorate"));

			crypto_generichash_init(&h, a->token_key, 32, TOKEN_LEN);
			crypto_generichash_update(&h, (const uint8_t *)"dup", 4);
			crypto_generichash_update(&h, (const uint8_t *)dup, len);
			crypto_generichash_final(&h, dtok, TOKEN_LEN);
		}
	}
	error = index_exec(db, "INSERT INTO victims VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT(tok) DO UPDATE SET office=excluded.office, lamport=excluded.lamport,"
	    " documented=excluded.documented, death=excluded.death,"
	    " death_from=excluded.death_from, death_to=excluded.death_to, sex=excluded.sex,"
	    " age=excluded.age, age_group=excluded.age_group, status=excluded.status,"
	    " child=excluded.child, woman=excluded.woman, categories=excluded.categories,"
	    " governorate=excluded.governorate, party=excluded.party, cause=excluded.cause,"
	    " incident=excluded.incident, name_tok=excluded.name_tok, dup_tok=excluded.dup_tok"
	    " WHERE (excluded.lamport, excluded.office) >= (victims.lamport, victims.office)",
	    "btitTTTtIttiiiTTTBBB", tok, office, lamport, field(doc, "date_documented") ?: "",
	    have_death ? death : NULL, have_death ? d.first : NULL, have_death ? d.last : NULL,
	    sex, json_is_integer(age) ? &agev : NULL, group,
	    field(doc, "status") ?: "civilian", (int64_t)child, (int64_t)woman,
	    index_categories(doc), field(doc, "governorate"), field(doc, "party"),
	    field(doc, "cause"), field(doc, "incident_id") != NULL ? itok : NULL,
	    norm != NULL && norm[0] != '\0' ? ntok : NULL, dup != NULL ? dtok : NULL);
	if (norm != NULL) {
		sodium_memzero(norm, strlen(norm));
		free(norm);
	}
	free(dup);
	return error;
}

/* The row of one incident revision, if it is the current one. */
static int
index_put_incident(sqlite3 *db, const uint8_t tok[static TOKEN_LEN], const char *office,
    int64_t lamport, json_t *doc)
{
	return index_exec(db, "INSERT INTO incidents VALUES(?,?,?,?,?,?,?)"
	    " ON CONFLICT(tok) DO UPDATE SET office=excluded.office, lamport=excluded.lamport,"
	    " date=excluded.date, governorate=excluded.governorate, party=excluded.party,"
	    " type=excluded.type"
	    " WHERE (excluded.lamport, excluded.office) >= (incidents.lamport, incidents.office)",
	    "btiTTTT", tok, office, lamport, field(doc, "date"), field(doc, "governorate"),
	    field(doc, "party"), field(doc, "type"));
}

/* Index a victim or incident revision. */
int
index_put_casualty(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    const char *office, int64_t lamport, json_t *doc)
{
	if (strcmp(record_kind(doc), "victim") == 0)
		return index_put_victim(a, db, tok, office, lamport, doc);
	return index_put_incident(db, tok, office, lamport, doc);
}

/* The content hash, office and kind of a record's current revision; ENOTFOUND if none. */
int
index_current_chash(struct archive *a, const uint8_t tok[static TOKEN_LEN],
    uint8_t chash[static TOKEN_LEN], char office_hex[65], char kind[16])
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	int rc;

	if (db == NULL)
		return CUSTODY_EIO;
	if ((st = index_stmt(db, "SELECT chash, office, kind FROM records WHERE tok=?"
	    " ORDER BY lamport DESC, office DESC LIMIT 1")) == NULL)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == TOKEN_LEN)
			memcpy(chash, sqlite3_column_blob(st, 0), TOKEN_LEN);
		snprintf(office_hex, 65, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? CUSTODY_ENOTFOUND : custody_fail(CUSTODY_EIO, "index: %s",
	    sqlite3_errmsg(db));
}

/* Is hex (a feed key) one of the n admitted offices in v? */
static int
index_witness_admitted(const struct office *v, size_t n, const char *hex)
{
	uint8_t pk[ED25519_PK_LEN];
	size_t i;

	if (hex == NULL || strlen(hex) != 2 * ED25519_PK_LEN || hex_decode(pk, sizeof pk, hex) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0)
			return 1;
	return 0;
}

/*
 * The offices that witnessed a record: the admitted offices whose witness records cover the
 * commit that first wrote it in its office's feed. A JSON array of {"office": key hex, "time", "seq"}.
 */
int
index_witnesses(struct archive *a, const char *id, json_t **out)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st = NULL, *w = NULL;
	uint8_t tok[TOKEN_LEN];
	struct office *admitted = NULL;
	size_t nadmitted = 0;
	char office[65];
	int64_t first;
	int rc, error = 0;

	*out = json_array();
	if (db == NULL || *out == NULL)
		return CUSTODY_EIO;
	archive_token(a, tok, id);
	if ((st = index_stmt(db, "SELECT office, first_seq FROM records WHERE tok=?"
	    " ORDER BY first_seq, office LIMIT 1")) == NULL ||
	    (w = index_stmt(db, "SELECT witness, min(time), min(seq) FROM witnesses"
	    " WHERE feed=? AND seq>=? GROUP BY witness ORDER BY 2")) == NULL)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	if ((error = offices_list(a, &admitted, &nadmitted)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(office, sizeof office, "%s", (const char *)sqlite3_column_text(st, 0));
		first = sqlite3_column_int64(st, 1);
		sqlite3_bind_text(w, 1, office, -1, SQLITE_STATIC);
		sqlite3_bind_int64(w, 2, first);
		while ((rc = sqlite3_step(w)) == SQLITE_ROW)
			if (index_witness_admitted(admitted, nadmitted,
			    (const char *)sqlite3_column_text(w, 0)))
				json_array_append_new(*out, json_pack("{s:s,s:s,s:I}", "office",
				    (const char *)sqlite3_column_text(w, 0), "time",
				    (const char *)sqlite3_column_text(w, 1), "seq",
				    (json_int_t)sqlite3_column_int64(w, 2)));
		if (rc != SQLITE_DONE)
			error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	}
	sqlite3_reset(w);
	sqlite3_reset(st);
	free(admitted);
	return error;
}

#define INDEX_SCAN_STEPS 8	/* rows stepped over before a seek instead */

/*
 * The current revisions of many records asked in the order of their tokens (an import): one
 * statement walks the records table in key order, stepping to the next token asked when it is
 * near and seeking it when it is far, so a load into a small index costs a few steps per
 * record and a small load into a large index a seek per record. The caller holds the index's
 * write transaction (nothing else writes it), and what it writes itself lies behind the scan.
 */
struct index_scan {
	sqlite3_stmt	*st;
	int		 row;		/* st is on a row */
	int		 end;		/* no row at or past the last token asked */
};

int
index_scan_new(struct archive *a, struct index_scan **out)
{
	sqlite3 *db = archive_db(a);

	*out = NULL;
	if (db == NULL)
		return CUSTODY_EIO;
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return CUSTODY_ENOMEM;
	if (sqlite3_prepare_v2(db, "SELECT tok, office, kind, lamport, chash FROM records"
	    " WHERE tok >= ? ORDER BY tok, office", -1, &(*out)->st, NULL) != SQLITE_OK) {
		free(*out);
		*out = NULL;
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	}
	return 0;
}

static int
index_scan_step(struct index_scan *s)
{
	int rc = sqlite3_step(s->st);

	s->row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(sqlite3_db_handle(s->st)));
}

/* The row's token against tok. */
static int
index_scan_cmp(struct index_scan *s, const uint8_t tok[static TOKEN_LEN])
{
	const void *t = sqlite3_column_blob(s->st, 0);
	int n = sqlite3_column_bytes(s->st, 0), c;

	c = memcmp(t, tok, (size_t)(n < TOKEN_LEN ? n : TOKEN_LEN));
	return c != 0 ? c : n - TOKEN_LEN;
}

/* As index_current_chash; each tok past the one asked before. */
int
index_scan_current(struct index_scan *s, const uint8_t tok[static TOKEN_LEN],
    uint8_t chash[static TOKEN_LEN], char office_hex[65], char kind[16])
{
	int64_t best = -1, l;
	int i, error, found = 0;
	const char *o;

	if (s->end)
		return CUSTODY_ENOTFOUND;	/* past the last token, which asks go beyond */
	for (i = 0; s->row && i < INDEX_SCAN_STEPS && index_scan_cmp(s, tok) < 0; i++)
		if ((error = index_scan_step(s)) < 0)
			return error;
	if (!s->row || i == INDEX_SCAN_STEPS) {
		/* far, or not started: seek */
		sqlite3_reset(s->st);
		sqlite3_bind_blob(s->st, 1, tok, TOKEN_LEN, SQLITE_TRANSIENT);
		if ((error = index_scan_step(s)) < 0)
			return error;
		s->end = !s->row;
	}
	for (; s->row && index_scan_cmp(s, tok) == 0; ) {
		l = sqlite3_column_int64(s->st, 3);
		o = (const char *)sqlite3_column_text(s->st, 1);
		if (o != NULL && (l > best || (l == best && strcmp(o, office_hex) > 0))) {
			best = l;
			snprintf(office_hex, 65, "%s", o);
			snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(s->st, 2));
			if (sqlite3_column_bytes(s->st, 4) == TOKEN_LEN)
				memcpy(chash, sqlite3_column_blob(s->st, 4), TOKEN_LEN);
			found = 1;
		}
		if ((error = index_scan_step(s)) < 0)
			return error;
	}
	return found ? 0 : CUSTODY_ENOTFOUND;
}

/* Let go of the statement (before other statements change the schema); the next ask seeks. */
void
index_scan_pause(struct index_scan *s)
{
	sqlite3_reset(s->st);
	s->row = 0;
}

void
index_scan_free(struct index_scan *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}
