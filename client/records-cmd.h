/*
 * What the record commands share: record fields given as options, the add / edit / show /
 * list requests for any kind, RecordList streams and RecordDone replies.
 */
#ifndef CUSTODY_RECORDS_CMD_H
#define CUSTODY_RECORDS_CMD_H

#include <stdint.h>

#include <jansson.h>

#include "client.h"
#include "cmd.h"
#include "custody/records.h"
#include "records-out.h"

/*
 * Option values RC_FIELD + i name record fields. A field's option is its name with '-' for '_'
 * ("--date-of-death"); the same name with '_' may be listed too, with the same value.
 */
#define RC_FIELD 128
#define RC_FIELD_MAX 64
#define RC_OPT(name, i) { name, required_argument, NULL, RC_FIELD + (i) }
/*
 * A kind's field options generated from the field table of custody/records.h, in a command
 * file of one kind: enum { RC_FV_id, RECORD_VICTIM_FIELDS(RC_FIELD_VAL) }; gives every field
 * its option value, RECORD_VICTIM_FIELDS(RC_FIELD_OPTS) its two spellings ("date-of-death" and
 * "date_of_death"), and RECORD_VICTIM_FIELDS(RC_FIELD_USAGE) the usage text of them all.
 */
#define RC_FIELD_VAL(name, option, type, words, required, usage) RC_FV_##name,
#define RC_FIELD_OPTS(name, option, type, words, required, usage) \
	RC_OPT(option, RC_FV_##name), RC_OPT(#name, RC_FV_##name),
#define RC_FIELD_USAGE(name, option, type, words, required, usage) usage
#define RC_OPT_UNSET CLIENT_OPT_REPEAT	/* --unset FIELD, repeatable */
#define RC_OPT_LIMIT 'n'
#define RC_OPT_FORMAT 'f'

/* The record fields given on the command line, in option-table order. */
struct rc_fields {
	const char	*names[RC_FIELD_MAX];
	const char	*values[RC_FIELD_MAX];
	char		 buf[RC_FIELD_MAX][48];
	size_t		 n;
};
void rc_fields_get(struct rc_fields *out, const struct cmd_args *args);

/* The default vocabularies (what the daemon checks against unless its office changed them). */
void rc_vocab(struct vocab *v);
/* A --limit style number (0 when absent); a usage error unless it is a plain decimal. */
/* The filter options of `query victims` but --incident, read by rc_query_filters. */
#define RC_QUERY_OPTIONS \
	{ "from", required_argument, NULL, 'F' }, \
	{ "to", required_argument, NULL, 'T' }, \
	{ "basis", required_argument, NULL, 'b' }, \
	{ "party", required_argument, NULL, 'p' }, \
	{ "governorate", required_argument, NULL, 'g' }, \
	{ "cause", required_argument, NULL, 'c' }, \
	{ "category", required_argument, NULL, 'k' }, \
	{ "child", no_argument, NULL, 'C' }, \
	{ "woman", no_argument, NULL, 'W' }, \
	{ "limit", required_argument, NULL, RC_OPT_LIMIT }

/* An option's value, or "" when absent; a given but empty value is a usage error. */
char *rc_opt(const struct cmd_args *args, int val, const char *flag);
/* The filters of `query victims` but --incident, checked, into q; 1 when any was given. */
int rc_query_filters(Custody__QueryRequest *q, const struct cmd_args *args);
uint32_t rc_number(const struct cmd_args *args, int val, const char *flag);
/*
 * --status S (option sval) and --at D (aval) of a person query, checked, into q; with a status
 * and no --at, today (UTC) into today, which q->at then points to.
 */
void rc_person_status(Custody__PersonQueryRequest *q, const struct cmd_args *args, int sval,
    int aval, char today[static 11]);

/* Send env; on failure exit 1 saying nothing was written. */
void rc_send(struct client *c, const Envelope *env);
/* Receive the RecordDone that answers a commit, edit or link; exit 1 with the reason. */
Envelope *rc_recv_done(struct client *c, int committing);
/* Receive RecordList messages until one says more=false; every record in one array. */
json_t *rc_recv_list(struct client *c);
/* Print them as rout_records does (CSV and JSON as they come, never held whole). */
void rc_print_list(struct client *c, const char *kind, const char *const *cols,
    enum rout_format fmt);

int rc_add(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind);
/* rc_add of fields gathered by the caller (rc_fields_get and more). */
int rc_add_fields(const struct cmd_ctx *ctx, const struct rc_fields *f, const char *kind);
int rc_edit(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind);
int rc_show(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind);
int rc_list(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind,
    const char *const *cols);
/*
 * cmd-report.c: the period of --month, --year or --from and --to into from/to (11 bytes each,
 * YYYY-MM-DD); a usage error when they are missing, mixed or not real dates.
 */
void report_period(const struct cmd_args *args, char *from, char *to);

#endif
