/*
 * Set one key of custody.conf, keeping every other line, comment and blank as the admin wrote
 * them: the lines "KEY = VALUE" (or "KEY: VALUE", as libinih reads them) of every [SECTION]
 * become "KEY = NEW" with their indentation; when no [SECTION] sets the key, it goes right
 * under the first [SECTION] header; a file without the section gets the section at its end.
 * Commented-out lines stay as they are.
 * The new file is written beside the old one, fsynced, given the old one's mode and renamed
 * over it, and the directory is fsynced: a crash leaves the old file or the new one, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"

#define CONF_REWRITE_MAX (1u << 20)	/* a custody.conf larger than this is not ours */

/* The bytes of a line without its leading blanks. */
static const char *
conf_rewrite_skip(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/*
 * Whether the line [s, end) opens a section: 1 when it is [section], 0 another section, -1
 * not a section header.
 */
static int
conf_rewrite_header(const char *s, const char *end, const char *section)
{
	const char *close;
	size_t n = strlen(section);

	s = conf_rewrite_skip(s, end);
	if (s == end || *s != '[')
		return -1;
	if ((close = memchr(s, ']', (size_t)(end - s))) == NULL)
		return -1;
	s = conf_rewrite_skip(s + 1, close);
	while (close > s && (close[-1] == ' ' || close[-1] == '\t'))
		close--;
	return (size_t)(close - s) == n && memcmp(s, section, n) == 0;
}

/* Whether the line [s, end) sets key ("key = ..." or "key: ..."). */
static int
conf_rewrite_is_key(const char *s, const char *end, const char *key)
{
	size_t n = strlen(key);

	s = conf_rewrite_skip(s, end);
	if ((size_t)(end - s) <= n || memcmp(s, key, n) != 0)
		return 0;
	s = conf_rewrite_skip(s + n, end);
	return s < end && (*s == '=' || *s == ':');
}

/* The whole file in *out (NUL-terminated), its length in *len, its mode and owner in *st. */
static int
conf_rewrite_read(const char *file, char **out, size_t *len, struct stat *st, char **cause)
{
	char *buf = NULL;
	ssize_t n;
	int fd, error = 0;

	*out = NULL;
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		custody_cause(cause, "cannot read %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > CONF_REWRITE_MAX) {
		custody_cause(cause, "%s: not a regular file under 1 MiB", file);
		error = CUSTODY_EINVAL;
		goto done;
	}
	if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((n = read_full(fd, buf, (size_t)st->st_size)) != st->st_size) {
		custody_cause(cause, "cannot read %s: %s", file, n < 0 ? strerror(errno) : "short");
		error = CUSTODY_EIO;
		goto done;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	*out = buf;
	buf = NULL;
done:
	free(buf);
	close(fd);
	return error;
}

/*
 * The new text: old with key set to value. Every line setting key in a [section] block is
 * replaced; when none does, the line goes right under the first [section] header, or a new
 * section at the end.
 */
static int
conf_rewrite_text(struct cbuf *b, const char *old, size_t len, const char *section,
    const char *key, const char *value)
{
	const char *s, *end = old + len, *eol, *next;
	int pass, in, seen = 0, has = 0, h, error = 0;

	for (pass = 0; pass < 2 && error == 0; pass++) {
		for (s = old, in = 0; s < end && error == 0; s = next) {
			eol = memchr(s, '\n', (size_t)(end - s));
			next = eol != NULL ? eol + 1 : end;
			if (eol == NULL)
				eol = end;
			if ((h = conf_rewrite_header(s, eol, section)) >= 0)
				in = h;
			if (pass == 0) {
				seen |= h == 1;
				has |= h < 0 && in && conf_rewrite_is_key(s, eol, key);
				continue;
			}
			if (h < 0 && in && conf_rewrite_is_key(s, eol, key)) {
				error = cbuf_put(b, s, (size_t)(conf_rewrite_skip(s, eol) - s));
				if (error == 0)
					error = cbuf_printf(b, "%s = %s\n", key, value);
				continue;
			}
			error = cbuf_put(b, s, (size_t)(next - s));
			if (error == 0 && next == end && eol == end)
				error = cbuf_put(b, "\n", 1);	/* the last line had none */
			if (error == 0 && h == 1 && !has) {
				error = cbuf_printf(b, "%s = %s\n", key, value);
				has = 1;
			}
		}
	}
	if (error == 0 && !seen)
		error = cbuf_printf(b, "%s[%s]\n%s = %s\n", len > 0 ? "\n" : "", section, key,
		    value);
	return error < 0 ? CUSTODY_ENOMEM : 0;
}

/* Write p to a new file beside file (with the mode and owner in st) and rename it over file. */
static int
conf_rewrite_replace(const char *file, const void *p, size_t n, const struct stat *st,
    char **cause)
{
	char *tmp = NULL, *dir = NULL;
	int fd = -1, error = 0;

	if (asprintf(&tmp, "%s.new-XXXXXX", file) < 0 || (dir = strdup(file)) == NULL) {
		tmp = NULL;
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		custody_cause(cause, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		error = CUSTODY_EIO;
		goto done;
	}
	/* the owner too when we may (root): the daemon must still read it */
	if (geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) != 0) {
		custody_cause(cause, "cannot give %s its owner: %s", tmp, strerror(errno));
		error = CUSTODY_EIO;
		goto done;
	}
	if (write_all(fd, p, n) < 0 || fchmod(fd, st->st_mode & 07777) != 0 || fsync(fd) != 0) {
		custody_cause(cause, "cannot write %s: %s", tmp, strerror(errno));
		error = CUSTODY_EIO;
		goto done;
	}
	if (close(fd) != 0) {
		fd = -1;
		custody_cause(cause, "cannot write %s: %s", tmp, strerror(errno));
		error = CUSTODY_EIO;
		goto done;
	}
	fd = -1;
	if (rename(tmp, file) != 0) {
		custody_cause(cause, "cannot replace %s: %s", file, strerror(errno));
		error = CUSTODY_EIO;
		goto done;
	}
	free(tmp);
	tmp = NULL;
	if (fsync_dir(dirname(dir)) < 0) {
		custody_cause(cause, "cannot sync the directory of %s: %s", file, strerror(errno));
		error = CUSTODY_EIO;
	}
done:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	return error;
}

/* Whether a value may stand on an INI line as it is. */
static int
conf_rewrite_value_ok(const char *value)
{
	const char *s;

	if (strlen(value) > 1024)
		return 0;
	for (s = value; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s == 0x7f || *s == ';' || *s == '#')
			return 0;
	return 1;
}

int
conf_rewrite_set(const char *file, const char *section, const char *key, const char *value,
    char **cause)
{
	struct cbuf b = { 0 };
	char *old = NULL;
	struct stat st;
	size_t len = 0;
	int error;

	if (!conf_rewrite_value_ok(value) || !conf_rewrite_value_ok(key) ||
	    !conf_rewrite_value_ok(section) || strchr(section, ']') != NULL) {
		custody_cause(cause, "%s: [%s] %s: not a value for an INI line", file, section, key);
		return CUSTODY_EINVAL;
	}
	if ((error = conf_rewrite_read(file, &old, &len, &st, cause)) < 0)
		goto done;
	if ((error = conf_rewrite_text(&b, old, len, section, key, value)) < 0)
		goto done;
	error = conf_rewrite_replace(file, b.data, b.len, &st, cause);
done:
	if (error == CUSTODY_ENOMEM)
		custody_cause(cause, "%s: out of memory", file);
	cbuf_free(&b);
	free(old);
	return error;
}

/* Replace file's whole text with p (n bytes), as conf_rewrite_set replaces it. */
int
conf_rewrite_all(const char *file, const void *p, size_t n)
{
	struct stat st;
	char *cause = NULL;
	int error;

	if (stat(file, &st) != 0)
		return custody_fail(CUSTODY_EIO, "cannot read %s: %s", file, strerror(errno));
	if ((error = conf_rewrite_replace(file, p, n, &st, &cause)) < 0) {
		error = custody_fail(error, "%s", cause != NULL ? cause : "out of memory");
		free(cause);
	}
	return error;
}
