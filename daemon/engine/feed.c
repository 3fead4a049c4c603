/*
 * Feeds: each office's linear chain of signed commits at refs/feeds/<office key hex>.
 *
 * A commit is one transaction. Its tree is the office's complete current state: records at
 * records/TT/TT/TOKEN (TOKEN the keyed hash of the record id), so a commit rewrites two small
 * fan-out trees per record. The message ends in trailers: Custody-Seq (1 for the first commit,
 * then parent + 1), Custody-Lamport and Custody-Office. Every commit carries an SSHSIG
 * (namespace "git", sha512) by the office key in its gpgsig header, as `git commit -S` writes.
 *
 * A commit says nothing a seized disk could use: its subject is FEEDFMT_SUBJECT, its author the
 * key fingerprint. The human summary travels encrypted, in the rev stamp of every record the
 * commit writes (feed-summary.c reads it back).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/odb_backend.h>

#include "archive.h"
#include "custody/lockmem.h"
#include "custody/packwrite.h"
#include "custody/trailers.h"
#include "feed-pack.h"

#define FEED_PACK_MIN 64	/* records in one commit from which its objects go in one pack */

/* refs/feeds/HEX (proto/feedfmt.c), or NULL. */
char *
feed_refname(const char *office_hex)
{
	char ref[FEEDFMT_REF_LEN + 1];

	if (feedfmt_ref(ref, office_hex) < 0)
		return NULL;
	return strdup(ref);
}

/* records/ab/cd/TOKEN (proto/feedfmt.c), or NULL. */
char *
feed_record_path(const char *token_hex)
{
	char path[FEEDFMT_PATH_LEN + 1];

	if (feedfmt_record_path(path, token_hex) < 0)
		return NULL;
	return strdup(path);
}

/* code, with what failed and libgit2's reason. */
int
feed_git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();

	return custody_fail(code, "%s: %s", what, e != NULL ? e->message : "git error");
}

/* Read the trailers of a feed commit message (proto/trailers.c; strict). */
int
feed_parse_message(const char *msg, uint64_t *seq, uint64_t *lamport, char office_hex[65])
{
	struct trailers t;
	int error;

	*seq = *lamport = 0;
	office_hex[0] = '\0';
	if ((error = trailers_parse(&t, msg, strlen(msg))) < 0)
		return custody_fail(error, "commit message: %s", custody_error());
	*seq = t.seq;
	*lamport = t.lamport;
	memcpy(office_hex, t.office, sizeof t.office);
	return 0;
}

/* The head of an office's feed; ENOTFOUND when it has no commit yet. */
int
feed_head(struct archive *a, const char *office_hex, git_oid *oid, uint64_t *seq,
    uint64_t *lamport)
{
	git_repository *repo;
	git_commit *c = NULL;
	char ref[FEEDFMT_REF_LEN + 1], hex[65];
	int error;

	*seq = *lamport = 0;
	if ((repo = archive_repo(a)) == NULL)
		return CUSTODY_EIO;
	if (feedfmt_ref(ref, office_hex) < 0)
		return custody_fail(CUSTODY_ENOTFOUND, "no feed of office %.64s", office_hex);
	error = git_reference_name_to_id(oid, repo, ref);
	if (error == GIT_ENOTFOUND)
		return CUSTODY_ENOTFOUND;
	if (error < 0)
		return feed_git_fail(CUSTODY_EIO, "reading the feed ref");
	if (git_commit_lookup(&c, repo, oid) < 0)
		return feed_git_fail(CUSTODY_EIO, "reading the feed head");
	error = feed_parse_message(git_commit_message(c), seq, lamport, hex);
	git_commit_free(c);
	return error;
}

/* Check a commit's SSHSIG against the office key pk: 0, ECRYPTO or ENOTFOUND (unsigned). */
int
feed_check_signature(git_repository *repo, const git_oid *oid, const uint8_t pk[static 32])
{
	git_buf sig = { 0 }, signed_data = { 0 };
	uint8_t signer[ED25519_PK_LEN];
	int error;

	error = git_commit_extract_signature(&sig, &signed_data, repo, (git_oid *)oid, NULL);
	if (error == GIT_ENOTFOUND)
		return custody_fail(CUSTODY_ENOTFOUND, "commit is not signed");
	if (error < 0)
		return feed_git_fail(CUSTODY_EIO, "reading the commit");
	error = sshsig_verify(signer, sig.ptr, sig.size, "git", signed_data.ptr, signed_data.size);
	if (error == 0 && sodium_memcmp(signer, pk, ED25519_PK_LEN) != 0)
		error = custody_fail(CUSTODY_ECRYPTO, "signed by another key");
	else if (error < 0)
		custody_fail(error, "signature does not verify");
	git_buf_dispose(&sig);
	git_buf_dispose(&signed_data);
	return error;
}

/*
 * A private repository handle whose new objects collect in memory, for a large commit: one
 * pack file of stored objects (feed-pack.c) instead of thousands of loose objects (each a file
 * and an inode).
 */
static int
feed_open_packing(struct archive *a, git_repository **repo, git_odb_backend **mem)
{
	git_odb *odb = NULL;
	char *p = archive_file(a, "git");
	int error = 0;

	*repo = NULL;
	*mem = NULL;
	if (git_repository_open_bare(repo, p) < 0 || git_repository_odb(&odb, *repo) < 0 ||
	    feed_pack_new(mem, a) < 0 || git_odb_add_backend(odb, *mem, 1000) < 0) {
		error = feed_git_fail(CUSTODY_EIO, "opening the repository");
		if (*mem != NULL && odb != NULL)
			(*mem)->free(*mem);
		*mem = NULL;
		git_repository_free(*repo);
		*repo = NULL;
	}
	git_odb_free(odb);
	free(p);
	return error;
}

/* Write the objects collected in memory as one pack (with its index). */
static int
feed_write_pack(git_repository *repo, git_odb_backend *mem)
{
	return feed_pack_install(repo, mem);
}

#define FEED_SEAL_CHUNK 4096	/* records sealed, then written, at a time */
#define FEED_SEAL_PARALLEL 256	/* from this many records a second thread helps sealing */

/* A range of records to stamp, seal and hash; objects land in objs, paths in upd. */
struct feed_seal {
	struct archive	*a;
	const struct feed_docs *docs;
	git_tree_update	*upd;
	struct cbuf	*objs;		/* indexed from `from` */
	uint64_t	 lamport;
	const char	*now;
	const char	*summary;
	size_t		 from, to;	/* the chunk */
	size_t		 lo, hi;	/* this thread's part */
	int		 error;
	char		 msg[256];
};

/* Stamp each record with its revision, seal it for its path, hash the object. */
static void *
feed_seal_range(void *arg)
{
	struct feed_seal *j = arg;
	char tok[TOKEN_HEX_LEN + 1];
	json_t *rev, *doc;
	size_t i;

	for (i = j->lo; i < j->hi && j->error == 0; i++) {
		if ((doc = feed_docs_get(j->docs, i)) == NULL) {
			j->error = CUSTODY_ENOMEM;
			break;
		}
		rev = json_pack("{s:I,s:s,s:s,s:s}", "lamport", (json_int_t)j->lamport, "office",
		    j->a->office_hex, "time", j->now, "summary", j->summary);
		if (rev == NULL || json_object_set_new(doc, "rev", rev) < 0) {
			json_decref(doc);
			j->error = CUSTODY_ENOMEM;
			break;
		}
		archive_token_hex(j->a, tok, record_id(doc));
		j->error = record_seal(&j->objs[i - j->from], j->a, tok, doc);
		json_decref(doc);
		if (j->error < 0) {
			snprintf(j->msg, sizeof j->msg, "%s", custody_error());
			break;
		}
		git_odb_hash(&j->upd[i].id, j->objs[i - j->from].data, j->objs[i - j->from].len,
		    GIT_OBJECT_BLOB);
		j->upd[i].action = GIT_TREE_UPDATE_UPSERT;
		j->upd[i].filemode = GIT_FILEMODE_BLOB;
		if ((j->upd[i].path = feed_record_path(tok)) == NULL)
			j->error = CUSTODY_ENOMEM;
	}
	return NULL;
}

/* Seal a chunk of records (on two threads when it is large), then write the objects. */
static int
feed_seal_chunk(struct feed_seal *job, git_repository *repo, git_odb_backend *mem)
{
	struct feed_seal half = *job;
	size_t n = job->to - job->from, i;
	pthread_t t;
	int threaded = 0, error = 0;

	if ((job->objs = calloc(n, sizeof *job->objs)) == NULL)
		return CUSTODY_ENOMEM;
	half.objs = job->objs;
	job->lo = job->from;
	job->hi = job->to;
	if (n >= FEED_SEAL_PARALLEL) {
		job->hi = job->from + n / 2;
		half.lo = job->hi;
		half.hi = job->to;
		threaded = lockmem_thread_create(&t, feed_seal_range, &half) == 0;
		if (!threaded)
			job->hi = job->to;
	}
	feed_seal_range(job);
	if (threaded) {
		pthread_join(t, NULL);
		if (job->error == 0 && half.error < 0) {
			job->error = half.error;
			memcpy(job->msg, half.msg, sizeof job->msg);
		}
	}
	if ((error = job->error) < 0)
		custody_fail(error, "%s", job->msg[0] ? job->msg : "cannot seal a record");
	for (i = 0; i < n && error == 0; i++) {
		if (mem != NULL)
			error = mem->write(mem, &job->upd[job->from + i].id, job->objs[i].data,
			    job->objs[i].len, GIT_OBJECT_BLOB);
		else
			error = git_blob_create_from_buffer(&job->upd[job->from + i].id, repo,
			    job->objs[i].data, job->objs[i].len);
		if (error < 0)
			error = feed_git_fail(CUSTODY_EIO, "writing a record");
	}
	for (i = 0; i < n; i++)
		free(job->objs[i].data);
	free(job->objs);
	return error;
}

/*
 * Sign and write the commit of tree on parent (NULL for the first), run before (with arg)
 * once the objects are written, make everything durable, then move the feed ref from the
 * parent: the commit point. out holds the commit's seq and lamport; its oid is set here.
 * since is archive_sync_mark() from before the first write the commit makes durable (0: from
 * here): a write error any sync met since then fails the commit.
 */
int
feed_commit_tree(struct archive *a, git_repository *repo, struct feed_commit *out,
    git_tree *tree, git_commit *parent, int (*before)(git_repository *, git_odb_backend *),
    git_odb_backend *arg, uint64_t since)
{
	git_signature *who = NULL;
	git_reference *ref = NULL;
	git_buf body = { 0 };
	struct cbuf msg = { 0 };
	struct trailers trl;
	char *refname = NULL, *sig = NULL;
	int error;

	if ((refname = feed_refname(a->office_hex)) == NULL)
		return CUSTODY_ENOMEM;
	trl.seq = out->seq;
	trl.lamport = out->lamport;
	memcpy(trl.office, a->office_hex, sizeof trl.office);
	if ((error = trailers_format(&msg, FEEDFMT_SUBJECT, &trl)) < 0)
		goto done;
	if (git_signature_now(&who, a->fingerprint, FEED_EMAIL) < 0 ||
	    git_commit_create_buffer(&body, repo, who, who, NULL, (const char *)msg.data, tree,
	    parent != NULL ? 1 : 0, (const git_commit **)&parent) < 0) {
		error = feed_git_fail(CUSTODY_EIO, "building the commit");
		goto done;
	}
	if ((error = sshsig_sign(&sig, a->office_sk, "git", "sha512", body.ptr, body.size)) < 0)
		goto done;
	if (git_commit_create_with_signature(&out->oid, repo, body.ptr, sig, NULL) < 0) {
		error = feed_git_fail(CUSTODY_EIO, "writing the commit");
		goto done;
	}
	if (before != NULL && (error = before(repo, arg)) < 0)
		goto done;
	/* The commit point: blobs and objects durable, then the ref moves, then that is durable. */
	if (since == 0)
		since = archive_sync_mark(a);
	if ((error = archive_sync_since(a, since)) < 0)
		goto done;
	if (parent != NULL)
		error = git_reference_create_matching(&ref, repo, refname, &out->oid, 1,
		    git_commit_id(parent), FEEDFMT_SUBJECT);
	else
		error = git_reference_create(&ref, repo, refname, &out->oid, 0, FEEDFMT_SUBJECT);
	if (error < 0) {
		error = feed_git_fail(CUSTODY_EIO, "moving the feed ref");
		goto done;
	}
	if ((error = archive_sync_since(a, since)) == 0)
		archive_packs_after(a);
done:
	free(refname);
	free(sig);
	cbuf_free(&msg);
	git_buf_dispose(&body);
	git_signature_free(who);
	git_reference_free(ref);
	return error;
}

/*
 * Append one signed commit to this office's feed holding docs (each gets its revision stamp).
 * The caller holds a->write_lock, and has put every blob the records name in place: the sync
 * before the ref moves makes them durable with the objects. When this returns 0 the commit and
 * the ref are on disk.
 */
int
feed_append(struct archive *a, struct feed_commit *out, const char *summary, json_t **docs,
    size_t ndocs)
{
	struct feed_docs d = { .docs = docs, .n = ndocs };

	return feed_append_docs(a, out, summary, &d);
}

json_t *
feed_docs_get(const struct feed_docs *d, size_t i)
{
	return d->make != NULL ? d->make(d->arg, i) : json_incref(d->docs[i]);
}

/* feed_append, the records from d. */
int
feed_append_docs(struct archive *a, struct feed_commit *out, const char *summary,
    const struct feed_docs *docs)
{
	git_repository *repo, *priv = NULL;
	git_odb_backend *mem = NULL;
	git_tree_update *upd = NULL;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_oid head, tree_oid;
	char now[32];
	size_t i, ndocs = docs->n;
	uint64_t since = docs->since != 0 ? docs->since : archive_sync_mark(a);
	int error, have_head;

	if (recover_pending(a))	/* recover.c: the feed goes on from where the peers hold it */
		return custody_fail(CUSTODY_EPERM, "this office is being recovered: sync with a "
		    "peer first (custody sync), to take back its own feed");
	error = feed_head(a, a->office_hex, &head, &out->seq, &out->lamport);
	if (ndocs >= FEED_PACK_MIN && (error == 0 || error == CUSTODY_ENOTFOUND) &&
	    feed_open_packing(a, &priv, &mem) < 0)
		error = CUSTODY_EIO;
	if ((repo = priv != NULL ? priv : archive_repo(a)) == NULL)
		error = CUSTODY_EIO;
	if (error < 0 && error != CUSTODY_ENOTFOUND)
		goto done;
	have_head = error == 0;
	out->parent[0] = '\0';
	if (have_head)
		git_oid_tostr(out->parent, sizeof out->parent, &head);
	if (have_head && (git_commit_lookup(&parent, repo, &head) < 0 ||
	    git_commit_tree(&base, parent) < 0)) {
		error = feed_git_fail(CUSTODY_EIO, "reading the feed head");
		goto done;
	}
	out->seq++;
	/* a Lamport clock: past everything this office holds, its own feed and others' */
	if ((error = feed_clock_next(a, &out->lamport)) < 0)
		goto done;
	record_now(now);

	if ((upd = calloc(ndocs ? ndocs : 1, sizeof *upd)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < ndocs; i += FEED_SEAL_CHUNK) {
		struct feed_seal job = { .a = a, .docs = docs, .upd = upd, .lamport = out->lamport,
		    .now = now, .summary = summary, .from = i, .to = i + FEED_SEAL_CHUNK < ndocs ? i + FEED_SEAL_CHUNK :
		    ndocs };

		if ((error = feed_seal_chunk(&job, repo, mem)) < 0)
			goto done;
	}
	if (base == NULL) {
		git_treebuilder *tb;

		if (git_treebuilder_new(&tb, repo, NULL) < 0 || git_treebuilder_write(&tree_oid,
		    tb) < 0 || git_tree_lookup(&base, repo, &tree_oid) < 0) {
			error = feed_git_fail(CUSTODY_EIO, "writing an empty tree");
			goto done;
		}
		git_treebuilder_free(tb);
	}
	if (git_tree_create_updated(&tree_oid, repo, base, ndocs, upd) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_oid) < 0) {
		error = feed_git_fail(CUSTODY_EIO, "writing the tree");
		goto done;
	}

	error = feed_commit_tree(a, repo, out, tree, have_head ? parent : NULL,
	    mem != NULL ? feed_write_pack : NULL, mem, since);
done:
	if (upd != NULL)
		for (i = 0; i < ndocs; i++)
			free((char *)upd[i].path);
	free(upd);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	git_repository_free(priv);	/* frees the memory backend too */
	return error;
}

/* Read and decrypt the record at token tok in an office's feed as of commit c. */
int
feed_read_at(struct archive *a, git_commit *c, const char *tok, json_t **out,
    git_oid *object)
{
	return feed_read_at_flags(a, c, tok, out, object, 0);
}

/* feed_read_at, flags as record_open_flags takes them (RECORD_SEALED). */
int
feed_read_at_flags(struct archive *a, git_commit *c, const char *tok, json_t **out,
    git_oid *object, unsigned flags)
{
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;
	char *path;
	int error;

	*out = NULL;
	if ((path = feed_record_path(tok)) == NULL)
		return CUSTODY_ENOMEM;
	if (git_commit_tree(&t, c) < 0) {
		error = feed_git_fail(CUSTODY_EIO, "reading the feed");
		goto done;
	}
	if (git_tree_entry_bypath(&e, t, path) < 0) {
		error = custody_fail(CUSTODY_ENOTFOUND, "no such record");
		goto done;
	}
	if (object != NULL)
		*object = *git_tree_entry_id(e);
	if (git_blob_lookup(&b, git_commit_owner(c), git_tree_entry_id(e)) < 0) {
		error = feed_git_fail(CUSTODY_EIO, "reading the record object");
		goto done;
	}
	error = record_open_flags(out, a, tok, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), NULL, flags);
done:
	free(path);
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	return error;
}

/* Read and decrypt the current revision of the record at token tok in an office's feed. */
int
feed_read_token(struct archive *a, const char *office_hex, const char *tok, json_t **out)
{
	return feed_read_token_flags(a, office_hex, tok, out, 0);
}

/*
 * When office_hex's revocation is effective in the index and *c (its commit seq) is past the
 * cut, step *c back to the commit at the cut: its records are the last that count
 * (index-cuts.c). *c is replaced, or freed (NULL) on error.
 */
int
feed_cut_back(struct archive *a, const char *office_hex, git_commit **c, uint64_t seq)
{
	git_commit *p;
	uint64_t cut;

	if (archive_db(a) == NULL || !index_cuts_of(archive_db(a), office_hex, &cut))
		return 0;
	for (; seq > cut; seq--) {
		if (git_commit_parentcount(*c) == 0) {
			git_commit_free(*c);
			*c = NULL;
			return custody_fail(CUSTODY_ENOTFOUND, "no such record");
		}
		if (git_commit_parent(&p, *c, 0) < 0) {
			git_commit_free(*c);
			*c = NULL;
			return feed_git_fail(CUSTODY_EIO, "reading the feed");
		}
		git_commit_free(*c);
		*c = p;
	}
	return 0;
}

/*
 * The commit an office's current records are read at, through repo: its feed's head, stepped
 * back to its cut (feed_cut_back). ENOTFOUND ("no such record") when it has none.
 */
int
feed_current_commit(struct archive *a, git_repository *repo, const char *office_hex,
    git_commit **c)
{
	git_oid head;
	uint64_t seq, lamport;
	int error;

	*c = NULL;
	if ((error = feed_head(a, office_hex, &head, &seq, &lamport)) < 0)
		return error == CUSTODY_ENOTFOUND ? custody_fail(error, "no such record") : error;
	if (git_commit_lookup(c, repo, &head) < 0) {
		*c = NULL;
		return feed_git_fail(CUSTODY_EIO, "reading the feed");
	}
	return feed_cut_back(a, office_hex, c, seq);
}

/* feed_read_token, flags as record_open_flags takes them (RECORD_SEALED). */
int
feed_read_token_flags(struct archive *a, const char *office_hex, const char *tok,
    json_t **out, unsigned flags)
{
	git_repository *repo;
	git_commit *c;
	int error;

	*out = NULL;
	if ((repo = archive_repo(a)) == NULL)
		return CUSTODY_EIO;
	if ((error = feed_current_commit(a, repo, office_hex, &c)) < 0)
		return error;
	error = feed_read_at_flags(a, c, tok, out, NULL, flags);
	git_commit_free(c);
	return error == 0 ? feed_check_token(a, tok, out) : error;
}

/* That the record *out read at token tok has the id of that token; else it is freed. */
int
feed_check_token(struct archive *a, const char *tok, json_t **out)
{
	char want[TOKEN_HEX_LEN + 1];

	archive_token_hex(a, want, record_id(*out));
	if (strcmp(want, tok) == 0)
		return 0;
	json_decref(*out);
	*out = NULL;
	return custody_fail(CUSTODY_ECRYPTO, "the record at %s holds another id", tok);
}

/* Read and decrypt the current revision of record id in an office's feed. */
int
feed_read_record(struct archive *a, const char *office_hex, const char *id, json_t **out)
{
	char tok[TOKEN_HEX_LEN + 1];
	int error;

	archive_token_hex(a, tok, id);
	error = feed_read_token(a, office_hex, tok, out);
	if (error == CUSTODY_ENOTFOUND)
		custody_fail(error, "no such record: %s", id);
	return error;
}

/*
 * Walk what changed between two trees of a feed (old NULL: everything is new): cb gets the
 * path and id of every added or modified blob, and of every tree on the way (is_tree), so that
 * a packer can take them too. Subtrees whose ids are equal are skipped without being read:
 * the cost follows what changed, not the size of the feed (git's generic diff reads them all).
 * A blob present in old and absent in new is reported with a NULL id.
 */
int
feed_tree_changes(git_repository *repo, git_tree *old, git_tree *new, const char *prefix,
    feed_change_cb cb, void *arg)
{
	size_t i = 0, j = 0, no = old ? git_tree_entrycount(old) : 0, nn = git_tree_entrycount(new);
	const git_tree_entry *o, *n;
	git_tree *os = NULL, *ns = NULL;
	char path[512];
	int c, error = 0;

	while (error == 0 && (i < no || j < nn)) {
		o = i < no ? git_tree_entry_byindex(old, i) : NULL;
		n = j < nn ? git_tree_entry_byindex(new, j) : NULL;
		c = o == NULL ? 1 : n == NULL ? -1 : strcmp(git_tree_entry_name(o),
		    git_tree_entry_name(n));
		if (c < 0) {	/* gone from the new tree */
			snprintf(path, sizeof path, "%s%s", prefix, git_tree_entry_name(o));
			error = cb(path, NULL, git_tree_entry_type(o) == GIT_OBJECT_TREE, arg);
			i++;
			continue;
		}
		if (c == 0)
			i++;
		j++;
		if (c == 0 && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n)))
			continue;
		snprintf(path, sizeof path, "%s%s", prefix, git_tree_entry_name(n));
		if (git_tree_entry_type(n) != GIT_OBJECT_TREE) {
			error = cb(path, git_tree_entry_id(n), 0, arg);
			continue;
		}
		if ((error = cb(path, git_tree_entry_id(n), 1, arg)) != 0)
			break;
		os = ns = NULL;
		if (git_tree_lookup(&ns, repo, git_tree_entry_id(n)) < 0 || (c == 0 &&
		    git_tree_entry_type(o) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&os, repo, git_tree_entry_id(o)) < 0)) {
			error = custody_fail(CUSTODY_EIO, "tree %s missing or corrupt", path);
		} else {
			strncat(path, "/", sizeof path - strlen(path) - 1);
			error = feed_tree_changes(repo, os, ns, path, cb, arg);
		}
		git_tree_free(os);
		git_tree_free(ns);
	}
	return error;
}

/* Skip what a commit removed: it brings no object. */
struct feed_objects_ctx {
	feed_change_cb	 cb;
	void		*arg;
};

static int
feed_objects_change(const char *path, const git_oid *id, int is_tree, void *arg)
{
	struct feed_objects_ctx *x = arg;

	return id == NULL ? 0 : x->cb(path, id, is_tree, x->arg);
}

/* The commit, its root tree unless unchanged, and what it changed. */
int
feed_commit_objects(git_repository *repo, git_commit *c, feed_change_cb cb, void *arg)
{
	struct feed_objects_ctx x = { cb, arg };
	git_commit *p = NULL;
	git_tree *t = NULL, *pt = NULL;
	int error = 0;

	if (git_commit_tree(&t, c) < 0 || cb(NULL, git_commit_id(c), 0, arg) != 0 ||
	    (git_commit_parentcount(c) > 0 && (git_commit_parent(&p, c, 0) < 0 ||
	    git_commit_tree(&pt, p) < 0)) ||
	    ((pt == NULL || !git_oid_equal(git_tree_id(pt), git_tree_id(t))) &&
	    cb(NULL, git_tree_id(t), 1, arg) != 0) ||
	    feed_tree_changes(repo, pt, t, "", feed_objects_change, &x) != 0)
		error = custody_fail(CUSTODY_EIO, "cannot pack the feed: %s", custody_error());
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(p);
	return error;
}

/* A feed holds commits, trees and blobs (records), nothing else. */
int
feed_object_packtype(const git_odb_object *o, const git_oid *id, int *type)
{
	switch (git_odb_object_type((git_odb_object *)o)) {
	case GIT_OBJECT_COMMIT:
		*type = PACKWRITE_COMMIT;
		return 0;
	case GIT_OBJECT_TREE:
		*type = PACKWRITE_TREE;
		return 0;
	case GIT_OBJECT_BLOB:
		*type = PACKWRITE_BLOB;
		return 0;
	default:
		return custody_fail(CUSTODY_EIO, "object %s: not of a feed", git_oid_tostr_s(id));
	}
}
