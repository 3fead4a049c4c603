/* custody keys split --shares N --threshold K -o DIR: recovery shares of the office's keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "custody/share.h"

#include <sodium.h>

static int cmd_keys_split_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_keys_split_options[] = {
	{ "shares", required_argument, NULL, 'n' },
	{ "threshold", required_argument, NULL, 'k' },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_keys_split_entry = {
	.name = "keys split",
	.usage = "--shares N --threshold K -o DIR",
	.help = "Write N recovery shares of the office key and data key (any K restore them; "
	    "admin).",
	.optstring = "o:",
	.options = cmd_keys_split_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_keys_split_exec,
};

/* A number 2..255 from an option. */
static unsigned
cmd_keys_split_count(const struct cmd_args *args, int val, const char *what)
{
	const char *s = cmd_get(args, val);
	char *end;
	long v;

	if (s == NULL)
		cmd_usage_error(args->entry, "give --%s", what);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 2 || v > 255)
		cmd_usage_error(args->entry, "--%s must be a number from 2 to 255", what);
	return (unsigned)v;
}

/* Create DIR/name (it must not exist) with p[0..n), mode 0600. */
static void
cmd_keys_split_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		client_fatal("%s: %s", path, errno == EEXIST ? "exists; refusing to overwrite it" :
		    strerror(errno));
	if (write_all(fd, p, n) < 0 || fsync(fd) != 0 || close(fd) != 0)
		client_fatal("%s: cannot write: %s", path, strerror(errno));
}

static int
cmd_keys_split_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__KeysSplitRequest kr = CUSTODY__KEYS_SPLIT_REQUEST__INIT;
	const Custody__KeysSplitReply *r;
	const char *dir = cmd_get(args, 'o');
	unsigned n = cmd_keys_split_count(args, 'n', "shares");
	unsigned k = cmd_keys_split_count(args, 'k', "threshold");
	char name[64], *text;
	struct share s;
	struct client c;
	size_t i;
	json_t *o, *files;

	if (dir == NULL || *dir == '\0')
		cmd_usage_error(args->entry, "give the output directory with -o DIR");
	if (k > n)
		cmd_usage_error(args->entry, "--threshold %u is more than --shares %u", k, n);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		client_fatal("%s: cannot create: %s", dir, strerror(errno));
	client_open(&c, ctx);
	kr.shares = n;
	kr.threshold = k;
	req.body_case = CUSTODY__ENVELOPE__BODY_KEYS_SPLIT_REQUEST;
	req.keys_split_request = &kr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_KEYS_SPLIT_REPLY);
	r = reply->keys_split_reply;
	if (r->n_shares != n)
		client_fatal("the daemon sent %zu shares, not %u", r->n_shares, n);
	files = json_array();
	for (i = 0; i < r->n_shares; i++) {
		/* the client checks what it writes with the same parser recovery uses */
		if (share_parse(&s, r->shares[i].data, r->shares[i].len) < 0 ||
		    share_text(&text, r->shares[i].data, r->shares[i].len) < 0)
			client_fatal("share %zu from the daemon: %s", i + 1, custody_error());
		snprintf(name, sizeof name, "share-%zu-of-%u.bin", i + 1, n);
		cmd_keys_split_write(dir, name, r->shares[i].data, r->shares[i].len);
		snprintf(name, sizeof name, "share-%zu-of-%u.txt", i + 1, n);
		cmd_keys_split_write(dir, name, text, strlen(text));
		json_array_append_new(files, json_string(name));
		free(text);
	}
	if (ctx->json) {
		o = json_object();
		client_json_u64(o, "shares", n);
		client_json_u64(o, "threshold", k);
		client_json_str(o, "fingerprint", r->fingerprint);
		json_object_set_new(o, "text_files", files);
		client_json_print(o);
	} else {
		json_decref(files);
		printf("%u shares written to ", n);
		client_print_padded(stdout, dir, 0);
		printf(" (share-I-of-%u.bin, and .txt to print); any %u restore office key ", n, k);
		client_print_padded(stdout, r->fingerprint, 0);
		printf(".\nGive each to a different trusted person; keep no two together.\n");
	}
	sodium_memzero(&s, sizeof s);
	wire_free(reply);
	client_close(&c);
	return 0;
}
