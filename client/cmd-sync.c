/* custody sync [NAME]: pull from one peer, or all, what they hold that we lack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"

static int cmd_sync_exec(const struct cmd_ctx *, const struct cmd_args *);


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
	q.progress = !ctx->json && isatty(STDERR_FILENO);
	req.body_case = CUSTODY__ENVELOPE__BODY_SYNC_REQUEST;
	req.sync_request = &q;
	client_open(&c, ctx);
	if (q.progress) {
		if (client_send(&c, &req, NULL, 0) < 0)
			client_fatal("%s", custody_error());
		reply = client_wait(&c, CUSTODY__ENVELOPE__BODY_SYNC_REPLY, "of evidence");
	} else
		reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_SYNC_REPLY);
	sr = reply->sync_reply;
	for (i = 0; i < sr->n_peers; i++) {
		if (*sr->peers[i]->last_error != '\0') {
			failed = 1;
			if (!ctx->json) {
				char *why = client_safe(sr->peers[i]->last_error);

				client_warn("sync with %s: %s", sr->peers[i]->name, why);
				free(why);
			}
		}
	}
	if (sr->n_forks > 0)
		failed = 1;
	if (ctx->json) {
		json_t *o = json_object(), *moved = json_array(), *forks = json_array(),
		    *peers = json_array();

		for (i = 0; i < sr->n_moved; i++)
			json_array_append_new(moved, json_string(sr->moved[i]));
		for (i = 0; i < sr->n_forks; i++)
			json_array_append_new(forks, json_string(sr->forks[i]));
		for (i = 0; i < sr->n_peers; i++)
			json_array_append_new(peers, json_pack("{s:s,s:s,s:b}", "name",
			    sr->peers[i]->name, "last_error", sr->peers[i]->last_error, "ok",
			    *sr->peers[i]->last_error == '\0'));
		json_object_set_new(o, "peers", peers);
		json_object_set_new(o, "moved", moved);
		json_object_set_new(o, "forks", forks);
		client_json_print(o);
	} else {
		for (i = 0; i < sr->n_moved + sr->n_forks; i++) {
			char *line = client_safe(i < sr->n_moved ? sr->moved[i] :
			    sr->forks[i - sr->n_moved]);

			printf("%s%s\n", i < sr->n_moved ? "" : "FORK refused: ", line);
			free(line);
		}
		if (sr->n_moved == 0 && sr->n_forks == 0 && !failed)
			printf("nothing new\n");
	}
	wire_free(reply);
	client_close(&c);
	if (client_finish_stdout() != 0)
		return 1;
	return failed;
}
