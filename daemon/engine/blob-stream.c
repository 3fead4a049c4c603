/*
 * A blob decrypted on a thread of its own and hashed on another, in 1 MiB pieces that the
 * caller's thread consumes (extract tars and age-encrypts them): the work spreads over the
 * cores. The pieces are plaintext: sodium_malloc'd (locked in memory, wiped when freed).
 * Pieces are numbered in order; piece n lives in slot n % XQ_SLOTS, which is filled again only
 * once both the hasher and the consumer are past it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "archive.h"
#include "custody/lockmem.h"

#define XQ_SLOTS 6
#define XQ_BUF (1u << 20)

struct xqueue {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	uint8_t		*buf[XQ_SLOTS];
	size_t		 len[XQ_SLOTS];
	uint64_t	 published, consumed, hashed;	/* pieces, counted from 0 */
	size_t		 fill;		/* bytes in the piece being filled (producer's) */
	int		 done, stop;
	/* the decryption, on the producer thread */
	struct archive	*a;
	const char	*blob;
	uint8_t		 key[32];
	uint64_t	 got, left;
	int		 error;
	char		 errmsg[512];
	/* the plaintext's SHA-256, on the hasher thread */
	EVP_MD_CTX	*sha;
};

static uint64_t
xq_released(const struct xqueue *q)
{
	return q->consumed < q->hashed ? q->consumed : q->hashed;
}

/* Producer: append plaintext to the piece being filled, publishing it when full. */
static int
xq_put(void *arg, const void *p, size_t n)
{
	struct xqueue *q = arg;
	const uint8_t *b = p;
	unsigned slot;
	size_t take;

	if (n > q->left)
		return custody_fail(CUSTODY_ECRYPTO, "evidence is longer than its record says");
	q->left -= n;
	while (n > 0) {
		pthread_mutex_lock(&q->mu);
		while (q->published - xq_released(q) == XQ_SLOTS && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop) {
			pthread_mutex_unlock(&q->mu);
			return custody_fail(CUSTODY_EIO, "extract stopped");
		}
		slot = q->published % XQ_SLOTS;
		pthread_mutex_unlock(&q->mu);
		take = XQ_BUF - q->fill < n ? XQ_BUF - q->fill : n;
		memcpy(q->buf[slot] + q->fill, b, take);
		q->fill += take;
		b += take;
		n -= take;
		if (q->fill == XQ_BUF) {
			pthread_mutex_lock(&q->mu);
			q->len[slot] = q->fill;
			q->fill = 0;
			q->published++;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
		}
	}
	return 0;
}

static void *
xq_producer(void *arg)
{
	struct xqueue *q = arg;
	int error;

	error = blob_decrypt_cb(q->a, q->blob, q->key, xq_put, q, NULL, &q->got, NULL);
	sodium_memzero(q->key, sizeof q->key);
	pthread_mutex_lock(&q->mu);
	if (error < 0) {
		q->error = error;
		snprintf(q->errmsg, sizeof q->errmsg, "%s", custody_error());
	} else if (q->fill > 0) {
		q->len[q->published % XQ_SLOTS] = q->fill;	/* the last, partial piece */
		q->published++;
	}
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	archive_thread_done();
	return NULL;
}

/* Take the next piece for *counter (the hasher's or the consumer's): its slot, or -1 at the end. */
static int
xq_next(struct xqueue *q, uint64_t *counter)
{
	int slot;

	pthread_mutex_lock(&q->mu);
	while (*counter == q->published && !q->done && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	slot = *counter < q->published && !q->stop ? (int)(*counter % XQ_SLOTS) : -1;
	pthread_mutex_unlock(&q->mu);
	return slot;
}

/* Past a piece: the producer may fill its slot once the other party is past it too. */
static void
xq_past(struct xqueue *q, uint64_t *counter)
{
	pthread_mutex_lock(&q->mu);
	(*counter)++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void *
xq_hasher(void *arg)
{
	struct xqueue *q = arg;
	int slot;

	while ((slot = xq_next(q, &q->hashed)) >= 0) {
		EVP_DigestUpdate(q->sha, q->buf[slot], q->len[slot]);
		xq_past(q, &q->hashed);
	}
	return NULL;
}

/* Consumer: hand out what the producer decrypted until it is done. */
static int
xq_drain(struct xqueue *q, int (*out)(void *, const void *, size_t), void *arg)
{
	int slot, error;

	while ((slot = xq_next(q, &q->consumed)) >= 0) {
		if ((error = out(arg, q->buf[slot], q->len[slot])) < 0) {
			pthread_mutex_lock(&q->mu);
			q->stop = 1;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
			return error;
		}
		xq_past(q, &q->consumed);
	}
	return 0;
}

int
blob_stream(struct archive *a, const char *name, const uint8_t key[static 32], uint64_t size,
    int (*out)(void *, const void *, size_t), void *arg, uint8_t sha256[static SHA256_LEN],
    uint64_t *got)
{
	struct xqueue q = { .a = a, .blob = name, .left = size };
	pthread_t th, hth;
	int error = 0, i;

	memcpy(q.key, key, sizeof q.key);
	if ((q.sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(q.sha, EVP_sha256(), NULL) != 1) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < XQ_SLOTS; i++)
		if ((q.buf[i] = sodium_malloc(XQ_BUF)) == NULL) {
			error = CUSTODY_ENOMEM;
			goto done;
		}
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.cv, NULL);
	if (lockmem_thread_create(&th, xq_producer, &q) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot start a thread");
		goto destroy;
	}
	if (lockmem_thread_create(&hth, xq_hasher, &q) < 0) {
		pthread_mutex_lock(&q.mu);
		q.stop = 1;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.mu);
		pthread_join(th, NULL);
		error = custody_fail(CUSTODY_EIO, "cannot start a thread");
		goto destroy;
	}
	error = xq_drain(&q, out, arg);
	pthread_join(th, NULL);
	pthread_join(hth, NULL);
	if (error == 0 && q.error < 0)
		error = custody_fail(q.error, "%s", q.errmsg);
	if (error == 0) {
		EVP_DigestFinal_ex(q.sha, sha256, NULL);
		*got = q.got;
	}
destroy:
	pthread_cond_destroy(&q.cv);
	pthread_mutex_destroy(&q.mu);
done:
	for (i = 0; i < XQ_SLOTS; i++)
		if (q.buf[i] != NULL)
			sodium_free(q.buf[i]);	/* wipes, unlocks */
	EVP_MD_CTX_free(q.sha);
	sodium_memzero(q.key, sizeof q.key);
	return error;
}
