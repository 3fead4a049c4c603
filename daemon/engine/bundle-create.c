/*
 * Writing a bundle for an office: for each feed, the commits it lacks as far as we know, as one
 * git pack in stored form (proto/packwrite.c) built in an unnamed file under tmp/, then the
 * blobs their evidence records name, all through the bundle writer (proto/bundlefmt.c) into an
 * age stream encrypted to the office's X25519 key (its Ed25519 key converted). Memory holds the
 * commit ids of one feed's range and 32 bytes a blob name, never a blob or a pack.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "custody/age.h"
#include "custody/bundlefmt.h"
#include "custody/packwrite.h"
#include "bundle.h"
#include "bundle-queue.h"
#include "handover.h"
#include "log.h"
#include "offices.h"
#include "peers.h"

#define BC_COPY (1 << 20)	/* bytes copied at a time */
#define BC_FLUSH (8u << 20)	/* the file's writeback starts every so many bytes */

struct bc {
	struct archive			*a;
	int				 fd;
	uint64_t			 written, *progress;
	struct age_writer		*aw;
	struct bq			*q;		/* plaintext to the encrypting thread */
	int				 status;	/* that thread's: 0 or an error */
	char				 msg[512];	/* and what it said */
	struct bundlefmt_writer		*bw;
	uint8_t				(*names)[BUNDLEFMT_NAME_LEN];	/* blobs to carry */
	size_t				 nnames, capnames;
	struct packwrite		*pw;
	git_odb				*odb;
	uint8_t				*buf;
};

/* The age stream's bytes into the file. */
static int
bc_file_out(void *arg, const void *p, size_t n)
{
	struct bc *x = arg;
	int error;

	if ((error = write_all(x->fd, p, n)) < 0)
		return custody_fail(error, "writing the bundle: %s", strerror(errno));
	/* start writeback as we go, so that the client's fsync has little left to wait for */
	if ((x->written + n) / BC_FLUSH != x->written / BC_FLUSH)
		sync_file_range(x->fd, (off_t)(x->written / BC_FLUSH * BC_FLUSH), BC_FLUSH,
		    SYNC_FILE_RANGE_WRITE);
	x->written += n;
	if (x->progress != NULL)
		__atomic_store_n(x->progress, x->written, __ATOMIC_RELAXED);
	return 0;
}

/* The bundle's plaintext, to the thread that encrypts it. */
static int
bc_age_out(void *arg, const void *p, size_t n)
{
	struct bc *x = arg;
	int error;

	if ((error = bq_put(x->q, p, n)) < 0 && x->status < 0)	/* it failed: say why */
		return custody_fail(x->status, "%s", x->msg);
	return error;
}

/* The encrypting thread: plaintext from the queue into the age stream, and the file. */
static void *
bc_writer_main(void *arg)
{
	struct bc *x = arg;
	const uint8_t *p;
	size_t n;
	int r, error = 0;

	while ((r = bq_get(x->q, &p, &n)) == 1) {
		error = age_writer_write(x->aw, p, n);
		bq_done(x->q);
		if (error < 0)
			break;
	}
	if (error == 0 && r == 0)
		error = age_writer_finish(x->aw);
	else if (error == 0)
		error = r;	/* the producer failed: it says why */
	if (error < 0) {
		snprintf(x->msg, sizeof x->msg, "%s", custody_error());
		x->status = error;	/* read by the producer once stopped, or after the join */
		bq_stop(x->q);
	}
	return NULL;
}

/* The office called name: its identity key. */
static int
bc_office(struct archive *a, const char *name, uint8_t pk[static ED25519_PK_LEN])
{
	struct peers_entry e;
	struct office *v = NULL;
	size_t n = 0, i;
	int found = 0;

	if (peers_find_name(&e, name) == 0) {
		memcpy(pk, e.pk, ED25519_PK_LEN);
		return 0;
	}
	if (offices_list(a, &v, &n) == 0)
		for (i = 0; i < n && !found; i++)
			if (strcmp(v[i].name, name) == 0) {
				memcpy(pk, v[i].pk, ED25519_PK_LEN);
				found = 1;
			}
	free(v);
	return found ? 0 : custody_fail(CUSTODY_ENOTFOUND, "no office called %s (custody peers, "
	    "custody show office)", name);
}

/* How far office (hex) holds feed hex, as its witness records say. */
static uint64_t
bc_witnessed(struct archive *a, const char *office, const char *hex)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	uint64_t seq = 0;

	if (db == NULL || (st = index_stmt(db, "SELECT max(seq) FROM witnesses WHERE feed="
	    INDEX_OFFICE_ID " AND witness=" INDEX_OFFICE_ID)) == NULL)
		return 0;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, office, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return seq;
}

/* The commits of a feed (head at seq) before the first one made at or after since. */
static int
bc_since_date(struct archive *a, const git_oid *head, uint64_t seq, time_t since,
    uint64_t *base)
{
	git_commit *c = NULL, *p;
	uint64_t at = seq;

	if (git_commit_lookup(&c, archive_repo(a), head) < 0)
		return custody_fail(CUSTODY_EIO, "feed head unreadable");
	while (at > 0 && git_commit_time(c) >= since) {
		at--;
		if (at == 0)
			break;
		if (git_commit_parentcount(c) != 1 || git_commit_parent(&p, c, 0) < 0) {
			git_commit_free(c);
			return custody_fail(CUSTODY_EIO, "feed history unreadable");
		}
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	*base = at;
	return 0;
}

/* --since: a date (the commits made that day or later) or a number of commits to skip. */
static int
bc_since_parse(const char *since, time_t *when, uint64_t *n)
{
	struct tm tm = { 0 };
	char *end;

	*when = -1;
	*n = 0;
	if (since[0] >= '0' && since[0] <= '9' && strchr(since, '-') == NULL) {
		errno = 0;
		*n = strtoull(since, &end, 10);
		if (errno == 0 && *end == '\0')
			return 0;
	} else if ((end = strptime(since, "%Y-%m-%d", &tm)) != NULL && *end == '\0') {
		*when = timegm(&tm);
		return 0;
	}
	return custody_fail(CUSTODY_EINVAL, "--since %s: give a date (YYYY-MM-DD) or a number of "
	    "commits", since);
}

/* Note the blob an evidence record names (we carry what we hold). */
static int
bc_note_blob(struct bc *x, const char *path, const void *data, size_t len)
{
	const char *name = strrchr(path, '/'), *blob;
	json_t *doc = NULL;
	void *nn;

	name = name ? name + 1 : path;
	if (strlen(name) != TOKEN_HEX_LEN || record_open(&doc, x->a, name, data, len, NULL) < 0)
		return 0;	/* not ours to open: its blob is the receiver's to fetch */
	blob = json_string_value(json_object_get(doc, "blob"));
	if (strcmp(record_kind(doc), "evidence") == 0 && blob != NULL &&
	    hex_is_lower(blob, SHA256_HEX_LEN) && blob_exists(x->a, blob)) {
		if (x->nnames == x->capnames) {
			x->capnames = x->capnames ? 2 * x->capnames : 64;
			if ((nn = reallocarray(x->names, x->capnames, BUNDLEFMT_NAME_LEN)) == NULL) {
				json_decref(doc);
				return CUSTODY_ENOMEM;
			}
			x->names = nn;
		}
		hex_decode(x->names[x->nnames++], BUNDLEFMT_NAME_LEN, blob);
	}
	json_decref(doc);
	return 0;
}

/* One object into the pack. */
static int
bc_pack_add(struct bc *x, const git_oid *id, const char *path)
{
	git_odb_object *o = NULL;
	uint8_t oid[PACKWRITE_OID_LEN];
	int t;
	int error;

	if (git_odb_read(&o, x->odb, id) < 0)
		return custody_fail(CUSTODY_EIO, "object %s unreadable", git_oid_tostr_s(id));
	if ((error = feed_object_packtype(o, id, &t)) < 0) {
		git_odb_object_free(o);
		return error;
	}
	error = packwrite_add(x->pw, t, git_odb_object_data(o), git_odb_object_size(o), oid);
	if (error == 0 && t == PACKWRITE_BLOB && path != NULL)
		error = bc_note_blob(x, path, git_odb_object_data(o), git_odb_object_size(o));
	git_odb_object_free(o);
	return error;
}

/* Each object a commit brings, records by their path. */
static int
bc_object(const char *path, const git_oid *id, int is_tree, void *arg)
{
	return bc_pack_add(arg, id, is_tree ? NULL : path) < 0 ? -1 : 0;
}

/* Copy len bytes of fd from its start into the bundle writer. */
static int
bc_copy(struct bc *x, int fd, uint64_t len, const char *what)
{
	uint64_t off = 0;
	ssize_t r;
	int error;

	while (off < len) {
		r = pread(fd, x->buf, len - off < BC_COPY ? (size_t)(len - off) : BC_COPY,
		    (off_t)off);
		if (r <= 0)
			return custody_fail(CUSTODY_EIO, "reading %s: %s", what,
			    r < 0 ? strerror(errno) : "it shrank");
		if ((error = bundlefmt_write_data(x->bw, x->buf, (size_t)r)) < 0)
			return error;
		off += (uint64_t)r;
	}
	return 0;
}

/* Feed f's commits after base into a pack, and the pack into the bundle. */
static int
bc_feed(struct bc *x, const struct sync_feed *f, uint64_t base, struct bundle_created *out)
{
	struct archive *a = x->a;
	struct bundlefmt_feed bf = { 0 };
	git_oid head, at, *ring = NULL;
	git_commit *c = NULL, *p;
	uint8_t sum[PACKWRITE_OID_LEN];
	uint64_t n = f->seq - base, i;
	off_t end;
	int pfd = -1, ifd = -1, error = 0;

	if (git_oid_fromstr(&head, f->head) < 0)
		return custody_fail(CUSTODY_EIO, "feed %.16s: bad head", f->hex);
	memcpy(bf.office, f->pk, ED25519_PK_LEN);
	bf.base_seq = base;
	bf.seq = f->seq;
	memcpy(bf.head, head.id, BUNDLEFMT_OID_LEN);
	bf.npacks = 1;
	if (base > 0) {
		if ((error = sync_commit_at(a, &head, f->seq, base, &at)) < 0)
			return error;
		memcpy(bf.base_head, at.id, BUNDLEFMT_OID_LEN);
	}
	if ((ring = calloc(n, sizeof *ring)) == NULL)
		return CUSTODY_ENOMEM;
	if (git_commit_lookup(&c, archive_repo(a), &head) < 0) {
		error = custody_fail(CUSTODY_EIO, "feed head unreadable");
		goto done;
	}
	for (i = n; i > 0; i--) {
		ring[i - 1] = *git_commit_id(c);
		if (i == 1)
			break;
		if (git_commit_parentcount(c) != 1 || git_commit_parent(&p, c, 0) < 0) {
			error = custody_fail(CUSTODY_EIO, "feed history unreadable");
			goto done;
		}
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	c = NULL;
	if ((pfd = archive_tmpfile(a, "bundle")) < 0 || (ifd = archive_tmpfile(a, "bundle")) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot make a file for the pack: %s",
		    strerror(errno));
		goto done;
	}
	if ((error = packwrite_new(&x->pw, pfd)) < 0 ||
	    (error = packwrite_scratch(x->pw, ifd)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		if (git_commit_lookup(&c, archive_repo(a), &ring[i]) < 0)
			error = custody_fail(CUSTODY_EIO, "feed history unreadable");
		else
			error = feed_commit_objects(archive_repo(x->a), c, bc_object, x);
		git_commit_free(c);
		c = NULL;
	}
	if (error < 0)
		goto done;
	close(ifd);
	if ((ifd = archive_tmpfile(a, "bundle")) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot make a file for the pack index");
		goto done;
	}
	if ((error = packwrite_finish(x->pw, ifd, sum)) < 0)
		goto done;
	packwrite_free(x->pw);
	x->pw = NULL;
	if ((end = lseek(pfd, 0, SEEK_END)) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot size the pack: %s", strerror(errno));
		goto done;
	}
	if ((uint64_t)end > BUNDLEFMT_PACK_MAX) {
		error = custody_fail(CUSTODY_ETOOBIG, "feed %.16s: its %llu new commits make a pack "
		    "over %llu bytes: make several bundles with --since", f->hex,
		    (unsigned long long)n, (unsigned long long)BUNDLEFMT_PACK_MAX);
		goto done;
	}
	if ((error = bundlefmt_write_feed(x->bw, &bf)) < 0 ||
	    (error = bundlefmt_write_part(x->bw, NULL, (uint64_t)end)) < 0 ||
	    (error = bc_copy(x, pfd, (uint64_t)end, "the pack")) < 0)
		goto done;
	out->feeds++;
	out->commits += n;
done:
	packwrite_free(x->pw);
	x->pw = NULL;
	git_commit_free(c);
	free(ring);
	if (pfd >= 0)
		close(pfd);
	if (ifd >= 0)
		close(ifd);
	return error;
}

static int
bc_name_cmp(const void *a, const void *b)
{
	return memcmp(a, b, BUNDLEFMT_NAME_LEN);
}

static int
bc_feed_cmp(const void *a, const void *b)
{
	return memcmp(((const struct sync_feed *)a)->pk, ((const struct sync_feed *)b)->pk,
	    ED25519_PK_LEN);
}

/* A blob's bytes from the store into the bundle. */
static int
bc_copy_blob(struct bc *x, struct blobstore_reader *r, uint64_t len, const char *hex)
{
	uint64_t off = 0;
	size_t got;
	int error;

	while (off < len) {
		if ((error = blobstore_read(r, x->buf, len - off < BC_COPY ? (size_t)(len - off) :
		    BC_COPY, &got)) < 0)
			return error;
		if (got == 0)
			return custody_fail(CUSTODY_EIO, "reading blob %s: it shrank", hex);
		if ((error = bundlefmt_write_data(x->bw, x->buf, got)) < 0)
			return error;
		off += got;
	}
	return 0;
}

/* Every blob noted, once each, in name order. */
static int
bc_blobs(struct bc *x, struct bundle_created *out)
{
	struct blobstore_reader *r;
	struct blobstore *s;
	char hex[SHA256_HEX_LEN + 1];
	uint64_t size;
	size_t i;
	int error = 0;

	if (x->nnames > 0)
		qsort(x->names, x->nnames, BUNDLEFMT_NAME_LEN, bc_name_cmp);
	if (x->nnames > 0 && (s = archive_blobs(x->a)) == NULL)
		return CUSTODY_EIO;
	for (i = 0; i < x->nnames && error == 0; i++) {
		if (i > 0 && memcmp(x->names[i - 1], x->names[i], BUNDLEFMT_NAME_LEN) == 0)
			continue;
		hex_encode(hex, x->names[i], BUNDLEFMT_NAME_LEN);
		if ((error = blobstore_read_open(s, hex, 0, &r, &size)) < 0)
			break;
		if ((error = bundlefmt_write_part(x->bw, x->names[i], size)) == 0)
			error = bc_copy_blob(x, r, size, hex);
		blobstore_read_close(r);
		out->blobs++;
		out->blob_bytes += size;
	}
	return error;
}

int
bundle_create(struct bundle_created *out, struct archive *a, const char *office, int all,
    const char *since, int fd, uint64_t *progress)
{
	struct bc x = { .a = a, .fd = fd, .progress = progress };
	struct bundlefmt_header hd = { .version = BUNDLEFMT_VERSION };
	struct age_recipient rcpt;
	struct sync_feed *feeds = NULL;
	uint8_t pk[ED25519_PK_LEN];
	char ohex[2 * ED25519_PK_LEN + 1];
	size_t n = 0, i;
	uint64_t base = 0, skip = 0;
	time_t when = -1;
	git_oid head;
	pthread_t writer;
	int error, started = 0;

	memset(out, 0, sizeof *out);
	if (since != NULL && (error = bc_since_parse(since, &when, &skip)) < 0)
		return error;
	if ((error = bc_office(a, office, pk)) < 0)
		return error;
	if (sodium_memcmp(pk, a->office_pk, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EINVAL, "%s is this office: a bundle is for another",
		    office);
	hex_encode(ohex, pk, ED25519_PK_LEN);
	/* the key it holds now (after a rotation, the one its feed handed over to) */
	if ((error = handover_current(a, pk, hd.recipient)) < 0)
		return error;
	if (crypto_sign_ed25519_pk_to_curve25519(rcpt.pk, hd.recipient) != 0)
		return custody_fail(CUSTODY_EINVAL, "%s: its key has no X25519 form", office);
	memcpy(hd.sender, a->sign_pk, ED25519_PK_LEN);
	hd.created = (uint64_t)time(NULL);
	if ((x.buf = malloc(BC_COPY)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = sync_list_feeds(a, &feeds, &n)) < 0 ||
	    (error = git_repository_odb(&x.odb, archive_repo(a)) < 0 ? CUSTODY_EIO : 0) < 0)
		goto done;
	if (n > 0)
		qsort(feeds, n, sizeof *feeds, bc_feed_cmp);
	if ((error = bq_new(&x.q)) < 0 ||
	    (error = age_writer_new(&x.aw, &rcpt, 1, bc_file_out, &x)) < 0)
		goto done;
	if (pthread_create(&writer, NULL, bc_writer_main, &x) != 0) {
		error = custody_fail(CUSTODY_ERR, "cannot start a thread");
		goto done;
	}
	started = 1;
	if ((error = bundlefmt_writer_new(&x.bw, &hd, a->office_sk, bc_age_out, &x)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		if (all)
			base = 0;
		else if (since != NULL && when >= 0) {
			if (git_oid_fromstr(&head, feeds[i].head) < 0) {
				error = custody_fail(CUSTODY_EIO, "bad feed head");
				break;
			}
			if ((error = bc_since_date(a, &head, feeds[i].seq, when, &base)) < 0)
				break;
		} else if (since != NULL)
			base = skip;
		else if (strcmp(feeds[i].hex, ohex) == 0)
			base = feeds[i].seq;	/* its own feed: it holds what we hold */
		else
			base = bc_witnessed(a, ohex, feeds[i].hex);
		if (base >= feeds[i].seq)
			continue;
		error = bc_feed(&x, &feeds[i], base, out);
	}
	if (error == 0)
		error = bc_blobs(&x, out);
	if (error == 0)
		error = bundlefmt_writer_finish(x.bw);
done:
	if (started) {
		bq_close(x.q, error < 0 ? error : 0, error < 0 ? custody_error() : NULL);
		pthread_join(writer, NULL);
		if (error == 0 && x.status < 0)
			error = custody_fail(x.status, "%s", x.msg);
	}
	out->size = x.written;
	bundlefmt_writer_free(x.bw);
	age_writer_free(x.aw);
	bq_free(x.q);
	git_odb_free(x.odb);
	free(x.names);
	free(x.buf);
	free(feeds);
	if (error < 0 && ftruncate(fd, 0) != 0)
		log_warn("bundle: cannot clear the output after a failure");
	return error;
}
