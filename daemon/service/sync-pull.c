/*
 * Pulling from a peer: dial it over the Noise channel, learn its feeds, and for every feed of a
 * known office that it holds further than we do, fetch the commits (a git pack) and the blobs
 * they name, verify all of it, and only then move our ref (fast-forward only). A feed whose
 * history does not extend ours is a fork: refused, its evidence kept. Blobs arrive into
 * tmp/sync-NAME.part, so a session that breaks off resumes where it stopped.
 *
 * The session runs on a worker thread with its own event loop, as a sequence of requests and
 * answers.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "custody/conn.h"
#include "epochs.h"
#include "log.h"
#include "offices.h"
#include "peers.h"
#include "revocations.h"
#include "sync.h"
#include "sync-dial.h"
#include "sync-session.h"
#include "sync-verify.h"

#define SYNC_TIMEOUT 60		/* seconds without an answer before we give up */
#define SYNC_PACK_TIMEOUT 900	/* for the first piece of a pack answer: the server writes
				   every pack of it first (sync-serve.c; a minute a GiB or so) */
#define SYNC_TICK 1		/* seconds between looks at whether the daemon is stopping */
#define SYNC_ROUNDS 3		/* feeds of offices learnt during the session get pulled too */
#define SYNC_DEFERRED 2		/* session_pull_feed: not yet (its records need an epoch) */
#define SYNC_PARTIAL 3		/* session_pull_feed: moved, the rest needs an epoch */


/* Is the responder the office we dialled? (XK: it proved it holds the key we dialled.) */
static const char *
session_authorize(struct conn *ch, const uint8_t remote_ed[static 32], void *arg)
{
	struct session *s = arg;
	char *got = NULL, *want = NULL;

	if (sodium_memcmp(remote_ed, s->dial, ED25519_PK_LEN) == 0)
		return s->peer->name;
	sshkey_fingerprint(&got, remote_ed);
	sshkey_fingerprint(&want, s->dial);
	snprintf(s->why, sizeof s->why, "refused: %s presented key %s, not the pinned %s",
	    s->peer->address, got ? got : "?", want ? want : "?");
	free(got);
	free(want);
	return NULL;
}

static void
session_dispatch(struct conn *ch, Envelope *msg, void *arg)
{
	struct session *s = arg;
	struct msgq *q;

	if (msg == NULL) {
		s->gone = 1;
		if (s->why[0] == '\0')
			snprintf(s->why, sizeof s->why, "%s", conn_error(ch)[0] ?
			    conn_error(ch) : "the peer closed the connection");
		event_base_loopbreak(s->base);
		return;
	}
	if ((q = calloc(1, sizeof *q)) == NULL) {
		wire_free(msg);
		return;
	}
	q->msg = msg;
	*s->tail = q;
	s->tail = &q->next;
	event_base_loopbreak(s->base);
}

static int sync_stopping;

/* The daemon is stopping: sessions in progress end at their next tick, none starts. */
void
sync_stop(void)
{
	__atomic_store_n(&sync_stopping, 1, __ATOMIC_RELAXED);
}

int
sync_stopped(void)
{
	return __atomic_load_n(&sync_stopping, __ATOMIC_RELAXED);
}

/* Every SYNC_TICK while waiting for the peer: give up when it is silent or we are stopping. */
static void
session_tick(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (sync_stopped())
		snprintf(s->why, sizeof s->why, "custodyd is stopping");
	else if ((s->waited += SYNC_TICK) >= (s->patience > 0 ? s->patience : SYNC_TIMEOUT))
		snprintf(s->why, sizeof s->why, "no answer for %d seconds", s->waited);
	else
		return;
	s->timed_out = 1;
	event_base_loopbreak(s->base);
}

/* The next message from the peer, or NULL (s->why says why). */
Envelope *
session_recv(struct session *s)
{
	struct timeval tv = { SYNC_TICK, 0 };
	struct msgq *q;
	Envelope *msg;

	s->waited = 0;
	if (sync_stopped() && !s->timed_out) {
		s->timed_out = 1;
		snprintf(s->why, sizeof s->why, "custodyd is stopping");
	}
	if (s->relay != NULL) {	/* the listener's pull: the loop hands the messages over */
		if ((msg = sync_relay_recv(s)) == NULL)
			return NULL;
		goto got;
	}
	evtimer_add(s->timer, &tv);
	while (s->head == NULL && !s->gone && !s->timed_out)
		event_base_loop(s->base, EVLOOP_ONCE);
	evtimer_del(s->timer);
	if ((q = s->head) == NULL)
		return NULL;
	if ((s->head = q->next) == NULL)
		s->tail = &s->head;
	msg = q->msg;
	free(q);
got:
	if (msg->body_case == CUSTODY__ENVELOPE__BODY_ERROR) {
		snprintf(s->why, sizeof s->why, "the peer says: %s", msg->error->message);
		wire_free(msg);
		return NULL;
	}
	return msg;
}

/* Send a message to the peer, over our channel or through the relay of the listener's pull. */
int
session_send(struct session *s, const Envelope *msg)
{
	if ((s->relay != NULL ? sync_relay_send(s->relay, msg) : conn_send(s->ch, msg)) < 0) {
		if (s->why[0] == '\0')
			snprintf(s->why, sizeof s->why, "cannot send to the peer");
		return CUSTODY_EIO;
	}
	return 0;
}

/* Send a request and wait for its answer of the expected kind (or ForkReply when allowed). */
static Envelope *
session_call(struct session *s, const Envelope *req, int want, int or_fork)
{
	Envelope *msg;

	if (session_send(s, req) < 0)
		return NULL;
	if ((msg = session_recv(s)) == NULL)
		return NULL;
	if ((int)msg->body_case != want && !(or_fork &&
	    msg->body_case == CUSTODY__ENVELOPE__BODY_FORK_REPLY)) {
		snprintf(s->why, sizeof s->why, "the peer sent an unexpected %s",
		    wire_name(msg));
		wire_free(msg);
		return NULL;
	}
	return msg;
}

/* A socket to the peer (maybe still connecting, maybe through its proxy); -1 with s->why set. */
static int
session_connect(struct session *s)
{
	int fd;

	return sync_dial(&fd, s->peer, SYNC_TIMEOUT, s->why, sizeof s->why) < 0 ? -1 : fd;
}

/*
 * Is pk an office whose feed we never held and whose invitation expired: then its first
 * session comes too late and its own feed is not taken from it (though it is pinned). Its
 * feed relayed by another office is judged by its copy's time (offices-admit.c).
 */
static int
session_expired(struct archive *a, const uint8_t *pk)
{
	struct office *v = NULL;
	size_t n = 0, i;
	char hex[2 * ED25519_PK_LEN + 1], lk[LOG_KEY_LEN];
	uint64_t seq = 0, lamport;
	int64_t until = 0;
	git_oid head;

	if (offices_list(a, &v, &n) == 0)
		for (i = 0; i < n; i++)
			if (sodium_memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0)
				until = v[i].invite_expires;
	free(v);
	hex_encode(hex, pk, ED25519_PK_LEN);
	if (until == 0 || (int64_t)time(NULL) <= until ||
	    (feed_head(a, hex, &head, &seq, &lamport) == 0 && seq > 0))
		return 0;
	log_warn("not taking the feed of %s: its invitation expired before it first synced",
	    log_key(lk, pk));
	return 1;
}

/* Is pk an office we accept feeds of: ourselves, a pinned peer, named by an office record? */
static int
session_known(struct archive *a, const uint8_t *pk)
{
	struct peers_entry e;
	struct office *v = NULL;
	size_t n = 0, i;
	int known = 0;

	if (sodium_memcmp(pk, a->office_pk, ED25519_PK_LEN) == 0 || peers_find_key(&e, pk) == 0)
		return 1;
	/* a recovering office takes every feed its pinned peer holds: its own may be named by
	 * a key it no longer holds (rotated before it was lost; keys_rotate_identity) */
	if (recover_pending(a))
		return 1;
	if (offices_list(a, &v, &n) == 0)
		for (i = 0; i < n && !known; i++)
			known = sodium_memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0;
	free(v);
	return known;
}

/* Does forks/ hold the commit the peer names as f's head (refused and kept before)? */
static int
session_kept(struct archive *a, const char *hex, const Custody__FeedHead *f)
{
	char rel[200], *path;
	struct stat st;
	int kept;

	if (f->head == NULL || strlen(f->head) != GIT_OID_HEXSZ ||
	    !hex_is_lower(f->head, GIT_OID_HEXSZ))
		return 0;
	snprintf(rel, sizeof rel, "forks/%s-%llu-%s.commit", hex, (unsigned long long)f->seq,
	    f->head);
	if ((path = archive_file(a, rel)) == NULL)
		return 0;
	kept = stat(path, &st) == 0;
	free(path);
	return kept;
}

/*
 * Is pk the office of a revocation, pending or effective? Its feed is pulled after the others,
 * so that the records that make its revocation effective arrive before its commits past the cut.
 */
static int
session_targeted(struct archive *a, const uint8_t *pk)
{
	struct revocation *v = NULL;
	size_t n = 0, i;
	int found = 0;

	if (revocations_list(a, &v, &n) < 0)
		return 0;
	for (i = 0; i < n && !found; i++)
		found = sodium_memcmp(v[i].target, pk, ED25519_PK_LEN) == 0;
	free(v);
	return found;
}

/*
 * The peer holds no more of a feed than we do: its head must be our commit at its sequence.
 * If not, fetch its commit as evidence of a fork.
 */
static int
session_check_behind(struct session *s, const char *hex, const git_oid *head, uint64_t seq,
    const Custody__FeedHead *f, char **line)
{
	Custody__CommitRequest cr = CUSTODY__COMMIT_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *msg;
	char ours[GIT_OID_HEXSZ + 1];
	git_oid at;
	int error;

	*line = NULL;
	if ((error = sync_commit_at(s->a, head, seq, f->seq, &at)) < 0)
		return error;
	git_oid_tostr(ours, sizeof ours, &at);
	if (strcmp(ours, f->head) == 0)
		return 0;
	cr.office = f->office;
	cr.oid = f->head;
	env.body_case = CUSTODY__ENVELOPE__BODY_COMMIT_REQUEST;
	env.commit_request = &cr;
	if ((msg = session_call(s, &env, CUSTODY__ENVELOPE__BODY_COMMIT_REPLY, 0)) == NULL)
		return custody_fail(CUSTODY_EIO, "%s", s->why);
	error = sync_fork_evidence(s->a, hex, f->office.data, f->seq, ours,
	    msg->commit_reply->commit.data, msg->commit_reply->commit.len, line);
	wire_free(msg);
	return error;
}

/*
 * The most bytes we take in one pack of a peer's answer: SYNC_PACK_PART, or for tests what
 * CUSTODY_SYNC_PACK_BYTES says (a few KiB make a small feed arrive in several packs).
 */
static uint64_t
session_pack_bytes(void)
{
	const char *v = getenv("CUSTODY_SYNC_PACK_BYTES");
	unsigned long long n;
	char *end;

	if (v == NULL || *v == '\0')
		return SYNC_PACK_PART;
	n = strtoull(v, &end, 10);
	return *end == '\0' && n > 0 && n <= SYNC_PACK_MAX_BYTES ? n : SYNC_PACK_PART;
}

/*
 * Pull one feed further: pack, verification, blobs, then the ref. 1 if it moved, SYNC_DEFERRED
 * when its records are wrapped under a data-key epoch that a feed later in the session brings,
 * SYNC_PARTIAL when it moved up to the first commit that needs such an epoch.
 */
static int
session_pull_feed(struct session *s, const Custody__FeedHead *f, struct sync_result *res,
    struct sync_witness **wit, size_t *nwit)
{
	struct archive *a = s->a;
	Custody__PackRequest pr = CUSTODY__PACK_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *msg;
	struct sync_incoming in;
	char hex[65], ours[GIT_OID_HEXSZ + 1] = "", *name, *line = NULL, lk[LOG_KEY_LEN];
	uint64_t seq = 0, lamport, cut, first;
	size_t nblobs = 0, news = 0;
	git_oid head;
	int error, moved = 0;

	hex_encode(hex, f->office.data, ED25519_PK_LEN);
	error = feed_head(a, hex, &head, &seq, &lamport);
	if (error < 0 && error != CUSTODY_ENOTFOUND)
		return error;
	if (error == 0)
		git_oid_tostr(ours, sizeof ours, &head);
	name = sync_office_name(a, f->office.data);
	if (f->seq > seq && revocations_cut(a, f->office.data, &cut) && seq >= cut &&
	    session_kept(a, hex, f)) {
		free(name);	/* refused and kept before: nothing new to say */
		return 0;
	}
	if (f->seq <= seq) {
		error = f->seq > 0 ? session_check_behind(s, hex, &head, seq, f, &line) : 0;
		if (line != NULL) {
			sync_result_add(res, 1, "feed %s: %s", name, line);
			log_warn("sync with %s: feed %.16s: %s", log_key(lk, s->peer->pk), hex,
			    line);
			free(line);
		}
		free(name);
		return error;
	}
	first = seq;
again:
	pr.office = f->office;
	pr.have_seq = seq;
	pr.have_head = ours;
	pr.pack_bytes = session_pack_bytes();
	env.body_case = CUSTODY__ENVELOPE__BODY_PACK_REQUEST;
	env.pack_request = &pr;
	s->patience = SYNC_PACK_TIMEOUT;
	msg = session_call(s, &env, CUSTODY__ENVELOPE__BODY_PACK_DATA, 1);
	s->patience = 0;
	if (msg == NULL) {
		free(name);
		return custody_fail(CUSTODY_EIO, "%s", s->why);
	}
	if (msg->body_case == CUSTODY__ENVELOPE__BODY_FORK_REPLY) {
		error = sync_fork_evidence(a, hex, f->office.data, msg->fork_reply->seq, ours,
		    msg->fork_reply->commit.data, msg->fork_reply->commit.len, &line);
		if (line != NULL)
			sync_result_add(res, 1, "feed %s: %s", name, line);
		log_warn("sync with %s: feed %.16s: %s", log_key(lk, s->peer->pk), hex,
		    line ? line : custody_error());
		free(line);
		wire_free(msg);
		free(name);
		return error;
	}
	memset(&in, 0, sizeof in);
	if ((error = sync_incoming_begin(&in, a, hex, f->office.data, seq, seq ? &head : NULL)) <
	    0)
		goto done;
	for (;;) {
		if ((s->pack_bytes += msg->pack_data->data.len) > SYNC_SESSION_MAX_BYTES) {
			error = custody_fail(CUSTODY_ETOOBIG, "the peer's packs pass %llu bytes in "
			    "one session", (unsigned long long)SYNC_SESSION_MAX_BYTES);
			goto done;
		}
		if ((error = sync_incoming_pack(&in, msg->pack_data->data.data,
		    msg->pack_data->data.len)) < 0)
			goto done;
		if (msg->pack_data->last)
			break;
		if (msg->pack_data->pack_end && (error = sync_incoming_pack_end(&in)) < 0)
			goto done;
		wire_free(msg);
		if ((msg = session_recv(s)) == NULL ||
		    msg->body_case != CUSTODY__ENVELOPE__BODY_PACK_DATA) {
			error = custody_fail(CUSTODY_EPROTO, "%s", s->why[0] ? s->why :
			    "the pack broke off");
			goto done;
		}
	}
	if ((error = sync_incoming_verify(&in, msg->pack_data->head, msg->pack_data->seq)) < 0) {
		if (in.epoch_missing && in.refused == NULL) {
			/* another feed of this session may bring the epoch: try again after it */
			log_info("sync with %s: feed %s waits for a data-key epoch: %s",
			    s->peer->name, name, custody_error());
			error = SYNC_DEFERRED;
			goto done;
		}
		if (in.refused != NULL) {	/* like a fork: reported, and the session goes on */
			sync_result_add(res, 1, "feed %s: %s", name, in.refused);
			log_warn("sync with %s: feed %s: %s", s->peer->name, name, in.refused);
			error = 0;
		}
		goto done;
	}
	if (in.refused != NULL) {	/* a revoked office's commits past its cut */
		sync_result_add(res, 1, "feed %s: %s", name, in.refused);
		log_warn("sync with %s: feed %s: %s", s->peer->name, name, in.refused);
	}
	if (s->records_first && in.nneed > 0 && in.refused == NULL) {
		/* records first: this feed's blobs come after every feed's records, both ways */
		s->deferred++;
		error = 0;
		goto done;
	}
	if ((error = sync_fetch_blobs(s, &in)) < 0)
		goto done;
	if ((error = sync_incoming_finish(&in)) < 0)
		goto done;
	moved = in.epoch_missing ? SYNC_PARTIAL : 1;
	nblobs += in.nblobs;
	news += in.news;
	/* the peer answered part of what it holds (several packs): ask for the rest */
	if (!in.partial && !in.epoch_missing && in.refused == NULL && in.new_seq > seq &&
	    in.new_seq < f->seq) {
		seq = in.new_seq;
		head = in.new_oid;
		snprintf(ours, sizeof ours, "%s", in.new_head);
		sync_incoming_free(&in);
		wire_free(msg);
		msg = NULL;
		goto again;
	}
	sync_result_add(res, 0, "feed %s: %llu commit%s, %zu blob%s", name,
	    (unsigned long long)(in.new_seq - first), in.new_seq - first == 1 ? "" : "s", nblobs,
	    nblobs == 1 ? "" : "s");
	/* witnessed, unless all that came is witness records (two offices would witness each
	 * other's witness commits at every session, for ever) */
	if (sodium_memcmp(f->office.data, a->office_pk, ED25519_PK_LEN) != 0 && news > 0 &&
	    (*wit = reallocarray(*wit, *nwit + 1, sizeof **wit)) != NULL) {
		snprintf((*wit)[*nwit].hex, sizeof (*wit)[*nwit].hex, "%s", hex);
		(*wit)[*nwit].seq = in.new_seq;
		snprintf((*wit)[*nwit].head, sizeof (*wit)[*nwit].head, "%s", in.new_head);
		(*nwit)++;
	}
done:
	sync_incoming_free(&in);
	wire_free(msg);
	free(name);
	return error < 0 || error == SYNC_DEFERRED ? error : moved;
}

/* How many commits of the feeds we hold the peer lacks (it pulls them when it syncs). */
static void
session_note_behind(struct session *s, const Custody__FeedsReply *fr)
{
	struct sync_feed *ours = NULL;
	size_t n = 0, i, j;
	int64_t behind = 0;
	uint64_t theirs;

	if (sync_list_feeds(s->a, &ours, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		theirs = 0;
		for (j = 0; j < fr->n_feeds; j++)
			if (fr->feeds[j]->office.len == ED25519_PK_LEN &&
			    memcmp(fr->feeds[j]->office.data, ours[i].pk, ED25519_PK_LEN) == 0)
				theirs = fr->feeds[j]->seq;
		if (ours[i].seq > theirs)
			behind += (int64_t)(ours[i].seq - theirs);
	}
	free(ours);
	peers_record_behind(s->peer->pk, behind);
}

/* How far the peer holds our own feed (session_witness: are we behind our own feed?). */
static void
session_note_own(struct session *s, const Custody__FeedsReply *fr)
{
	size_t j;

	for (j = 0; j < fr->n_feeds; j++)
		if (fr->feeds[j]->office.len == ED25519_PK_LEN &&
		    memcmp(fr->feeds[j]->office.data, s->a->office_pk, ED25519_PK_LEN) == 0 &&
		    fr->feeds[j]->seq > s->own_seen)
			s->own_seen = fr->feeds[j]->seq;
}

/* The whole pull: feeds, then each feed we can take further, in rounds. */
int
session_pull(struct session *s, struct sync_result *res)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *msg;
	Custody__FeedsRequest fr = CUSTODY__FEEDS_REQUEST__INIT;
	uint8_t *done = NULL;	/* 1 pulled, 2 waiting for a data-key epoch */
	size_t i;
	int round, rounds = SYNC_ROUNDS, progress = 1, error = 0, r;

	env.body_case = CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST;
	env.feeds_request = &fr;
	if ((msg = session_call(s, &env, CUSTODY__ENVELOPE__BODY_FEEDS_REPLY, 0)) == NULL)
		return custody_fail(CUSTODY_EIO, "%s", s->why);
	session_note_behind(s, msg->feeds_reply);
	session_note_own(s, msg->feeds_reply);
	if ((done = calloc(msg->feeds_reply->n_feeds + 1, 1)) == NULL) {
		wire_free(msg);
		return CUSTODY_ENOMEM;
	}
	for (round = 0; round < rounds && progress && error == 0; round++) {
		progress = 0;
		for (i = 0; i < msg->feeds_reply->n_feeds && error == 0; i++) {
			Custody__FeedHead *f = msg->feeds_reply->feeds[i];

			if (done[i] == 1 || f->office.len != ED25519_PK_LEN ||
			    !session_known(s->a, f->office.data))
				continue;
			if (sodium_memcmp(f->office.data, s->peer->pk, ED25519_PK_LEN) == 0 &&
			    session_expired(s->a, f->office.data)) {
				done[i] = 1;
				continue;
			}
			if (round == 0 && session_targeted(s->a, f->office.data)) {
				progress = 1;	/* after the others' revocation records */
				continue;
			}
			done[i] = 1;
			if (sodium_memcmp(f->office.data, s->a->office_pk, ED25519_PK_LEN) == 0 &&
			    !recover_pending(s->a))
				continue;	/* our own feed is ours to write, never to take */
			if ((r = session_pull_feed(s, f, res, &s->wit, &s->nwit)) < 0)
				error = r;
			else if (r == SYNC_DEFERRED || r == SYNC_PARTIAL) {
				done[i] = 2;
				rounds = SYNC_ROUNDS + 2;
				if (r == SYNC_DEFERRED)
					continue;
			}
			progress = 1;	/* office records may name offices we did not know */
		}
	}
	for (i = 0; i < msg->feeds_reply->n_feeds && error == 0; i++)
		if (done[i] == 2) {
			char *name = sync_office_name(s->a, msg->feeds_reply->feeds[i]->office.data);

			sync_result_add(res, 1, "feed %s: commits whose records use a data-key epoch "
			    "no feed of this session brought are not taken yet", name ? name : "?");
			free(name);
		}
	/* recovered from shares made since a rotation: the feed handed over to our key is ours
	 * (judged after the pull that takes the feeds that waited for their blobs) */
	if (s->records_first)
		;
	else if (error == 0 && recover_pending(s->a) && (r = keys_rotate_identity(s->a)) != 0)
		error = r < 0 ? r : custody_fail(CUSTODY_EPERM, "this office rotated its key before "
		    "it was lost: its feed is known now; stop the daemon, run custodyd reindex, "
		    "start it and sync again");
	else if (error == 0 && recover_pending(s->a)) {	/* recover.c */
		char *why = NULL;

		if ((r = recover_settle(s->a, s->peer->name, &why)) < 0)
			error = r;
		else if (why != NULL) {
			log_warn("%s", why);
			sync_result_add(res, 0, "%s", why);
			free(why);
		}
	}
	if (!s->records_first)	/* a pull of records first witnesses with the next one */
		session_witness(s);
	/* a revocation that took effect with what came in: rotate the data key once */
	if (!recover_pending(s->a) && epochs_after_revocations(s->a) < 0)
		log_warn("data-key rotation after a revocation failed: %s", custody_error());
	/* offices admitted since this office's rotations get their copies */
	if (!recover_pending(s->a) && epochs_after_admissions(s->a) < 0)
		log_warn("data-key epochs for offices admitted since: %s", custody_error());
	free(done);
	wire_free(msg);
	return error;
}

/*
 * One commit of witness records for every feed the session's pulls took so far; none when the
 * peer holds more of our own feed than we do (this office was restored from an older backup):
 * the commit would reuse a sequence our feed already holds elsewhere, a fork of our own feed.
 */
void
session_witness(struct session *s)
{
	uint64_t seq = 0, lamport;
	git_oid head;

	if (s->nwit > 0 && feed_head(s->a, s->a->office_hex, &head, &seq, &lamport) < 0)
		seq = 0;	/* no feed of our own yet */
	if (s->nwit > 0 && seq < s->own_seen && !recover_pending(s->a)) {
		log_warn("sync with %s: it holds more of this office's feed than this office "
		    "(restored from a backup?): no witness records written", s->peer->name);
		s->nwit = 0;
	}
	if (s->nwit > 0 && !recover_pending(s->a) && sync_witness(s->a, s->wit, s->nwit) < 0)
		log_warn("cannot write witness records: %s", custody_error());
	free(s->wit);
	s->wit = NULL;
	s->nwit = 0;
}

/* Dial one peer, shake hands, pull; NULL on success or why not. */
const char *
sync_with_peer(struct archive *a, const struct peers_entry *peer, struct sync_result *res)
{
	static __thread struct session s;
	Custody__PeerHello h = CUSTODY__PEER_HELLO__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *msg;
	uint8_t *x_priv = NULL, x_pub[NOISE_KEY_LEN];
	struct msgq *q;
	uint64_t cut;
	int fd, ok = 0;

	memset(&s, 0, sizeof s);
	s.a = a;
	s.peer = peer;
	s.res = res;
	s.tail = &s.head;
	if (peer->address[0] == '\0')
		return "no address";
	if (revocations_cut(a, peer->pk, &cut)) {
		snprintf(s.why, sizeof s.why, "revoked (after its commit %llu): not dialled",
		    (unsigned long long)cut);
		return s.why;
	}
	if (handover_current(a, peer->pk, s.dial) < 0)
		log_warn("peer %s: its key handovers: %s", peer->name, custody_error());
	if ((x_priv = sodium_malloc(NOISE_KEY_LEN)) == NULL ||
	    noise_static_from_ed25519(x_priv, x_pub, a->office_sk) < 0 ||
	    (s.base = event_base_new()) == NULL ||
	    (s.timer = event_new(s.base, -1, EV_PERSIST, session_tick, &s)) == NULL) {
		snprintf(s.why, sizeof s.why, "cannot set up the channel");
		goto done;
	}
	if ((fd = session_connect(&s)) < 0)
		goto done;
	if ((s.ch = conn_noise_new(s.base, fd, s.dial, x_priv, a->sign_pk, session_authorize,
	    session_dispatch, &s)) == NULL) {
		snprintf(s.why, sizeof s.why, "cannot set up the channel");
		goto done;
	}
	if (conn_set_rate(s.ch, peer->rate) < 0) {
		snprintf(s.why, sizeof s.why, "cannot set up the channel");
		goto done;
	}
	h.office = a->conf.office;
	h.version = CUSTODY_PROTOCOL_VERSION;
	env.body_case = CUSTODY__ENVELOPE__BODY_PEER_HELLO;
	env.peer_hello = &h;
	if ((msg = session_call(&s, &env, CUSTODY__ENVELOPE__BODY_PEER_WELCOME, 0)) == NULL)
		goto done;
	wire_free(msg);
	/* records first, both ways: our pull takes the feeds that need no blob we lack, the peer
	 * pulls from us, then ours takes the rest (and the peer's witness of what it took) */
	s.records_first = 1;
	if (session_pull(&s, res) < 0 || sync_turn_give(&s, res) < 0 ||
	    (s.records_first = 0, session_pull(&s, res)) < 0) {
		if (s.why[0] == '\0')
			snprintf(s.why, sizeof s.why, "%s", custody_error());
		goto done;
	}
	ok = 1;
done:
	conn_free(s.ch);
	while ((q = s.head) != NULL) {
		s.head = q->next;
		wire_free(q->msg);
		free(q);
	}
	session_witness(&s);	/* what was taken before anything failed */
	if (s.timer != NULL)
		event_free(s.timer);
	if (s.base != NULL)
		event_base_free(s.base);
	sodium_free(x_priv);
	if (ok)
		return NULL;
	if (s.why[0] == '\0')
		snprintf(s.why, sizeof s.why, "failed");
	return s.why;
}
