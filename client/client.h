/*
 * Talking to custodyd: finding its socket, the Hello/Welcome exchange, request/reply calls that
 * turn an Error reply into one clear line, and the output helpers every command shares.
 */
#ifndef CUSTODY_CLIENT_H
#define CUSTODY_CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "custody/wire.h"

struct cmd_ctx;

/*
 * Option values CLIENT_OPT_REPEAT..254 may be given several times (--unset A --unset B):
 * cmd.c joins their arguments with ',' ("A,B"), at most CLIENT_OPT_REPEAT_MAX bytes in all.
 */
#define CLIENT_OPT_REPEAT 240
#define CLIENT_OPT_REPEAT_MAX 4096

/* A connection to the daemon. */
struct client {
	int	 fd;
	char	*archive;	/* the archive directory we resolved (for messages) */
	char	*path;		/* the socket path */
	char	*office;	/* from Welcome */
	char	*role;
	int	 peer_error;	/* the last failure was an Error message from the daemon */
};

/* The office's vocabularies as its daemon's Welcome gave them (comma-separated), or NULL. */
extern char *client_vocab[3];

/* Print "custody: MESSAGE" to stderr and exit 1. */
void client_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print "custody: MESSAGE" to stderr. */
void client_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connect to the daemon and exchange Hello/Welcome; exits 1 with a clear line on failure. */
void client_open(struct client *c, const struct cmd_ctx *ctx);
void client_close(struct client *c);

/*
 * Send one request with nfds descriptors attached. Returns 0, or a negative code with
 * custody_error() saying why (a daemon Error it had already sent before the failure, if any).
 */
int client_send(struct client *c, const Envelope *req, const int *fds, size_t nfds);
/*
 * Receive one reply, which must be of case expect. An Error reply, another message or a lost
 * connection return a negative code with custody_error() holding the one line to print.
 * The caller frees *out with wire_free.
 */
int client_recv(struct client *c, int expect, Envelope **out);
/* Send req, receive the reply of case expect; exits 1 with the reason on any failure. */
Envelope *client_call(struct client *c, const Envelope *req, const int *fds, size_t nfds,
    int expect);

/*
 * Receive the reply of case expect, drawing a progress bar on stderr from the Progress
 * messages that come first ("DONE / TOTAL what"); exits 1 on an Error or anything else.
 */
Envelope *client_wait(struct client *c, int expect, const char *what);

/* Human units: "512 B", "4.5 MiB", "320 MiB". buf holds at least 16 bytes. */
const char *client_size(char *buf, size_t len, uint64_t bytes);
/* An ISO 8601 UTC time: "2024-05-01T12:00:00Z". buf holds at least 32 bytes. */
const char *client_time(char *buf, size_t len, int64_t t);
/* A copy of s in valid UTF-8: each bad byte becomes U+FFFD; *changed says whether any did. */
char *client_utf8(const char *s, int *changed);
/* A copy of s safe to print on a terminal: control characters and bad UTF-8 become '?'. */
char *client_safe(const char *s);
/* The number of terminal columns s takes (s already made safe). */
size_t client_width(const char *s);
/* Print s (made safe) to f, padded with spaces to width columns. */
void client_print_padded(FILE *f, const char *s, size_t width);

/* JSON output: setters that never fail silently on bad UTF-8 (it becomes U+FFFD). */
void client_json_str(json_t *obj, const char *key, const char *value);
void client_json_u64(json_t *obj, const char *key, uint64_t value);
void client_json_i64(json_t *obj, const char *key, int64_t value);
void client_json_bool(json_t *obj, const char *key, int value);
/* Print value to stdout (indent 2) and release it; exits 1 if stdout fails. */
void client_json_print(json_t *value);

/* Exit status for the end of a command: 1 with a message if stdout could not be written. */
int client_finish_stdout(void);

#endif
