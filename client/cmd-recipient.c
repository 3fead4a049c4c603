/* custody recipient add / list: who may receive dossiers, and what they must not see. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "custody/age.h"

#define OPT_WITHHOLD (CLIENT_OPT_REPEAT + 1)
#define OPT_DISCLOSE (CLIENT_OPT_REPEAT + 2)
#define OPT_CLASS 200

static int cmd_recipient_add_exec(const struct cmd_ctx *, const struct cmd_args *);
static int cmd_recipient_list_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_recipient_add_options[] = {
	{ "withhold", required_argument, NULL, OPT_WITHHOLD },
	{ "disclose", required_argument, NULL, OPT_DISCLOSE },
	{ "class", required_argument, NULL, OPT_CLASS },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_recipient_add_entry = {
	.name = "recipient add",
	.usage = "NAME AGE-PUBLIC-KEY [--class icmp|iiim|coi|wgeid|icrc|prosecutors|public] "
	    "[--withhold FIELD,...] [--disclose FIELD,...]",
	.help = "Register who may receive dossiers (an age key), its consent class (which "
	    "persons it may receive) and what they must not see.",
	.options = cmd_recipient_add_options,
	.lower = 2,
	.upper = 2,
	.exec = cmd_recipient_add_exec,
};

const struct cmd_entry cmd_recipient_list_entry = {
	.name = "recipient list",
	.usage = "",
	.help = "List the recipients of dossiers and the fields withheld from each.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_recipient_list_exec,
};

/* Split a comma-joined option into a string array (owned by buf). */
static char **
cmd_recipient_split(char *buf, size_t *n)
{
	char **v = NULL, *tok, *save = NULL;

	*n = 0;
	for (tok = buf != NULL ? strtok_r(buf, ",", &save) : NULL; tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((v = reallocarray(v, *n + 1, sizeof *v)) == NULL)
			client_fatal("out of memory");
		v[(*n)++] = tok;
	}
	return v;
}

/* Print one recipient: name, key, withheld fields. */
static void
cmd_recipient_print(json_t *r)
{
	json_t *v;
	size_t i;
	char *name = client_safe(json_string_value(json_object_get(r, "name")) ?: "?");

	printf("%s  %s\n  class: %s\n  withheld:", name,
	    json_string_value(json_object_get(r, "key")) ?: "?",
	    json_string_value(json_object_get(r, "class")) ?: "none (receives no persons)");
	json_array_foreach(json_object_get(r, "withhold"), i, v)
		printf("%s %s", i ? "," : "", json_string_value(v) ?: "?");
	printf("%s\n", json_array_size(json_object_get(r, "withhold")) ? "" : " nothing");
	free(name);
}

static json_t *
cmd_recipient_parse(const char *json)
{
	json_error_t jerr;
	json_t *doc = json_loads(json, 0, &jerr);

	if (doc == NULL)
		client_fatal("custodyd sent malformed JSON");
	return doc;
}

static int
cmd_recipient_add_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RecipientAddRequest q = CUSTODY__RECIPIENT_ADD_REQUEST__INIT;
	const Custody__RecipientReply *rr;
	struct age_recipient rcpt;
	char *withhold = NULL, *disclose = NULL;
	struct client c;
	json_t *doc;

	if (age_recipient_parse(&rcpt, args->argv[1], strlen(args->argv[1])) < 0)
		cmd_usage_error(args->entry, "'%s' is not an age public key (age1..., as "
		    "age-keygen prints it)", args->argv[1]);
	if (cmd_get(args, OPT_WITHHOLD) != NULL && (withhold = strdup(cmd_get(args,
	    OPT_WITHHOLD))) == NULL)
		client_fatal("out of memory");
	if (cmd_get(args, OPT_DISCLOSE) != NULL && (disclose = strdup(cmd_get(args,
	    OPT_DISCLOSE))) == NULL)
		client_fatal("out of memory");
	q.name = args->argv[0];
	q.key = args->argv[1];
	q.consent_class = (char *)(cmd_get(args, OPT_CLASS) ?: "");
	if (cmd_get(args, OPT_CLASS) != NULL && *q.consent_class == '\0')
		cmd_usage_error(args->entry, "--class needs a consent class (icmp, iiim, coi, "
		    "wgeid, icrc, prosecutors, public)");
	q.withhold = cmd_recipient_split(withhold, &q.n_withhold);
	q.disclose = cmd_recipient_split(disclose, &q.n_disclose);
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_RECIPIENT_ADD_REQUEST;
	req.recipient_add_request = &q;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_RECIPIENT_REPLY);
	rr = reply->recipient_reply;
	doc = cmd_recipient_parse(rr->json);
	if (ctx->json) {
		client_json_str(doc, "commit", rr->commit);
		client_json_u64(doc, "seq", rr->seq);
		client_json_print(doc);
	} else {
		cmd_recipient_print(doc);
		if (*rr->commit != '\0')
			fprintf(stderr, "committed as seq %llu (commit %.12s)\n",
			    (unsigned long long)rr->seq, rr->commit);
		else
			fprintf(stderr, "unchanged\n");
		json_decref(doc);
	}
	wire_free(reply);
	client_close(&c);
	free(q.withhold);
	free(q.disclose);
	free(withhold);
	free(disclose);
	return client_finish_stdout();
}

static int
cmd_recipient_list_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RecipientListRequest q = CUSTODY__RECIPIENT_LIST_REQUEST__INIT;
	struct client c;
	json_t *list, *v;
	size_t i;

	(void)args;
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_RECIPIENT_LIST_REQUEST;
	req.recipient_list_request = &q;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_RECIPIENT_REPLY);
	list = cmd_recipient_parse(reply->recipient_reply->json);
	if (ctx->json)
		client_json_print(list);
	else {
		if (json_array_size(list) == 0)
			fprintf(stderr, "no recipients yet (custody recipient add NAME age1...)\n");
		json_array_foreach(list, i, v)
			cmd_recipient_print(v);
		json_decref(list);
	}
	wire_free(reply);
	client_close(&c);
	return client_finish_stdout();
}
