/* custody peer add / peer set / peer remove / peers: the offices this archive syncs with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"

static int cmd_peer_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_peer_set_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_peer_remove_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_peers_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_peer_add_entry = {
	.name = "peer add",
	.usage = "NAME HOST:PORT \"ssh-ed25519 AAAA...\"",
	.help = "Pin a peer office's key and address in custody.conf (a peer already pinned "
	    "with that key gets the new address; another key: peer remove first).",
	.lower = 3,
	.upper = 3,
	.exec = cmd_peer_add_exec,
};

static const struct option cmd_peer_set_options[] = {
	{ "address", required_argument, NULL, 'a' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_peer_set_entry = {
	.name = "peer set",
	.usage = "NAME --address HOST:PORT",
	.help = "Change a pinned peer office's address in custody.conf (its key stays); the "
	    "next sync dials it there.",
	.optstring = "a:",
	.options = cmd_peer_set_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_peer_set_exec,
};

const struct cmd_entry cmd_peer_remove_entry = {
	.name = "peer remove",
	.usage = "NAME",
	.help = "Unpin a peer office.",
	.lower = 1,
	.upper = 1,
	.exec = cmd_peer_remove_exec,
};

const struct cmd_entry cmd_peers_entry = {
	.name = "peers",
	.usage = "",
	.help = "List peer offices: address, key, last success and last error.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_peers_exec,
};

/* Print peers (as `custody peers` and `custody sync` show them). */
static void
cmd_peer_print(const struct cmd_ctx *ctx, Custody__PeerInfo **peers, size_t n)
{
	json_t *arr, *o;
	char buf[64];
	size_t i;

	if (ctx->json) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			o = json_object();
			client_json_str(o, "name", peers[i]->name);
			client_json_str(o, "address", peers[i]->address);
			client_json_str(o, "fingerprint", peers[i]->fingerprint);
			client_json_i64(o, "last_success", peers[i]->last_success);
			client_json_i64(o, "last_attempt", peers[i]->last_attempt);
			client_json_str(o, "last_error", peers[i]->last_error);
			client_json_i64(o, "behind", peers[i]->behind);
			json_object_set_new(o, "revoked", json_boolean(peers[i]->revoked));
			if (peers[i]->revoked)
				client_json_i64(o, "revoked_after",
				    (int64_t)peers[i]->revoked_after);
			json_array_append_new(arr, o);
		}
		client_json_print(arr);
		return;
	}
	if (n == 0)
		printf("no peers (custody peer add NAME HOST:PORT KEY)\n");
	for (i = 0; i < n; i++) {
		client_print_padded(stdout, peers[i]->name, 12);
		putchar(' ');
		client_print_padded(stdout, *peers[i]->address ? peers[i]->address : "-", 22);
		putchar(' ');
		client_print_padded(stdout, peers[i]->fingerprint, 0);
		printf("\n  last success: %s\n", peers[i]->last_success ? client_time(buf,
		    sizeof buf, peers[i]->last_success) : "never");
		fputs("  last error:   ", stdout);
		client_print_padded(stdout, *peers[i]->last_error ? peers[i]->last_error : "-", 0);
		if (peers[i]->behind < 0)
			printf("\n  behind:       unknown (not synced yet)\n");
		else
			printf("\n  behind:       %lld commit%s of our feeds\n",
			    (long long)peers[i]->behind, peers[i]->behind == 1 ? "" : "s");
		if (peers[i]->revoked)
			printf("  REVOKED:      after its commit %llu; no sync with it\n",
			    (unsigned long long)peers[i]->revoked_after);
	}
}

/* Send req, print the peers of the PeersReply. */
static int
cmd_peer_call(const struct cmd_ctx *ctx, Envelope *req)
{
	struct client c;
	Envelope *reply;

	client_open(&c, ctx);
	reply = client_call(&c, req, NULL, 0, CUSTODY__ENVELOPE__BODY_PEERS_REPLY);
	cmd_peer_print(ctx, reply->peers_reply->peers, reply->peers_reply->n_peers);
	wire_free(reply);
	client_close(&c);
	return client_finish_stdout();
}

static int
cmd_peer_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__PeerAddRequest q = CUSTODY__PEER_ADD_REQUEST__INIT;

	if (strncmp(args->argv[2], "ssh-ed25519 ", 12) != 0)
		cmd_usage_error(args->entry, "the key must be an \"ssh-ed25519 AAAA...\" line "
		    "(as custody keys show prints it)");
	q.name = args->argv[0];
	q.address = args->argv[1];
	q.key = args->argv[2];
	req.body_case = CUSTODY__ENVELOPE__BODY_PEER_ADD_REQUEST;
	req.peer_add_request = &q;
	return cmd_peer_call(ctx, &req);
}

static int
cmd_peer_set_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__PeerAddRequest q = CUSTODY__PEER_ADD_REQUEST__INIT;
	const char *address = cmd_get(args, 'a');

	if (address == NULL || address[0] == '\0')
		cmd_usage_error(args->entry, "--address HOST:PORT is required");
	q.name = args->argv[0];
	q.address = (char *)address;
	q.key = (char *)"";	/* no key: change the address of the peer pinned as name */
	req.body_case = CUSTODY__ENVELOPE__BODY_PEER_ADD_REQUEST;
	req.peer_add_request = &q;
	return cmd_peer_call(ctx, &req);
}

static int
cmd_peer_remove_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__PeerRemoveRequest q = CUSTODY__PEER_REMOVE_REQUEST__INIT;

	q.name = args->argv[0];
	req.body_case = CUSTODY__ENVELOPE__BODY_PEER_REMOVE_REQUEST;
	req.peer_remove_request = &q;
	return cmd_peer_call(ctx, &req);
}

static int
cmd_peers_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__PeersRequest q = CUSTODY__PEERS_REQUEST__INIT;

	req.body_case = CUSTODY__ENVELOPE__BODY_PEERS_REQUEST;
	req.peers_request = &q;
	return cmd_peer_call(ctx, &req);
}
