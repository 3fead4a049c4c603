/*
 * The TCP listener for peers: Noise channels, pinned keys only.
 *
 * Connections are counted in two budgets that never compete. Strangers (still in the
 * handshake, not yet proven to be a pinned office) get LISTEN_MAX_STRANGERS slots, at most
 * LISTEN_MAX_PER_ADDR from one address (an IPv6 /64 counts as one address); a new stranger
 * that finds either full evicts the oldest stranger of the address holding the most, so the
 * listener never stops accepting and a crowd from a few addresses only ever pushes itself out.
 * Authenticated peers get LISTEN_MAX_PEERS slots, at most LISTEN_MAX_PER_OFFICE per office.
 * What strangers cause is logged a few lines at a time (LISTEN_LOG_BURST lines, then a summary
 * every LISTEN_LOG_EVERY seconds), never one line per connection.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "custody/conn.h"
#include "handover.h"
#include "log.h"
#include "peers.h"
#include "revocations.h"
#include "server.h"
#include "sync.h"
#include "sync-both.h"

#define LISTEN_MAX_PEERS 64		/* authenticated peers connected at once */
#define LISTEN_MAX_PER_OFFICE 4		/* of them, from one office */
#define LISTEN_MAX_STRANGERS 32		/* connections still in the handshake */
#define LISTEN_MAX_PER_ADDR 4		/* of them, from one address */
#define LISTEN_IDLE 300			/* seconds an authenticated peer may stay silent */
#define LISTEN_QUEUE 16			/* requests a peer may send ahead of the answers */
#define LISTEN_LOG_EVERY 10		/* seconds between two summaries about strangers */
#define LISTEN_LOG_BURST 10		/* lines about single strangers per summary period */
#define LISTEN_REVOKED_TTL 1		/* seconds a peer's revocation check holds on a session */

struct rconn {
	struct listen		*l;
	struct conn		*ch;
	char			 addr[NI_MAXHOST + NI_MAXSERV + 4];
	uint8_t			 akey[16];	/* the address, as counted (listen_addr_key) */
	int			 authed;	/* on l->peers (else on l->strangers) */
	int			 gone;
	int			 refs;		/* the loop's, and a replication job's */
	int			 busy;		/* a request is being answered */
	int			 hello;		/* its PeerHello was accepted */
	struct sync_stream	*stream;	/* a pack going out, waiting for the output to drain */
	Envelope		*queue[LISTEN_QUEUE];	/* requests waiting, in order */
	int			 nqueue;
	struct sync_relay	*relay;		/* its turn: we pull from it (sync-both.c) */
	int			 revoked;	/* the last revocation check of the office: */
	uint64_t		 revoked_cut;	/* its cut, when revoked */
	time_t			 revoked_at;	/* when (monotonic seconds; 0: never) */
	struct cbuf		 out;		/* room for the next answer, kept after blob data */
	TAILQ_ENTRY(rconn)	 entry;
};

TAILQ_HEAD(rconns, rconn);

struct listen {
	struct server		*s;
	int			 fd;
	struct event		*ev, *backoff_ev, *log_ev;
	uint8_t			*x_priv;	/* NOISE_KEY_LEN, sodium_malloc */
	uint8_t			 x_pub[NOISE_KEY_LEN];
	uint8_t			 x_for[ED25519_PK_LEN];	/* the signing key x_priv is of */
	uint8_t			*x_prev;	/* of the key before a rotation, NOISE_KEY_LEN */
	int			 has_prev;
	struct rconns		 strangers;	/* oldest first */
	size_t			 nstrangers;
	struct rconns		 peers;		/* authenticated, oldest first */
	size_t			 npeers;
	/* since the last summary: strangers evicted (the latest from where), lines not logged */
	unsigned long long	 evicted, suppressed;
	char			 evicted_from[NI_MAXHOST + NI_MAXSERV + 4];
	int			 lines;		/* lines about single strangers this period */
	int			 log_armed;	/* a summary is due when log_ev fires */
	int			 evicting;	/* evictions went on in the last period */
};

/* Take rc off whichever list holds it. */
static void
listen_unlink(struct listen *l, struct rconn *rc)
{
	if (rc->authed) {
		TAILQ_REMOVE(&l->peers, rc, entry);
		l->npeers--;
	} else {
		TAILQ_REMOVE(&l->strangers, rc, entry);
		l->nstrangers--;
	}
}

/* Start a summary period: the next summary is due in LISTEN_LOG_EVERY seconds. */
static void
listen_log_arm(struct listen *l)
{
	struct timeval tv = { LISTEN_LOG_EVERY, 0 };

	if (l->log_armed)
		return;
	l->log_armed = 1;
	evtimer_add(l->log_ev, &tv);
}

/* The period is over: sum up what was not logged line by line, and start a new one if any. */
static void
listen_log_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listen *l = arg;

	l->log_armed = 0;
	l->lines = 0;
	l->evicting = l->evicted > 0;
	if (l->evicted == 0 && l->suppressed == 0)
		return;
	if (l->evicted > 0)
		log_warn("evicted %llu unauthenticated peer connections in %d s (%d at most, %d "
		    "per address), the latest from %s", l->evicted, LISTEN_LOG_EVERY,
		    LISTEN_MAX_STRANGERS, LISTEN_MAX_PER_ADDR, l->evicted_from);
	if (l->suppressed > 0)
		log_info("%llu more lines about unauthenticated peer connections not logged",
		    l->suppressed);
	l->evicted = l->suppressed = 0;
	listen_log_arm(l);
}

/* A line about one stranger: logged while the period's burst lasts, then only counted. */
static void __attribute__((format(printf, 3, 4)))
listen_note(struct listen *l, int warn, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	listen_log_arm(l);
	if (l->lines >= LISTEN_LOG_BURST) {
		l->suppressed++;
		return;
	}
	l->lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (warn)
		log_warn("%s", line);
	else
		log_info("%s", line);
}

/* Drop a reference; the last frees the connection (never from inside its own callback). */
static void
listen_rconn_unref(struct rconn *rc)
{
	if (--rc->refs > 0)
		return;
	while (rc->nqueue > 0)
		wire_free(rc->queue[--rc->nqueue]);
	sync_stream_free(rc->stream);
	cbuf_free(&rc->out);
	conn_free(rc->ch);
	free(rc);
}

static void
listen_rconn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	listen_rconn_unref(arg);
}

/* Close a connection of ours at once (never its own channel's callback: from another's). */
static void
listen_drop(struct listen *l, struct rconn *rc)
{
	listen_unlink(l, rc);
	rc->gone = 1;
	listen_rconn_unref(rc);
}

/*
 * A peer proved its key: is it pinned, and is there room for it among the authenticated? It
 * then leaves the strangers' budget for the peers'. An office already holding
 * LISTEN_MAX_PER_OFFICE connections loses its oldest idle one (it is reconnecting).
 */
static const char *
listen_authorize(struct conn *ch, const uint8_t remote_ed[static 32], void *arg)
{
	struct rconn *rc = arg, *o, *idle = NULL;
	struct listen *l = rc->l;
	static __thread struct peers_entry e;	/* the loop thread only */
	uint8_t k[32];
	size_t same = 0;
	char *fp = NULL;

	uint8_t id[ED25519_PK_LEN];

	/* an office that rotated its key: known by its new key, never again by its old one */
	if (handover_handed_over(remote_ed)) {
		sshkey_fingerprint(&fp, remote_ed);
		listen_note(l, 1, "refused peer %s: key %s was handed over to a new key", rc->addr,
		    fp != NULL ? fp : "?");
		free(fp);
		return NULL;
	}
	if (peers_find_key(&e, remote_ed) < 0 && (handover_identity(remote_ed, id) < 0 ||
	    peers_find_key(&e, id) < 0)) {
		sshkey_fingerprint(&fp, remote_ed);
		listen_note(l, 1, "refused peer %s: key %s is not pinned", rc->addr,
		    fp != NULL ? fp : "?");
		free(fp);
		return NULL;
	}
	TAILQ_FOREACH(o, &l->peers, entry) {
		if (conn_remote_key(o->ch, k) < 0 || sodium_memcmp(k, remote_ed, 32) != 0)
			continue;
		same++;
		if (idle == NULL && o->refs == 1 && !o->busy)
			idle = o;
	}
	if (same >= LISTEN_MAX_PER_OFFICE && idle != NULL) {
		log_info("peer %s (%s) holds %zu connections: closing its oldest idle one (%s)",
		    e.name, rc->addr, same, idle->addr);
		listen_drop(l, idle);
		same--;
	}
	if (same >= LISTEN_MAX_PER_OFFICE || l->npeers >= LISTEN_MAX_PEERS) {
		log_warn("refused peer %s (%s): %s", e.name, rc->addr,
		    same >= LISTEN_MAX_PER_OFFICE ? "too many connections from this office, all "
		    "busy" : "too many peers connected");
		return NULL;
	}
	/* its bandwidth limit, from here on in both directions */
	if (conn_set_rate(ch, e.rate) < 0) {
		log_warn("refused peer %s (%s): out of memory", e.name, rc->addr);
		return NULL;
	}
	listen_unlink(l, rc);
	rc->authed = 1;
	TAILQ_INSERT_TAIL(&l->peers, rc, entry);
	l->npeers++;
	return e.name;
}

/* A replication request answered on a worker. */
struct serve_job {
	struct rconn	*rc;
	struct archive	*a;
	Envelope	*msg;		/* NULL: the next piece of st */
	struct sync_stream *st;		/* what remains of a pack */
	struct cbuf	 out;
	int		 error;
	char		 why[300];
	uint8_t		 pk[ED25519_PK_LEN];	/* the office asking */
	int		 has_pk;
	int		 check;		/* revocations are to be read (else revoked is known) */
	int		 revoked;
	uint64_t	 cut;
};

/* Monotonic seconds, never 0. */
static time_t
listen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1;
}

static void listen_serve_work(void *);
static void listen_serve_done(void *);
static void listen_serve_start(struct rconn *, Envelope *);

/* The piece of a pack sent last is written: read the next. */
static void
listen_stream_drained(void *arg)
{
	struct rconn *rc = arg;

	conn_on_drained(rc->ch, NULL, NULL);
	if (!rc->gone && rc->stream != NULL)
		listen_serve_start(rc, NULL);
}

/*
 * Answer a request on a worker (the answers go out in the order the requests came); msg NULL:
 * the next piece of the pack going out.
 */
static void
listen_serve_start(struct rconn *rc, Envelope *msg)
{
	struct serve_job *j;

	if ((j = calloc(1, sizeof *j)) == NULL) {
		conn_send_error(rc->ch, CUSTODY_ENOMEM, "out of memory");
		wire_free(msg);
		return;
	}
	j->rc = rc;
	j->a = rc->l->s->a;
	j->msg = msg;
	j->out = rc->out;	/* the room of the last blob answer, if any */
	rc->out = (struct cbuf){ 0 };
	if (msg == NULL) {
		j->st = rc->stream;
		rc->stream = NULL;
	}
	j->has_pk = conn_remote_key(rc->ch, j->pk) == 0;
	if (j->has_pk)	/* the office's identity, when it rotated its key */
		handover_identity(j->pk, j->pk);
	/*
	 * Whether the office is revoked is read once per LISTEN_REVOKED_TTL seconds of a session,
	 * not for every blob it asks for: a revocation that arrives during a session refuses its
	 * requests from then on, at most that long after.
	 */
	j->check = rc->revoked_at == 0 || listen_now() - rc->revoked_at >= LISTEN_REVOKED_TTL;
	j->revoked = rc->revoked;
	j->cut = rc->revoked_cut;
	rc->refs++;
	rc->busy = 1;
	pool_submit(rc->l->s->pool, listen_serve_work, listen_serve_done, j);
}

static void
listen_serve_work(void *arg)
{
	struct serve_job *j = arg;

	custody_error_clear();
	if (j->msg != NULL && j->has_pk && j->check)
		j->revoked = revocations_cut(j->a, j->pk, &j->cut);
	/* a request (not the next piece of a pack already being sent) from a revoked office */
	if (j->msg != NULL && (!j->has_pk || j->revoked))
		j->error = custody_fail(CUSTODY_EPERM, "this office is revoked (after its "
		    "commit %llu): no more sync with it", j->has_pk ? (unsigned long long)j->cut :
		    0ULL);
	else if (j->msg != NULL)
		j->error = sync_serve_stream(j->a, j->msg, &j->out, &j->st);
	else if ((j->error = sync_stream_next(j->st, &j->out)) >= 0) {
		if (j->error == 0) {
			sync_stream_free(j->st);
			j->st = NULL;
		}
		j->error = 0;
	}
	if (j->error < 0)
		snprintf(j->why, sizeof j->why, "%s", custody_error());
	archive_thread_done();
}

/* How the log names the office at the other end of ch: by its key. */
static const char *
listen_key(const struct conn *ch, char buf[static LOG_KEY_LEN])
{
	uint8_t pk[32];

	if (conn_remote_key(ch, pk) < 0)
		return "an unknown office";
	return log_key(buf, pk);
}

static void
listen_serve_done(void *arg)
{
	struct serve_job *j = arg;
	struct rconn *rc = j->rc;
	char lk[LOG_KEY_LEN];

	rc->busy = 0;
	if (j->msg != NULL && j->has_pk && j->check) {
		rc->revoked = j->revoked;
		rc->revoked_cut = j->cut;
		rc->revoked_at = listen_now();
	}
	/*
	 * A whole answer is sealed here on the loop: the next request waiting is read on a worker
	 * meanwhile (its answer is sealed after this one, in order, in its own done).
	 */
	if (!rc->gone && j->error >= 0 && j->st == NULL && rc->nqueue > 0) {
		Envelope *next = rc->queue[0];

		memmove(rc->queue, rc->queue + 1, --rc->nqueue * sizeof *rc->queue);
		listen_serve_start(rc, next);
	}
	if (!rc->gone) {
		if (j->error < 0) {
			log_warn("peer %s: %s: %s", listen_key(rc->ch, lk), j->msg != NULL ?
			    wire_name(j->msg) : "pack_data", j->why);
			conn_send_error(rc->ch, j->error, "%s", j->why);
		} else if (conn_send_frames(rc->ch, &j->out) < 0)
			conn_close_after_flush(rc->ch);
		else if (j->st != NULL) {	/* the next piece once this one is written */
			rc->stream = j->st;
			j->st = NULL;
			rc->busy = 1;
			conn_on_drained(rc->ch, listen_stream_drained, rc);
		}
	}
	if (!rc->gone && !rc->busy && rc->nqueue > 0) {
		Envelope *next = rc->queue[0];

		memmove(rc->queue, rc->queue + 1, --rc->nqueue * sizeof *rc->queue);
		listen_serve_start(rc, next);
	}
	/*
	 * Blob bytes are sealed at rest and go out as they lie: the room of a blob answer is kept
	 * for the next answer unwiped (a megabyte for every megabyte sent). Anything else may hold
	 * plaintext records and is wiped.
	 */
	if (j->msg != NULL && j->msg->body_case == CUSTODY__ENVELOPE__BODY_BLOB_REQUEST &&
	    rc->out.data == NULL) {
		j->out.len = 0;
		rc->out = j->out;
	} else
		cbuf_free(&j->out);
	sync_stream_free(j->st);
	wire_free(j->msg);
	free(j);
	listen_rconn_unref(rc);
}

/* Our pull from a peer that handed us the turn has ended. */
static void
listen_turn_done(void *arg)
{
	struct rconn *rc = arg;

	rc->relay = NULL;
	listen_rconn_unref(rc);
}

/*
 * A peer that pulled hands us the turn (SyncTurn): we pull from it over its channel. It may
 * not while a request of its own is still being answered, nor twice at once.
 */
static void
listen_turn(struct rconn *rc, Envelope *msg)
{
	struct server *s = rc->l->s;
	char lk[LOG_KEY_LEN];

	wire_free(msg);
	if (rc->relay != NULL || rc->busy || rc->nqueue > 0) {
		conn_send_error(rc->ch, CUSTODY_EPROTO, "sync_turn: not while requests of yours "
		    "are being answered");
		return;
	}
	log_info("peer %s (%s) hands over the turn", listen_key(rc->ch, lk), rc->addr);
	rc->refs++;
	if (sync_relay_start(&rc->relay, s->a, s->pool, s->base, rc->ch, listen_turn_done,
	    rc) < 0)
		conn_send_error(rc->ch, CUSTODY_ENOMEM, "out of memory");
	if (rc->relay == NULL)
		rc->refs--;
}

/* A message from a peer (NULL: gone). */
static void
listen_dispatch(struct conn *ch, Envelope *msg, void *arg)
{
	struct rconn *rc = arg;
	struct listen *l = rc->l;
	Custody__PeerWelcome w = CUSTODY__PEER_WELCOME__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	char lk[LOG_KEY_LEN];

	if (msg == NULL) {
		if (rc->relay != NULL)
			sync_relay_lost(rc->relay);
		if (!conn_established(ch))
			listen_note(l, 0, "peer connection from %s dropped: %s", rc->addr,
			    conn_error(ch));
		if (!rc->gone) {
			rc->gone = 1;
			listen_unlink(l, rc);
			event_base_once(l->s->base, -1, EV_TIMEOUT, listen_rconn_free_cb, rc,
			    NULL);
		}
		return;
	}
	if (rc->relay != NULL) {	/* its answers to our pull */
		if (sync_is_request(msg) || msg->body_case ==
		    CUSTODY__ENVELOPE__BODY_SYNC_TURN) {
			conn_send_error(ch, CUSTODY_EPROTO, "%s during our turn: refused",
			    wire_name(msg));
			wire_free(msg);
			sync_relay_lost(rc->relay);
			return;
		}
		sync_relay_push(rc->relay, msg);
		return;
	}
	if (msg->body_case == CUSTODY__ENVELOPE__BODY_SYNC_TURN && rc->hello) {
		listen_turn(rc, msg);
		return;
	}
	if (sync_is_request(msg) && !rc->hello) {
		log_warn("peer %s (%s): %s before PeerHello: refused", listen_key(ch, lk),
		    rc->addr, wire_name(msg));
		conn_send_error(ch, CUSTODY_EPROTO, "%s before PeerHello: refused",
		    wire_name(msg));
		wire_free(msg);
		return;
	}
	if (sync_is_request(msg)) {
		if (!rc->busy)
			listen_serve_start(rc, msg);
		else if (rc->nqueue < LISTEN_QUEUE)
			rc->queue[rc->nqueue++] = msg;
		else {
			conn_send_error(ch, CUSTODY_EPROTO, "too many requests ahead of the "
			    "answers");
			wire_free(msg);
		}
		return;
	}
	if (msg->body_case != CUSTODY__ENVELOPE__BODY_PEER_HELLO) {
		conn_send_error(ch, CUSTODY_EPROTO, "%s: not supported", wire_name(msg));
		wire_free(msg);
		return;
	}
	if (msg->peer_hello->version != CUSTODY_PROTOCOL_VERSION) {
		conn_send_error(ch, CUSTODY_EPROTO, "protocol version %u is not supported "
		    "(this office speaks %u)", msg->peer_hello->version,
		    CUSTODY_PROTOCOL_VERSION);
		wire_free(msg);
		return;
	}
	log_info("peer %s (%s) says hello", listen_key(ch, lk), rc->addr);
	rc->hello = 1;
	wire_free(msg);
	w.office = l->s->a->conf.office;
	env.body_case = CUSTODY__ENVELOPE__BODY_PEER_WELCOME;
	env.peer_welcome = &w;
	if (conn_send(ch, &env) < 0)
		conn_close_after_flush(ch);
}

/* The address a connection counts against: IPv4 (as ::ffff:a.b.c.d), or an IPv6 /64. */
static void
listen_addr_key(uint8_t key[static 16], const struct sockaddr_storage *ss)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *a6;

	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		memcpy(key, v4mapped, sizeof v4mapped);
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		memcpy(key, a6, memcmp(a6, v4mapped, sizeof v4mapped) == 0 ? 16 : 8);
	}
}

/*
 * Evict one stranger: the oldest from akey, or (akey NULL) the oldest from the address that
 * holds the most. The first eviction of a period is logged at once, the rest in its summary.
 */
static void
listen_evict(struct listen *l, const uint8_t *akey)
{
	struct rconn *rc, *o, *victim = NULL;
	size_t n, most = 0;

	TAILQ_FOREACH(rc, &l->strangers, entry) {
		if (akey != NULL) {
			if (memcmp(rc->akey, akey, sizeof rc->akey) == 0) {
				victim = rc;
				break;
			}
			continue;
		}
		n = 0;
		TAILQ_FOREACH(o, &l->strangers, entry)
			n += memcmp(o->akey, rc->akey, sizeof rc->akey) == 0;
		if (n > most) {
			most = n;
			victim = rc;
		}
	}
	if (victim == NULL)
		return;
	if (l->evicted++ == 0 && !l->evicting)
		log_warn("unauthenticated peer connections are over their budget (%d at most, %d "
		    "per address): evicting the oldest, first from %s", LISTEN_MAX_STRANGERS,
		    LISTEN_MAX_PER_ADDR, victim->addr);
	snprintf(l->evicted_from, sizeof l->evicted_from, "%s", victim->addr);
	listen_log_arm(l);
	listen_drop(l, victim);
}

static void
listen_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	struct listen *l = arg;

	if (!l->s->stopping)
		event_add(l->ev, NULL);
}

/*
 * The channel keys of this office's signing key and, after a rotation, of the key before it
 * (for peers that dial it, not having seen the handover yet).
 */
static int
listen_keys(struct listen *l)
{
	struct archive *a = l->s->a;
	uint8_t pub[NOISE_KEY_LEN];
	int error;

	if ((error = noise_static_from_ed25519(l->x_priv, l->x_pub, a->office_sk)) < 0)
		return error;
	memcpy(l->x_for, a->sign_pk, ED25519_PK_LEN);
	l->has_prev = a->has_prev && noise_static_from_ed25519(l->x_prev, pub, a->prev_sk) == 0;
	return 0;
}

/* Accept a peer, make room for it among the strangers, and start the handshake. */
static void
listen_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct listen *l = arg;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	uint8_t akey[16];
	struct timeval tv = { 1, 0 };
	struct rconn *rc;
	size_t same = 0;
	int fd;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) < 0) {
		if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
			return;
		/* out of descriptors: a stranger's makes room for the next try */
		if (l->nstrangers > 0) {
			listen_evict(l, NULL);
			return;
		}
		log_warn("accept on the peer port: %s; pausing for a second", strerror(errno));
		event_del(l->ev);
		evtimer_add(l->backoff_ev, &tv);
		return;
	}
	if (l->s->stopping) {
		close(fd);
		return;
	}
	listen_addr_key(akey, &ss);
	TAILQ_FOREACH(rc, &l->strangers, entry)
		same += memcmp(rc->akey, akey, sizeof akey) == 0;
	if (same >= LISTEN_MAX_PER_ADDR)
		listen_evict(l, akey);
	if (l->nstrangers >= LISTEN_MAX_STRANGERS)
		listen_evict(l, NULL);
	if ((rc = calloc(1, sizeof *rc)) == NULL) {
		close(fd);
		return;
	}
	memcpy(rc->akey, akey, sizeof rc->akey);
	if (getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof host, serv, sizeof serv,
	    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(rc->addr, sizeof rc->addr, "%s:%s", host, serv);
	else
		snprintf(rc->addr, sizeof rc->addr, "?");
	rc->l = l;
	rc->refs = 1;
	/* this office rotated its key: answer with the new one */
	if (memcmp(l->x_for, l->s->a->sign_pk, ED25519_PK_LEN) != 0)
		listen_keys(l);
	rc->ch = conn_noise_new(l->s->base, fd, NULL, l->x_priv, l->s->a->sign_pk,
	    listen_authorize, listen_dispatch, rc);
	if (rc->ch == NULL) {
		free(rc);
		return;
	}
	conn_set_timeout(rc->ch, LISTEN_IDLE);
	if (l->has_prev)
		conn_noise_set_fallback(rc->ch, l->x_prev);
	TAILQ_INSERT_TAIL(&l->strangers, rc, entry);
	l->nstrangers++;
}

/* Read the handovers of every pinned peer's feed, so that one that rotated its key is known. */
static void
listen_known_keys(struct archive *a)
{
	struct peers_entry *v = NULL;
	uint8_t cur[ED25519_PK_LEN];
	size_t n = 0, i;

	if (peers_list(&v, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		if (handover_current(a, v[i].pk, cur) < 0)
			log_warn("peer %s: its key handovers: %s", v[i].name, custody_error());
	free(v);
}

/* Listen on address (HOST:PORT) for peers, on the server's loop. */
int
listen_start(struct listen **out, struct server *s, const char *address, char **cause)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	struct listen *l;
	char host[256], port[8];
	int error, one = 1;

	*out = NULL;
	if (peers_split_address(host, sizeof host, port, sizeof port, address) < 0) {
		custody_cause(cause, "listen: %s", custody_error());
		return CUSTODY_EINVAL;
	}
	if ((l = calloc(1, sizeof *l)) == NULL || (l->x_priv = sodium_malloc(NOISE_KEY_LEN)) ==
	    NULL) {
		free(l);
		return CUSTODY_ENOMEM;
	}
	l->s = s;
	l->fd = -1;
	TAILQ_INIT(&l->strangers);
	TAILQ_INIT(&l->peers);
	if ((l->x_prev = sodium_malloc(NOISE_KEY_LEN)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto fail;
	}
	if ((error = listen_keys(l)) < 0) {
		custody_cause(cause, "the office key cannot make a channel key");
		goto fail;
	}
	listen_known_keys(s->a);
	if ((error = getaddrinfo(host, port, &hints, &ai)) != 0) {
		custody_cause(cause, "listen %s: %s", address, gai_strerror(error));
		error = CUSTODY_EINVAL;
		goto fail;
	}
	error = CUSTODY_EIO;
	if ((l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(l->fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(l->fd, 64) != 0) {
		custody_cause(cause, "cannot listen on %s: %s", address, strerror(errno));
		goto fail;
	}
	if ((l->ev = event_new(s->base, l->fd, EV_READ | EV_PERSIST, listen_accept, l)) ==
	    NULL) {
		error = CUSTODY_ENOMEM;
		goto fail;
	}
	if ((l->backoff_ev = evtimer_new(s->base, listen_resume_accept, l)) == NULL ||
	    (l->log_ev = evtimer_new(s->base, listen_log_cb, l)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto fail;
	}
	event_add(l->ev, NULL);
	freeaddrinfo(ai);
	log_info("listening for peers on %s", address);
	*out = l;
	return 0;
fail:
	if (ai != NULL)
		freeaddrinfo(ai);
	listen_stop(l);
	return error;
}

/* Close the listener and every peer connection; NULL is fine. */
void
listen_stop(struct listen *l)
{
	struct rconn *rc;

	if (l == NULL)
		return;
	while ((rc = TAILQ_FIRST(&l->strangers)) != NULL)
		listen_drop(l, rc);
	while ((rc = TAILQ_FIRST(&l->peers)) != NULL)
		listen_drop(l, rc);
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->backoff_ev != NULL)
		event_free(l->backoff_ev);
	if (l->log_ev != NULL)
		event_free(l->log_ev);
	if (l->fd >= 0)
		close(l->fd);
	sodium_free(l->x_priv);
	sodium_free(l->x_prev);
	free(l);
}
