/*
 * custody verify: every feed commit's signature, sequence, clock and parent link; every git
 * object's hash; every record's authenticity, place and revision stamp (its commit's clock and
 * office); every evidence blob against its record.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "epochs.h"
#include "handover.h"
#include "custody/trailers.h"
#include "offices.h"
#include "revocations.h"

#define VERIFY_MAX_LISTED 1000
#define VERIFY_BLOB_SLOTS (1 << 16)	/* of the blob cache: 1.25 MiB whatever the archive */

struct verify_ctx {
	struct archive		*a;
	git_repository		*repo;
	struct verify_result	*res;
	git_oid			*blobs;		/* evidence blobs checked lately, by their */
						/* first bytes (VERIFY_BLOB_SLOTS) */
	const char		*office;	/* the feed being walked */
	uint64_t		 lamport;	/* the clock of the commit being walked, */
	int			 have_lamport;	/* when its trailers parse */
	int			 error;		/* allocation failure */
};

/* Note one broken thing. */
static void __attribute__((format(printf, 3, 4)))
verify_problem(struct verify_ctx *v, const char *item, const char *fmt, ...)
{
	struct verify_result *r = v->res;
	struct verify_problem *p;
	va_list ap;

	r->nproblems++;
	if (r->nproblems > VERIFY_MAX_LISTED)
		return;
	if ((p = reallocarray(r->problems, r->nproblems, sizeof *p)) == NULL) {
		v->error = CUSTODY_ENOMEM;
		r->nproblems--;
		return;
	}
	r->problems = p;
	p = &r->problems[r->nproblems - 1];
	p->item = strdup(item);
	va_start(ap, fmt);
	if (vasprintf(&p->problem, fmt, ap) < 0)
		p->problem = NULL;
	va_end(ap);
}

/*
 * Whether a blob was checked lately; if not, it is noted as checked. The cache holds the last
 * blob of each of VERIFY_BLOB_SLOTS slots (the name is a hash: its first bytes are uniform), so
 * that memory stays the same whatever the number of blobs: a blob named again by a record after
 * its slot was taken is checked again, which costs time and changes no verdict.
 */
static int
verify_blob_checked(struct verify_ctx *v, const git_oid *o)
{
	uint32_t slot;

	if (v->blobs == NULL && (v->blobs = calloc(VERIFY_BLOB_SLOTS, sizeof *v->blobs)) == NULL) {
		v->error = CUSTODY_ENOMEM;
		return 0;
	}
	memcpy(&slot, o->id, sizeof slot);
	slot &= VERIFY_BLOB_SLOTS - 1;
	if (git_oid_equal(&v->blobs[slot], o))
		return 1;
	v->blobs[slot] = *o;
	return 0;
}

/* Check an evidence record's blob: present, named by its hash, opens, plaintext matches. */
static void
verify_evidence(struct verify_ctx *v, json_t *doc)
{
	const char *blob = json_string_value(json_object_get(doc, "blob"));
	const char *sha = json_string_value(json_object_get(doc, "sha256"));
	const char *wrapped = json_string_value(json_object_get(doc, "key"));
	json_int_t size = json_integer_value(json_object_get(doc, "size"));
	uint8_t raw[WRAPPED_KEY_LEN + 4], key[32], psum[SHA256_LEN], csum[SHA256_LEN], name[32];
	char item[128], hex[SHA256_HEX_LEN + 1], ad[96];
	git_oid o;
	uint64_t got;
	size_t rawlen;

	if (blob == NULL || sha == NULL || wrapped == NULL || !hex_is_lower(blob, 64) ||
	    !hex_is_lower(sha, 64)) {
		snprintf(item, sizeof item, "record evidence/%s", record_id(doc));
		verify_problem(v, item, "evidence record lacks blob, sha256 or key");
		return;
	}
	hex_decode(name, sizeof name, blob);
	memcpy(o.id, name, sizeof o.id);
	if (verify_blob_checked(v, &o))
		return;
	v->res->blobs++;
	snprintf(item, sizeof item, "blob %s (evidence %s)", blob, sha);
	snprintf(ad, sizeof ad, "custody blob key %s", sha);
	if (sodium_base642bin(raw, sizeof raw, wrapped, strlen(wrapped), NULL, &rawlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    epochs_unwrap(v->a, key, raw, rawlen, ad) < 0) {
		verify_problem(v, item, "the wrapped file key does not open");
		return;
	}
	if (blob_decrypt(v->a, blob, key, -1, psum, &got, csum) < 0) {
		verify_problem(v, item, "%s", custody_error());
		goto done;
	}
	hex_encode(hex, csum, SHA256_LEN);
	if (strcmp(hex, blob) != 0)
		verify_problem(v, item, "stored bytes hash to %s, not to the blob's name", hex);
	hex_encode(hex, psum, SHA256_LEN);
	if (strcmp(hex, sha) != 0)
		verify_problem(v, item, "decrypted content hashes to %s, not %s", hex, sha);
	if ((json_int_t)got != size)
		verify_problem(v, item, "decrypted size %" PRIu64 " differs from the record's %lld",
		    got, (long long)size);
done:
	sodium_memzero(key, sizeof key);
}

/*
 * Whether a record's revision stamp is the commit's that first holds it at its place (each
 * commit's tree is compared with its parent's, verify_tree_diff): rev.lamport its clock,
 * rev.office its feed. Every office orders revisions by that stamp.
 */
static int
verify_rev(struct verify_ctx *v, json_t *doc)
{
	json_t *rev = json_object_get(doc, "rev"), *l = json_object_get(rev, "lamport");
	const char *office = json_string_value(json_object_get(rev, "office"));

	if (!v->have_lamport)
		return 1;	/* the commit is reported already */
	return json_is_integer(l) && json_integer_value(l) >= 0 &&
	    (uint64_t)json_integer_value(l) == v->lamport && office != NULL &&
	    strcmp(office, v->office) == 0;
}

/*
 * Check one entry that a commit's tree holds and its parent's did not hold at that place. The
 * return says whether to compare what a tree entry holds: a tree where a tree may stand.
 */
static int
verify_entry(struct verify_ctx *v, const char *root, const git_tree_entry *e)
{
	const char *name = git_tree_entry_name(e);
	int is_tree = git_tree_entry_type(e) == GIT_OBJECT_TREE;
	char item[256], tok[TOKEN_HEX_LEN + 1], oidhex[GIT_OID_HEXSZ + 1];
	git_blob *b = NULL;
	json_t *doc = NULL;

	git_oid_tostr(oidhex, sizeof oidhex, git_tree_entry_id(e));
	snprintf(item, sizeof item, "%s %s%s (object %s)", is_tree ? "tree" : "record", root,
	    name, oidhex);
	if (!feedfmt_entry_ok(root, name, is_tree) ||
	    (!is_tree && git_tree_entry_type(e) != GIT_OBJECT_BLOB)) {
		verify_problem(v, item, "unexpected entry in the feed tree");
		return 0;
	}
	if (is_tree)
		return 1;
	v->res->records++;
	if (git_blob_lookup(&b, v->repo, git_tree_entry_id(e)) < 0) {
		verify_problem(v, item, "object missing or corrupt");
		return 0;
	}
	if (record_open(&doc, v->a, name, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b),
	    NULL) < 0) {
		verify_problem(v, item, "%s", custody_error());
		goto done;
	}
	archive_token_hex(v->a, tok, record_id(doc));
	if (strcmp(tok, name) != 0)
		verify_problem(v, item, "holds record %s, which belongs at another path",
		    record_id(doc));
	else if (!verify_rev(v, doc))
		verify_problem(v, item, "its revision stamp (rev.lamport, rev.office) is not its "
		    "commit's (clock %" PRIu64 ", feed %.16s)", v->lamport, v->office);
	else if (strcmp(record_kind(doc), "evidence") == 0)
		verify_evidence(v, doc);
done:
	json_decref(doc);
	git_blob_free(b);
	return 0;
}

/*
 * Check what tree new holds at root that old (its parent commit's tree at the same place, or
 * NULL) did not: an entry with the same name and id as old's was checked with the commit that
 * first held it there; any other is checked now, and a tree is compared with old's tree of that
 * name. Entries are looked up by name rather than merged in order, so that a tree sorted wrong
 * can only cause more checks, never fewer. Memory follows the depth of the tree (four levels
 * where entries may stand), not the size of the feed.
 */
static void
verify_tree_diff(struct verify_ctx *v, git_tree *old, git_tree *new, const char *root)
{
	const git_tree_entry *o, *n;
	git_tree *os, *ns;
	char path[32], item[96], oidhex[GIT_OID_HEXSZ + 1];
	size_t i, nn = git_tree_entrycount(new);

	for (i = 0; i < nn && v->error == 0; i++) {
		n = git_tree_entry_byindex(new, i);
		o = old != NULL ? git_tree_entry_byname(old, git_tree_entry_name(n)) : NULL;
		if (o != NULL && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n)) &&
		    git_tree_entry_type(o) == git_tree_entry_type(n))
			continue;
		if (!verify_entry(v, root, n))
			continue;
		/* a tree where one may stand: root and name are short (feedfmt_entry_ok) */
		snprintf(path, sizeof path, "%s%s/", root, git_tree_entry_name(n));
		if (git_tree_lookup(&ns, v->repo, git_tree_entry_id(n)) < 0) {
			git_oid_tostr(oidhex, sizeof oidhex, git_tree_entry_id(n));
			snprintf(item, sizeof item, "tree %s (object %s)", path, oidhex);
			verify_problem(v, item, "object missing or corrupt");
			continue;
		}
		os = NULL;
		if (o != NULL && git_tree_entry_type(o) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&os, v->repo, git_tree_entry_id(o)) < 0)
			os = NULL;	/* reported with its commit: check everything here */
		verify_tree_diff(v, os, ns, path);
		git_tree_free(os);
		git_tree_free(ns);
	}
}

/* Check one feed from its root to its head. */
static void
verify_feed(struct verify_ctx *v, const char *office, const git_oid *tip)
{
	uint8_t pk[ED25519_PK_LEN], from[ED25519_PK_LEN], to[ED25519_PK_LEN];
	struct handover_feed *keys;
	git_commit *c = NULL, *p;
	git_oid *chain = NULL;
	git_tree *tree, *base = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t seq, lamport, last_lamport = 0;
	char item[160], hex[GIT_OID_HEXSZ + 1], who[65];
	int r;

	hex_decode(pk, sizeof pk, office);
	/* the key each commit needs, as handovers move it */
	if ((keys = calloc(1, sizeof *keys)) == NULL) {
		v->error = CUSTODY_ENOMEM;
		return;
	}
	handover_chain_init(&keys->ch, pk);
	if (git_commit_lookup(&c, v->repo, tip) < 0) {
		snprintf(item, sizeof item, "feed %s", office);
		verify_problem(v, item, "head commit missing or corrupt");
		free(keys);
		return;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((chain = reallocarray(chain, cap, sizeof *chain)) == NULL) {
				v->error = CUSTODY_ENOMEM;
				git_commit_free(c);
				free(keys);
				return;
			}
		}
		chain[n++] = *git_commit_id(c);
		if (git_commit_parentcount(c) > 1) {
			git_oid_tostr(hex, sizeof hex, git_commit_id(c));
			snprintf(item, sizeof item, "commit %s", hex);
			verify_problem(v, item, "is a merge; feeds are linear");
		}
		if (git_commit_parentcount(c) == 0)
			break;
		if (git_commit_parent(&p, c, 0) < 0) {
			git_oid_tostr(hex, sizeof hex, git_commit_parent_id(c, 0));
			snprintf(item, sizeof item, "commit %s (feed %.16s)", hex, office);
			verify_problem(v, item, "parent commit missing or corrupt");
			break;
		}
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	for (i = n; i > 0; i--) {
		v->res->commits++;
		git_oid_tostr(hex, sizeof hex, &chain[i - 1]);
		snprintf(item, sizeof item, "commit %s (feed %.16s)", hex, office);
		if (feed_check_signature(v->repo, &chain[i - 1], keys->ch.current) < 0)
			verify_problem(v, item, "signature: %s%s", custody_error(), keys->ch.n > 0 ?
			    " (this feed's key was handed over)" : "");
		if (git_commit_lookup(&c, v->repo, &chain[i - 1]) < 0) {
			verify_problem(v, item, "missing or corrupt");
			continue;
		}
		if ((r = handover_in_commit(v->a, v->repo, c, from, to)) < 0)
			verify_problem(v, item, "handover: %s", custody_error());
		else if (r > 0 && handover_feed_step(keys, n - i + 1, git_commit_time(c), from,
		    to) < 0)
			verify_problem(v, item, "%s", custody_error());
		v->office = office;
		v->have_lamport = 0;
		if (feed_parse_message(git_commit_message(c), &seq, &lamport, who) < 0)
			verify_problem(v, item, "%s", custody_error());
		else {
			v->lamport = lamport;
			v->have_lamport = 1;
			if (lamport > CUSTODY_LAMPORT_MAX)
				verify_problem(v, item, "lamport clock %" PRIu64 " is past the largest "
				    "allowed", lamport);
			if (seq != n - i + 1)
				verify_problem(v, item, "sequence %" PRIu64 " where %zu was due", seq,
				    n - i + 1);
			if (strcmp(who, office) != 0)
				verify_problem(v, item, "names another office than its feed");
			if (lamport <= last_lamport)
				verify_problem(v, item, "lamport clock does not increase");
			last_lamport = lamport;
		}
		if (git_commit_tree(&tree, c) < 0)
			verify_problem(v, item, "tree missing or corrupt");
		else {
			/* compared with the last tree that could be read */
			if (base == NULL || !git_oid_equal(git_tree_id(base), git_tree_id(tree)))
				verify_tree_diff(v, base, tree, "");
			git_tree_free(base);
			base = tree;
		}
		git_commit_free(c);
	}
	git_tree_free(base);
	free(chain);
	free(keys);
}

/* Every object in the object database must hash to its name. */
static int
verify_object_cb(const git_oid *id, void *arg)
{
	struct verify_ctx *v = arg;
	git_odb *odb;
	git_odb_object *o = NULL;
	git_oid check;
	char item[64], hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof hex, id);
	snprintf(item, sizeof item, "object %s", hex);
	if (git_repository_odb(&odb, v->repo) < 0)
		return -1;
	if (git_odb_read(&o, odb, id) < 0)
		verify_problem(v, item, "unreadable or corrupt: %s",
		    git_error_last() ? git_error_last()->message : "?");
	else {
		git_odb_hash(&check, git_odb_object_data(o), git_odb_object_size(o),
		    git_odb_object_type(o));
		if (!git_oid_equal(&check, id))
			verify_problem(v, item, "content does not match its hash");
		git_odb_object_free(o);
	}
	git_odb_free(odb);
	return 0;
}

/* Verify the whole archive. Problems go in res; the return is for failures to run at all. */
/*
 * A feed cut back: its head is behind what this archive's index recorded for it, or behind what
 * another office's signed witness record says it received (an old backup restored over the
 * archive, or a ref moved by hand). The later commits and what they named are missing.
 *
 * The head and the index are read together under the write lock, the head afresh: a write
 * moves the ref, then indexes the commit, both under that lock. Compared with the head read
 * when the walk began, a commit written during the walk (an ingest, a get's custody event, a
 * sync) looked like a history cut back, and verify cried tampering at a healthy archive.
 */
static void
verify_rollback(struct verify_ctx *v, const char *office)
{
	sqlite3 *db = archive_db(v->a);
	sqlite3_stmt *st;
	git_oid tip;
	uint64_t seq, lamport, known = 0, witnessed = 0, cut;
	uint8_t pk[ED25519_PK_LEN];
	char item[160];

	if (db == NULL)
		return;
	pthread_mutex_lock(&v->a->write_lock);
	if (feed_head(v->a, office, &tip, &seq, &lamport) < 0) {
		pthread_mutex_unlock(&v->a->write_lock);
		return;	/* verify_feed reports it */
	}
	snprintf(item, sizeof item, "maxseq:%s", office);
	if ((st = index_stmt(db, "SELECT max(coalesce((SELECT seq FROM feeds WHERE office="
	    INDEX_OFFICE_ID "), 0),"
	    " coalesce((SELECT CAST(v AS INTEGER) FROM meta WHERE k=?), 0))")) != NULL) {
		sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, item, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			known = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if ((st = index_stmt(db, "SELECT max(seq) FROM witnesses WHERE feed=" INDEX_OFFICE_ID)) !=
	    NULL) {
		sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			witnessed = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&v->a->write_lock);
	/*
	 * An office that took a revoked office's commits before the revocation counted there
	 * witnessed commits past the cut, which this archive refuses by design (kept in forks/):
	 * a head at the cut is not a history cut back.
	 */
	if (witnessed > seq && strlen(office) == 2 * ED25519_PK_LEN &&
	    hex_decode(pk, sizeof pk, office) == 0 && revocations_cut(v->a, pk, &cut) &&
	    seq >= cut)
		witnessed = seq;
	snprintf(item, sizeof item, "feed %.16s", office);
	if (known > seq)
		verify_problem(v, item, "its head is commit %llu, but this archive had commit %llu: "
		    "the history was cut back (an old backup restored, or the ref moved)",
		    (unsigned long long)seq, (unsigned long long)known);
	else if (witnessed > seq)
		verify_problem(v, item, "its head is commit %llu, but another office witnessed "
		    "commit %llu: the history was cut back", (unsigned long long)seq,
		    (unsigned long long)witnessed);
}

/* Office and invite records refused: renames, offices never invited, a name taken twice. */
static void
verify_offices(struct verify_ctx *v)
{
	char **lines = NULL;
	size_t n = 0, i;

	if (offices_refused(v->a, &lines, &n) < 0) {
		verify_problem(v, "offices", "%s", custody_error());
		return;
	}
	for (i = 0; i < n; i++)
		verify_problem(v, "offices", "refused %s", lines[i]);
	offices_refused_free(lines, n);
}

int
verify_archive(struct archive *a, struct verify_result *res)
{
	struct verify_ctx v = { .a = a, .res = res };
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_odb *odb = NULL;
	const char *name;

	memset(res, 0, sizeof *res);
	if ((v.repo = archive_repo(a)) == NULL)
		return CUSTODY_EIO;
	if (git_repository_odb(&odb, v.repo) < 0)
		return custody_fail(CUSTODY_EIO, "cannot open the object database");
	git_odb_refresh(odb);
	git_odb_foreach(odb, verify_object_cb, &v);
	git_odb_free(odb);
	if (git_reference_iterator_glob_new(&it, v.repo, FEEDFMT_REF_GLOB) < 0)
		return custody_fail(CUSTODY_EIO, "cannot list feeds");
	while (git_reference_next(&ref, it) == 0) {
		name = feedfmt_ref_office(git_reference_name(ref));
		if (name == NULL || git_reference_type(ref) != GIT_REFERENCE_DIRECT)
			verify_problem(&v, git_reference_name(ref), "not a feed ref");
		else {
			verify_feed(&v, name, git_reference_target(ref));
			verify_rollback(&v, name);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	verify_offices(&v);
	free(v.blobs);
	return v.error;
}

/* Free the problems list. */
void
verify_result_free(struct verify_result *r)
{
	size_t i, n = r->nproblems < VERIFY_MAX_LISTED ? r->nproblems : VERIFY_MAX_LISTED;

	for (i = 0; i < n; i++) {
		free(r->problems[i].item);
		free(r->problems[i].problem);
	}
	free(r->problems);
	memset(r, 0, sizeof *r);
}
