/*
 * A reader of many records (feed-reader.h). Each office it reads is resolved once: the head of
 * its feed, stepped back to its cut if its revocation is effective (feed_current_commit), and
 * that commit's records/ tree. Then a record at records/AB/CD/TOKEN needs the trees records/AB
 * and records/AB/CD, kept until a token of another prefix is read. What it returns is what
 * feed_read_token_flags would: the record decrypted, its id checked against its token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/feedfmt.h"
#include "feed-reader.h"

struct feed_reader_feed {
	char		 office[65];
	int		 resolved;
	int		 error;		/* of the resolution, with msg: the answer to the reads */
	char		 msg[256];
	git_oid		 records;	/* records/ of the commit read */
	git_tree	*root;		/* records/, through the reader's handle */
	git_tree	*level[2];	/* records/AB, records/AB/CD of the last record read */
	char		 name[2][3];	/* AB, CD */
	unsigned	 used;		/* when it was read last */
};

struct feed_reader {
	struct archive		*a;
	git_repository		*repo;
	size_t			 trees;		/* read through repo */
	size_t			 opened;	/* times repo was opened */
	unsigned		 clock;
	struct feed_reader_feed	 feeds[FEED_READER_OFFICES];
	size_t			 nfeeds;
};

/*
 * A reader for the calling thread. Its caller lists the records from the index, each row once:
 * while the reader lives, the thread's page cache is bounded (index_lookup_cache), or every
 * page of a long list would stay in it.
 */
struct feed_reader *
feed_reader_new(struct archive *a)
{
	struct feed_reader *fr;

	if ((fr = calloc(1, sizeof *fr)) == NULL)
		return NULL;
	fr->a = a;
	index_lookup_cache(a, 1);
	return fr;
}

/* The trees of f from level i down, freed (they are read again when needed). */
static void
feed_reader_cut(struct feed_reader_feed *f, int i)
{
	for (; i < 2; i++) {
		git_tree_free(f->level[i]);
		f->level[i] = NULL;
		f->name[i][0] = '\0';
	}
}

/* Every tree f holds, freed. */
static void
feed_reader_drop(struct feed_reader_feed *f)
{
	feed_reader_cut(f, 0);
	git_tree_free(f->root);
	f->root = NULL;
}

/*
 * The reader's repository handle, opened again (every tree given up) once FEED_READER_TREES
 * trees were read through it: libgit2 caches what a handle reads until the handle goes.
 */
static int
feed_reader_repo(struct feed_reader *fr)
{
	char *p;
	size_t i;
	int error = 0;

	if (fr->repo != NULL && fr->trees < FEED_READER_TREES)
		return 0;
	for (i = 0; i < fr->nfeeds; i++)
		feed_reader_drop(&fr->feeds[i]);
	git_repository_free(fr->repo);
	fr->repo = NULL;
	fr->trees = 0;
	if ((p = archive_file(fr->a, "git")) == NULL)
		return CUSTODY_ENOMEM;
	if (git_repository_open_bare(&fr->repo, p) < 0) {
		fr->repo = NULL;
		error = feed_git_fail(CUSTODY_EIO, "opening the repository");
	} else
		fr->opened++;
	free(p);
	return error;
}

/* The tree with id through the reader's handle, counted. */
static int
feed_reader_tree(struct feed_reader *fr, git_tree **out, const git_oid *id)
{
	fr->trees++;
	if (git_tree_lookup(out, fr->repo, id) < 0) {
		*out = NULL;
		return feed_git_fail(CUSTODY_EIO, "reading the feed");
	}
	return 0;
}

/* Resolve f: the commit its records are read at, and that commit's records/. */
static int
feed_reader_resolve(struct feed_reader *fr, struct feed_reader_feed *f)
{
	git_commit *c;
	git_tree *t = NULL;
	const git_tree_entry *e;
	int error;

	if ((error = feed_current_commit(fr->a, fr->repo, f->office, &c)) < 0)
		return error;
	if (git_commit_tree(&t, c) < 0)
		error = feed_git_fail(CUSTODY_EIO, "reading the feed");
	else if ((e = git_tree_entry_byname(t, FEEDFMT_ROOT)) == NULL ||
	    git_tree_entry_type(e) != GIT_OBJECT_TREE)
		error = custody_fail(CUSTODY_ENOTFOUND, "no such record");
	else
		git_oid_cpy(&f->records, git_tree_entry_id(e));
	git_tree_free(t);
	git_commit_free(c);
	return error;
}

/* The feed of office_hex among those kept, resolved; the one read longest ago makes room. */
static struct feed_reader_feed *
feed_reader_feed(struct feed_reader *fr, const char *office_hex)
{
	struct feed_reader_feed *f = NULL;
	size_t i;

	for (i = 0; i < fr->nfeeds; i++)
		if (strcmp(fr->feeds[i].office, office_hex) == 0) {
			f = &fr->feeds[i];
			break;
		}
	if (f == NULL) {
		if (fr->nfeeds < FEED_READER_OFFICES)
			f = &fr->feeds[fr->nfeeds++];
		else {
			f = &fr->feeds[0];
			for (i = 1; i < fr->nfeeds; i++)
				if (fr->feeds[i].used < f->used)
					f = &fr->feeds[i];
			feed_reader_drop(f);
		}
		memset(f, 0, sizeof *f);
		snprintf(f->office, sizeof f->office, "%s", office_hex);
	}
	f->used = ++fr->clock;
	if (!f->resolved) {
		f->error = feed_reader_resolve(fr, f);
		/* a feed without records stays so; anything else is tried again at the next read */
		f->resolved = f->error == 0 || f->error == CUSTODY_ENOTFOUND;
		if (f->error < 0)
			snprintf(f->msg, sizeof f->msg, "%s", custody_error());
	}
	return f;
}

/* The subtree name of dir, through the reader's handle (ENOTFOUND: no such record). */
static int
feed_reader_sub(struct feed_reader *fr, git_tree *dir, const char *name, git_tree **out)
{
	const git_tree_entry *e = git_tree_entry_byname(dir, name);

	*out = NULL;
	if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return custody_fail(CUSTODY_ENOTFOUND, "no such record");
	return feed_reader_tree(fr, out, git_tree_entry_id(e));
}

/*
 * The leaf tree records/AB/CD of tok in f: each level read only when its name differs from the
 * last record's (a new AB reads CD again too).
 */
static int
feed_reader_leaf(struct feed_reader *fr, struct feed_reader_feed *f, const char *tok,
    git_tree **leaf)
{
	char name[3] = { 0 };
	int i, error;

	if (f->root == NULL && (error = feed_reader_tree(fr, &f->root, &f->records)) < 0)
		return error;
	for (i = 0; i < 2; i++) {
		memcpy(name, tok + 2 * i, 2);
		if (f->level[i] != NULL && strcmp(f->name[i], name) == 0)
			continue;
		feed_reader_cut(f, i);
		if ((error = feed_reader_sub(fr, i == 0 ? f->root : f->level[0], name,
		    &f->level[i])) < 0)
			return error;
		memcpy(f->name[i], name, sizeof name);
	}
	*leaf = f->level[1];
	return 0;
}

/*
 * The current revision of the record at tok in office_hex's feed, as feed_read_token_flags
 * reads it (flags as record_open_flags takes them), as of the head the reader found first.
 */
int
feed_reader_read(struct feed_reader *fr, const char *office_hex, const char *tok,
    json_t **out, unsigned flags)
{
	struct feed_reader_feed *f;
	const git_tree_entry *e;
	git_tree *leaf;
	git_blob *b = NULL;
	char path[FEEDFMT_PATH_LEN + 1];
	int error;

	*out = NULL;
	if ((error = feedfmt_record_path(path, tok)) < 0)
		return error;
	if ((error = feed_reader_repo(fr)) < 0)
		return error;
	f = feed_reader_feed(fr, office_hex);
	if (f->error < 0)
		return custody_fail(f->error, "%s", f->msg);
	if ((error = feed_reader_leaf(fr, f, tok, &leaf)) < 0)
		return error;
	if ((e = git_tree_entry_byname(leaf, tok)) == NULL ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return custody_fail(CUSTODY_ENOTFOUND, "no such record");
	if (git_blob_lookup(&b, fr->repo, git_tree_entry_id(e)) < 0)
		return feed_git_fail(CUSTODY_EIO, "reading the record object");
	error = record_open_flags(out, fr->a, tok, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), NULL, flags);
	git_blob_free(b);
	return error == 0 ? feed_check_token(fr->a, tok, out) : error;
}

/* How many times the reader opened its repository handle. */
size_t
feed_reader_opened(const struct feed_reader *fr)
{
	return fr->opened;
}

void
feed_reader_free(struct feed_reader *fr)
{
	size_t i;

	if (fr == NULL)
		return;
	for (i = 0; i < fr->nfeeds; i++)
		feed_reader_drop(&fr->feeds[i]);
	git_repository_free(fr->repo);
	index_lookup_cache(fr->a, 0);	/* the page cache back to its size */
	free(fr);
}
