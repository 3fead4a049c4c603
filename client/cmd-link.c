/*
 * custody link: tie evidence to an incident, a victim, a source, a person or a site (a new
 * evidence revision).
 */
#include "records-cmd.h"
#include "records-out.h"

static int cmd_link_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_link_options[] = {
	{ "incident", required_argument, NULL, 'i' },
	{ "victim", required_argument, NULL, 'v' },
	{ "source", required_argument, NULL, 's' },
	{ "person", required_argument, NULL, 'p' },
	{ "site", required_argument, NULL, 'S' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_link_entry = {
	.name = "link",
	.usage = "EVIDENCE-ID (--incident ID | --victim ID | --source ID | --person ID |"
	    " --site ID)",
	.help = "Link evidence to an incident, a victim, a source, a person or a site.",
	.options = cmd_link_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_link_exec,
};

/* Send the LinkRequest and print its RecordDone. */
static int
cmd_link_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__LinkRequest lr = CUSTODY__LINK_REQUEST__INIT;
	const char *incident = cmd_get(args, 'i'), *victim = cmd_get(args, 'v');
	const char *source = cmd_get(args, 's'), *person = cmd_get(args, 'p');
	const char *site = cmd_get(args, 'S');
	struct client c;

	if ((incident != NULL) + (victim != NULL) + (source != NULL) + (person != NULL) +
	    (site != NULL) != 1)
		cmd_usage_error(args->entry, "give one of --incident, --victim, --source, "
		    "--person or --site");
	if (*args->argv[0] == '\0' || (incident != NULL && *incident == '\0') ||
	    (victim != NULL && *victim == '\0') || (source != NULL && *source == '\0') ||
	    (person != NULL && *person == '\0') || (site != NULL && *site == '\0'))
		cmd_usage_error(args->entry, "empty ID");
	lr.evidence = args->argv[0];
	lr.incident = (char *)(incident != NULL ? incident : "");
	lr.victim = (char *)(victim != NULL ? victim : "");
	lr.source = (char *)(source != NULL ? source : "");
	lr.person = (char *)(person != NULL ? person : "");
	lr.site = (char *)(site != NULL ? site : "");
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_LINK_REQUEST;
	req.link_request = &lr;
	rc_send(&c, &req);
	reply = rc_recv_done(&c, 1);
	rout_done(ctx, reply->record_done, args->argv[0]);
	wire_free(reply);
	client_close(&c);
	return client_finish_stdout();
}
