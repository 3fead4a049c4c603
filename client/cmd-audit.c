/* custody audit: who did what with evidence (ingest, get, extract), from the signed feeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"

static int cmd_audit_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.usage = "[ID]",
	.help = "List the custody events (ingest, get, extract, keys split): all, or those "
	    "about one item.",
	.lower = 0,
	.upper = 1,
	.exec = cmd_audit_exec,
};

/* What an event was about, in a few words. */
static void
cmd_audit_what(char *buf, size_t len, json_t *ev)
{
	const char *action = json_string_value(json_object_get(ev, "action")) ?: "?";
	const char *s;

	if (strcmp(action, "extract") == 0)
		snprintf(buf, len, "%s for %s (%zu items)",
		    json_string_value(json_object_get(ev, "dossier")) ?: "?",
		    json_string_value(json_object_get(ev, "recipient")) ?: "?",
		    json_array_size(json_object_get(ev, "items")));
	else if (strcmp(action, "keys-split") == 0)
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT " recovery shares, any %"
		    JSON_INTEGER_FORMAT " restore key %s",
		    json_integer_value(json_object_get(ev, "shares")),
		    json_integer_value(json_object_get(ev, "threshold")),
		    json_string_value(json_object_get(ev, "fingerprint")) ?: "?");
	else if ((s = json_string_value(json_object_get(ev, "evidence"))) != NULL)
		snprintf(buf, len, "%s %s%s", s,
		    json_string_value(json_object_get(ev, "name")) ?: "",
		    json_is_true(json_object_get(ev, "duplicate")) ? " (again)" : "");
	else
		snprintf(buf, len, "-");
}

/* Print one line of the listing. */
static void
cmd_audit_line(json_t *ev, const char *what)
{
	char *safe = client_safe(what);

	printf("%-20s  %-7s  %-24s  %s\n", json_string_value(json_object_get(ev, "time")) ?: "?",
	    json_string_value(json_object_get(ev, "action")) ?: "?",
	    json_string_value(json_object_get(ev, "actor")) ?: "?", safe);
	free(safe);
}

/*
 * An ingest batch's event names its files: one line each, like the one event per file of
 * older archives; when id is one of the files, only that file's line.
 */
static void
cmd_audit_files(json_t *ev, const char *id)
{
	char what[4200];
	json_t *files = json_object_get(ev, "files"), *f;
	const char *s;
	size_t i;
	int only = 0;

	json_array_foreach(files, i, f)
		if ((s = json_string_value(json_object_get(f, "evidence"))) != NULL &&
		    strcmp(s, id) == 0)
			only = 1;
	json_array_foreach(files, i, f) {
		s = json_string_value(json_object_get(f, "evidence")) ?: "?";
		if (only && strcmp(s, id) != 0)
			continue;
		snprintf(what, sizeof what, "%s %s%s", s,
		    json_string_value(json_object_get(f, "name")) ?: "",
		    json_is_true(json_object_get(f, "duplicate")) ? " (again)" : "");
		cmd_audit_line(ev, what);
	}
}

/* Print one page's events; 0, or -1 when the JSON is malformed. */
static int
cmd_audit_print(json_t *page, const char *id, json_t *all)
{
	char what[256];
	json_t *ev;
	size_t i;

	json_array_foreach(page, i, ev) {
		if (all != NULL) {
			json_array_append(all, ev);
			continue;
		}
		if (!json_is_object(ev))
			return -1;
		if (json_is_array(json_object_get(ev, "files"))) {
			cmd_audit_files(ev, id);
			continue;
		}
		cmd_audit_what(what, sizeof what, ev);
		cmd_audit_line(ev, what);
	}
	return 0;
}

/* Ask for the events a page at a time, printing each page as it comes. */
static int
cmd_audit_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__AuditRequest q = CUSTODY__AUDIT_REQUEST__INIT;
	const Custody__AuditReply *ar;
	uint8_t tok[64];
	char *time = NULL;
	json_error_t jerr;
	json_t *page, *all = NULL;
	struct client c;
	size_t n = 0;
	int more;

	q.id = args->argc > 0 ? args->argv[0] : (char *)"";
	client_open(&c, ctx);
	if (ctx->json && (all = json_array()) == NULL)
		client_fatal("out of memory");
	req.body_case = CUSTODY__ENVELOPE__BODY_AUDIT_REQUEST;
	req.audit_request = &q;
	do {
		reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_AUDIT_REPLY);
		ar = reply->audit_reply;
		if ((page = json_loads(ar->json, 0, &jerr)) == NULL || !json_is_array(page) ||
		    cmd_audit_print(page, q.id, all) < 0 ||
		    (ar->more && (ar->next_tok.len == 0 || ar->next_tok.len > sizeof tok ||
		    json_array_size(page) == 0)))
			client_fatal("custodyd sent malformed JSON");
		n += json_array_size(page);
		json_decref(page);
		if ((more = ar->more)) {
			/* the next page starts after this one's last event */
			free(time);
			if ((time = strdup(ar->next_time)) == NULL)
				client_fatal("out of memory");
			memcpy(tok, ar->next_tok.data, ar->next_tok.len);
			q.has_after = 1;
			q.after_lamport = ar->next_lamport;
			q.after_time = time;
			q.after_tok.data = tok;
			q.after_tok.len = ar->next_tok.len;
		}
		wire_free(reply);
	} while (more);
	free(time);
	if (all != NULL)
		client_json_print(all);	/* takes it */
	else if (n == 0)
		fprintf(stderr, "no custody events%s%s\n", *q.id ? " about " : "", q.id);
	client_close(&c);
	return client_finish_stdout();
}
