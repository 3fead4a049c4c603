/* Finding and talking to custodyd, and output helpers shared by the commands. */
#include <inttypes.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>

#include "client.h"
#include "cmd.h"

/* Print "custody: MESSAGE" and exit 1. */
void
client_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("custody: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Print "custody: MESSAGE". */
void
client_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("custody: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A malloc'd copy of s, or exit. */
static char *
client_strdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		client_fatal("out of memory");
	return p;
}

/* a + "/" + b, malloc'd. */
static char *
client_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		client_fatal("out of memory");
	return p;
}

/* The archive directory: -A, $CUSTODY_ARCHIVE, $XDG_DATA_HOME/custody, ~/.local/share/custody. */
static char *
client_archive(const struct cmd_ctx *ctx)
{
	const char *v, *home;
	struct passwd *pw;

	if (ctx->archive != NULL)
		return client_strdup(ctx->archive);
	if ((v = getenv("CUSTODY_ARCHIVE")) != NULL && *v != '\0')
		return client_strdup(v);
	if ((v = getenv("XDG_DATA_HOME")) != NULL && *v == '/')
		return client_join(v, "custody");
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			client_fatal("cannot find the archive: no -A, $CUSTODY_ARCHIVE or $HOME");
		home = pw->pw_dir;
	}
	return client_join(home, ".local/share/custody");
}

/* Connect the Unix socket at path; -1 with errno on failure. */
static int
client_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

char *client_vocab[3];

/* Keep a vocabulary list of the Welcome, comma-separated. */
static void
client_keep_vocab(int which, char **words, size_t n)
{
	size_t i, len = 1;

	if (n == 0 || client_vocab[which] != NULL)
		return;
	for (i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	if ((client_vocab[which] = calloc(1, len)) == NULL)
		client_fatal("out of memory");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(client_vocab[which], ",");
		strcat(client_vocab[which], words[i]);
	}
}

/* Connect and say hello. */
void
client_open(struct client *c, const struct cmd_ctx *ctx)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__Hello hello = CUSTODY__HELLO__INIT;
	Custody__Welcome *w;
	const char *hint;
	char *slash;

	memset(c, 0, sizeof *c);
	c->archive = client_archive(ctx);
	c->path = ctx->socket != NULL ? client_strdup(ctx->socket) :
	    client_join(c->archive, "custodyd.sock");
	if (ctx->socket != NULL && ctx->archive == NULL) {
		/* The hint names the directory that holds the socket. */
		free(c->archive);
		c->archive = client_strdup(c->path);
		if ((slash = strrchr(c->archive, '/')) != NULL)
			*slash = '\0';
		else
			strcpy(c->archive, ".");
	}
	if ((c->fd = client_connect(c->path)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
			hint = "is it running? start it with: custodyd run";
		else if (errno == EACCES || errno == EPERM)
			hint = "is your user allowed to use this archive? see";
		else
			hint = NULL;
		if (hint != NULL)
			client_fatal("cannot reach custodyd at %s: %s (%s %s)", c->path,
			    strerror(errno), hint, c->archive);
		client_fatal("cannot reach custodyd at %s: %s", c->path, strerror(errno));
	}

	hello.version = CUSTODY_PROTOCOL_VERSION;
	hello.client = (char *)"custody " CUSTODY_VERSION;
	env.body_case = CUSTODY__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	reply = client_call(c, &env, NULL, 0, CUSTODY__ENVELOPE__BODY_WELCOME);
	w = reply->welcome;
	if (w->version != CUSTODY_PROTOCOL_VERSION)
		client_fatal("custodyd at %s speaks protocol %u, this custody speaks %u",
		    c->path, w->version, CUSTODY_PROTOCOL_VERSION);
	c->office = client_strdup(w->office ? w->office : "");
	client_keep_vocab(0, w->party, w->n_party);
	client_keep_vocab(1, w->governorate, w->n_governorate);
	client_keep_vocab(2, w->cause, w->n_cause);
	c->role = client_strdup(w->role ? w->role : "");
	wire_free(reply);
}

/* Close the connection; safe on a zeroed client. */
void
client_close(struct client *c)
{
	if (c->fd > 0)
		close(c->fd);
	free(c->archive);
	free(c->path);
	free(c->office);
	free(c->role);
	memset(c, 0, sizeof *c);
}

/* The name of an envelope body case ("status_reply"). */
static const char *
client_case_name(int body_case)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;

	env.body_case = (Custody__Envelope__BodyCase)body_case;
	return wire_name(&env);
}

/* Turn a reply that is not the expected one into an error message. */
static int
client_check(const Envelope *env, int expect)
{
	const Custody__Error *e;
	char *msg;
	int code;

	if ((int)env->body_case == expect)
		return 0;
	if (env->body_case != CUSTODY__ENVELOPE__BODY_ERROR)
		return custody_fail(CUSTODY_EPROTO, "custodyd sent %s where %s was expected",
		    wire_name(env), client_case_name(expect));
	e = env->error;
	code = e->code < 0 ? e->code : CUSTODY_ERR;
	if (e->message == NULL || *e->message == '\0')
		return custody_fail(code, "custodyd: %s", custody_strerror(code));
	msg = client_safe(e->message);
	custody_fail(code, "%s", msg);
	free(msg);
	return code;
}

/* Send a request; if the daemon already hung up with an Error, report that Error. */
int
client_send(struct client *c, const Envelope *req, const int *fds, size_t nfds)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	Envelope *env;
	int error;

	c->peer_error = 0;
	custody_error_clear();
	if ((error = wire_send(c->fd, req, fds, nfds)) == 0)
		return 0;
	if (*custody_error() == '\0')
		custody_fail(error, "cannot send to custodyd: %s", custody_strerror(error));
	if (poll(&pfd, 1, 0) == 1 && wire_recv(c->fd, &env) == 0) {
		if (env->body_case == CUSTODY__ENVELOPE__BODY_ERROR) {
			error = client_check(env, CUSTODY__ENVELOPE__BODY__NOT_SET);
			c->peer_error = 1;
		}
		wire_free(env);
	}
	return error;
}

/* Receive one reply of case expect. */
int
client_recv(struct client *c, int expect, Envelope **out)
{
	Envelope *env;
	int error;

	*out = NULL;
	c->peer_error = 0;
	custody_error_clear();
	if ((error = wire_recv(c->fd, &env)) < 0) {
		if (*custody_error() == '\0')
			custody_fail(error, "custodyd: %s", custody_strerror(error));
		return error;
	}
	if ((error = client_check(env, expect)) < 0) {
		c->peer_error = env->body_case == CUSTODY__ENVELOPE__BODY_ERROR;
		wire_free(env);
		return error;
	}
	*out = env;
	return 0;
}

/* One request, one reply, or exit. */
Envelope *
client_call(struct client *c, const Envelope *req, const int *fds, size_t nfds, int expect)
{
	Envelope *reply;

	custody_error_clear();
	if (client_send(c, req, fds, nfds) < 0 || client_recv(c, expect, &reply) < 0)
		client_fatal("%s", custody_error());
	return reply;
}

/* Human units in powers of 1024. */
const char *
client_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	for (v /= 1024; v >= 1024 && i < 5; i++)
		v /= 1024;
	if (v < 9.95)
		snprintf(buf, len, "%.1f %s", v, units[i]);
	else
		snprintf(buf, len, "%.0f %s", v, units[i]);
	return buf;
}

/* ISO 8601 in UTC. */
const char *
client_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

/* Copy s, replacing bad UTF-8 (and, for a terminal, control characters) by a mark. */
static char *
client_filter(const char *s, int terminal, int *changed)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(s ? s : "");
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	struct cbuf b = { 0 };
	const char *repl = terminal ? "?" : "\xef\xbf\xbd";
	char *out;
	int bad;

	if (changed != NULL)
		*changed = 0;
	while (*p != '\0') {
		n = utf8proc_iterate(p, -1, &cp);
		bad = n <= 0;
		if (!bad && terminal) {
			utf8proc_category_t cat = utf8proc_category(cp);

			bad = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZL ||
			    cat == UTF8PROC_CATEGORY_ZP ||
			    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
		}
		if (bad) {
			if (changed != NULL)
				*changed = 1;
			if (cbuf_puts(&b, repl) < 0)
				client_fatal("out of memory");
			p += n > 0 ? n : 1;
			continue;
		}
		if (cbuf_put(&b, p, (size_t)n) < 0)
			client_fatal("out of memory");
		p += n;
	}
	if ((out = cbuf_detach(&b)) == NULL)
		client_fatal("out of memory");
	return out;
}

/* Valid UTF-8 copy. */
char *
client_utf8(const char *s, int *changed)
{
	return client_filter(s, 0, changed);
}

/* Terminal-safe copy: no control characters, no bidi overrides, valid UTF-8. */
char *
client_safe(const char *s)
{
	return client_filter(s, 1, NULL);
}

/* Display columns of a safe string. */
size_t
client_width(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	size_t w = 0;
	int cw;

	while (*p != '\0' && (n = utf8proc_iterate(p, -1, &cp)) > 0) {
		if ((cw = utf8proc_charwidth(cp)) > 0)
			w += (size_t)cw;
		p += n;
	}
	return w;
}

/* Print s safely, padded to width columns. */
void
client_print_padded(FILE *f, const char *s, size_t width)
{
	char *safe = client_safe(s);
	size_t w = client_width(safe);

	fputs(safe, f);
	for (; w < width; w++)
		fputc(' ', f);
	free(safe);
}

/* Set a string member, repairing bad UTF-8. */
void
client_json_str(json_t *obj, const char *key, const char *value)
{
	char *v = client_utf8(value, NULL);

	json_object_set_new(obj, key, json_string(v));
	free(v);
}

/*
 * Set an unsigned member. jansson's integers are signed 64-bit: a larger value (no valid clock,
 * size or count is one) is written as its exact decimal string rather than clamped or wrapped.
 */
void
client_json_u64(json_t *obj, const char *key, uint64_t value)
{
	char s[24];

	if (value <= INT64_MAX) {
		json_object_set_new(obj, key, json_integer((json_int_t)value));
		return;
	}
	snprintf(s, sizeof s, "%" PRIu64, value);
	json_object_set_new(obj, key, json_string(s));
}

/* Set a signed member. */
void
client_json_i64(json_t *obj, const char *key, int64_t value)
{
	json_object_set_new(obj, key, json_integer((json_int_t)value));
}

/* Set a boolean member. */
void
client_json_bool(json_t *obj, const char *key, int value)
{
	json_object_set_new(obj, key, json_boolean(value));
}

/* Print JSON to stdout. */
void
client_json_print(json_t *value)
{
	if (value == NULL)
		client_fatal("out of memory");
	if (json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) < 0 ||
	    fputc('\n', stdout) == EOF)
		client_fatal("cannot write output: %s", strerror(errno));
	json_decref(value);
}

/* Flush stdout; 1 with a message if any write to it failed. */
int
client_finish_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		client_warn("cannot write output: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/* Draw the bar: bytes done of those known to be coming. */
static void
client_progress_draw(const Custody__Progress *p, const char *what)
{
	char bar[21], done[16], total[16];
	int i, pct = p->total ? (int)(p->done * 100 / p->total) : 0;

	if (pct > 100)
		pct = 100;
	for (i = 0; i < 20; i++)
		bar[i] = i < pct / 5 ? '#' : ' ';
	bar[20] = '\0';
	fprintf(stderr, "\r[%s] %3d%%  %s / %s %s\033[K", bar, pct,
	    client_size(done, sizeof done, p->done), client_size(total, sizeof total, p->total),
	    what);
}

Envelope *
client_wait(struct client *c, int expect, const char *what)
{
	Envelope *msg = NULL;
	int drawn = 0;

	for (;;) {
		if (wire_recv(c->fd, &msg) < 0)
			client_fatal("%s", custody_error());
		if (msg->body_case != CUSTODY__ENVELOPE__BODY_PROGRESS)
			break;
		client_progress_draw(msg->progress, what);
		drawn = 1;
		wire_free(msg);
	}
	if (drawn)
		fputs("\r\033[K", stderr);
	if (msg->body_case == CUSTODY__ENVELOPE__BODY_ERROR)
		client_fatal("%s", msg->error->message);
	if ((int)msg->body_case != expect)
		client_fatal("unexpected %s from the daemon", wire_name(msg));
	return msg;
}
