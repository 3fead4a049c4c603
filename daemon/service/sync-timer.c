/*
 * Syncing on a timer: every [sync] interval seconds the daemon pulls from each peer with an
 * address, on a worker. A peer that failed is left alone for longer each time (up to an
 * hour), so an office that is offline for days costs nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "peers.h"
#include "server.h"
#include "sync.h"

#define SYNC_BACKOFF_MAX 3600

struct sync_timer {
	struct server	*s;
	struct event	*ev;
	int		 running;
};

static unsigned failures[64];	/* consecutive failures, by a hash of the peer's name */

static unsigned *
sync_failures(const char *name)
{
	unsigned h = 5381;

	while (*name != '\0')
		h = h * 33 + (unsigned char)*name++;
	return &failures[h % 64];
}

/* On a worker: one round over every peer that is due. */
static void
sync_timer_work(void *arg)
{
	struct sync_timer *t = arg;
	struct archive *a = t->s->a;
	struct peers_entry *v = NULL;
	struct sync_result res;
	const char *why;
	char lk[LOG_KEY_LEN];
	unsigned *f;
	time_t now = time(NULL), wait;
	size_t n = 0, i;

	if (peers_list(&v, &n) < 0)
		return;
	for (i = 0; i < n && !sync_stopped(); i++) {
		if (v[i].address[0] == '\0')
			continue;
		f = sync_failures(v[i].name);
		wait = (time_t)a->conf.sync_interval << (*f < 4 ? *f : 4);
		if (wait > SYNC_BACKOFF_MAX)
			wait = SYNC_BACKOFF_MAX;
		if (*f > 0 && now - v[i].last_attempt < wait)
			continue;
		memset(&res, 0, sizeof res);
		why = sync_with_peer(a, &v[i], &res);
		if (why != NULL && sync_stopped()) {
			/* not the peer's failure: no backoff, and what it sent is kept */
			log_info("sync with %s: interrupted, custodyd is stopping",
			    log_key(lk, v[i].pk));
			sync_result_free(&res);
			break;
		}
		if (why == NULL && res.nforks > 0)
			why = res.forks[res.nforks - 1];
		peers_record(v[i].name, why);
		*f = why != NULL ? *f + 1 : 0;
		if (why != NULL)
			log_warn("sync with %s: %s (next try in %lds)", log_key(lk, v[i].pk),
			    res.nforks > 0 ? "a feed forked" : why,
			    (long)(a->conf.sync_interval << (*f < 4 ? *f : 4)));
		/* both ways; the lines name offices, so the log says how many */
		if (res.nmoved > 0)
			log_info("sync with %s: %zu feed%s came in, it took %zu", log_key(lk, v[i].pk),
			    res.nmoved - res.ntaken, res.nmoved - res.ntaken == 1 ? "" : "s",
			    res.ntaken);
		sync_result_free(&res);
	}
	free(v);
	archive_thread_done();
}

static void
sync_timer_done(void *arg)
{
	struct sync_timer *t = arg;

	t->running = 0;
}

static void
sync_timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sync_timer *t = arg;

	if (t->running || t->s->stopping)
		return;
	t->running = 1;
	pool_submit(t->s->pool, sync_timer_work, sync_timer_done, t);
}

/* Start the timer (nothing when the interval is 0). */
struct sync_timer *
sync_timer_start(struct server *s)
{
	struct sync_timer *t;
	struct timeval tv = { s->a->conf.sync_interval, 0 };

	if (s->a->conf.sync_interval <= 0 || (t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->s = s;
	if ((t->ev = event_new(s->base, -1, EV_PERSIST, sync_timer_fire, t)) == NULL) {
		free(t);
		return NULL;
	}
	event_add(t->ev, &tv);
	return t;
}

/* Stop the timer; a round in progress ends with the pool. NULL is fine. */
void
sync_timer_stop(struct sync_timer *t)
{
	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
}
