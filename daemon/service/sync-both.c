/*
 * The listener's half of a two-way session: an office that dialled us and pulled hands us the
 * turn (SyncTurn), and we pull from it over the channel it opened, with the very code a pull we
 * dial runs (session_pull: the same checks of every feed, pack, blob and the same witness
 * records). The pull runs on a worker; the channel stays on the loop, which hands the worker
 * the office's answers through a relay and writes what the worker sends. The loop never waits:
 * when the worker falls behind, reading from the channel pauses.
 *
 * We pull only from an office we pin that is not revoked (asked again on the worker, as a pull
 * we dial asks before it dials), and only its own feed if its invitation has not expired before
 * its first sync (session_pull). One such pull runs at a time; another office handing us the
 * turn meanwhile is told we are busy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handover.h"
#include "log.h"
#include "revocations.h"
#include "sync-both.h"
#include "sync-session.h"

#define RELAY_TIMEOUT 60	/* seconds without an answer (sync-pull.c: SYNC_TIMEOUT) */
#define RELAY_HIGH 32		/* answers waiting for the worker: reading pauses */
#define RELAY_LOW 8		/* and resumes */

struct relay_out {
	struct cbuf		 b;
	struct relay_out	*next;
};

struct sync_relay {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct msgq		*head, **tail;	/* answers for the worker */
	size_t			 n;
	struct relay_out	*out, **out_tail;	/* frames for the channel */
	int			 lost;		/* the channel is gone */
	int			 paused;	/* reading paused (the loop's) */
	struct conn		*ch;
	struct event		*wake;		/* on the loop: write out, resume reading */
	struct archive		*a;
	uint8_t			 key[ED25519_PK_LEN];	/* the office's channel key */
	uint8_t			 id[ED25519_PK_LEN];	/* and its identity */
	struct sync_result	 res;
	char			 declined[300];
	int			 failed;
	char			 why[400];
	void			 (*done)(void *);
	void			*arg;
};

static int relay_running;	/* pulls in progress (the loop's) */

/* On the loop: write what the worker sent, and read again once it caught up. */
static void
relay_wake(evutil_socket_t fd, short what, void *arg)
{
	struct sync_relay *r = arg;
	struct relay_out *o, *next;
	int resume;

	pthread_mutex_lock(&r->lock);
	o = r->out;
	r->out = NULL;
	r->out_tail = &r->out;
	resume = r->paused && r->n <= RELAY_LOW;
	pthread_mutex_unlock(&r->lock);
	for (; o != NULL; o = next) {
		next = o->next;
		if (!r->lost && conn_send_frames(r->ch, &o->b) < 0)
			conn_abort(r->ch);
		cbuf_free(&o->b);
		free(o);
	}
	if (resume && !r->lost) {
		r->paused = 0;
		conn_resume(r->ch);
	}
}

/* On the worker: queue a message for the channel. */
int
sync_relay_send(struct sync_relay *r, const Envelope *msg)
{
	struct relay_out *o;
	int error;

	if ((o = calloc(1, sizeof *o)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = wire_encode(&o->b, msg)) < 0) {
		free(o);
		return error;
	}
	pthread_mutex_lock(&r->lock);
	if (r->lost) {
		pthread_mutex_unlock(&r->lock);
		cbuf_free(&o->b);
		free(o);
		return CUSTODY_EIO;
	}
	*r->out_tail = o;
	r->out_tail = &o->next;
	pthread_mutex_unlock(&r->lock);
	event_active(r->wake, EV_TIMEOUT, 0);
	return 0;
}

/* On the worker: the next answer, waiting as session_recv waits for a channel of its own. */
Envelope *
sync_relay_recv(struct session *s)
{
	struct sync_relay *r = s->relay;
	struct timespec ts;
	struct msgq *q;
	Envelope *msg;
	int wake = 0;

	pthread_mutex_lock(&r->lock);
	while (r->head == NULL && !r->lost && !s->timed_out) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) != ETIMEDOUT)
			continue;
		if (sync_stopped())
			snprintf(s->why, sizeof s->why, "custodyd is stopping");
		else if (++s->waited >= (s->patience > 0 ? s->patience : RELAY_TIMEOUT))
			snprintf(s->why, sizeof s->why, "no answer for %d seconds", s->waited);
		else
			continue;
		s->timed_out = 1;
	}
	if ((q = r->head) == NULL) {
		if (r->lost) {
			s->gone = 1;
			if (s->why[0] == '\0')
				snprintf(s->why, sizeof s->why, "the peer closed the connection");
		}
		pthread_mutex_unlock(&r->lock);
		return NULL;
	}
	if ((r->head = q->next) == NULL)
		r->tail = &r->head;
	r->n--;
	wake = r->paused && r->n <= RELAY_LOW;
	pthread_mutex_unlock(&r->lock);
	if (wake)
		event_active(r->wake, EV_TIMEOUT, 0);
	msg = q->msg;
	free(q);
	return msg;
}

/* On the loop: an answer from the office for the worker's pull. */
void
sync_relay_push(struct sync_relay *r, Envelope *msg)
{
	struct msgq *q;

	if ((q = calloc(1, sizeof *q)) == NULL) {
		wire_free(msg);
		conn_abort(r->ch);
		return;
	}
	q->msg = msg;
	pthread_mutex_lock(&r->lock);
	*r->tail = q;
	r->tail = &q->next;
	if (++r->n >= RELAY_HIGH && !r->paused) {
		r->paused = 1;
		conn_pause(r->ch);
	}
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* On the loop: the channel is gone; the worker's pull ends at its next wait. */
void
sync_relay_lost(struct sync_relay *r)
{
	pthread_mutex_lock(&r->lock);
	r->lost = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* On the worker: may we pull from this office, and then the pull itself. */
static void
relay_work(void *arg)
{
	struct sync_relay *r = arg;
	struct session s;
	struct peers_entry e;
	uint64_t cut;
	int error;

	custody_error_clear();
	if (peers_find_key(&e, r->id) < 0) {
		snprintf(r->declined, sizeof r->declined, "this office does not pin yours");
		goto done;
	}
	if (revocations_cut(r->a, r->id, &cut)) {
		snprintf(r->declined, sizeof r->declined, "your office is revoked (after its "
		    "commit %llu)", (unsigned long long)cut);
		goto done;
	}
	memset(&s, 0, sizeof s);
	s.a = r->a;
	s.peer = &e;
	s.res = &r->res;
	s.relay = r;
	s.tail = &s.head;
	memcpy(s.dial, r->key, ED25519_PK_LEN);
	s.records_first = 1;	/* records of every feed, then the blobs */
	if ((error = session_pull(&s, &r->res)) == 0 && s.deferred > 0) {
		s.records_first = 0;
		error = session_pull(&s, &r->res);
	}
	session_witness(&s);	/* what was taken, even before a failure */
	if (error < 0) {
		r->failed = 1;
		snprintf(r->why, sizeof r->why, "%s", s.why[0] ? s.why : custody_error());
	}
done:
	archive_thread_done();
}

/* On the loop: the pull ended. Hand the turn back with what it took, and let go. */
static void
relay_done(void *arg)
{
	struct sync_relay *r = arg;
	Custody__SyncTurn t = CUSTODY__SYNC_TURN__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	char lk[LOG_KEY_LEN];
	struct msgq *q;

	relay_running--;
	relay_wake(-1, 0, r);	/* what the worker sent last */
	log_key(lk, r->id);
	/* the lines name offices: the log says how many */
	if (r->res.nmoved > 0)
		log_info("sync from %s (it dialled): %zu feed%s taken", lk, r->res.nmoved,
		    r->res.nmoved == 1 ? "" : "s");
	if (r->res.nforks > 0)
		log_warn("sync from %s (it dialled): %zu feed%s refused", lk, r->res.nforks,
		    r->res.nforks == 1 ? "" : "s");
	if (r->declined[0] != '\0')
		log_warn("sync from %s (it dialled): not pulled: %s", lk, r->declined);
	if (r->failed)
		log_warn("sync from %s (it dialled): %s", lk, r->why);
	if (!r->lost && r->failed)
		conn_send_error(r->ch, CUSTODY_EIO, "%s", r->why);
	else if (!r->lost) {
		t.moved = r->res.moved;
		t.n_moved = r->res.nmoved;
		t.forks = r->res.forks;
		t.n_forks = r->res.nforks;
		t.declined = r->declined;
		env.body_case = CUSTODY__ENVELOPE__BODY_SYNC_TURN;
		env.sync_turn = &t;
		if (conn_send(r->ch, &env) < 0)
			conn_abort(r->ch);
	}
	if (r->paused && !r->lost)
		conn_resume(r->ch);
	r->done(r->arg);
	while ((q = r->head) != NULL) {
		r->head = q->next;
		wire_free(q->msg);
		free(q);
	}
	sync_result_free(&r->res);
	event_free(r->wake);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/*
 * The office at the other end of ch handed us the turn: pull from it on a worker of pool. The
 * channel must outlive the pull: done(arg) runs on the loop when the pull has ended and the turn
 * is handed back, and only then may the owner let go of ch. *out is NULL (and the turn is
 * declined on the channel) when another pull is in progress.
 */
int
sync_relay_start(struct sync_relay **out, struct archive *a, struct pool *pool,
    struct event_base *base, struct conn *ch, void (*done)(void *), void *arg)
{
	Custody__SyncTurn t = CUSTODY__SYNC_TURN__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct sync_relay *r;

	*out = NULL;
	if (relay_running > 0) {
		t.declined = "this office is pulling from another office: sync again later";
		env.body_case = CUSTODY__ENVELOPE__BODY_SYNC_TURN;
		env.sync_turn = &t;
		return conn_send(ch, &env);
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	if ((r->wake = event_new(base, -1, 0, relay_wake, r)) == NULL ||
	    conn_remote_key(ch, r->key) < 0) {
		if (r->wake != NULL)
			event_free(r->wake);
		free(r);
		return CUSTODY_ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->tail = &r->head;
	r->out_tail = &r->out;
	r->ch = ch;
	r->a = a;
	memcpy(r->id, r->key, ED25519_PK_LEN);
	handover_identity(r->key, r->id);	/* an office that rotated its key */
	r->done = done;
	r->arg = arg;
	relay_running++;
	*out = r;
	pool_submit(pool, relay_work, relay_done, r);
	return 0;
}
