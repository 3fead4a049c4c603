/*
 * The quarantine for a peer's packs (one, or up to SYNC_PACKS_MAX of one answer): each pack is
 * checked as it streams in (proto/pack-check.c: sizes of the pack, its entries and its deltas,
 * before libgit2 inflates anything) and indexed into the quarantine's own directory,
 * tmp/quarantine-XXXXXX, never into git/objects; the indexer's memory goes with each pack. The
 * commits are verified through a repository that sees every pack of the quarantine and the
 * archive's objects; each object they use is marked, one bit at its place in its pack's index
 * (proto/packidx.c), so that no set of ids is held. Only when the commits are verified, and
 * every object of every pack is marked, do the packs move into git/objects/pack. Whatever
 * happens otherwise, the directory is removed with all it holds.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include "custody/pack-check.h"
#include "custody/packidx.h"
#include "sync-verify.h"

/* One pack of the quarantine, once indexed. */
struct sync_qpack {
	char		 name[GIT_OID_HEXSZ + 1];	/* pack-NAME.pack */
	struct packidx	*idx;
	uint8_t		*used;	/* a bit for each object: the verified commits use it */
};

struct sync_quarantine {
	struct archive		*a;
	char			 dir[4096];
	git_indexer		*idx;		/* the pack arriving, if one is */
	git_indexer_progress	 stats;
	struct pack_check	*pc;
	struct sync_qpack	 packs[SYNC_PACKS_MAX];
	size_t			 npacks;
	git_repository		*repo;	/* the quarantine and the archive's objects */
	int			 admitted;
};

/* Remove the quarantine directory and everything in it (files only: the indexer's). */
void
sync_quarantine_remove_dir(const char *dir)
{
	char path[4400];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* A new quarantine under tmp/ for the packs of one answer. */
int
sync_quarantine_begin(struct sync_quarantine **out, struct archive *a)
{
	struct sync_quarantine *q;
	int error;

	*out = NULL;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return CUSTODY_ENOMEM;
	q->a = a;
	snprintf(q->dir, sizeof q->dir, "%s/tmp/quarantine-XXXXXX", a->path);
	if (mkdtemp(q->dir) == NULL) {
		error = custody_fail(CUSTODY_EIO, "cannot make a quarantine: %s", strerror(errno));
		q->dir[0] = '\0';
		sync_quarantine_free(q);
		return error;
	}
	*out = q;
	return 0;
}

/* Start receiving the next pack. */
static int
sync_quarantine_start(struct sync_quarantine *q)
{
	static const struct pack_limits lim = { SYNC_PACK_MAX_BYTES, SYNC_PACK_MAX_OBJECTS,
	    SYNC_OBJECT_MAX, SYNC_PACK_MAX_EXPANDED };
	git_indexer_options opts = GIT_INDEXER_OPTIONS_INIT;
	int error;

	if (q->npacks == SYNC_PACKS_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "the peer's answer passes %d packs",
		    SYNC_PACKS_MAX);
	if ((error = pack_check_new(&q->pc, &lim)) < 0)
		return error;
	memset(&q->stats, 0, sizeof q->stats);
	if (git_indexer_new(&q->idx, q->dir, 0600, NULL, &opts) < 0)
		return custody_fail(CUSTODY_EIO, "cannot receive a pack: %s",
		    git_error_last() ? git_error_last()->message : "?");
	return 0;
}

/* The next piece of the pack: checked, then indexed into the quarantine. */
int
sync_quarantine_pack(struct sync_quarantine *q, const void *data, size_t len)
{
	int error;

	if (q->idx == NULL && (error = sync_quarantine_start(q)) < 0)
		return error;
	if ((error = pack_check_feed(q->pc, data, len)) < 0)
		return custody_fail(error, "the peer's pack is refused: %s", custody_error());
	if (len > 0 && git_indexer_append(q->idx, data, len, &q->stats) < 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's pack is broken: %s",
		    git_error_last() ? git_error_last()->message : "?");
	return 0;
}

/* The pack arriving is complete: index it (the indexer's memory goes with it). */
int
sync_quarantine_pack_end(struct sync_quarantine *q)
{
	struct sync_qpack *p;
	char path[4400];
	size_t i;
	int error;

	if (q->idx == NULL && (error = sync_quarantine_start(q)) < 0)	/* no byte of it came */
		return error;
	if ((error = pack_check_finish(q->pc)) < 0)
		return custody_fail(error, "the peer's pack is refused: %s", custody_error());
	if (git_indexer_commit(q->idx, &q->stats) < 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's pack is broken: %s",
		    git_error_last() ? git_error_last()->message : "?");
	p = &q->packs[q->npacks];
	snprintf(p->name, sizeof p->name, "%s", git_indexer_name(q->idx));
	for (i = 0; i < q->npacks; i++)	/* indexed over the first: refused with all of it */
		if (strcmp(q->packs[i].name, p->name) == 0)
			return custody_fail(CUSTODY_EPROTO, "the peer sent the same pack twice");
	git_indexer_free(q->idx);
	q->idx = NULL;
	pack_check_free(q->pc);
	q->pc = NULL;
	q->npacks++;
	snprintf(path, sizeof path, "%s/pack-%s.idx", q->dir, p->name);
	if ((error = packidx_open(&p->idx, path)) < 0)
		return error;
	if ((p->used = calloc(packidx_count(p->idx) / 8 + 1, 1)) == NULL)
		return CUSTODY_ENOMEM;
	return 0;
}

/* Every pack is complete: open the objects they add to the archive's for reading. */
int
sync_quarantine_close(struct sync_quarantine *q, git_repository **repo)
{
	git_odb *odb = NULL;
	git_odb_backend *b = NULL;
	char path[4400];
	size_t i;
	int error;

	*repo = NULL;
	if ((q->idx != NULL || q->npacks == 0) && (error = sync_quarantine_pack_end(q)) < 0)
		return error;
	if (git_odb_new(&odb) < 0)
		goto fail;
	for (i = 0; i < q->npacks; i++) {
		snprintf(path, sizeof path, "%s/pack-%s.idx", q->dir, q->packs[i].name);
		if (git_odb_backend_one_pack(&b, path) < 0)
			goto fail;
		if (git_odb_add_backend(odb, b, 2) < 0) {
			b->free(b);
			goto fail;
		}
	}
	snprintf(path, sizeof path, "%s/git/objects", q->a->path);
	if (git_odb_add_disk_alternate(odb, path) < 0 || git_repository_wrap_odb(&q->repo, odb) <
	    0)
		goto fail;
	git_odb_free(odb);
	*repo = q->repo;
	return 0;
fail:
	git_odb_free(odb);
	return custody_fail(CUSTODY_EIO, "cannot open the quarantine: %s",
	    git_error_last() ? git_error_last()->message : "?");
}

/* A verified commit uses the object id: mark it in every pack that holds it. */
void
sync_quarantine_use(struct sync_quarantine *q, const git_oid *id)
{
	int64_t pos;
	size_t i;

	for (i = 0; i < q->npacks; i++)
		if (q->packs[i].idx != NULL && (pos = packidx_find(q->packs[i].idx, id->id)) >= 0)
			q->packs[i].used[pos / 8] |= (uint8_t)(1u << (pos % 8));
}

/* Is object pos of pack p marked? */
static int
sync_quarantine_used(const struct sync_qpack *p, uint32_t pos)
{
	return (p->used[pos / 8] >> (pos % 8)) & 1;
}

/* Every object of every pack is one the verified commits use (sync_quarantine_use). */
int
sync_quarantine_only(struct sync_quarantine *q)
{
	uint32_t j, n;
	size_t i;

	for (i = 0; i < q->npacks; i++)
		for (j = 0, n = packidx_count(q->packs[i].idx); j < n; j++)
			if (!sync_quarantine_used(&q->packs[i], j))
				return custody_fail(CUSTODY_EPROTO, "the peer's pack holds objects "
				    "that none of its commits use");
	return 0;
}

/* Move the verified packs into the archive's object store (durable after archive_sync). */
int
sync_quarantine_admit(struct sync_quarantine *q)
{
	static const char *ext[] = { "pack", "idx" };	/* the index last: it makes the pack seen */
	char from[4400], to[4400];
	git_odb *odb = NULL;
	size_t i, j;

	for (j = 0; j < q->npacks; j++)
		for (i = 0; i < 2; i++) {
			snprintf(from, sizeof from, "%s/pack-%s.%s", q->dir, q->packs[j].name,
			    ext[i]);
			snprintf(to, sizeof to, "%s/git/objects/pack/pack-%s.%s", q->a->path,
			    q->packs[j].name, ext[i]);
			if (rename(from, to) != 0)
				return custody_fail(CUSTODY_EIO, "cannot store the pack: %s",
				    strerror(errno));
		}
	q->admitted = 1;
	if (git_repository_odb(&odb, archive_repo(q->a)) == 0)
		git_odb_refresh(odb);
	git_odb_free(odb);
	return 0;
}

/*
 * Copy only the objects the verified commits use into the archive's object store, one by one
 * (a pack cut short by a revocation also holds objects of the commits refused after the cut,
 * which never enter). Durable after archive_sync.
 */
int
sync_quarantine_admit_used(struct sync_quarantine *q)
{
	git_odb *from = NULL, *to = NULL;
	git_odb_object *o = NULL;
	git_oid id, w;
	uint32_t j, n;
	size_t i;
	int error = 0;

	if (git_repository_odb(&from, q->repo) < 0 ||
	    git_repository_odb(&to, archive_repo(q->a)) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot open the object stores");
		goto done;
	}
	for (i = 0; i < q->npacks && error == 0; i++)
		for (j = 0, n = packidx_count(q->packs[i].idx); j < n && error == 0; j++) {
			if (!sync_quarantine_used(&q->packs[i], j))
				continue;
			git_oid_fromraw(&id, packidx_oid(q->packs[i].idx, j));
			if (git_odb_exists(to, &id))
				continue;
			if (git_odb_read(&o, from, &id) < 0 ||
			    git_odb_write(&w, to, git_odb_object_data(o), git_odb_object_size(o),
			    git_odb_object_type(o)) < 0)
				error = custody_fail(CUSTODY_EIO, "cannot store an object: %s",
				    git_error_last() ? git_error_last()->message : "?");
			git_odb_object_free(o);
			o = NULL;
		}
done:
	git_odb_free(from);
	git_odb_free(to);
	return error;
}

/*
 * Once admitted: let go of the quarantine's repository (its object cache) and its pack indexes
 * before the index reads what arrived through the archive's own.
 */
void
sync_quarantine_release(struct sync_quarantine *q)
{
	size_t i;

	for (i = 0; i < q->npacks; i++) {
		packidx_free(q->packs[i].idx);
		q->packs[i].idx = NULL;
		free(q->packs[i].used);
		q->packs[i].used = NULL;
	}
	git_repository_free(q->repo);
	q->repo = NULL;
}

/* Close the quarantine and remove what it still holds; NULL is fine. */
void
sync_quarantine_free(struct sync_quarantine *q)
{
	if (q == NULL)
		return;
	sync_quarantine_release(q);
	git_indexer_free(q->idx);
	pack_check_free(q->pc);
	if (q->dir[0] != '\0')
		sync_quarantine_remove_dir(q->dir);
	free(q);
}
