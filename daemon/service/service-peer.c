/* Admin requests about peers: pin, unpin, list, and sync (for now: handshake and PeerHello). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "custody/conn.h"
#include "log.h"
#include "peers.h"
#include "revocations.h"
#include "server.h"
#include "sync.h"


/* Fill info from a registry entry (fingerprint allocated: free it). */
static void
service_peer_info(Custody__PeerInfo *info, struct archive *a, const struct peers_entry *e)
{
	uint64_t cut = 0;

	custody__peer_info__init(info);
	info->name = (char *)e->name;
	info->address = (char *)e->address;
	if (sshkey_fingerprint(&info->fingerprint, e->pk) < 0)
		info->fingerprint = NULL;
	info->last_success = e->last_success;
	info->last_attempt = e->last_attempt;
	info->last_error = (char *)e->last_error;
	info->behind = e->last_success ? e->behind : -1;
	if ((info->revoked = revocations_cut(a, e->pk, &cut)))
		info->revoked_after = cut;
}

/* Reply with the peers in v (as PeersReply, or SyncReply when sync). */
static int
service_peer_reply(struct request *r, const struct peers_entry *v, size_t n, int sync,
    const struct sync_result *res)
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
		service_peer_info(&infos[i], r->c->s->a, &v[i]);
		ptrs[i] = &infos[i];
	}
	if (sync) {
		sr.n_peers = n;
		sr.peers = ptrs;
		if (res != NULL) {
			sr.moved = res->moved;
			sr.n_moved = res->nmoved;
			sr.forks = res->forks;
			sr.n_forks = res->nforks;
		}
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
	error = service_peer_reply(r, v, n, 0, NULL);
	free(v);
	return error;
}

/* peer add NAME HOST:PORT KEY (the same key again: a new address); peer set (no key) */
int
service_peer_add(struct request *r)
{
	const Custody__PeerAddRequest *q = r->msg->peer_add_request;
	uint8_t pk[ED25519_PK_LEN];
	int error;

	if (q->address[0] == '\0')
		return custody_fail(CUSTODY_EINVAL, "a peer needs an address (HOST:PORT)");
	if (q->key[0] == '\0')
		error = peers_set_address(r->c->s->a, q->name, q->address);
	else if (sshkey_parse_pub(pk, NULL, q->key) < 0)
		return custody_fail(CUSTODY_EINVAL, "the key is not an ssh-ed25519 public key");
	else
		error = peers_add(r->c->s->a, q->name, q->address, pk);
	if (error < 0)
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

/* sync [NAME]: talk to one peer or all with an address; reply with the outcomes. */
int
service_sync(struct request *r)
{
	const char *name = r->msg->sync_request->name, *why;
	char lk[LOG_KEY_LEN];
	struct peers_entry *v = NULL, one;
	struct sync_result res = { .done = &r->progress_done, .total = &r->progress_total };
	size_t n, i, k = 0;
	int error;

	if (name != NULL && name[0] != '\0') {
		if (peers_find_name(&one, name) < 0)
			return custody_fail(CUSTODY_ENOTFOUND, "no peer called %.64s", name);
		if (one.address[0] == '\0')
			return custody_fail(CUSTODY_EINVAL, "peer %s has no address: it dials this "
			    "office (custody peer set %s --address HOST:PORT to dial it)", name,
			    name);
		if ((v = malloc(sizeof *v)) == NULL)
			return CUSTODY_ENOMEM;
		v[0] = one;
		n = 1;
	} else if ((error = peers_list(&v, &n)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		size_t forks = res.nforks;

		if (v[i].address[0] == '\0' && (name == NULL || name[0] == '\0'))
			continue;
		why = sync_with_peer(r->c->s->a, &v[i], &res);
		if (why == NULL && res.nforks > forks)
			why = res.forks[res.nforks - 1];	/* a fork is news for the operator */
		peers_record(v[i].name, why);
		if (why != NULL)
			log_warn("sync with %s: %s", log_key(lk, v[i].pk), res.nforks > forks ?
			    "a feed forked" : why);
		else
			log_info("sync with %s done", log_key(lk, v[i].pk));
		if (peers_find_name(&v[k], v[i].name) == 0)
			k++;
	}
	error = service_peer_reply(r, v, k, 1, &res);
	sync_result_free(&res);
	free(v);
	return error;
}
