/*
 * Ingesting evidence into the blob store in one streaming pass: SHA-256 of the plaintext,
 * secretstream encryption under a fresh key, SHA-256 of the stored bytes (the blob's name).
 *
 * Large files go through three threads: one reads and hashes the plaintext, the caller's
 * thread encrypts, a third hashes the ciphertext and writes it, so that the two SHA-256 passes,
 * the cipher and the copies into the page cache spread over two cores instead of queueing
 * behind the cipher on one.
 *
 * The blob goes to the archive's blob store through a writer (blobstore.h) as it is encrypted;
 * it takes its name only at blob_commit. The local store starts writeback as it goes, so that
 * the batch's one sync at the commit point finds little left to write; the RADOS store has
 * Ceph acknowledge every write before the commit.
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

#include "archive.h"
#include "blob.h"
#include "custody/lockmem.h"
#include "media.h"

#define PIPE_BUFS 8			/* plaintext buffers in flight between the threads */
#define PIPE_MIN (8 << 20)		/* files from this size use the reader and writer threads */
#define WQ_BUFS 8			/* ciphertext buffers in flight to the writer thread */

struct ingest_wq;

struct ingest_ctx {
	int				 fd;		/* the evidence */
	struct blobstore_writer		*w;		/* the blob being written */
	crypto_secretstream_xchacha20poly1305_state st;
	EVP_MD_CTX			*psha, *csha;
	struct cbuf			 ct;		/* ciphertext waiting to be written */
	uint8_t				 pending[BLOB_CHUNK];	/* the last chunk seen */
	size_t				 pending_len;
	struct blob_info		*out;
	struct ingest_wq		*wq;		/* the writer thread, or NULL: write here */
};

/* The reader thread's side: full buffers handed over in order. */
struct ingest_pipe {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	uint8_t		*buf[PIPE_BUFS];
	size_t		 len[PIPE_BUFS];
	int		 head, count, eof, error, stop;
	struct ingest_ctx *ctx;
};

/*
 * The writer thread's side: full ciphertext buffers, in order, in buf[head..head+count) of the
 * ring; the other slots are empty buffers kept for their capacity. The writer owns the blob
 * store's writer and csha until it is joined.
 */
struct ingest_wq {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct cbuf	 buf[WQ_BUFS];
	int		 head, count, done, error;
	char		 why[256];	/* custody_error() of the writer's failure */
	struct ingest_ctx *ctx;
};

/* Hash the ciphertext in b and write it to the blob store. */
static int
ingest_write(struct ingest_ctx *x, const struct cbuf *b)
{
	EVP_DigestUpdate(x->csha, b->data, b->len);
	return blobstore_write(x->w, b->data, b->len);
}

/* The writer thread: hash and write what the encrypting thread hands over, until done. */
static void *
ingest_writer(void *arg)
{
	struct ingest_wq *q = arg;
	int slot, error;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->count == 0 && !q->done)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->count == 0) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		slot = q->head;
		pthread_mutex_unlock(&q->lock);

		error = ingest_write(q->ctx, &q->buf[slot]);

		pthread_mutex_lock(&q->lock);
		q->buf[slot].len = 0;
		q->head = (q->head + 1) % WQ_BUFS;
		q->count--;
		if (error < 0) {
			q->error = error;
			snprintf(q->why, sizeof q->why, "%s", custody_error());
		}
		pthread_cond_broadcast(&q->cond);
		pthread_mutex_unlock(&q->lock);
		if (error < 0)
			break;
	}
	return NULL;
}

/*
 * Hand the full buffer x->ct to the writer thread and take an empty one in its place; waits
 * while the writer is WQ_BUFS buffers behind. Fails with the writer's error once it has one.
 */
static int
ingest_wq_put(struct ingest_wq *q, struct cbuf *ct)
{
	struct cbuf empty;
	int slot, error;

	pthread_mutex_lock(&q->lock);
	while (q->count == WQ_BUFS && q->error == 0)
		pthread_cond_wait(&q->cond, &q->lock);
	if ((error = q->error) == 0) {
		slot = (q->head + q->count) % WQ_BUFS;
		empty = q->buf[slot];
		q->buf[slot] = *ct;
		*ct = empty;
		ct->len = 0;
		q->count++;
		pthread_cond_broadcast(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	if (error < 0)
		return custody_fail(error, "%s", q->why);
	return 0;
}

/* Encrypt one chunk; write out ciphertext in large pieces. */
static int
ingest_push(struct ingest_ctx *x, const uint8_t *p, size_t n, uint8_t tag)
{
	int error;

	if ((error = cbuf_reserve(&x->ct, n + BLOB_ABYTES)) < 0)
		return error;
	crypto_secretstream_xchacha20poly1305_push(&x->st, x->ct.data + x->ct.len, NULL, p, n,
	    NULL, 0, tag);
	x->ct.len += n + BLOB_ABYTES;
	if (x->ct.len >= BLOB_READ || tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		if (x->wq != NULL)
			return ingest_wq_put(x->wq, &x->ct);
		if ((error = ingest_write(x, &x->ct)) < 0)
			return error;
		x->ct.len = 0;
	}
	return 0;
}

/*
 * Encrypt plaintext that continues the stream, in pieces of any length. Chunks are full but
 * for the last, which is held back until more data (or the end) shows whether it is final.
 */
static int
ingest_consume(struct ingest_ctx *x, const uint8_t *p, size_t n)
{
	size_t take;
	int error;

	while (n > 0) {
		if (x->pending_len == BLOB_CHUNK) {
			if ((error = ingest_push(x, x->pending, x->pending_len,
			    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)) < 0)
				return error;
			x->pending_len = 0;
		}
		if (x->pending_len == 0 && n > BLOB_CHUNK) {
			if ((error = ingest_push(x, p, BLOB_CHUNK,
			    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)) < 0)
				return error;
			take = BLOB_CHUNK;
		} else {
			take = BLOB_CHUNK - x->pending_len < n ? BLOB_CHUNK - x->pending_len : n;
			memcpy(x->pending + x->pending_len, p, take);
			x->pending_len += take;
		}
		p += take;
		n -= take;
	}
	return 0;
}

/*
 * The end of the evidence: the mark and the zeros that pad the blob to a Padmé length, then
 * the held chunk is final.
 */
static int
ingest_finish(struct ingest_ctx *x)
{
	static const uint8_t zeros[BLOB_CHUNK];
	const uint8_t mark = BLOBFMT_MARK;
	uint64_t payload = blobfmt_payload(x->out->size), left;
	size_t take;
	int error;

	if (payload == 0)
		return custody_fail(CUSTODY_EINVAL, "the file is too large");
	if ((error = ingest_consume(x, &mark, 1)) < 0)
		return error;
	for (left = payload - x->out->size - 1; left > 0; left -= take) {
		take = left < BLOB_CHUNK ? (size_t)left : BLOB_CHUNK;
		if ((error = ingest_consume(x, zeros, take)) < 0)
			return error;
	}
	return ingest_push(x, x->pending, x->pending_len,
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL);
}

/* Note the plaintext read: hash, count, and sniff the media type from the first bytes. */
static void
ingest_seen(struct ingest_ctx *x, const uint8_t *p, size_t n)
{
	if (x->out->size == 0 && x->out->media_type[0] == '\0')
		media_sniff(x->out->media_type, sizeof x->out->media_type, p, n);
	EVP_DigestUpdate(x->psha, p, n);
	x->out->size += n;
}

/* One thread: read, hash, encrypt, write. */
static int
ingest_serial(struct ingest_ctx *x, size_t bufsize)
{
	uint8_t *buf;
	ssize_t r;
	int error = 0;

	if ((buf = lockmem_thread_buffer(LOCKMEM_SLOT_INGEST, bufsize)) == NULL)
		return CUSTODY_ENOMEM;
	do {
		if ((r = read_full(x->fd, buf, bufsize)) < 0) {
			error = custody_fail(CUSTODY_EIO, "cannot read the file: %s",
			    strerror(errno));
			break;
		}
		ingest_seen(x, buf, (size_t)r);
		error = ingest_consume(x, buf, (size_t)r);
	} while (error == 0 && (size_t)r == bufsize);
	if (error == 0)
		error = ingest_finish(x);
	sodium_memzero(buf, bufsize);
	return error;
}

/* The reader thread: fill buffers, hash them, hand them over. */
static void *
ingest_reader(void *arg)
{
	struct ingest_pipe *p = arg;
	ssize_t r;
	int slot, eof = 0, error = 0;

	while (!eof && !error) {
		pthread_mutex_lock(&p->lock);
		while (p->count == PIPE_BUFS && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		slot = (p->head + p->count) % PIPE_BUFS;
		pthread_mutex_unlock(&p->lock);

		if ((r = read_full(p->ctx->fd, p->buf[slot], BLOB_READ)) < 0) {
			error = custody_fail(CUSTODY_EIO, "cannot read the file: %s",
			    strerror(errno));
			r = 0;
		} else
			ingest_seen(p->ctx, p->buf[slot], (size_t)r);
		eof = (size_t)r < BLOB_READ;

		pthread_mutex_lock(&p->lock);
		p->len[slot] = (size_t)r;
		p->count++;
		p->eof = eof;
		if (error) {
			p->error = error;
			snprintf((char *)p->buf[slot], BLOB_READ, "%s", custody_error());
		}
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* Three threads: this one encrypts what the reader hands over, for the writer. */
static int
ingest_pipelined(struct ingest_ctx *x)
{
	struct ingest_pipe p = { .ctx = x };
	struct ingest_wq q = { .ctx = x };
	pthread_t reader, writer;
	int i, slot, last, error = 0, writing = 0;

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.cond, NULL);
	for (i = 0; i < PIPE_BUFS; i++)
		if ((p.buf[i] = sodium_malloc(BLOB_READ)) == NULL)
			error = CUSTODY_ENOMEM;
	if (error == 0 && lockmem_thread_create(&writer, ingest_writer, &q) < 0)
		error = custody_fail(CUSTODY_ERR, "cannot start a writer thread");
	if (error == 0) {
		writing = 1;
		x->wq = &q;
		if (lockmem_thread_create(&reader, ingest_reader, &p) < 0)
			error = custody_fail(CUSTODY_ERR, "cannot start a reader thread");
	}
	if (error < 0)
		goto done;
	for (;;) {
		pthread_mutex_lock(&p.lock);
		while (p.count == 0)
			pthread_cond_wait(&p.cond, &p.lock);
		slot = p.head;
		last = p.count == 1 && p.eof;
		if (p.error && last) {
			error = custody_fail(p.error, "%s", (char *)p.buf[slot]);
			pthread_mutex_unlock(&p.lock);
			break;
		}
		pthread_mutex_unlock(&p.lock);

		if ((error = ingest_consume(x, p.buf[slot], p.len[slot])) == 0 && last)
			error = ingest_finish(x);

		pthread_mutex_lock(&p.lock);
		p.head = (p.head + 1) % PIPE_BUFS;
		p.count--;
		if (error < 0)
			p.stop = 1;
		pthread_cond_broadcast(&p.cond);
		pthread_mutex_unlock(&p.lock);
		if (error < 0 || last)
			break;
	}
	pthread_join(reader, NULL);
done:
	if (writing) {
		pthread_mutex_lock(&q.lock);
		q.done = 1;
		pthread_cond_broadcast(&q.cond);
		pthread_mutex_unlock(&q.lock);
		pthread_join(writer, NULL);
		x->wq = NULL;
		if (error == 0 && q.error < 0)
			error = custody_fail(q.error, "%s", q.why);
	}
	for (i = 0; i < PIPE_BUFS; i++)
		sodium_free(p.buf[i]);	/* wipes */
	for (i = 0; i < WQ_BUFS; i++)
		cbuf_free(&q.buf[i]);	/* ciphertext only */
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&q.lock);
	pthread_cond_destroy(&q.cond);
	return error;
}

/*
 * Read fd to its end (with read(), so the sender sees progress in the shared offset), hashing
 * the plaintext and encrypting it into a new object of the blob store (out->w), under no name
 * until blob_commit. On error nothing is left.
 */
int
blob_ingest(struct archive *a, struct blob_info *out, int fd)
{
	struct ingest_ctx x = { .fd = fd, .out = out };
	uint8_t hdr[BLOB_MAGIC_LEN + BLOB_HDR_LEN], csum[SHA256_LEN];
	struct blobstore *s;
	struct stat sb;
	size_t bufsize;
	int error = CUSTODY_ENOMEM;

	memset(out, 0, sizeof *out);
	x.psha = EVP_MD_CTX_new();
	x.csha = EVP_MD_CTX_new();
	if (x.psha == NULL || x.csha == NULL)
		goto done;
	if (fstat(fd, &sb) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot stat the file: %s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		error = custody_fail(CUSTODY_EINVAL, S_ISDIR(sb.st_mode) ? "is a directory" :
		    "not a regular file");
		goto done;
	}
	if ((s = archive_blobs(a)) == NULL) {
		error = CUSTODY_EIO;
		goto done;
	}
	if ((error = blobstore_begin(s, &out->w)) < 0)
		goto done;
	x.w = out->w;
	EVP_DigestInit_ex(x.psha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(x.csha, EVP_sha256(), NULL);
	crypto_secretstream_xchacha20poly1305_keygen(out->key);
	blobfmt_header_write(hdr, &x.st, out->key);
	if ((error = cbuf_put(&x.ct, hdr, sizeof hdr)) < 0)
		goto done;

	if (sb.st_size >= PIPE_MIN)
		error = ingest_pipelined(&x);
	else {
		/* small files get a small buffer: one page-faulted and wiped MiB each adds up */
		bufsize = ((size_t)sb.st_size / BLOB_CHUNK + 2) * BLOB_CHUNK;
		error = ingest_serial(&x, bufsize < BLOB_READ ? bufsize : BLOB_READ);
	}
	if (error < 0)
		goto done;
	EVP_DigestFinal_ex(x.psha, out->sha256, NULL);
	EVP_DigestFinal_ex(x.csha, csum, NULL);
	hex_encode(out->name, csum, SHA256_LEN);
done:
	if (error < 0)
		blob_discard(a, out);
	sodium_memzero(&x.st, sizeof x.st);
	sodium_memzero(x.pending, sizeof x.pending);
	cbuf_free(&x.ct);
	EVP_MD_CTX_free(x.psha);
	EVP_MD_CTX_free(x.csha);
	return error;
}
