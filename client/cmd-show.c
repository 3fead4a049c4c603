/* custody show: one record (evidence, incident, victim...) as JSON. */
#include <stdio.h>

#include "client.h"
#include "cmd.h"

static int cmd_show_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.usage = "ID",
	.help = "Print a record (or evidence by SHA-256) as JSON.",
	.lower = 1,
	.upper = 1,
	.exec = cmd_show_exec,
};

/* Fetch the record and pretty-print it. */
static int
cmd_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__ShowRequest sr = CUSTODY__SHOW_REQUEST__INIT;
	json_error_t jerr;
	struct client c;
	json_t *j;

	if (*args->argv[0] == '\0')
		cmd_usage_error(args->entry, "empty ID");
	client_open(&c, ctx);
	sr.id = args->argv[0];
	req.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REQUEST;
	req.show_request = &sr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_SHOW_REPLY);

	/*
	 * The record is JSON already: --json and the human form print the same document. Parsing
	 * it (rather than echoing bytes) guarantees valid JSON and escapes terminal controls.
	 */
	j = json_loads(reply->show_reply->json ? reply->show_reply->json : "", JSON_DECODE_ANY,
	    &jerr);
	if (j == NULL)
		client_fatal("custodyd sent a malformed record: %s (line %d)", jerr.text,
		    jerr.line);
	client_json_print(j);
	wire_free(reply);
	client_close(&c);
	return 0;
}
