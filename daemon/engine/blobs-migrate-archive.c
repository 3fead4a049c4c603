/*
 * custodyd blobs migrate on an archive (blobs-migrate.h): the archive's lock (no custodyd may
 * run on it meanwhile), custody.conf's [blobs] settings for both stores, the marker
 * ARCHIVE/blobs-migrating that keeps custodyd from starting until the migration is done, the
 * move itself (blobs-migrate.c), then custody.conf's [blobs] store and the marker's removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "blobs-migrate.h"
#include "log.h"

const char *
blobs_migrate_kind_name(enum blobstore_kind kind)
{
	return kind == BLOBSTORE_RADOS ? "rados" : "local";
}

/*
 * The target the marker names: 1 with *to set when there is one, 0 when there is none, or a
 * negative code with *cause.
 */
static int
blobs_migrate_marker_read(const char *path, enum blobstore_kind *to, char **cause)
{
	char file[PATH_MAX], buf[16];
	ssize_t n;
	int fd;

	snprintf(file, sizeof file, "%s/%s", path, BLOBS_MIGRATE_MARKER);
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		custody_cause(cause, "cannot read %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	n = read_full(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		custody_cause(cause, "cannot read %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	buf[n] = '\0';
	if (strcmp(buf, "rados\n") == 0)
		*to = BLOBSTORE_RADOS;
	else if (strcmp(buf, "local\n") == 0)
		*to = BLOBSTORE_LOCAL;
	else {
		custody_cause(cause, "%s: a blobs migration is unfinished, but this file does not say "
		    "to which store (\"local\" or \"rados\"): run custodyd blobs migrate %s --to "
		    "local|rados again", file, path);
		return CUSTODY_EINVAL;
	}
	return 1;
}

/* Write the marker naming the target, durably (a new file renamed into place). */
static int
blobs_migrate_marker_write(const char *path, enum blobstore_kind to, char **cause)
{
	char file[PATH_MAX], tmp[PATH_MAX + 8], line[8];
	int fd, error = 0;

	snprintf(file, sizeof file, "%s/%s", path, BLOBS_MIGRATE_MARKER);
	snprintf(tmp, sizeof tmp, "%s.new", file);
	snprintf(line, sizeof line, "%s\n", blobs_migrate_kind_name(to));
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
	    write_all(fd, line, strlen(line)) < 0 || fsync(fd) != 0) {
		custody_cause(cause, "cannot write %s: %s", tmp, strerror(errno));
		error = CUSTODY_EIO;
	}
	if (fd >= 0 && close(fd) != 0 && error == 0) {
		custody_cause(cause, "cannot write %s: %s", tmp, strerror(errno));
		error = CUSTODY_EIO;
	}
	if (error == 0 && (rename(tmp, file) != 0 || fsync_dir(path) < 0)) {
		custody_cause(cause, "cannot write %s: %s", file, strerror(errno));
		error = CUSTODY_EIO;
	}
	if (error < 0)
		unlink(tmp);
	return error;
}

int
blobs_migrate_pending(const char *path, char **cause)
{
	enum blobstore_kind to;
	int r;

	if ((r = blobs_migrate_marker_read(path, &to, cause)) <= 0)
		return r < 0 ? 1 : 0;
	custody_cause(cause, "blobs migration to %s unfinished: run custodyd blobs migrate %s --to "
	    "%s again", blobs_migrate_kind_name(to), path, blobs_migrate_kind_name(to));
	return 1;
}

/* Make what the archive's disk holds durable (syncfs): a local store's settle. */
static int
blobs_migrate_syncfs(void *arg)
{
	const char *path = arg;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return custody_fail(CUSTODY_EIO, "cannot open %s: %s", path, strerror(errno));
	if (syncfs(fd) != 0)
		error = custody_fail(errno == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
		    "cannot sync %s: %s", path, strerror(errno));
	close(fd);
	return error;
}

/* Open the store of kind for the archive, with custody.conf's other [blobs] settings. */
static int
blobs_migrate_open(struct blobstore **out, const struct blobstore_conf *conf,
    enum blobstore_kind kind, const char *path, char **cause)
{
	struct blobstore_conf c = *conf;
	char *bad = NULL, *why = NULL;
	int error;

	c.kind = kind;
	if (blobstore_conf_check(&c, &bad) < 0) {
		custody_cause(cause, "%s/custody.conf: %s", path, bad != NULL ? bad : "out of memory");
		free(bad);
		return CUSTODY_EINVAL;
	}
	if ((error = blobstore_open(out, &c, path, &why)) < 0) {
		custody_cause(cause, "cannot open the %s blob store: %s", blobs_migrate_kind_name(kind),
		    why != NULL ? why : custody_error());
		free(why);
	}
	return error;
}

/* Remove what killed writers left in a store, saying how many. */
static int
blobs_migrate_sweep(struct blobstore *s, char **cause)
{
	unsigned removed;
	int error;

	if ((error = blobstore_sweep(s, &removed)) < 0)
		custody_cause(cause, "cannot sweep the %s blob store: %s", blobstore_kind(s),
		    custody_error());
	else if (removed > 0)
		log_info("removed %u temporaries an interrupted write left in the %s blob store",
		    removed, blobstore_kind(s));
	return error;
}

/*
 * Refuse to run as another user than the archive's owner (the user custodyd runs as): blobs
 * brought back to disk would be files the daemon cannot read.
 */
static int
blobs_migrate_owner(const char *path, char **cause)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		custody_cause(cause, "%s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	if (st.st_uid == geteuid())
		return 0;
	custody_cause(cause, "%s belongs to uid %u: run custodyd blobs migrate as that user, as "
	    "custodyd runs (runuser -u USER -- custodyd blobs migrate ...)", path,
	    (unsigned)st.st_uid);
	return CUSTODY_EPERM;
}

int
blobs_migrate_archive(const char *archive, enum blobstore_kind to, blobs_migrate_cb cb,
    void *arg, struct blobs_migrate_stats *st, char **cause)
{
	struct blobstore *src = NULL, *dst = NULL;
	struct blobs_migrate_io io = { .cb = cb, .cb_arg = arg };
	enum blobstore_kind marked = to;
	struct conf conf = { 0 };
	char *path = NULL, file[PATH_MAX + 16];
	int lockfd = -1, error, r;

	memset(st, 0, sizeof *st);
	*cause = NULL;
	if ((path = realpath(archive, NULL)) == NULL) {
		custody_cause(cause, "%s: %s", archive, strerror(errno));
		return CUSTODY_EIO;
	}
	if ((error = blobs_migrate_owner(path, cause)) < 0)
		goto done;
	if ((error = archive_lock(path, &lockfd, cause)) < 0) {
		if (error == CUSTODY_EEXIST) {
			free(*cause);
			custody_cause(cause, "custodyd is running on %s: stop it before migrating "
			    "its blobs", path);
		}
		goto done;
	}
	snprintf(file, sizeof file, "%s/custody.conf", path);
	if ((error = conf_load(&conf, file, cause)) < 0)
		goto done;
	if ((r = blobs_migrate_marker_read(path, &marked, cause)) < 0) {
		error = r;
		goto done;
	}
	if (r == 0 && conf.blobs.kind == to) {
		custody_cause(cause, "the blobs are in the %s store already (%s: [blobs] store = "
		    "%s): nothing to migrate", blobs_migrate_kind_name(to), file,
		    blobs_migrate_kind_name(to));
		error = 0;
		goto done;
	}
	/* open both stores before the marker: a wrong setting stops us with nothing changed */
	if ((error = blobs_migrate_open(&src, &conf.blobs, to == BLOBSTORE_RADOS ?
	    BLOBSTORE_LOCAL : BLOBSTORE_RADOS, path, cause)) < 0 ||
	    (error = blobs_migrate_open(&dst, &conf.blobs, to, path, cause)) < 0)
		goto done;
	if ((r == 0 || marked != to) &&
	    (error = blobs_migrate_marker_write(path, to, cause)) < 0)
		goto done;
	if ((error = blobs_migrate_sweep(dst, cause)) < 0 ||
	    (error = blobs_migrate_sweep(src, cause)) < 0)
		goto done;
	io.src = src;
	io.dst = dst;
	if (to == BLOBSTORE_LOCAL) {
		io.settle = blobs_migrate_syncfs;
		io.settle_arg = path;
	}
	if ((error = blobs_migrate_move(&io, st)) < 0) {
		custody_cause(cause, "%s (the migration stopped; what moved stays moved: run "
		    "custodyd blobs migrate %s --to %s again)", custody_error(), path,
		    blobs_migrate_kind_name(to));
		goto done;
	}
	if (error == 1) {
		custody_cause(cause, "%llu blob(s) whose bytes do not match their name were not "
		    "moved (named above); the migration to %s stays unfinished",
		    (unsigned long long)st->bad, blobs_migrate_kind_name(to));
		goto done;
	}
	/* the source's removals durable, then the conf, then the marker goes */
	if ((error = blobs_migrate_syncfs(path)) < 0) {
		custody_cause(cause, "%s", custody_error());
		goto done;
	}
	if ((error = conf_rewrite_set(file, "blobs", "store", blobs_migrate_kind_name(to),
	    cause)) < 0)
		goto done;
	snprintf(file, sizeof file, "%s/%s", path, BLOBS_MIGRATE_MARKER);
	if (unlink(file) != 0 || fsync_dir(path) < 0) {
		custody_cause(cause, "cannot remove %s: %s", file, strerror(errno));
		error = CUSTODY_EIO;
	}
done:
	blobstore_close(src);
	blobstore_close(dst);
	conf_free(&conf);
	if (lockfd >= 0)
		close(lockfd);
	free(path);
	return error;
}
