/*
 * A connection's bandwidth limit: a token bucket per direction, refilled at the rate in bytes
 * per second and holding a quarter of a second at most. Reading or writing with the bucket
 * empty stops that direction until a timer has let enough tokens in.
 */
#include <stdlib.h>
#include <time.h>

#include "conn-int.h"

#define CONN_RATE_CHUNK 16384	/* wait for this much (or the whole bucket) before going on */

static uint64_t
conn_rate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Add the tokens earned since the last refill. */
static void
conn_rate_refill(struct conn_rate *r, int dir)
{
	uint64_t now = conn_rate_now(), dt = now - r->last[dir];

	if (dt > 10000000)
		dt = 10000000;
	r->tokens[dir] += r->rate * dt / 1000000;
	if (r->tokens[dir] > r->burst)
		r->tokens[dir] = r->burst;
	/* keep the remainder of a microsecond's worth for the next refill */
	r->last[dir] = r->rate * dt / 1000000 > 0 || r->tokens[dir] == r->burst ? now :
	    r->last[dir];
}

/* The timer: let the waiting directions go on. */
static void
conn_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct conn_rate *r = c->rate;

	(void)fd;
	(void)what;
	if (r->rx_wait) {
		r->rx_wait = 0;
		if (!c->dead && !c->draining)
			conn_arm(c);
	}
	if (r->tx_wait) {
		r->tx_wait = 0;
		if (!c->dead && evbuffer_get_length(c->out) > 0)
			conn_want_write(c);
	}
}

int
conn_set_rate(struct conn *c, uint64_t bytes_per_second)
{
	struct conn_rate *r = c->rate;

	if (bytes_per_second == 0) {
		conn_rate_free(c);
		return 0;
	}
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return CUSTODY_ENOMEM;
		if ((r->ev = evtimer_new(c->base, conn_rate_cb, c)) == NULL) {
			free(r);
			return CUSTODY_ENOMEM;
		}
		c->rate = r;
	}
	r->rate = bytes_per_second;
	r->burst = bytes_per_second / 4 > 1024 ? bytes_per_second / 4 : 1024;
	r->tokens[0] = r->tokens[1] = r->burst;
	r->last[0] = r->last[1] = conn_rate_now();
	return 0;
}

/* How many of want bytes may move in direction dir now (all without a limit); 0: wait. */
size_t
conn_rate_allow(struct conn *c, int dir, size_t want)
{
	struct conn_rate *r = c->rate;
	uint64_t need, us;
	struct timeval tv;

	if (r == NULL)
		return want;
	conn_rate_refill(r, dir);
	if (r->tokens[dir] > 0) {
		if (dir == CONN_RX)
			r->rx_wait = 0;
		else
			r->tx_wait = 0;
		return r->tokens[dir] < want ? (size_t)r->tokens[dir] : want;
	}
	/* empty: stop this direction until a chunk has come in */
	if (dir == CONN_RX) {
		event_del(c->rev);
		c->reading = 0;
		r->rx_wait = 1;
	} else {
		event_del(c->wev);
		r->tx_wait = 1;
	}
	need = r->burst < CONN_RATE_CHUNK ? r->burst : CONN_RATE_CHUNK;
	us = need * 1000000 / r->rate + 1;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	if (!evtimer_pending(r->ev, NULL))
		evtimer_add(r->ev, &tv);
	return 0;
}

/* n bytes moved in direction dir. */
void
conn_rate_spend(struct conn *c, int dir, size_t n)
{
	struct conn_rate *r = c->rate;

	if (r == NULL)
		return;
	r->tokens[dir] = r->tokens[dir] > n ? r->tokens[dir] - n : 0;
}

/* Is direction dir waiting for tokens? */
bool
conn_rate_waiting(const struct conn *c, int dir)
{
	return c->rate != NULL && (dir == CONN_RX ? c->rate->rx_wait : c->rate->tx_wait);
}

void
conn_rate_free(struct conn *c)
{
	if (c->rate == NULL)
		return;
	event_free(c->rate->ev);
	free(c->rate);
	c->rate = NULL;
}
