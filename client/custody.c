/* custody: the client of custodyd. Global options, then one command from the table. */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "custody/lockmem.h"

enum {
	OPT_SOCKET = 256,
	OPT_JSON,
	OPT_VERSION,
};

/* Print the global usage to f. */
static void
usage(FILE *f)
{
	fprintf(f, "usage: custody [-A ARCHIVE] [--socket PATH] [--json] COMMAND [ARGS...]\n"
	    "       custody --help | --version\n\n"
	    "  -A, --archive ARCHIVE  the archive whose custodyd to use (default: $CUSTODY_ARCHIVE,\n"
	    "                         else $XDG_DATA_HOME/custody, else ~/.local/share/custody)\n"
	    "  --socket PATH          connect to custodyd at PATH (default: ARCHIVE/custodyd.sock)\n"
	    "  --json                 machine-readable output on stdout\n\n");
	cmd_list(f);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "archive", required_argument, NULL, 'A' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_ctx ctx = { 0 };
	struct rlimit nocore = { 0, 0 };
	int c, status;

	/* get and verify-dossier hold plaintext and identity keys: never in a core dump */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0);
	lockmem_main_stack();	/* identity keys and libsodium's temporaries on this stack */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:A:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'A':
			if (*optarg == '\0')
				goto bad;
			ctx.archive = optarg;
			break;
		case OPT_SOCKET:
			if (*optarg == '\0')
				goto bad;
			ctx.socket = optarg;
			break;
		case OPT_JSON:
			ctx.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("custody %s (protocol %d)\n", CUSTODY_VERSION,
			    CUSTODY_PROTOCOL_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "custody: option %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "custody: unknown option %s (see 'custody --help')\n",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "custody: missing command (see 'custody --help')\n");
		return 2;
	}
	status = cmd_run(&ctx, argc - optind, argv + optind);
	if (client_finish_stdout() != 0 && status == 0)
		status = 1;
	return status;

bad:
	fprintf(stderr, "custody: option %s needs a non-empty value\n", argv[optind - 1]);
	return 2;
}
