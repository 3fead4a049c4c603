/*
 * The worker pool (daemon/service/pool.c): jobs waiting on something outside it (as a reply
 * waits for a slow client) do not keep the others from running, and at most as many jobs run
 * at once as the pool was made with, however many threads it started for the waits.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool.h"

#define BASE 2

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct pool *pool;
static int released, waiting, running, most, quick_done, done_calls;

/* A job that waits, as a slow client's reply does, until the test releases it. */
static void
slow_job(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	pool_wait_begin(pool);
	waiting++;
	pthread_cond_broadcast(&cond);
	while (!released)
		pthread_cond_wait(&cond, &lock);
	waiting--;
	pool_wait_end(pool);
	pthread_mutex_unlock(&lock);
}

/* A job that works a while (running) and counts how many ran at once. */
static void
quick_job(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	if (++running > most)
		most = running;
	pthread_mutex_unlock(&lock);
	usleep(20000);
	pthread_mutex_lock(&lock);
	running--;
	quick_done++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void
count_done(void *arg)
{
	(void)arg;
	done_calls++;
}

/* Wait until *what reaches want, for at most 10 s: whether it did. */
static int
wait_for(const int *what, int want)
{
	struct timespec until;
	int ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&lock);
	while (*what < want && pthread_cond_timedwait(&cond, &lock, &until) == 0)
		;
	ok = *what >= want;
	pthread_mutex_unlock(&lock);
	return ok;
}

static void
test_waits_do_not_block(void **state)
{
	struct event_base *base = event_base_new();
	int i, slow = BASE + 3, quick = 12;

	(void)state;
	assert_non_null(base);
	assert_non_null(pool = pool_new(base, BASE, NULL, NULL));
	/* more waiting jobs than the pool has threads */
	for (i = 0; i < slow; i++)
		pool_submit(pool, slow_job, count_done, NULL);
	assert_true(wait_for(&waiting, slow));
	for (i = 0; i < quick; i++)
		pool_submit(pool, quick_job, count_done, NULL);
	/* they all run while the slow ones wait; never more at once than the pool's size */
	assert_true(wait_for(&quick_done, quick));
	assert_int_equal(waiting, slow);
	assert_true(most >= 1);
	assert_true(most <= BASE);
	pthread_mutex_lock(&lock);
	released = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pool_free(pool);	/* joins every thread, runs the done callbacks */
	assert_int_equal(done_calls, slow + quick);
	assert_int_equal(waiting, 0);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits_do_not_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
