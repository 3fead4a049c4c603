/*
 * custody-rowclient: a client of its own making that sends an import as rows (RecordBegin
 * with columns, RecordBatch of RecordRow values) exactly as it likes, unchecked, for the
 * end-to-end tests that play a hostile client on the local socket.
 *
 *	custody-rowclient [-s] [-j] [-c COUNT] [-l FIRST_LINE] [-w FILE] SOCKET ORIGIN KIND <SPEC
 *
 * SPEC's first line is the header, its other lines the rows: values separated by tabs, each
 * with \xNN escapes (\x00 is a NUL byte, \xff invalid UTF-8) and "@N*C" for N copies of the
 * character C. -s asks to skip invalid rows, -j puts a JSON record in the batch as well,
 * -c announces COUNT records instead of the rows given. The rows go in one RecordBatch, then
 * a RecordCommit (with -w, once FILE exists: the batch stays open until then). Prints what the daemon answers, one line each, until it closes or is done:
 *
 *	error CODE MESSAGE
 *	problem LINE: COLUMN: PROBLEM
 *	done written W unchanged U total T commit C
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "custody/wire.h"
#include "custody/version.h"

#define ROWCLIENT_ROWS 1024
#define ROWCLIENT_COLS 16384

/* One value of SPEC, its escapes decoded, into v. */
static void
rowclient_value(ProtobufCBinaryData *v, const char *s)
{
	unsigned long n;
	size_t len = 0;
	char *end;
	uint8_t *p;

	if (s[0] == '@' && (n = strtoul(s + 1, &end, 10)) > 0 && end[0] == '*' &&
	    end[1] != '\0') {
		if ((p = malloc(n)) == NULL)
			err(1, "malloc");
		memset(p, end[1], n);
		v->data = p;
		v->len = n;
		return;
	}
	if ((p = malloc(strlen(s) + 1)) == NULL)
		err(1, "malloc");
	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == 'x' && s[2] != '\0' && s[3] != '\0') {
			char hex[3] = { s[2], s[3], '\0' };

			p[len++] = (uint8_t)strtoul(hex, NULL, 16);
			s += 4;
		} else
			p[len++] = (uint8_t)*s++;
	}
	v->data = p;
	v->len = len;
}

/* The values of one line of SPEC (its newline removed). */
static size_t
rowclient_split(ProtobufCBinaryData **out, char *line)
{
	ProtobufCBinaryData *v;
	size_t n = 0;
	char *tab;

	if ((v = calloc(ROWCLIENT_COLS, sizeof *v)) == NULL)
		err(1, "calloc");
	for (;;) {
		if (n == ROWCLIENT_COLS)
			errx(2, "too many values");
		if ((tab = strchr(line, '\t')) != NULL)
			*tab = '\0';
		rowclient_value(&v[n++], line);
		if (tab == NULL)
			break;
		line = tab + 1;
	}
	if ((*out = realloc(v, n * sizeof *v)) == NULL)
		err(1, "realloc");
	return n;
}

/* Print one message of the daemon; 1 when the conversation is over. */
static int
rowclient_print(const Envelope *env)
{
	const Custody__RecordDone *d;
	size_t i;

	switch (env->body_case) {
	case CUSTODY__ENVELOPE__BODY_ERROR:
		printf("error %d %s\n", env->error->code, env->error->message);
		return 0;
	case CUSTODY__ENVELOPE__BODY_RECORD_DONE:
		d = env->record_done;
		for (i = 0; i < d->n_problems; i++)
			printf("problem %u: %s: %s\n", d->problems[i]->line,
			    d->problems[i]->column, d->problems[i]->problem);
		printf("done written %u unchanged %u total %u commit %s\n", d->written,
		    d->unchanged, d->problems_total, d->commit);
		return 1;
	default:
		printf("reply %s\n", wire_name(env));
		return 0;
	}
}

int
main(int argc, char **argv)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__Hello hello = CUSTODY__HELLO__INIT;
	Custody__RecordBegin begin = CUSTODY__RECORD_BEGIN__INIT;
	Custody__RecordBatch batch = CUSTODY__RECORD_BATCH__INIT;
	Custody__RecordCommit commit = CUSTODY__RECORD_COMMIT__INIT;
	Custody__RecordRow *rows[ROWCLIENT_ROWS];
	uint32_t lines[ROWCLIENT_ROWS + 1];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *line = NULL, *json = (char *)"{\"name\": \"A B\", \"sex\": \"male\"}";
	const char *wait_for = NULL;
	size_t cap = 0, n = 0, i;
	long count = -1;
	uint32_t first = 2;
	ssize_t got;
	int fd, c, skip = 0, with_json = 0;

	while ((c = getopt(argc, argv, "sjc:l:w:")) != -1) {
		switch (c) {
		case 's': skip = 1; break;
		case 'j': with_json = 1; break;
		case 'c': count = strtol(optarg, NULL, 10); break;
		case 'l': first = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': wait_for = optarg; break;
		default: errx(2, "usage: custody-rowclient [-s] [-j] [-c COUNT] SOCKET ORIGIN KIND");
		}
	}
	if (argc - optind != 3)
		errx(2, "usage: custody-rowclient [-s] [-j] [-c COUNT] SOCKET ORIGIN KIND");
	signal(SIGPIPE, SIG_IGN);
	if ((got = getline(&line, &cap, stdin)) <= 0)
		errx(2, "no header line");
	line[strcspn(line, "\n")] = '\0';
	begin.n_columns = rowclient_split(&begin.columns, line);
	while ((got = getline(&line, &cap, stdin)) > 0 && n < ROWCLIENT_ROWS) {
		line[strcspn(line, "\n")] = '\0';
		if ((rows[n] = malloc(sizeof *rows[n])) == NULL)
			err(1, "malloc");
		custody__record_row__init(rows[n]);
		rows[n]->n_values = rowclient_split(&rows[n]->values, line);
		lines[n] = first + (uint32_t)n;
		n++;
	}

	if (strlen(argv[optind]) >= sizeof sun.sun_path)
		errx(2, "socket path too long");
	memcpy(sun.sun_path, argv[optind], strlen(argv[optind]));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		err(1, "%s", argv[optind]);
	hello.version = CUSTODY_PROTOCOL_VERSION;
	hello.client = (char *)"custody-rowclient";
	env.body_case = CUSTODY__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	if (wire_send(fd, &env, NULL, 0) < 0 || wire_recv(fd, &reply) < 0)
		errx(1, "hello: %s", custody_error());
	if (reply->body_case != CUSTODY__ENVELOPE__BODY_WELCOME)
		errx(1, "no welcome: %s", wire_name(reply));
	wire_free(reply);

	begin.kind = argv[optind + 2];
	begin.origin = argv[optind + 1];
	begin.count = count >= 0 ? (uint32_t)count : (uint32_t)(n + with_json);
	begin.skip_invalid = skip;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BEGIN;
	env.record_begin = &begin;
	wire_send(fd, &env, NULL, 0);
	batch.rows = rows;
	batch.n_rows = n;
	if (with_json) {
		batch.json = &json;
		batch.n_json = 1;
	}
	batch.lines = lines;
	batch.n_lines = n + (size_t)with_json;
	lines[n] = first + (uint32_t)n;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BATCH;
	env.record_batch = &batch;
	wire_send(fd, &env, NULL, 0);
	for (i = 0; wait_for != NULL && access(wait_for, F_OK) != 0; i++) {
		if (i == 1200)
			errx(1, "%s did not appear in 60 s", wait_for);
		usleep(50000);
	}
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_COMMIT;
	env.record_commit = &commit;
	wire_send(fd, &env, NULL, 0);
	while (wire_recv(fd, &reply) == 0) {
		c = rowclient_print(reply);
		wire_free(reply);
		if (c)
			break;
	}
	fflush(stdout);
	close(fd);
	for (i = 0; i < n; i++) {
		for (size_t k = 0; k < rows[i]->n_values; k++)
			free(rows[i]->values[k].data);
		free(rows[i]->values);
		free(rows[i]);
	}
	for (i = 0; i < begin.n_columns; i++)
		free(begin.columns[i].data);
	free(begin.columns);
	free(line);
	return 0;
}
