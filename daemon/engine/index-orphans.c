/* Blobs no evidence record names, moved aside at startup (never deleted). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "blob.h"
#include "log.h"

#define ORPHAN_COPY (1u << 20)

/* The walk of the store: names the index does not know, collected. */
struct orphans {
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		(*names)[SHA256_HEX_LEN + 1];
	size_t		 n, cap;
};

static int
orphans_seen(void *arg, const char *name)
{
	struct orphans *o = arg;
	void *p;
	int rc;

	sqlite3_reset(o->st);
	sqlite3_bind_text(o->st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(o->st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return custody_fail(CUSTODY_EIO, "index: sweep: %s", sqlite3_errmsg(o->db));
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 16;
		if ((p = reallocarray(o->names, o->cap, sizeof *o->names)) == NULL)
			return CUSTODY_ENOMEM;
		o->names = p;
	}
	snprintf(o->names[o->n++], SHA256_HEX_LEN + 1, "%s", name);
	return 0;
}

/* Copy blob name out of the store into ARCHIVE/orphans/NAME, durably, then remove it there. */
static int
orphans_move(struct archive *a, struct blobstore *s, const char *dir, const char *name)
{
	struct blobstore_reader *r = NULL;
	char tmp[4200], to[4200];
	uint8_t *buf = NULL;
	uint64_t size;
	size_t got;
	int fd = -1, error;

	(void)a;
	snprintf(tmp, sizeof tmp, "%s/.%s.part", dir, name);
	snprintf(to, sizeof to, "%s/%s", dir, name);
	if ((buf = malloc(ORPHAN_COPY)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = blobstore_read_open(s, name, 0, &r, &size)) < 0)
		goto done;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		error = blob_io_error("orphans/");
		goto done;
	}
	for (;;) {
		if ((error = blobstore_read(r, buf, ORPHAN_COPY, &got)) < 0 || got == 0)
			break;
		if (write_all(fd, buf, got) < 0) {
			error = blob_io_error("orphans/");
			break;
		}
	}
	if (error == 0 && (fsync(fd) != 0 || rename(tmp, to) != 0 || fsync_dir(dir) != 0))
		error = blob_io_error("orphans/");
	if (error == 0)
		error = blobstore_remove(s, name);
done:
	if (fd >= 0) {
		close(fd);
		if (error < 0)
			unlink(tmp);
	}
	blobstore_read_close(r);
	free(buf);
	return error;
}

/*
 * Move blobs no evidence record names out of the blob store to ARCHIVE/orphans/: left by an
 * ingest that a crash interrupted before its commit, or named by commits that are no longer
 * there (a feed cut back by an old backup). Never deleted: evidence is not ours to destroy on
 * a guess; an admin may remove orphans/ once `custody verify` is clean. Only at startup,
 * before any client, and only after the index caught up with every feed, so that "not in the
 * index" means "in no feed".
 */
int
index_sweep_orphans(struct archive *a)
{
	struct orphans o = { .db = archive_db(a) };
	struct blobstore *s = archive_blobs(a);
	char *dir = archive_file(a, "orphans");
	size_t i;
	int n = 0, error = 0;

	if (s == NULL) {
		log_warn("orphan sweep skipped: %s", custody_error());
		goto done;
	}
	if (o.db == NULL || dir == NULL || sqlite3_prepare_v2(o.db,
	    "SELECT 1 FROM blobs WHERE name=?", -1, &o.st, NULL) != SQLITE_OK) {
		error = custody_fail(CUSTODY_EIO, "cannot sweep the blob store");
		goto done;
	}
	if ((error = blobstore_list(s, orphans_seen, &o)) < 0)
		goto done;
	if (o.n > 0 && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		error = blob_io_error("creating orphans/");
		goto done;
	}
	for (i = 0; i < o.n; i++) {
		if ((error = orphans_move(a, s, dir, o.names[i])) < 0)
			break;
		n++;
	}
	if (n > 0)
		log_warn("moved %d blob%s that no commit names to orphans/ (an ingest a crash "
		    "cut short, or a feed cut back)", n, n == 1 ? "" : "s");
done:
	sqlite3_finalize(o.st);
	free(o.names);
	free(dir);
	return error;
}
