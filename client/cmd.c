/* The command table, command lookup, per-command option parsing, --help and usage errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"


/* The context of the command running (for helpers that must reach the daemon). */
const struct cmd_ctx *cmd_current;

/* The joined arguments of repeated options (CLIENT_OPT_REPEAT and above), "a,b,c". */
static char cmd_repeat_buf[CLIENT_OPT_REPEAT_MAX];
static size_t cmd_repeat_used;

extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_ingest_entry;
extern const struct cmd_entry cmd_get_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_verify_dossier_entry;
extern const struct cmd_entry cmd_recipient_add_entry;
extern const struct cmd_entry cmd_recipient_list_entry;
extern const struct cmd_entry cmd_extract_entry;
extern const struct cmd_entry cmd_audit_entry;
extern const struct cmd_entry cmd_keys_show_entry;
extern const struct cmd_entry cmd_keys_allowed_signers_entry;
extern const struct cmd_entry cmd_keys_split_entry;
extern const struct cmd_entry cmd_keys_rotate_entry;
extern const struct cmd_entry cmd_keys_rotate_data_entry;
extern const struct cmd_entry cmd_peer_add_entry;
extern const struct cmd_entry cmd_peer_set_entry;
extern const struct cmd_entry cmd_peer_remove_entry;
extern const struct cmd_entry cmd_peers_entry;
extern const struct cmd_entry cmd_sync_entry;
extern const struct cmd_entry cmd_invite_entry;
extern const struct cmd_entry cmd_invite_withdraw_entry;
extern const struct cmd_entry cmd_victim_add_entry;
extern const struct cmd_entry cmd_victim_edit_entry;
extern const struct cmd_entry cmd_victim_show_entry;
extern const struct cmd_entry cmd_victim_list_entry;
extern const struct cmd_entry cmd_incident_add_entry;
extern const struct cmd_entry cmd_incident_edit_entry;
extern const struct cmd_entry cmd_incident_show_entry;
extern const struct cmd_entry cmd_incident_list_entry;
extern const struct cmd_entry cmd_source_add_entry;
extern const struct cmd_entry cmd_source_show_entry;
extern const struct cmd_entry cmd_source_list_entry;
extern const struct cmd_entry cmd_person_add_entry;
extern const struct cmd_entry cmd_person_edit_entry;
extern const struct cmd_entry cmd_person_show_entry;
extern const struct cmd_entry cmd_person_list_entry;
extern const struct cmd_entry cmd_person_event_entry;
extern const struct cmd_entry cmd_person_event_edit_entry;
extern const struct cmd_entry cmd_person_case_entry;
extern const struct cmd_entry cmd_site_add_entry;
extern const struct cmd_entry cmd_site_edit_entry;
extern const struct cmd_entry cmd_site_show_entry;
extern const struct cmd_entry cmd_site_list_entry;
extern const struct cmd_entry cmd_sites_entry;
extern const struct cmd_entry cmd_import_persons_entry;
extern const struct cmd_entry cmd_import_person_events_entry;
extern const struct cmd_entry cmd_import_sites_entry;
extern const struct cmd_entry cmd_link_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_import_victims_entry;
extern const struct cmd_entry cmd_import_incidents_entry;
extern const struct cmd_entry cmd_duplicates_entry;
extern const struct cmd_entry cmd_query_victims_entry;
extern const struct cmd_entry cmd_query_persons_entry;
extern const struct cmd_entry cmd_report_detentions_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_office_revoke_entry;
extern const struct cmd_entry cmd_office_revocations_entry;
extern const struct cmd_entry cmd_bundle_create_entry;
extern const struct cmd_entry cmd_bundle_apply_entry;

const struct cmd_entry *cmd_table[] = {
	&cmd_status_entry,
	&cmd_ingest_entry,
	&cmd_get_entry,
	&cmd_show_entry,
	&cmd_log_entry,
	&cmd_verify_entry,
	&cmd_verify_dossier_entry,
	&cmd_keys_show_entry,
	&cmd_keys_allowed_signers_entry,
	&cmd_keys_split_entry,
	&cmd_keys_rotate_entry,
	&cmd_keys_rotate_data_entry,
	&cmd_peer_add_entry,
	&cmd_peer_set_entry,
	&cmd_peer_remove_entry,
	&cmd_peers_entry,
	&cmd_sync_entry,
	&cmd_invite_withdraw_entry,
	&cmd_invite_entry,
	&cmd_victim_add_entry,
	&cmd_victim_edit_entry,
	&cmd_victim_show_entry,
	&cmd_victim_list_entry,
	&cmd_incident_add_entry,
	&cmd_incident_edit_entry,
	&cmd_incident_show_entry,
	&cmd_incident_list_entry,
	&cmd_source_add_entry,
	&cmd_source_show_entry,
	&cmd_source_list_entry,
	&cmd_person_add_entry,
	&cmd_person_edit_entry,
	&cmd_person_show_entry,
	&cmd_person_list_entry,
	&cmd_person_event_entry,
	&cmd_person_event_edit_entry,
	&cmd_person_case_entry,
	&cmd_site_add_entry,
	&cmd_site_edit_entry,
	&cmd_site_show_entry,
	&cmd_site_list_entry,
	&cmd_sites_entry,
	&cmd_link_entry,
	&cmd_history_entry,
	&cmd_import_victims_entry,
	&cmd_import_incidents_entry,
	&cmd_import_persons_entry,
	&cmd_import_person_events_entry,
	&cmd_import_sites_entry,
	&cmd_duplicates_entry,
	&cmd_query_victims_entry,
	&cmd_query_persons_entry,
	&cmd_report_detentions_entry,
	&cmd_report_entry,
	&cmd_recipient_add_entry,
	&cmd_recipient_list_entry,
	&cmd_extract_entry,
	&cmd_audit_entry,
	&cmd_office_revoke_entry,
	&cmd_office_revocations_entry,
	&cmd_bundle_create_entry,
	&cmd_bundle_apply_entry,
	NULL
};

/* Option values every command accepts; above any character a command may use. */
#define CMD_OPT_HELP 'h'
#define CMD_OPT_JSON 255
#define CMD_MAX_OPTIONS 48

/* Print every command's usage line. */
void
cmd_list(FILE *f)
{
	const struct cmd_entry **e;

	fprintf(f, "commands:\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "  %-22s %.*s\n", (*e)->name, (int)strcspn((*e)->help, "\n"),
		    (*e)->help);	/* the first line: the rest is for COMMAND --help */
	fprintf(f, "\nRun 'custody COMMAND --help' for a command's arguments.\n");
}

/* Print one command's usage line to f. */
static void
cmd_print_usage(FILE *f, const struct cmd_entry *entry)
{
	fprintf(f, "usage: custody %s%s%s\n", entry->name, *entry->usage ? " " : "",
	    entry->usage);
}

/* Print a usage error for entry and exit 2. */
void
cmd_usage_error(const struct cmd_entry *entry, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "custody %s: ", entry->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_print_usage(stderr, entry);
	exit(2);
}

/* Print a command's full help to stdout. */
static void
cmd_help(const struct cmd_entry *entry)
{
	cmd_print_usage(stdout, entry);
	printf("\n%s\n\nEvery command also takes --json (machine-readable output on stdout) "
	    "and --help.\n", entry->help);
}

/* An option's argument, or NULL. */
const char *
cmd_get(const struct cmd_args *args, int val)
{
	if (val < 0 || val >= (int)(sizeof args->opt / sizeof args->opt[0]))
		return NULL;
	return args->opt[val];
}

/* Find the entry named by argv[0] and, for two-word commands, argv[1]; *words says how many. */
static const struct cmd_entry *
cmd_find(int argc, char **argv, int *words)
{
	const struct cmd_entry **e;
	size_t n = strlen(argv[0]);

	for (e = cmd_table; *e != NULL; e++) {
		const char *name = (*e)->name;

		if (strcmp(name, argv[0]) == 0) {
			*words = 1;
			return *e;
		}
		if (strncmp(name, argv[0], n) == 0 && name[n] == ' ' && argc > 1 &&
		    strcmp(name + n + 1, argv[1]) == 0) {
			*words = 2;
			return *e;
		}
	}
	return NULL;
}

/* True when some two-word command starts with word (like "keys"). */
static int
cmd_is_group(const char *word)
{
	const struct cmd_entry **e;
	size_t n = strlen(word);

	for (e = cmd_table; *e != NULL; e++)
		if (strncmp((*e)->name, word, n) == 0 && (*e)->name[n] == ' ')
			return 1;
	return 0;
}

/* Print the subcommands of a group like "keys". */
static void
cmd_group_usage(FILE *f, const char *word)
{
	const struct cmd_entry **e;
	size_t n = strlen(word);

	for (e = cmd_table; *e != NULL; e++)
		if (strncmp((*e)->name, word, n) == 0 && (*e)->name[n] == ' ')
			cmd_print_usage(f, *e);
}

/* Build the long option table: the entry's own, then --help and --json. */
static void
cmd_build_options(struct option *out, const struct cmd_entry *entry)
{
	size_t n = 0;

	if (entry->options != NULL)
		for (; entry->options[n].name != NULL && n < CMD_MAX_OPTIONS - 3; n++)
			out[n] = entry->options[n];
	out[n++] = (struct option){ "help", no_argument, NULL, CMD_OPT_HELP };
	out[n++] = (struct option){ "json", no_argument, NULL, CMD_OPT_JSON };
	out[n] = (struct option){ 0 };
}

/* A repeatable option given again: append ",optarg" to what it holds. */
static void
cmd_repeat(struct cmd_args *args, int c, const struct cmd_entry *entry)
{
	size_t had = strlen(args->opt[c]), more = strlen(optarg);
	char *dst = cmd_repeat_buf + cmd_repeat_used;

	if (cmd_repeat_used + had + more + 2 > sizeof cmd_repeat_buf)
		cmd_usage_error(entry, "too many repeated options");
	memcpy(dst, args->opt[c], had);
	dst[had] = ',';
	memcpy(dst + had + 1, optarg, more + 1);
	cmd_repeat_used += had + more + 2;
	args->opt[c] = dst;
}

/* Parse the options of entry from argv (argv[0] is the command word). */
static void
cmd_parse(struct cmd_args *args, struct cmd_ctx *ctx, const struct cmd_entry *entry, int argc,
    char **argv)
{
	struct option longopts[CMD_MAX_OPTIONS];
	char optstring[64];
	int c, longindex;

	cmd_build_options(longopts, entry);
	snprintf(optstring, sizeof optstring, ":%sh", entry->optstring ? entry->optstring : "");
	memset(args, 0, sizeof *args);
	args->entry = entry;
	opterr = 0;
	optind = 0;	/* glibc: start afresh after main's own parse */
	while ((longindex = -1, c = getopt_long(argc, argv, optstring, longopts,
	    &longindex)) != -1) {
		switch (c) {
		case CMD_OPT_HELP:
			cmd_help(entry);
			exit(0);
		case CMD_OPT_JSON:
			ctx->json = 1;
			break;
		case ':':
			cmd_usage_error(entry, "option %s needs a value", argv[optind - 1]);
		case '?':
			if (strncmp(argv[optind - 1], "--", 2) != 0)
				cmd_usage_error(entry, "unknown option -%c", optopt);
			if (strchr(argv[optind - 1], '=') != NULL && optopt != 0)
				cmd_usage_error(entry, "option %.*s takes no value",
				    (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			cmd_usage_error(entry, "unknown option %s", argv[optind - 1]);
		default:
			if (c > 0 && c < CMD_OPT_JSON) {
				if (args->opt[c] != NULL && optarg != NULL && c >= CLIENT_OPT_REPEAT) {
					cmd_repeat(args, c, entry);
					break;
				}
				if (args->opt[c] != NULL && optarg != NULL && longindex >= 0)
					cmd_usage_error(entry, "option --%s given twice",
					    longopts[longindex].name);
				if (args->opt[c] != NULL && optarg != NULL)
					cmd_usage_error(entry, "option -%c given twice", c);
				args->opt[c] = optarg != NULL ? optarg : "";
			}
			break;
		}
	}
	args->argc = argc - optind;
	args->argv = argv + optind;
	if (args->argc < entry->lower)
		cmd_usage_error(entry, "too few arguments");
	if (entry->upper >= 0 && args->argc > entry->upper)
		cmd_usage_error(entry, "too many arguments");
}

/* Find, parse and run one command. */
int
cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *entry;
	struct cmd_args args;
	int words;

	if ((entry = cmd_find(argc, argv, &words)) == NULL) {
		if (cmd_is_group(argv[0])) {
			int help = argc > 1 && (strcmp(argv[1], "--help") == 0 ||
			    strcmp(argv[1], "-h") == 0);

			if (argc > 1 && !help)
				fprintf(stderr, "custody %s: unknown subcommand: %s\n", argv[0],
				    argv[1]);
			else if (!help)
				fprintf(stderr, "custody %s: missing subcommand\n", argv[0]);
			cmd_group_usage(help ? stdout : stderr, argv[0]);
			return help ? 0 : 2;
		}
		fprintf(stderr, "custody: unknown command: %s (see 'custody --help')\n", argv[0]);
		return 2;
	}
	cmd_parse(&args, ctx, entry, argc - (words - 1), argv + (words - 1));
	cmd_current = ctx;
	return entry->exec(ctx, &args);
}
