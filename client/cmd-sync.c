/* custody sync [NAME]: have the daemon talk to one peer, or all (for now: handshake, hello). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"

static int cmd_sync_exec(const struct cmd_ctx *, const struct cmd_args *);

/* In cmd-peer.c: print peers as `custody peers` does. */
void cmd_peer_print(const struct cmd_ctx *, Custody__PeerInfo **, size_t);

const struct cmd_entry cmd_sync_entry = {
	.name = "sync",
	.usage = "[NAME]",
	.help = "Connect to a peer office (or every peer) and report how it went.",
	.lower = 0,
	.upper = 1,
	.exec = cmd_sync_exec,
};

/* Ask the daemon to sync; exit 1 when any peer failed. */
static int
cmd_sync_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__SyncRequest q = CUSTODY__SYNC_REQUEST__INIT;
	const Custody__SyncReply *sr;
	struct client c;
	size_t i;
	int failed = 0;

	q.name = args->argc > 0 ? args->argv[0] : "";
	req.body_case = CUSTODY__ENVELOPE__BODY_SYNC_REQUEST;
	req.sync_request = &q;
	client_open(&c, ctx);
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_SYNC_REPLY);
	sr = reply->sync_reply;
	for (i = 0; i < sr->n_peers; i++) {
		if (*sr->peers[i]->last_error != '\0') {
			failed = 1;
			client_warn("sync with %s failed: %s", sr->peers[i]->name,
			    sr->peers[i]->last_error);
		}
	}
	cmd_peer_print(ctx, sr->peers, sr->n_peers);
	wire_free(reply);
	client_close(&c);
	if (client_finish_stdout() != 0)
		return 1;
	return failed;
}
