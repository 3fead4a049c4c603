/*
 * Proofs for dossiers (proto/DOSSIER.md): the commit that wrote a record revision, the tree
 * objects down to it, the encrypted object and its key, the witness records other offices
 * signed about the feed, and the commits linking what they witnessed back to the revision.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/recobj.h"
#include "dossier.h"
#include "handover.h"
#include "log.h"
#include "offices.h"

/* One feed's commit ids by seq, filled from the head down as far as proofs need. */
struct xfeed {
	char		 hex[65];
	uint64_t	 head_seq;
	uint64_t	 low;		/* oids[low..head_seq] are known */
	git_oid		*oids;		/* by seq; [0] unused */
	git_commit	*cursor;	/* the commit at low, to walk further down */
};

static int
proof_git_fail(const char *what)
{
	const git_error *e = git_error_last();

	return custody_fail(CUSTODY_EIO, "%s: %s", what, e != NULL ? e->message : "git error");
}

static struct xfeed *
proof_feed(struct proof_ctx *p, const char *hex)
{
	struct xfeed *f, **nf;
	git_oid head;
	uint64_t seq, lamport, cut;
	size_t i;

	for (i = 0; i < p->nfeeds; i++)
		if (strcmp(p->feeds[i]->hex, hex) == 0)
			return p->feeds[i];
	if (feed_head(p->a, hex, &head, &seq, &lamport) < 0)
		return NULL;
	if ((nf = reallocarray(p->feeds, p->nfeeds + 1, sizeof *nf)) == NULL)
		return NULL;
	p->feeds = nf;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return NULL;
	snprintf(f->hex, sizeof f->hex, "%s", hex);
	if ((f->oids = calloc(seq + 1, sizeof *f->oids)) == NULL) {
		free(f);
		return NULL;
	}
	if (git_commit_lookup(&f->cursor, p->repo, &head) < 0) {
		free(f->oids);
		free(f);
		proof_git_fail("reading a feed head");
		return NULL;
	}
	/* a revoked office's feed ends, for dossiers, at its cut */
	if (feed_cut_back(p->a, hex, &f->cursor, seq) < 0) {
		free(f->oids);
		free(f);
		return NULL;
	}
	if (archive_db(p->a) != NULL && index_cuts_of(archive_db(p->a), hex, &cut) && cut < seq) {
		seq = cut;
		head = *git_commit_id(f->cursor);
	}
	f->head_seq = f->low = seq;
	f->oids[seq] = head;
	p->feeds[p->nfeeds++] = f;
	return f;
}

/* The id of the commit at seq in feed f (walking parents down from the head). */
static int
proof_feed_oid(struct proof_ctx *p, struct xfeed *f, uint64_t seq, git_oid *out)
{
	git_commit *parent;

	if (seq == 0 || seq > f->head_seq)
		return custody_fail(CUSTODY_ENOTFOUND, "feed %.16s has no commit %llu here",
		    f->hex, (unsigned long long)seq);
	while (f->low > seq) {
		if (git_commit_parentcount(f->cursor) != 1 ||
		    git_commit_parent(&parent, f->cursor, 0) < 0)
			return custody_fail(CUSTODY_EIO, "feed %.16s ends before commit %llu",
			    f->hex, (unsigned long long)seq);
		git_commit_free(f->cursor);
		f->cursor = parent;
		f->oids[--f->low] = *git_commit_id(parent);
	}
	*out = f->oids[seq];
	return 0;
}

/* Hand a git object to the writer once: custody/objects/OID.TYPE. */
static int
proof_object(struct proof_ctx *p, const git_oid *oid)
{
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	char name[GIT_OID_HEXSZ + 8];
	const char *type;
	int error;

	git_oid_tostr(name, GIT_OID_HEXSZ + 1, oid);
	if (git_repository_odb(&odb, p->repo) < 0 || git_odb_read(&o, odb, oid) < 0) {
		error = proof_git_fail("reading an object for a proof");
		goto done;
	}
	switch (git_odb_object_type(o)) {
	case GIT_OBJECT_COMMIT: type = "commit"; break;
	case GIT_OBJECT_TREE: type = "tree"; break;
	case GIT_OBJECT_BLOB: type = "blob"; break;
	default:
		error = custody_fail(CUSTODY_EINVAL, "object %s has an unexpected type", name);
		goto done;
	}
	strcat(name, ".");
	strcat(name, type);
	error = 0;
	if (json_object_get(p->objects, name) != NULL)
		goto done;
	if ((error = p->object(p->arg, name, git_odb_object_data(o),
	    git_odb_object_size(o))) == 0)
		json_object_set_new(p->objects, name, json_true());
done:
	git_odb_object_free(o);
	git_odb_free(odb);
	return error;
}

/*
 * The record revision at token tok written by commit seq of feed f: its PROOF (without keys),
 * the record opened, its key and the commit's time.
 */
static int
proof_place(struct proof_ctx *p, struct xfeed *f, uint64_t seq, const char *tok,
    json_t **proof, json_t **doc, uint8_t key[static 32], char when[static 32])
{
	git_commit *c = NULL;
	git_tree *t = NULL, *sub = NULL;
	const git_tree_entry *e;
	git_blob *b = NULL;
	git_oid oid;
	char comp[3][TOKEN_HEX_LEN + 1], coid[GIT_OID_HEXSZ + 1], ooid[GIT_OID_HEXSZ + 1];
	char path[3 * (TOKEN_HEX_LEN + 1) + 16];
	const char *names[4];
	uint64_t cseq, lamport;
	char office[65];
	time_t tm;
	struct tm utc;
	int error, i;

	*proof = *doc = NULL;
	if ((error = proof_feed_oid(p, f, seq, &oid)) < 0)
		return error;
	if (git_commit_lookup(&c, p->repo, &oid) < 0)
		return proof_git_fail("reading a feed commit");
	if (feed_parse_message(git_commit_message(c), &cseq, &lamport, office) < 0 ||
	    cseq != seq || strcmp(office, f->hex) != 0) {
		error = custody_fail(CUSTODY_EIO, "feed %.16s: commit %llu is not where the index "
		    "says (reindex)", f->hex, (unsigned long long)seq);
		goto done;
	}
	if ((error = proof_object(p, &oid)) < 0)
		goto done;
	snprintf(comp[0], sizeof comp[0], "%.2s", tok);
	snprintf(comp[1], sizeof comp[1], "%.2s", tok + 2);
	snprintf(comp[2], sizeof comp[2], "%s", tok);
	names[0] = FEEDFMT_ROOT;
	names[1] = comp[0];
	names[2] = comp[1];
	names[3] = comp[2];
	if (git_commit_tree(&t, c) < 0) {
		error = proof_git_fail("reading a feed tree");
		goto done;
	}
	for (i = 0; i < 4; i++) {
		if ((error = proof_object(p, git_tree_id(t))) < 0)
			goto done;
		if ((e = git_tree_entry_byname(t, names[i])) == NULL) {
			error = custody_fail(CUSTODY_ENOTFOUND, "feed %.16s commit %llu has no "
			    "record %s", f->hex, (unsigned long long)seq, tok);
			goto done;
		}
		if (i == 3)
			break;
		if (git_tree_lookup(&sub, p->repo, git_tree_entry_id(e)) < 0) {
			error = proof_git_fail("reading a feed tree");
			goto done;
		}
		git_tree_free(t);
		t = sub;
		sub = NULL;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&b, p->repo, git_tree_entry_id(e)) < 0) {
		error = custody_fail(CUSTODY_EIO, "record %s is not a readable object", tok);
		goto done;
	}
	if ((error = proof_object(p, git_blob_id(b))) < 0 ||
	    (error = record_open(doc, p->a, tok, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), key)) < 0)
		goto done;
	git_oid_tostr(coid, sizeof coid, &oid);
	git_oid_tostr(ooid, sizeof ooid, git_blob_id(b));
	feedfmt_record_path(path, tok);
	if ((*proof = json_pack("{s:s,s:s,s:I,s:s,s:s}", "feed", f->hex, "commit", coid, "seq",
	    (json_int_t)seq, "path", path, "object", ooid)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	tm = (time_t)git_commit_time(c);
	gmtime_r(&tm, &utc);
	strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &utc);
done:
	if (error < 0) {
		json_decref(*doc);
		*doc = NULL;
		sodium_memzero(key, 32);
	}
	git_blob_free(b);
	git_tree_free(sub);
	git_tree_free(t);
	git_commit_free(c);
	return error;
}

/* The seq of the commit that wrote the current revision of (tok, office), from the index. */
static int
proof_seq(struct archive *a, const uint8_t tok[static TOKEN_LEN], const char *office,
    uint64_t *seq)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	int rc;

	if (db == NULL || (st = index_stmt(db, "SELECT seq FROM records WHERE tok=? AND "
	    "office=" INDEX_OFFICE_ID)) == NULL)
		return custody_fail(CUSTODY_EIO, "index: cannot look up a record");
	sqlite3_bind_blob(st, 1, tok, TOKEN_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, office, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : custody_fail(CUSTODY_ENOTFOUND, "record not in the index");
}

/*
 * One witness: office wit said it held feed f up to wseq. Its proof, if its witness record
 * is here and names a commit of our copy of the feed. 1 when it does not (skipped).
 */
static int
proof_witness(struct proof_ctx *p, struct xfeed *f, const char *wit, uint64_t wseq,
    json_t **out)
{
	char id[160], tok[TOKEN_HEX_LEN + 1], when[32], ours[GIT_OID_HEXSZ + 1], b64[64];
	uint8_t wtok[TOKEN_LEN], key[32];
	json_t *proof = NULL, *doc = NULL;
	struct xfeed *wf;
	const char *head;
	uint64_t seq;
	git_oid oid;
	int error;

	*out = NULL;
	snprintf(id, sizeof id, "witness:%.16s:%s:%llu", wit, f->hex, (unsigned long long)wseq);
	archive_token(p->a, wtok, id);
	hex_encode(tok, wtok, TOKEN_LEN);
	if (proof_seq(p->a, wtok, wit, &seq) < 0 || (wf = proof_feed(p, wit)) == NULL)
		return 1;
	if ((error = proof_place(p, wf, seq, tok, &proof, &doc, key, when)) < 0)
		return error == CUSTODY_ENOTFOUND ? 1 : error;
	/* a witness record holds nothing secret: its key goes in the proof */
	sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof key);
	json_object_set_new(proof, "record_key", json_string(b64));
	head = json_string_value(json_object_get(doc, "head"));
	if (strcmp(record_kind(doc), "witness") != 0 || head == NULL ||
	    proof_feed_oid(p, f, wseq, &oid) < 0) {
		error = 1;
		goto done;
	}
	git_oid_tostr(ours, sizeof ours, &oid);
	if (strcmp(ours, head) != 0) {
		log_warn("witness %s names commit %s, not ours at seq %llu: left out of dossiers",
		    id, head, (unsigned long long)wseq);
		error = 1;
		goto done;
	}
	error = 0;
	if ((*out = json_pack("{s:s,s:I,s:s,s:s,s:O}", "office", wit, "seq", (json_int_t)wseq,
	    "commit", head, "time", json_string_value(json_object_get(doc, "time")) ?: "",
	    "proof", proof)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	json_decref(proof);
	json_decref(doc);
	return error;
}

/* Is the office whose key is hex one of the n admitted offices in v? */
static int
proof_admitted(const struct office *v, size_t n, const char *hex)
{
	uint8_t pk[ED25519_PK_LEN];
	size_t i;

	if (strlen(hex) != 2 * ED25519_PK_LEN || hex_decode(pk, sizeof pk, hex) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0)
			return 1;
	return 0;
}

int
proof_build(struct proof_ctx *p, const char *office_hex, const uint8_t tok[static TOKEN_LEN],
    json_t **proof, json_t **doc, uint8_t record_key[static 32], json_t **commits,
    json_t **witnesses, char when[static 32])
{
	char tokhex[TOKEN_HEX_LEN + 1], oid[GIT_OID_HEXSZ + 1];
	sqlite3 *db = archive_db(p->a);
	sqlite3_stmt *st = NULL;
	struct xfeed *f;
	struct office *admitted = NULL;
	size_t nadmitted = 0;
	uint64_t seq, top, s;
	json_t *w;
	git_oid id;
	int error, rc;

	*proof = *doc = *commits = *witnesses = NULL;
	hex_encode(tokhex, tok, TOKEN_LEN);
	if ((error = proof_seq(p->a, tok, office_hex, &seq)) < 0)
		return error;
	if ((f = proof_feed(p, office_hex)) == NULL)
		return custody_fail(CUSTODY_EIO, "feed %.16s cannot be read", office_hex);
	if ((error = proof_place(p, f, seq, tokhex, proof, doc, record_key, when)) < 0)
		return error;
	*commits = json_array();
	*witnesses = json_array();
	if (*commits == NULL || *witnesses == NULL || db == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	/* the earliest witness of each other admitted office covering this revision */
	if ((error = offices_list(p->a, &admitted, &nadmitted)) < 0)
		goto done;
	if ((st = index_stmt(db, "SELECT " INDEX_OFFICE_KEY("witness") ", min(seq) FROM"
	    " witnesses WHERE feed=" INDEX_OFFICE_ID " AND seq>=? AND witness<>" INDEX_OFFICE_ID
	    " GROUP BY witness ORDER BY 2, 1")) == NULL) {
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(st, 1, office_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	sqlite3_bind_text(st, 3, office_hex, -1, SQLITE_STATIC);
	top = seq;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t wseq = (uint64_t)sqlite3_column_int64(st, 1);
		char wit[65];

		snprintf(wit, sizeof wit, "%s", (const char *)sqlite3_column_text(st, 0));
		if (!proof_admitted(admitted, nadmitted, wit))
			continue;
		if ((error = proof_witness(p, f, wit, wseq, &w)) < 0)
			goto done;
		if (error > 0)
			continue;
		json_array_append_new(*witnesses, w);
		if (wseq > top)
			top = wseq;
	}
	error = 0;
	for (s = top; s >= seq && s > 0; s--) {
		if ((error = proof_feed_oid(p, f, s, &id)) < 0 ||
		    (error = proof_object(p, &id)) < 0)
			goto done;
		git_oid_tostr(oid, sizeof oid, &id);
		json_array_append_new(*commits, json_string(oid));
	}
done:
	if (st != NULL)
		sqlite3_reset(st);
	free(admitted);
	if (error < 0) {
		json_decref(*proof);
		json_decref(*doc);
		json_decref(*commits);
		json_decref(*witnesses);
		*proof = *doc = *commits = *witnesses = NULL;
		sodium_memzero(record_key, 32);
	}
	return error;
}

int
proof_handover(struct proof_ctx *p, const char *office_hex, uint64_t seq,
    const uint8_t from[static ED25519_PK_LEN], const uint8_t to[static ED25519_PK_LEN],
    json_t **proof)
{
	char id[ID_MAX + 1], tokhex[TOKEN_HEX_LEN + 1], when[32], hex[2 * ED25519_PK_LEN + 1];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	uint8_t key[32];
	struct xfeed *f;
	json_t *doc = NULL;
	int error;

	*proof = NULL;
	handover_id(id, to);
	archive_token_hex(p->a, tokhex, id);
	if ((f = proof_feed(p, office_hex)) == NULL)
		return custody_fail(CUSTODY_EIO, "feed %.16s cannot be read", office_hex);
	if ((error = proof_place(p, f, seq, tokhex, proof, &doc, key, when)) < 0)
		return error;
	sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof key);
	error = json_object_set_new(*proof, "record_key", json_string(b64));
	hex_encode(hex, from, ED25519_PK_LEN);
	error |= json_object_set_new(*proof, "from", json_string(hex));
	hex_encode(hex, to, ED25519_PK_LEN);
	error |= json_object_set_new(*proof, "to", json_string(hex));
	json_decref(doc);
	if (error != 0) {
		json_decref(*proof);
		*proof = NULL;
		return CUSTODY_ENOMEM;
	}
	return 0;
}

void
proof_free(struct proof_ctx *p)
{
	size_t i;

	for (i = 0; i < p->nfeeds; i++) {
		git_commit_free(p->feeds[i]->cursor);
		free(p->feeds[i]->oids);
		free(p->feeds[i]);
	}
	free(p->feeds);
	p->feeds = NULL;
	p->nfeeds = 0;
}
