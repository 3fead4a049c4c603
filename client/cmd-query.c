/* custody query victims: the victims matching filters, by date documented or of death. */
#include <string.h>

#include "records-cmd.h"
#include "records-out.h"

static int cmd_query_victims_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_query_victims_options[] = {
	RC_QUERY_OPTIONS,
	{ "incident", required_argument, NULL, 'i' },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_query_victims_entry = {
	.name = "query victims",
	.usage = "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--basis documented|death] [--party P] "
	    "[--governorate G] [--cause C] [--category medical|civil_defense|media] [--child] "
	    "[--woman] [--incident ID] [--limit N] [--format table|json|csv]",
	.help = "List the victims matching filters (combatants too).",
	.optstring = "n:",
	.options = cmd_query_victims_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_query_victims_exec,
};

/* Send the query, gather the RecordList messages, print. */
static int
cmd_query_victims_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "name", "sex", "age", "status",
	    "date_of_death", "date_documented", "governorate", "party", "cause", NULL };
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__QueryRequest q = CUSTODY__QUERY_REQUEST__INIT;
	enum rout_format fmt = rout_format(args, RC_OPT_FORMAT, ctx->json, ROUT_TABLE);
	struct client c;

	rc_query_filters(&q, args);
	q.incident = rc_opt(args, 'i', "--incident");

	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_QUERY_REQUEST;
	req.query_request = &q;
	if (client_send(&c, &req, NULL, 0) < 0)
		client_fatal("%s", custody_error());
	rc_print_list(&c, "victim", cols, fmt);
	client_close(&c);
	return client_finish_stdout();
}
