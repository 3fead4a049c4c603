/* custody verify: have the daemon check every commit signature, record and blob. */
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"

static int cmd_verify_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.usage = "",
	.help = "Check every signature, record and blob (can be slow).",
	.lower = 0,
	.upper = 0,
	.exec = cmd_verify_exec,
};

/* Print the reply as JSON. */
static void
cmd_verify_json(const Custody__VerifyReply *vr, int ok)
{
	json_t *o = json_object(), *a = json_array(), *p;
	size_t i;

	client_json_bool(o, "ok", ok);
	client_json_u64(o, "commits", vr->commits);
	client_json_u64(o, "records", vr->records);
	client_json_u64(o, "blobs", vr->blobs);
	client_json_u64(o, "problems_total", vr->problems_total > vr->n_problems ?
	    vr->problems_total : vr->n_problems);
	for (i = 0; i < vr->n_problems; i++) {
		p = json_object();
		client_json_str(p, "item", vr->problems[i]->item);
		client_json_str(p, "problem", vr->problems[i]->problem);
		json_array_append_new(a, p);
	}
	json_object_set_new(o, "problems", a);
	client_json_print(o);
}

/* Ask for a verification (no timeout: it may take minutes) and report it. */
static int
cmd_verify_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__VerifyRequest vq = CUSTODY__VERIFY_REQUEST__INIT;
	const Custody__VerifyReply *vr;
	unsigned long long total;
	struct client c;
	size_t i;
	int ok;

	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_VERIFY_REQUEST;
	req.verify_request = &vq;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_VERIFY_REPLY);
	vr = reply->verify_reply;

	/* Any listed or counted problem is a failure, whatever the ok flag says. */
	total = vr->problems_total > vr->n_problems ? vr->problems_total : vr->n_problems;
	ok = vr->ok && total == 0;
	if (ctx->json)
		cmd_verify_json(vr, ok);
	else if (ok)
		printf("archive verified: %llu commits, %llu records, %llu blobs\n",
		    (unsigned long long)vr->commits, (unsigned long long)vr->records,
		    (unsigned long long)vr->blobs);
	else {
		for (i = 0; i < vr->n_problems; i++) {
			client_print_padded(stdout, vr->problems[i]->item, 0);
			fputs(": ", stdout);
			client_print_padded(stdout, vr->problems[i]->problem, 0);
			putchar('\n');
		}
		if (total > vr->n_problems)
			printf("archive NOT verified: %llu problems (%zu shown) in %llu commits, "
			    "%llu records, %llu blobs\n", total, vr->n_problems,
			    (unsigned long long)vr->commits, (unsigned long long)vr->records,
			    (unsigned long long)vr->blobs);
		else
			printf("archive NOT verified: %llu problem%s in %llu commits, %llu records, "
			    "%llu blobs\n", total, total == 1 ? "" : "s",
			    (unsigned long long)vr->commits, (unsigned long long)vr->records,
			    (unsigned long long)vr->blobs);
	}
	wire_free(reply);
	client_close(&c);
	return ok ? 0 : 1;
}
