/* custody query persons: the persons matching filters, their status at a day among them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records-cmd.h"
#include "records-out.h"

static int cmd_query_persons_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_query_persons_options[] = {
	{ "status", required_argument, NULL, 's' },
	{ "at", required_argument, NULL, 'a' },
	{ "party", required_argument, NULL, 'p' },
	{ "governorate", required_argument, NULL, 'g' },
	{ "site", required_argument, NULL, 'S' },
	{ "child", no_argument, NULL, 'c' },
	{ "woman", no_argument, NULL, 'w' },
	{ "limit", required_argument, NULL, 'n' },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_query_persons_entry = {
	.name = "query persons",
	.usage = "[--status missing|detained|disappeared|released|died_in_custody|found_dead|"
	    "identified [--at YYYY-MM-DD]] [--party P] [--governorate G] [--site ID] [--child] "
	    "[--woman] [--limit N] [--format table|json|csv]",
	.help = "List the missing and detained persons matching filters.\n"
	    "--status keeps those in that status at --at (today, UTC, by default): the last event\n"
	    "by then decides (inquiries never do), a detention without news for more than\n"
	    "[persons] disappeared_after_days counting as a disappearance. --party and --site\n"
	    "keep persons one of whose events names them; --governorate, persons of that\n"
	    "governorate or with an event there.",
	.options = cmd_query_persons_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_query_persons_exec,
};

static int
cmd_query_persons_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "name", "sex", "age", "birth_year",
	    "governorate", NULL };
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__PersonQueryRequest q = CUSTODY__PERSON_QUERY_REQUEST__INIT;
	enum rout_format fmt = rout_format(args, RC_OPT_FORMAT, ctx->json, ROUT_TABLE);
	const char *limit = cmd_get(args, 'n');
	char today[11], *end;
	struct client c;
	unsigned long n;

	rc_person_status(&q, args, 's', 'a', today);
	q.party = rc_opt(args, 'p', "--party");
	q.governorate = rc_opt(args, 'g', "--governorate");
	q.site = rc_opt(args, 'S', "--site");
	q.child = cmd_get(args, 'c') != NULL;
	q.woman = cmd_get(args, 'w') != NULL;
	if (limit != NULL) {
		n = strtoul(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || *limit == '-' || n == 0 || n > UINT32_MAX)
			cmd_usage_error(args->entry, "--limit needs a positive number, not '%s'",
			    limit);
		q.limit = (uint32_t)n;
	}
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_PERSON_QUERY_REQUEST;
	req.person_query_request = &q;
	if (client_send(&c, &req, NULL, 0) < 0)
		client_fatal("%s", custody_error());
	rc_print_list(&c, "person", cols, fmt);
	client_close(&c);
	return client_finish_stdout();
}
