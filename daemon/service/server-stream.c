/*
 * Replies that go out while their request runs: a list of a country's victims is tens of
 * megabytes, and held whole until its worker finished it would grow the daemon with the
 * archive, twice over (the frames, then the connection's copy of them). The worker hands each
 * part to the loop as it is made (server_reply_flush) and goes on; before it hands over the
 * next, it waits until the client has read the last one. So a reply holds two parts at most
 * in memory, whatever its length, and a client that reads slowly slows only its own request:
 * while its worker waits, the pool runs others' requests on another thread (pool.h). One that
 * reads nothing for [daemon] idle_timeout is dropped (conn.c), which ends the request; so does
 * one that goes away.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "server.h"

#define SERVER_FLUSH_MIN (256u << 10)	/* smaller replies go out whole, when the work ends */
#define SERVER_FLUSH_SLACK 60		/* past the idle timeout: the connection is gone by then */

enum { STREAM_IDLE, STREAM_QUEUED, STREAM_SENT };

struct reply_stream {
	struct event	*ev;		/* on the loop: queue frames on the connection */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct cbuf	 frames;	/* handed over by the worker, not yet queued */
	int		 state;
	int		 gone;		/* the client: nothing more goes out */
};

/* The last part is written: the worker may hand over the next (on the loop). */
static void
stream_drained(void *arg)
{
	struct request *r = arg;
	struct reply_stream *s = r->stream;

	conn_on_drained(r->c->conn, NULL, NULL);
	r->c->streaming = NULL;
	pthread_mutex_lock(&s->lock);
	s->state = STREAM_IDLE;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Queue the part the worker handed over on the client's connection (on the loop). */
static void
stream_send(evutil_socket_t fd, short what, void *arg)
{
	struct request *r = arg;
	struct reply_stream *s = r->stream;
	struct client *c = r->c;
	int error = CUSTODY_EIO;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&s->lock);
	if (!c->gone)
		error = conn_send_frames(c->conn, &s->frames);
	s->frames.len = 0;
	if (error < 0)
		s->gone = 1;
	else
		s->state = STREAM_SENT;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (error == 0) {
		c->streaming = r;
		conn_on_drained(c->conn, stream_drained, r);
	}
}

/*
 * On a worker: send what r's reply holds so far, once it is SERVER_FLUSH_MIN or more, after
 * the client has read the part before. An error when the client went away or reads nothing.
 */
int
server_reply_flush(struct request *r)
{
	struct reply_stream *s = r->stream;
	struct timespec until;
	struct cbuf spent;
	int rc = 0, gone, waited, wait = r->c->s->a->conf.idle_timeout + SERVER_FLUSH_SLACK;

	if (r->out.len < SERVER_FLUSH_MIN)
		return 0;
	if (s == NULL) {
		if ((s = calloc(1, sizeof *s)) == NULL)
			return CUSTODY_ENOMEM;
		if ((s->ev = event_new(r->c->s->base, -1, 0, stream_send, r)) == NULL) {
			free(s);
			return CUSTODY_ENOMEM;
		}
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->cond, NULL);
		r->stream = s;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait;
	pthread_mutex_lock(&s->lock);
	if ((waited = s->state != STREAM_IDLE && !s->gone))
		pool_wait_begin(r->c->s->pool);	/* others' requests go on meanwhile */
	while (s->state != STREAM_IDLE && !s->gone && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->cond, &s->lock, &until);
	if (waited)
		pool_wait_end(r->c->s->pool);
	if (s->state != STREAM_IDLE || s->gone) {
		gone = s->gone;
		pthread_mutex_unlock(&s->lock);
		if (gone)
			return custody_fail(CUSTODY_EIO, "the client went away");
		return custody_fail(CUSTODY_EIO, "the client read nothing of its answer for %d s",
		    wait);
	}
	spent = s->frames;		/* empty: its room serves the next part */
	s->frames = r->out;
	r->out = spent;
	s->state = STREAM_QUEUED;
	pthread_mutex_unlock(&s->lock);
	event_active(s->ev, EV_TIMEOUT, 0);
	return 0;
}

/* The client went away: a worker waiting for it to read goes on, to its end (on the loop). */
void
server_stream_gone(struct client *c)
{
	struct reply_stream *s;

	if (c->streaming == NULL)
		return;
	s = c->streaming->stream;
	c->streaming = NULL;
	pthread_mutex_lock(&s->lock);
	s->gone = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/*
 * The request's work is over (on the loop, before the rest of its reply goes): a part handed
 * over and not queued yet goes first, and the stream is freed.
 */
void
server_stream_done(struct request *r)
{
	struct reply_stream *s = r->stream;
	struct client *c = r->c;

	if (s == NULL)
		return;
	event_free(s->ev);
	if (s->state == STREAM_QUEUED && !c->gone && r->error >= 0)
		conn_send_frames(c->conn, &s->frames);
	if (c->streaming == r) {
		conn_on_drained(c->conn, NULL, NULL);
		c->streaming = NULL;
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	cbuf_free(&s->frames);
	free(s);
	r->stream = NULL;
}
