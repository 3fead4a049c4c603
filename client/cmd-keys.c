/* custody keys show / keys allowed-signers: the office's public identity. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"

static int cmd_keys_show_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_keys_allowed_signers_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_keys_show_entry = {
	.name = "keys show",
	.usage = "",
	.help = "Print the office public key and its fingerprint.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_keys_show_exec,
};

static const struct option cmd_keys_allowed_signers_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_keys_allowed_signers_entry = {
	.name = "keys allowed-signers",
	.usage = "[-o FILE]",
	.help = "Export allowed_signers for git and ssh-keygen -Y verify.",
	.optstring = "o:",
	.options = cmd_keys_allowed_signers_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_keys_allowed_signers_exec,
};

/* Ask for the keys; exits on failure. */
static Envelope *
cmd_keys_fetch(struct client *c, const struct cmd_ctx *ctx)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__KeysRequest kr = CUSTODY__KEYS_REQUEST__INIT;

	client_open(c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_KEYS_REQUEST;
	req.keys_request = &kr;
	return client_call(c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_KEYS_REPLY);
}

/* The reply as a JSON object. */
static void
cmd_keys_json(const Custody__KeysReply *kr)
{
	json_t *o = json_object();

	client_json_str(o, "public_key", kr->public_key);
	client_json_str(o, "fingerprint", kr->fingerprint);
	client_json_str(o, "allowed_signers", kr->allowed_signers);
	if (kr->signing_key != NULL && kr->signing_key[0] != '\0')
		client_json_str(o, "signing_key", kr->signing_key);
	client_json_print(o);
}

/* Print the public key line and fingerprint. */
static int
cmd_keys_show_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct client c;
	Envelope *reply = cmd_keys_fetch(&c, ctx);
	const Custody__KeysReply *kr = reply->keys_reply;

	if (ctx->json)
		cmd_keys_json(kr);
	else {
		client_print_padded(stdout, kr->public_key, 0);
		fputs("\nfingerprint: ", stdout);
		client_print_padded(stdout, kr->fingerprint, 0);
		putchar('\n');
		if (kr->signing_key != NULL && kr->signing_key[0] != '\0') {
			fputs("signing key (since custody keys rotate): ", stdout);
			client_print_padded(stdout, kr->signing_key, 0);
			putchar('\n');
		}
	}
	wire_free(reply);
	client_close(&c);
	return 0;
}

/* Replace path with text (mode 0666 less the umask): write a temporary beside it, rename. */
static void
cmd_keys_write(const char *path, const char *text)
{
	mode_t mask = umask(077);
	char *tmp;
	int fd;

	umask(mask);

	if (asprintf(&tmp, "%s.partial-XXXXXX", path) < 0)
		client_fatal("out of memory");
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		client_fatal("%s: cannot create: %s", path, strerror(errno));
	if (write_all(fd, text, strlen(text)) < 0 || fchmod(fd, 0666 & ~mask) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		client_fatal("%s: cannot write: %s", path, strerror(saved));
	}
	free(tmp);
}

/* Print or write the allowed_signers text. */
static int
cmd_keys_allowed_signers_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *out = cmd_get(args, 'o');
	const Custody__KeysReply *kr;
	struct client c;
	Envelope *reply;

	if (out != NULL && *out == '\0')
		cmd_usage_error(args->entry, "-o needs a file name");
	reply = cmd_keys_fetch(&c, ctx);
	kr = reply->keys_reply;
	if (out != NULL && strcmp(out, "-") != 0) {
		cmd_keys_write(out, kr->allowed_signers ? kr->allowed_signers : "");
		if (ctx->json)
			cmd_keys_json(kr);
	} else if (ctx->json)
		cmd_keys_json(kr);
	else
		fputs(kr->allowed_signers ? kr->allowed_signers : "", stdout);
	wire_free(reply);
	client_close(&c);
	return 0;
}
