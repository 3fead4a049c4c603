/* custody source add|show|list: protected sources (witnesses, informants); withheld from dossiers. */
#include "records-cmd.h"

static int cmd_source_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_source_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_source_list_exec(const struct cmd_ctx *, const struct cmd_args *);

/* The fields a source can be given, as options: the field table of custody/records.h. */
enum { RC_FV_id, RECORD_SOURCE_FIELDS(RC_FIELD_VAL) };

static const struct option cmd_source_add_options[] = {
	RC_OPT("id", RC_FV_id),
	RECORD_SOURCE_FIELDS(RC_FIELD_OPTS)
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_source_list_options[] = {
	{ "limit", required_argument, NULL, RC_OPT_LIMIT },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_source_add_entry = {
	.name = "source add",
	.usage = "[--id ID]" RECORD_SOURCE_FIELDS(RC_FIELD_USAGE),
	.help = "Record a protected source (one commit); print its id.",
	.options = cmd_source_add_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_source_add_exec,
};

const struct cmd_entry cmd_source_show_entry = {
	.name = "source show",
	.usage = "ID",
	.help = "Print a source's current record as JSON.",
	.lower = 1,
	.upper = 1,
	.exec = cmd_source_show_exec,
};

const struct cmd_entry cmd_source_list_entry = {
	.name = "source list",
	.usage = "[--limit N] [--format table|json|csv]",
	.help = "List sources as a table, JSON or CSV (protected fields as your role may see them).",
	.optstring = "n:",
	.options = cmd_source_list_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_source_list_exec,
};

/* Add a source. */
static int
cmd_source_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_add(ctx, args, "source");
}

/* Show a source. */
static int
cmd_source_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_show(ctx, args, "source");
}

/* List sources with the table's columns. */
static int
cmd_source_list_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "name", "contact", NULL };

	return rc_list(ctx, args, "source", cols);
}
