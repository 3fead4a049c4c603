/*
 * custody bundle create / apply: sync carried on a USB stick. create has custodyd write the
 * bundle into a temporary file beside -o FILE (renamed once the reply comes); apply opens FILE
 * here and passes the descriptor, so custodyd never opens a path a client names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "outfile.h"

#define OPT_ALL (CLIENT_OPT_REPEAT + 1)
#define OPT_SINCE (CLIENT_OPT_REPEAT + 2)
#define OPT_FOR (CLIENT_OPT_REPEAT + 3)

static int cmd_bundle_create_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_bundle_apply_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_bundle_create_options[] = {
	{ "for", required_argument, NULL, OPT_FOR },
	{ "output", required_argument, NULL, 'o' },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_bundle_create_entry = {
	.name = "bundle create",
	.usage = "--for OFFICE -o FILE [--all | --since DATE|N] [-f]",
	.help = "Write a bundle for OFFICE: what it lacks, encrypted to its key (admin).\n"
	    "The file holds, for every feed this office holds, the commits OFFICE does not know\n"
	    "yet and the evidence files they name. What OFFICE \"knows\" is what this office can\n"
	    "tell: its own feed, and for every other feed the furthest commit that OFFICE's\n"
	    "witness records (in its feed, as this office holds it: after a sync with it or a\n"
	    "bundle from it) say it received. --all carries every commit of every feed;\n"
	    "--since DATE (YYYY-MM-DD) the commits made that day or later; --since N the commits\n"
	    "after the N-th of each feed. Only OFFICE can open the file; whoever carries it\n"
	    "learns nothing but its size. Apply it there with custody bundle apply FILE.",
	.optstring = "o:f",
	.options = cmd_bundle_create_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_bundle_create_exec,
};

const struct cmd_entry cmd_bundle_apply_entry = {
	.name = "bundle apply",
	.usage = "FILE",
	.help = "Take in a bundle made for this office, with the checks of a sync (admin).\n"
	    "Everything is checked before anything is applied: the file's encryption and the\n"
	    "sender's signature (a pinned, unrevoked office), then every feed as a sync checks\n"
	    "it (signatures, sequence, forks, quotas, revocations) and every evidence file by\n"
	    "its hash. A truncated, altered or foreign bundle is refused and nothing changes.\n"
	    "Commits a sync would refuse (a fork, a revoked office's commits past its cut) are\n"
	    "refused the same way: kept as evidence, said, and the exit status is 1.\n"
	    "Applying a bundle twice changes nothing the second time.",
	.optstring = NULL,
	.options = NULL,
	.lower = 1,
	.upper = 1,
	.exec = cmd_bundle_apply_exec,
};

static int
cmd_bundle_create_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__BundleCreateRequest q = CUSTODY__BUNDLE_CREATE_REQUEST__INIT;
	const Custody__BundleCreateReply *br;
	const char *out = cmd_get(args, 'o'), *office = cmd_get(args, OPT_FOR);
	int force = cmd_get(args, 'f') != NULL, fd;
	char size[16], bsize[16];
	struct client c;
	struct stat st;
	json_t *o;

	if (office == NULL || *office == '\0')
		cmd_usage_error(args->entry, "--for OFFICE is required (custody peers)");
	if (out == NULL || *out == '\0' || strcmp(out, "-") == 0)
		cmd_usage_error(args->entry, "-o FILE is required (a file, not stdout)");
	if (cmd_get(args, OPT_ALL) != NULL && cmd_get(args, OPT_SINCE) != NULL)
		cmd_usage_error(args->entry, "--all and --since exclude each other");
	if (!force && lstat(out, &st) == 0)
		client_fatal("%s: already exists (use --force to replace it)", out);
	q.office = (char *)office;
	q.all = cmd_get(args, OPT_ALL) != NULL;
	q.since = (char *)(cmd_get(args, OPT_SINCE) ? cmd_get(args, OPT_SINCE) : "");

	client_open(&c, ctx);
	fd = outfile_tmp_beside(out);
	req.body_case = CUSTODY__ENVELOPE__BODY_BUNDLE_CREATE_REQUEST;
	req.bundle_create_request = &q;
	if (client_send(&c, &req, &fd, 1) < 0)
		outfile_fail("%s", custody_error());
	reply = client_wait(&c, CUSTODY__ENVELOPE__BODY_BUNDLE_CREATE_REPLY, "");
	br = reply->bundle_create_reply;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != br->size)
		outfile_fail("%s: the file written is not what custodyd reported", out);
	outfile_commit(fd, out, force);
	close(fd);
	if (ctx->json) {
		o = json_object();
		client_json_str(o, "file", out);
		client_json_str(o, "for", office);
		client_json_u64(o, "size", br->size);
		client_json_u64(o, "feeds", br->feeds);
		client_json_u64(o, "commits", br->commits);
		client_json_u64(o, "blobs", br->blobs);
		client_json_u64(o, "blob_bytes", br->blob_bytes);
		client_json_print(o);
	} else
		printf("%s: a bundle for %s, %s: %u feed%s (%llu commits), %u evidence file%s "
		    "(%s)\n", out, office, client_size(size, sizeof size, br->size), br->feeds,
		    br->feeds == 1 ? "" : "s", (unsigned long long)br->commits, br->blobs,
		    br->blobs == 1 ? "" : "s", client_size(bsize, sizeof bsize, br->blob_bytes));
	wire_free(reply);
	client_close(&c);
	return client_finish_stdout();
}

static int
cmd_bundle_apply_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__BundleApplyRequest q = CUSTODY__BUNDLE_APPLY_REQUEST__INIT;
	const Custody__BundleApplyReply *br;
	const char *file = args->argv[0];
	struct client c;
	struct stat st;
	json_t *o, *v;
	size_t i;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		client_fatal("%s: %s", file, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		client_fatal("%s: not a regular file", file);
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_BUNDLE_APPLY_REQUEST;
	req.bundle_apply_request = &q;
	if (client_send(&c, &req, &fd, 1) < 0)
		client_fatal("%s", custody_error());
	close(fd);
	reply = client_wait(&c, CUSTODY__ENVELOPE__BODY_BUNDLE_APPLY_REPLY, file);
	br = reply->bundle_apply_reply;
	if (ctx->json) {
		o = json_object();
		client_json_str(o, "file", file);
		client_json_str(o, "sender", br->sender);
		v = json_array();
		for (i = 0; i < br->n_moved; i++)
			json_array_append_new(v, json_string(br->moved[i]));
		json_object_set_new(o, "moved", v);
		v = json_array();
		for (i = 0; i < br->n_notes; i++)
			json_array_append_new(v, json_string(br->notes[i]));
		json_object_set_new(o, "notes", v);
		client_json_print(o);
	} else {
		printf("bundle from %s:\n", br->sender);
		for (i = 0; i < br->n_moved; i++)
			printf("  %s\n", br->moved[i]);
		for (i = 0; i < br->n_notes; i++)
			printf("  refused: %s\n", br->notes[i]);
	}
	i = br->n_notes;
	wire_free(reply);
	client_close(&c);
	if (client_finish_stdout() != 0)
		return 1;
	return i > 0;	/* commits refused, as a sync with a fork */
}
