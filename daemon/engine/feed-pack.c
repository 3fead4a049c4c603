/*
 * The new objects of one large commit, collected by an object database backend and then
 * written as one pack of stored objects (custody/packwrite.h). Sealed records do not
 * compress: libgit2's packbuilder (git_mempack_dump) searched them for deltas and deflated
 * them, which cost seconds for a batch of ten thousand files and gained nothing.
 *
 * The objects' bytes wait in an unnamed file under tmp/, in the order written; memory holds
 * 48 bytes of each (its id, type, length and place), with an open-addressed table of their ids
 * for reads (the tree and commit are read back before the pack is written). A commit of
 * 40,000 evidence records held some 40 MiB of them in memory before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "archive.h"
#include "custody/packwrite.h"
#include "feed-pack.h"

struct feed_pack_obj {
	git_oid		 oid;
	git_object_t	 type;
	size_t		 len;
	uint64_t	 off;		/* in the scratch file */
};

struct feed_pack {
	git_odb_backend		 parent;	/* first: libgit2 hands this back */
	char			*tmpdir;	/* the archive's tmp/ */
	int			 fd;		/* the scratch file of the objects' bytes */
	uint64_t		 end;
	struct feed_pack_obj	*v;
	size_t			 n, cap;
	size_t			*slot;		/* index + 1 into v, 0 for empty */
	size_t			 nslot;		/* a power of two, at least twice n */
};

static size_t
feed_pack_hash(const git_oid *oid)
{
	size_t h;

	memcpy(&h, oid->id, sizeof h);
	return h;
}

/* The object with this id, or NULL. */
static struct feed_pack_obj *
feed_pack_find(struct feed_pack *p, const git_oid *oid)
{
	size_t i;

	if (p->nslot == 0)
		return NULL;
	for (i = feed_pack_hash(oid) & (p->nslot - 1); p->slot[i] != 0;
	    i = (i + 1) & (p->nslot - 1))
		if (git_oid_equal(&p->v[p->slot[i] - 1].oid, oid))
			return &p->v[p->slot[i] - 1];
	return NULL;
}

/* Put v[k] in the table. */
static void
feed_pack_link(struct feed_pack *p, size_t k)
{
	size_t i;

	for (i = feed_pack_hash(&p->v[k].oid) & (p->nslot - 1); p->slot[i] != 0;
	    i = (i + 1) & (p->nslot - 1))
		;
	p->slot[i] = k + 1;
}

/* Room for one more object, the table rebuilt twice as large when half full. */
static int
feed_pack_grow(struct feed_pack *p)
{
	struct feed_pack_obj *v;
	size_t *slot, k, cap;

	if (p->n == p->cap) {
		cap = p->cap ? 2 * p->cap : 256;
		if ((v = reallocarray(p->v, cap, sizeof *v)) == NULL)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	if (2 * (p->n + 1) > p->nslot) {
		cap = p->nslot ? 2 * p->nslot : 512;
		if ((slot = calloc(cap, sizeof *slot)) == NULL)
			return -1;
		free(p->slot);
		p->slot = slot;
		p->nslot = cap;
		for (k = 0; k < p->n; k++)
			feed_pack_link(p, k);
	}
	return 0;
}

static int
feed_pack_write(git_odb_backend *b, const git_oid *oid, const void *data, size_t len,
    git_object_t type)
{
	struct feed_pack *p = (struct feed_pack *)b;
	struct feed_pack_obj *o;
	int error;

	if (feed_pack_find(p, oid) != NULL)
		return 0;
	if (feed_pack_grow(p) < 0)
		return -1;
	if ((error = pwrite_all(p->fd, data, len, p->end)) < 0) {
		git_error_set_str(GIT_ERROR_OS, error == CUSTODY_ENOSPC ?
		    "no space left on device for the commit's objects" :
		    "cannot write the commit's scratch file");
		return -1;
	}
	o = &p->v[p->n];
	o->off = p->end;
	o->len = len;
	o->type = type;
	git_oid_cpy(&o->oid, oid);
	p->end += len;
	feed_pack_link(p, p->n++);
	return 0;
}

static int
feed_pack_read(void **out, size_t *len, git_object_t *type, git_odb_backend *b,
    const git_oid *oid)
{
	struct feed_pack *p = (struct feed_pack *)b;
	struct feed_pack_obj *o = feed_pack_find(p, oid);

	if (o == NULL)
		return GIT_ENOTFOUND;
	if ((*out = git_odb_backend_data_alloc(b, o->len ? o->len : 1)) == NULL)
		return -1;
	if (pread_full(p->fd, *out, o->len, o->off) < 0) {
		git_error_set_str(GIT_ERROR_OS, "cannot read the commit's scratch file");
		git_odb_backend_data_free(b, *out);
		*out = NULL;
		return -1;
	}
	*len = o->len;
	*type = o->type;
	return 0;
}

static int
feed_pack_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	struct feed_pack_obj *o = feed_pack_find((struct feed_pack *)b, oid);

	if (o == NULL)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int
feed_pack_exists(git_odb_backend *b, const git_oid *oid)
{
	return feed_pack_find((struct feed_pack *)b, oid) != NULL;
}

/* Forget every object collected. */
static void
feed_pack_reset(struct feed_pack *p)
{
	if (p->fd >= 0 && ftruncate(p->fd, 0) == 0)
		p->end = 0;	/* else later objects go after the old ones */
	free(p->v);
	free(p->slot);
	p->v = NULL;
	p->slot = NULL;
	p->n = p->cap = p->nslot = 0;
}

static void
feed_pack_free(git_odb_backend *b)
{
	struct feed_pack *p = (struct feed_pack *)b;

	feed_pack_reset(p);
	if (p->fd >= 0)
		close(p->fd);
	free(p->tmpdir);
	free(p);
}

/* A backend collecting objects in memory, to add to a repository's odb at top priority. */
int
feed_pack_new(git_odb_backend **out, const struct archive *a)
{
	struct feed_pack *p;

	*out = NULL;
	if ((p = calloc(1, sizeof *p)) == NULL || (p->tmpdir = archive_file(a, "tmp")) == NULL) {
		free(p);
		return CUSTODY_ENOMEM;
	}
	if ((p->fd = archive_tmpfile(a, "objects")) < 0) {
		free(p->tmpdir);
		free(p);
		return custody_fail(CUSTODY_EIO, "cannot create a file under tmp/: %s",
		    strerror(errno));
	}
	git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION);
	p->parent.read = feed_pack_read;
	p->parent.read_header = feed_pack_read_header;
	p->parent.write = feed_pack_write;
	p->parent.exists = feed_pack_exists;
	p->parent.free = feed_pack_free;
	*out = &p->parent;
	return 0;
}

/*
 * Write every object collected as one pack with its index under tmp/, move both into the
 * repository's objects/pack (index last, as git does), and let repo's odb see them. Durable
 * after the caller's archive_sync(). The memory is emptied either way.
 */
int
feed_pack_install(git_repository *repo, git_odb_backend *b)
{
	struct feed_pack *p = (struct feed_pack *)b;
	struct packwrite *pw = NULL;
	uint8_t sum[PACKWRITE_OID_LEN], oid[PACKWRITE_OID_LEN];
	char *pack_tmp = NULL, *idx_tmp = NULL, *packdir = NULL;
	git_odb *odb = NULL;
	struct cbuf buf = { 0 };
	int pack_fd = -1, idx_fd = -1, error = 0;
	size_t i;

	if (p->n == 0)
		goto done;
	if ((pack_fd = archive_pack_tmpfile(p->tmpdir, "pack", &pack_tmp)) < 0 ||
	    (idx_fd = archive_pack_tmpfile(p->tmpdir, "idx", &idx_tmp)) < 0) {
		error = CUSTODY_EIO;
		goto done;
	}
	if ((error = packwrite_new(&pw, pack_fd)) < 0)
		goto done;
	for (i = 0; i < p->n && error == 0; i++) {
		if ((error = cbuf_reserve(&buf, p->v[i].len)) < 0)
			break;
		if (pread_full(p->fd, buf.data, p->v[i].len, p->v[i].off) < 0) {
			error = custody_fail(CUSTODY_EIO, "cannot read the commit's objects back "
			    "from tmp/");
			break;
		}
		error = packwrite_add(pw, (enum packwrite_type)p->v[i].type, buf.data,
		    p->v[i].len, oid);
	}
	if (error < 0 || (error = packwrite_finish(pw, idx_fd, sum)) < 0)
		goto done;
	if (asprintf(&packdir, "%sobjects/pack", git_repository_path(repo)) < 0) {
		packdir = NULL;
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = archive_pack_place(packdir, pack_fd, idx_fd, &pack_tmp, &idx_tmp, sum)) < 0)
		goto done;
	if (git_repository_odb(&odb, repo) < 0 || git_odb_refresh(odb) < 0)
		error = feed_git_fail(CUSTODY_EIO, "reading the new pack");
done:
	packwrite_free(pw);
	archive_pack_discard(pack_fd, idx_fd, pack_tmp, idx_tmp);
	free(packdir);
	git_odb_free(odb);
	cbuf_free(&buf);
	feed_pack_reset(p);
	return error;
}
