/* The blob store's calls (blobstore.h), dispatched through the ops of the store's kind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custody/common.h"
#include "blobstore.h"

/* Names are checked here, once, for every kind of store. */
static int
blobstore_name_ok(const char *name)
{
	if (hex_is_lower(name, SHA256_HEX_LEN) && name[SHA256_HEX_LEN] == '\0')
		return 0;
	return custody_fail(CUSTODY_EINVAL, "blob store: bad blob name");
}

/* Open the store the conf names. */
int
blobstore_open(struct blobstore **out, const struct blobstore_conf *c, const char *archive,
    char **cause)
{
	const struct blobstore_ops *ops = blobstore_ops_for(c->kind);

	*out = NULL;
	if (ops == NULL) {
		if (asprintf(cause, "[blobs] store = %s: this custodyd was built without it",
		    c->kind == BLOBSTORE_RADOS ? "rados" : "local") < 0)
			*cause = NULL;
		return CUSTODY_EINVAL;
	}
	return ops->open(out, c, archive, cause);
}

void
blobstore_close(struct blobstore *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
blobstore_begin(struct blobstore *s, struct blobstore_writer **out)
{
	*out = NULL;
	return s->ops->begin(s, out);
}

int
blobstore_write(struct blobstore_writer *w, const void *p, size_t n)
{
	int error;

	if (n == 0)
		return 0;
	if ((error = w->store->ops->write(w, p, n)) == 0)
		w->written += n;
	return error;
}

int
blobstore_commit(struct blobstore_writer *w, const char *name)
{
	int error;

	if ((error = blobstore_name_ok(name)) < 0) {
		w->store->ops->abort(w);
		return error;
	}
	return w->store->ops->commit(w, name);
}

#define BLOBSTORE_COPY (1u << 20)	/* bytes per read of a file committed by copy */

int
blobstore_commit_file(struct blobstore *s, const char *path, const char *name)
{
	struct blobstore_writer *w = NULL;
	uint8_t *buf = NULL;
	ssize_t r;
	int fd = -1, error;

	if ((error = blobstore_name_ok(name)) < 0)
		return error;
	if (s->ops->adopt != NULL)
		return s->ops->adopt(s, path, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		error = custody_fail(CUSTODY_EIO, "blob %s: %s: %s", name, path, strerror(errno));
		goto done;
	}
	if ((buf = malloc(BLOBSTORE_COPY)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((error = blobstore_begin(s, &w)) < 0)
		goto done;
	while ((r = read_full(fd, buf, BLOBSTORE_COPY)) > 0)
		if ((error = blobstore_write(w, buf, (size_t)r)) < 0)
			goto done;
	if (r < 0) {
		error = custody_fail(CUSTODY_EIO, "blob %s: reading %s: %s", name, path,
		    strerror(errno));
		goto done;
	}
	error = blobstore_commit(w, name);
	w = NULL;
	if (error == 0)
		unlink(path);
done:
	blobstore_abort(w);
	if (fd >= 0)
		close(fd);
	free(buf);
	return error;
}

void
blobstore_abort(struct blobstore_writer *w)
{
	if (w != NULL)
		w->store->ops->abort(w);
}

int
blobstore_read_open(struct blobstore *s, const char *name, uint64_t offset,
    struct blobstore_reader **out, uint64_t *size)
{
	int error;

	*out = NULL;
	if ((error = blobstore_name_ok(name)) < 0)
		return error;
	return s->ops->read_open(s, name, offset, out, size);
}

int
blobstore_read(struct blobstore_reader *r, void *p, size_t n, size_t *got)
{
	*got = 0;
	return n == 0 ? 0 : r->store->ops->read(r, p, n, got);
}

void
blobstore_read_close(struct blobstore_reader *r)
{
	if (r != NULL)
		r->store->ops->read_close(r);
}

int
blobstore_stat(struct blobstore *s, const char *name, uint64_t *size)
{
	int error;

	if ((error = blobstore_name_ok(name)) < 0)
		return error;
	return s->ops->stat(s, name, size);
}

int
blobstore_remove(struct blobstore *s, const char *name)
{
	int error;

	if ((error = blobstore_name_ok(name)) < 0)
		return error;
	return s->ops->remove(s, name);
}

int
blobstore_list(struct blobstore *s, blobstore_list_cb cb, void *arg)
{
	return s->ops->list(s, cb, arg);
}

int
blobstore_sweep(struct blobstore *s, unsigned *removed)
{
	*removed = 0;
	return s->ops->sweep(s, removed);
}

int
blobstore_health(struct blobstore *s, char **why)
{
	*why = NULL;
	return s->ops->health(s, why);
}

const char *
blobstore_kind(const struct blobstore *s)
{
	return s->ops->kind;
}
