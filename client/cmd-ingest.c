/* custody ingest: add files and directory trees to the archive as one signed commit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "ingest-list.h"

#define INGEST_WINDOW 16		/* files sent and not yet done: open descriptors */
#define INGEST_BIG_BYTES (64ull << 20)	/* show progress above this total... */
#define INGEST_BIG_FILES 100		/* ...or this many files */
#define INGEST_TICK_MS 200		/* progress redraw interval */
#define INGEST_BAR 20			/* progress bar width */

static int cmd_ingest_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_ingest_options[] = {
	{ "incident", required_argument, NULL, 'i' },
	{ "note", required_argument, NULL, 'N' },
	{ "files-from", required_argument, NULL, 'T' },
	{ "null", no_argument, NULL, '0' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_ingest_entry = {
	.name = "ingest",
	.usage = "[--incident ID] [--note TEXT] [-T|--files-from LIST [-0|--null]] [PATH...]",
	.help = "Add files as one signed commit; print 'SHA256  PATH' per file and a summary.\n"
	    "\n"
	    "A FILE is recorded under its base name. A DIRECTORY is ingested recursively: its\n"
	    "regular files, in name order, each recorded under its path below the directory\n"
	    "prefixed with the directory's own name ('ingest /data/scans/' records\n"
	    "'scans/box1/p001.tif'). Inside a directory, symbolic links are NOT followed and\n"
	    "FIFOs, sockets and devices are skipped, each with a warning (counted as skipped);\n"
	    "a symbolic link named as a PATH itself is followed.\n"
	    "--files-from LIST reads PATHs from LIST ('-' for standard input), one per line, or\n"
	    "NUL-terminated with -0; each is recorded under the path as written, less a leading\n"
	    "'/' and any '.' and '..' ('find scans -type f' gives the names 'ingest scans'\n"
	    "would).\n"
	    "Every PATH is checked before anything is sent: one that does not exist, cannot be\n"
	    "read or is not a file or directory refuses the whole batch, and nothing is recorded.\n"
	    "The files are one batch: one commit, one custody event naming them, one progress\n"
	    "bar on a terminal (files and bytes), then a summary on stderr: files, bytes, new,\n"
	    "duplicates (already in the archive, or twice in the batch) and skipped.",
	.optstring = "T:0",
	.options = cmd_ingest_options,
	.lower = 0,
	.upper = -1,
	.exec = cmd_ingest_exec,
};

struct ingest {
	struct client		 c;
	struct ingest_list	 l;
	struct ingest_file	*files;		/* l.files */
	size_t			 n, next, ndone;
	uint64_t		 total, base;	/* bytes in all files; in the done ones */
	int			 progress;	/* drawing a bar on stderr */
	int			 drawn;
	struct timespec		 start, last;
};

/* Milliseconds from a to b. */
static double
ingest_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Bytes the daemon has read so far: done files, plus the offsets of open descriptors. */
static uint64_t
ingest_bytes(const struct ingest *in)
{
	uint64_t sum = in->base;
	size_t i;
	off_t off;

	for (i = in->ndone; i < in->next; i++) {
		if (in->files[i].fd < 0 || (off = lseek(in->files[i].fd, 0, SEEK_CUR)) < 0)
			continue;
		sum += (uint64_t)off < in->files[i].size ? (uint64_t)off : in->files[i].size;
	}
	return sum > in->total ? in->total : sum;
}

/* Redraw the progress bar (at most every tick unless force). */
static void
ingest_draw(struct ingest *in, int force)
{
	char bar[INGEST_BAR + 1], done[16], total[16], rate[16];
	struct timespec now;
	uint64_t bytes;
	double secs;
	int i, fill, pct;

	if (!in->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && in->drawn && ingest_ms(&in->last, &now) < INGEST_TICK_MS)
		return;
	in->last = now;
	bytes = ingest_bytes(in);
	pct = in->total ? (int)(bytes * 100 / in->total) : (int)(in->ndone * 100 / in->n);
	fill = pct * INGEST_BAR / 100;
	for (i = 0; i < INGEST_BAR; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[INGEST_BAR] = '\0';
	if (in->ndone == in->n) {
		fprintf(stderr, "\r[%s] %3d%%  %s  committing...\033[K", bar, pct,
		    client_size(total, sizeof total, in->total));
		in->drawn = 1;
		return;
	}
	secs = ingest_ms(&in->start, &now) / 1e3;
	client_size(rate, sizeof rate, secs > 0.1 ? (uint64_t)((double)bytes / secs) : 0);
	fprintf(stderr, "\r[%s] %3d%%  %s / %s  %s/s  file %zu/%zu\033[K", bar, pct,
	    client_size(done, sizeof done, bytes), client_size(total, sizeof total, in->total),
	    rate, in->ndone < in->n ? in->ndone + 1 : in->n, in->n);
	in->drawn = 1;
}

/* Erase the progress bar. */
static void
ingest_clear(struct ingest *in)
{
	if (in->drawn)
		fputs("\r\033[K", stderr);
	in->drawn = 0;
}

/* Wait for the next reply, redrawing the bar meanwhile; no timeout. */
static void
ingest_wait(struct ingest *in)
{
	struct pollfd pfd = { .fd = in->c.fd, .events = POLLIN };
	int r;

	if (!in->progress)
		return;
	for (;;) {
		ingest_draw(in, 0);
		if ((r = poll(&pfd, 1, INGEST_TICK_MS)) > 0 || (r < 0 && errno != EINTR))
			return;
	}
}

/* Fail with the reason: nothing is committed unless the commit may have happened. */
static void __attribute__((noreturn))
ingest_fail(struct ingest *in, int committing)
{
	ingest_clear(in);
	if (committing && !in->c.peer_error)
		client_fatal("%s: the batch may or may not have been committed; check 'custody log'",
		    custody_error());
	client_fatal("%s (nothing was committed)", custody_error());
}

/* Open file i and send it with its descriptor. */
static void
ingest_send_file(struct ingest *in, size_t i)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__IngestFile msg = CUSTODY__INGEST_FILE__INIT;
	struct ingest_file *f = &in->files[i];
	struct stat st;

	if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (f->in_dir ? O_NOFOLLOW : 0))) < 0 || fstat(f->fd, &st) < 0) {
		custody_fail(CUSTODY_EIO, "%s: %s", f->path, strerror(errno));
		ingest_fail(in, 0);
	}
	if (!S_ISREG(st.st_mode)) {
		custody_fail(CUSTODY_EINVAL, "%s: no longer a regular file", f->path);
		ingest_fail(in, 0);
	}
	msg.index = (uint32_t)i;
	msg.name = f->name;
	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_FILE;
	env.ingest_file = &msg;
	if (client_send(&in->c, &env, &f->fd, 1) < 0)
		ingest_fail(in, 0);
}

/* Receive the IngestFileDone of the oldest outstanding file. */
static void
ingest_recv_done(struct ingest *in)
{
	struct ingest_file *f = &in->files[in->ndone];
	const Custody__IngestFileDone *d;
	Envelope *done;

	ingest_wait(in);
	if (client_recv(&in->c, CUSTODY__ENVELOPE__BODY_INGEST_FILE_DONE, &done) < 0)
		ingest_fail(in, 0);
	d = done->ingest_file_done;
	if (d->index != in->ndone || d->sha256 == NULL || !hex_is_lower(d->sha256, SHA256_HEX_LEN)) {
		custody_fail(CUSTODY_EPROTO, "custodyd sent a malformed reply for %s", f->path);
		ingest_fail(in, 0);
	}
	memcpy(f->sha256, d->sha256, SHA256_HEX_LEN);
	f->stored = d->size;
	f->duplicate = d->duplicate != 0;
	if ((f->media_type = strdup(d->media_type != NULL ? d->media_type : "")) == NULL)
		client_fatal("out of memory");
	wire_free(done);
	close(f->fd);
	f->fd = -1;
	in->base += f->size;
	in->ndone++;
	ingest_draw(in, 0);
}

/* Print a path like sha256sum does: a leading backslash when it had to escape. */
static void
ingest_print_line(const char *sha, const char *path)
{
	const char *p;

	if (strpbrk(path, "\\\n\r") == NULL) {
		printf("%s  %s\n", sha, path);
		return;
	}
	printf("\\%s  ", sha);
	for (p = path; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", stdout);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\r')
			fputs("\\r", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
}

/* Print the committed batch: a line per file on stdout, the summary on stderr. */
static void
ingest_report(struct ingest *in, const struct cmd_ctx *ctx, const Custody__IngestDone *d,
    const char *incident)
{
	json_t *o, *a, *e;
	size_t i, dup = 0;
	uint64_t bytes = 0;
	char *commit, size[16];

	for (i = 0; i < d->n_batch_duplicates; i++)	/* same bytes earlier in the batch */
		if (d->batch_duplicates[i] < in->n)
			in->files[d->batch_duplicates[i]].duplicate = 1;
	for (i = 0; i < in->n; i++) {
		dup += in->files[i].duplicate;
		bytes += in->files[i].stored;
	}
	if (ctx->json) {
		o = json_object();
		a = json_array();
		client_json_str(o, "commit", d->commit);
		client_json_u64(o, "seq", d->seq);
		if (incident != NULL)
			client_json_str(o, "incident", incident);
		client_json_u64(o, "bytes", bytes);
		client_json_u64(o, "new", in->n - dup);
		client_json_u64(o, "duplicates", dup);
		client_json_u64(o, "skipped", in->l.skipped);
		for (i = 0; i < in->n; i++) {
			const struct ingest_file *f = &in->files[i];

			e = json_object();
			client_json_str(e, "sha256", f->sha256);
			client_json_str(e, "name", f->name);
			client_json_str(e, "path", f->path);
			client_json_u64(e, "size", f->stored);
			client_json_str(e, "media_type", f->media_type);
			client_json_bool(e, "duplicate", f->duplicate);
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "files", a);
		client_json_print(o);
		return;
	}
	for (i = 0; i < in->n; i++)
		ingest_print_line(in->files[i].sha256, in->files[i].path);
	fflush(stdout);
	commit = client_safe(d->commit);
	fprintf(stderr, "committed %zu file%s as seq %llu (commit %.12s): %s, %zu new, "
	    "%zu duplicate%s, %zu skipped\n", in->n, in->n == 1 ? "" : "s",
	    (unsigned long long)d->seq, commit, client_size(size, sizeof size, bytes), in->n - dup,
	    dup, dup == 1 ? "" : "s", in->l.skipped);
	free(commit);
}

/* Gather and check, send with at most INGEST_WINDOW open, commit, then report. */
static int
cmd_ingest_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__IngestBegin begin = CUSTODY__INGEST_BEGIN__INIT;
	Custody__IngestCommit commit = CUSTODY__INGEST_COMMIT__INIT;
	const char *incident = cmd_get(args, 'i'), *note = cmd_get(args, 'N');
	const char *list = cmd_get(args, 'T');
	struct ingest in = { 0 };
	char *fixed;
	int changed;
	size_t i;

	if (incident != NULL && *incident == '\0')
		cmd_usage_error(args->entry, "--incident needs an ID");
	if (note != NULL) {
		fixed = client_utf8(note, &changed);
		free(fixed);
		if (changed)
			cmd_usage_error(args->entry, "--note is not valid UTF-8");
	}
	if (list == NULL && cmd_get(args, '0') != NULL)
		cmd_usage_error(args->entry, "-0 goes with --files-from");
	if (list == NULL && args->argc == 0)
		cmd_usage_error(args->entry, "give files or directories, or --files-from LIST");

	/* every path checked, every directory walked, before anything is sent */
	in.l.progress = isatty(STDERR_FILENO);
	for (i = 0; i < (size_t)args->argc; i++)
		ingest_list_arg(&in.l, args->argv[i]);
	if (list != NULL)
		ingest_list_from(&in.l, list, cmd_get(args, '0') != NULL);
	ingest_list_done(&in.l);
	if (in.l.n == 0)
		client_fatal("nothing to ingest: no regular files (%zu skipped)", in.l.skipped);
	in.files = in.l.files;
	in.n = in.l.n;
	in.total = in.l.total;
	client_open(&in.c, ctx);
	in.progress = isatty(STDERR_FILENO) &&
	    (in.total > INGEST_BIG_BYTES || in.n > INGEST_BIG_FILES);
	clock_gettime(CLOCK_MONOTONIC, &in.start);

	begin.incident = (char *)(incident != NULL ? incident : "");
	begin.note = (char *)(note != NULL ? note : "");
	begin.count = (uint32_t)in.n;
	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_BEGIN;
	env.ingest_begin = &begin;
	if (client_send(&in.c, &env, NULL, 0) < 0)
		ingest_fail(&in, 0);

	while (in.ndone < in.n) {
		for (; in.next < in.n && in.next - in.ndone < INGEST_WINDOW; in.next++)
			ingest_send_file(&in, in.next);
		ingest_recv_done(&in);
	}

	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_COMMIT;
	env.ingest_commit = &commit;
	if (client_send(&in.c, &env, NULL, 0) < 0)
		ingest_fail(&in, 0);	/* an unsent commit cannot have happened */
	ingest_wait(&in);
	if (client_recv(&in.c, CUSTODY__ENVELOPE__BODY_INGEST_DONE, &reply) < 0)
		ingest_fail(&in, 1);
	ingest_clear(&in);

	ingest_report(&in, ctx, reply->ingest_done, incident);
	wire_free(reply);
	ingest_list_free(&in.l);
	client_close(&in.c);
	return 0;
}
