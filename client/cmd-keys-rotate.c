/* custody keys rotate: a new office signing key, handed over to in the office's own feed. */
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"

static int cmd_keys_rotate_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_keys_rotate_entry = {
	.name = "keys rotate",
	.usage = "",
	.help = "Make a new office signing key: a handover commit signed by the old key names it, "
	    "and it signs everything after (admin). Make new recovery shares afterwards.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_keys_rotate_exec,
};

static int
cmd_keys_rotate_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__KeysRotateRequest kr = CUSTODY__KEYS_ROTATE_REQUEST__INIT;
	const Custody__KeysRotateReply *r;
	struct client c;
	json_t *o;

	(void)args;
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_REQUEST;
	req.keys_rotate_request = &kr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_REPLY);
	r = reply->keys_rotate_reply;
	if (ctx->json) {
		o = json_object();
		client_json_str(o, "public_key", r->public_key);
		client_json_str(o, "fingerprint", r->fingerprint);
		client_json_u64(o, "handover_seq", r->seq);
		client_json_str(o, "identity", r->identity);
		client_json_print(o);
	} else {
		fputs("new signing key: ", stdout);
		client_print_padded(stdout, r->public_key, 0);
		fputs("\nfingerprint: ", stdout);
		client_print_padded(stdout, r->fingerprint, 0);
		printf("\nhandover: commit %llu of this office's feed, signed by the old key\n",
		    (unsigned long long)r->seq);
		fputs("the office is still known by its first key: ", stdout);
		client_print_padded(stdout, r->identity, 0);
		puts("\nrecovery shares made before now hold the old key: make new ones "
		    "(custody keys split)");
	}
	wire_free(reply);
	client_close(&c);
	return 0;
}
