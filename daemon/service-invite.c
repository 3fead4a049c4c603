/* InviteRequest: sign an invitation for a new office and record the invitation in our feed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/invite.h"
#include "log.h"
#include "offices.h"
#include "server.h"

/* Refuse a name or key that is already known as another office. */
static int
service_invite_check(struct archive *a, const char *name, const uint8_t pk[static 32])
{
	struct office *list = NULL;
	size_t n, i;
	int error, same_name, same_key;

	if (strcmp(name, a->conf.office) == 0 || memcmp(pk, a->office_pk, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EEXIST, "that is this office (%s)", a->conf.office);
	if ((error = offices_list(a, &list, &n)) < 0)
		return error;
	for (i = 0; i < n && error == 0; i++) {
		same_name = strcmp(list[i].name, name) == 0;
		same_key = memcmp(list[i].pk, pk, ED25519_PK_LEN) == 0;
		if (same_name && !same_key)
			error = custody_fail(CUSTODY_EEXIST, "office %s is already known with "
			    "another key", name);
		else if (same_key && !same_name)
			error = custody_fail(CUSTODY_EEXIST, "that key is already known as "
			    "office %s", list[i].name);
	}
	free(list);
	return error;
}

/* Sign an invitation for a new office; our office record and the invite record, one commit. */
int
service_invite(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__InviteRequest *m = r->msg->invite_request;
	Custody__InviteReply ir = CUSTODY__INVITE_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint8_t pk[ED25519_PK_LEN];
	json_t *docs[2] = { NULL, NULL };
	char *text = NULL, *fp = NULL, summary[128];
	int error;

	if (archive_check_name(m->name) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid office name '%.64s' (use 1-64 "
		    "letters, digits, . _ -)", m->name);
	if (sshkey_parse_pub(pk, NULL, m->key) < 0)
		return custody_fail(CUSTODY_EINVAL,
		    "the key is not an \"ssh-ed25519 AAAA...\" line");
	if (invite_check_address(m->address) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid address '%.64s' (use HOST:PORT)",
		    m->address);
	if ((error = service_invite_check(a, m->name, pk)) < 0)
		return error;
	if ((error = invite_write(&text, m->name, pk, a->conf.office, a->office_sk, m->address,
	    a->data_key, NULL)) < 0 || (error = sshkey_fingerprint(&fp, pk)) < 0)
		goto done;
	if ((error = offices_record(&docs[0], a->conf.office, a->office_pk, m->address)) < 0 ||
	    (error = offices_invite_record(&docs[1], m->name, pk, NULL)) < 0)
		goto done;
	snprintf(summary, sizeof summary, "invite: office %s", m->name);
	if ((error = offices_write(a, docs, 2, summary)) < 0)
		goto done;
	log_info("uid %u invited office %s", (unsigned)r->c->uid, fp);
	ir.invitation = text;
	ir.fingerprint = fp;
	env.body_case = CUSTODY__ENVELOPE__BODY_INVITE_REPLY;
	env.invite_reply = &ir;
	error = server_reply(r, &env);
done:
	json_decref(docs[0]);
	json_decref(docs[1]);
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	free(text);
	free(fp);
	return error;
}
