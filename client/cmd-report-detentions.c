/* custody report detentions: arrests, releases, deaths in custody and statuses of a period. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/report-detentions.h"
#include "records-cmd.h"
#include "records-out.h"

static int cmd_report_detentions_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_report_detentions_options[] = {
	{ "month", required_argument, NULL, 'm' },
	{ "year", required_argument, NULL, 'y' },
	{ "from", required_argument, NULL, 'F' },
	{ "to", required_argument, NULL, 'T' },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_report_detentions_entry = {
	.name = "report detentions",
	.usage = "(--month YYYY-MM | --year YYYY | --from YYYY-MM-DD --to YYYY-MM-DD) "
	    "[--format text|json|csv]",
	.help = "Print the arrests, releases, deaths in custody and statuses of a period.\n"
	    "Arrests and abductions count when their whole date lies in the period (a month-\n"
	    "precise date when the whole month does); statuses are those of the period's last\n"
	    "day, a detention without news for more than [persons] disappeared_after_days\n"
	    "(custody.conf) counting as a disappearance.",
	.options = cmd_report_detentions_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_report_detentions_exec,
};

/* A party or governorate word as a label ("Syrian regime forces"). */
static const char *
detentions_label(char *buf, size_t len, const char *word)
{
	return rout_label(buf, len, word, 0);
}

/* Ask for the report and print it. */
static int
cmd_report_detentions_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__DetentionsRequest dr = CUSTODY__DETENTIONS_REQUEST__INIT;
	enum rout_format fmt = rout_format(args, RC_OPT_FORMAT, ctx->json, ROUT_TEXT);
	struct cbuf out = { 0 };
	char from[11], to[11];
	struct client c;
	json_t *r;
	int error;

	report_period(args, from, to);
	dr.from = from;
	dr.to = to;
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_DETENTIONS_REQUEST;
	req.detentions_request = &dr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_DETENTIONS_REPLY);
	r = rout_parse(reply->detentions_reply->json, "detention report");
	wire_free(reply);
	client_close(&c);
	if (!json_is_object(r))
		client_fatal("custodyd sent a detention report that is not a JSON object");
	if (fmt == ROUT_JSON) {
		rout_json(r);
		return client_finish_stdout();
	}
	error = fmt == ROUT_CSV ? report_detentions_csv(&out, r) :
	    report_detentions_text(&out, r, detentions_label);
	json_decref(r);
	if (error < 0)
		client_fatal("cannot print the report: %s", custody_error());
	fwrite(out.data, 1, out.len, stdout);
	cbuf_free(&out);
	return client_finish_stdout();
}
