/*
 * The blob store in a Ceph RADOS pool, through librados (blobstore.h).
 *
 * RADOS has no rename, and a real cluster refuses an object over osd_max_object_size (128 MiB)
 * and a write over osd_max_write_size (90 MiB). So:
 * - A blob of at most RADOS_INLINE bytes is one object under its final name, written by one
 *   atomic write op (create exclusive + write_full) at the commit: it appears whole or not.
 * - A larger blob is cut into parts of RADOS_PART bytes, objects "part.ID.SEQ" (ID 32 random hex
 *   digits of the writer, SEQ from 00000) written by RADOS_WRITE-byte asynchronous writes, at
 *   most RADOS_INFLIGHT in flight. Once Ceph has acknowledged every write, the commit creates
 *   the final name as an empty object whose xattr "custody.parts" is the manifest
 *   "1 ID SIZE PARTSIZE NPARTS", again in one atomic write op. A crash before it leaves only
 *   parts no manifest names, which blobstore_sweep removes; removing a blob drops its manifest
 *   first, so a crash then too leaves only such parts.
 * An object under a final name without the xattr is a whole blob (as `rados put` writes it).
 *
 * Every operation has a deadline (rados_osd_op_timeout, rados_mon_op_timeout and
 * client_mount_timeout from [blobs] timeout): without one, librados waits forever for an OSD
 * that is down. The cluster handle lives as long as the store and reconnects by itself when
 * the OSDs return. The pool is opened with "full try", so that a full pool (its quota or the
 * cluster's) answers writes with EDQUOT or ENOSPC rather than leaving them waiting until the
 * timeout says "unreachable" (tests/e2e/68-rados-full.sh fills the test cluster's OSD).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rados/librados.h>
#include <sodium.h>

#include "custody/common.h"
#include "blobstore.h"
#include "blobstore-rados-int.h"

struct blobstore_rados_writer {
	struct blobstore_writer	 base;
	char			 id[RADOS_ID_LEN + 1];
	uint8_t			*buf;		/* the next write, RADOS_WRITE bytes */
	size_t			 len;
	uint64_t		 sent;		/* bytes handed to librados */
	uint32_t		 parts;		/* part objects written to */
	rados_completion_t	 inflight[RADOS_INFLIGHT];	/* a ring, oldest at head */
	unsigned		 head, count;
	int			 error;		/* the first failure, sticky */
	int			 unreachable;	/* a write timed out: leave parts to the sweep */
};

/* Say what a librados error means, naming the pool and what was done. */
int
blobstore_rados_fail(struct blobstore_rados_store *s, int r, const char *what)
{
	if (r == -EDQUOT || r == -ENOSPC) {
		__atomic_store_n(&s->full_r, r, __ATOMIC_RELAXED);
		__atomic_store_n(&s->full_at, time(NULL), __ATOMIC_RELEASE);
	}
	switch (r) {
	case -ETIMEDOUT:
	case -ENOTCONN:
	case -ESHUTDOWN:
	case -ECONNREFUSED:
		return custody_fail(CUSTODY_EIO, "ceph unreachable: pool %s: %s: no answer "
		    "within %u s", s->pool, what, s->timeout);
	case -EDQUOT:
		return custody_fail(CUSTODY_ENOSPC, "ceph pool full: pool %s: %s: its quota is "
		    "reached", s->pool, what);
	case -ENOSPC:
		return custody_fail(CUSTODY_ENOSPC, "ceph pool full: pool %s: %s: the cluster is "
		    "out of space", s->pool, what);
	case -EPERM:
	case -EACCES:
		return custody_fail(CUSTODY_EPERM, "ceph: pool %s: %s: permission denied (the "
		    "client's caps)", s->pool, what);
	case -ENOENT:
		return custody_fail(CUSTODY_ENOTFOUND, "ceph: pool %s: %s: missing", s->pool,
		    what);
	default:
		return custody_fail(CUSTODY_EIO, "ceph: pool %s: %s: %s", s->pool, what,
		    strerror(-r));
	}
}

/* "part.ID.SEQ" */
void
blobstore_rados_part_oid(char oid[static RADOS_OID_MAX], const char *id, uint32_t seq)
{
	snprintf(oid, RADOS_OID_MAX, "part.%s.%05u", id, (unsigned)seq);
}

/* Whether s starts with n lowercase hex digits (hex_is_lower wants them to end there). */
static int
blobstore_rados_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A decimal number ending at a space or the end; the rest of s in *end. */
static int
blobstore_rados_number(const char *s, uint64_t max, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*end = s;
	return 0;
}

/* Parse a manifest, "1 ID SIZE PARTSIZE NPARTS", strictly: it comes from the pool. */
static int
blobstore_rados_manifest_parse(struct blobstore_rados_layout *l, const char *m, size_t len)
{
	char buf[RADOS_MANIFEST_MAX];
	const char *s = buf;
	uint64_t parts;

	if (len >= sizeof buf || len < 2 || memcmp(m, "1 ", 2) != 0)
		return -1;
	memcpy(buf, m, len);
	buf[len] = '\0';
	s += 2;
	if (!blobstore_rados_hex(s, RADOS_ID_LEN) || s[RADOS_ID_LEN] != ' ')
		return -1;
	memcpy(l->id, s, RADOS_ID_LEN);
	l->id[RADOS_ID_LEN] = '\0';
	s += RADOS_ID_LEN + 1;
	if (blobstore_rados_number(s, UINT64_C(1) << 62, &l->size, &s) < 0 || *s++ != ' ' ||
	    blobstore_rados_number(s, RADOS_PART, &l->partsize, &s) < 0 || *s++ != ' ' ||
	    blobstore_rados_number(s, 99999, &parts, &s) < 0 || *s != '\0' || l->partsize == 0 ||
	    parts != (l->size + l->partsize - 1) / l->partsize)
		return -1;
	l->parts = (uint32_t)parts;
	l->parted = 1;
	return 0;
}

/* Where name's bytes are: its manifest, or the object itself. */
int
blobstore_rados_layout_get(struct blobstore_rados_store *s, const char *name,
    struct blobstore_rados_layout *l)
{
	char m[RADOS_MANIFEST_MAX];
	uint64_t size;
	time_t mtime;
	int r;

	memset(l, 0, sizeof *l);
	r = rados_getxattr(s->io, name, RADOS_XATTR, m, sizeof m);
	if (r == -ENOENT)
		return CUSTODY_ENOTFOUND;
	if (r >= 0) {
		if (blobstore_rados_manifest_parse(l, m, (size_t)r) < 0)
			return custody_fail(CUSTODY_EINVAL, "ceph: pool %s: blob %s: its manifest "
			    "is corrupt", s->pool, name);
		return 0;
	}
	if (r != -ENODATA)
		return blobstore_rados_fail(s, r, name);
	if ((r = rados_stat(s->io, name, &size, &mtime)) < 0)
		return r == -ENOENT ? CUSTODY_ENOTFOUND : blobstore_rados_fail(s, r, name);
	l->size = size;
	return 0;
}

static void blobstore_rados_close(struct blobstore *);

/* Connect as conf's client with its deadlines, and open the pool. */
static int
blobstore_rados_open(struct blobstore **out, const struct blobstore_conf *c, const char *archive,
    char **cause)
{
	struct blobstore_rados_store *s;
	char t[16];
	int r, error = CUSTODY_EIO;

	(void)archive;
	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL || (s->pool = strdup(c->pool)) == NULL) {
		custody_cause(cause, "out of memory");
		error = CUSTODY_ENOMEM;
		goto fail;
	}
	s->base.ops = &blobstore_rados_ops;
	s->timeout = c->timeout;
	pthread_mutex_init(&s->health_lock, NULL);
	if ((r = rados_create2(&s->cluster, "ceph", c->client, 0)) < 0) {
		custody_cause(cause, "ceph: %s: %s", c->client, strerror(-r));
		goto fail;
	}
	if ((r = rados_conf_read_file(s->cluster, c->ceph_conf)) < 0) {
		custody_cause(cause, "ceph: cannot read %s: %s", c->ceph_conf, strerror(-r));
		goto fail;
	}
	snprintf(t, sizeof t, "%u", c->timeout);
	if (rados_conf_set(s->cluster, "rados_osd_op_timeout", t) < 0 ||
	    rados_conf_set(s->cluster, "rados_mon_op_timeout", t) < 0 ||
	    rados_conf_set(s->cluster, "client_mount_timeout", t) < 0) {
		custody_cause(cause, "ceph: cannot set the operation timeouts");
		goto fail;
	}
	if ((r = rados_connect(s->cluster)) < 0) {
		if (r == -ETIMEDOUT || r == -ENOTCONN)
			custody_cause(cause, "ceph unreachable: no monitor of %s answered within "
			    "%u s", c->ceph_conf, c->timeout);
		else if (r == -EACCES || r == -EPERM)
			custody_cause(cause, "ceph: the monitors refuse %s (its key in the keyring "
			    "%s names?)", c->client, c->ceph_conf);
		else
			custody_cause(cause, "ceph: connecting as %s: %s", c->client, strerror(-r));
		rados_shutdown(s->cluster);
		s->cluster = NULL;
		goto fail;
	}
	if ((r = rados_ioctx_create(s->cluster, c->pool, &s->io)) < 0) {
		custody_cause(cause, r == -ENOENT ? "ceph: pool %s does not exist" :
		    "ceph: pool %s: %s", c->pool, strerror(-r));
		s->io = NULL;
		goto fail;
	}
	rados_set_pool_full_try(s->io);
	*out = &s->base;
	return 0;
fail:
	blobstore_rados_close(s != NULL ? &s->base : NULL);
	return error;
}

static void
blobstore_rados_close(struct blobstore *b)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)b;

	if (s == NULL)
		return;
	blobstore_rados_health_close(s);
	if (s->io != NULL)
		rados_ioctx_destroy(s->io);
	if (s->cluster != NULL)
		rados_shutdown(s->cluster);
	free(s->pool);
	free(s);
}

static int
blobstore_rados_begin(struct blobstore *b, struct blobstore_writer **out)
{
	struct blobstore_rados_writer *w;
	uint8_t id[RADOS_ID_LEN / 2];

	if ((w = calloc(1, sizeof *w)) == NULL || (w->buf = malloc(RADOS_WRITE)) == NULL) {
		free(w);
		return CUSTODY_ENOMEM;
	}
	w->base.store = b;
	randombytes_buf(id, sizeof id);
	hex_encode(w->id, id, sizeof id);
	*out = &w->base;
	return 0;
}

/* Wait for the oldest write in flight; its failure becomes the writer's. */
static int
blobstore_rados_wait_one(struct blobstore_rados_writer *w)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)w->base.store;
	rados_completion_t c = w->inflight[w->head];
	char what[RADOS_OID_MAX + 32];
	int r;

	rados_aio_wait_for_complete(c);
	r = rados_aio_get_return_value(c);
	rados_aio_release(c);
	w->head = (w->head + 1) % RADOS_INFLIGHT;
	w->count--;
	if (r == -ETIMEDOUT || r == -ENOTCONN || r == -ESHUTDOWN)
		w->unreachable = 1;
	if (r < 0 && w->error == 0) {
		snprintf(what, sizeof what, "writing blob %s (temporary)", w->id);
		w->error = blobstore_rados_fail(s, r, what);
	}
	return r < 0 ? w->error : 0;
}

/* Wait for every write in flight; the first failure. */
static int
blobstore_rados_wait_all(struct blobstore_rados_writer *w)
{
	while (w->count > 0)
		blobstore_rados_wait_one(w);
	return w->error;
}

/* Hand the buffer to librados (which copies it) as the next write of the current part. */
static int
blobstore_rados_flush(struct blobstore_rados_writer *w)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)w->base.store;
	char oid[RADOS_OID_MAX];
	rados_completion_t c;
	uint32_t seq = (uint32_t)(w->sent / RADOS_PART);
	int r;

	if (w->len == 0)
		return 0;
	if (seq > 99999)
		return w->error = custody_fail(CUSTODY_ETOOBIG, "ceph: blob too large");
	if (w->count == RADOS_INFLIGHT && blobstore_rados_wait_one(w) < 0)
		return w->error;
	if ((r = rados_aio_create_completion2(NULL, NULL, &c)) < 0)
		return w->error = blobstore_rados_fail(s, r, "a write");
	blobstore_rados_part_oid(oid, w->id, seq);
	if ((r = rados_aio_write(s->io, oid, c, (const char *)w->buf, w->len,
	    w->sent % RADOS_PART)) < 0) {
		rados_aio_release(c);
		return w->error = blobstore_rados_fail(s, r, oid);
	}
	w->inflight[(w->head + w->count) % RADOS_INFLIGHT] = c;
	w->count++;
	w->parts = seq + 1;
	w->sent += w->len;
	w->len = 0;
	return 0;
}

static int
blobstore_rados_write(struct blobstore_writer *b, const void *p, size_t n)
{
	struct blobstore_rados_writer *w = (struct blobstore_rados_writer *)b;
	const uint8_t *q = p;
	size_t take;
	int error;

	if (w->error < 0)
		return w->error;
	while (n > 0) {
		if (w->len == RADOS_WRITE && (error = blobstore_rados_flush(w)) < 0)
			return error;
		take = RADOS_WRITE - w->len < n ? RADOS_WRITE - w->len : n;
		memcpy(w->buf + w->len, q, take);
		w->len += take;
		q += take;
		n -= take;
	}
	return 0;
}

/* Remove a writer's parts, best effort: what stays is for the sweep. */
static void
blobstore_rados_drop_parts(struct blobstore_rados_store *s, const char *id, uint32_t parts)
{
	char oid[RADOS_OID_MAX];
	uint32_t i;
	int r;

	for (i = 0; i < parts; i++) {
		blobstore_rados_part_oid(oid, id, i);
		if ((r = rados_remove(s->io, oid)) < 0 && r != -ENOENT)
			break;		/* unreachable: do not wait once per part */
	}
}

static void
blobstore_rados_writer_free(struct blobstore_rados_writer *w)
{
	free(w->buf);
	free(w);
}

static void
blobstore_rados_abort(struct blobstore_writer *b)
{
	struct blobstore_rados_writer *w = (struct blobstore_rados_writer *)b;

	blobstore_rados_wait_all(w);
	if (!w->unreachable)
		blobstore_rados_drop_parts((struct blobstore_rados_store *)w->base.store, w->id,
		    w->parts);
	blobstore_rados_writer_free(w);
}

/* Create name in one atomic op: the whole blob, or its manifest; an existing name stays. */
static int
blobstore_rados_create_final(struct blobstore_rados_store *s, const char *name,
    const uint8_t *data, size_t len, const char *manifest)
{
	rados_write_op_t op;
	int r;

	if ((op = rados_create_write_op()) == NULL)
		return CUSTODY_ENOMEM;
	rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, NULL);
	if (manifest != NULL)
		rados_write_op_setxattr(op, RADOS_XATTR, manifest, strlen(manifest));
	else
		rados_write_op_write_full(op, (const char *)data, len);
	r = rados_write_op_operate(op, s->io, name, NULL, 0);
	rados_release_write_op(op);
	if (r == -EEXIST)
		return 1;
	if (r < 0)
		return blobstore_rados_fail(s, r, name);
	__atomic_store_n(&s->full_at, 0, __ATOMIC_RELEASE);	/* there was room */
	return 0;
}

static int
blobstore_rados_commit(struct blobstore_writer *b, const char *name)
{
	struct blobstore_rados_writer *w = (struct blobstore_rados_writer *)b;
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)w->base.store;
	char manifest[RADOS_MANIFEST_MAX];
	uint64_t size = w->sent + w->len;
	int error;

	if ((error = w->error) < 0)
		goto fail;
	if (w->sent == 0) {
		if ((error = blobstore_rados_create_final(s, name, w->buf, w->len, NULL)) < 0)
			goto fail;
		blobstore_rados_writer_free(w);
		return 0;
	}
	if ((error = blobstore_rados_flush(w)) < 0 || (error = blobstore_rados_wait_all(w)) < 0)
		goto fail;
	snprintf(manifest, sizeof manifest, "1 %s %llu %u %u", w->id, (unsigned long long)size,
	    RADOS_PART, (unsigned)w->parts);
	if ((error = blobstore_rados_create_final(s, name, NULL, 0, manifest)) < 0)
		goto fail;
	if (error == 1)		/* already there: ours are spare */
		blobstore_rados_drop_parts(s, w->id, w->parts);
	blobstore_rados_writer_free(w);
	return 0;
fail:
	blobstore_rados_abort(&w->base);
	return error;
}

static int
blobstore_rados_stat(struct blobstore *b, const char *name, uint64_t *size)
{
	struct blobstore_rados_layout l;
	int error;

	if ((error = blobstore_rados_layout_get((struct blobstore_rados_store *)b, name, &l)) < 0)
		return error;
	*size = l.size;
	return 0;
}

/* The manifest first: the name goes at once, parts a crash leaves are the sweep's. */
static int
blobstore_rados_remove(struct blobstore *b, const char *name)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)b;
	struct blobstore_rados_layout l;
	int r, error;

	if ((error = blobstore_rados_layout_get(s, name, &l)) < 0)
		return error;
	if ((r = rados_remove(s->io, name)) < 0)
		return r == -ENOENT ? CUSTODY_ENOTFOUND : blobstore_rados_fail(s, r, name);
	if (l.parted)
		blobstore_rados_drop_parts(s, l.id, l.parts);
	return 0;
}

/* Walk every object of the pool: cb(arg, oid); a failure of the listing or of cb stops it. */
static int
blobstore_rados_walk(struct blobstore_rados_store *s, int (*cb)(void *, const char *), void *arg)
{
	rados_list_ctx_t ctx;
	const char *oid;
	int r, error = 0;

	if ((r = rados_nobjects_list_open(s->io, &ctx)) < 0)
		return blobstore_rados_fail(s, r, "listing");
	while ((r = rados_nobjects_list_next(ctx, &oid, NULL, NULL)) == 0)
		if ((error = cb(arg, oid)) < 0)
			break;
	if (error == 0 && r != -ENOENT)
		error = blobstore_rados_fail(s, r, "listing");
	rados_nobjects_list_close(ctx);
	return error;
}

struct blobstore_rados_list_arg {
	blobstore_list_cb	 cb;
	void			*arg;
};

static int
blobstore_rados_list_one(void *arg, const char *oid)
{
	struct blobstore_rados_list_arg *a = arg;

	if (strlen(oid) != SHA256_HEX_LEN || !hex_is_lower(oid, SHA256_HEX_LEN))
		return 0;
	return a->cb(a->arg, oid);
}

static int
blobstore_rados_list(struct blobstore *b, blobstore_list_cb cb, void *arg)
{
	struct blobstore_rados_list_arg a = { cb, arg };

	return blobstore_rados_walk((struct blobstore_rados_store *)b, blobstore_rados_list_one, &a);
}

/* What the sweep gathers: the pool's part objects and its blobs. */
struct blobstore_rados_sweep {
	struct blobstore_rados_store	 *s;
	char			(*parts)[RADOS_OID_MAX];
	size_t			 nparts, partcap;
	char			(*names)[SHA256_HEX_LEN + 1];
	size_t			 nnames, namecap;
	char			(*used)[RADOS_ID_LEN + 1];	/* ids manifests name */
	size_t			 nused;
};

/* Whether oid is "part." ID "." and five digits. */
static int
blobstore_rados_is_part(const char *oid)
{
	size_t i;

	if (strncmp(oid, "part.", 5) != 0 || strlen(oid) != 5 + RADOS_ID_LEN + 6 ||
	    !blobstore_rados_hex(oid + 5, RADOS_ID_LEN) || oid[5 + RADOS_ID_LEN] != '.')
		return 0;
	for (i = 5 + RADOS_ID_LEN + 1; oid[i] != '\0'; i++)
		if (oid[i] < '0' || oid[i] > '9')
			return 0;
	return 1;
}

/* Keep one more of n elements of size sz in *v (capacity *cap). */
static int
blobstore_rados_grow(void *v, size_t n, size_t *cap, size_t sz)
{
	void *p;
	size_t c = *cap == 0 ? 256 : *cap * 2;

	if (n < *cap)
		return 0;
	if ((p = reallocarray(*(void **)v, c, sz)) == NULL)
		return CUSTODY_ENOMEM;
	*(void **)v = p;
	*cap = c;
	return 0;
}

static int
blobstore_rados_sweep_one(void *arg, const char *oid)
{
	struct blobstore_rados_sweep *w = arg;

	if (blobstore_rados_is_part(oid)) {
		if (blobstore_rados_grow(&w->parts, w->nparts, &w->partcap, sizeof *w->parts) < 0)
			return CUSTODY_ENOMEM;
		snprintf(w->parts[w->nparts++], RADOS_OID_MAX, "%s", oid);
	} else if (strlen(oid) == SHA256_HEX_LEN && hex_is_lower(oid, SHA256_HEX_LEN)) {
		if (blobstore_rados_grow(&w->names, w->nnames, &w->namecap, sizeof *w->names) < 0)
			return CUSTODY_ENOMEM;
		memcpy(w->names[w->nnames++], oid, SHA256_HEX_LEN + 1);
	}
	return 0;
}

static int
blobstore_rados_id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, RADOS_ID_LEN);
}

/*
 * List the pool; when there are parts, read every manifest for the ids in use, and remove the
 * parts of any other id: writes a crash cut short, removals a crash cut short.
 */
static int
blobstore_rados_sweep(struct blobstore *b, unsigned *removed)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)b;
	struct blobstore_rados_sweep w = { .s = s };
	struct blobstore_rados_layout l;
	char id[RADOS_ID_LEN + 1];
	size_t i;
	int r, error;

	if ((error = blobstore_rados_walk(s, blobstore_rados_sweep_one, &w)) < 0 || w.nparts == 0)
		goto done;
	if (w.nnames > 0 && (w.used = calloc(w.nnames, sizeof *w.used)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < w.nnames; i++) {
		error = blobstore_rados_layout_get(s, w.names[i], &l);
		if (error == CUSTODY_ENOTFOUND)
			continue;	/* removed meanwhile */
		if (error < 0)
			goto done;	/* a corrupt manifest: its parts may be in use */
		if (l.parted)
			memcpy(w.used[w.nused++], l.id, sizeof l.id);
	}
	error = 0;
	qsort(w.used, w.nused, sizeof *w.used, blobstore_rados_id_cmp);
	for (i = 0; i < w.nparts; i++) {
		memcpy(id, w.parts[i] + 5, RADOS_ID_LEN);
		id[RADOS_ID_LEN] = '\0';
		if (w.nused > 0 && bsearch(id, w.used, w.nused, sizeof *w.used,
		    blobstore_rados_id_cmp) != NULL)
			continue;
		if ((r = rados_remove(s->io, w.parts[i])) < 0 && r != -ENOENT) {
			error = blobstore_rados_fail(s, r, w.parts[i]);
			goto done;
		}
		(*removed)++;
	}
done:
	free(w.parts);
	free(w.names);
	free(w.used);
	return error;
}

const struct blobstore_ops blobstore_rados_ops = {
	.kind = "rados",
	.open = blobstore_rados_open,
	.close = blobstore_rados_close,
	.begin = blobstore_rados_begin,
	.write = blobstore_rados_write,
	.commit = blobstore_rados_commit,
	.abort = blobstore_rados_abort,
	.read_open = blobstore_rados_read_open,
	.read = blobstore_rados_read,
	.read_close = blobstore_rados_read_close,
	.stat = blobstore_rados_stat,
	.remove = blobstore_rados_remove,
	.list = blobstore_rados_list,
	.sweep = blobstore_rados_sweep,
	.health = blobstore_rados_health,
};
