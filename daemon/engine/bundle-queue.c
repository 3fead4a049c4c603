/*
 * A bounded queue of byte pieces between two threads, so that a bundle's encryption (or
 * decryption) runs beside its reading and writing rather than after it: one producer puts
 * copies of pieces of at most BQ_PIECE bytes, one consumer takes them in order. Memory holds
 * BQ_SLOTS pieces. Either side may end it: the producer with its status (and the message to
 * give), the consumer by stopping, after which puts fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle-queue.h"

struct bq {
	pthread_mutex_t	 mu;
	pthread_cond_t	 more, room;
	uint8_t		*buf;
	size_t		 len[BQ_SLOTS];
	unsigned	 head, count;	/* the oldest piece, how many are held */
	int		 closed, stopped, status;
	char		 msg[512];
};

int
bq_new(struct bq **out)
{
	struct bq *q;

	if ((*out = q = calloc(1, sizeof *q)) == NULL)
		return CUSTODY_ENOMEM;
	if ((q->buf = malloc((size_t)BQ_SLOTS * BQ_PIECE)) == NULL) {
		free(q);
		*out = NULL;
		return CUSTODY_ENOMEM;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->room, NULL);
	return 0;
}

/* Put a copy of p[0..n), in pieces; CUSTODY_ERR once the consumer stopped. */
int
bq_put(struct bq *q, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t k;
	unsigned slot;

	while (n > 0) {
		k = n < BQ_PIECE ? n : BQ_PIECE;
		pthread_mutex_lock(&q->mu);
		while (q->count == BQ_SLOTS && !q->stopped)
			pthread_cond_wait(&q->room, &q->mu);
		if (q->stopped) {
			pthread_mutex_unlock(&q->mu);
			return custody_fail(CUSTODY_ERR, "stopped");
		}
		slot = (q->head + q->count) % BQ_SLOTS;
		pthread_mutex_unlock(&q->mu);
		memcpy(q->buf + (size_t)slot * BQ_PIECE, s, k);	/* a slot no one else uses */
		pthread_mutex_lock(&q->mu);
		q->len[slot] = k;
		q->count++;
		pthread_cond_signal(&q->more);
		pthread_mutex_unlock(&q->mu);
		s += k;
		n -= k;
	}
	return 0;
}

/* The producer is done: status 0, or its error and message (said again by bq_get). */
void
bq_close(struct bq *q, int status, const char *msg)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	q->status = status;
	snprintf(q->msg, sizeof q->msg, "%s", msg ? msg : "");
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
}

/*
 * The next piece (valid until bq_done): 1, or 0 at the end, or the producer's error (with
 * custody_error set on the consumer's thread).
 */
int
bq_get(struct bq *q, const uint8_t **p, size_t *n)
{
	int status;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->more, &q->mu);
	if (q->count > 0) {
		*p = q->buf + (size_t)q->head * BQ_PIECE;
		*n = q->len[q->head];
		pthread_mutex_unlock(&q->mu);
		return 1;
	}
	status = q->status;
	pthread_mutex_unlock(&q->mu);
	if (status < 0)
		return custody_fail(status, "%s", q->msg);
	return 0;
}

/* The piece bq_get gave is used up. */
void
bq_done(struct bq *q)
{
	pthread_mutex_lock(&q->mu);
	q->head = (q->head + 1) % BQ_SLOTS;
	q->count--;
	pthread_cond_signal(&q->room);
	pthread_mutex_unlock(&q->mu);
}

/* The consumer gives up: the producer's next put fails. */
void
bq_stop(struct bq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopped = 1;
	pthread_cond_signal(&q->room);
	pthread_mutex_unlock(&q->mu);
}

void
bq_free(struct bq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->room);
	free(q->buf);
	free(q);
}
