/* The TCP listener for peers: Noise channels, pinned keys only, PeerHello for now. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "custody/channel.h"
#include "log.h"
#include "peers.h"
#include "server.h"
#include "sync.h"

#define LISTEN_MAX_CONNS 64		/* peers connected (or handshaking) at once */
#define LISTEN_IDLE 300			/* seconds an authenticated peer may stay silent */
#define LISTEN_QUEUE 16			/* requests a peer may send ahead of the answers */

struct rconn {
	struct listen		*l;
	struct channel		*ch;
	char			 addr[NI_MAXHOST + NI_MAXSERV + 4];
	int			 gone;
	int			 refs;		/* the loop's, and a replication job's */
	int			 busy;		/* a request is being answered */
	Envelope		*queue[LISTEN_QUEUE];	/* requests waiting, in order */
	int			 nqueue;
	TAILQ_ENTRY(rconn)	 entry;
};

struct listen {
	struct server		*s;
	int			 fd;
	struct event		*ev;
	uint8_t			*x_priv;	/* NOISE_KEY_LEN, sodium_malloc */
	uint8_t			 x_pub[NOISE_KEY_LEN];
	TAILQ_HEAD(, rconn)	 conns;
	size_t			 nconns;
};

/* Drop a reference; the last frees the connection (never from inside its own callback). */
static void
listen_rconn_unref(struct rconn *rc)
{
	if (--rc->refs > 0)
		return;
	while (rc->nqueue > 0)
		wire_free(rc->queue[--rc->nqueue]);
	channel_free(rc->ch);
	free(rc);
}

static void
listen_rconn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	listen_rconn_unref(arg);
}

/* A peer proved its key: is it pinned? */
static const char *
listen_authorize(struct channel *ch, const uint8_t remote_ed[static 32], void *arg)
{
	struct rconn *rc = arg;
	static __thread struct peers_entry e;	/* the loop thread only */
	char *fp = NULL;

	if (peers_find_key(&e, remote_ed) == 0)
		return e.name;
	sshkey_fingerprint(&fp, remote_ed);
	log_warn("refused peer %s: key %s is not pinned", rc->addr, fp != NULL ? fp : "?");
	free(fp);
	return NULL;
}

/* A replication request answered on a worker. */
struct serve_job {
	struct rconn	*rc;
	struct archive	*a;
	Envelope	*msg;
	struct cbuf	 out;
	int		 error;
	char		 why[300];
};

static void listen_serve_work(void *);
static void listen_serve_done(void *);

/* Answer a request on a worker (the answers go out in the order the requests came). */
static void
listen_serve_start(struct rconn *rc, Envelope *msg)
{
	struct serve_job *j;

	if ((j = calloc(1, sizeof *j)) == NULL) {
		channel_send_error(rc->ch, CUSTODY_ENOMEM, "out of memory");
		wire_free(msg);
		return;
	}
	j->rc = rc;
	j->a = rc->l->s->a;
	j->msg = msg;
	rc->refs++;
	rc->busy = 1;
	pool_submit(rc->l->s->pool, listen_serve_work, listen_serve_done, j);
}

static void
listen_serve_work(void *arg)
{
	struct serve_job *j = arg;

	custody_error_clear();
	if ((j->error = sync_serve(j->a, j->msg, &j->out)) < 0)
		snprintf(j->why, sizeof j->why, "%s", custody_error());
	archive_thread_done();
}

/* How the log names the office at the other end of ch: by its key. */
static const char *
listen_key(const struct channel *ch, char buf[static LOG_KEY_LEN])
{
	uint8_t pk[32];

	if (channel_remote_key(ch, pk) < 0)
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
	if (!rc->gone && rc->nqueue > 0) {
		Envelope *next = rc->queue[0];

		memmove(rc->queue, rc->queue + 1, --rc->nqueue * sizeof *rc->queue);
		listen_serve_start(rc, next);
	}
	if (!rc->gone) {
		if (j->error < 0) {
			log_warn("peer %s: %s: %s", listen_key(rc->ch, lk), wire_name(j->msg),
			    j->why);
			channel_send_error(rc->ch, j->error, "%s", j->why);
		} else if (channel_send_frames(rc->ch, &j->out) < 0)
			channel_close_after_flush(rc->ch);
	}
	wire_free(j->msg);
	cbuf_free(&j->out);
	free(j);
	listen_rconn_unref(rc);
}

/* A message from a peer (NULL: gone). */
static void
listen_dispatch(struct channel *ch, Envelope *msg, void *arg)
{
	struct rconn *rc = arg;
	struct listen *l = rc->l;
	Custody__PeerWelcome w = CUSTODY__PEER_WELCOME__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	char lk[LOG_KEY_LEN];

	if (msg == NULL) {
		if (!channel_established(ch))
			log_info("peer connection from %s dropped: %s", rc->addr,
			    channel_error(ch));
		if (!rc->gone) {
			rc->gone = 1;
			TAILQ_REMOVE(&l->conns, rc, entry);
			l->nconns--;
			event_base_once(l->s->base, -1, EV_TIMEOUT, listen_rconn_free_cb, rc,
			    NULL);
		}
		return;
	}
	if (sync_is_request(msg)) {
		if (!rc->busy)
			listen_serve_start(rc, msg);
		else if (rc->nqueue < LISTEN_QUEUE)
			rc->queue[rc->nqueue++] = msg;
		else {
			channel_send_error(ch, CUSTODY_EPROTO, "too many requests ahead of the "
			    "answers");
			wire_free(msg);
		}
		return;
	}
	if (msg->body_case != CUSTODY__ENVELOPE__BODY_PEER_HELLO) {
		channel_send_error(ch, CUSTODY_EPROTO, "%s: not supported", wire_name(msg));
		wire_free(msg);
		return;
	}
	if (msg->peer_hello->version != CUSTODY_PROTOCOL_VERSION) {
		channel_send_error(ch, CUSTODY_EPROTO, "protocol version %u is not supported "
		    "(this office speaks %u)", msg->peer_hello->version,
		    CUSTODY_PROTOCOL_VERSION);
		wire_free(msg);
		return;
	}
	log_info("peer %s (%s) says hello", listen_key(ch, lk), rc->addr);
	wire_free(msg);
	w.office = l->s->a->conf.office;
	env.body_case = CUSTODY__ENVELOPE__BODY_PEER_WELCOME;
	env.peer_welcome = &w;
	if (channel_send(ch, &env) < 0)
		channel_close_after_flush(ch);
}

/* Accept a peer and start the handshake. */
static void
listen_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct listen *l = arg;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct rconn *rc;
	int fd;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) < 0)
		return;
	if (l->nconns >= LISTEN_MAX_CONNS || l->s->stopping ||
	    (rc = calloc(1, sizeof *rc)) == NULL) {
		close(fd);
		return;
	}
	if (getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof host, serv, sizeof serv,
	    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(rc->addr, sizeof rc->addr, "%s:%s", host, serv);
	else
		snprintf(rc->addr, sizeof rc->addr, "?");
	rc->l = l;
	rc->refs = 1;
	rc->ch = channel_new(l->s->base, fd, false, l->x_priv, l->s->a->office_pk,
	    listen_authorize, listen_dispatch, rc);
	if (rc->ch == NULL) {
		free(rc);
		return;
	}
	channel_set_timeout(rc->ch, LISTEN_IDLE);
	TAILQ_INSERT_TAIL(&l->conns, rc, entry);
	l->nconns++;
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
		asprintf(cause, "listen: %s", custody_error());
		return CUSTODY_EINVAL;
	}
	if ((l = calloc(1, sizeof *l)) == NULL || (l->x_priv = sodium_malloc(NOISE_KEY_LEN)) ==
	    NULL) {
		free(l);
		return CUSTODY_ENOMEM;
	}
	l->s = s;
	l->fd = -1;
	TAILQ_INIT(&l->conns);
	if ((error = noise_static_from_ed25519(l->x_priv, l->x_pub, s->a->office_sk)) < 0) {
		asprintf(cause, "the office key cannot make a channel key");
		goto fail;
	}
	if ((error = getaddrinfo(host, port, &hints, &ai)) != 0) {
		asprintf(cause, "listen %s: %s", address, gai_strerror(error));
		error = CUSTODY_EINVAL;
		goto fail;
	}
	error = CUSTODY_EIO;
	if ((l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(l->fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(l->fd, 64) != 0) {
		asprintf(cause, "cannot listen on %s: %s", address, strerror(errno));
		goto fail;
	}
	if ((l->ev = event_new(s->base, l->fd, EV_READ | EV_PERSIST, listen_accept, l)) ==
	    NULL) {
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
	while ((rc = TAILQ_FIRST(&l->conns)) != NULL) {
		TAILQ_REMOVE(&l->conns, rc, entry);
		rc->gone = 1;
		listen_rconn_unref(rc);
	}
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->fd >= 0)
		close(l->fd);
	sodium_free(l->x_priv);
	free(l);
}
