/*
 * custody import victims|incidents|persons|person-events|sites FILE.csv: check every row here and send the valid ones to
 * the daemon in batches as they are checked, in one pass over the file, so that the daemon's
 * work overlaps the reading; the whole import becomes one signed commit, asked for only when
 * every row was valid. A bad row (or a count announced wrong) leaves the batch uncommitted:
 * the daemon drops it when the connection closes, and nothing is written. With --skip-invalid
 * and bad rows, the file is read again to send exactly the valid rows. A repeated id is found
 * in memory that does not grow with the file: the first pass keeps the ids in a filter that
 * can only say "maybe seen", and a second reading, only when it said so, names the repeats.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "custody/seen.h"
#include "records-cmd.h"
#include "records-out.h"

#define IMPORT_PIECE (1u << 20)		/* bytes read and parsed at a time */
#define IMPORT_BATCH_BYTES (2u << 20)	/* values per RecordBatch (frames hold 4 MiB) */
#define IMPORT_BATCH_RECORDS 5000
#define IMPORT_BIG (10ull * 1000 * 1000)	/* show progress above this file size */
#define IMPORT_TICK_MS 200
#define IMPORT_BAR 20
/*
 * The filter of the ids seen (custody/seen.h): two bits for each byte of the file, up to 8 MiB.
 * Rows of 1,000,000 ids left 0-1 false alarms in five tries, 2,000,000 left 1-4, 10,000,000
 * about 111,000 (a suspect costs some 50 bytes). Any false alarm or repeat costs one more
 * reading of the file, to tell which.
 */
#define IMPORT_SEEN_MIN (4u << 10)
#define IMPORT_SEEN_MAX (8u << 20)

static int cmd_import_victims_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_import_incidents_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_import_persons_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_import_person_events_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_import_sites_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_import_options[] = {
	{ "skip-invalid", no_argument, NULL, 's' },
	{ "skip_invalid", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_import_victims_entry = {
	.name = "import victims",
	.usage = "[--skip-invalid] FILE.csv",
	.help = "Import victims from a CSV file as one commit.",
	.options = cmd_import_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_import_victims_exec,
};

const struct cmd_entry cmd_import_incidents_entry = {
	.name = "import incidents",
	.usage = "[--skip-invalid] FILE.csv",
	.help = "Import incidents from a CSV file as one commit.",
	.options = cmd_import_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_import_incidents_exec,
};

const struct cmd_entry cmd_import_persons_entry = {
	.name = "import persons",
	.usage = "[--skip-invalid] FILE.csv",
	.help = "Import missing or detained persons from a CSV file as one commit.",
	.options = cmd_import_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_import_persons_exec,
};

const struct cmd_entry cmd_import_person_events_entry = {
	.name = "import person-events",
	.usage = "[--skip-invalid] FILE.csv",
	.help = "Import person events from a CSV file as one commit (their persons must exist).",
	.options = cmd_import_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_import_person_events_exec,
};

const struct cmd_entry cmd_import_sites_entry = {
	.name = "import sites",
	.usage = "[--skip-invalid] FILE.csv",
	.help = "Import sites from a CSV file as one commit.",
	.options = cmd_import_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_import_sites_exec,
};

struct import {
	const char	*path, *kind, *plural;
	const struct cmd_ctx *ctx;
	char		*origin;		/* path in valid UTF-8 */
	int		 fd, skip_invalid, sending;
	int		 open, broken, eof;	/* begun; cannot commit; last flush */
	uint32_t	 count;			/* announced in the RecordBegin */
	int		 header_bad;		/* the header's problems were printed */
	json_t		*problems;		/* for --json: every problem found here */
	struct vocab	 vocab;
	unsigned long	 valid, invalid;	/* rows of the first pass */
	unsigned long	 sent;			/* valid rows batched to be sent */
	struct seen	*seen;			/* the ids of the first pass */
	int		 resolving;		/* the second look at the ids seen twice */
	struct client	 c;
	struct csv_import *ci;			/* the pass under way */
	ProtobufCBinaryData *cols;		/* the header, sent in the RecordBegin */
	size_t		 ncols;
	Custody__RecordRow *rows[IMPORT_BATCH_RECORDS];	/* each one block (import_row_new) */
	uint32_t	 lines[IMPORT_BATCH_RECORDS];
	size_t		 n, bytes;
	/* progress on stderr */
	int		 progress, drawn;
	uint64_t	 size, read;
	struct timespec	 last;
};

/* The bytes of the filter of ids for a file of size bytes. */
static size_t
import_seen_bytes(uint64_t size)
{
	if (size / 4 < IMPORT_SEEN_MIN)
		return IMPORT_SEEN_MIN;
	return size / 4 > IMPORT_SEEN_MAX ? IMPORT_SEEN_MAX : (size_t)(size / 4);
}

/* Erase the progress bar. */
static void
import_clear(struct import *im)
{
	if (im->drawn)
		fputs("\r\033[K", stderr);
	im->drawn = 0;
}

/* Redraw the progress bar, at most every tick unless force. */
static void
import_draw(struct import *im, const char *what, int force)
{
	struct timespec now;
	char bar[IMPORT_BAR + 1], done[16], total[16];
	int i, pct;

	if (!im->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && im->drawn && (now.tv_sec - im->last.tv_sec) * 1000 +
	    (now.tv_nsec - im->last.tv_nsec) / 1000000 < IMPORT_TICK_MS)
		return;
	im->last = now;
	pct = im->size > 0 ? (int)(im->read * 100 / im->size) : 100;
	for (i = 0; i < IMPORT_BAR; i++)
		bar[i] = i < pct * IMPORT_BAR / 100 ? '#' : ' ';
	bar[IMPORT_BAR] = '\0';
	fprintf(stderr, "\r[%s] %3d%%  %s / %s  %s\033[K", bar, pct,
	    client_size(done, sizeof done, im->read), client_size(total, sizeof total, im->size),
	    what);
	im->drawn = 1;
}

/*
 * The records of the file, counted without parsing their fields: lines that are not blank,
 * outside quoted fields. A guess for the RecordBegin of an import sent as it is checked; when
 * it is wrong the import is sent again with the count of its valid rows.
 */
static uint64_t
import_count(struct import *im)
{
	unsigned char *buf;
	uint64_t records = 0;
	off_t off = 0;
	ssize_t got, i;
	int quoted = 0, text = 0;

	if ((buf = malloc(IMPORT_PIECE)) == NULL)
		client_fatal("out of memory");
	while ((got = pread(im->fd, buf, IMPORT_PIECE, off)) > 0) {
		off += got;
		for (i = 0; i < got; i++) {
			if (buf[i] == '"')
				quoted = !quoted;
			if (quoted) {
				text = 1;
			} else if (buf[i] == '\n' || buf[i] == '\r') {
				records += text;
				text = 0;
			} else if (buf[i] != ' ' && buf[i] != '\t')
				text = 1;
		}
	}
	if (got < 0 && errno != EINTR) {
		import_clear(im);
		client_fatal("%s: %s (nothing was written)", im->path, strerror(errno));
	}
	free(buf);
	return records + text;
}

/* Open the connection and the batch: its count is known at the end, or guessed before. */
static void
import_begin(struct import *im, const struct cmd_ctx *ctx)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__RecordBegin begin = CUSTODY__RECORD_BEGIN__INIT;
	uint64_t n = im->valid;

	if (!im->eof && (n = import_count(im)) > 0)
		n--;		/* the header */
	if (n < im->valid)
		n = im->valid;
	im->count = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	client_open(&im->c, ctx);
	begin.kind = (char *)im->kind;
	begin.count = im->count;
	begin.origin = im->origin;
	begin.skip_invalid = im->skip_invalid;
	begin.columns = im->cols;
	begin.n_columns = im->ncols;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BEGIN;
	env.record_begin = &begin;
	rc_send(&im->c, &env);
	im->open = 1;
}

/* Forget the records gathered and not sent. */
static void
import_drop(struct import *im)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		free(im->rows[i]);
	im->n = 0;
	im->bytes = 0;
}

/* Send the records gathered so far as one RecordBatch. */
static void
import_flush(struct import *im)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__RecordBatch batch = CUSTODY__RECORD_BATCH__INIT;

	if (im->n == 0)
		return;
	if (!im->open)
		import_begin(im, im->ctx);
	batch.rows = im->rows;
	batch.n_rows = im->n;
	batch.lines = im->lines;
	batch.n_lines = im->n;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BATCH;
	env.record_batch = &batch;
	if (client_send(&im->c, &env, NULL, 0) < 0) {
		import_clear(im);
		client_fatal("%s (nothing was written)", custody_error());
	}
	import_drop(im);
}

/* Keep the header of the pass as the RecordBegin sends it, once. */
static void
import_columns(struct import *im)
{
	const char *const *cols;
	size_t i;

	if (im->cols != NULL)
		return;
	cols = csv_import_columns(im->ci, &im->ncols);
	if ((im->cols = calloc(im->ncols, sizeof *im->cols)) == NULL)
		client_fatal("out of memory");
	for (i = 0; i < im->ncols; i++) {
		if ((im->cols[i].data = (uint8_t *)strdup(cols[i])) == NULL)
			client_fatal("out of memory");
		im->cols[i].len = strlen(cols[i]);
	}
}

/* Forget the header kept. */
static void
import_columns_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->ncols; i++)
		free(im->cols[i].data);
	free(im->cols);
	im->cols = NULL;
	im->ncols = 0;
}

/* The current row's values as one RecordRow in one block; *len gets their bytes. */
static Custody__RecordRow *
import_row_new(struct import *im, size_t *len)
{
	Custody__RecordRow *r;
	ProtobufCBinaryData *v;
	size_t i, total = 0;
	uint8_t *p;

	for (i = 0; i < im->ncols; i++)
		total += strlen(csv_import_value(im->ci, i));
	if ((r = malloc(sizeof *r + im->ncols * sizeof *v + total)) == NULL)
		client_fatal("out of memory");
	custody__record_row__init(r);
	v = (ProtobufCBinaryData *)(r + 1);
	p = (uint8_t *)(v + im->ncols);
	for (i = 0; i < im->ncols; i++) {
		v[i].len = strlen(csv_import_value(im->ci, i));
		v[i].data = p;
		memcpy(p, csv_import_value(im->ci, i), v[i].len);
		p += v[i].len;
	}
	r->values = v;
	r->n_values = im->ncols;
	*len = total + 3 * im->ncols + 8;	/* and the tags and lengths, about */
	return r;
}

/* The first pass cannot be committed: send no more of it. */
static void
import_break(struct import *im)
{
	if (im->sending)
		return;
	im->broken = 1;
	import_drop(im);
}

/* Report one problem of the first pass: on stderr, and in the --json output. */
static void
import_problem(struct import *im, unsigned long line, const char *column, const char *problem)
{
	json_t *p;

	rout_problem(im->path, line, column, problem);
	if (im->problems == NULL)
		return;
	p = json_object();
	client_json_u64(p, "line", line);
	client_json_str(p, "column", column);
	client_json_str(p, "problem", problem);
	json_array_append_new(im->problems, p);
}

/*
 * Whether the row at line repeats an earlier row's id. The first pass notes each id in
 * memory that does not grow with the file and cannot tell yet; when some id may have been
 * seen before, a second look (resolving) names the repeats and reports them; the sending
 * pass skips them.
 */
static int
import_repeat(struct import *im, const char *id, unsigned long line)
{
	uint64_t first;
	char msg[256];

	if (!im->resolving && !im->sending) {
		if (seen_note(im->seen, id, strlen(id)) < 0)
			client_fatal("out of memory");
		return 0;
	}
	if ((first = seen_first(im->seen, id, strlen(id), line)) == 0)
		return 0;
	if (im->resolving) {
		im->valid--;
		im->invalid++;
		import_clear(im);
		snprintf(msg, sizeof msg, "%.160s appears more than once (first on line %llu)", id,
		    (unsigned long long)first);
		import_problem(im, line, "id", msg);
		import_break(im);
	}
	return 1;
}

/*
 * A row of either pass: the first counts and reports it, and batches it up while every row
 * was valid and the count announced holds; the second batches up the valid rows.
 */
static int
import_row(void *arg, unsigned long line, json_t *record, const struct record_problems *probs)
{
	struct import *im = arg;
	Custody__RecordRow *r;
	const char *id;
	size_t i, len;
	int header;

	if (record == NULL || (probs != NULL && probs->n > 0)) {
		if (im->sending || im->resolving)
			return 0;	/* reported by the first pass */
		/* the importer reports a bad header like this, before any row */
		header = im->valid + im->invalid == 0 && line <= 1;
		im->header_bad |= header;
		im->invalid += !header;
		import_clear(im);
		for (i = 0; probs != NULL && i < probs->n; i++)
			import_problem(im, line, probs->v[i].column ? probs->v[i].column :
			    header ? "header" : "row", probs->v[i].problem);
		if (probs == NULL || probs->n == 0)
			import_problem(im, line, "row", "invalid");
		import_break(im);
		return 0;
	}
	id = json_string_value(json_object_get(record, "id"));
	if (id != NULL && *id != '\0' && import_repeat(im, id, line))
		return 0;
	if (im->resolving)
		return 0;
	if (!im->sending) {
		im->valid++;
		if (im->broken)
			return 0;
		if (im->open && im->sent == im->count) {
			import_break(im);	/* more rows than announced */
			return 0;
		}
	}
	if (++im->sent > im->valid)
		return 0;	/* the file changed: caught after the pass */
	/* the row as read: custodyd checks it again as its own CSV importer would */
	import_columns(im);
	r = import_row_new(im, &len);
	if (im->n > 0 && im->bytes + len > IMPORT_BATCH_BYTES)
		import_flush(im);
	im->rows[im->n] = r;
	im->lines[im->n++] = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	im->bytes += len;
	if (im->n == IMPORT_BATCH_RECORDS)
		import_flush(im);
	return 0;
}

/* Read the whole file through the CSV importer once. */
static void
import_pass(struct import *im, const char *what)
{
	struct csv_import *ci = NULL;
	uint8_t *buf;
	ssize_t got;
	int error = 0;

	if (lseek(im->fd, 0, SEEK_SET) < 0)
		client_fatal("%s: %s", im->path, strerror(errno));
	if ((buf = malloc(IMPORT_PIECE)) == NULL)
		client_fatal("out of memory");
	if (csv_import_new(&ci, im->kind, &im->vocab, import_row, im) < 0)
		client_fatal("%s", custody_error());
	im->ci = ci;
	if (!im->resolving)
		import_columns_free(im);	/* each pass sends the header it reads */
	im->read = 0;
	import_draw(im, what, 1);
	while ((got = read_full(im->fd, buf, IMPORT_PIECE)) > 0) {
		im->read += (uint64_t)got;
		if ((error = csv_import_feed(ci, buf, (size_t)got)) < 0)
			break;
		import_draw(im, what, 0);
	}
	if (got < 0) {
		import_clear(im);
		client_fatal("%s: %s (nothing was written)", im->path, strerror(errno));
	}
	if (got == 0)
		error = csv_import_finish(ci);
	if (error < 0) {
		import_clear(im);
		if (im->header_bad)
			client_fatal("%s: invalid header row; nothing was written", im->path);
		client_fatal("%s: %s (nothing was written)", im->path, custody_error());
	}
	csv_import_free(ci);
	im->ci = NULL;
	free(buf);
}

/* Print the daemon's verdict. */
static void
import_report(struct import *im, const struct cmd_ctx *ctx, const Custody__RecordDone *d)
{
	json_t *o, *a, *p;
	size_t i;
	char *commit = client_safe(d->commit);
	unsigned long total = d->problems_total > d->n_problems ? d->problems_total :
	    d->n_problems;

	if (ctx->json) {
		o = json_object();
		a = im->problems;
		im->problems = NULL;
		client_json_str(o, "file", im->origin);
		client_json_str(o, "kind", im->kind);
		client_json_u64(o, "written", d->written);
		client_json_u64(o, "unchanged", d->unchanged);
		client_json_u64(o, "invalid", im->invalid + total);
		client_json_str(o, "commit", d->commit);
		client_json_u64(o, "seq", d->seq);
		for (i = 0; i < d->n_problems; i++) {
			p = json_object();
			client_json_u64(p, "line", d->problems[i]->line);
			client_json_str(p, "column", d->problems[i]->column);
			client_json_str(p, "problem", d->problems[i]->problem);
			json_array_append_new(a, p);
		}
		json_object_set_new(o, "problems", a);
		client_json_print(o);
	}
	for (i = 0; i < d->n_problems; i++)
		rout_problem(im->path, d->problems[i]->line, d->problems[i]->column,
		    d->problems[i]->problem);
	if (total > d->n_problems)
		client_warn("%s: and %lu more problems", im->path, total - d->n_problems);
	if (total > 0 && !im->skip_invalid)
		client_fatal("%s: %lu invalid row%s (custodyd's check); nothing was written",
		    im->path, total, total == 1 ? "" : "s");
	if (!ctx->json) {
		printf("imported %lu %s (%lu unchanged), ", (unsigned long)(d->written +
		    d->unchanged), im->plural, (unsigned long)d->unchanged);
		if (*commit == '\0')
			printf("nothing changed\n");
		else
			printf("commit %s\n", commit);
		if (im->invalid + total > 0)
			client_warn("%s: %lu invalid row%s skipped", im->path, im->invalid + total,
			    im->invalid + total == 1 ? "" : "s");
	}
	free(commit);
}

/* Check and send, then commit. */
static int
import_run(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind,
    const char *plural)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RecordCommit commit = CUSTODY__RECORD_COMMIT__INIT;
	struct import *im;
	struct stat st;

	if ((im = calloc(1, sizeof *im)) == NULL)
		client_fatal("out of memory");
	im->path = args->argv[0];
	im->ctx = ctx;
	im->kind = kind;
	im->plural = plural;
	im->skip_invalid = cmd_get(args, 's') != NULL;
	if ((im->fd = open(im->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
	    fstat(im->fd, &st) < 0)
		client_fatal("%s: %s", im->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		client_fatal("%s: not a regular file", im->path);
	im->origin = client_utf8(im->path, NULL);
	im->size = (uint64_t)st.st_size;
	im->progress = isatty(STDERR_FILENO) && im->size > IMPORT_BIG;
	if (ctx->json && (im->problems = json_array()) == NULL)
		client_fatal("out of memory");
	rc_vocab(&im->vocab);
	if (seen_new(&im->seen, import_seen_bytes(im->size)) < 0)
		client_fatal("out of memory");

	import_pass(im, "importing");
	if (seen_suspects(im->seen) > 0) {
		im->resolving = 1;
		import_pass(im, "checking ids");
		im->resolving = 0;
	}
	import_clear(im);
	if (im->invalid > 0 && !im->skip_invalid)
		client_fatal("%s: %lu invalid row%s; nothing was written (fix %s, or import the "
		    "%lu valid one%s with --skip-invalid)", im->path, im->invalid,
		    im->invalid == 1 ? "" : "s", im->invalid == 1 ? "it" : "them", im->valid,
		    im->valid == 1 ? "" : "s");
	if (im->valid == 0)
		client_fatal("%s: no %s to import; nothing was written", im->path, plural);
	if (im->valid > UINT32_MAX)
		client_fatal("%s: too many rows for one import", im->path);

	im->eof = 1;
	if (!im->broken)
		import_flush(im);
	if (im->broken || im->sent != im->count) {
		/* rows skipped, or the count guessed wrong: this batch is dropped unwritten */
		import_drop(im);
		if (im->open)
			client_close(&im->c);
		im->open = 0;
		im->sending = 1;
		im->sent = 0;
		import_pass(im, "sending");
		if (im->sent != im->valid) {
			import_clear(im);
			client_fatal("%s changed while it was imported (%lu valid rows, then %lu); "
			    "nothing was written", im->path, im->valid, im->sent);
		}
		import_flush(im);
	}
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_COMMIT;
	env.record_commit = &commit;
	rc_send(&im->c, &env);
	import_draw(im, "committing...", 1);
	reply = rc_recv_done(&im->c, 1);
	import_clear(im);
	import_report(im, ctx, reply->record_done);

	wire_free(reply);
	client_close(&im->c);
	vocab_free(&im->vocab);
	seen_free(im->seen);
	import_columns_free(im);
	close(im->fd);
	free(im->origin);
	free(im);
	return client_finish_stdout();
}

/* Import victims. */
static int
cmd_import_victims_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return import_run(ctx, args, "victim", "victims");
}

/* Import incidents. */
static int
cmd_import_incidents_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return import_run(ctx, args, "incident", "incidents");
}

/* Import persons. */
static int
cmd_import_persons_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return import_run(ctx, args, "person", "persons");
}

/* Import person events. */
static int
cmd_import_person_events_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return import_run(ctx, args, "person_event", "person events");
}

/* Import sites. */
static int
cmd_import_sites_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	return import_run(ctx, args, "site", "sites");
}
