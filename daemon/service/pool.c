/*
 * Worker threads: a job queue in, a completion queue out, an event to wake the loop. At most
 * as many jobs run as the pool was made with. A job that waits on something no job controls
 * (a client reading its answer slowly) says so (pool_wait_begin), and no longer counts: if
 * every thread would be taken, another is started, up to POOL_EXTRA beyond the first, so a few
 * slow clients do not keep everyone else waiting. The threads started so stay, idle, for the
 * next such wait, and close their archive handles after each job.
 */
#include <pthread.h>
#include <stdlib.h>

#include "archive.h"
#include "custody/lockmem.h"
#include "log.h"
#include "pool.h"

#define POOL_EXTRA 8		/* threads beyond the first, for jobs that wait */

struct job {
	pool_fn		 work, done;
	void		*arg;
	struct job	*next;
};

struct worker {
	struct pool	*p;
	int		 extra;		/* started for a wait: closes its handles between jobs */
};

struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct job	*todo, **todo_tail;
	struct job	*finished, **finished_tail;
	struct event	*wake;
	pthread_t	*threads;		/* first base, then those started for waits */
	struct worker	*workers;
	int		 nthreads, base, stopping, busy;
	int		 running, waiting;	/* jobs running; of those begun, waiting */
	pool_fn		 idle;		/* run on the loop when the last job is done */
	void		*idle_arg;
};

/* Log once that a stack could not be locked: this thread's, or one a job started. */
static void
pool_lockmem_check(void)
{
	const char *warning;

	if ((warning = lockmem_warning()) != NULL)
		log_warn("%s", warning);
}

static void *
pool_thread(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	struct job *j;

	pool_lockmem_check();
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->stopping && (p->todo == NULL || p->running >= p->base))
			pthread_cond_wait(&p->cond, &p->lock);
		if ((j = p->todo) == NULL) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if ((p->todo = j->next) == NULL)
			p->todo_tail = &p->todo;
		p->running++;
		pthread_mutex_unlock(&p->lock);

		j->work(j->arg);
		pool_lockmem_check();
		if (w->extra)
			archive_thread_done();
		else
			archive_thread_settle();

		pthread_mutex_lock(&p->lock);
		p->running--;
		j->next = NULL;
		*p->finished_tail = j;
		p->finished_tail = &j->next;
		pthread_cond_signal(&p->cond);	/* a job queued meanwhile may run */
		pthread_mutex_unlock(&p->lock);
		event_active(p->wake, EV_READ, 0);
	}
	archive_thread_done();
	return NULL;
}

/* Start thread i (p->lock held, or before any runs). */
static int
pool_start(struct pool *p, int i, int extra)
{
	p->workers[i].p = p;
	p->workers[i].extra = extra;
	return lockmem_thread_create(&p->threads[i], pool_thread, &p->workers[i]);
}

/*
 * On a worker: its job waits on something outside the pool from now on (a slow client), and
 * no longer counts among those running; a thread is started if none would be free.
 */
void
pool_wait_begin(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->running--;
	p->waiting++;
	if (!p->stopping && p->nthreads - p->waiting < p->base &&
	    p->nthreads < p->base + POOL_EXTRA) {
		if (pool_start(p, p->nthreads, 1) == 0)
			p->nthreads++;
		else
			log_warn("cannot start a worker thread: %s", custody_error());
	}
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* On a worker: the wait of pool_wait_begin is over; the job counts again. */
void
pool_wait_end(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->waiting--;
	p->running++;
	pthread_mutex_unlock(&p->lock);
}

/* Run the done callbacks of finished jobs; then the idle callback if none is left. */
static void
pool_finish(struct pool *p, int idle)
{
	struct job *j, *next;

	pthread_mutex_lock(&p->lock);
	j = p->finished;
	p->finished = NULL;
	p->finished_tail = &p->finished;
	pthread_mutex_unlock(&p->lock);
	for (; j != NULL; j = next) {
		next = j->next;
		p->busy--;
		if (j->done != NULL)
			j->done(j->arg);
		free(j);
	}
	archive_thread_settle();	/* the loop's own handle, if it has one */
	if (idle && p->busy == 0 && p->idle != NULL)
		p->idle(p->idle_arg);
}

static void
pool_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_finish(arg, 1);
}

struct pool *
pool_new(struct event_base *base, int threads, pool_fn idle, void *idle_arg)
{
	struct pool *p;
	int i;

	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->threads = calloc((size_t)threads + POOL_EXTRA, sizeof *p->threads)) == NULL ||
	    (p->workers = calloc((size_t)threads + POOL_EXTRA, sizeof *p->workers)) == NULL)
		fatal("out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->todo_tail = &p->todo;
	p->finished_tail = &p->finished;
	p->idle = idle;
	p->idle_arg = idle_arg;
	if ((p->wake = event_new(base, -1, 0, pool_wake_cb, p)) == NULL)
		fatal("cannot create the pool event");
	p->base = threads;
	for (i = 0; i < threads; i++)
		if (pool_start(p, i, 0) < 0)
			fatal("cannot start a worker thread: %s", custody_error());
	p->nthreads = threads;
	return p;
}

/* A job for work and done, counted busy. */
static struct job *
pool_job(struct pool *p, pool_fn work, pool_fn done, void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof *j)) == NULL)
		fatal("out of memory");
	j->work = work;
	j->done = done;
	j->arg = arg;
	p->busy++;
	return j;
}

void
pool_submit(struct pool *p, pool_fn work, pool_fn done, void *arg)
{
	struct job *j = pool_job(p, work, done, arg);

	pthread_mutex_lock(&p->lock);
	*p->todo_tail = j;
	p->todo_tail = &j->next;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* pool_submit, ahead of everything queued: for quick requests that must not wait their turn. */
void
pool_submit_first(struct pool *p, pool_fn work, pool_fn done, void *arg)
{
	struct job *j = pool_job(p, work, done, arg);

	pthread_mutex_lock(&p->lock);
	if ((j->next = p->todo) == NULL)
		p->todo_tail = &j->next;
	p->todo = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int
pool_busy(const struct pool *p)
{
	return p->busy;
}

void
pool_free(struct pool *p)
{
	int i, n;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	n = p->nthreads;	/* no thread starts from now on */
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < n; i++)
		pthread_join(p->threads[i], NULL);
	pool_finish(p, 0);
	event_free(p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p->workers);
	free(p);
}
