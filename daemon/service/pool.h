/* A small pool of worker threads for CPU and disk work; results come back on the loop. */
#ifndef CUSTODY_POOL_H
#define CUSTODY_POOL_H

#include <event2/event.h>

struct pool;
typedef void (*pool_fn)(void *);

/* idle(idle_arg) runs on the loop thread whenever the last job's done callback has run. */
struct pool *pool_new(struct event_base *, int threads, pool_fn idle, void *idle_arg);
/* Run work(arg) on a worker, then done(arg) on the loop thread. */
void pool_submit(struct pool *, pool_fn work, pool_fn done, void *arg);
/* The same, ahead of every job queued. */
void pool_submit_first(struct pool *, pool_fn work, pool_fn done, void *arg);
/*
 * On a worker, around a wait for something outside the pool (a slow client): meanwhile its
 * job does not count among the pool's running jobs, and another thread may run the next.
 */
void pool_wait_begin(struct pool *);
void pool_wait_end(struct pool *);
/* Jobs queued or running. */
int pool_busy(const struct pool *);
/* Finish every queued job, run their done callbacks, stop the threads. */
void pool_free(struct pool *);

#endif
