/*
 * The index: a SQLite file derived from the feeds, rebuilt at will. It holds keyed tokens,
 * kinds, counts and sizes; never a name, a file name, free text or an evidence hash.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "custody/blobfmt.h"
#include "custody/trailers.h"
#include "epochs.h"
#include "index-int.h"
#include "log.h"

struct apply_ctx {
	struct archive	*a;
	sqlite3		*db;
	git_repository	*repo;
	const char	*office;
	int64_t		 office_id;	/* its id in the index (index_office_id) */
	uint64_t	 seq;		/* of the commit being indexed */
	uint64_t	 lamport;	/* its clock: every record it writes carries it (sync-verify.c) */
	int		 error;
};

/*
 * The highest commit ever indexed of a feed, in meta as "maxseq:OFFICE". It never goes down,
 * not even when the index is rebuilt, so that a feed cut back is still noticed (verify).
 */
int
index_note_seq(sqlite3 *db, const char *office, uint64_t seq)
{
	char k[80];

	snprintf(k, sizeof k, "maxseq:%s", office);
	return index_exec(db, "INSERT INTO meta VALUES(?, ?) ON CONFLICT(k) DO UPDATE SET "
	    "v = max(CAST(v AS INTEGER), CAST(excluded.v AS INTEGER))", "ti", k, (int64_t)seq);
}

/* The bytes of an evidence record's stored blob, padded as blobs are written now. */
static int64_t
index_blob_stored(const json_t *doc)
{
	uint64_t size = (uint64_t)json_integer_value(json_object_get(doc, "size"));
	uint64_t p = blobfmt_payload(size);

	return (int64_t)(p == 0 ? 0 : blobfmt_stored(p));
}

/*
 * Put one decrypted record in the index, at the clock of the signed commit that wrote it (the
 * Custody-Lamport trailer, which its rev.lamport must equal). Clocks are unsigned but never past
 * CUSTODY_LAMPORT_MAX (INT64_MAX), so they keep their order as SQLite's signed integers; a
 * larger one (a commit taken before clocks were bounded; custody verify reports it) is held at
 * that maximum rather than turning negative.
 */
int
index_put_hashed(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN],
    const char *office, int64_t office_id, uint64_t seq, uint64_t clock, json_t *doc,
    const uint8_t chash[static TOKEN_LEN])
{
	const char *kind = record_kind(doc);
	int64_t lamport = (int64_t)(clock < CUSTODY_LAMPORT_MAX ? clock : CUSTODY_LAMPORT_MAX);
	int64_t feed;
	int error;

	error = index_exec(db, INDEX_RECORDS_PUT, "bitibii", tok, office_id, kind, lamport, chash,
	    (int64_t)seq, (int64_t)seq);
	if (error == 0 && strcmp(kind, "witness") == 0 &&
	    json_string_value(json_object_get(doc, "feed")) != NULL &&
	    (error = index_office_id(db, json_string_value(json_object_get(doc, "feed")),
	    &feed)) == 0)
		error = index_exec(db, "INSERT OR IGNORE INTO witnesses VALUES(?,?,?,?)", "iiit",
		    feed, (int64_t)json_integer_value(json_object_get(doc, "seq")), office_id,
		    json_string_value(json_object_get(doc, "time")) ?: "");
	if (error == 0 && strcmp(kind, "evidence") == 0)
		error = index_exec(db, "INSERT INTO evidence VALUES(?,?,?) ON CONFLICT(tok) DO UPDATE"
		    " SET size=excluded.size, media_type=excluded.media_type", "bit",
		    tok, (int64_t)json_integer_value(json_object_get(doc, "size")),
		    json_string_value(json_object_get(doc, "media_type")) ?: "");
	if (error == 0 && strcmp(kind, "evidence") == 0 &&
	    json_string_value(json_object_get(doc, "blob")) != NULL)
		error = index_exec(db, "INSERT OR IGNORE INTO blobs VALUES(?,?)", "ti",
		    json_string_value(json_object_get(doc, "blob")), index_blob_stored(doc));
	if (error == 0 && strcmp(kind, "evidence") == 0)
		error = index_sites_put(a, db, tok, office_id, lamport, doc);
	if (error == 0 && (strcmp(kind, "victim") == 0 || strcmp(kind, "incident") == 0 ||
	    strcmp(kind, "person") == 0 || strcmp(kind, "person_event") == 0))
		error = index_put_casualty(a, db, tok, office_id, lamport, doc);
	if (error == 0 && strcmp(kind, "event") == 0)
		error = index_events_put(a, db, tok, office_id, lamport, doc);
	if (error == 0 && strcmp(kind, "epoch") == 0)
		epochs_indexed(a, office, seq, doc);	/* the data key it announces */
	return error;
}

/* index_put_hashed, the content hash computed here. */
static int
index_put(struct archive *a, sqlite3 *db, const uint8_t tok[static TOKEN_LEN], const char *office,
    int64_t office_id, uint64_t seq, uint64_t clock, json_t *doc)
{
	uint8_t chash[TOKEN_LEN];

	record_content_hash(a, doc, chash);
	return index_put_hashed(a, db, tok, office, office_id, seq, clock, doc, chash);
}

/* Index one record object found at records/.../TOKEN. */
static int
index_record(struct apply_ctx *ctx, const char *name, const git_oid *oid)
{
	uint8_t tok[TOKEN_LEN];
	git_blob *b = NULL;
	json_t *doc = NULL;
	int error;

	if (strlen(name) != TOKEN_HEX_LEN || hex_decode(tok, TOKEN_LEN, name) < 0)
		return 0;	/* not a record entry */
	if (git_blob_lookup(&b, ctx->repo, oid) < 0)
		return custody_fail(CUSTODY_EIO, "index: record %s unreadable", name);
	error = record_open(&doc, ctx->a, name, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), NULL);
	git_blob_free(b);
	if (error < 0)
		return custody_fail(error, "index: record %s: %s", name, custody_error());
	error = index_put(ctx->a, ctx->db, tok, ctx->office, ctx->office_id, ctx->seq,
	    ctx->lamport, doc);
	json_decref(doc);
	return error;
}

static int
index_change_cb(const char *path, const git_oid *id, int is_tree, void *arg)
{
	struct apply_ctx *ctx = arg;
	const char *name;

	if (is_tree || id == NULL)
		return 0;
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if ((ctx->error = index_record(ctx, name, id)) < 0)
		return -1;
	return 0;
}

/*
 * Index what one commit of a feed changed; the caller holds a transaction. A commit past the
 * feed's cut (its office revoked after commit cut) moves the feed's head but adds no record.
 */
static int
index_commit_changes(struct archive *a, sqlite3 *db, const char *office, git_commit *c,
    uint64_t cut)
{
	struct apply_ctx ctx = { a, db, archive_repo(a), office, 0, 0, 0, 0 };
	git_commit *parent = NULL;
	git_tree *old = NULL, *new = NULL;
	char head[GIT_OID_HEXSZ + 1], hex[65];
	uint64_t seq, lamport;
	int error;

	if ((error = feed_parse_message(git_commit_message(c), &seq, &lamport, hex)) < 0)
		return error;
	ctx.seq = seq;
	ctx.lamport = lamport;
	if ((error = index_office_id(db, office, &ctx.office_id)) < 0)
		return error;
	if (git_commit_parentcount(c) > 0 && (git_commit_parent(&parent, c, 0) < 0 ||
	    git_commit_tree(&old, parent) < 0)) {
		error = custody_fail(CUSTODY_EIO, "index: parent of a commit unreadable");
		goto done;
	}
	if (git_commit_tree(&new, c) < 0) {
		error = custody_fail(CUSTODY_EIO, "index: a commit's tree is unreadable");
		goto done;
	}
	if (seq <= cut && feed_tree_changes(ctx.repo, old, new, "", index_change_cb, &ctx) != 0) {
		error = ctx.error < 0 ? ctx.error : CUSTODY_EIO;
		goto done;
	}
	git_oid_tostr(head, sizeof head, git_commit_id(c));
	error = index_exec(db, "INSERT OR REPLACE INTO feeds VALUES(?,?,?)", "iti", ctx.office_id,
	    head, (int64_t)seq);
	if (error == 0)
		error = index_note_seq(db, office, seq);
done:
	git_tree_free(old);
	git_tree_free(new);
	git_commit_free(parent);
	return error;
}

/* The head the index has reached for a feed ("" when none). */
void
index_feed_head(sqlite3 *db, const char *office, char head[GIT_OID_HEXSZ + 1])
{
	sqlite3_stmt *st;

	head[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT head FROM feeds WHERE office=" INDEX_OFFICE_ID, -1, &st,
	    NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(head, GIT_OID_HEXSZ + 1, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/*
 * Index a commit this daemon just appended, from the records it wrote (no need to read them
 * back). If the index had fallen behind, catch up from git instead.
 */
int
index_apply_commit(struct archive *a, const struct feed_commit *fc, json_t **docs, size_t n)
{
	struct feed_docs d = { .docs = docs, .n = n };

	return index_apply_docs(a, fc, &d);
}

int
index_commit_begin(struct index_commit *ic, struct archive *a, const struct feed_commit *fc)
{
	char known[GIT_OID_HEXSZ + 1];
	int error;

	memset(ic, 0, sizeof *ic);
	ic->a = a;
	ic->fc = fc;
	ic->cut = UINT64_MAX;
	if ((ic->db = archive_db(a)) == NULL)
		return ic->error = CUSTODY_EIO;
	index_feed_head(ic->db, a->office_hex, known);
	if (fc->seq > 1 && strcmp(known, fc->parent) != 0) {
		ic->behind = 1;		/* caught up from git at the end */
		return 0;
	}
	index_cuts_of(ic->db, a->office_hex, &ic->cut);
	if ((error = index_exec(ic->db, "BEGIN IMMEDIATE", "")) < 0)
		return ic->error = error;
	ic->open = 1;
	if ((error = index_office_id(ic->db, a->office_hex, &ic->office)) < 0)
		ic->error = error;
	return error;
}

int
index_commit_put(struct index_commit *ic, json_t *doc)
{
	uint8_t tok[TOKEN_LEN];
	int error;

	if (!ic->open || ic->error < 0 || ic->fc->seq > ic->cut)
		return ic->error;
	archive_token(ic->a, tok, record_id(doc));
	if ((error = index_put(ic->a, ic->db, tok, ic->a->office_hex, ic->office, ic->fc->seq,
	    ic->fc->lamport, doc)) < 0)
		return ic->error = error;
	/* what may change which revocations are effective */
	ic->settle |= strcmp(record_kind(doc), "revocation") == 0 ||
	    strcmp(record_kind(doc), "office") == 0 ||
	    strcmp(record_kind(doc), "withdrawal") == 0;
	return 0;
}

int
index_commit_end(struct index_commit *ic, int committed)
{
	char head[GIT_OID_HEXSZ + 1];
	int error = ic->error;

	if (ic->behind)
		return committed ? index_catch_up(ic->a, 0) : 0;
	if (!ic->open)
		return error;
	ic->open = 0;
	if (!committed || error < 0) {
		index_exec(ic->db, "ROLLBACK", "");
		return error;
	}
	git_oid_tostr(head, sizeof head, &ic->fc->oid);
	error = index_exec(ic->db, "INSERT OR REPLACE INTO feeds VALUES(?,?,?)", "iti",
	    ic->office, head, (int64_t)ic->fc->seq);
	if (error == 0)
		error = index_note_seq(ic->db, ic->a->office_hex, ic->fc->seq);
	if (error < 0) {
		index_exec(ic->db, "ROLLBACK", "");
		return error;
	}
	if ((error = index_exec(ic->db, "COMMIT", "")) < 0 || !ic->settle)
		return error;
	if ((error = index_cuts_settle(ic->a)) <= 0)
		return error;
	return index_catch_up(ic->a, 1);
}

/* index_apply_commit, the records from d. */
int
index_apply_docs(struct archive *a, const struct feed_commit *fc, const struct feed_docs *d)
{
	struct index_commit ic;
	json_t *doc;
	size_t i;

	if (index_commit_begin(&ic, a, fc) < 0)
		return index_commit_end(&ic, 0);
	for (i = 0; i < d->n && ic.open && ic.error == 0; i++) {
		if ((doc = feed_docs_get(d, i)) == NULL) {
			ic.error = CUSTODY_ENOMEM;
			break;
		}
		index_commit_put(&ic, doc);
		json_decref(doc);
	}
	return index_commit_end(&ic, 1);
}

/* Bring one feed's part of the index up to its ref. */
static int
index_catch_up_feed(struct archive *a, sqlite3 *db, const char *office, const git_oid *tip,
    int rebuild)
{
	git_repository *repo = archive_repo(a);
	git_commit *c = NULL, *p;
	/* the ids only: a commit object for each would grow with the feed */
	git_oid *chain = NULL, *grown;
	size_t n = 0, cap = 0, i;
	char known[GIT_OID_HEXSZ + 1], hex[GIT_OID_HEXSZ + 1];
	uint64_t cut = UINT64_MAX;
	int error = 0, found = 0;

	index_feed_head(db, office, known);
	index_cuts_of(db, office, &cut);
	git_oid_tostr(hex, sizeof hex, tip);
	if (!rebuild && strcmp(known, hex) == 0)
		return 0;
	if (git_commit_lookup(&c, repo, tip) < 0)
		return custody_fail(CUSTODY_EIO, "index: feed head %s unreadable", hex);
	for (;;) {
		git_oid_tostr(hex, sizeof hex, git_commit_id(c));
		if (!rebuild && strcmp(hex, known) == 0) {
			found = 1;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = reallocarray(chain, cap, sizeof *chain)) == NULL) {
				error = CUSTODY_ENOMEM;
				goto done;
			}
			chain = grown;
		}
		chain[n++] = *git_commit_id(c);
		if (git_commit_parentcount(c) == 0)
			break;
		if (git_commit_parent(&p, c, 0) < 0) {
			error = custody_fail(CUSTODY_EIO, "index: feed history unreadable");
			goto done;
		}
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	c = NULL;
	if (!found && !rebuild && known[0] != '\0') {
		/* the index followed a history that is gone: derive it all again */
		free(chain);
		log_warn("index: feed %.16s moved off the indexed history; rebuilding", office);
		return index_catch_up(a, 1);
	}
	if ((error = index_exec(db, "BEGIN IMMEDIATE", "")) < 0)
		goto done;
	/* a bounded cache, as for an import: a first sync indexes a whole feed in one go */
	sqlite3_exec(db, "PRAGMA cache_size=-" INDEX_IMPORT_CACHE, NULL, NULL, NULL);
	for (i = n; i > 0; i--) {
		if (git_commit_lookup(&c, repo, &chain[i - 1]) < 0) {
			error = custody_fail(CUSTODY_EIO, "index: feed history unreadable");
			goto rollback;
		}
		error = index_commit_changes(a, db, office, c, cut);
		git_commit_free(c);
		c = NULL;
		if (error < 0)
			goto rollback;
	}
	error = index_exec(db, "COMMIT", "");
	log_info("index: %zu commit%s of feed %.16s indexed", n, n == 1 ? "" : "s", office);
	goto cache;
rollback:
	index_exec(db, "ROLLBACK", "");
cache:
	sqlite3_exec(db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);	/* archive.c's */
done:
	git_commit_free(c);
	free(chain);
	return error;
}

/* The end of a rebuild: the counts, the secondary indexes and the counting triggers again. */
static int
index_rebuilt(sqlite3 *db)
{
	int error = 0;

	sqlite3_exec(db, "PRAGMA cache_size=-" INDEX_BUILD_CACHE, NULL, NULL, NULL);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, index_recount, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, index_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		error = index_fail(db, "building the indexes after a rebuild");
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_exec(db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);	/* archive.c's */
	return error;
}

/*
 * Bring the index up to every feed ref, with the cuts it holds. A rebuild derives every table
 * again, witnesses too: a witness record past its office's cut counts for nothing. A feed that
 * fails does not stop the others (the first error is returned): its records may use a data-key
 * epoch that a feed indexed after it announces, and the caller tries it again once that epoch
 * is held.
 */
static int
index_catch_up_pass(struct archive *a, int rebuild)
{
	git_repository *repo = archive_repo(a);
	sqlite3 *db = archive_db(a);
	git_reference_iterator *it = NULL;
	git_reference *ref;
	const char *name;
	int error = 0, r;

	if (repo == NULL || db == NULL)
		return CUSTODY_EIO;
	/*
	 * A rebuild loads every row: the secondary indexes and the counting triggers are dropped
	 * and made again at the end (a sort instead of a random insert per row in each), with a
	 * bounded page cache throughout. Emptying is one transaction; should a crash cut the
	 * load short, index_open counts what it wrote and makes the triggers again.
	 */
	if (rebuild) {
		sqlite3_exec(db, "PRAGMA cache_size=-" INDEX_IMPORT_CACHE, NULL, NULL, NULL);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, index_secondary_drop, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, index_empty, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			error = index_fail(db, "emptying for a rebuild");
			if (!sqlite3_get_autocommit(db))
				sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			sqlite3_exec(db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
			return error;
		}
	}
	if (git_reference_iterator_glob_new(&it, repo, FEEDFMT_REF_GLOB) < 0)
		error = custody_fail(CUSTODY_EIO, "index: cannot list feeds");
	while (it != NULL && git_reference_next(&ref, it) == 0) {
		name = feedfmt_ref_office(git_reference_name(ref));
		if (name != NULL &&
		    git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    (r = index_catch_up_feed(a, db, name, git_reference_target(ref), rebuild)) < 0) {
			if (error == 0)
				error = r;
			else
				log_warn("index: feed %.16s: %s", name, custody_error());
		}
		git_reference_free(ref);
		if (error == CUSTODY_ENOMEM)
			break;
	}
	git_reference_iterator_free(it);
	if (rebuild && (r = index_rebuilt(db)) < 0 && error == 0)
		error = r;
	return error;
}

/* Whether evidence id is in the index. */
int
index_has_evidence(struct archive *a, const char *id, int *found)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	uint8_t tok[TOKEN_LEN];
	int rc;

	*found = 0;
	if (db == NULL)
		return CUSTODY_EIO;
	archive_token(a, tok, id);
	/* asked for every file of an ingest: prepared once per thread's connection */
	if ((st = index_stmt(db, "SELECT 1 FROM evidence WHERE tok=?")) == NULL)
		return index_fail(db, "prepare");
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : index_fail(db, "read");
}

/* The office whose revision of record id is current (highest lamport, then office key). */
int
index_record_office(struct archive *a, const char *id, char office_hex[65])
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	uint8_t tok[TOKEN_LEN];
	int rc;

	if (db == NULL)
		return CUSTODY_EIO;
	archive_token(a, tok, id);
	if (sqlite3_prepare_v2(db, "SELECT " INDEX_OFFICE_KEY("office") " AS k FROM records"
	    " WHERE tok=? ORDER BY lamport DESC, k DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return index_fail(db, "prepare");
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(office_hex, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? custody_fail(CUSTODY_ENOTFOUND, "no such record: %s", id) :
	    index_fail(db, "read");
}

/*
 * Bring the index up to every feed ref (after a crash, a sync, or from nothing). When that
 * makes a revocation effective (or no longer so), derive it all again with the new cuts, so
 * that a revoked office's records past its cut count for nothing: the revision before them,
 * if any, is current again. A few rounds at most (a cut can drop a revocation record).
 */
int
index_catch_up(struct archive *a, int rebuild)
{
	size_t held;
	int error, round, retry = 0;

	for (round = 0; ; round++) {
		held = epochs_count(a);
		if ((error = index_catch_up_pass(a, rebuild)) < 0) {
			/* a feed indexed later brought the epoch an earlier one needed */
			if (epochs_count(a) > held && retry++ < 8) {
				round--;
				continue;
			}
			return error;
		}
		if (round == 4)
			return 0;
		if ((error = index_cuts_settle(a)) < 0) {
			log_warn("index: revocations unreadable: %s", custody_error());
			return 0;
		}
		if (error == 0)
			return 0;
		log_info("index: the effective revocations changed; deriving the index again");
		rebuild = 1;
	}
}
