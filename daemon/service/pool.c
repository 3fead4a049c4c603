/* Worker threads: a job queue in, a completion queue out, an event to wake the loop. */
#include <pthread.h>
#include <stdlib.h>

#include "archive.h"
#include "custody/lockmem.h"
#include "log.h"
#include "pool.h"

struct job {
	pool_fn		 work, done;
	void		*arg;
	struct job	*next;
};

struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct job	*todo, **todo_tail;
	struct job	*finished, **finished_tail;
	struct event	*wake;
	pthread_t	*threads;
	int		 nthreads, stopping, busy;
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
	struct pool *p = arg;
	struct job *j;

	pool_lockmem_check();
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->todo == NULL && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if ((j = p->todo) == NULL) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if ((p->todo = j->next) == NULL)
			p->todo_tail = &p->todo;
		pthread_mutex_unlock(&p->lock);

		j->work(j->arg);
		pool_lockmem_check();

		pthread_mutex_lock(&p->lock);
		j->next = NULL;
		*p->finished_tail = j;
		p->finished_tail = &j->next;
		pthread_mutex_unlock(&p->lock);
		event_active(p->wake, EV_READ, 0);
	}
	archive_thread_done();
	return NULL;
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
	    (p->threads = calloc((size_t)threads, sizeof *p->threads)) == NULL)
		fatal("out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->todo_tail = &p->todo;
	p->finished_tail = &p->finished;
	p->idle = idle;
	p->idle_arg = idle_arg;
	if ((p->wake = event_new(base, -1, 0, pool_wake_cb, p)) == NULL)
		fatal("cannot create the pool event");
	for (i = 0; i < threads; i++)
		if (lockmem_thread_create(&p->threads[i], pool_thread, p) < 0)
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
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pool_finish(p, 0);
	event_free(p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p);
}
