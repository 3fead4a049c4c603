/* InviteRequest: sign an invitation for a new office and record the invitation in our feed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "custody/invite.h"
#include "epochs.h"
#include "log.h"
#include "offices.h"
#include "peers.h"
#include "server.h"

/*
 * Withdraw our invitation for office name: a withdrawal record in our feed, after which that
 * invitation admits nobody, at any office. Once the office has joined (its feed is here, so it
 * synced with us), withdrawing is refused: taking an admitted office back is revocation.
 */
static int
service_invite_withdraw(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__InviteRequest *m = r->msg->invite_request;
	Custody__InviteReply ir = CUSTODY__INVITE_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct office *list = NULL;
	struct peers_entry pe;
	char hex[2 * ED25519_PK_LEN + 1], id[16 + 2 * ED25519_PK_LEN], *fp = NULL;
	json_t *inv = NULL, *doc = NULL;
	uint8_t pk[ED25519_PK_LEN];
	git_oid head;
	uint64_t seq = 0, lamport;
	size_t n = 0, i;
	int error, found = 0;

	if (archive_check_name(m->name) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid office name '%.64s'", m->name);
	if ((error = offices_list(a, &list, &n)) < 0)
		return error;
	for (i = 0; i < n && !found; i++)
		if (strcmp(list[i].name, m->name) == 0) {
			memcpy(pk, list[i].pk, ED25519_PK_LEN);
			found = 1;
		}
	free(list);
	if (!found)
		return custody_fail(CUSTODY_ENOTFOUND, "no invited office is called %s (or its "
		    "invitation is already withdrawn)", m->name);
	hex_encode(hex, pk, ED25519_PK_LEN);
	snprintf(id, sizeof id, "invite-%s", hex);
	if (feed_read_record(a, a->office_hex, id, &inv) < 0 || inv == NULL)
		return custody_fail(CUSTODY_EPERM, "office %s was not invited by this office: "
		    "only the inviter can withdraw an invitation", m->name);
	json_decref(inv);
	if (feed_head(a, hex, &head, &seq, &lamport) == 0 && seq > 0)
		return custody_fail(CUSTODY_EEXIST, "office %s has already joined (its feed is "
		    "here): an invitation cannot be withdrawn once used; revoke the office "
		    "instead", m->name);
	if ((error = offices_withdrawal_record(&doc, m->name, pk)) < 0 ||
	    (error = sshkey_fingerprint(&fp, pk)) < 0)
		goto done;
	if ((error = offices_write(a, &doc, 1, "invite: withdrawn")) < 0)
		goto done;
	if (peers_find_key(&pe, pk) == 0 && peers_remove(a, pe.name) < 0)
		log_warn("cannot unpin peer %s: %s", pe.name, custody_error());
	log_info("uid %u withdrew the invitation of office %s", (unsigned)r->c->uid, fp);
	ir.invitation = (char *)"";
	ir.fingerprint = fp;
	env.body_case = CUSTODY__ENVELOPE__BODY_INVITE_REPLY;
	env.invite_reply = &ir;
	error = server_reply(r, &env);
done:
	json_decref(doc);
	free(fp);
	return error;
}

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

/* Refuse a key whose invitation we withdrew: the withdrawal stands for that key for good. */
static int
service_invite_withdrawn(struct archive *a, const char *name, const uint8_t pk[static 32])
{
	char hex[2 * ED25519_PK_LEN + 1], id[16 + 2 * ED25519_PK_LEN];
	json_t *doc = NULL;

	hex_encode(hex, pk, ED25519_PK_LEN);
	snprintf(id, sizeof id, "withdrawal-%s", hex);
	if (feed_read_record(a, a->office_hex, id, &doc) < 0 || doc == NULL)
		return 0;
	json_decref(doc);
	return custody_fail(CUSTODY_EEXIST, "this office withdrew its invitation of that key "
	    "(as %s): invite a new key for office %s", name, name);
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
	char *text = NULL, *fp = NULL, summary[128], created[INVITE_TIME_LEN + 1];
	char expires[INVITE_TIME_LEN + 1];
	uint32_t secs = m->expires_seconds != 0 ? m->expires_seconds : INVITE_EXPIRES_DEFAULT;
	struct peers_entry pe;
	int64_t now = (int64_t)time(NULL);
	int error;

	if (m->withdraw)
		return service_invite_withdraw(r);
	/* an invitation names its inviter by the key that signs it, which binds no name here */
	if (memcmp(a->sign_pk, a->office_pk, ED25519_PK_LEN) != 0)
		return custody_fail(CUSTODY_EPERM, "this office rotated its key: invitations it "
		    "signs now would not admit anyone; ask an office that did not rotate to invite");
	if (secs > INVITE_EXPIRES_MAX)
		return custody_fail(CUSTODY_EINVAL, "invalid expiry: at most %d days",
		    INVITE_EXPIRES_MAX / 86400);
	invite_format_time(created, now);
	invite_format_time(expires, now + secs);
	if (archive_check_name(m->name) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid office name '%.64s' (use 1-64 "
		    "letters, digits, . _ -)", m->name);
	if (sshkey_parse_pub(pk, NULL, m->key) < 0)
		return custody_fail(CUSTODY_EINVAL,
		    "the key is not an \"ssh-ed25519 AAAA...\" line");
	if (invite_check_address(m->address) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid address '%.64s' (use HOST:PORT)",
		    m->address);
	if ((error = service_invite_check(a, m->name, pk)) < 0 ||
	    (error = service_invite_withdrawn(a, m->name, pk)) < 0)
		return error;
	if ((error = invite_write_expires(&text, m->name, pk, a->conf.office, a->office_sk,
	    m->address, a->data_key, created, expires)) < 0 ||
	    (error = sshkey_fingerprint(&fp, pk)) < 0)
		goto done;
	if ((error = offices_record(&docs[0], a->conf.office, a->office_pk, m->address)) < 0 ||
	    (error = offices_invite_record(&docs[1], m->name, pk, NULL)) < 0)
		goto done;
	if (json_object_set_new(docs[1], "expires", json_string(expires)) < 0) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	snprintf(summary, sizeof summary, "invite: office %s", m->name);
	if ((error = offices_write(a, docs, 2, summary)) < 0)
		goto done;
	log_info("uid %u invited office %s", (unsigned)r->c->uid, fp);
	/* pinned with no address (it dials us once joined); one already pinned keeps its own */
	if (peers_find_key(&pe, pk) < 0 && peers_add(a, m->name, "", pk) < 0)
		log_warn("office %s is invited but not pinned as a peer: %s (custody peer add "
		    "pins it)", m->name, custody_error());
	/* the epochs this office made, sealed to the new office too (epochs-rotate.c) */
	if (epochs_after_admissions(a) < 0)
		log_warn("data-key epochs for office %s: %s", m->name, custody_error());
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
