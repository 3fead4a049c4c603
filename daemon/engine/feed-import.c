/*
 * A large commit of this office's feed written as a stream (an import): the records come in
 * the order of their tokens, already sealed with their "rev" (records-import.c fixed it when
 * the import began), so each is written to a new pack at once (custody/packwrite.h: stored
 * deflate, since sealed records do not compress), and the fan-out trees records/AA/BB and
 * records/AA are written as soon as the stream leaves them, merged with the head's. When the
 * clock has moved since (st->sealed_for says no), each record is opened and sealed again with
 * this commit's "rev" (record_rev_reseal). Records come in chunks: a second thread packs a
 * chunk while this one hands it to the index (st->written). Memory holds one leaf directory,
 * a chunk of records and a bounded part of the pack's index (the rest in runs under tmp/),
 * never the records of the commit, nor the head's trees: those are read through a handle of
 * their own, opened again every FEED_IMPORT_HEAD_TREES trees (libgit2 would keep every tree
 * it parsed in a repository's cache, whose bound counts their bytes on disk, a small part of
 * what they take). The pack goes into the repository before the commit that names it; the
 * commit and the ref move are feed_commit_tree's, as for every commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "custody/lockmem.h"
#include "custody/packwrite.h"
#include "records-spill.h"

#define FEED_IMPORT_HEAD_TREES 4096	/* trees of the head read through one handle */

struct feed_import_ent {
	char	name[TOKEN_HEX_LEN + 1];
	uint8_t	oid[PACKWRITE_OID_LEN];
};

/* The entries of one tree being built. */
struct feed_import_dir {
	struct feed_import_ent	*v;
	size_t			 n, cap;
	char			 at[5];		/* "AABB" of a leaf, "AA" of a middle tree */
};

struct feed_import {
	struct archive		*a;
	git_repository		*repo;
	git_repository		*head_repo;	/* reads the head's trees */
	size_t			 head_trees;	/* read through head_repo */
	git_oid			 records_id;
	git_tree		*records;	/* records/ of the head (in head_repo), or NULL */
	struct packwrite	*pw;
	char			*pack_path, *idx_path;
	int			 pack_fd, idx_fd;
	struct feed_import_dir	 leaf, mid, top;
	struct cbuf		 body;
};

static int
feed_import_gitfail(const char *what)
{
	const git_error *e = git_error_last();

	return custody_fail(CUSTODY_EIO, "%s: %s", what, e != NULL ? e->message : "git error");
}

static int
feed_import_push(struct feed_import_dir *d, const char *name, const uint8_t *oid)
{
	struct feed_import_ent *v;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;

		if ((v = reallocarray(d->v, cap, sizeof *v)) == NULL)
			return CUSTODY_ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	snprintf(d->v[d->n].name, sizeof d->v[d->n].name, "%s", name);
	memcpy(d->v[d->n].oid, oid, PACKWRITE_OID_LEN);
	d->n++;
	return 0;
}

/*
 * Write the tree of base (NULL: none) with the new entries of d put in (names of one length,
 * sorted, so plain order is git's), as mode; its id in oid.
 */
static int
feed_import_tree(struct feed_import *fi, git_tree *base, const struct feed_import_dir *d,
    const char *mode, uint8_t oid[static PACKWRITE_OID_LEN])
{
	size_t i = 0, j = 0, nb = base != NULL ? git_tree_entrycount(base) : 0;
	const git_tree_entry *e;
	char m[16];
	int c, error = 0;

	fi->body.len = 0;
	while (error == 0 && (i < nb || j < d->n)) {
		e = i < nb ? git_tree_entry_byindex(base, i) : NULL;
		c = e == NULL ? 1 : j == d->n ? -1 : strcmp(git_tree_entry_name(e), d->v[j].name);
		if (c < 0) {
			snprintf(m, sizeof m, "%o", (unsigned)git_tree_entry_filemode(e));
			error = packwrite_tree_entry(&fi->body, m, git_tree_entry_name(e),
			    git_tree_entry_id(e)->id);
			i++;
			continue;
		}
		error = packwrite_tree_entry(&fi->body, mode, d->v[j].name, d->v[j].oid);
		i += c == 0;
		j++;
	}
	if (error == 0)
		error = packwrite_add(fi->pw, PACKWRITE_TREE, fi->body.data, fi->body.len, oid);
	return error;
}

/* (Again) a handle of its own on the repository, and records/ of the head through it. */
static int
feed_import_head_open(struct feed_import *fi)
{
	char *p;

	git_tree_free(fi->records);
	fi->records = NULL;
	git_repository_free(fi->head_repo);	/* and the trees it kept */
	fi->head_repo = NULL;
	fi->head_trees = 0;
	if ((p = archive_file(fi->a, "git")) == NULL)
		return CUSTODY_ENOMEM;
	if (git_repository_open_bare(&fi->head_repo, p) < 0) {
		fi->head_repo = NULL;
		free(p);
		return feed_import_gitfail("opening the repository");
	}
	free(p);
	if (git_tree_lookup(&fi->records, fi->head_repo, &fi->records_id) < 0)
		return feed_import_gitfail("reading the feed's tree");
	return 0;
}

/* The subtree of the head's records/ at path ("AA" or "AA/BB"), or NULL. */
static int
feed_import_base(struct feed_import *fi, const char *path, git_tree **out)
{
	git_tree_entry *e = NULL;
	int error = 0;

	*out = NULL;
	if (fi->records == NULL)
		return 0;
	if (fi->head_trees >= FEED_IMPORT_HEAD_TREES && (error = feed_import_head_open(fi)) < 0)
		return error;
	fi->head_trees += 2;	/* records/AA and, for a leaf, AA/BB */
	if (git_tree_entry_bypath(&e, fi->records, path) < 0)
		return 0;
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(out, fi->head_repo, git_tree_entry_id(e)) < 0)
		error = feed_import_gitfail("reading the feed's tree");
	git_tree_entry_free(e);
	return error;
}

/* records/ of the head's tree root, if it has one. */
static int
feed_import_records(struct feed_import *fi, git_tree *root)
{
	const git_tree_entry *e = git_tree_entry_byname(root, FEEDFMT_ROOT);

	if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return 0;
	git_oid_cpy(&fi->records_id, git_tree_entry_id(e));
	return feed_import_head_open(fi);
}

/* Write the leaf tree records/AA/BB being built into the middle tree records/AA. */
static int
feed_import_end_leaf(struct feed_import *fi)
{
	uint8_t oid[PACKWRITE_OID_LEN];
	char path[6];
	git_tree *base;
	int error;

	if (fi->leaf.n == 0)
		return 0;
	snprintf(path, sizeof path, "%.2s/%.2s", fi->leaf.at, fi->leaf.at + 2);
	if ((error = feed_import_base(fi, path, &base)) < 0)
		return error;
	error = feed_import_tree(fi, base, &fi->leaf, "100644", oid);
	git_tree_free(base);
	if (error == 0)
		error = feed_import_push(&fi->mid, fi->leaf.at + 2, oid);
	fi->leaf.n = 0;
	return error;
}

/* Write the middle tree records/AA being built into records/. */
static int
feed_import_end_mid(struct feed_import *fi)
{
	uint8_t oid[PACKWRITE_OID_LEN];
	char path[3];
	git_tree *base;
	int error;

	if ((error = feed_import_end_leaf(fi)) < 0 || fi->mid.n == 0)
		return error;
	snprintf(path, sizeof path, "%.2s", fi->mid.at);
	if ((error = feed_import_base(fi, path, &base)) < 0)
		return error;
	error = feed_import_tree(fi, base, &fi->mid, "40000", oid);
	git_tree_free(base);
	if (error == 0)
		error = feed_import_push(&fi->top, path, oid);
	fi->mid.n = 0;
	return error;
}

/* Pack one sealed record at tok; it goes in the leaf tree of its token. */
static int
feed_import_place(struct feed_import *fi, const char *tok, const uint8_t *obj, size_t len)
{
	uint8_t oid[PACKWRITE_OID_LEN];
	int error;

	if (fi->leaf.n > 0 && strcmp(tok, fi->leaf.v[fi->leaf.n - 1].name) <= 0)
		return custody_fail(CUSTODY_EINVAL, "import: records out of order");
	if (memcmp(tok, fi->mid.at, 2) != 0 && (error = feed_import_end_mid(fi)) < 0)
		return error;
	if (memcmp(tok, fi->leaf.at, 4) != 0 && (error = feed_import_end_leaf(fi)) < 0)
		return error;
	memcpy(fi->mid.at, tok, 2);
	memcpy(fi->leaf.at, tok, 4);
	if ((error = packwrite_add(fi->pw, PACKWRITE_BLOB, obj, len, oid)) < 0)
		return error;
	return feed_import_push(&fi->leaf, tok, oid);
}

/*
 * A chunk of records to pack, on a second thread while the first indexes them; sealed again
 * first when the clock has moved since they were sealed (reseal).
 */
struct feed_import_seal {
	struct archive	*a;
	struct feed_import *fi;
	int		 reseal;
	uint64_t	 lamport;	/* of the commit, for reseal */
	const char	*now, *summary;
	const uint8_t	*rec[FEED_STREAM_AHEAD];
	size_t		 len[FEED_STREAM_AHEAD];
	char		 tok[FEED_STREAM_AHEAD][TOKEN_HEX_LEN + 1];
	struct cbuf	 obj[FEED_STREAM_AHEAD];	/* sealed again */
	size_t		 n;
	int		 error;
	char		 msg[256];
};

static void *
feed_import_seal(void *arg)
{
	struct feed_import_seal *j = arg;
	size_t i;

	for (i = 0; i < j->n && j->error == 0 && j->reseal; i++)
		if ((j->error = record_rev_reseal(&j->obj[i], j->a, j->tok[i], j->rec[i],
		    j->len[i], j->lamport, j->now, j->summary)) < 0)
			snprintf(j->msg, sizeof j->msg, "%s", custody_error());
	for (i = 0; i < j->n && j->error == 0; i++)
		if ((j->error = feed_import_place(j->fi, j->tok[i], j->reseal ? j->obj[i].data :
		    j->rec[i], j->reseal ? j->obj[i].len : j->len[i])) < 0)
			snprintf(j->msg, sizeof j->msg, "%s", custody_error());
	return NULL;
}

/* The next chunk of records from st: 0 and j->n (0 at the end), or an error. */
static int
feed_import_chunk(struct feed_import_seal *j, const struct feed_stream *st)
{
	int error = 0;

	for (j->n = 0; j->n < FEED_STREAM_AHEAD; j->n++) {
		if ((error = st->next(st->arg, &j->rec[j->n], &j->len[j->n], j->tok[j->n])) != 0)
			break;
		if (strlen(j->tok[j->n]) != TOKEN_HEX_LEN ||
		    !hex_is_lower(j->tok[j->n], TOKEN_HEX_LEN)) {
			error = custody_fail(CUSTODY_EINVAL, "import: a record's token is not hex");
			break;
		}
	}
	return error < 0 ? error : 0;
}

/*
 * Pack a chunk on a second thread while st->written takes each record on this one,
 * then st->next gives this one the next chunk (into ahead; none after a short chunk).
 */
static int
feed_import_chunk_write(struct feed_import *fi, struct feed_import_seal *j,
    struct feed_import_seal *ahead, const struct feed_stream *st, const struct feed_commit *out)
{
	pthread_t t;
	size_t i;
	int threaded, error = 0;

	j->error = 0;
	j->fi = fi;
	threaded = j->n >= 64 && lockmem_thread_create(&t, feed_import_seal, j) == 0;
	for (i = 0; i < j->n && error == 0 && st->written != NULL; i++)
		error = st->written(st->arg, out, j->tok[i]);
	ahead->n = 0;
	if (error == 0 && j->n == FEED_STREAM_AHEAD)
		error = feed_import_chunk(ahead, st);
	if (threaded)
		pthread_join(t, NULL);
	else if (error == 0)
		feed_import_seal(j);
	if (error == 0 && (error = j->error) < 0)
		custody_fail(error, "%s", j->msg);
	return error;
}

/* The pack's index entries beyond a bounded number sorted in an unnamed file under tmp/. */
static int
feed_import_scratch(struct feed_import *fi)
{
	int fd;

	if ((fd = archive_tmpfile(fi->a, "import")) < 0)
		return custody_fail(CUSTODY_EIO, "import: cannot keep the pack's index under "
		    "tmp/: %s", strerror(errno));
	return packwrite_scratch(fi->pw, fd);
}

/* The pack and its index under tmp/, and their writer. */
static int
feed_import_open(struct feed_import *fi)
{
	char *tmpdir = archive_file(fi->a, "tmp");
	int error = 0;

	if (tmpdir == NULL)
		return CUSTODY_ENOMEM;
	if ((fi->pack_fd = archive_pack_tmpfile(tmpdir, "pack", &fi->pack_path)) < 0 ||
	    (fi->idx_fd = archive_pack_tmpfile(tmpdir, "idx", &fi->idx_path)) < 0)
		error = CUSTODY_EIO;
	else if ((error = packwrite_new(&fi->pw, fi->pack_fd)) == 0)
		error = feed_import_scratch(fi);
	free(tmpdir);
	return error;
}

/* Complete the pack and move it with its index into the repository. */
static int
feed_import_install(struct feed_import *fi)
{
	uint8_t sum[PACKWRITE_OID_LEN];
	char *packdir = archive_file(fi->a, "git/objects/pack");
	git_odb *odb = NULL;
	int error;

	if (packdir == NULL)
		return CUSTODY_ENOMEM;
	if ((error = packwrite_finish(fi->pw, fi->idx_fd, sum)) < 0 ||
	    (error = archive_pack_place(packdir, fi->pack_fd, fi->idx_fd, &fi->pack_path,
	    &fi->idx_path, sum)) < 0)
		goto done;
	if (git_repository_odb(&odb, fi->repo) < 0 || git_odb_refresh(odb) < 0)
		error = feed_import_gitfail("reading the new pack");
done:
	git_odb_free(odb);
	free(packdir);
	return error;
}

/* The root tree: the head's, with records/ put in. */
static int
feed_import_root(struct feed_import *fi, git_tree *base, const uint8_t *records,
    git_tree **out)
{
	git_treebuilder *tb = NULL;
	git_oid id, root;
	int error = 0;

	git_oid_fromraw(&id, records);
	if (git_treebuilder_new(&tb, fi->repo, base) < 0 ||
	    git_treebuilder_insert(NULL, tb, FEEDFMT_ROOT, &id, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(&root, tb) < 0 || git_tree_lookup(out, fi->repo, &root) < 0)
		error = feed_import_gitfail("writing the tree");
	git_treebuilder_free(tb);
	return error;
}

static void
feed_import_free(struct feed_import *fi)
{
	packwrite_free(fi->pw);
	archive_pack_discard(fi->pack_fd, fi->idx_fd, fi->pack_path, fi->idx_path);
	free(fi->leaf.v);
	free(fi->mid.v);
	free(fi->top.v);
	cbuf_free(&fi->body);
	git_tree_free(fi->records);
	git_repository_free(fi->head_repo);
}

/*
 * Append one signed commit to this office's feed holding the records st gives, in token
 * order; *written counts them, and with none no commit is made. The caller holds
 * a->write_lock. When this returns 0 with *written > 0 the commit and the ref are on disk.
 */
int
feed_append_sorted(struct archive *a, struct feed_commit *out, const char *summary,
    const struct feed_stream *st, size_t *written)
{
	struct feed_import fi = { .a = a, .pack_fd = -1, .idx_fd = -1 };
	struct feed_import_seal *seal = NULL, *j;
	size_t i, k, cur = 0;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_oid head;
	uint8_t records[PACKWRITE_OID_LEN];
	char now[32];
	uint64_t since = st->since != 0 ? st->since : archive_sync_mark(a);
	int error, have_head, reseal;

	*written = 0;
	if (recover_pending(a))	/* recover.c: the feed goes on from where the peers hold it */
		return custody_fail(CUSTODY_EPERM, "this office is being recovered: sync with a "
		    "peer first (custody sync), to take back its own feed");
	if ((fi.repo = archive_repo(a)) == NULL)
		return CUSTODY_EIO;
	error = feed_head(a, a->office_hex, &head, &out->seq, &out->lamport);
	if (error < 0 && error != CUSTODY_ENOTFOUND)
		return error;
	have_head = error == 0;
	out->parent[0] = '\0';
	if (have_head) {
		git_oid_tostr(out->parent, sizeof out->parent, &head);
		if (git_commit_lookup(&parent, fi.repo, &head) < 0 ||
		    git_commit_tree(&base, parent) < 0) {
			error = feed_import_gitfail("reading the feed head");
			goto done;
		}
		if ((error = feed_import_records(&fi, base)) < 0)
			goto done;
	}
	out->seq++;
	/* a Lamport clock: past everything this office holds, its own feed and others' */
	if ((error = feed_clock_next(a, &out->lamport)) < 0)
		goto done;
	record_now(now);
	/* two chunks: the next one is read while this one is packed (feed_stream's contract) */
	if ((seal = calloc(2, sizeof *seal)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	reseal = st->sealed_for == NULL || !st->sealed_for(st->arg, out->lamport);
	for (k = 0; k < 2; k++)
		seal[k] = (struct feed_import_seal){ .a = a, .reseal = reseal,
		    .lamport = out->lamport, .now = now, .summary = summary };
	error = feed_import_chunk(&seal[0], st);
	while (error == 0 && seal[cur].n > 0) {
		j = &seal[cur];
		if (fi.pw == NULL)
			error = feed_import_open(&fi);
		if (error == 0)
			error = feed_import_chunk_write(&fi, j, &seal[1 - cur], st, out);
		*written += error == 0 ? j->n : 0;
		cur = 1 - cur;
	}
	if (error < 0 || *written == 0)
		goto done;
	if (st->done != NULL)
		st->done(st->arg);
	if ((error = feed_import_end_mid(&fi)) < 0 ||
	    (error = feed_import_tree(&fi, fi.records, &fi.top, "40000", records)) < 0 ||
	    (error = feed_import_install(&fi)) < 0 ||
	    (error = feed_import_root(&fi, base, records, &tree)) < 0 ||
	    (st->ready != NULL && (error = st->ready(st->arg)) < 0))
		goto done;
	error = feed_commit_tree(a, fi.repo, out, tree, parent, NULL, NULL, since);
done:
	for (k = 0; seal != NULL && k < 2; k++) {
		for (i = 0; i < FEED_STREAM_AHEAD; i++)
			cbuf_free(&seal[k].obj[i]);
	}
	free(seal);
	feed_import_free(&fi);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	return error;
}
