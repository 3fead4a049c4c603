/*
 * The blobs of a pull: each blob the incoming records name and this office lacks is fetched
 * into tmp/sync-NAME.part, from where an earlier session left it, with a window of requests in
 * flight, and placed under its name once its hash is checked and its bytes are on disk.
 *
 * The session's thread reads and decrypts what arrives while the blob's writer hashes the
 * answers before it on one thread and writes them on another, in order, having the kernel start
 * writing them out as it goes: the link, the hash and the disk all work at once, and the
 * fdatasync before the blob takes its name has little left to wait for.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "sync-session.h"
#include "sync-verify.h"

/*
 * Move a received blob into the store once its bytes hash to its name (sum, computed as they
 * arrived). The name is what the owner's signed record holds, so this pins every byte; the
 * plaintext was checked by the office that ingested it, and custody verify checks it again.
 */
int
sync_place_blob(struct archive *a, const struct sync_need *nd, const char *partial,
    const uint8_t sum[static SHA256_LEN])
{
	struct blob_info b = { 0 };
	char hex[SHA256_HEX_LEN + 1];

	hex_encode(hex, sum, SHA256_LEN);
	if (strcmp(hex, nd->name) != 0)
		return custody_fail(CUSTODY_EPROTO, "blob %s: the bytes received hash to %s",
		    nd->name, hex);
	snprintf(b.name, sizeof b.name, "%s", nd->name);
	snprintf(b.tmp, sizeof b.tmp, "%s", strrchr(partial, '/') + 1);
	return blob_commit(a, &b);
}

/* Ask for the bytes of a blob from offset on. */
static int
session_ask_blob(struct session *s, const char *name, uint64_t offset)
{
	Custody__BlobRequest br = CUSTODY__BLOB_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;

	br.name = (char *)name;
	br.offset = offset;
	env.body_case = CUSTODY__ENVELOPE__BODY_BLOB_REQUEST;
	env.blob_request = &br;
	if (session_send(s, &env) < 0)
		return custody_fail(CUSTODY_EIO, "cannot send to %s", s->peer->name);
	return 0;
}

/* Hash the first len bytes of a partial blob (what an earlier session received). */
static int
session_hash_part(int fd, EVP_MD_CTX *sha, uint64_t len)
{
	uint8_t *buf;
	ssize_t r;
	int error = 0;

	if (len == 0)
		return lseek(fd, 0, SEEK_SET) == 0 ? 0 : CUSTODY_EIO;
	if ((buf = malloc(SYNC_BLOB_CHUNK)) == NULL)
		return CUSTODY_ENOMEM;
	if (lseek(fd, 0, SEEK_SET) != 0)
		error = CUSTODY_EIO;
	while (error == 0 && len > 0) {
		r = read_full(fd, buf, len < SYNC_BLOB_CHUNK ? len : SYNC_BLOB_CHUNK);
		if (r <= 0)
			error = custody_fail(CUSTODY_EIO, "cannot read a partial blob");
		else {
			EVP_DigestUpdate(sha, buf, (size_t)r);
			len -= (uint64_t)r;
		}
	}
	free(buf);
	return error;
}

/* A failed write or sync of a blob received, telling a full disk apart. */
static int
sync_writer_error(int err, const char *what)
{
	return custody_fail(err == ENOSPC || err == EDQUOT ? CUSTODY_ENOSPC : CUSTODY_EIO,
	    "%s a blob received: %s", what, strerror(err));
}

/*
 * Answers a writer holds: some being hashed and written, the others waiting. The session hands
 * each answer over whole (its data is hashed and written from where the decoder put it, with
 * no copy in between), and the writer frees it once both are done.
 */
#define SYNC_WRITER_BUFS 4

/* Bytes a writer lets pile up in the page cache before it has the kernel write them out. */
#define SYNC_WRITEBACK (8u << 20)

/*
 * The writer of one blob: the answers, in order, are handed over by sync_writer_put; one thread
 * hashes their data into sha while another appends it to fd, each at its own pace within
 * SYNC_WRITER_BUFS answers.
 */
struct sync_writer {
	pthread_t	 hasher, writer;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* an answer handed over, hashed, written, or the end */
	Envelope	*msg[SYNC_WRITER_BUFS];	/* BlobData answers, by count */
	uint64_t	 put, hashed, done;	/* answers handed over, hashed, written */
	int		 end;		/* no more will come */
	int		 fd;
	EVP_MD_CTX	*sha;
	uint64_t	 written, started;	/* bytes written, and handed to writeback */
	int		 err;		/* errno of a failed write, or 0 */
};

/*
 * Wait for the answer after the *mine - 1 this thread has seen to; NULL at the end. The data
 * of an answer does not move while either thread still holds it.
 */
static Envelope *
sync_writer_next(struct sync_writer *w, const uint64_t *mine)
{
	Envelope *msg = NULL;

	pthread_mutex_lock(&w->mu);
	while (*mine == w->put && !w->end)
		pthread_cond_wait(&w->cv, &w->mu);
	if (*mine < w->put)
		msg = w->msg[*mine % SYNC_WRITER_BUFS];
	pthread_mutex_unlock(&w->mu);
	return msg;
}

/* This thread is done with its answer: the second of the two to be frees it. */
static void
sync_writer_step(struct sync_writer *w, uint64_t *mine, const uint64_t *other, int err)
{
	Envelope *msg = NULL;

	pthread_mutex_lock(&w->mu);
	if (++*mine <= *other) {
		msg = w->msg[(*mine - 1) % SYNC_WRITER_BUFS];
		w->msg[(*mine - 1) % SYNC_WRITER_BUFS] = NULL;
	}
	if (err != 0 && w->err == 0)
		w->err = err;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	wire_free(msg);
}

/* The hashing thread: every answer's data into sha, in order. */
static void *
sync_writer_hash(void *arg)
{
	struct sync_writer *w = arg;
	const ProtobufCBinaryData *d;
	Envelope *msg;

	while ((msg = sync_writer_next(w, &w->hashed)) != NULL) {
		d = &msg->blob_data->data;
		EVP_DigestUpdate(w->sha, d->data, d->len);
		sync_writer_step(w, &w->hashed, &w->done, 0);
	}
	return NULL;
}

/* The writing thread: append every answer's data to fd, in order, until the end or an error. */
static void *
sync_writer_run(void *arg)
{
	struct sync_writer *w = arg;
	const ProtobufCBinaryData *d;
	Envelope *msg;
	int err = 0;

	while ((msg = sync_writer_next(w, &w->done)) != NULL) {
		d = &msg->blob_data->data;
		if (err == 0) {
			if (write_all(w->fd, d->data, d->len) < 0)
				err = errno ? errno : EIO;
			w->written += d->len;
		}
		if (err == 0 && w->written - w->started >= SYNC_WRITEBACK) {
			/* start writing out, not waiting: the fdatasync at the end finds it done */
			(void)sync_file_range(w->fd, (off_t)w->started,
			    (off_t)(w->written - w->started), SYNC_FILE_RANGE_WRITE);
			w->started = w->written;
		}
		sync_writer_step(w, &w->done, &w->hashed, err);
	}
	return NULL;
}

/* Start a writer appending to fd (at its end) and hashing into sha. */
static int
sync_writer_start(struct sync_writer *w, int fd, EVP_MD_CTX *sha, uint64_t at)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->sha = sha;
	w->written = w->started = at;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->hasher, NULL, sync_writer_hash, w) != 0)
		goto fail;
	if (pthread_create(&w->writer, NULL, sync_writer_run, w) != 0) {
		pthread_mutex_lock(&w->mu);
		w->end = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->hasher, NULL);
		goto fail;
	}
	return 0;
fail:
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	return custody_fail(CUSTODY_ENOMEM, "cannot start a blob writer");
}

/*
 * Hand a BlobData answer (its data at most SYNC_BLOB_CHUNK bytes) over to the writer, waiting
 * for room; 0, or the error of an earlier write. The writer owns msg either way.
 */
static int
sync_writer_put(struct sync_writer *w, Envelope *msg)
{
	int err;

	pthread_mutex_lock(&w->mu);
	while (w->put - (w->hashed < w->done ? w->hashed : w->done) == SYNC_WRITER_BUFS &&
	    w->err == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if ((err = w->err) == 0) {
		w->msg[w->put % SYNC_WRITER_BUFS] = msg;
		w->put++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (err != 0) {
		wire_free(msg);
		return sync_writer_error(err, "writing");
	}
	return 0;
}

/*
 * Let the writer finish what it holds and stop; then, if all went well and sync is set, wait
 * until the blob's bytes are on disk. 0 or the first error.
 */
static int
sync_writer_finish(struct sync_writer *w, int sync)
{
	int error = 0;

	pthread_mutex_lock(&w->mu);
	w->end = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->hasher, NULL);
	pthread_join(w->writer, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	if (w->err != 0)
		error = sync_writer_error(w->err, "writing");
	else if (sync && fdatasync(w->fd) != 0)
		error = sync_writer_error(errno, "syncing");
	return error;
}

/*
 * Fetch one blob into tmp/sync-NAME.part, from where an earlier session left it. Up to
 * SYNC_WINDOW requests are in flight, so the link stays busy; answers come in order, and their
 * bytes go to the blob's writer. The blob takes its name only once all its bytes are on disk, so a crash
 * never leaves part of one under its name.
 */
static int
session_fetch_blob(struct session *s, const struct sync_need *nd)
{
	struct sync_writer w;
	Envelope *msg;
	EVP_MD_CTX *sha = NULL;
	uint8_t sum[SHA256_LEN];
	char path[4200];
	struct stat st;
	uint64_t off, asked, size = UINT64_MAX, len;
	int fd, inflight = 0, writing = 0, error = 0;


	snprintf(path, sizeof path, "%s/tmp/sync-%s.part", s->a->path, nd->name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fstat(fd, &st) != 0) {
		error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	off = asked = (uint64_t)st.st_size;
	if (off > nd->max) {	/* never ours to keep: start over */
		if (ftruncate(fd, 0) != 0) {
			error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
			goto done;
		}
		off = asked = 0;
	}
	if (off > 0)
		log_info("resuming blob %s at byte %llu", nd->name, (unsigned long long)off);
	if ((sha = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
	    (error = session_hash_part(fd, sha, off)) < 0) {
		if (error == 0)
			error = CUSTODY_ENOMEM;
		goto done;
	}
	if (lseek(fd, (off_t)off, SEEK_SET) < 0) {
		error = custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	if ((error = session_ask_blob(s, nd->name, asked)) < 0)
		goto done;
	inflight = 1;
	asked += SYNC_BLOB_CHUNK;
	if ((error = sync_writer_start(&w, fd, sha, off)) < 0)
		goto done;
	writing = 1;
	while (off < size) {
		if ((msg = session_recv(s)) == NULL ||
		    msg->body_case != CUSTODY__ENVELOPE__BODY_BLOB_DATA) {
			wire_free(msg);
			error = custody_fail(CUSTODY_EIO, "%s", s->why[0] ? s->why :
			    "unexpected answer to a blob request");
			goto done;
		}
		inflight--;
		if (size == UINT64_MAX && s->res->total != NULL) {
			__atomic_add_fetch(s->res->total, msg->blob_data->size, __ATOMIC_RELAXED);
			__atomic_add_fetch(s->res->done, off, __ATOMIC_RELAXED);
		}
		if (size != UINT64_MAX && msg->blob_data->size != size) {
			error = custody_fail(CUSTODY_EPROTO, "blob %s: the peer changed its size "
			    "from %llu to %llu bytes", nd->name, (unsigned long long)size,
			    (unsigned long long)msg->blob_data->size);
			wire_free(msg);
			goto done;
		}
		if (msg->blob_data->size > nd->max || off > msg->blob_data->size) {
			error = custody_fail(CUSTODY_EPROTO, "blob %s: the peer sends %llu bytes, "
			    "more than its record allows (%llu)", nd->name,
			    (unsigned long long)msg->blob_data->size, (unsigned long long)nd->max);
			wire_free(msg);
			goto done;
		}
		size = msg->blob_data->size;
		len = msg->blob_data->data.len;
		if (s->res->done != NULL)
			__atomic_add_fetch(s->res->done, len, __ATOMIC_RELAXED);
		if ((len == 0 && off < size) || off + len > size || len > SYNC_BLOB_CHUNK) {
			wire_free(msg);
			error = custody_fail(CUSTODY_EPROTO, "blob %s: the peer sent %s", nd->name,
			    off < size ? "too many bytes" : "nothing");
			goto done;
		}
		if ((error = sync_writer_put(&w, msg)) < 0)
			goto done;
		off += len;
		while (inflight < SYNC_WINDOW && asked < size) {
			if ((error = session_ask_blob(s, nd->name, asked)) < 0)
				goto done;
			inflight++;
			asked += SYNC_BLOB_CHUNK;
		}
	}
	writing = 0;
	if ((error = sync_writer_finish(&w, 1)) < 0)
		goto done;
	close(fd);
	fd = -1;
	EVP_DigestFinal_ex(sha, sum, NULL);
	if ((error = sync_place_blob(s->a, nd, path, sum)) < 0)
		unlink(path);	/* bad bytes: start over next time */
done:
	/* on an error the session ends, and unread answers go with it */
	if (writing)	/* what was received is kept for the next session to resume */
		sync_writer_finish(&w, 0);
	if (fd >= 0)
		close(fd);
	if (error == CUSTODY_EPROTO)
		unlink(path);	/* what the peer sent breaks the rules: nothing of it is kept */
	EVP_MD_CTX_free(sha);
	return error;
}

/* Fetch every blob the incoming records name that we do not hold. */
int
sync_fetch_blobs(struct session *s, struct sync_incoming *in)
{
	size_t i;
	int error;

	for (i = 0; i < in->nneed; i++) {
		if (blob_exists(s->a, in->need[i].name))
			continue;
		if ((error = session_fetch_blob(s, &in->need[i])) < 0)
			return error;
		in->nblobs++;
	}
	return 0;
}
