/* custody invite NAME KEY -o FILE: invite a new office to this archive. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"

static int cmd_invite_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_invite_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "address", required_argument, NULL, 'a' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_invite_entry = {
	.name = "invite",
	.usage = "NAME \"ssh-ed25519 AAAA...\" -o FILE [--address HOST:PORT]",
	.help = "Write an invitation (the archive key sealed to a new office's key).",
	.optstring = "o:a:",
	.options = cmd_invite_options,
	.lower = 2,
	.upper = 2,
	.exec = cmd_invite_exec,
};

/* Ask the daemon for the invitation, then write it to a new private file. */
static int
cmd_invite_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *out = cmd_get(args, 'o'), *address = cmd_get(args, 'a');
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__InviteRequest ir = CUSTODY__INVITE_REQUEST__INIT;
	const Custody__InviteReply *r;
	struct client c;
	json_t *o;
	int fd;

	if (out == NULL || *out == '\0')
		cmd_usage_error(args->entry, "give the invitation file with -o FILE");
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
