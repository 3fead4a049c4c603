/*
 * custody keys split (recovery shares, keys-share.c), keys rotate-data (epochs-rotate.c) and
 * keys rotate (a new office signing key, keys-rotate.c).
 */
#include <stdlib.h>
#include <string.h>

#include "epochs.h"
#include "log.h"
#include "server.h"
#include "sync.h"

/*
 * A custody event: actor made n recovery shares, any k of which restore this office's keys.
 * It names the key they restore by its fingerprint, and nothing secret.
 */
static int
service_keys_split_event(struct archive *a, unsigned n, unsigned k, const char *actor)
{
	struct records_written w;
	char now[32], *eid = record_random_id();
	json_t *ev;
	int error;

	if (eid == NULL)
		return CUSTODY_ENOMEM;
	record_now(now);
	ev = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s}", "kind", "event", "id", eid,
	    "action", "keys-split", "shares", (json_int_t)n, "threshold", (json_int_t)k,
	    "fingerprint", a->fingerprint, "actor", actor, "time", now);
	free(eid);
	if (ev == NULL)
		return CUSTODY_ENOMEM;
	error = records_write_changed(a, &ev, 1, "keys split", 0, &w);
	json_decref(ev);
	return error;
}

/* KeysSplitRequest: recorded as a custody event before the shares leave the daemon. */
int
service_keys_split(struct request *r)
{
	struct archive *a = r->c->s->a;
	const Custody__KeysSplitRequest *q = r->msg->keys_split_request;
	Custody__KeysSplitReply kr = CUSTODY__KEYS_SPLIT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint8_t (*shares)[SHARE_MAX] = NULL;
	ProtobufCBinaryData *bins = NULL;
	size_t *lens = NULL, i;
	int error = CUSTODY_ENOMEM;

	if (q->threshold < 2 || q->shares < q->threshold || q->shares > 255)
		return custody_fail(CUSTODY_EINVAL, "need 2 <= threshold <= shares <= 255 "
		    "(got threshold %u, shares %u)", q->threshold, q->shares);
	if ((shares = sodium_allocarray(q->shares, sizeof *shares)) == NULL ||
	    (lens = calloc(q->shares, sizeof *lens)) == NULL ||
	    (bins = calloc(q->shares, sizeof *bins)) == NULL)
		goto done;
	if ((error = keys_share_split(a, q->shares, q->threshold, shares, lens)) < 0)
		goto done;
	if ((error = service_keys_split_event(a, q->shares, q->threshold, r->c->actor)) < 0)
		goto done;
	for (i = 0; i < q->shares; i++) {
		bins[i].data = shares[i];
		bins[i].len = lens[i];
	}
	kr.n_shares = q->shares;
	kr.shares = bins;
	kr.fingerprint = a->fingerprint;
	env.body_case = CUSTODY__ENVELOPE__BODY_KEYS_SPLIT_REPLY;
	env.keys_split_reply = &kr;
	error = server_reply(r, &env);
	log_info("recovery shares made: %u, any %u of which restore this office's keys",
	    q->shares, q->threshold);
done:
	sodium_free(shares);	/* wiped */
	free(lens);
	free(bins);
	return error;
}

int
service_keys_rotate(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__KeysRotateReply kr = CUSTODY__KEYS_ROTATE_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint64_t seq = 0, lamport;
	char *cause = NULL, *line = NULL, *fp = NULL;
	git_oid head;
	int error;

	if ((error = keys_rotate(a, &cause)) < 0) {
		if (cause != NULL)
			custody_fail(error, "%s", cause);
		free(cause);
		return error;
	}
	feed_head(a, a->office_hex, &head, &seq, &lamport);
	if ((error = sshkey_format_pub(&line, a->sign_pk, a->conf.office)) < 0 ||
	    (error = sshkey_fingerprint(&fp, a->sign_pk)) < 0)
		goto done;
	kr.public_key = line;
	kr.fingerprint = fp;
	kr.seq = seq;
	kr.identity = a->fingerprint;
	env.body_case = CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_REPLY;
	env.keys_rotate_reply = &kr;
	error = server_reply(r, &env);
done:
	free(line);
	free(fp);
	return error;
}

/* custody keys rotate-data: the next data-key epoch, in this office's feed (epochs-rotate.c). */
int
service_keys_rotate_data(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__KeysRotateDataReply kr = CUSTODY__KEYS_ROTATE_DATA_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	json_t *doc = NULL, *copies;
	uint8_t pk[ED25519_PK_LEN];
	char **names = NULL;
	const char *to;
	uint64_t seq = 0;
	size_t i, n = 0;
	int error;

	if ((error = epochs_rotate_write(a, NULL, &doc, &seq)) < 0)
		return error;
	copies = json_object_get(doc, "copies");
	if ((names = calloc(json_array_size(copies) + 1, sizeof *names)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < json_array_size(copies); i++) {
		to = json_string_value(json_object_get(json_array_get(copies, i), "to"));
		if (to != NULL && hex_decode(pk, sizeof pk, to) == 0 &&
		    (names[n] = sync_office_name(a, pk)) != NULL)
			n++;
	}
	kr.epoch = (uint32_t)json_integer_value(json_object_get(doc, "epoch"));
	kr.n_offices = n;
	kr.offices = names;
	kr.seq = seq;
	env.body_case = CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_DATA_REPLY;
	env.keys_rotate_data_reply = &kr;
	error = server_reply(r, &env);
	log_info("uid %u made data-key epoch %u, sealed to %zu offices", (unsigned)r->c->uid,
	    kr.epoch, n);
done:
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	json_decref(doc);
	return error;
}
