/*
 * custody person add|edit|show|list and person event: the missing and the detained, one record
 * each, and what happened to them (person events, one record each).
 */
#include "records-cmd.h"

static int cmd_person_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_person_edit_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_person_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_person_list_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_person_event_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_person_event_edit_exec(const struct cmd_ctx *, const struct cmd_args *);

/* The fields a person can be given, as options: the field table of custody/records.h. */
enum { RC_FV_id, RECORD_PERSON_FIELDS(RC_FIELD_VAL) };

static const struct option cmd_person_add_options[] = {
	RC_OPT("id", RC_FV_id),
	RECORD_PERSON_FIELDS(RC_FIELD_OPTS)
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_person_edit_options[] = {
	RECORD_PERSON_FIELDS(RC_FIELD_OPTS)
	{ "unset", required_argument, NULL, RC_OPT_UNSET },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_person_list_options[] = {
	{ "limit", required_argument, NULL, RC_OPT_LIMIT },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

/* An event's fields but its person (the command's argument). */
#define EV(name) RC_EV_##name
enum { RC_EV_id, RC_EV_person_id, RC_EV_type, RC_EV_date, RC_EV_date_estimated,
    RC_EV_date_documented, RC_EV_party, RC_EV_site_id, RC_EV_governorate, RC_EV_area,
    RC_EV_source_id, RC_EV_notes };

/* The options of an event's fields but its id and its person, for recording and correcting. */
#define EV_FIELD_OPTIONS \
	RC_OPT("type", EV(type)), \
	RC_OPT("date", EV(date)), \
	RC_OPT("date-estimated", EV(date_estimated)), \
	RC_OPT("date_estimated", EV(date_estimated)), \
	RC_OPT("date-documented", EV(date_documented)), \
	RC_OPT("date_documented", EV(date_documented)), \
	RC_OPT("party", EV(party)), \
	RC_OPT("site-id", EV(site_id)), \
	RC_OPT("site_id", EV(site_id)), \
	RC_OPT("governorate", EV(governorate)), \
	RC_OPT("area", EV(area)), \
	RC_OPT("source-id", EV(source_id)), \
	RC_OPT("source_id", EV(source_id)), \
	RC_OPT("notes", EV(notes))

static const struct option cmd_person_event_options[] = {
	RC_OPT("id", EV(id)),
	EV_FIELD_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

/* An event's fields but its id, and --unset: a correction of what was recorded. */
static const struct option cmd_person_event_edit_options[] = {
	RC_OPT("person-id", EV(person_id)),
	RC_OPT("person_id", EV(person_id)),
	EV_FIELD_OPTIONS,
	{ "unset", required_argument, NULL, RC_OPT_UNSET },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_person_add_entry = {
	.name = "person add",
	.usage = "[--id ID] [--name NAME]" RECORD_PERSON_FIELDS(RC_FIELD_USAGE),
	.help = "Record a missing or detained person (one commit); print its id.",
	.options = cmd_person_add_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_person_add_exec,
};

const struct cmd_entry cmd_person_edit_entry = {
	.name = "person edit",
	.usage = "ID [--name NAME]" RECORD_PERSON_FIELDS(RC_FIELD_USAGE) " [--unset FIELD]...",
	.help = "Change a person's fields; print the commit or 'unchanged'.",
	.options = cmd_person_edit_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_person_edit_exec,
};

const struct cmd_entry cmd_person_show_entry = {
	.name = "person show",
	.usage = "ID",
	.help = "Print a person's current record as JSON (protected fields as your role may see"
	    " them).",
	.lower = 1,
	.upper = 1,
	.exec = cmd_person_show_exec,
};

const struct cmd_entry cmd_person_list_entry = {
	.name = "person list",
	.usage = "[--limit N] [--format table|json|csv]",
	.help = "List persons as a table, JSON or CSV.",
	.optstring = "n:",
	.options = cmd_person_list_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_person_list_exec,
};

const struct cmd_entry cmd_person_event_entry = {
	.name = "person event",
	.usage = "PERSON-ID --type TYPE --date YYYY[-MM[-DD]] [--id ID] [--party P]"
	    " [--date-estimated true|false] [--date-documented YYYY-MM-DD] [--site-id ID]"
	    " [--governorate G] [--area A] [--source-id ID] [--notes TEXT]",
	.help = "Record what happened to a person, when (one commit); print the event's id.\n"
	    "TYPE: last_seen, arrest, abduction, transfer, seen_in_custody, inquiry, denial,\n"
	    "release, death_in_custody, remains_found, identified; --party is required for\n"
	    "arrest, abduction, transfer and death_in_custody.",
	.options = cmd_person_event_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_person_event_exec,
};

const struct cmd_entry cmd_person_event_edit_entry = {
	.name = "person event-edit",
	.usage = "EVENT-ID [--type TYPE] [--date YYYY[-MM[-DD]]] [--party P]"
	    " [--date-estimated true|false] [--date-documented YYYY-MM-DD] [--site-id ID]"
	    " [--governorate G] [--area A] [--source-id ID] [--notes TEXT] [--person-id ID]"
	    " [--unset FIELD]...",
	.help = "Correct a recorded person event (a wrong date or type, say): a new signed\n"
	    "revision, the earlier ones kept in history; print the commit or 'unchanged'.\n"
	    "The event as corrected is checked as a new one: --party is required for arrest,\n"
	    "abduction, transfer and death_in_custody, the date keeps its precision, and the\n"
	    "person and site it names must exist. The person's status follows the correction.",
	.options = cmd_person_event_edit_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_person_event_edit_exec,
};

/* Add a person. */
static int
cmd_person_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_add(ctx, args, "person");
}

/* Edit a person. */
static int
cmd_person_edit_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_edit(ctx, args, "person");
}

/* Show a person. */
static int
cmd_person_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_show(ctx, args, "person");
}

/* List persons with the table's columns. */
static int
cmd_person_list_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static const char *const cols[] = { "id", "name", "sex", "age", "birth_year",
	    "governorate", "consent", "dna_reference", NULL };

	return rc_list(ctx, args, "person", cols);
}

/* Add an event of the person named by the argument. */
static int
cmd_person_event_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct rc_fields f;

	if (*args->argv[0] == '\0')
		cmd_usage_error(args->entry, "empty PERSON-ID");
	rc_fields_get(&f, args);
	if (f.n >= RC_FIELD_MAX)
		cmd_usage_error(args->entry, "too many fields");
	f.names[f.n] = "person_id";
	f.values[f.n++] = args->argv[0];
	return rc_add_fields(ctx, &f, "person_event");
}

/* Correct an event: a new revision of it, checked as the whole event it becomes. */
static int
cmd_person_event_edit_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return rc_edit(ctx, args, "person_event");
}
