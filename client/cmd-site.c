/*
 * custody site add|edit|show|list: the places where evidence lies (mass graves, detention
 * facilities...), one record each; a status change is a new revision, kept in history.
 */
#include "records-cmd.h"

static int cmd_site_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_site_edit_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_site_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_site_list_exec(const struct cmd_ctx *, const struct cmd_args *);

/* The fields a site can be given, as options: the field table of custody/records.h. */
enum { RC_FV_id, RECORD_SITE_FIELDS(RC_FIELD_VAL) };

static const struct option cmd_site_add_options[] = {
	RC_OPT("id", RC_FV_id),
	RECORD_SITE_FIELDS(RC_FIELD_OPTS)
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_site_edit_options[] = {
	RECORD_SITE_FIELDS(RC_FIELD_OPTS)
	{ "unset", required_argument, NULL, RC_OPT_UNSET },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_site_list_options[] = {
	{ "limit", required_argument, NULL, RC_OPT_LIMIT },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

#define SITE_TYPES "mass_grave|detention_facility|execution_site|crime_scene|cultural_site|" \
	"mine_area|other"

const struct cmd_entry cmd_site_add_entry = {
	.name = "site add",
	.usage = "[--id ID] --type " SITE_TYPES RECORD_SITE_FIELDS(RC_FIELD_USAGE),
	.help = "Record a site (one commit); print its id. Its lat, lon and geometry (a GeoJSON\n"
	    "Polygon or MultiPolygon) are protected fields.",
	.options = cmd_site_add_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_site_add_exec,
};

const struct cmd_entry cmd_site_edit_entry = {
	.name = "site edit",
	.usage = "ID [--type T]" RECORD_SITE_FIELDS(RC_FIELD_USAGE) " [--unset FIELD]...",
	.help = "Change a site's fields (its status, say); print the commit or 'unchanged'.",
	.options = cmd_site_edit_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_site_edit_exec,
};

const struct cmd_entry cmd_site_show_entry = {
	.name = "site show",
	.usage = "ID",
	.help = "Print a site's current record as JSON (protected fields as your role may see"
	    " them).",
	.lower = 1,
	.upper = 1,
	.exec = cmd_site_show_exec,
};

const struct cmd_entry cmd_site_list_entry = {
	.name = "site list",
	.usage = "[--limit N] [--format table|json|csv]",
	.help = "List sites as a table, JSON or CSV.",
	.optstring = "n:",
	.options = cmd_site_list_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_site_list_exec,
};

/* Add a site. */
static int
cmd_site_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_add(ctx, args, "site");
}

/* Edit a site. */
static int
cmd_site_edit_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_edit(ctx, args, "site");
}

/* Show a site. */
static int
cmd_site_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_show(ctx, args, "site");
}

/* List sites with the table's columns. */
static int
cmd_site_list_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "type", "name", "status", "governorate",
	    "party", "first_reported", NULL };

	return rc_list(ctx, args, "site", cols);
}
