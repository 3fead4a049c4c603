/* The recipient requests (the records: recipients.c). */
#include <stdio.h>
#include <stdlib.h>

#include "dossier.h"
#include "log.h"
#include "server.h"

/* RecipientAddRequest: write a recipient record; the reply shows it. */
int
service_recipient_add(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__RecipientAddRequest *m = r->msg->recipient_add_request;
	Custody__RecipientReply rr = CUSTODY__RECIPIENT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct records_written w;
	char id[OFFICE_NAME_MAX + 16], oid[GIT_OID_HEXSZ + 1] = "", *json = NULL;
	char tok[TOKEN_HEX_LEN + 1];
	json_t *doc = NULL;
	int error;

	if ((error = recipient_add(&doc, &w, a, m->name, m->key, m->consent_class, m->withhold, m->n_withhold,
	    m->disclose, m->n_disclose)) < 0)
		return error;
	if (w.committed) {
		git_oid_tostr(oid, sizeof oid, &w.commit.oid);
		rr.seq = w.commit.seq;
		snprintf(id, sizeof id, "recipient:%s", m->name);
		archive_token_hex(a, tok, id);
		log_info("recipient record %s written by uid %u", tok, (unsigned)r->c->uid);
	}
	if ((json = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	rr.json = json;
	rr.commit = oid;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECIPIENT_REPLY;
	env.recipient_reply = &rr;
	error = server_reply(r, &env);
done:
	free(json);
	json_decref(doc);
	return error;
}

/* RecipientListRequest: every recipient record. */
int
service_recipient_list(struct request *r)
{
	Custody__RecipientReply rr = CUSTODY__RECIPIENT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	json_t *list;
	char *json;
	int error;

	if ((error = recipient_list(&list, r->c->s->a)) < 0)
		return error;
	json = json_dumps(list, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(list);
	if (json == NULL)
		return CUSTODY_ENOMEM;
	rr.json = json;
	rr.commit = (char *)"";
	env.body_case = CUSTODY__ENVELOPE__BODY_RECIPIENT_REPLY;
	env.recipient_reply = &rr;
	error = server_reply(r, &env);
	free(json);
	return error;
}
