/*
 * Whether the RADOS pool answers, within RADOS_HEALTH_WAIT_MS rather than the store's op
 * timeout: `custody status` asks, and must answer promptly while Ceph is down.
 *
 * A probe is an asynchronous stat of an object that need not exist (an answer, even "no such
 * object", is health). One probe at most is in flight per store: when it has not answered in
 * time it stays in flight (librados ends it within the op timeout, or when the OSD returns),
 * and the next call looks at it again instead of sending another. Its out-parameters live in
 * the probe, which lives until the op ends. A full pool is known from the writes it refused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rados/librados.h>

#include "custody/common.h"
#include "blobstore.h"
#include "blobstore-rados-int.h"

#define RADOS_HEALTH_OID	".health"
#define RADOS_HEALTH_POLL_MS	20

struct blobstore_rados_probe {
	rados_completion_t	 c;
	uint64_t		 size;
	time_t			 mtime;
	time_t			 sent;		/* when it went out */
};

/* Milliseconds on the monotonic clock. */
static uint64_t
blobstore_rados_health_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Send a probe; NULL when librados will not take one (r says why). */
static struct blobstore_rados_probe *
blobstore_rados_probe_send(struct blobstore_rados_store *s, int *r)
{
	struct blobstore_rados_probe *p;

	if ((p = calloc(1, sizeof *p)) == NULL) {
		*r = -ENOMEM;
		return NULL;
	}
	if ((*r = rados_aio_create_completion2(NULL, NULL, &p->c)) < 0) {
		free(p);
		return NULL;
	}
	if ((*r = rados_aio_stat(s->io, RADOS_HEALTH_OID, p->c, &p->size, &p->mtime)) < 0) {
		rados_aio_release(p->c);
		free(p);
		return NULL;
	}
	p->sent = time(NULL);
	return p;
}

/* Free a probe that has answered. */
static void
blobstore_rados_probe_free(struct blobstore_rados_probe *p)
{
	if (p == NULL)
		return;
	rados_aio_release(p->c);
	free(p);
}

/* Say why the store is not healthy, as custody_fail would, into *why. */
static int
blobstore_rados_health_why(struct blobstore_rados_store *s, int r, char **why)
{
	blobstore_rados_fail(s, r, "checking the pool");
	*why = strdup(custody_error());
	return r == -EDQUOT || r == -ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO;
}

/*
 * A pool that answers may still be full: a stat is a read, which a full pool serves. The last
 * write refused for lack of space says so until a write goes through (a full pool's flag is
 * in the OSD map, which only the monitor's admin commands show).
 */
static int
blobstore_rados_health_full(struct blobstore_rados_store *s, char **why)
{
	time_t at = __atomic_load_n(&s->full_at, __ATOMIC_ACQUIRE);
	struct tm tm;
	char when[32];

	if (at == 0)
		return 0;
	if (gmtime_r(&at, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S",
	    &tm) == 0)
		strcpy(when, "?");
	if (asprintf(why, "ceph pool full: pool %s: %s since %s UTC (until a write goes "
	    "through)", s->pool, __atomic_load_n(&s->full_r, __ATOMIC_RELAXED) == -EDQUOT ?
	    "its quota refused a write" : "the cluster refused a write for lack of space",
	    when) < 0)
		*why = NULL;
	return CUSTODY_ENOSPC;
}

/* 0 when the pool answers within RADOS_HEALTH_WAIT_MS; else why not in *why. */
int
blobstore_rados_health(struct blobstore *b, char **why)
{
	struct blobstore_rados_store *s = (struct blobstore_rados_store *)b;
	struct blobstore_rados_probe *p;
	uint64_t deadline = blobstore_rados_health_ms() + RADOS_HEALTH_WAIT_MS;
	time_t waited;
	int r = 0, error = 0;

	*why = NULL;
	pthread_mutex_lock(&s->health_lock);
	if ((p = s->probe) == NULL && (p = blobstore_rados_probe_send(s, &r)) == NULL) {
		error = blobstore_rados_health_why(s, r, why);
		goto done;
	}
	s->probe = p;
	while (!rados_aio_is_complete(p->c) && blobstore_rados_health_ms() < deadline)
		nanosleep(&(struct timespec){ 0, RADOS_HEALTH_POLL_MS * 1000000L }, NULL);
	if (!rados_aio_is_complete(p->c)) {
		waited = time(NULL) - p->sent;
		if (waited < RADOS_HEALTH_WAIT_MS / 1000)
			waited = RADOS_HEALTH_WAIT_MS / 1000;
		if (asprintf(why, "ceph unreachable: pool %s: no answer for %lld s", s->pool,
		    (long long)waited) < 0)
			*why = NULL;
		error = CUSTODY_EIO;
		goto done;
	}
	r = rados_aio_get_return_value(p->c);
	blobstore_rados_probe_free(p);
	s->probe = NULL;
	if (r < 0 && r != -ENOENT)
		error = blobstore_rados_health_why(s, r, why);
	else
		error = blobstore_rados_health_full(s, why);
done:
	pthread_mutex_unlock(&s->health_lock);
	return error;
}

/* At close: wait for a probe still in flight (its op timeout bounds it), then free it. */
void
blobstore_rados_health_close(struct blobstore_rados_store *s)
{
	if (s->probe != NULL) {
		rados_aio_wait_for_complete(s->probe->c);
		blobstore_rados_probe_free(s->probe);
		s->probe = NULL;
	}
	pthread_mutex_destroy(&s->health_lock);
}
