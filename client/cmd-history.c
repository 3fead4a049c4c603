/* custody history: every revision of a record, oldest first, with what each one changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records-cmd.h"
#include "records-out.h"

static int cmd_history_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "ID",
	.help = "List a record's revisions and the fields each changed.",
	.lower = 1,
	.upper = 1,
	.exec = cmd_history_exec,
};

/* One block per revision. */
static void
cmd_history_text(const Custody__HistoryReply *h)
{
	const Custody__Revision *r;
	char when[32], *office, *commit, *field;
	size_t i, j;
	int created;

	for (i = 0; i < h->n_revisions; i++) {
		r = h->revisions[i];
		office = client_safe(r->office);
		commit = client_safe(r->commit);
		if (i > 0)
			putchar('\n');
		/* an office's key (64 hex digits) is told apart by its first 16 */
		printf("revision %zu  seq %llu  lamport %llu  %s  office %.*s  commit %.12s\n",
		    i + 1, (unsigned long long)r->seq, (unsigned long long)r->lamport,
		    client_time(when, sizeof when, r->time),
		    hex_is_lower(office, 64) ? 16 : (int)strlen(office), office, commit);
		created = 0;
		for (j = 0; j < r->n_changed; j++)
			created |= strcmp(r->changed[j], "id") == 0;	/* ids never change */
		if (created) {
			puts("  created");
			free(office);
			free(commit);
			continue;
		}
		fputs(r->n_changed == 0 ? "  changed: nothing\n" : "  changed:", stdout);
		for (j = 0; j < r->n_changed; j++) {
			field = client_safe(r->changed[j]);
			printf("%s %s", j > 0 ? "," : "", field);
			free(field);
		}
		if (r->n_changed > 0)
			putchar('\n');
		free(office);
		free(commit);
	}
}

/* The revisions as JSON, each with its record. */
static void
cmd_history_json(const Custody__HistoryReply *h)
{
	json_t *o = json_object(), *a = json_array(), *e, *changed;
	const Custody__Revision *r;
	char when[32];
	size_t i, j;

	for (i = 0; i < h->n_revisions; i++) {
		r = h->revisions[i];
		e = json_object();
		client_json_u64(e, "seq", r->seq);
		client_json_u64(e, "lamport", r->lamport);
		client_json_i64(e, "time", r->time);
		client_json_str(e, "time_utc", client_time(when, sizeof when, r->time));
		client_json_str(e, "office", r->office);
		client_json_str(e, "commit", r->commit);
		changed = json_array();
		for (j = 0; j < r->n_changed; j++)
			json_array_append_new(changed, json_string(r->changed[j]));
		json_object_set_new(e, "changed", changed);
		if (r->json != NULL && *r->json != '\0')
			json_object_set_new(e, "record", rout_parse(r->json, "record"));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "revisions", a);
	client_json_print(o);
}

/* Ask for the history and print it. */
static int
cmd_history_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__HistoryRequest hr = CUSTODY__HISTORY_REQUEST__INIT;
	struct client c;

	if (*args->argv[0] == '\0')
		cmd_usage_error(args->entry, "empty ID");
	client_open(&c, ctx);
	hr.id = args->argv[0];
	req.body_case = CUSTODY__ENVELOPE__BODY_HISTORY_REQUEST;
	req.history_request = &hr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_HISTORY_REPLY);
	if (ctx->json)
		cmd_history_json(reply->history_reply);
	else
		cmd_history_text(reply->history_reply);
	wire_free(reply);
	client_close(&c);
	return client_finish_stdout();
}
