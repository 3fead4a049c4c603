/*
 * The archive's git packs, kept few. Every large commit, import and peer's sync adds a pack to
 * git/objects/pack, and nothing else removes one. libgit2 (1.5) looks for an object in each
 * pack in turn, and whenever an object is in none of them it reads the pack directory again and
 * compares each name in it with each pack it knows. With 3,000 packs a commit of one record
 * took 235 ms instead of 7, nearly all of it in those comparisons, which grow with the square of
 * the packs: an office that syncs with its peers every few minutes for years would slow down
 * without end.
 *
 * So past ARCHIVE_PACKS_MAX packs the small ones are merged into one, chosen as
 * `git repack --geometric=2` chooses: by size, every pack less than twice the size of the one
 * before it, and all below it, and then every pack less than twice all those together. What
 * stays is a few packs each at least twice the one before, and a large pack is rewritten rarely.
 * Every object of the packs merged goes into the new one, whatever refers to it, so nothing is
 * lost; each is read through a backend of its own pack and its id checked again as it is written
 * (custody/packwrite.h: stored, since sealed records do not compress). The new pack is durable
 * before the old ones are removed. A crash in between leaves objects in two packs, which the
 * next merge takes once; a pack without its index, or an index without its pack, is removed at
 * the next start (archive_packs_sweep).
 *
 * Other threads' repository handles may still list a pack merged away. libgit2 keeps one open
 * pack file per path for the whole process while any handle lists it, and the merge opens every
 * pack it reads before it removes it: such a handle still reads from the open file. A handle
 * opened afterwards sees only the new pack. Since a handle never lets go of a pack it listed,
 * the threads close theirs between jobs after a merge (archive_thread_settle), and the space of
 * the packs removed is freed then.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "custody/packidx.h"
#include "custody/packwrite.h"

#include "archive.h"
#include "log.h"

#define PACKS_BASE_MAX 64	/* "pack-" and 40 hex digits, with room */
#define PACKS_MERGE_MAX 256	/* packs merged at once (each open meanwhile); more in turns */

struct packs_one {
	char		 base[PACKS_BASE_MAX];	/* pack-HEX, without .pack or .idx */
	uint64_t	 size;			/* of the .pack */
};

/* A new file WHAT-XXXXXX under tmpdir for a pack or its index; its path in *path (the caller's). */
int
archive_pack_tmpfile(const char *tmpdir, const char *what, char **path)
{
	int fd;

	if (asprintf(path, "%s/%s-XXXXXX", tmpdir, what) < 0) {
		*path = NULL;
		return custody_fail(CUSTODY_ENOMEM, "out of memory");
	}
	if ((fd = mkostemp(*path, O_CLOEXEC)) < 0) {
		custody_fail(CUSTODY_EIO, "cannot create %s: %s", *path, strerror(errno));
		free(*path);
		*path = NULL;
	}
	return fd;
}

/*
 * Move a pack and its index written under tmp/ into packdir (git/objects/pack), named after the
 * pack's checksum sum, the index last as git does; read-only, as git leaves them. The paths
 * under tmp/ are freed and set to NULL once moved.
 */
int
archive_pack_place(const char *packdir, int pack_fd, int idx_fd, char **pack_tmp,
    char **idx_tmp, const uint8_t sum[static PACKWRITE_OID_LEN])
{
	char hex[2 * PACKWRITE_OID_LEN + 1], *pack = NULL, *idx = NULL;
	int error = 0;

	hex_encode(hex, sum, PACKWRITE_OID_LEN);
	if (asprintf(&pack, "%s/pack-%s.pack", packdir, hex) < 0 ||
	    asprintf(&idx, "%s/pack-%s.idx", packdir, hex) < 0)
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
	else if (fchmod(pack_fd, 0444) < 0 || fchmod(idx_fd, 0444) < 0 ||
	    rename(*pack_tmp, pack) < 0 || rename(*idx_tmp, idx) < 0)
		error = custody_fail(CUSTODY_EIO, "cannot put the pack in place: %s",
		    strerror(errno));
	else {
		free(*pack_tmp);
		free(*idx_tmp);
		*pack_tmp = *idx_tmp = NULL;
	}
	free(pack);
	free(idx);
	return error;
}

/* Close a pack's and its index's files and remove what is left of them under tmp/. */
void
archive_pack_discard(int pack_fd, int idx_fd, char *pack_tmp, char *idx_tmp)
{
	if (pack_fd >= 0)
		close(pack_fd);
	if (idx_fd >= 0)
		close(idx_fd);
	if (pack_tmp != NULL)
		unlink(pack_tmp);
	if (idx_tmp != NULL)
		unlink(idx_tmp);
	free(pack_tmp);
	free(idx_tmp);
}

static int
packs_cmp(const void *x, const void *y)
{
	const struct packs_one *p = x, *q = y;

	if (p->size != q->size)
		return p->size < q->size ? -1 : 1;
	return strcmp(p->base, q->base);
}

/* Whether name is pack-HEX.ext; its base (pack-HEX) in base. */
static int
packs_name(const char *name, const char *ext, char base[static PACKS_BASE_MAX])
{
	size_t n = strlen(name), e = strlen(ext);

	if (n <= e || n - e >= PACKS_BASE_MAX || strncmp(name, "pack-", 5) != 0 ||
	    strcmp(name + n - e, ext) != 0)
		return 0;
	memcpy(base, name, n - e);
	base[n - e] = '\0';
	return 1;
}

/* The packs in packdir that have both their files, smallest first; *v the caller's to free. */
static int
packs_list(const char *packdir, struct packs_one **v, size_t *n)
{
	struct packs_one *grown;
	struct dirent *de;
	struct stat st;
	char base[PACKS_BASE_MAX], path[4200];
	size_t cap = 0;
	DIR *d;

	*v = NULL;
	*n = 0;
	if ((d = opendir(packdir)) == NULL)
		return custody_fail(CUSTODY_EIO, "cannot read %s: %s", packdir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!packs_name(de->d_name, ".idx", base))
			continue;
		snprintf(path, sizeof path, "%s/%s.pack", packdir, base);
		if (stat(path, &st) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((grown = realloc(*v, cap * sizeof **v)) == NULL) {
				closedir(d);
				return custody_fail(CUSTODY_ENOMEM, "out of memory");
			}
			*v = grown;
		}
		memcpy((*v)[*n].base, base, sizeof base);
		(*v)[(*n)++].size = (uint64_t)st.st_size;
	}
	closedir(d);
	if (*n > 1)
		qsort(*v, *n, sizeof **v, packs_cmp);
	return 0;
}

/*
 * How many of the smallest packs (v, sorted) to merge so that the rest grow at least twofold
 * from one to the next and from all the merged together; 0 for none.
 */
static size_t
packs_choose(const struct packs_one *v, size_t n)
{
	uint64_t sum = 0;
	size_t k = 0, i;

	for (i = 1; i < n; i++)
		if (v[i].size < 2 * v[i - 1].size)
			k = i + 1;
	for (i = 0; i < k; i++)
		sum += v[i].size;
	while (k < n && v[k].size < 2 * sum)
		sum += v[k++].size;
	if (k > PACKS_MERGE_MAX)
		k = PACKS_MERGE_MAX;
	return k >= 2 ? k : 0;
}

/* Copy every object of the k packs v into pw, each once, its id checked as it is written. */
static int
packs_copy(struct packwrite *pw, const char *packdir, const struct packs_one *v, size_t k,
    git_odb_backend **b, struct packidx **x)
{
	uint8_t got[PACKWRITE_OID_LEN];
	char path[4200], what[128], hex[GIT_OID_HEXSZ + 1];
	const uint8_t *raw;
	git_object_t type;
	git_oid id;
	uint32_t j, n;
	size_t i, m, len;
	void *data;
	int error = 0;

	for (i = 0; i < k; i++) {
		snprintf(path, sizeof path, "%s/%s.idx", packdir, v[i].base);
		if (packidx_open(&x[i], path) < 0 || git_odb_backend_one_pack(&b[i], path) < 0)
			return custody_fail(CUSTODY_EIO, "cannot open %s", path);
	}
	for (i = 0; i < k && error == 0; i++) {
		n = packidx_count(x[i]);
		/* opened even if every object is in an earlier pack: see the top of the file */
		if (n > 0) {
			git_oid_fromraw(&id, packidx_oid(x[i], 0));
			if (b[i]->read_header(&len, &type, b[i], &id) < 0) {
				snprintf(what, sizeof what, "cannot read %s", v[i].base);
				return feed_git_fail(CUSTODY_EIO, what);
			}
		}
		for (j = 0; j < n && error == 0; j++) {
			raw = packidx_oid(x[i], j);
			for (m = 0; m < i && packidx_find(x[m], raw) < 0; m++)
				continue;
			if (m < i)
				continue;	/* in an earlier pack too */
			git_oid_fromraw(&id, raw);
			if (b[i]->read(&data, &len, &type, b[i], &id) < 0) {
				snprintf(what, sizeof what, "cannot read object %s of %s",
				    git_oid_tostr(hex, sizeof hex, &id), v[i].base);
				return feed_git_fail(CUSTODY_EIO, what);
			}
			error = packwrite_add(pw, (enum packwrite_type)type, data, len, got);
			git_odb_backend_data_free(b[i], data);
			if (error == 0 && memcmp(got, raw, sizeof got) != 0)
				error = custody_fail(CUSTODY_EIO, "object %s of %s does not hash to "
				    "its id", git_oid_tostr(hex, sizeof hex, &id), v[i].base);
		}
	}
	return error;
}

/* Merge the k packs v of packdir into one, then remove them. */
static int
packs_merge(struct archive *a, const char *packdir, const struct packs_one *v, size_t k)
{
	git_odb_backend **b = calloc(k, sizeof *b);
	struct packidx **x = calloc(k, sizeof *x);
	struct packwrite *pw = NULL;
	uint8_t sum[PACKWRITE_OID_LEN];
	char *tmpdir = archive_file(a, "tmp"), *pack_tmp = NULL, *idx_tmp = NULL, path[4200],
	    kept[PACKS_BASE_MAX], hex[2 * PACKWRITE_OID_LEN + 1];
	int pack_fd = -1, idx_fd = -1, scratch, error = 0;
	size_t i;

	if (b == NULL || x == NULL || tmpdir == NULL) {
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
		goto done;
	}
	if ((pack_fd = archive_pack_tmpfile(tmpdir, "packs", &pack_tmp)) < 0 ||
	    (idx_fd = archive_pack_tmpfile(tmpdir, "packs-idx", &idx_tmp)) < 0) {
		error = CUSTODY_EIO;
		goto done;
	}
	if ((scratch = archive_tmpfile(a, "packs-sort")) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot sort the pack's index under tmp/: %s",
		    strerror(errno));
		goto done;
	}
	if ((error = packwrite_new(&pw, pack_fd)) < 0 ||
	    (error = packwrite_scratch(pw, scratch)) < 0 ||
	    (error = packs_copy(pw, packdir, v, k, b, x)) < 0 ||
	    (error = packwrite_finish(pw, idx_fd, sum)) < 0)
		goto done;
	if (fsync(pack_fd) != 0 || fsync(idx_fd) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot write the merged pack: %s",
		    strerror(errno));
		goto done;
	}
	if ((error = archive_pack_place(packdir, pack_fd, idx_fd, &pack_tmp, &idx_tmp, sum)) < 0)
		goto done;
	if (fsync_dir(packdir) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot sync %s: %s", packdir, strerror(errno));
		goto done;
	}
	/* durable: the old packs go, index first (a pack without one is not read) */
	hex_encode(hex, sum, sizeof sum);
	snprintf(kept, sizeof kept, "pack-%s", hex);
	for (i = 0; i < k; i++) {
		if (strcmp(v[i].base, kept) == 0)
			continue;	/* the same objects in the same order: the same pack */
		snprintf(path, sizeof path, "%s/%s.idx", packdir, v[i].base);
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
		snprintf(path, sizeof path, "%s/%s.pack", packdir, v[i].base);
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	(void)fsync_dir(packdir);
	archive_packs_merged();
done:
	packwrite_free(pw);
	for (i = 0; b != NULL && x != NULL && i < k; i++) {
		if (b[i] != NULL)
			b[i]->free(b[i]);
		packidx_free(x[i]);
	}
	free(b);
	free(x);
	archive_pack_discard(pack_fd, idx_fd, pack_tmp, idx_tmp);
	free(tmpdir);
	return error;
}

/*
 * Merge the small packs while there are more than max; *merged (may be NULL) gets how many
 * packs were merged away. One merge at a time: a call while another runs returns at once.
 */
int
archive_packs_tidy(struct archive *a, size_t max, size_t *merged)
{
	struct packs_one *v = NULL;
	char *packdir = archive_file(a, "git/objects/pack");
	size_t n = 0, k = 0, before = SIZE_MAX;
	int error = 0;

	if (merged != NULL)
		*merged = 0;
	if (packdir == NULL)
		return custody_fail(CUSTODY_ENOMEM, "out of memory");
	if (pthread_mutex_trylock(&a->packs_lock) != 0) {
		free(packdir);
		return 0;
	}
	/* PACKS_MERGE_MAX at a time: each round leaves k - 1 fewer packs, or it stops */
	while ((error = packs_list(packdir, &v, &n)) == 0 && n > max && n < before &&
	    (k = packs_choose(v, n)) > 0 && (error = packs_merge(a, packdir, v, k)) == 0) {
		log_info("git: merged %zu of %zu packs into one", k, n);
		if (merged != NULL)
			*merged += k;
		free(v);
		v = NULL;
		before = n;
	}
	pthread_mutex_unlock(&a->packs_lock);
	free(v);
	free(packdir);
	return error;
}

/* archive_packs_tidy after a commit: past ARCHIVE_PACKS_MAX; a failure is only logged. */
void
archive_packs_after(struct archive *a)
{
	if (archive_packs_tidy(a, ARCHIVE_PACKS_MAX, NULL) < 0)
		log_warn("git: the packs were not merged: %s", custody_error());
}

/*
 * At start, before anything reads git: remove a pack without its index and an index without its
 * pack, which only a crash between the two leaves (a pack is put in place before its index, and
 * removed after it); neither is read by git or libgit2.
 */
int
archive_packs_sweep(struct archive *a, unsigned *removed)
{
	char *packdir = archive_file(a, "git/objects/pack"), base[PACKS_BASE_MAX], path[4200];
	const char *other;
	struct dirent *de;
	struct stat st;
	DIR *d;

	*removed = 0;
	if (packdir == NULL)
		return custody_fail(CUSTODY_ENOMEM, "out of memory");
	if ((d = opendir(packdir)) == NULL) {
		int error = errno == ENOENT ? 0 : custody_fail(CUSTODY_EIO, "cannot read %s: %s",
		    packdir, strerror(errno));

		free(packdir);
		return error;
	}
	while ((de = readdir(d)) != NULL) {
		if (packs_name(de->d_name, ".pack", base))
			other = ".idx";
		else if (packs_name(de->d_name, ".idx", base))
			other = ".pack";
		else
			continue;
		snprintf(path, sizeof path, "%s/%s%s", packdir, base, other);
		if (stat(path, &st) == 0 || errno != ENOENT)
			continue;
		snprintf(path, sizeof path, "%s/%s", packdir, de->d_name);
		if (unlink(path) == 0)
			(*removed)++;
	}
	closedir(d);
	free(packdir);
	return 0;
}
