/*
 * custody extract: a dossier for a registered recipient (proto/DOSSIER.md), written by the
 * daemon into a temporary file beside -o FILE and renamed once its hash checks out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "outfile.h"
#include "records-cmd.h"

#define OPT_INCIDENT (CLIENT_OPT_REPEAT + 1)
#define OPT_EVIDENCE (CLIENT_OPT_REPEAT + 2)
#define OPT_VICTIM (CLIENT_OPT_REPEAT + 3)
#define OPT_PERSON (CLIENT_OPT_REPEAT + 4)
#define OPT_SITE (CLIENT_OPT_REPEAT + 5)

static int cmd_extract_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_extract_options[] = {
	{ "recipient", required_argument, NULL, 'r' },
	{ "incident", required_argument, NULL, OPT_INCIDENT },
	{ "evidence", required_argument, NULL, OPT_EVIDENCE },
	{ "victim", required_argument, NULL, OPT_VICTIM },
	{ "person", required_argument, NULL, OPT_PERSON },
	{ "site", required_argument, NULL, OPT_SITE },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "persons", no_argument, NULL, 'P' },
	{ "status", required_argument, NULL, 's' },
	{ "at", required_argument, NULL, 'a' },
	{ "event-site", required_argument, NULL, 'E' },
	RC_QUERY_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_extract_entry = {
	.name = "extract",
	.usage = "--recipient NAME (--incident ID... | --evidence ID... | --victim ID... | "
	    "--person ID... | --site ID... | "
	    "[--from D] [--to D] [--basis B] [--party P] [--governorate G] [--cause C] "
	    "[--category K] [--child] [--woman] [--limit N] | "
	    "--persons [--status S [--at YYYY-MM-DD]] [--party P] [--governorate G] "
	    "[--event-site ID] [--child] [--woman] [--limit N]) -o FILE [-f]",
	.help = "Write a signed, age-encrypted BagIt dossier of records and evidence. A person "
	    "(with its events) goes in only when its consent lists the recipient's class.\n"
	    "Without --persons the filters select victims, as `custody query victims` does.\n"
	    "With --persons they select persons, as `custody query persons` does (--event-site\n"
	    "is its --site: an event of the person names the site; --limit counts the persons\n"
	    "that go in); the persons whose consent leaves the recipient's class out are\n"
	    "counted in the summary, never named.",
	.optstring = "r:o:f",
	.options = cmd_extract_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_extract_exec,
};

/* The ids of a repeatable option (comma-joined by cmd.c), in an array owned by *buf. */
static char **
cmd_extract_ids(const struct cmd_args *args, int val, char **buf, size_t *n)
{
	char **v = NULL, *tok, *save = NULL;

	*n = 0;
	*buf = NULL;
	if (cmd_get(args, val) == NULL)
		return NULL;
	if ((*buf = strdup(cmd_get(args, val))) == NULL)
		client_fatal("out of memory");
	for (tok = strtok_r(*buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if ((v = reallocarray(v, *n + 1, sizeof *v)) == NULL)
			client_fatal("out of memory");
		v[(*n)++] = tok;
	}
	if (*n == 0)
		cmd_usage_error(args->entry, "an empty id");
	return v;
}

/* Without --persons, a person filter is a mistake: say so rather than extract victims. */
static void
cmd_extract_no_person_filters(const struct cmd_args *args)
{
	static const struct { int val; const char *flag; } only[] = { { 's', "--status" },
	    { 'a', "--at" }, { 'E', "--event-site" } };
	size_t i;

	for (i = 0; i < sizeof only / sizeof only[0]; i++)
		if (cmd_get(args, only[i].val) != NULL)
			cmd_usage_error(args->entry, "%s selects persons: give --persons too",
			    only[i].flag);
}

/* --persons: the filters of `custody query persons` into q; the victims' own ones refused. */
static void
cmd_extract_person_query(Custody__PersonQueryRequest *q, const struct cmd_args *args,
    char today[static 11])
{
	static const struct { int val; const char *flag; } victims[] = { { 'F', "--from" },
	    { 'T', "--to" }, { 'b', "--basis" }, { 'c', "--cause" }, { 'k', "--category" } };
	size_t i;

	for (i = 0; i < sizeof victims / sizeof victims[0]; i++)
		if (cmd_get(args, victims[i].val) != NULL)
			cmd_usage_error(args->entry, "%s filters victims, not persons (--persons "
			    "takes --status, --at, --party, --governorate, --event-site, --child, "
			    "--woman and --limit)", victims[i].flag);
	rc_person_status(q, args, 's', 'a', today);
	q->party = rc_opt(args, 'p', "--party");
	q->governorate = rc_opt(args, 'g', "--governorate");
	q->site = rc_opt(args, 'E', "--event-site");
	q->child = cmd_get(args, 'C') != NULL;
	q->woman = cmd_get(args, 'W') != NULL;
	q->limit = rc_number(args, RC_OPT_LIMIT, "--limit");
	if (cmd_get(args, RC_OPT_LIMIT) != NULL && q->limit == 0)
		cmd_usage_error(args->entry, "--limit needs a positive number");
}

static int
cmd_extract_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__ExtractRequest q = CUSTODY__EXTRACT_REQUEST__INIT;
	Custody__QueryRequest qr = CUSTODY__QUERY_REQUEST__INIT;
	Custody__PersonQueryRequest pq = CUSTODY__PERSON_QUERY_REQUEST__INIT;
	const Custody__ExtractReply *er;
	const char *out = cmd_get(args, 'o'), *rcpt = cmd_get(args, 'r');
	char *bufs[5], size[16], evsize[16], today[11];
	int force = cmd_get(args, 'f') != NULL, fd;
	struct client c;
	struct stat st;
	json_t *o;

	if (rcpt == NULL || *rcpt == '\0')
		cmd_usage_error(args->entry, "--recipient NAME is required (custody recipient "
		    "list)");
	if (out == NULL || *out == '\0' || strcmp(out, "-") == 0)
		cmd_usage_error(args->entry, "-o FILE is required (a file, not stdout)");
	q.recipient = (char *)rcpt;
	q.incidents = cmd_extract_ids(args, OPT_INCIDENT, &bufs[0], &q.n_incidents);
	q.evidence = cmd_extract_ids(args, OPT_EVIDENCE, &bufs[1], &q.n_evidence);
	q.victims = cmd_extract_ids(args, OPT_VICTIM, &bufs[2], &q.n_victims);
	q.persons = cmd_extract_ids(args, OPT_PERSON, &bufs[3], &q.n_persons);
	q.sites = cmd_extract_ids(args, OPT_SITE, &bufs[4], &q.n_sites);
	if (cmd_get(args, 'P') != NULL) {
		cmd_extract_person_query(&pq, args, today);
		q.person_query_set = 1;
		q.person_query = &pq;
	} else {
		cmd_extract_no_person_filters(args);
		q.query_set = rc_query_filters(&qr, args);
		q.query = &qr;
	}
	if (!q.query_set && !q.person_query_set && q.n_incidents + q.n_evidence + q.n_victims +
	    q.n_persons + q.n_sites == 0)
		cmd_usage_error(args->entry, "say what goes in: --incident, --evidence, --victim, "
		    "--person, --site, --persons or query flags");
	if (!force && lstat(out, &st) == 0)
		client_fatal("%s: already exists (use --force to replace it)", out);
	q.progress = !ctx->json && isatty(STDERR_FILENO);

	client_open(&c, ctx);
	fd = outfile_tmp_beside(out);
	req.body_case = CUSTODY__ENVELOPE__BODY_EXTRACT_REQUEST;
	req.extract_request = &q;
	if (client_send(&c, &req, &fd, 1) < 0)
		outfile_fail("%s", custody_error());
	reply = client_wait(&c, CUSTODY__ENVELOPE__BODY_EXTRACT_REPLY, "");
	er = reply->extract_reply;
	/*
	 * Unlike get, no second reading of the file to hash it: a dossier proves itself to its
	 * recipient (verify-dossier), and its tag manifest's hash is in the custody event.
	 */
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != er->size ||
	    !hex_is_lower(er->tagmanifest_sha256, SHA256_HEX_LEN))
		outfile_fail("%s: the file written is not what custodyd reported", out);
	outfile_commit(fd, out, force);
	close(fd);
	if (ctx->json) {
		o = json_object();
		client_json_str(o, "file", out);
		client_json_str(o, "dossier", er->dossier);
		client_json_u64(o, "size", er->size);
		client_json_str(o, "tagmanifest_sha256", er->tagmanifest_sha256);
		client_json_u64(o, "incidents", er->incidents);
		client_json_u64(o, "victims", er->victims);
		client_json_u64(o, "evidence", er->evidence);
		client_json_u64(o, "sources", er->sources);
		client_json_u64(o, "persons", er->persons);
		client_json_u64(o, "person_events", er->person_events);
		client_json_u64(o, "sites", er->sites);
		client_json_u64(o, "persons_left_out", er->persons_left_out);
		client_json_u64(o, "person_events_left_out", er->person_events_left_out);
		client_json_str(o, "consent_class", er->consent_class);
		client_json_u64(o, "evidence_bytes", er->evidence_bytes);
		client_json_str(o, "commit", er->commit);
		client_json_u64(o, "seq", er->seq);
		client_json_print(o);
	} else {
		printf("%s: %s for %s, %s\n", out, er->dossier, rcpt,
		    client_size(size, sizeof size, er->size));
		printf("  %u incidents, %u victims, %u evidence files (%s), %u sources\n",
		    er->incidents, er->victims, er->evidence,
		    client_size(evsize, sizeof evsize, er->evidence_bytes), er->sources);
		if (er->persons + er->person_events + er->sites + er->persons_left_out > 0)
			printf("  %u persons, %u person events, %u sites\n", er->persons,
			    er->person_events, er->sites);
		if (er->persons_left_out > 0 && *er->consent_class != '\0')
			printf("  %u persons and %u of their events left out: their consent does "
			    "not include %s, the recipient's class\n", er->persons_left_out,
			    er->person_events_left_out, er->consent_class);
		else if (er->persons_left_out > 0)
			printf("  %u persons and %u of their events left out: the recipient has no "
			    "consent class (custody recipient add --class)\n", er->persons_left_out,
			    er->person_events_left_out);
		printf("  dossier hash %s (SHA-256 of tagmanifest-sha256.txt)\n"
		    "  recorded as a custody event: seq %llu (commit %.12s)\n",
		    er->tagmanifest_sha256, (unsigned long long)er->seq, er->commit);
	}
	wire_free(reply);
	client_close(&c);
	free(q.incidents);
	free(q.evidence);
	free(q.victims);
	free(q.persons);
	free(q.sites);
	free(bufs[0]);
	free(bufs[1]);
	free(bufs[2]);
	free(bufs[3]);
	free(bufs[4]);
	return client_finish_stdout();
}
