/* Gathering an ingest batch: command-line paths, lists of paths, directories walked. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "ingest-list.h"

#define INGEST_LIST_TICK 1000		/* redraw the gathering count every this many files */

/* path fit for a terminal, for messages (a hostile tree may hold escape sequences). */
static char *
ingest_list_shown(const char *path)
{
	char *s;

	if ((s = client_safe(path)) == NULL)
		client_fatal("out of memory");
	return s;
}

/* "a/b" (either may be empty), or client_fatal. */
static char *
ingest_list_join(const char *a, const char *b)
{
	char *s;

	size_t n = strlen(a);

	while (n > 1 && a[n - 1] == '/')	/* "scans/" + "x": "scans/x" */
		n--;
	if (asprintf(&s, "%.*s%s%s", (int)n, a, n > 0 && a[n - 1] != '/' && *b != '\0' ?
	    "/" : "", b) < 0)
		client_fatal("out of memory");
	return s;
}

/* name as a relative path: no leading '/', no empty, '.' or '..' components. */
static char *
ingest_list_relative(const char *name)
{
	char *out, *p;
	const char *c, *e;
	size_t n;

	if ((out = p = malloc(strlen(name) + 1)) == NULL)
		client_fatal("out of memory");
	for (c = name; *c != '\0'; c = *e != '\0' ? e + 1 : e) {
		e = strchrnul(c, '/');
		n = (size_t)(e - c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			continue;
		if (p != out)
			*p++ = '/';
		memcpy(p, c, n);
		p += n;
	}
	*p = '\0';
	return out;
}

/* Add one regular file; takes path. */
static void
ingest_list_add(struct ingest_list *l, char *path, const char *name, const struct stat *st,
    int in_dir)
{
	struct ingest_file *f;
	char *p, *q, *shown;
	int changed;

	if (access(path, R_OK) < 0)
		client_fatal("%s: cannot read: %s (nothing was sent)", ingest_list_shown(path),
		    strerror(errno));
	if (l->n == INGEST_LIST_MAX)
		client_fatal("more than %d files: split them over several ingests",
		    INGEST_LIST_MAX);
	if (l->n == l->cap) {
		l->cap = l->cap != 0 ? 2 * l->cap : 64;
		if ((l->files = reallocarray(l->files, l->cap, sizeof *l->files)) == NULL)
			client_fatal("out of memory");
	}
	f = &l->files[l->n++];
	memset(f, 0, sizeof *f);
	f->path = path;
	f->fd = -1;
	f->in_dir = in_dir;
	f->size = (uint64_t)st->st_size;
	l->total += f->size;
	if ((f->name = client_utf8(*name != '\0' ? name : "unnamed", &changed)) == NULL)
		client_fatal("out of memory");
	for (p = q = f->name; *p != '\0'; p++)	/* the daemon drops control characters too */
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			*q++ = *p;
		else
			changed = 1;
	*q = '\0';
	if (changed) {
		client_warn("warning: %s: name is not valid UTF-8 or holds control characters; "
		    "recorded as '%s'", shown = ingest_list_shown(path), f->name);
		free(shown);
	}
	if (l->progress && l->n % INGEST_LIST_TICK == 0)
		fprintf(stderr, "\rgathering: %zu files\033[K", l->n);
}

/* What kind of special file st is, for a warning. */
static const char *
ingest_list_kind(const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return "a FIFO";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "a device";
	return "not a regular file";
}

static int
ingest_list_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * Walk directory dir (its files named under prefix) in name order. Only one directory is
 * open at a time: its entries are read and it is closed before the walk goes down.
 */
static void
ingest_list_walk(struct ingest_list *l, const char *dir, const char *prefix)
{
	struct dirent *de;
	struct stat st;
	char **ents = NULL, *path, *name, *shown;
	size_t n = 0, cap = 0, i;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		client_fatal("%s: %s (nothing was sent)", ingest_list_shown(dir),
		    strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap && (ents = reallocarray(ents, cap = cap ? 2 * cap : 16,
		    sizeof *ents)) == NULL)
			client_fatal("out of memory");
		if ((ents[n++] = strdup(de->d_name)) == NULL)
			client_fatal("out of memory");
	}
	if (errno != 0)
		client_fatal("%s: %s (nothing was sent)", ingest_list_shown(dir),
		    strerror(errno));
	closedir(d);
	if (n > 0)
		qsort(ents, n, sizeof *ents, ingest_list_cmp);
	for (i = 0; i < n; i++) {
		path = ingest_list_join(dir, ents[i]);
		name = ingest_list_join(prefix, ents[i]);
		if (lstat(path, &st) < 0)
			client_fatal("%s: %s (nothing was sent)", ingest_list_shown(path),
			    strerror(errno));
		if (S_ISREG(st.st_mode)) {
			ingest_list_add(l, path, name, &st, 1);
			path = NULL;
		} else if (S_ISDIR(st.st_mode))
			ingest_list_walk(l, path, name);
		else {
			client_warn("warning: %s: skipped: %s", shown = ingest_list_shown(path),
			    S_ISLNK(st.st_mode) ?
			    "a symbolic link (not followed)" : ingest_list_kind(&st));
			l->skipped++;
			free(shown);
		}
		free(path);
		free(name);
		free(ents[i]);
	}
	free(ents);
}

/* The name a directory argument gives its files: its own name, "" for the root. */
static char *
ingest_list_dirname(const char *path)
{
	char *s, *e, *base, *real = NULL;

	if ((s = strdup(path)) == NULL)
		client_fatal("out of memory");
	for (e = s + strlen(s); e > s && e[-1] == '/'; )
		*--e = '\0';
	base = strrchr(s, '/') != NULL ? strrchr(s, '/') + 1 : s;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		if ((real = realpath(path, NULL)) == NULL)
			client_fatal("%s: %s (nothing was sent)", ingest_list_shown(path),
			    strerror(errno));
		base = strrchr(real, '/') + 1;
	}
	base = strdup(base);
	free(real);
	free(s);
	if (base == NULL)
		client_fatal("out of memory");
	return base;
}

/* Add a named path (following a symbolic link given by name), recorded under name. */
static void
ingest_list_named(struct ingest_list *l, const char *path, const char *name, int is_listed)
{
	struct stat st;
	char *p, *prefix;

	if (stat(path, &st) < 0)
		client_fatal("%s: %s (nothing was sent)", ingest_list_shown(path),
		    strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		prefix = is_listed ? ingest_list_relative(path) : ingest_list_dirname(path);
		ingest_list_walk(l, path, prefix);
		free(prefix);
		return;
	}
	if (!S_ISREG(st.st_mode))
		client_fatal("%s: %s, not a regular file or a directory (nothing was sent)",
		    ingest_list_shown(path), ingest_list_kind(&st));
	if ((p = strdup(path)) == NULL)
		client_fatal("out of memory");
	ingest_list_add(l, p, name, &st, 0);
}

void
ingest_list_arg(struct ingest_list *l, const char *path)
{
	const char *base = strrchr(path, '/');

	if (*path == '\0')
		client_fatal("an empty path (nothing was sent)");
	ingest_list_named(l, path, base != NULL ? base + 1 : path, 0);
}

void
ingest_list_from(struct ingest_list *l, const char *listpath, int nul)
{
	FILE *f = strcmp(listpath, "-") == 0 ? stdin : fopen(listpath, "re");
	char *line = NULL, *name;
	size_t cap = 0;
	ssize_t len;

	if (f == NULL)
		client_fatal("%s: %s", listpath, strerror(errno));
	while ((len = getdelim(&line, &cap, nul ? '\0' : '\n', f)) > 0) {
		if (line[len - 1] == (nul ? '\0' : '\n'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (strlen(line) != (size_t)len)
			client_fatal("%s: a name holds a NUL byte: give -0 for a NUL-separated list",
			    listpath);
		name = ingest_list_relative(line);
		ingest_list_named(l, line, name, 1);
		free(name);
	}
	if (ferror(f))
		client_fatal("%s: %s", listpath, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
}

void
ingest_list_done(struct ingest_list *l)
{
	if (l->progress && l->n >= INGEST_LIST_TICK)
		fputs("\r\033[K", stderr);
}

void
ingest_list_free(struct ingest_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->files[i].path);
		free(l->files[i].name);
		free(l->files[i].media_type);
	}
	free(l->files);
	memset(l, 0, sizeof *l);
}
