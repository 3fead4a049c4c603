/*
 * The files of a dossier, from a decrypted directory or from an age file whose tar streams
 * through: evidence is hashed as it passes and never kept, everything else is kept in memory
 * within limits. No plaintext is ever written anywhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "custody/tar.h"
#include "dossier-int.h"

#define DOSSIER_CHUNK	(64 * 1024)

/* True when path lies under data/evidence/. */
int
dossier_set_streamed(const char *path)
{
	return strncmp(path, "data/evidence/", 14) == 0;
}

/* Add a name; *out points into the set until the next add. */
int
dossier_set_add(struct dset *s, struct dfile **out, const char *path, int dir)
{
	struct dfile *f;
	size_t cap, len = strlen(path);

	*out = NULL;
	if (s->n >= DOSSIER_MAX_ENTRIES)
		return custody_fail(CUSTODY_ETOOBIG, "the bag has more than %u names",
		    DOSSIER_MAX_ENTRIES);
	if (len > DOSSIER_TOTAL_MAX - s->kept)
		return custody_fail(CUSTODY_ETOOBIG, "the bag's names and kept files are larger "
		    "than %llu MiB together", DOSSIER_TOTAL_MAX >> 20);
	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		if ((f = reallocarray(s->f, cap, sizeof *f)) == NULL)
			return CUSTODY_ENOMEM;
		s->f = f;
		s->cap = cap;
	}
	f = &s->f[s->n];
	memset(f, 0, sizeof *f);
	if ((f->path = strdup(path)) == NULL)
		return CUSTODY_ENOMEM;
	f->dir = dir;
	f->kept = !dir && !dossier_set_streamed(path);
	s->kept += len;
	s->n++;
	*out = f;
	return 0;
}

/*
 * Room for a kept file of size bytes, allocated exactly (a cbuf would round up to a power of
 * two), after checking the limits.
 */
static int
set_reserve(struct dset *s, struct dfile *f, uint64_t size)
{
	if (size > DOSSIER_FILE_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "%s is larger than %u MiB, the limit for a "
		    "file kept in memory", f->path, DOSSIER_FILE_MAX >> 20);
	if (size > DOSSIER_TOTAL_MAX - s->kept)
		return custody_fail(CUSTODY_ETOOBIG, "the bag's names and kept files are larger "
		    "than %llu MiB together", DOSSIER_TOTAL_MAX >> 20);
	if (f->data.data != NULL)
		return 0;
	if ((f->data.data = malloc((size_t)size + 1)) == NULL)
		return CUSTODY_ENOMEM;
	f->data.cap = (size_t)size + 1;
	f->data.data[0] = '\0';
	return 0;
}

/* Keep n more bytes of f. */
int
dossier_set_keep(struct dset *s, struct dfile *f, const void *p, size_t n)
{
	int error;

	if (n > DOSSIER_FILE_MAX - f->data.len)
		return custody_fail(CUSTODY_ETOOBIG, "%s is larger than %u MiB, the limit for a "
		    "file kept in memory", f->path, DOSSIER_FILE_MAX >> 20);
	if (n > DOSSIER_TOTAL_MAX - s->kept)
		return custody_fail(CUSTODY_ETOOBIG, "the bag's names and kept files are larger "
		    "than %llu MiB together", DOSSIER_TOTAL_MAX >> 20);
	if ((error = cbuf_put(&f->data, p, n)) < 0)
		return error;
	s->kept += n;
	return 0;
}

static int
dfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dfile *)a)->path, ((const struct dfile *)b)->path);
}

/* The entry called path, or NULL. */
struct dfile *
dossier_set_find(const struct dset *s, const char *path)
{
	struct dfile key = { .path = (char *)path };

	if (s->n == 0)
		return NULL;
	return bsearch(&key, s->f, s->n, sizeof key, dfile_cmp);
}

/* The regular file called path, or NULL. */
struct dfile *
dossier_set_file(const struct dset *s, const char *path)
{
	struct dfile *f = dossier_set_find(s, path);

	return f != NULL && !f->dir ? f : NULL;
}

/* Sort, and refuse a name given twice or a file standing where a directory is. */
int
dossier_set_seal(struct dset *s)
{
	struct dfile *parent;
	char *copy, *slash;
	size_t i;

	if (s->n > 1)
		qsort(s->f, s->n, sizeof *s->f, dfile_cmp);
	for (i = 1; i < s->n; i++)
		if (strcmp(s->f[i - 1].path, s->f[i].path) == 0)
			return custody_fail(CUSTODY_EINVAL, "%s appears twice in the bag",
			    s->f[i].path);
	for (i = 0; i < s->n; i++) {
		if (strchr(s->f[i].path, '/') == NULL)
			continue;
		if ((copy = strdup(s->f[i].path)) == NULL)
			return CUSTODY_ENOMEM;
		for (slash = strchr(copy, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			parent = dossier_set_find(s, copy);
			if (parent != NULL && !parent->dir) {
				custody_fail(CUSTODY_EINVAL, "%s is a file and a directory", copy);
				free(copy);
				return CUSTODY_EINVAL;
			}
			*slash = '/';
		}
		free(copy);
	}
	return 0;
}

/* Free every entry; wipes what was kept. */
void
dossier_set_free(struct dset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].path);
		cbuf_free(&s->f[i].data);
		dossier_git_commit_free(s->f[i].commit);
	}
	free(s->f);
	free(s->top);
	memset(s, 0, sizeof *s);
}

/* Finish a SHA-256 as lower-case hex. */
static int
set_digest_final(char hex[static SHA256_HEX_LEN + 1], EVP_MD_CTX *md)
{
	uint8_t d[SHA256_LEN];
	unsigned int len;

	if (EVP_DigestFinal_ex(md, d, &len) != 1 || len != SHA256_LEN)
		return custody_fail(CUSTODY_ERR, "SHA-256 failed");
	hex_encode(hex, d, SHA256_LEN);
	return 0;
}

/* ---- a decrypted directory ---- */

/* Read the regular file fd into entry i of s: hashed, kept unless evidence. */
static int
set_read_file(struct dset *s, size_t i, int fd, EVP_MD_CTX *md, uint8_t *buf)
{
	struct stat st;
	ssize_t got;
	int error;

	if (fstat(fd, &st) < 0)
		return custody_fail(CUSTODY_EIO, "%s: %s", s->f[i].path, strerror(errno));
	if (s->f[i].kept && (error = set_reserve(s, &s->f[i], (uint64_t)st.st_size)) < 0)
		return error;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return custody_fail(CUSTODY_ERR, "SHA-256 unavailable");
	while ((got = read_full(fd, buf, DOSSIER_CHUNK)) > 0) {
		if (s->f[i].kept && (error = dossier_set_keep(s, &s->f[i], buf,
		    (size_t)got)) < 0)
			return error;
		EVP_DigestUpdate(md, buf, (size_t)got);
		s->f[i].size += (uint64_t)got;
	}
	if (got < 0)
		return custody_fail(CUSTODY_EIO, "%s: %s", s->f[i].path, strerror(errno));
	return set_digest_final(s->f[i].sha256, md);
}

/* Walk directory dfd (its path in the bag pre, "" or ending in '/'); takes dfd. */
static int
set_walk(struct dset *s, struct bagit_report *bag, int dfd, const char *pre, int depth,
    EVP_MD_CTX *md, uint8_t *buf)
{
	struct dirent *de;
	struct dfile *f;
	struct stat st;
	DIR *d;
	char *path = NULL;
	int fd, error = 0;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return custody_fail(CUSTODY_EIO, "%s: %s", *pre ? pre : ".", strerror(errno));
	}
	while (error == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		free(path);
		if (asprintf(&path, "%s%s", pre, de->d_name) < 0) {
			path = NULL;
			error = CUSTODY_ENOMEM;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= BAGIT_MAX_DEPTH) {
				error = bagit_report_add(bag, 0, path, 0,
				    "directories nested too deep");
				continue;
			}
			if ((error = dossier_set_add(s, &f, path, 1)) < 0)
				break;
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (fd < 0) {
				error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
				break;
			}
			free(path);
			if (asprintf(&path, "%s%s/", pre, de->d_name) < 0) {
				path = NULL;
				close(fd);
				error = CUSTODY_ENOMEM;
				break;
			}
			error = set_walk(s, bag, fd, path, depth + 1, md, buf);
		} else if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC);
			if (fd < 0) {
				error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
				break;
			}
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
				error = custody_fail(CUSTODY_EIO, "%s: changed while read", path);
			else if ((error = dossier_set_add(s, &f, path, 0)) == 0)
				error = set_read_file(s, s->n - 1, fd, md, buf);
			close(fd);
		} else
			error = bagit_report_add(bag, 0, path, 0,
			    "not a regular file or directory (link or special file)");
	}
	if (error == 0 && errno != 0)
		error = custody_fail(CUSTODY_EIO, "%s: %s", *pre ? pre : ".", strerror(errno));
	free(path);
	closedir(d);
	return error;
}

/* Verify the bag in directory dir. */
int
dossier_verify_dir(struct dossier_result **out, const char *dir, const char *expect)
{
	struct dossier_result *res = NULL;
	struct bagit_report *extra = NULL;
	struct dset set = { 0 };
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL;
	int fd, error;

	*out = NULL;
	if ((error = dossier_result_new(&res)) < 0)
		return error;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = custody_fail(errno == ENOENT ? CUSTODY_ENOTFOUND : CUSTODY_EIO, "%s: %s",
		    dir, strerror(errno));
		goto done;
	}
	if ((md = EVP_MD_CTX_new()) == NULL || (buf = malloc(DOSSIER_CHUNK)) == NULL) {
		close(fd);
		error = CUSTODY_ENOMEM;
		goto done;
	}
	error = set_walk(&set, res->bag, fd, "", 0, md, buf);
	if (error == CUSTODY_ETOOBIG) {
		error = dossier_fatal(res, CUSTODY_EINVAL, "%s", custody_error());
		goto found;
	}
	if (error < 0)
		goto done;
	/* The reference validator, for what the in-memory check leaves out. */
	error = bagit_validate(&extra, dir, 0);
	if (error < 0 && error != CUSTODY_EINVAL)
		goto done;
	error = dossier_check(res, &set, expect, extra);
found:
	if (error == 0 || error == CUSTODY_EINVAL) {
		*out = res;
		res = NULL;
	}
done:
	bagit_report_free(extra);
	dossier_set_free(&set);
	dossier_result_free(res);
	EVP_MD_CTX_free(md);
	free(buf);
	return error;
}

/* ---- an age file streaming a tar ---- */

struct dossier_reader {
	struct age_reader	*age;		/* NULL for a plain tar */
	struct tar_reader	*tar;
	struct dset		 set;
	EVP_MD_CTX		*md;
	size_t			 cur;		/* the file receiving data */
	int			 in_file;
	int			 top_seen;	/* the top directory's own entry */
	int			 tar_failed;	/* the failure came from tar or below */
	int			 error;		/* sticky */
	char			*why;		/* what failed, for the result */
};

/* Remember the first failure and why; returns code. */
static int
reader_fail(struct dossier_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
reader_fail(struct dossier_reader *r, int code, const char *fmt, ...)
{
	va_list ap;

	if (r->why == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&r->why, fmt, ap) < 0)
			r->why = NULL;
		va_end(ap);
	}
	return custody_fail(code, "%s", r->why != NULL ? r->why : "out of memory");
}

/* True when s is "dossier-" and 32 lower-case hex digits. */
static int
reader_top_ok(const char *s, size_t len)
{
	size_t i;

	if (len != DOSSIER_NAME_LEN || strncmp(s, "dossier-", 8) != 0)
		return 0;
	for (i = 8; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A tar entry: it must lie under the one top directory. */
static int
reader_entry(void *arg, const struct tar_entry *e)
{
	struct dossier_reader *r = arg;
	const char *slash = strchr(e->name, '/');
	size_t toplen = slash != NULL ? (size_t)(slash - e->name) : strlen(e->name);
	struct dfile *f;
	int error;

	if (r->set.top == NULL) {
		if (!reader_top_ok(e->name, toplen))
			return reader_fail(r, CUSTODY_EINVAL, "tar entry %s is not under a "
			    "dossier-ID/ directory", e->name);
		if ((r->set.top = strndup(e->name, toplen)) == NULL)
			return CUSTODY_ENOMEM;
	}
	if (toplen != strlen(r->set.top) || strncmp(e->name, r->set.top, toplen) != 0)
		return reader_fail(r, CUSTODY_EINVAL, "tar entry %s is outside %s/", e->name,
		    r->set.top);
	if (slash == NULL) {
		if (e->type != TAR_DIR)
			return reader_fail(r, CUSTODY_EINVAL, "tar entry %s is a file, not the "
			    "bag's directory", e->name);
		if (r->top_seen++)
			return reader_fail(r, CUSTODY_EINVAL, "%s appears twice in the tar",
			    e->name);
		return 0;
	}
	if ((error = dossier_set_add(&r->set, &f, slash + 1, e->type == TAR_DIR)) < 0)
		return reader_fail(r, error, "%s", custody_error());
	if (e->type == TAR_DIR)
		return 0;
	if (f->kept && (error = set_reserve(&r->set, f, e->size)) < 0)
		return reader_fail(r, error, "%s", custody_error());
	if (EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		return reader_fail(r, CUSTODY_ERR, "SHA-256 unavailable");
	r->cur = r->set.n - 1;
	r->in_file = 1;
	return 0;
}

/* Data of the current file: hashed, and kept unless it is evidence. */
static int
reader_data(void *arg, const void *p, size_t n)
{
	struct dossier_reader *r = arg;
	struct dfile *f;
	int error;

	if (!r->in_file)
		return reader_fail(r, CUSTODY_EINVAL, "tar data outside a file");
	f = &r->set.f[r->cur];
	if (f->kept && (error = dossier_set_keep(&r->set, f, p, n)) < 0)
		return reader_fail(r, error, "%s", custody_error());
	EVP_DigestUpdate(r->md, p, n);
	f->size += n;
	return 0;
}

/* The end of an entry: a file's hash is complete. */
static int
reader_end(void *arg)
{
	struct dossier_reader *r = arg;
	int error;

	if (!r->in_file)
		return 0;
	r->in_file = 0;
	if ((error = set_digest_final(r->set.f[r->cur].sha256, r->md)) < 0)
		return reader_fail(r, error, "%s", custody_error());
	return 0;
}

/* Plaintext from age (only after its chunk authenticated) goes to the tar reader. */
static int
reader_plain(void *arg, const void *buf, size_t len)
{
	struct dossier_reader *r = arg;
	int error;

	if ((error = tar_reader_feed(r->tar, buf, len)) < 0)
		r->tar_failed = 1;
	return error;
}

/* A reader of an age file (n >= 1 identities) or of a plain tar (n == 0). */
int
dossier_reader_new(struct dossier_reader **out, const struct age_identity *ids, size_t n)
{
	static const struct tar_reader_cb cb = { reader_entry, reader_data, reader_end };
	struct dossier_reader *r;
	int error;

	*out = NULL;
	if (sodium_init() < 0)
		return custody_fail(CUSTODY_ERR, "sodium_init failed");
	if ((r = calloc(1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	if ((r->md = EVP_MD_CTX_new()) == NULL) {
		error = CUSTODY_ENOMEM;
		goto fail;
	}
	if ((error = tar_reader_new(&r->tar, &cb, r, 0)) < 0 ||
	    (n > 0 && (error = age_reader_new(&r->age, ids, n, reader_plain, r)) < 0))
		goto fail;
	*out = r;
	return 0;
fail:
	dossier_reader_free(r);
	return error;
}

/* Why the age layer failed, in words for the investigator. */
static void
reader_age_failed(struct dossier_reader *r, int code)
{
	if (age_reader_stage(r->age) == AGE_STAGE_HEADER) {
		if (code == CUSTODY_ENOTFOUND)
			reader_fail(r, code, "cannot decrypt: no identity given opens this file "
			    "(wrong -i?)");
		else if (code == CUSTODY_ECRYPTO)
			reader_fail(r, code, "the age header does not authenticate: the file "
			    "was altered");
		else
			reader_fail(r, code, "not an age file, or truncated: %s",
			    custody_error());
	} else
		reader_fail(r, code, "the age file is not genuine (truncated or altered): %s",
		    custody_error());
}

/* Record a failure of tar_reader_feed or age_reader_feed. */
static int
reader_failed(struct dossier_reader *r, int code)
{
	if (r->why == NULL) {
		if (r->age != NULL && !r->tar_failed)
			reader_age_failed(r, code);
		else
			reader_fail(r, code, "the tar inside is malformed: %s", custody_error());
	}
	return r->error = code;
}

/* Feed input bytes. */
int
dossier_reader_feed(struct dossier_reader *r, const void *buf, size_t len)
{
	int error;

	if (r->error < 0)
		return r->error;
	error = r->age != NULL ? age_reader_feed(r->age, buf, len) :
	    tar_reader_feed(r->tar, buf, len);
	if (error < 0)
		return reader_failed(r, error);
	return 0;
}

/* End of input: the file must be complete and genuine, then verify. */
int
dossier_reader_finish(struct dossier_result **out, struct dossier_reader *r,
    const char *expect)
{
	struct dossier_result *res = NULL;
	int error;

	*out = NULL;
	if ((error = dossier_result_new(&res)) < 0)
		return error;
	if (r->error == 0 && r->age != NULL && (error = age_reader_finish(r->age)) < 0)
		reader_failed(r, error);
	if (r->error == 0 && (error = tar_reader_finish(r->tar)) < 0) {
		r->tar_failed = 1;
		reader_failed(r, error);
	}
	if (r->error == CUSTODY_ENOMEM) {
		dossier_result_free(res);
		return custody_fail(CUSTODY_ENOMEM, "out of memory");
	}
	if (r->error < 0)
		error = dossier_fatal(res, CUSTODY_EINVAL, "%s", r->why != NULL ? r->why :
		    custody_error());
	else if (r->set.top == NULL)
		error = dossier_fatal(res, CUSTODY_EINVAL, "the tar is empty");
	else if ((res->name = strdup(r->set.top)) == NULL)
		error = CUSTODY_ENOMEM;
	else
		error = dossier_check(res, &r->set, expect, NULL);
	if (error == 0 || error == CUSTODY_EINVAL)
		*out = res;
	else
		dossier_result_free(res);
	return error;
}

/* Free a reader and everything it kept (wiped). */
void
dossier_reader_free(struct dossier_reader *r)
{
	if (r == NULL)
		return;
	age_reader_free(r->age);
	tar_reader_free(r->tar);
	dossier_set_free(&r->set);
	EVP_MD_CTX_free(r->md);
	free(r->why);
	free(r);
}

/* Read fd to its end through a reader. */
int
dossier_verify_age(struct dossier_result **out, int fd, const struct age_identity *ids,
    size_t n, const char *expect)
{
	struct dossier_reader *r = NULL;
	uint8_t *buf = NULL;
	ssize_t got;
	int error;

	*out = NULL;
	if (n == 0)
		return custody_fail(CUSTODY_EINVAL, "no identity to decrypt with");
	if ((error = dossier_reader_new(&r, ids, n)) < 0)
		return error;
	if ((buf = malloc(DOSSIER_CHUNK)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	while ((got = read_full(fd, buf, DOSSIER_CHUNK)) > 0)
		if (dossier_reader_feed(r, buf, (size_t)got) < 0)
			break;
	if (got < 0) {
		error = custody_fail(CUSTODY_EIO, "reading the dossier: %s", strerror(errno));
		goto done;
	}
	error = dossier_reader_finish(out, r, expect);
done:
	dossier_reader_free(r);
	free(buf);
	return error;
}
