/* custody verify-dossier: check a dossier offline, with no archive and no daemon. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "custody/dossier.h"
#include "client.h"
#include "cmd.h"

#define VD_OPT_EXPECT 'E'	/* --expect, long only */

static int cmd_verify_dossier_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_verify_dossier_options[] = {
	{ "identity", required_argument, NULL, 'i' },
	{ "expect", required_argument, NULL, VD_OPT_EXPECT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_verify_dossier_entry = {
	.name = "verify-dossier",
	.usage = "FILE|DIR [-i IDENTITY_FILE] [--expect FINGERPRINT]",
	.help = "Check a dossier offline: the bag, the exporter's signature, each item's proofs.",
	.optstring = "i:",
	.options = cmd_verify_dossier_options,
	.lower = 1,
	.upper = 1,
	.exec = cmd_verify_dossier_exec,
};

/* Print a string from the dossier, made safe for the terminal. */
static void
vd_put(const char *s)
{
	client_print_padded(stdout, s != NULL ? s : "", 0);
}

/* One line per finding: "  FILE:LINE: problem: WHAT". */
static void
vd_findings(const struct bagit_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		fputs("  ", stdout);
		vd_put(*r->items[i].file ? r->items[i].file : "(bag)");
		if (r->items[i].line != 0)
			printf(":%lu", r->items[i].line);
		printf(": %s: ", r->items[i].warning ? "warning" : "problem");
		vd_put(r->items[i].what);
		putchar('\n');
	}
}

/* The bag and signature lines. */
static void
vd_print_head(const struct dossier_result *res)
{
	char size[32];

	client_size(size, sizeof size, res->payload_octets);
	printf("bag: %s (%llu payload files, %s)\n", res->bag->problems == 0 ? "valid" :
	    "NOT valid", (unsigned long long)res->payload_files, size);
	vd_findings(res->bag);
	printf("signature: %s", res->sig_ok ? "good" : "BAD");
	if (!res->sig_ok) {
		fputs(": ", stdout);
		vd_put(res->sig_why);
	}
	if (res->exporter != NULL) {
		fputs(res->sig_ok ? ", by the exporter " : "; the exporter is ", stdout);
		vd_put(res->exporter);
		putchar(' ');
		vd_put(res->fingerprint);
	}
	putchar('\n');
	if (res->signed_with != NULL) {
		fputs("  signed with its key ", stdout);
		vd_put(res->signed_with);
		printf(" since its commit %llu, which its handovers in the dossier reach from "
		    "this one\n", (unsigned long long)res->signed_since);
	}
	if (res->expect > 0)
		puts("  this is the fingerprint you expected");
	else if (res->expect < 0) {
		fputs("  this is NOT the fingerprint you expected (", stdout);
		vd_put(res->expected);
		puts(")");
	} else if (res->sig_ok) {
		fputs("  compare this fingerprint with the one ", stdout);
		vd_put(res->exporter);
		puts(" gave you out of band (or pass --expect)");
	}
	if (res->problems->n > 0) {
		puts("dossier:");
		vd_findings(res->problems);
	}
}

/* The whole result as text; the last line is the verdict. */
static void
vd_print(const struct dossier_result *res)
{
	const struct dossier_item *it;
	size_t i, j, proven = 0, attested = 0, failed = 0;
	const char *sep = "";

	if (res->fatal != NULL) {
		fputs("dossier NOT verified: ", stdout);
		vd_put(res->fatal);
		putchar('\n');
		return;
	}
	vd_print_head(res);
	for (i = 0; i < res->nitems; i++) {
		it = &res->items[i];
		printf("%-8s %s ", dossier_verdict_name(it->verdict), it->kind);
		vd_put(it->id);
		fputs(": ", stdout);
		if (it->verdict == DOSSIER_FAILED) {
			failed++;
			for (j = 0; j < it->nreasons; j++) {
				fputs(j ? "; " : "", stdout);
				vd_put(it->reasons[j]);
			}
		} else {
			if (it->verdict == DOSSIER_PROVEN)
				proven++;
			else
				attested++;
			vd_put(it->summary);
		}
		putchar('\n');
	}
	if (res->ok) {
		printf("dossier verified: %zu item%s, %zu proven, %zu attested", res->nitems,
		    res->nitems == 1 ? "" : "s", proven, attested);
		if (attested > 0) {
			fputs(" (attested items rest on ", stdout);
			vd_put(res->exporter);
			fputs("'s signature alone)", stdout);
		}
		putchar('\n');
		return;
	}
	fputs("dossier NOT verified: ", stdout);
	if (res->bag->problems > 0) {
		fputs("the bag is not valid", stdout);
		sep = ", ";
	}
	if (!res->sig_ok) {
		printf("%sthe signature does not hold", sep);
		sep = ", ";
	}
	if (res->expect < 0) {
		printf("%sthe exporter is not who you expected", sep);
		sep = ", ";
	}
	if (res->problems->problems > 0) {
		printf("%s%zu problem%s with the dossier", sep, res->problems->problems,
		    res->problems->problems == 1 ? "" : "s");
		sep = ", ";
	}
	if (failed > 0)
		printf("%s%zu of %zu items failed", sep, failed, res->nitems);
	putchar('\n');
}

/* Findings as a JSON array. */
static json_t *
vd_json_findings(const struct bagit_report *r)
{
	json_t *a = json_array(), *f;
	size_t i;

	for (i = 0; i < r->n; i++) {
		f = json_object();
		client_json_str(f, "file", r->items[i].file);
		if (r->items[i].line != 0)
			client_json_u64(f, "line", r->items[i].line);
		client_json_bool(f, "warning", r->items[i].warning);
		client_json_str(f, "what", r->items[i].what);
		json_array_append_new(a, f);
	}
	return a;
}

/* The whole result as JSON. */
static void
vd_json(const struct dossier_result *res)
{
	json_t *o = json_object(), *bag, *sig, *items, *it, *reasons;
	const struct dossier_item *item;
	size_t i, j;

	client_json_bool(o, "ok", res->ok);
	if (res->name != NULL)
		client_json_str(o, "dossier", res->name);
	if (res->fatal != NULL) {
		client_json_str(o, "fatal", res->fatal);
		client_json_print(o);
		return;
	}
	bag = json_object();
	client_json_bool(bag, "valid", res->bag->problems == 0);
	client_json_u64(bag, "payload_files", res->payload_files);
	client_json_u64(bag, "payload_octets", res->payload_octets);
	json_object_set_new(bag, "findings", vd_json_findings(res->bag));
	json_object_set_new(o, "bag", bag);
	sig = json_object();
	client_json_bool(sig, "ok", res->sig_ok);
	if (res->sig_why != NULL)
		client_json_str(sig, "problem", res->sig_why);
	if (res->exporter != NULL)
		client_json_str(sig, "exporter", res->exporter);
	if (res->fingerprint != NULL)
		client_json_str(sig, "fingerprint", res->fingerprint);
	if (res->signed_with != NULL) {
		client_json_str(sig, "signed_with", res->signed_with);
		client_json_u64(sig, "signed_since", res->signed_since);
	}
	if (res->expected != NULL) {
		client_json_str(sig, "expected", res->expected);
		client_json_bool(sig, "expected_matches", res->expect > 0);
	}
	json_object_set_new(o, "signature", sig);
	json_object_set_new(o, "problems", vd_json_findings(res->problems));
	items = json_array();
	for (i = 0; i < res->nitems; i++) {
		item = &res->items[i];
		it = json_object();
		client_json_str(it, "kind", item->kind);
		client_json_str(it, "id", item->id);
		client_json_str(it, "verdict", item->verdict == DOSSIER_PROVEN ? "proven" :
		    item->verdict == DOSSIER_ATTESTED ? "attested" : "failed");
		if (item->summary != NULL)
			client_json_str(it, "summary", item->summary);
		reasons = json_array();
		for (j = 0; j < item->nreasons; j++) {
			char *s = client_utf8(item->reasons[j], NULL);

			json_array_append_new(reasons, json_string(s));
			free(s);
		}
		json_object_set_new(it, "reasons", reasons);
		json_array_append_new(items, it);
	}
	json_object_set_new(o, "items", items);
	client_json_print(o);
}

/* Verify a directory or an age file and report; exit 0 only when everything holds. */
static int
cmd_verify_dossier_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *path = args->argv[0], *identity = cmd_get(args, 'i');
	const char *expect = cmd_get(args, VD_OPT_EXPECT);
	struct dossier_result *res = NULL;
	struct age_identity *ids = NULL;
	struct stat st;
	size_t n;
	int fd, isdir, error, ok;

	if (*path == '\0')
		cmd_usage_error(args->entry, "empty FILE|DIR");
	if (expect != NULL && (strncmp(expect, "SHA256:", 7) != 0 || expect[7] == '\0'))
		cmd_usage_error(args->entry, "--expect takes a fingerprint \"SHA256:...\", as "
		    "ssh-keygen -l prints it");
	if (identity != NULL && *identity == '\0')
		cmd_usage_error(args->entry, "empty IDENTITY_FILE");
	if (strcmp(path, "-") == 0)
		isdir = 0;
	else if (stat(path, &st) < 0)
		client_fatal("%s: %s", path, strerror(errno));
	else
		isdir = S_ISDIR(st.st_mode);
	if (isdir && identity != NULL)
		cmd_usage_error(args->entry, "%s is a directory, already decrypted: -i is for an "
		    "age file", path);
	if (!isdir && identity == NULL)
		cmd_usage_error(args->entry, "%s is an age file: give its identity with -i "
		    "IDENTITY_FILE", path);

	if (isdir)
		error = dossier_verify_dir(&res, path, expect);
	else {
		/* identities live in sodium_malloc'd memory */
		if (sodium_init() < 0)
			client_fatal("cannot initialise libsodium");
		if (age_identity_file_load(&ids, &n, identity) < 0)
			client_fatal("%s: %s", identity, custody_error());
		if (strcmp(path, "-") == 0)
			fd = STDIN_FILENO;
		else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			client_fatal("%s: %s", path, strerror(errno));
		error = dossier_verify_age(&res, fd, ids, n, expect);
		age_identity_file_free(ids);
		if (fd != STDIN_FILENO)
			close(fd);
	}
	if (res == NULL || (error < 0 && error != CUSTODY_EINVAL))
		client_fatal("%s: %s", path, custody_error());
	if (ctx->json)
		vd_json(res);
	else
		vd_print(res);
	ok = res->ok;
	dossier_result_free(res);
	return ok ? 0 : 1;
}
