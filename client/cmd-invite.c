/*
 * custody invite NAME KEY -o FILE [--expires DURATION]: invite a new office to this archive;
 * custody invite withdraw NAME: take back an invitation not used yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"

static int cmd_invite_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_invite_withdraw_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_invite_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "address", required_argument, NULL, 'a' },
	{ "expires", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_invite_entry = {
	.name = "invite",
	.usage = "NAME \"ssh-ed25519 AAAA...\" -o FILE [--address HOST:PORT] "
	    "[--expires DURATION]",
	.help = "Write an invitation (the archive key sealed to a new office's key), usable "
	    "once, until it expires (--expires: N followed by s, m, h or d, from 1s to 366d; "
	    "default 7d).",
	.optstring = "o:a:e:",
	.options = cmd_invite_options,
	.lower = 2,
	.upper = 2,
	.exec = cmd_invite_exec,
};

const struct cmd_entry cmd_invite_withdraw_entry = {
	.name = "invite withdraw",
	.usage = "NAME",
	.help = "Withdraw this office's invitation of office NAME, before it joins: it then "
	    "admits nobody, at any office (once joined, an office is revoked instead).",
	.lower = 1,
	.upper = 1,
	.exec = cmd_invite_withdraw_exec,
};

/* "N" followed by s, m, h or d, as seconds (1 s to INVITE_EXPIRES_MAX); 0 when malformed. */
static uint32_t
cmd_invite_duration(const char *s)
{
	unsigned long long v = 0, unit;
	size_t i, n = strlen(s);

	if (n < 2 || n > 12)
		return 0;
	for (i = 0; i + 1 < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	switch (s[n - 1]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return 0;
	}
	if (v == 0 || v > 366ULL * 86400 / unit)
		return 0;
	return (uint32_t)(v * unit);
}

/* Ask the daemon to withdraw the invitation; it writes the withdrawal in its feed. */
static int
cmd_invite_withdraw_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__InviteRequest ir = CUSTODY__INVITE_REQUEST__INIT;
	struct client c;
	json_t *o;

	client_open(&c, ctx);
	ir.name = args->argv[0];
	ir.key = (char *)"";
	ir.address = (char *)"";
	ir.withdraw = 1;
	req.body_case = CUSTODY__ENVELOPE__BODY_INVITE_REQUEST;
	req.invite_request = &ir;
	if (client_send(&c, &req, NULL, 0) < 0 ||
	    client_recv(&c, CUSTODY__ENVELOPE__BODY_INVITE_REPLY, &reply) < 0)
		client_fatal("%s", custody_error());
	if (ctx->json) {
		o = json_object();
		client_json_str(o, "office", args->argv[0]);
		client_json_str(o, "fingerprint", reply->invite_reply->fingerprint);
		client_json_str(o, "withdrawn", "yes");
		client_json_print(o);
	} else {
		printf("invitation for office ");
		client_print_padded(stdout, args->argv[0], 0);
		printf(" (");
		client_print_padded(stdout, reply->invite_reply->fingerprint, 0);
		printf(") withdrawn: it admits nobody now, at any office that syncs with this one\n");
	}
	wire_free(reply);
	client_close(&c);
	return 0;
}

/* Ask the daemon for the invitation, then write it to a new private file. */
static int
cmd_invite_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *out = cmd_get(args, 'o'), *address = cmd_get(args, 'a');
	const char *expires = cmd_get(args, 'e');
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__InviteRequest ir = CUSTODY__INVITE_REQUEST__INIT;
	const Custody__InviteReply *r;
	struct client c;
	json_t *o;
	int fd;

	if (out == NULL || *out == '\0')
		cmd_usage_error(args->entry, "give the invitation file with -o FILE");
	if (expires != NULL && (ir.expires_seconds = cmd_invite_duration(expires)) == 0)
		cmd_usage_error(args->entry, "--expires takes N followed by s, m, h or d (from 1s "
		    "to 366d), like 7d or 12h");
	/* Made first, so that an existing file stops us before the daemon records anything. */
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		client_fatal("%s: %s", out, errno == EEXIST ? "exists; refusing to overwrite it" :
		    strerror(errno));
	client_open(&c, ctx);
	ir.name = args->argv[0];
	ir.key = args->argv[1];
	ir.address = (char *)(address != NULL ? address : "");
	req.body_case = CUSTODY__ENVELOPE__BODY_INVITE_REQUEST;
	req.invite_request = &ir;
	if (client_send(&c, &req, NULL, 0) < 0 ||
	    client_recv(&c, CUSTODY__ENVELOPE__BODY_INVITE_REPLY, &reply) < 0) {
		close(fd);
		unlink(out);
		client_fatal("%s", custody_error());
	}
	r = reply->invite_reply;
	if (r->invitation == NULL || write_all(fd, r->invitation, strlen(r->invitation)) < 0 ||
	    fsync(fd) != 0 || close(fd) != 0) {
		unlink(out);
		client_fatal("%s: cannot write: %s", out, strerror(errno));
	}
	if (ctx->json) {
		o = json_object();
		client_json_str(o, "office", args->argv[0]);
		client_json_str(o, "fingerprint", r->fingerprint);
		client_json_str(o, "file", out);
		client_json_print(o);
	} else {
		printf("invitation for office ");
		client_print_padded(stdout, args->argv[0], 0);
		printf(" (");
		client_print_padded(stdout, r->fingerprint, 0);
		printf(") written to ");
		client_print_padded(stdout, out, 0);
		printf("\nIt holds the archive key, sealed to that office's key only: hand it over "
		    "as you would a signed letter.\n");
	}
	wire_free(reply);
	client_close(&c);
	return 0;
}
