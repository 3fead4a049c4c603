/*
 * The quarantine for a peer's pack: the pack is checked as it streams in (proto/pack-check.c:
 * sizes of the pack, its entries and its deltas, before libgit2 inflates anything) and indexed
 * into its own directory, tmp/quarantine-XXXXXX, never into git/objects. The commits are
 * verified through a repository that sees the quarantine and the archive's objects; only when
 * they are, and when every object of the pack belongs to them, does the pack move into
 * git/objects/pack. Whatever happens otherwise, the directory is removed with all it holds.
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
#include "sync-verify.h"

struct sync_quarantine {
	struct archive		*a;
	char			 dir[4096];
	git_indexer		*idx;
	git_indexer_progress	 stats;
	struct pack_check	*pc;
	char			 name[GIT_OID_HEXSZ + 1];	/* pack-NAME.pack, once indexed */
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

/* A new quarantine under tmp/ for one pack. */
int
sync_quarantine_begin(struct sync_quarantine **out, struct archive *a)
{
	static const struct pack_limits lim = { SYNC_PACK_MAX_BYTES, SYNC_PACK_MAX_OBJECTS,
	    SYNC_OBJECT_MAX, SYNC_PACK_MAX_EXPANDED };
	git_indexer_options opts = GIT_INDEXER_OPTIONS_INIT;
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
		goto fail;
	}
	if ((error = pack_check_new(&q->pc, &lim)) < 0)
		goto fail;
	if (git_indexer_new(&q->idx, q->dir, 0600, NULL, &opts) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot receive a pack: %s",
		    git_error_last() ? git_error_last()->message : "?");
		goto fail;
	}
	*out = q;
	return 0;
fail:
	sync_quarantine_free(q);
	return error;
}

/* The next piece of the pack: checked, then indexed into the quarantine. */
int
sync_quarantine_pack(struct sync_quarantine *q, const void *data, size_t len)
{
	int error;

	if ((error = pack_check_feed(q->pc, data, len)) < 0)
		return custody_fail(error, "the peer's pack is refused: %s", custody_error());
	if (len > 0 && git_indexer_append(q->idx, data, len, &q->stats) < 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's pack is broken: %s",
		    git_error_last() ? git_error_last()->message : "?");
	return 0;
}

/* The pack is complete: index it, and open the objects it adds to the archive's for reading. */
int
sync_quarantine_close(struct sync_quarantine *q, git_repository **repo)
{
	git_odb *odb = NULL;
	git_odb_backend *b = NULL;
	char path[4400];
	int error;

	*repo = NULL;
	if ((error = pack_check_finish(q->pc)) < 0)
		return custody_fail(error, "the peer's pack is refused: %s", custody_error());
	if (git_indexer_commit(q->idx, &q->stats) < 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's pack is broken: %s",
		    git_error_last() ? git_error_last()->message : "?");
	snprintf(q->name, sizeof q->name, "%s", git_indexer_name(q->idx));
	snprintf(path, sizeof path, "%s/pack-%s.idx", q->dir, q->name);
	if (git_odb_new(&odb) < 0 || git_odb_backend_one_pack(&b, path) < 0)
		goto fail;
	if (git_odb_add_backend(odb, b, 2) < 0) {
		b->free(b);
		goto fail;
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

static int
sync_quarantine_only_cb(const git_oid *id, void *arg)
{
	return oidset_add(arg, id) == 0 ? 0 : -1;
}

/* Every object of the pack is one the verified commits use (those are in used). */
int
sync_quarantine_only(struct sync_quarantine *q, struct oidset *used)
{
	git_odb *odb = NULL;
	git_odb_backend *b = NULL;
	char path[4400];
	int r;

	snprintf(path, sizeof path, "%s/pack-%s.idx", q->dir, q->name);
	if (git_odb_new(&odb) < 0 || git_odb_backend_one_pack(&b, path) < 0 ||
	    git_odb_add_backend(odb, b, 1) < 0) {
		if (b != NULL && odb != NULL)
			b->free(b);
		git_odb_free(odb);
		return custody_fail(CUSTODY_EIO, "cannot read the quarantine");
	}
	r = git_odb_foreach(odb, sync_quarantine_only_cb, used);
	git_odb_free(odb);
	if (r != 0)
		return custody_fail(CUSTODY_EPROTO, "the peer's pack holds objects that none of "
		    "its commits use");
	return 0;
}

/* Move the verified pack into the archive's object store (durable after archive_sync). */
int
sync_quarantine_admit(struct sync_quarantine *q)
{
	static const char *ext[] = { "pack", "idx" };	/* the index last: it makes the pack seen */
	char from[4400], to[4400];
	git_odb *odb = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(from, sizeof from, "%s/pack-%s.%s", q->dir, q->name, ext[i]);
		snprintf(to, sizeof to, "%s/git/objects/pack/pack-%s.%s", q->a->path, q->name,
		    ext[i]);
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
sync_quarantine_admit_used(struct sync_quarantine *q, const struct oidset *used)
{
	static const git_oid zero;
	git_odb *from = NULL, *to = NULL;
	git_odb_object *o = NULL;
	git_oid id;
	size_t i;
	int error = 0;

	if (git_repository_odb(&from, q->repo) < 0 ||
	    git_repository_odb(&to, archive_repo(q->a)) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot open the object stores");
		goto done;
	}
	for (i = 0; i < used->cap && error == 0; i++) {
		if (git_oid_equal(&used->slots[i], &zero))
			continue;
		if (git_odb_exists(to, &used->slots[i]))
			continue;
		if (git_odb_read(&o, from, &used->slots[i]) < 0 ||
		    git_odb_write(&id, to, git_odb_object_data(o), git_odb_object_size(o),
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

/* Close the quarantine and remove what it still holds; NULL is fine. */
void
sync_quarantine_free(struct sync_quarantine *q)
{
	if (q == NULL)
		return;
	git_repository_free(q->repo);
	git_indexer_free(q->idx);
	pack_check_free(q->pc);
	if (q->dir[0] != '\0')
		sync_quarantine_remove_dir(q->dir);
	free(q);
}
