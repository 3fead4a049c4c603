/* Admin requests about peers: pin, unpin, list, and sync (for now: handshake and PeerHello). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "custody/channel.h"
#include "log.h"
#include "peers.h"
#include "server.h"

#define SYNC_TIMEOUT 20		/* seconds for one peer: connect, handshake, hello */

/* One outgoing session, run on a worker thread with its own event loop. */
struct sync_try {
	struct event_base		*base;
	const struct peers_entry	*peer;
	const char			*office;	/* ours */
	char				 why[300];	/* "" while all is well */
	int				 ok, done;
};

/* Fill info from a registry entry (fingerprint allocated: free it). */
static void
service_peer_info(Custody__PeerInfo *info, const struct peers_entry *e)
{
	custody__peer_info__init(info);
	info->name = (char *)e->name;
	info->address = (char *)e->address;
	if (sshkey_fingerprint(&info->fingerprint, e->pk) < 0)
		info->fingerprint = NULL;
	info->last_success = e->last_success;
	info->last_attempt = e->last_attempt;
	info->last_error = (char *)e->last_error;
	info->behind = -1;	/* feeds are not replicated yet */
}

/* Reply with the peers in v (as PeersReply, or SyncReply when sync). */
static int
service_peer_reply(struct request *r, const struct peers_entry *v, size_t n, int sync)
{
	Custody__PeersReply pr = CUSTODY__PEERS_REPLY__INIT;
	Custody__SyncReply sr = CUSTODY__SYNC_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__PeerInfo *infos, **ptrs;
	size_t i;
	int error;

	infos = calloc(n + 1, sizeof *infos);
	ptrs = calloc(n + 1, sizeof *ptrs);
	if (infos == NULL || ptrs == NULL) {
		free(infos);
		free(ptrs);
		return CUSTODY_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		service_peer_info(&infos[i], &v[i]);
		ptrs[i] = &infos[i];
	}
	if (sync) {
		sr.n_peers = n;
		sr.peers = ptrs;
		env.body_case = CUSTODY__ENVELOPE__BODY_SYNC_REPLY;
		env.sync_reply = &sr;
	} else {
		pr.n_peers = n;
		pr.peers = ptrs;
		env.body_case = CUSTODY__ENVELOPE__BODY_PEERS_REPLY;
		env.peers_reply = &pr;
	}
	error = server_reply(r, &env);
	for (i = 0; i < n; i++)
		free(infos[i].fingerprint);
	free(infos);
	free(ptrs);
	return error;
}

/* Reply with the whole registry. */
static int
service_peer_list_reply(struct request *r)
{
	struct peers_entry *v;
	size_t n;
	int error;

	if ((error = peers_list(&v, &n)) < 0)
		return error;
	error = service_peer_reply(r, v, n, 0);
	free(v);
	return error;
}

/* peer add NAME HOST:PORT KEY */
int
service_peer_add(struct request *r)
{
	const Custody__PeerAddRequest *q = r->msg->peer_add_request;
	uint8_t pk[ED25519_PK_LEN];
	int error;

	if (sshkey_parse_pub(pk, NULL, q->key) < 0)
		return custody_fail(CUSTODY_EINVAL, "the key is not an ssh-ed25519 public key");
	if ((error = peers_add(r->c->s->a, q->name, q->address, pk)) < 0)
		return error;
	return service_peer_list_reply(r);
}

/* peer remove NAME */
int
service_peer_remove(struct request *r)
{
	int error;

	if ((error = peers_remove(r->c->s->a, r->msg->peer_remove_request->name)) < 0)
		return error;
	return service_peer_list_reply(r);
}

/* peers */
int
service_peers(struct request *r)
{
	return service_peer_list_reply(r);
}

/* Is the responder the office we dialled? */
static const char *
service_sync_authorize(struct channel *ch, const uint8_t remote_ed[static 32], void *arg)
{
	struct sync_try *t = arg;
	char *got = NULL, *want = NULL;

	if (sodium_memcmp(remote_ed, t->peer->pk, ED25519_PK_LEN) == 0)
		return t->peer->name;
	sshkey_fingerprint(&got, remote_ed);
	sshkey_fingerprint(&want, t->peer->pk);
	snprintf(t->why, sizeof t->why, "refused: %s presented key %s, not the pinned %s",
	    t->peer->address, got ? got : "?", want ? want : "?");
	free(got);
	free(want);
	return NULL;
}

/* The peer's answer to our PeerHello (NULL: the channel is gone). */
static void
service_sync_dispatch(struct channel *ch, Envelope *msg, void *arg)
{
	struct sync_try *t = arg;

	if (msg == NULL) {
		if (!t->done && t->why[0] == '\0')
			snprintf(t->why, sizeof t->why, "%s", channel_error(ch));
	} else if (msg->body_case == CUSTODY__ENVELOPE__BODY_PEER_WELCOME)
		t->ok = 1;
	else if (msg->body_case == CUSTODY__ENVELOPE__BODY_ERROR)
		snprintf(t->why, sizeof t->why, "%s refused: %s", t->peer->name,
		    msg->error->message);
	else
		snprintf(t->why, sizeof t->why, "%s sent an unexpected %s", t->peer->name,
		    wire_name(msg));
	wire_free(msg);
	t->done = 1;
	event_base_loopbreak(t->base);
}

static void
service_sync_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sync_try *t = arg;

	snprintf(t->why, sizeof t->why, "timed out after %d seconds", SYNC_TIMEOUT);
	t->done = 1;
	event_base_loopbreak(t->base);
}

/* A connected (or connecting) socket to the peer's address; -1 with t->why set. */
static int
service_sync_connect(struct sync_try *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[256], port[8];
	int fd = -1, error;

	if (peers_split_address(host, sizeof host, port, sizeof port, t->peer->address) < 0) {
		snprintf(t->why, sizeof t->why, "%s", custody_error());
		return -1;
	}
	if ((error = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(t->why, sizeof t->why, "%s: %s", t->peer->address, gai_strerror(error));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)) {
		snprintf(t->why, sizeof t->why, "connect %s: %s", t->peer->address,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Dial one peer, shake hands, say hello; NULL on success or why not (in t->why). */
static const char *
service_sync_one(struct archive *a, const struct peers_entry *peer)
{
	static __thread struct sync_try t;
	Custody__PeerHello h = CUSTODY__PEER_HELLO__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct timeval tv = { SYNC_TIMEOUT, 0 };
	struct channel *ch = NULL;
	struct event *timer = NULL;
	uint8_t *x_priv, x_pub[NOISE_KEY_LEN];
	int fd;

	memset(&t, 0, sizeof t);
	t.peer = peer;
	t.office = a->conf.office;
	if (peer->address[0] == '\0')
		return "no address";
	if ((x_priv = sodium_malloc(NOISE_KEY_LEN)) == NULL ||
	    noise_static_from_ed25519(x_priv, x_pub, a->office_sk) < 0 ||
	    (t.base = event_base_new()) == NULL) {
		snprintf(t.why, sizeof t.why, "cannot set up the channel");
		goto done;
	}
	if ((fd = service_sync_connect(&t)) < 0)
		goto done;
	if ((ch = channel_new(t.base, fd, true, x_priv, a->office_pk, service_sync_authorize,
	    service_sync_dispatch, &t)) == NULL) {
		snprintf(t.why, sizeof t.why, "cannot set up the channel");
		goto done;
	}
	h.office = a->conf.office;
	h.version = CUSTODY_PROTOCOL_VERSION;
	env.body_case = CUSTODY__ENVELOPE__BODY_PEER_HELLO;
	env.peer_hello = &h;
	channel_send(ch, &env);
	timer = evtimer_new(t.base, service_sync_timeout, &t);
	evtimer_add(timer, &tv);
	while (!t.done && event_base_dispatch(t.base) == 0)
		;
done:
	channel_free(ch);
	if (timer != NULL)
		event_free(timer);
	if (t.base != NULL)
		event_base_free(t.base);
	sodium_free(x_priv);
	if (t.ok)
		return NULL;
	if (t.why[0] == '\0')
		snprintf(t.why, sizeof t.why, "failed");
	return t.why;
}

/* sync [NAME]: talk to one peer or all with an address; reply with the outcomes. */
int
service_sync(struct request *r)
{
	const char *name = r->msg->sync_request->name, *why;
	struct peers_entry *v = NULL, one;
	size_t n, i, k = 0;
	int error;

	if (name != NULL && name[0] != '\0') {
		if (peers_find_name(&one, name) < 0)
			return custody_fail(CUSTODY_ENOTFOUND, "no peer called %.64s", name);
		if ((v = malloc(sizeof *v)) == NULL)
			return CUSTODY_ENOMEM;
		v[0] = one;
		n = 1;
	} else if ((error = peers_list(&v, &n)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		if (v[i].address[0] == '\0' && (name == NULL || name[0] == '\0'))
			continue;
		why = service_sync_one(r->c->s->a, &v[i]);
		peers_record(v[i].name, why);
		if (why != NULL)
			log_warn("sync with %s failed: %s", v[i].name, why);
		else
			log_info("sync with %s: hello exchanged", v[i].name);
		if (peers_find_name(&v[k], v[i].name) == 0)
			k++;
	}
	error = service_peer_reply(r, v, k, 1);
	free(v);
	return error;
}
