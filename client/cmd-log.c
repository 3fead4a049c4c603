/* custody log: the signed commits of the feeds, newest first as the daemon sends them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"

static int cmd_log_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_log_options[] = {
	{ "office", required_argument, NULL, 'O' },
	{ "limit", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_log_entry = {
	.name = "log",
	.usage = "[--office NAME] [--limit N]",
	.help = "List feed commits with their signature status.",
	.optstring = "n:",
	.options = cmd_log_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_log_exec,
};

/* "good", "BAD", "missing": a bad signature shouts. */
static const char *
cmd_log_signature(const char *s)
{
	if (s == NULL || *s == '\0' || strcmp(s, "missing") == 0)
		return "missing";
	if (strcmp(s, "good") == 0)
		return "good";
	return "BAD";
}

/* Print the entries as a table. */
static void
cmd_log_table(const Custody__LogReply *lr)
{
	size_t i, w, office_w = strlen("OFFICE");
	char **office, when[32];

	if ((office = calloc(lr->n_entries + 1, sizeof *office)) == NULL)
		client_fatal("out of memory");
	for (i = 0; i < lr->n_entries; i++) {
		office[i] = client_safe(lr->entries[i]->office);
		if ((w = client_width(office[i])) > office_w)
			office_w = w;
	}
	if (office_w > 32)
		office_w = 32;
	printf("%-6s %-20s ", "SEQ", "TIME");
	client_print_padded(stdout, "OFFICE", office_w);
	printf(" %-9s %s\n", "SIGNATURE", "SUMMARY");
	for (i = 0; i < lr->n_entries; i++) {
		const Custody__LogEntry *e = lr->entries[i];

		printf("%-6llu %-20s ", (unsigned long long)e->seq,
		    client_time(when, sizeof when, e->time));
		client_print_padded(stdout, office[i], office_w);
		printf(" %-9s ", cmd_log_signature(e->signature));
		client_print_padded(stdout, e->summary, 0);
		putchar('\n');
		free(office[i]);
	}
	free(office);
}

/* Print the entries as JSON. */
static void
cmd_log_json(const Custody__LogReply *lr)
{
	json_t *o = json_object(), *a = json_array(), *e;
	char when[32];
	size_t i;

	for (i = 0; i < lr->n_entries; i++) {
		e = json_object();
		client_json_u64(e, "seq", lr->entries[i]->seq);
		client_json_i64(e, "time", lr->entries[i]->time);
		client_json_str(e, "time_utc", client_time(when, sizeof when,
		    lr->entries[i]->time));
		client_json_str(e, "office", lr->entries[i]->office);
		client_json_str(e, "signature", lr->entries[i]->signature);
		client_json_str(e, "summary", lr->entries[i]->summary);
		client_json_str(e, "commit", lr->entries[i]->commit);
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "entries", a);
	client_json_print(o);
}

/* Ask for the log and print it. */
static int
cmd_log_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__LogRequest lr = CUSTODY__LOG_REQUEST__INIT;
	const char *limit = cmd_get(args, 'n'), *office = cmd_get(args, 'O');
	unsigned long long n = 0;
	struct client c;
	char *end;

	if (limit != NULL) {
		errno = 0;
		n = strtoull(limit, &end, 10);
		if (*limit < '0' || *limit > '9' || *end != '\0' || errno != 0 || n > UINT32_MAX)
			cmd_usage_error(args->entry, "--limit needs a number, not '%s'", limit);
	}
	if (office != NULL && *office == '\0')
		cmd_usage_error(args->entry, "--office needs a name");
	client_open(&c, ctx);
	lr.office = (char *)(office != NULL ? office : "");
	lr.limit = (uint32_t)n;
	req.body_case = CUSTODY__ENVELOPE__BODY_LOG_REQUEST;
	req.log_request = &lr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_LOG_REPLY);
	if (ctx->json)
		cmd_log_json(reply->log_reply);
	else
		cmd_log_table(reply->log_reply);
	wire_free(reply);
	client_close(&c);
	return 0;
}
