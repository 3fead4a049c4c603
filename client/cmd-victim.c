/* custody victim add|edit|show|list: the victims of the archive, one record each. */
#include "records-cmd.h"

static int cmd_victim_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_victim_edit_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_victim_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_victim_list_exec(const struct cmd_ctx *, const struct cmd_args *);

/* The fields a victim can be given, as options (see record_from_fields). */
#define VICTIM_FIELD_OPTIONS \
	RC_OPT("name", 1), RC_OPT("sex", 2), RC_OPT("age", 3), \
	RC_OPT("age-group", 4), RC_OPT("age_group", 4), RC_OPT("status", 5), \
	RC_OPT("categories", 6), RC_OPT("date-of-death", 7), RC_OPT("date_of_death", 7), \
	RC_OPT("date-of-death-estimated", 8), RC_OPT("date_of_death_estimated", 8), \
	RC_OPT("date-documented", 9), RC_OPT("date_documented", 9), \
	RC_OPT("governorate", 10), RC_OPT("area", 11), RC_OPT("cause", 12), \
	RC_OPT("party", 13), RC_OPT("incident-id", 14), RC_OPT("incident_id", 14), \
	RC_OPT("source-id", 15), RC_OPT("source_id", 15), RC_OPT("notes", 16)

#define VICTIM_FIELD_USAGE \
	"[--sex male|female|unknown] [--age N] [--age-group child|adult|unknown] " \
	"[--status civilian|combatant|unknown] [--categories medical;civil_defense;media] " \
	"[--date-of-death YYYY[-MM[-DD]]] [--date-of-death-estimated true|false] " \
	"[--governorate G] [--area A] [--cause C] [--party P] [--incident-id ID] " \
	"[--source-id ID] [--notes TEXT]"

static const struct option cmd_victim_add_options[] = {
	RC_OPT("id", 0),
	VICTIM_FIELD_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_victim_edit_options[] = {
	VICTIM_FIELD_OPTIONS,
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
	.usage = "[--id ID] --name NAME --date-documented YYYY-MM-DD " VICTIM_FIELD_USAGE,
	.help = "Record a victim (one commit); print its id.",
	.options = cmd_victim_add_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_victim_add_exec,
};

const struct cmd_entry cmd_victim_edit_entry = {
	.name = "victim edit",
	.usage = "ID [--name NAME] [--date-documented D] " VICTIM_FIELD_USAGE
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
