/*
 * The dialler's half of a two-way session: having pulled, it hands the turn to the office it
 * dialled (SyncTurn) and answers that office's replication requests on the same channel, as
 * the listener answers ours (sync-serve.c), until the office hands the turn back with what it
 * took. The dialler needs no listening port: the office it dialled pulls through its call.
 *
 * The limits of a pull hold for the turn: the other office must ask within SYNC_TIMEOUT of the
 * last answer (session_recv), and the packs it is served in one session stay within
 * SYNC_SESSION_MAX_BYTES; past either it is cut off.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sync-session.h"
#include "sync-verify.h"

#define TURN_LINES 256		/* lines of the other office's report we keep */

/* The output queued so far is written: the next piece of a pack may go. */
static void
turn_drained(void *arg)
{
	struct session *s = arg;

	s->drained = 1;
	event_base_loopbreak(s->base);
}

/* Wait until what is queued on the channel is written (or the peer is gone, or silent). */
static int
turn_wait_drained(struct session *s)
{
	struct timeval tv = { 1, 0 };

	s->drained = 0;
	s->waited = 0;
	conn_on_drained(s->ch, turn_drained, s);
	evtimer_add(s->timer, &tv);
	while (!s->drained && !s->gone && !s->timed_out)
		event_base_loop(s->base, EVLOOP_ONCE);
	evtimer_del(s->timer);
	conn_on_drained(s->ch, NULL, NULL);
	return s->drained ? 0 : CUSTODY_EIO;
}

/* Answer one replication request of the other office, a pack one piece at a time. */
static int
turn_serve(struct session *s, const Envelope *msg)
{
	struct sync_stream *st = NULL;
	struct cbuf out = { 0 };
	int error, more = 1;

	custody_error_clear();
	if ((error = sync_serve_stream(s->a, msg, &out, &st)) < 0) {
		/* answered with an error, as the listener answers a bad request */
		conn_send_error(s->ch, error, "%s", custody_error());
		snprintf(s->why, sizeof s->why, "%s asked for %s: %s", s->peer->name,
		    wire_name(msg), custody_error());
		goto done;
	}
	for (;;) {
		if ((s->served += out.len) > SYNC_SESSION_MAX_BYTES) {
			error = custody_fail(CUSTODY_ETOOBIG, "%s asked for more than %llu bytes in "
			    "its turn", s->peer->name, (unsigned long long)SYNC_SESSION_MAX_BYTES);
			snprintf(s->why, sizeof s->why, "%s", custody_error());
			goto done;
		}
		if (conn_send_frames(s->ch, &out) < 0) {
			error = CUSTODY_EIO;
			snprintf(s->why, sizeof s->why, "cannot send to the peer");
			goto done;
		}
		cbuf_free(&out);
		if (st == NULL || !more)
			break;
		if ((error = turn_wait_drained(s)) < 0)
			goto done;
		if ((error = sync_stream_next(st, &out)) < 0)
			goto done;
		more = error;
		error = 0;
	}
done:
	sync_stream_free(st);
	cbuf_free(&out);
	return error;
}

/* What the other office took, in our result: "to NAME: feed X: 2 commits, 0 blobs". */
static void
turn_report(struct session *s, const Custody__SyncTurn *t, struct sync_result *res)
{
	char lk[LOG_KEY_LEN];
	size_t i;

	if (t->declined != NULL && t->declined[0] != '\0') {
		sync_result_add(res, 0, "to %s: nothing taken: %.200s", s->peer->name,
		    t->declined);
		log_info("sync with %s: it took nothing: %.200s", log_key(lk, s->peer->pk),
		    t->declined);
		res->ntaken++;
	}
	for (i = 0; i < t->n_moved && i < TURN_LINES; i++) {
		sync_result_add(res, 0, "to %s: %.200s", s->peer->name, t->moved[i]);
		res->ntaken++;
	}
	for (i = 0; i < t->n_forks && i < TURN_LINES; i++) {
		sync_result_add(res, 0, "to %s: refused: %.200s", s->peer->name, t->forks[i]);
		res->ntaken++;
	}
	if (t->n_forks > 0)	/* the lines name offices: the log gets how many */
		log_warn("sync with %s: it refused %zu of our feeds", log_key(lk, s->peer->pk),
		    t->n_forks);
}

/* Hand the turn over and serve the other office's pull until it hands it back. */
int
sync_turn_give(struct session *s, struct sync_result *res)
{
	Custody__SyncTurn t = CUSTODY__SYNC_TURN__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *msg;
	int error = 0;

	env.body_case = CUSTODY__ENVELOPE__BODY_SYNC_TURN;
	env.sync_turn = &t;
	if (session_send(s, &env) < 0)
		return CUSTODY_EIO;
	s->served = 0;
	for (;;) {
		if ((msg = session_recv(s)) == NULL)
			return custody_fail(CUSTODY_EIO, "%s", s->why);
		if (msg->body_case == CUSTODY__ENVELOPE__BODY_SYNC_TURN) {
			turn_report(s, msg->sync_turn, res);
			wire_free(msg);
			return 0;
		}
		if (!sync_is_request(msg)) {
			snprintf(s->why, sizeof s->why, "the peer sent an unexpected %s in its turn",
			    wire_name(msg));
			wire_free(msg);
			return CUSTODY_EPROTO;
		}
		error = turn_serve(s, msg);
		wire_free(msg);
		if (error < 0)
			return error;
	}
}
