/* custodyd: create an archive, run the daemon on it, rebuild its index. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "custody/lockmem.h"
#include "blobs-migrate.h"
#include "epochs.h"
#include "log.h"
#include "media.h"
#include "offices.h"
#include "server.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: custodyd init ARCHIVE --office NAME [--joining]\n"
	    "                [--passphrase-file FILE | --no-passphrase]\n"
	    "       custodyd join ARCHIVE INVITATION [--passphrase-file FILE]\n"
	    "       custodyd run ARCHIVE [--passphrase-file FILE] [--listen HOST:PORT] [-v]\n"
	    "       custodyd reindex ARCHIVE [--passphrase-file FILE]\n"
	    "       custodyd passwd ARCHIVE [--passphrase-file OLD]\n"
	    "                [--new-passphrase-file NEW | --no-passphrase]\n"
	    "       custodyd recover ARCHIVE --office NAME --share FILE... \n"
	    "                [--peer NAME HOST:PORT KEY] [--passphrase-file FILE | --no-passphrase]\n"
	    "       custodyd blobs migrate ARCHIVE --to rados|local [-v]\n"
	    "       custodyd --version\n");
	exit(2);
}

/* The first line of a passphrase file, in locked memory. */
static char *
read_passphrase_file(const char *path)
{
	char *p;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		fatal("cannot open passphrase file %s: %s", path, strerror(errno));
	if ((p = sodium_malloc(1025)) == NULL)
		fatal("out of memory");
	n = read_full(fd, p, 1024);
	close(fd);
	if (n < 0)
		fatal("cannot read passphrase file %s: %s", path, strerror(errno));
	p[n] = '\0';
	p[strcspn(p, "\r\n")] = '\0';
	if (p[0] == '\0')
		fatal("passphrase file %s is empty", path);
	return p;
}

/* Ask on the terminal, without echo. */
static char *
read_passphrase_tty(const char *prompt)
{
	struct termios old, quiet;
	char *p;

	if (!isatty(STDIN_FILENO))
		return NULL;
	if ((p = sodium_malloc(1025)) == NULL)
		fatal("out of memory");
	fprintf(stderr, "%s", prompt);
	tcgetattr(STDIN_FILENO, &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	if (fgets(p, 1025, stdin) == NULL)
		p[0] = '\0';
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	p[strcspn(p, "\r\n")] = '\0';
	return p;
}

static void
free_passphrase(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

/* No core dumps: they would hold keys and plaintext. */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0);
}

/* A new passphrase: from a file, or asked twice on the terminal; NULL with --no-passphrase. */
static char *
new_passphrase(const char *pfile, int nopass, const char *what, const char *prompt)
{
	char *pass, *again, *cause = NULL;

	if (nopass)
		return NULL;
	if (pfile != NULL)
		pass = read_passphrase_file(pfile);
	else if ((pass = read_passphrase_tty(prompt)) == NULL)
		fatal("give %s FILE, or --no-passphrase for an unattended archive", what);
	if (keys_check_passphrase(pass, &cause) < 0)
		fatal("%s", cause);
	if (pfile == NULL) {
		again = read_passphrase_tty("again: ");
		if (again == NULL || strcmp(pass, again) != 0)
			fatal("the passphrases differ");
		free_passphrase(again);
	}
	return pass;
}

/* As many descriptors as we may have: every client and peer connection holds one. */
static void
more_descriptors(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "office", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "no-passphrase", no_argument, NULL, 'n' },
		{ "joining", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *office = NULL, *pfile = NULL;
	char *pass = NULL, *cause = NULL;
	struct archive *a;
	int ch, nopass = 0, joining = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': office = optarg; break;
		case 'p': pfile = optarg; break;
		case 'n': nopass = 1; break;
		case 'j': joining = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || office == NULL || (pfile != NULL && nopass))
		usage();
	pass = new_passphrase(pfile, nopass, "--passphrase-file", "passphrase for the office key: ");
	umask(077);
	if (archive_create_ext(argv[optind], office, pass, joining, &cause) < 0)
		fatal("%s", cause);
	if (archive_open_ext(&a, argv[optind], pass, 0, joining, &cause) < 0 ||
	    (!joining && index_open(a, &cause) < 0))
		fatal("%s", cause);
	printf("%s\n256 %s %s (ED25519)\n", a->public_line, a->fingerprint, office);
	if (joining)
		log_info("this office holds no archive data key yet: an existing office runs "
		    "custody invite %s \"KEY LINE\" -o FILE, then run custodyd join %s FILE",
		    office, argv[optind]);
	archive_close(a);
	free_passphrase(pass);
	return 0;
}

/* Open an archive for run or reindex: lock, keys, index, sweep. */
static struct archive *
open_locked(int argc, char **argv, int *verbose)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen_addr = NULL;
	struct archive *a;
	char *pass = NULL, *cause = NULL;
	unsigned removed;
	int ch;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pass = read_passphrase_file(optarg); break;
		case 'v': *verbose = 1; break;
		case 'l': listen_addr = optarg; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (blobs_migrate_pending(argv[optind], &cause))
		fatal("%s", cause);
	if (archive_open(&a, argv[optind], pass, 1, &cause) < 0 && cause != NULL &&
	    strstr(cause, "give --passphrase-file") != NULL &&
	    (pass = read_passphrase_tty("passphrase for the office key: ")) != NULL) {
		free(cause);
		cause = NULL;
		if (archive_open(&a, argv[optind], pass, 1, &cause) < 0)
			fatal("%s", cause);
	} else if (cause != NULL)
		fatal("%s", cause);
	free_passphrase(pass);
	if (listen_addr != NULL) {	/* --listen overrides [daemon] listen */
		free(a->conf.listen);
		if ((a->conf.listen = strdup(listen_addr)) == NULL)
			fatal("out of memory");
	}
	if (archive_sweep_tmp(a) < 0)
		fatal("cannot sweep %s/tmp", a->path);
	if (archive_packs_sweep(a, &removed) < 0)
		fatal("%s", custody_error());
	if (removed > 0)
		log_info("removed %u pack file%s without %s pair from git/objects/pack", removed,
		    removed == 1 ? "" : "s", removed == 1 ? "its" : "their");
	if (index_open(a, &cause) < 0)
		fatal("%s", cause);
	return a;
}

static int
cmd_run(int argc, char **argv)
{
	struct archive *a;
	const char *warning;
	char *cause = NULL;
	int verbose = 0;

	no_core_dumps();
	more_descriptors();
	umask(007);
	a = open_locked(argc, argv, &verbose);
	log_set_verbose(verbose);
	if ((warning = lockmem_warning()) != NULL)	/* the worker threads check again */
		log_warn("%s", warning);
	if (media_open(&warning) < 0)
		log_warn("%s; media types come from a short table of signatures", warning);
	if (recover_pending(a))
		log_info("this office is being recovered: it writes nothing until a sync with a "
		    "peer brings back its own feed (custody sync PEER)");
	if (index_catch_up(a, 0) < 0)
		log_warn("index catch-up failed: %s (run custodyd reindex)", custody_error());
	else if (index_sweep_orphans(a) < 0)
		log_warn("%s", custody_error());
	/* retire revoked offices' epochs; rotate if a revocation took effect while stopped */
	if (!recover_pending(a) && epochs_after_revocations(a) < 0)
		log_warn("data-key rotation after a revocation failed: %s", custody_error());
	if (!recover_pending(a) && epochs_after_admissions(a) < 0)
		log_warn("data-key epochs for offices admitted since: %s", custody_error());
	if (server_run(a, &cause) < 0)
		fatal("%s", cause);
	archive_close(a);
	return 0;
}

/* Join with an invitation: take the data key, record the inviter as the first peer. */
static int
cmd_join(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	char *pass = NULL, *cause = NULL;
	int ch, error;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pass = read_passphrase_file(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 2)
		usage();
	no_core_dumps();
	umask(077);
	error = join_archive(argv[optind], argv[optind + 1], pass, &cause);
	if (error < 0 && cause != NULL && pass == NULL &&
	    strstr(cause, "give --passphrase-file") != NULL &&
	    (pass = read_passphrase_tty("passphrase for the office key: ")) != NULL) {
		free(cause);
		cause = NULL;
		error = join_archive(argv[optind], argv[optind + 1], pass, &cause);
	}
	free_passphrase(pass);
	if (error < 0)
		fatal("%s", cause != NULL ? cause : custody_error());
	return 0;
}

static int
cmd_reindex(int argc, char **argv)
{
	struct archive *a;
	int verbose = 0;

	no_core_dumps();
	a = open_locked(argc, argv, &verbose);
	if (index_catch_up(a, 1) < 0)
		fatal("reindex failed: %s", custody_error());
	log_info("index rebuilt");
	archive_close(a);
	return 0;
}

static void
usage_passwd(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: custodyd passwd ARCHIVE [--passphrase-file OLD]\n"
	    "                [--new-passphrase-file NEW | --no-passphrase]\n"
	    "Seal the office key under a new passphrase (Argon2id, its limits stored with the\n"
	    "key), or store it without one (--no-passphrase, unattended). The current passphrase\n"
	    "must open the key first; keys/office.key is replaced atomically. Without files both\n"
	    "passphrases are asked on the terminal. The daemon may keep running.\n");
	exit(status);
}

static int
cmd_passwd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "new-passphrase-file", required_argument, NULL, 'P' },
		{ "no-passphrase", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *newfile = NULL;
	char *old = NULL, *pass, *cause = NULL;
	struct archive *a;
	int ch, nopass = 0, error;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': old = read_passphrase_file(optarg); break;
		case 'P': newfile = optarg; break;
		case 'n': nopass = 1; break;
		case 'h': usage_passwd(0); break;
		default: usage_passwd(2);
		}
	}
	if (optind != argc - 1 || (newfile != NULL && nopass))
		usage_passwd(2);
	no_core_dumps();
	umask(077);
	/* the old passphrase first: a wrong one stops us before a new one is asked */
	error = passwd_open(&a, argv[optind], old, &cause);
	if (error < 0 && old == NULL && cause != NULL &&
	    strstr(cause, "give --passphrase-file") != NULL &&
	    (old = read_passphrase_tty("current passphrase for the office key: ")) != NULL) {
		free(cause);
		cause = NULL;
		error = passwd_open(&a, argv[optind], old, &cause);
	}
	if (error < 0)
		fatal("%s", cause);
	pass = new_passphrase(newfile, nopass, "--new-passphrase-file",
	    "new passphrase for the office key: ");
	if (passwd_reseal(a, pass, &cause) < 0)
		fatal("%s", cause);
	archive_close(a);
	free_passphrase(old);
	free_passphrase(pass);
	return 0;
}

static void
usage_recover(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: custodyd recover ARCHIVE --office NAME --share FILE [--share FILE...]\n"
	    "                [--peer NAME HOST:PORT KEY] [--passphrase-file FILE | --no-passphrase]\n"
	    "Rebuild a lost office in a new ARCHIVE from enough of its recovery shares (made by\n"
	    "custody keys split; binary or typed-back text). Every share is checked: a damaged\n"
	    "share or one of another office is refused by name. The restored key must match the\n"
	    "key the shares carry. The peer (an office holding copies of our feeds) is pinned;\n"
	    "then start custodyd run and custody sync: the office takes back its own feed and\n"
	    "evidence, and writes nothing of its own until that first sync.\n");
	exit(status);
}

static int
cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "office", required_argument, NULL, 'o' },
		{ "share", required_argument, NULL, 's' },
		{ "peer", required_argument, NULL, 'r' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "no-passphrase", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *office = NULL, *pfile = NULL, *peer[3] = { NULL, NULL, NULL };
	const char **shares;
	char *pass, *cause = NULL;
	size_t nshares = 0;
	int ch, nopass = 0;

	if ((shares = calloc((size_t)argc, sizeof *shares)) == NULL)
		fatal("out of memory");
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': office = optarg; break;
		case 's': shares[nshares++] = optarg; break;
		case 'r':
			/* --peer NAME HOST:PORT KEY: the two words after NAME */
			if (optind + 1 >= argc)
				usage_recover(2);
			peer[0] = optarg;
			peer[1] = argv[optind++];
			peer[2] = argv[optind++];
			break;
		case 'p': pfile = optarg; break;
		case 'n': nopass = 1; break;
		case 'h': usage_recover(0); break;
		default: usage_recover(2);
		}
	}
	if (optind != argc - 1 || office == NULL || nshares == 0 || (pfile != NULL && nopass))
		usage_recover(2);
	no_core_dumps();
	umask(077);
	pass = new_passphrase(pfile, nopass, "--passphrase-file",
	    "passphrase for the office key: ");
	if (recover_archive(argv[optind], office, shares, nshares, pass, peer[0], peer[1],
	    peer[2], &cause) < 0)
		fatal("%s", cause != NULL ? cause : custody_error());
	free_passphrase(pass);
	free(shares);
	return 0;
}

static void
usage_blobs(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: custodyd blobs migrate ARCHIVE --to rados|local [-v]\n"
	    "Move the archive's evidence blobs from the store custody.conf's [blobs] section\n"
	    "names to the other one (the RADOS settings come from that section). Each object is\n"
	    "copied, read back from its new store and hashed, and only then removed from the old\n"
	    "one; an object whose bytes do not match its name is named and kept. custodyd must\n"
	    "be stopped; it will not start again until the migration is done. Killed, the\n"
	    "command takes up where it was when run again. At the end [blobs] store is set.\n"
	    "-v names every object moved.\n");
	exit(status);
}

struct blobs_progress {
	int	verbose;
	double	last;		/* when progress was last printed (monotonic seconds) */
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One object handled: its line with -v, a progress line at most every second. */
static void
blobs_progress_cb(void *arg, enum blobs_migrate_event ev, const char *name, uint64_t size,
    const char *why, const struct blobs_migrate_stats *st)
{
	struct blobs_progress *p = arg;
	double t = now_seconds();

	switch (ev) {
	case BLOBS_MIGRATE_BAD:
		fprintf(stderr, "custodyd: %s\n", why);
		return;
	case BLOBS_MIGRATE_RECOPIED:
		fprintf(stderr, "custodyd: blob %s was damaged in the new store (an earlier run's "
		    "copy?): removed there, copied again\n", name);
		return;
	case BLOBS_MIGRATE_MOVED:
	case BLOBS_MIGRATE_PRESENT:
		if (p->verbose)
			printf("%s %s %llu\n", ev == BLOBS_MIGRATE_MOVED ? "moved" : "there", name,
			    (unsigned long long)size);
		break;
	}
	if (t - p->last >= 1.0 || st->done == st->objects) {
		printf("%llu of %llu objects, %.1f of %.1f MiB\n", (unsigned long long)st->done,
		    (unsigned long long)st->objects, (double)st->done_bytes / 1048576.0,
		    (double)st->bytes / 1048576.0);
		p->last = t;
	}
	fflush(stdout);
}

static int
cmd_blobs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct blobs_progress progress = { 0 };
	struct blobs_migrate_stats st;
	enum blobstore_kind to = BLOBSTORE_LOCAL;
	const char *target = NULL;
	char *cause = NULL;
	int ch, r;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		usage_blobs(0);
	if (argc < 2 || strcmp(argv[1], "migrate") != 0)
		usage_blobs(2);
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (ch) {
		case 't': target = optarg; break;
		case 'v': progress.verbose = 1; break;
		case 'h': usage_blobs(0); break;
		default: usage_blobs(2);
		}
	}
	if (optind != argc - 1 || target == NULL)
		usage_blobs(2);
	if (strcmp(target, "rados") == 0)
		to = BLOBSTORE_RADOS;
	else if (strcmp(target, "local") != 0)
		fatal("--to %s: the blob store is local or rados", target);
	umask(077);
	progress.last = now_seconds();
	r = blobs_migrate_archive(argv[optind], to, blobs_progress_cb, &progress, &st, &cause);
	if (r < 0)
		fatal("%s", cause != NULL ? cause : custody_error());
	if (r == 0 && cause != NULL) {	/* nothing to do */
		printf("%s\n", cause);
		free(cause);
		return 0;
	}
	printf("moved %llu objects (%.1f MiB) to the %s store; %llu were there already; "
	    "%llu refused\n", (unsigned long long)st.moved, (double)st.moved_bytes / 1048576.0,
	    target, (unsigned long long)st.present, (unsigned long long)st.bad);
	if (r > 0)
		fatal("%s", cause);
	printf("custody.conf: [blobs] store = %s\n", target);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	lockmem_main_stack();	/* before any key reaches the stack */
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "--version") == 0) {
		printf("custodyd %s\n", CUSTODY_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "join") == 0)
		return cmd_join(argc - 1, argv + 1);
	if (strcmp(argv[1], "reindex") == 0)
		return cmd_reindex(argc - 1, argv + 1);
	if (strcmp(argv[1], "passwd") == 0)
		return cmd_passwd(argc - 1, argv + 1);
	if (strcmp(argv[1], "recover") == 0)
		return cmd_recover(argc - 1, argv + 1);
	if (strcmp(argv[1], "blobs") == 0)
		return cmd_blobs(argc - 1, argv + 1);
	usage();
}
