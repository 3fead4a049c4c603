/*
 * custody office revoke / office revocations: cut a seized office off, by a quorum. The
 * office's commits after N (default: the cut of a pending revocation of it, else its last
 * commit another office witnessed) are refused once [trust] revoke_quorum offices that are not
 * revoked signed the same revocation (default: more than half of the others); other offices'
 * admins co-sign by running the same command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"

static int cmd_office_revoke_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_office_revocations_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_office_revoke_options[] = {
	{ "reason", required_argument, NULL, 'r' },
	{ "from-seq", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_office_revoke_entry = {
	.name = "office revoke",
	.usage = "NAME --reason TEXT [--from-seq N]",
	.help = "Sign the revocation of a seized office (a quorum of offices co-signs).",
	.optstring = "r:s:",
	.options = cmd_office_revoke_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_office_revoke_exec,
};

const struct cmd_entry cmd_office_revocations_entry = {
	.name = "office revocations",
	.usage = "",
	.help = "List pending and effective revocations with their signers.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_office_revocations_exec,
};

/* Print the revocations of a RevocationsReply. */
static void
cmd_office_print(const struct cmd_ctx *ctx, const char *text)
{
	json_error_t jerr;
	json_t *arr = json_loads(text ? text : "[]", 0, &jerr), *o, *s;
	size_t i, j;

	if (arr == NULL || !json_is_array(arr))
		client_fatal("the daemon's answer is not a list of revocations");
	if (ctx->json) {
		client_json_print(arr);
		return;
	}
	if (json_array_size(arr) == 0)
		printf("no revocations\n");
	json_array_foreach(arr, i, o) {
		printf("office ");
		client_print_padded(stdout, json_string_value(json_object_get(o, "office")), 0);
		printf(" (");
		client_print_padded(stdout, json_string_value(json_object_get(o, "fingerprint")),
		    0);
		printf(") after commit %lld: %s, %zu of %lld signers needed:",
		    (long long)json_integer_value(json_object_get(o, "from_seq")),
		    json_string_value(json_object_get(o, "status")) ?: "?",
		    json_array_size(json_object_get(o, "signers")),
		    (long long)json_integer_value(json_object_get(o, "quorum")));
		json_array_foreach(json_object_get(o, "signers"), j, s) {
			putchar(' ');
			client_print_padded(stdout, json_string_value(json_object_get(s, "office")),
			    0);
			if (!json_is_true(json_object_get(s, "counted")))
				printf(" (not counted)");
		}
		putchar('\n');
	}
	json_decref(arr);
}

static int
cmd_office_revoke_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *reason = cmd_get(args, 'r'), *seq = cmd_get(args, 's');
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RevokeRequest rr = CUSTODY__REVOKE_REQUEST__INIT;
	struct client c;
	char *end;

	if (reason == NULL || *reason == '\0')
		cmd_usage_error(args->entry, "give the reason with --reason TEXT");
	if (seq != NULL) {
		errno = 0;
		rr.from_seq = strtoull(seq, &end, 10);
		if (errno != 0 || *seq < '0' || *seq > '9' || *end != '\0')
			cmd_usage_error(args->entry, "--from-seq takes a commit number");
		rr.has_from_seq = 1;
	}
	rr.name = args->argv[0];
	rr.reason = (char *)reason;
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_REVOKE_REQUEST;
	req.revoke_request = &rr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_REVOCATIONS_REPLY);
	if (!ctx->json)
		printf("signed: ");
	cmd_office_print(ctx, reply->revocations_reply->json);
	wire_free(reply);
	client_close(&c);
	return 0;
}

static int
cmd_office_revocations_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RevocationsRequest rr = CUSTODY__REVOCATIONS_REQUEST__INIT;
	struct client c;

	(void)args;
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_REVOCATIONS_REQUEST;
	req.revocations_request = &rr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_REVOCATIONS_REPLY);
	cmd_office_print(ctx, reply->revocations_reply->json);
	wire_free(reply);
	client_close(&c);
	return 0;
}
