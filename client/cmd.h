/*
 * The command table: every client command is one struct cmd_entry in its own client/cmd-*.c.
 * cmd.c finds the entry, parses its options, checks the argument count and handles --help and
 * --json, so each command's exec function only does its work.
 */
#ifndef CUSTODY_CMD_H
#define CUSTODY_CMD_H

#include <getopt.h>
#include <stdio.h>

/* Global options, as given before the command. NULL when not given. */
struct cmd_ctx {
	const char	*archive;	/* -A ARCHIVE */
	const char	*socket;	/* --socket PATH */
	int		 json;		/* --json, before or after the command */
};

struct cmd_entry;

/* A command's parsed arguments. */
struct cmd_args {
	const struct cmd_entry	*entry;
	const char		*opt[256];	/* by option value: its argument, "" when none */
	int			 argc;		/* positional arguments */
	char			**argv;
};

struct cmd_entry {
	const char		*name;		/* "status", "keys show" */
	const char		*usage;		/* what follows the name: "[-f] ID -o FILE" */
	const char		*help;		/* one line saying what it does (more lines,
						   after a '\n', only in COMMAND --help) */
	const char		*optstring;	/* short options (getopt syntax), or NULL */
	const struct option	*options;	/* long options, {0}-terminated, or NULL; each
						   val (< 256) is the key in cmd_args.opt */
	int			 lower;		/* fewest positional arguments */
	int			 upper;		/* most; -1 for no limit */
	/* Returns the exit status: 0 ok, 1 failure. Usage errors go through cmd_usage_error. */
	int			(*exec)(const struct cmd_ctx *, const struct cmd_args *);
};

extern const struct cmd_entry *cmd_table[];

/* Run the command named at argv[0] (argv[1] too for two-word commands); returns exit status. */
int cmd_run(struct cmd_ctx *ctx, int argc, char **argv);
extern const struct cmd_ctx *cmd_current;
/* Print the list of commands to f. */
void cmd_list(FILE *f);
/* An option's argument, or NULL when it was not given. */
const char *cmd_get(const struct cmd_args *args, int val);
/* Print "custody NAME: MESSAGE" and the command's usage line to stderr, exit 2. */
void cmd_usage_error(const struct cmd_entry *entry, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
