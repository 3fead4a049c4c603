/* custody duplicates: victims recorded more than once (same normalised name, date of death
 * and governorate), or persons (same normalised name and governorate, same age or birth
 * year), group by group, for a documenter to merge or tell apart. */
#include <stdio.h>
#include <string.h>

#include "records-cmd.h"
#include "records-out.h"

static int cmd_duplicates_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_duplicates_entry = {
	.name = "duplicates",
	.usage = "[victims|persons]",
	.help = "List victims (or persons) that are probably recorded twice.\n"
	    "victims (the default): the same normalised name, date of death and governorate.\n"
	    "persons: the same normalised name and governorate, with the same age or the same\n"
	    "birth year. Found by keyed tokens in the index, never by names in the clear.",
	.lower = 0,
	.upper = 1,
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
	static const char *const vcols[] = { "id", "name", "date_of_death", "governorate",
	    NULL };
	static const char *const pcols[] = { "id", "name", "sex", "age", "birth_year",
	    "governorate", NULL };
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__DuplicatesRequest dr = CUSTODY__DUPLICATES_REQUEST__INIT;
	const char *const *cols = vcols;
	struct client c;
	json_t *groups, *o;
	size_t i;

	if (args->argc > 0 && strcmp(args->argv[0], "persons") == 0) {
		dr.kind = (char *)"persons";
		cols = pcols;
	} else if (args->argc > 0 && strcmp(args->argv[0], "victims") != 0)
		cmd_usage_error(args->entry, "duplicates of victims or persons, not '%s'",
		    args->argv[0]);
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
