/* custody duplicates: victims recorded more than once (same normalised name, date of death
 * and governorate), group by group, for a documenter to merge or tell apart. */
#include <stdio.h>

#include "records-cmd.h"
#include "records-out.h"

static int cmd_duplicates_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_duplicates_entry = {
	.name = "duplicates",
	.usage = "",
	.help = "List victims that are probably recorded twice.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_duplicates_exec,
};

/* The groups as arrays of records. */
static json_t *
cmd_duplicates_groups(const Custody__DuplicatesReply *dr)
{
	json_t *groups = json_array(), *g, *rec;
	size_t i, j;

	for (i = 0; i < dr->n_groups; i++) {
		g = json_array();
		for (j = 0; j < dr->groups[i]->n_json; j++) {
			rec = rout_parse(dr->groups[i]->json[j], "record");
			if (!json_is_object(rec))
				client_fatal("custodyd sent a record that is not a JSON object");
			json_array_append_new(g, rec);
		}
		json_array_append_new(groups, g);
	}
	return groups;
}

/* Ask for the groups and print them. */
static int
cmd_duplicates_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "name", "date_of_death", "governorate",
	    NULL };
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__DuplicatesRequest dr = CUSTODY__DUPLICATES_REQUEST__INIT;
	struct client c;
	json_t *groups, *o;
	size_t i;

	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_DUPLICATES_REQUEST;
	req.duplicates_request = &dr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_DUPLICATES_REPLY);
	groups = cmd_duplicates_groups(reply->duplicates_reply);
	wire_free(reply);
	client_close(&c);
	if (ctx->json) {
		o = json_object();
		json_object_set_new(o, "groups", groups);
		client_json_print(o);
		return client_finish_stdout();
	}
	for (i = 0; i < json_array_size(groups); i++) {
		if (i > 0)
			putchar('\n');
		rout_table(json_array_get(groups, i), cols);
	}
	if (json_array_size(groups) == 0)
		fputs("no probable duplicates\n", stderr);
	json_decref(groups);
	return client_finish_stdout();
}
