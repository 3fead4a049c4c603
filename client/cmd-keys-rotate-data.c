/* custody keys rotate-data: the next data-key epoch, sealed to every office not revoked. */
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"

static int cmd_keys_rotate_data_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_keys_rotate_data_entry = {
	.name = "keys rotate-data",
	.usage = "",
	.help = "Make the next data-key epoch, sealed to this office and every admitted office "
	    "not revoked; new records and files use it, old ones stay as they are (admin).",
	.lower = 0,
	.upper = 0,
	.exec = cmd_keys_rotate_data_exec,
};

/* Ask for the rotation; print the epoch and the offices it was sealed to. */
static int
cmd_keys_rotate_data_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__KeysRotateDataRequest kr = CUSTODY__KEYS_ROTATE_DATA_REQUEST__INIT;
	const Custody__KeysRotateDataReply *r;
	struct client c;
	json_t *o, *offices;
	size_t i;

	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_DATA_REQUEST;
	req.keys_rotate_data_request = &kr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_DATA_REPLY);
	r = reply->keys_rotate_data_reply;
	if (ctx->json) {
		o = json_object();
		offices = json_array();
		for (i = 0; i < r->n_offices; i++)
			json_array_append_new(offices, json_string(r->offices[i]));
		client_json_u64(o, "epoch", r->epoch);
		client_json_u64(o, "seq", r->seq);
		json_object_set_new(o, "offices", offices);
		client_json_print(o);
	} else {
		printf("data-key epoch %u (commit %llu), sealed to:", r->epoch,
		    (unsigned long long)r->seq);
		for (i = 0; i < r->n_offices; i++) {
			putchar(' ');
			client_print_padded(stdout, r->offices[i], 0);
		}
		putchar('\n');
	}
	wire_free(reply);
	client_close(&c);
	return 0;
}
