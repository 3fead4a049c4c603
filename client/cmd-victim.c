/* custody victim add|edit|show|list: the victims of the archive, one record each. */
#include "records-cmd.h"

static int cmd_victim_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_victim_edit_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_victim_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_victim_list_exec(const struct cmd_ctx *, const struct cmd_args *);

/* The fields a victim can be given, as options: the field table of custody/records.h. */
enum { RC_FV_id, RECORD_VICTIM_FIELDS(RC_FIELD_VAL) };

static const struct option cmd_victim_add_options[] = {
	RC_OPT("id", RC_FV_id),
	RECORD_VICTIM_FIELDS(RC_FIELD_OPTS)
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_victim_edit_options[] = {
	RECORD_VICTIM_FIELDS(RC_FIELD_OPTS)
	{ "unset", required_argument, NULL, RC_OPT_UNSET },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_victim_list_options[] = {
	{ "limit", required_argument, NULL, RC_OPT_LIMIT },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_victim_add_entry = {
	.name = "victim add",
	.usage = "[--id ID] --name NAME --date-documented YYYY-MM-DD"
	    RECORD_VICTIM_FIELDS(RC_FIELD_USAGE),
	.help = "Record a victim (one commit); print its id.",
	.options = cmd_victim_add_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_victim_add_exec,
};

const struct cmd_entry cmd_victim_edit_entry = {
	.name = "victim edit",
	.usage = "ID [--name NAME] [--date-documented D]" RECORD_VICTIM_FIELDS(RC_FIELD_USAGE)
	    " [--unset FIELD]...",
	.help = "Change a victim's fields; print the commit or 'unchanged'.",
	.options = cmd_victim_edit_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_victim_edit_exec,
};

const struct cmd_entry cmd_victim_show_entry = {
	.name = "victim show",
	.usage = "ID",
	.help = "Print a victim's current record as JSON.",
	.lower = 1,
	.upper = 1,
	.exec = cmd_victim_show_exec,
};

const struct cmd_entry cmd_victim_list_entry = {
	.name = "victim list",
	.usage = "[--limit N] [--format table|json|csv]",
	.help = "List victims as a table, JSON or CSV.",
	.optstring = "n:",
	.options = cmd_victim_list_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_victim_list_exec,
};

/* Add a victim. */
static int
cmd_victim_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_add(ctx, args, "victim");
}

/* Edit a victim. */
static int
cmd_victim_edit_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_edit(ctx, args, "victim");
}

/* Show a victim. */
static int
cmd_victim_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_show(ctx, args, "victim");
}

/* List victims with the table's columns. */
static int
cmd_victim_list_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "name", "sex", "age", "status",
	    "date_of_death", "date_documented", "governorate", "party", "cause", NULL };

	return rc_list(ctx, args, "victim", cols);
}
