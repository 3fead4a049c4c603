/*
 * A real archive with its index, and a small hand-made set of victim rows as the indexer
 * writes them, shared by the report and query tests.
 */
#ifndef CUSTODY_INDEX_FIXTURE_H
#define CUSTODY_INDEX_FIXTURE_H

#include "archive-fixture.h"
#include "index-int.h"

struct fixture {
	char		 dir[256];
	char		 path[300];
	struct archive	*a;
	sqlite3		*db;
};

/*
 * One victim row, filled as the indexer fills it: child = 1 iff age < 18 (or, without an age,
 * age group child); woman = 1 iff female, adult and not a child. age -1 is unknown.
 */
struct vrow {
	int		 id;		/* token: id in byte 0 */
	const char	*documented, *death, *death_from, *death_to;
	const char	*sex;
	int		 age;
	const char	*age_group, *status;
	int		 categories;	/* 1 medical, 2 civil_defense, 4 media */
	const char	*governorate, *party, *cause;
	int		 incident;	/* 0 none, else the token's byte 0 */
};

/* Index doc (JSON text) as office's revision at lamport, as the indexer does. */
static inline void
fixture_put(struct fixture *f, const char *office, int64_t lamport, const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);
	uint8_t tok[TOKEN_LEN], chash[TOKEN_LEN];
	int64_t id;

	assert_non_null(doc);
	archive_token(f->a, tok, json_string_value(json_object_get(doc, "id")));
	record_content_hash(f->a, doc, chash);
	assert_int_equal(index_office_id(f->db, office, &id), 0);
	assert_int_equal(index_put_hashed(f->a, f->db, tok, office, id, 1, (uint64_t)lamport,
	    doc, chash), 0);
	json_decref(doc);
}

static void
put_victim(sqlite3 *db, const struct vrow *v)
{
	uint8_t tok[16] = { 0 }, inc[16] = { 0 };
	sqlite3_stmt *st;
	int child, woman;

	child = v->age >= 0 ? v->age < 18 : strcmp(v->age_group, "child") == 0;
	woman = strcmp(v->sex, "female") == 0 && strcmp(v->age_group, "adult") == 0 && !child;
	tok[0] = (uint8_t)v->id;
	tok[15] = 0x76;
	inc[0] = (uint8_t)v->incident;
	inc[15] = 0x69;
	assert_int_equal(sqlite3_exec(db, "INSERT OR IGNORE INTO offices(key) VALUES('office-a'),"
	    " ('office-b')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO victims(tok, office, lamport,"
	    " documented, death, death_from, death_to, sex, age, age_group, status, child, woman,"
	    " categories, governorate, party, cause, incident) VALUES(?1,"
	    " (SELECT id FROM offices WHERE key=?17),1,?2,?3,?4,?5,?6,?7,"
	    "?8,?9,?10,?11,?12,?13,?14,?15,?16)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, tok, 16, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 17, v->id == 7 ? "office-b" : "office-a", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->documented, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->death, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, v->death_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, v->death_to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, v->sex, -1, SQLITE_STATIC);
	if (v->age >= 0)
		sqlite3_bind_int(st, 7, v->age);
	sqlite3_bind_text(st, 8, v->age_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, v->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, child);
	sqlite3_bind_int(st, 11, woman);
	sqlite3_bind_int(st, 12, v->categories);
	sqlite3_bind_text(st, 13, v->governorate, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, v->party, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, v->cause, -1, SQLITE_STATIC);
	if (v->incident)
		sqlite3_bind_blob(st, 16, inc, 16, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void
put_incident(sqlite3 *db, int id, const char *party)
{
	uint8_t inc[16] = { 0 };
	sqlite3_stmt *st;

	inc[0] = (uint8_t)id;
	inc[15] = 0x69;
	assert_int_equal(sqlite3_exec(db, "INSERT OR IGNORE INTO offices(key) VALUES('office-a')",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO incidents(tok, office, lamport,"
	    " date, governorate, party, type) VALUES(?, (SELECT id FROM offices WHERE"
	    " key='office-a'), 1, '2024-12-01', 'aleppo', ?, 'shelling')", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_blob(st, 1, inc, 16, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, party, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/*
 * The main dataset. Incident 1 belongs to party regime; incident 2 is not in the incidents
 * table. v6 is a combatant; v7 is documented in 2025, v8 in November.
 */
static const struct vrow dataset[] = {
	/* a girl of 10: a child, not a woman */
	{ 1, "2024-12-03", "2024-12-01", "2024-12-01", "2024-12-01", "female", 10, "child",
	    "civilian", 0, "aleppo", "regime", "torture", 1 },
	/* a woman whose age group is unknown: neither child nor woman */
	{ 2, "2024-12-05", "2024-12-02", "2024-12-02", "2024-12-02", "female", -1, "unknown",
	    "civilian", 1, "aleppo", "regime", "shelling", 1 },
	/* an adult woman, no party, died in November (month precision) */
	{ 3, "2024-12-10", "2024-11", "2024-11-01", "2024-11-30", "female", 30, "adult",
	    "civilian", 4, "idlib", NULL, "torture", 1 },
	/* a man known to have died in 2024 only, medical and civil defence */
	{ 4, "2024-12-10", "2024", "2024-01-01", "2024-12-31", "male", 40, "adult",
	    "civilian", 3, "idlib", "russia", "airstrike", 1 },
	/* a boy of group child without an age, no death date, no governorate */
	{ 5, "2024-12-31", NULL, NULL, NULL, "male", -1, "child", "civilian", 0, NULL,
	    "russia", NULL, 1 },
	/* a combatant: excluded, and not counted towards incident 1's massacre */
	{ 6, "2024-12-15", "2024-12-14", "2024-12-14", "2024-12-14", "male", 25, "adult",
	    "combatant", 0, "aleppo", "regime", "shooting", 1 },
	/* died in December, documented in January 2025 */
	{ 7, "2025-01-02", "2024-12-30", "2024-12-30", "2024-12-30", "female", 25, "adult",
	    "civilian", 0, "damascus", "regime", "torture", 2 },
	/* a boy of 17 documented on the last day of November, died in December */
	{ 8, "2024-11-30", "2024-12-20", "2024-12-20", "2024-12-20", "male", 17, "child",
	    "civilian", 0, "aleppo", "sdf", "shooting", 0 },
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	archive_fixture_dir(f->dir, sizeof f->dir, "/tmp/custody-index.XXXXXX");
	archive_fixture_open(&f->a, f->path, sizeof f->path, f->dir, "arch", "test", 0);
	assert_int_equal(index_open(f->a, &cause), 0);
	assert_non_null(f->db = archive_db(f->a));
	*state = f;
	return 0;
}

static int
setup_dataset(void **state)
{
	struct fixture *f;
	size_t i;

	setup(state);
	f = *state;
	for (i = 0; i < sizeof dataset / sizeof *dataset; i++)
		put_victim(f->db, &dataset[i]);
	put_incident(f->db, 1, "regime");
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	return archive_fixture_close(f, f->a, f->dir);
}

#endif
