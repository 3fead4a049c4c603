/* RevokeRequest and RevocationsRequest: sign a revocation, list revocations (revocations.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epochs.h"
#include "log.h"
#include "revocations.h"
#include "server.h"
#include "sync.h"

#define REVOKE_REASON_MAX 1000

/* The revocations as a JSON array; only the one of (target, from_seq) when target is set. */
static int
service_revocations_json(struct archive *a, const uint8_t *target, uint64_t from_seq,
    char **out)
{
	struct revocation *v = NULL;
	size_t n = 0, i, j;
	json_t *arr = json_array(), *o, *signers;
	char *name, *fp;
	int error;

	*out = NULL;
	if (arr == NULL)
		return CUSTODY_ENOMEM;
	if ((error = revocations_list(a, &v, &n)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (target != NULL && (memcmp(v[i].target, target, ED25519_PK_LEN) != 0 ||
		    v[i].from_seq != from_seq))
			continue;
		name = sync_office_name(a, v[i].target);
		fp = NULL;
		sshkey_fingerprint(&fp, v[i].target);
		signers = json_array();
		for (j = 0; j < v[i].nsigners; j++) {
			char *s = sync_office_name(a, v[i].signers[j].pk);

			json_array_append_new(signers, json_pack("{s:s,s:b}", "office", s ? s : "?",
			    "counted", v[i].signers[j].counted));
			free(s);
		}
		o = json_pack("{s:s,s:s,s:I,s:s,s:I,s:o}", "office", name ? name : "?",
		    "fingerprint", fp ? fp : "?", "from_seq", (json_int_t)v[i].from_seq,
		    "status", v[i].effective ? "effective" : "pending", "quorum",
		    (json_int_t)v[i].quorum, "signers", signers);
		free(name);
		free(fp);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			error = CUSTODY_ENOMEM;
			goto done;
		}
	}
	if ((*out = json_dumps(arr, JSON_COMPACT)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	free(v);
	json_decref(arr);
	return error;
}

/* Reply with json. */
static int
service_revocations_reply(struct request *r, char *json)
{
	Custody__RevocationsReply rr = CUSTODY__REVOCATIONS_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;

	rr.json = json;
	env.body_case = CUSTODY__ENVELOPE__BODY_REVOCATIONS_REPLY;
	env.revocations_reply = &rr;
	return server_reply(r, &env);
}

/*
 * The revocation to sign: from_seq as asked, else the pending revocation of target (the one
 * with most signers), else after the last commit of it another office witnessed.
 */
static int
service_revoke_seq(struct archive *a, const uint8_t target[static 32], int has, uint64_t asked,
    uint64_t *out)
{
	struct revocation *v = NULL;
	size_t n = 0, i, best = 0;
	int error, found = 0;

	if (has) {
		*out = asked;
		return 0;
	}
	if ((error = revocations_list(a, &v, &n)) < 0)
		return error;
	for (i = 0; i < n; i++)
		if (memcmp(v[i].target, target, ED25519_PK_LEN) == 0 &&
		    (!found || v[i].nsigners > best)) {
			found = 1;
			best = v[i].nsigners;
			*out = v[i].from_seq;
		}
	free(v);
	return found ? 0 : revocations_default_seq(a, target, out);
}

int
service_revoke(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__RevokeRequest *m = r->msg->revoke_request;
	struct records_written w;
	struct office *list = NULL;
	uint8_t target[ED25519_PK_LEN];
	uint64_t from_seq = 0, cut;
	char id[ID_MAX + 1], hex[65], now[32], summary[128], *json = NULL, *fp = NULL;
	size_t n = 0, i;
	json_t *doc = NULL;
	int error, found = 0;

	if (m->reason == NULL || m->reason[0] == '\0' || strlen(m->reason) > REVOKE_REASON_MAX)
		return custody_fail(CUSTODY_EINVAL, "a revocation needs a reason (1-%d bytes)",
		    REVOKE_REASON_MAX);
	if (archive_check_name(m->name) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid office name '%.64s'", m->name);
	if ((error = offices_list(a, &list, &n)) < 0)
		return error;
	for (i = 0; i < n && !found; i++)
		if (strcmp(list[i].name, m->name) == 0) {
			found = 1;
			memcpy(target, list[i].pk, ED25519_PK_LEN);
		}
	free(list);
	if (!found)
		return custody_fail(CUSTODY_ENOTFOUND, "no admitted office is named '%s'",
		    m->name);
	if (memcmp(target, a->office_pk, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EINVAL, "an office cannot revoke itself");
	if (revocations_cut(a, a->office_pk, &cut))
		return custody_fail(CUSTODY_EPERM, "this office is revoked (after its commit %"
		    PRIu64 "): it cannot revoke others", cut);
	if ((error = service_revoke_seq(a, target, m->has_from_seq, m->from_seq, &from_seq)) < 0)
		return error;
	revocations_id(id, target, from_seq);
	hex_encode(hex, target, ED25519_PK_LEN);
	record_now(now);
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "kind", "revocation", "id", id,
	    "office", hex, "name", m->name, "from_seq", (json_int_t)from_seq, "reason",
	    m->reason, "time", now)) == NULL)
		return CUSTODY_ENOMEM;
	snprintf(summary, sizeof summary, "revoke: office %s after commit %" PRIu64, m->name,
	    from_seq);
	if ((error = records_write_changed(a, &doc, 1, summary, 1, &w)) < 0)
		goto done;
	sshkey_fingerprint(&fp, target);
	log_info("uid %u signed the revocation of office %s after commit %" PRIu64,
	    (unsigned)r->c->uid, fp ? fp : "?", from_seq);
	/* this signature may complete the quorum: then rotate the data key once */
	if (epochs_after_revocations(a) < 0)
		log_warn("data-key rotation after a revocation failed: %s", custody_error());
	if ((error = service_revocations_json(a, target, from_seq, &json)) == 0)
		error = service_revocations_reply(r, json);
done:
	json_decref(doc);
	free(json);
	free(fp);
	return error;
}

int
service_revocations(struct request *r)
{
	char *json = NULL;
	int error;

	if ((error = service_revocations_json(r->c->s->a, NULL, 0, &json)) == 0)
		error = service_revocations_reply(r, json);
	free(json);
	return error;
}
