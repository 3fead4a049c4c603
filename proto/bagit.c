/* BagIt (RFC 8493) bag validation: completeness, then every checksum. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custody/bagit.h"
#include "bagit-int.h"

#define BAGIT_CHUNK		(64 * 1024)
#define BAGIT_MAX_DECL		4096		/* bagit.txt */

/* A regular file found in the bag, and what the manifests expect of it. */
struct bag_file {
	char		*path;		/* relative to the bag root */
	uint64_t	 size;
	int		 payload;	/* under data/ */
	unsigned	 listed;	/* bit i: payload manifest i lists it */
	const char	*want[BAGIT_MAX_MANIFESTS];
};

/* One validation in progress. */
struct bag {
	int			 rootfd;
	int			 v1;
	struct bagit_report	*r;
	struct bag_file		*files;
	size_t			 nfiles;
	size_t			 cap;
	struct bagit_manifest	 man[BAGIT_MAX_MANIFESTS];
	size_t			 nman;
	struct bagit_manifest	 tman[BAGIT_MAX_MANIFESTS];
	size_t			 ntman;
	struct bagit_fetch	 fetch;
	struct bagit_info	 info;
};

/* Open rel under rootfd without following any symbolic link; regular files only. */
static int
bag_open(int *out, int rootfd, const char *rel)
{
	char *copy, *comp, *slash;
	struct stat st;
	int dfd = rootfd, fd = -1, error = 0;

	*out = -1;
	if ((copy = strdup(rel)) == NULL)
		return CUSTODY_ENOMEM;
	for (comp = copy; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
		*slash = '\0';
		fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (dfd != rootfd)
			close(dfd);
		if ((dfd = fd) < 0) {
			error = CUSTODY_ENOTFOUND;
			goto done;
		}
	}
	fd = openat(dfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		error = CUSTODY_ENOTFOUND;
		goto done;
	}
	*out = fd;
done:
	if (dfd != rootfd && dfd >= 0)
		close(dfd);
	free(copy);
	return error;
}

/* Read a whole small file into b, refusing more than max bytes. */
static int
read_small(struct cbuf *b, int fd, size_t max)
{
	uint8_t buf[4096];
	ssize_t got;
	int error;

	while ((got = read_full(fd, buf, sizeof buf)) > 0) {
		if (b->len + (size_t)got > max)
			return CUSTODY_ETOOBIG;
		if ((error = cbuf_put(b, buf, (size_t)got)) < 0)
			return error;
	}
	return got < 0 ? CUSTODY_EIO : 0;
}

/* Add a found file to the list. */
static int
bag_add_file(struct bag *b, const char *path, uint64_t size)
{
	struct bag_file *f;
	size_t cap;

	if (b->nfiles == b->cap) {
		cap = b->cap ? b->cap * 2 : 64;
		if ((f = reallocarray(b->files, cap, sizeof *f)) == NULL)
			return CUSTODY_ENOMEM;
		b->files = f;
		b->cap = cap;
	}
	f = &b->files[b->nfiles];
	memset(f, 0, sizeof *f);
	if ((f->path = strdup(path)) == NULL)
		return CUSTODY_ENOMEM;
	f->size = size;
	f->payload = strncmp(path, "data/", 5) == 0;
	b->nfiles++;
	if (f->payload) {
		b->r->payload_files++;
		b->r->payload_octets += size;
	}
	return 0;
}

/* Walk directory dfd (path prefix pre) without following links. Takes dfd. */
static int
bag_walk(struct bag *b, int dfd, const char *pre, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *path = NULL;
	int fd, error = 0;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return custody_fail(CUSTODY_EIO, "opendir %s: %s", pre,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		free(path);
		if (asprintf(&path, "%s%s", pre, de->d_name) < 0) {
			path = NULL;
			error = CUSTODY_ENOMEM;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			error = custody_fail(CUSTODY_EIO, "stat %s: %s", path,
			    strerror(errno));
			break;
		}
		if (S_ISREG(st.st_mode)) {
			if ((error = bag_add_file(b, path, (uint64_t)st.st_size)) < 0)
				break;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth >= BAGIT_MAX_DEPTH) {
				error = bagit_report_add(b->r, 0, path, 0,
				    "directories nested too deep");
				if (error < 0)
					break;
				continue;
			}
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				error = custody_fail(CUSTODY_EIO, "open %s: %s",
				    path, strerror(errno));
				break;
			}
			free(path);
			if (asprintf(&path, "%s%s/", pre, de->d_name) < 0) {
				path = NULL;
				close(fd);
				error = CUSTODY_ENOMEM;
				break;
			}
			if ((error = bag_walk(b, fd, path, depth + 1)) < 0)
				break;
		} else if ((error = bagit_report_add(b->r, 0, path, 0,
		    "not a regular file or directory (link or special file)")) < 0)
			break;
	}
	free(path);
	closedir(d);
	return error;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bag_file *)a)->path,
	    ((const struct bag_file *)b)->path);
}

/* The found file called path, or NULL. */
static struct bag_file *
bag_find(struct bag *b, const char *path)
{
	struct bag_file key = { .path = (char *)path };

	if (b->nfiles == 0)
		return NULL;
	return bsearch(&key, b->files, b->nfiles, sizeof key, file_cmp);
}

/*
 * Stream a tag file through a line parser. Tag files are UTF-8: bagit.txt declaring anything
 * else is a problem already (bagit_parse_declaration), and nothing is ever recoded.
 */
static int
bag_parse_tagfile(struct bag *b, const char *name, bagit_line_fn fn, void *arg)
{
	struct bagit_lines l;
	uint8_t *buf = NULL;
	ssize_t got;
	size_t skip = 0;
	int fd, error, first = 1;

	if ((error = bag_open(&fd, b->rootfd, name)) < 0)
		return error;
	bagit_lines_init(&l, fn, arg);
	if ((buf = malloc(BAGIT_CHUNK)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	while ((got = read_full(fd, buf, BAGIT_CHUNK)) > 0) {
		if (first && got >= 3 && buf[0] == 0xef && buf[1] == 0xbb &&
		    buf[2] == 0xbf) {
			if ((error = bagit_report_add(b->r, 0, name, 1,
			    "begins with a byte order mark")) < 0)
				goto done;
			skip = 3;
		}
		first = 0;
		if ((error = bagit_lines_feed(&l, buf + skip, (size_t)got -
		    skip)) < 0)
			goto done;
		skip = 0;
	}
	if (got < 0) {
		error = custody_fail(CUSTODY_EIO, "read %s", name);
		goto done;
	}
	error = bagit_lines_finish(&l);
	if (error == CUSTODY_ETOOBIG)
		error = bagit_report_add(b->r, 0, name, 0, "a line is too long");
done:
	bagit_lines_free(&l);
	free(buf);
	close(fd);
	return error;
}

static int
man_cb(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct bag *b = ((void **)arg)[0];

	return bagit_manifest_line(((void **)arg)[1], b->r, lineno, line, len);
}

static int
info_cb(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct bag *b = arg;

	return bagit_info_line(&b->info, b->r, lineno, line, len);
}

static int
fetch_cb(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct bag *b = arg;

	return bagit_fetch_line(&b->fetch, b->r, lineno, line, len);
}

/* Read bagit.txt and settle which rules apply. */
static int
bag_declaration(struct bag *b)
{
	struct bagit_decl decl;
	struct cbuf raw = { 0 };
	int fd, error;

	b->v1 = 1;
	if (bag_open(&fd, b->rootfd, "bagit.txt") < 0)
		return bagit_report_add(b->r, 0, "bagit.txt", 0,
		    "missing: not a bag");
	error = read_small(&raw, fd, BAGIT_MAX_DECL);
	close(fd);
	if (error == CUSTODY_ETOOBIG)
		error = bagit_report_add(b->r, 0, "bagit.txt", 0, "too large");
	else if (error == 0 && bagit_parse_declaration(&decl, b->r, raw.data ?
	    raw.data : (const uint8_t *)"", raw.len) == 0) {
		b->r->major = decl.major;
		b->r->minor = decl.minor;
		b->v1 = decl.major >= 1;
	}
	cbuf_free(&raw);
	return error;
}

/* Read every manifest-ALG.txt and tagmanifest-ALG.txt in the base directory. */
static int
bag_manifests(struct bag *b)
{
	struct bagit_manifest m, *dst;
	void *arg[2];
	const char *name, *a;
	size_t i, *count;
	int error;

	for (i = 0; i < b->nfiles; i++) {
		name = b->files[i].path;
		if (strchr(name, '/') != NULL ||
		    bagit_manifest_init(&m, name, b->v1) < 0)
			continue;
		for (a = m.alg; *a != '\0'; a++)
			if (!((*a >= 'a' && *a <= 'z') || (*a >= '0' && *a <= '9')))
				break;
		if (*a != '\0' || m.alg[0] == '\0' ||
		    bagit_digest_hexlen(m.alg) == 0) {
			if ((error = bagit_report_add(b->r, 0, name, 0,
			    "unsupported checksum algorithm \"%s\"", m.alg)) < 0)
				return error;
			continue;
		}
		dst = m.tag ? b->tman : b->man;
		count = m.tag ? &b->ntman : &b->nman;
		if (*count == BAGIT_MAX_MANIFESTS) {
			if ((error = bagit_report_add(b->r, 0, name, 0,
			    "too many manifests")) < 0)
				return error;
			continue;
		}
		dst[*count] = m;
		arg[0] = b;
		arg[1] = &dst[*count];
		(*count)++;
		if ((error = bag_parse_tagfile(b, name, man_cb, arg)) < 0)
			return error;
	}
	b->r->manifests = b->nman;
	b->r->tagmanifests = b->ntman;
	if (b->nman == 0)
		return bagit_report_add(b->r, 0, "", 0,
		    "no payload manifest (manifest-ALG.txt)");
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct bagit_manifest_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->path, y->path)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort m and report paths listed more than once. */
static int
bag_duplicates(struct bag *b, struct bagit_manifest *m)
{
	struct bagit_manifest_entry *e;
	size_t i;
	int error, warn;

	if (m->n > 1)
		qsort(m->e, m->n, sizeof *m->e, entry_cmp);
	for (i = 1; i < m->n; i++) {
		e = &m->e[i];
		if (strcmp(e[-1].path, e->path) != 0)
			continue;
		/* 1.0: every payload file listed exactly once. */
		warn = strcmp(e[-1].digest, e->digest) == 0 && (m->tag || !m->v1);
		if ((error = bagit_report_add(b->r, warn, m->name, e->line,
		    "%s listed more than once%s", e->path, strcmp(e[-1].digest,
		    e->digest) ? " with different checksums" : "")) < 0)
			return error;
	}
	return 0;
}

/* True when fetch.txt lists path. */
static int
bag_in_fetch(struct bag *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->fetch.n; i++)
		if (strcmp(b->fetch.e[i].path, path) == 0)
			return 1;
	return 0;
}

/* Match payload manifests against the files under data/. */
static int
bag_complete(struct bag *b)
{
	struct bagit_manifest *m;
	struct bag_file *f;
	size_t i, j, k;
	unsigned all = (1u << b->nman) - 1;
	int error, found;

	for (i = 0; i < b->nman; i++) {
		m = &b->man[i];
		if ((error = bag_duplicates(b, m)) < 0)
			return error;
		for (j = 0; j < m->n; j++) {
			if ((f = bag_find(b, m->e[j].path)) != NULL && f->payload) {
				f->listed |= 1u << i;
				f->want[i] = m->e[j].digest;
				continue;
			}
			if ((error = bagit_report_add(b->r, 0, m->name, m->e[j].line,
			    "%s is missing%s", m->e[j].path,
			    bag_in_fetch(b, m->e[j].path) ? " (listed in "
			    "fetch.txt: the bag is incomplete)" : "")) < 0)
				return error;
		}
	}
	for (i = 0; i < b->nfiles; i++) {
		f = &b->files[i];
		if (!f->payload || b->nman == 0)
			continue;
		if (f->listed == 0) {
			error = bagit_report_add(b->r, 0, f->path, 0,
			    "payload file not listed in any payload manifest");
			if (error < 0)
				return error;
			continue;
		}
		for (k = 0; b->v1 && f->listed != all && k < b->nman; k++)
			if (!(f->listed & (1u << k)) && (error = bagit_report_add(
			    b->r, 0, f->path, 0, "payload file not listed in %s",
			    b->man[k].name)) < 0)
				return error;
	}
	/* Every fetched file must be in every payload manifest. */
	for (i = 0; i < b->fetch.n; i++) {
		for (k = 0; k < b->nman; k++) {
			m = &b->man[k];
			for (found = 0, j = 0; j < m->n && !found; j++)
				found = strcmp(m->e[j].path, b->fetch.e[i].path) == 0;
			if (!found && (error = bagit_report_add(b->r, 0,
			    "fetch.txt", b->fetch.e[i].line,
			    "%s is not listed in %s", b->fetch.e[i].path,
			    m->name)) < 0)
				return error;
		}
	}
	return 0;
}

/* Hash one payload file once with every algorithm that lists it. */
static int
bag_check_payload(struct bag *b, struct bag_file *f)
{
	EVP_MD_CTX *ctx[BAGIT_MAX_MANIFESTS] = { 0 };
	char hex[BAGIT_MAX_DIGEST_HEX + 1];
	uint8_t *buf = NULL;
	ssize_t got;
	size_t i;
	int fd = -1, error;

	if (bag_open(&fd, b->rootfd, f->path) < 0)
		return bagit_report_add(b->r, 0, f->path, 0, "cannot open");
	for (i = 0; i < b->nman; i++)
		if (f->want[i] && (error = bagit__digest_init(&ctx[i], b->man[i].alg)) < 0)
			goto done;
	if ((buf = malloc(BAGIT_CHUNK)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	while ((got = read_full(fd, buf, BAGIT_CHUNK)) > 0)
		for (i = 0; i < b->nman; i++)
			if (ctx[i] != NULL)
				EVP_DigestUpdate(ctx[i], buf, (size_t)got);
	if (got < 0) {
		error = bagit_report_add(b->r, 0, f->path, 0, "read error");
		goto done;
	}
	error = 0;
	for (i = 0; i < b->nman && error == 0; i++) {
		if (ctx[i] == NULL)
			continue;
		if ((error = bagit__digest_final(hex, ctx[i])) < 0)
			break;
		if (strcmp(hex, f->want[i]) != 0)
			error = bagit_report_add(b->r, 0, f->path, 0,
			    "%s checksum mismatch (%s lists %s, file has %s)",
			    b->man[i].alg, b->man[i].name, f->want[i], hex);
	}
done:
	for (i = 0; i < b->nman; i++)
		EVP_MD_CTX_free(ctx[i]);
	free(buf);
	close(fd);
	return error;
}

/* Check every tag manifest: its files present, its checksums right. */
static int
bag_check_tagmanifest(struct bag *b, struct bagit_manifest *m)
{
	struct bag_file *f;
	char hex[BAGIT_MAX_DIGEST_HEX + 1];
	size_t i, j;
	int fd, error, found;

	if ((error = bag_duplicates(b, m)) < 0)
		return error;
	for (i = 0; i < m->n; i++) {
		if ((f = bag_find(b, m->e[i].path)) == NULL || f->payload ||
		    bag_open(&fd, b->rootfd, f->path) < 0) {
			if ((error = bagit_report_add(b->r, 0, m->name,
			    m->e[i].line, "%s is missing", m->e[i].path)) < 0)
				return error;
			continue;
		}
		error = bagit_digest_fd(hex, m->alg, fd);
		close(fd);
		if (error < 0)
			return error;
		if (strcmp(hex, m->e[i].digest) != 0 && (error =
		    bagit_report_add(b->r, 0, f->path, 0, "%s checksum mismatch "
		    "(%s lists %s, file has %s)", m->alg, m->name,
		    m->e[i].digest, hex)) < 0)
			return error;
	}
	for (j = 0; j < b->nman; j++) {
		for (found = 0, i = 0; i < m->n && !found; i++)
			found = strcmp(m->e[i].path, b->man[j].name) == 0;
		if (!found && (error = bagit_report_add(b->r, !b->v1, m->name, 0,
		    "does not list %s", b->man[j].name)) < 0)
			return error;
	}
	return 0;
}

/* Read bag-info.txt and fetch.txt when present. */
static int
bag_optional(struct bag *b)
{
	uint64_t octets, files;
	int error, found;

	b->info.v1 = b->fetch.v1 = b->v1;
	if (bag_find(b, "bag-info.txt") != NULL) {
		if ((error = bag_parse_tagfile(b, "bag-info.txt", info_cb, b)) < 0 ||
		    (error = bagit_info_oxum(&b->info, b->r, &found, &octets,
		    &files)) < 0)
			return error;
		if (found && (octets != b->r->payload_octets ||
		    files != b->r->payload_files) && (error = bagit_report_add(
		    b->r, 0, "bag-info.txt", 0, "Payload-Oxum %llu.%llu but the "
		    "payload has %llu.%llu", (unsigned long long)octets,
		    (unsigned long long)files,
		    (unsigned long long)b->r->payload_octets,
		    (unsigned long long)b->r->payload_files)) < 0)
			return error;
	}
	if (bag_find(b, "fetch.txt") != NULL &&
	    (error = bag_parse_tagfile(b, "fetch.txt", fetch_cb, b)) < 0)
		return error;
	return 0;
}

/* Validate the bag in dir. */
int
bagit_validate(struct bagit_report **out, const char *dir, int flags)
{
	struct bag b;
	struct stat st;
	size_t i;
	int fd, error;

	*out = NULL;
	memset(&b, 0, sizeof b);
	b.rootfd = -1;
	if ((error = bagit_report_new(&b.r)) < 0)
		return error;
	if ((b.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = custody_fail(CUSTODY_ENOTFOUND, "%s: %s", dir,
		    strerror(errno));
		goto done;
	}
	if ((error = bag_declaration(&b)) < 0)
		goto done;
	if (fstatat(b.rootfd, "data", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode)) {
		if ((error = bagit_report_add(b.r, 0, "data", 0,
		    "payload directory missing")) < 0)
			goto done;
	}
	if ((fd = openat(b.rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = custody_fail(CUSTODY_EIO, "%s: %s", dir, strerror(errno));
		goto done;
	}
	if ((error = bag_walk(&b, fd, "", 0)) < 0)
		goto done;
	if (b.nfiles > 1)
		qsort(b.files, b.nfiles, sizeof *b.files, file_cmp);
	if ((error = bag_manifests(&b)) < 0 || (error = bag_optional(&b)) < 0 ||
	    (error = bag_complete(&b)) < 0)
		goto done;
	for (i = 0; i < b.nfiles; i++)
		if (b.files[i].listed != 0 &&
		    (error = bag_check_payload(&b, &b.files[i])) < 0)
			goto done;
	for (i = 0; i < b.ntman; i++)
		if ((error = bag_check_tagmanifest(&b, &b.tman[i])) < 0)
			goto done;
	error = b.r->problems > 0 || ((flags & BAGIT_STRICT) &&
	    b.r->warnings > 0) ? CUSTODY_EINVAL : 0;
	if (error < 0)
		custody_fail(error, "%s: not a valid bag (%zu problems)", dir,
		    b.r->problems);
done:
	for (i = 0; i < b.nfiles; i++)
		free(b.files[i].path);
	free(b.files);
	for (i = 0; i < b.nman; i++)
		bagit_manifest_free(&b.man[i]);
	for (i = 0; i < b.ntman; i++)
		bagit_manifest_free(&b.tman[i]);
	bagit_fetch_free(&b.fetch);
	bagit_info_free(&b.info);
	if (b.rootfd >= 0)
		close(b.rootfd);
	if (error < 0 && error != CUSTODY_EINVAL) {
		bagit_report_free(b.r);
		return error;
	}
	*out = b.r;
	return error;
}
