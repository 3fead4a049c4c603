/* custody query victims: the victims matching filters, by date documented or of death. */
#include <string.h>

#include "records-cmd.h"
#include "records-out.h"

static int cmd_query_victims_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_query_victims_options[] = {
	{ "from", required_argument, NULL, 'F' },
	{ "to", required_argument, NULL, 'T' },
	{ "basis", required_argument, NULL, 'b' },
	{ "party", required_argument, NULL, 'p' },
	{ "governorate", required_argument, NULL, 'g' },
	{ "cause", required_argument, NULL, 'c' },
	{ "category", required_argument, NULL, 'k' },
	{ "child", no_argument, NULL, 'C' },
	{ "woman", no_argument, NULL, 'W' },
	{ "incident", required_argument, NULL, 'i' },
	{ "limit", required_argument, NULL, RC_OPT_LIMIT },
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

/* A filter's value, or "" when absent; a given but empty value is a usage error. */
static char *
cmd_query_opt(const struct cmd_args *args, int val, const char *flag)
{
	const char *v = cmd_get(args, val);

	if (v != NULL && *v == '\0')
		cmd_usage_error(args->entry, "%s needs a value", flag);
	return (char *)(v != NULL ? v : "");
}

/* A --from/--to day. */
static char *
cmd_query_day(const struct cmd_args *args, int val, const char *flag)
{
	char *v = cmd_query_opt(args, val, flag);
	struct cdate d;

	if (*v != '\0' && (cdate_parse(&d, v) < 0 || d.precision != DATE_DAY))
		cmd_usage_error(args->entry, "%s needs a real day YYYY-MM-DD, not '%s'", flag, v);
	return v;
}

/* A vocabulary filter; a word the defaults lack is sent anyway (the office may add words). */
static char *
cmd_query_word(const struct cmd_args *args, int val, const char *which)
{
	char flag[32], *v;

	snprintf(flag, sizeof flag, "--%s", which);
	v = cmd_query_opt(args, val, flag);
	if (*v != '\0' && strcmp(v, "unknown") != 0 && !vocab_has(NULL, which, v))
		client_warn("warning: '%s' is not a %s of the default vocabulary", v, which);
	return v;
}

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

	q.from = cmd_query_day(args, 'F', "--from");
	q.to = cmd_query_day(args, 'T', "--to");
	if (*q.from != '\0' && *q.to != '\0' && strcmp(q.from, q.to) > 0)
		cmd_usage_error(args->entry, "--to %s is before --from %s", q.to, q.from);
	q.basis = cmd_query_opt(args, 'b', "--basis");
	if (*q.basis != '\0' && strcmp(q.basis, "documented") != 0 &&
	    strcmp(q.basis, "death") != 0)
		cmd_usage_error(args->entry, "--basis is documented or death, not '%s'", q.basis);
	q.party = cmd_query_word(args, 'p', "party");
	q.governorate = cmd_query_word(args, 'g', "governorate");
	q.cause = cmd_query_word(args, 'c', "cause");
	q.category = cmd_query_opt(args, 'k', "--category");
	if (*q.category != '\0' && strcmp(q.category, "medical") != 0 &&
	    strcmp(q.category, "civil_defense") != 0 && strcmp(q.category, "media") != 0)
		cmd_usage_error(args->entry, "--category is medical, civil_defense or media");
	q.child = cmd_get(args, 'C') != NULL;
	q.woman = cmd_get(args, 'W') != NULL;
	q.incident = cmd_query_opt(args, 'i', "--incident");
	q.limit = rc_number(args, RC_OPT_LIMIT, "--limit");

	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_QUERY_REQUEST;
	req.query_request = &q;
	if (client_send(&c, &req, NULL, 0) < 0)
		client_fatal("%s", custody_error());
	rout_records(rc_recv_list(&c), "victim", cols, fmt);
	client_close(&c);
	return client_finish_stdout();
}
