/* custody get: decrypt one evidence file, released only after its SHA-256 checks out. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "client.h"
#include "cmd.h"
#include "outfile.h"

#define GET_CHUNK (1u << 20)

static int cmd_get_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_get_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_get_entry = {
	.name = "get",
	.usage = "[-f] ID -o FILE|-",
	.help = "Decrypt evidence into FILE (- for stdout), hash-checked.",
	.optstring = "o:f",
	.options = cmd_get_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_get_exec,
};

/* An unlinked temporary in $TMPDIR or /tmp, mode 0600. */
static int
get_tmp_anon(void)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	/* Filesystems without O_TMPFILE: create, then unlink at once. */
	if ((size_t)snprintf(path, sizeof path, "%s/custody-get-XXXXXX", dir) >= sizeof path)
		client_fatal("%s: name too long", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		client_fatal("cannot create a temporary file in %s: %s", dir, strerror(errno));
	unlink(path);
	return fd;
}

/* SHA-256 of the whole of fd, read from offset 0 in GET_CHUNK pieces; counts its bytes. */
static void
get_hash(char hex[static SHA256_HEX_LEN + 1], uint64_t *size, int fd)
{
	uint8_t *buf, md[SHA256_LEN];
	EVP_MD_CTX *ctx;
	unsigned int mdlen;
	ssize_t r;
	off_t off = 0;

	if ((buf = malloc(GET_CHUNK)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		outfile_fail("out of memory");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		outfile_fail("SHA-256 unavailable");
	for (;;) {
		if ((r = pread(fd, buf, GET_CHUNK, off)) < 0) {
			if (errno == EINTR)
				continue;
			outfile_fail("cannot read back the decrypted file: %s", strerror(errno));
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			outfile_fail("SHA-256 failed");
		off += r;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != SHA256_LEN)
		outfile_fail("SHA-256 failed");
	hex_encode(hex, md, SHA256_LEN);
	*size = (uint64_t)off;
	EVP_MD_CTX_free(ctx);
	free(buf);
}

/* Copy the verified temporary to stdout. */
static void
get_copy_stdout(int fd)
{
	uint8_t *buf;
	ssize_t r;
	off_t off = 0;

	if ((buf = malloc(GET_CHUNK)) == NULL)
		outfile_fail("out of memory");
	fflush(stdout);
	while ((r = pread(fd, buf, GET_CHUNK, off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			outfile_fail("cannot read back the decrypted file: %s", strerror(errno));
		if (write_all(STDOUT_FILENO, buf, (size_t)r) < 0)
			outfile_fail("cannot write to stdout: %s", strerror(errno));
		off += r;
	}
	free(buf);
}

/* Lower-case copy of id when it is 64 hex digits (a SHA-256); else NULL. */
static char *
get_id_sha256(const char *id)
{
	char *lower;
	size_t i;

	if (strlen(id) != SHA256_HEX_LEN)
		return NULL;
	if ((lower = strdup(id)) == NULL)
		client_fatal("out of memory");
	for (i = 0; i < SHA256_HEX_LEN; i++) {
		if (!isxdigit((unsigned char)lower[i])) {
			free(lower);
			return NULL;
		}
		lower[i] = (char)tolower((unsigned char)lower[i]);
	}
	return lower;
}

/* Fetch, verify, then release. */
static int
cmd_get_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__GetRequest gr = CUSTODY__GET_REQUEST__INIT;
	const Custody__GetReply *r;
	const char *id = args->argv[0], *out = cmd_get(args, 'o');
	int force = cmd_get(args, 'f') != NULL, to_stdout, fd;
	char hex[SHA256_HEX_LEN + 1], *want;
	struct client c;
	struct stat st;
	uint64_t size;
	json_t *o;

	if (out == NULL || *out == '\0')
		cmd_usage_error(args->entry, "-o FILE is required (-o - for stdout)");
	if (*id == '\0')
		cmd_usage_error(args->entry, "empty ID");
	to_stdout = strcmp(out, "-") == 0;
	if (to_stdout && ctx->json)
		cmd_usage_error(args->entry, "--json and -o - both want stdout");
	if (!to_stdout && !force && lstat(out, &st) == 0)
		client_fatal("%s: already exists (use --force to replace it)", out);
	want = get_id_sha256(id);

	client_open(&c, ctx);
	fd = to_stdout ? get_tmp_anon() : outfile_tmp_beside(out);
	gr.id = want != NULL ? want : (char *)id;
	req.body_case = CUSTODY__ENVELOPE__BODY_GET_REQUEST;
	req.get_request = &gr;
	if (client_send(&c, &req, &fd, 1) < 0 ||
	    client_recv(&c, CUSTODY__ENVELOPE__BODY_GET_REPLY, &reply) < 0)
		outfile_fail("%s", custody_error());
	r = reply->get_reply;
	if (r->sha256 == NULL || !hex_is_lower(r->sha256, SHA256_HEX_LEN))
		outfile_fail("%s: custodyd sent a malformed SHA-256", id);

	/* Trust no one: hash what actually landed in the file. */
	get_hash(hex, &size, fd);
	if (strcmp(hex, r->sha256) != 0)
		outfile_fail("%s: the decrypted bytes hash to %s, not %s as custodyd says; "
		    "nothing written", id, hex, r->sha256);
	if (size != r->size)
		outfile_fail("%s: got %llu bytes, custodyd says %llu; nothing written", id,
		    (unsigned long long)size, (unsigned long long)r->size);
	if (want != NULL && strcmp(hex, want) != 0)
		outfile_fail("%s: custodyd sent a file whose SHA-256 is %s; nothing written", id, hex);

	if (to_stdout)
		get_copy_stdout(fd);
	else
		outfile_commit(fd, out, force);
	close(fd);

	if (ctx->json) {
		o = json_object();
		client_json_str(o, "sha256", hex);
		client_json_u64(o, "size", size);
		client_json_str(o, "name", r->name);
		client_json_str(o, "path", out);
		client_json_print(o);
	} else if (!to_stdout)
		printf("%s  %s\n", hex, out);
	wire_free(reply);
	free(want);
	client_close(&c);
	return 0;
}
