/* custody incident add|edit|show|list: incidents (an attack, a massacre) that victims and
 * evidence are linked to. */
#include "records-cmd.h"

static int cmd_incident_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_incident_edit_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_incident_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_incident_list_exec(const struct cmd_ctx *, const struct cmd_args *);

/* The fields an incident can be given, as options: the field table of custody/records.h. */
enum { RC_FV_id, RECORD_INCIDENT_FIELDS(RC_FIELD_VAL) };

static const struct option cmd_incident_add_options[] = {
	RC_OPT("id", RC_FV_id),
	RECORD_INCIDENT_FIELDS(RC_FIELD_OPTS)
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_incident_edit_options[] = {
	RECORD_INCIDENT_FIELDS(RC_FIELD_OPTS)
	{ "unset", required_argument, NULL, RC_OPT_UNSET },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_incident_list_options[] = {
	{ "limit", required_argument, NULL, RC_OPT_LIMIT },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_incident_add_entry = {
	.name = "incident add",
	.usage = "--id ID" RECORD_INCIDENT_FIELDS(RC_FIELD_USAGE),
	.help = "Record an incident (one commit); print its id.",
	.options = cmd_incident_add_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_incident_add_exec,
};

const struct cmd_entry cmd_incident_edit_entry = {
	.name = "incident edit",
	.usage = "ID" RECORD_INCIDENT_FIELDS(RC_FIELD_USAGE) " [--unset FIELD]...",
	.help = "Change an incident's fields; print the commit or 'unchanged'.",
	.options = cmd_incident_edit_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_incident_edit_exec,
};

const struct cmd_entry cmd_incident_show_entry = {
	.name = "incident show",
	.usage = "ID",
	.help = "Print an incident's current record as JSON.",
	.lower = 1,
	.upper = 1,
	.exec = cmd_incident_show_exec,
};

const struct cmd_entry cmd_incident_list_entry = {
	.name = "incident list",
	.usage = "[--limit N] [--format table|json|csv]",
	.help = "List incidents as a table, JSON or CSV.",
	.optstring = "n:",
	.options = cmd_incident_list_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_incident_list_exec,
};

/* Add an incident. */
static int
cmd_incident_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_add(ctx, args, "incident");
}

/* Edit an incident. */
static int
cmd_incident_edit_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_edit(ctx, args, "incident");
}

/* Show an incident. */
static int
cmd_incident_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_show(ctx, args, "incident");
}

/* List incidents with the table's columns. */
static int
cmd_incident_list_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "date", "governorate", "area", "party",
	    "type", "title", NULL };

	return rc_list(ctx, args, "incident", cols);
}
