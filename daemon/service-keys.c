/*
 * custody keys split: recovery shares of this office's key and data key (keys-share.c).
 * custody keys rotate: a new office signing key (keys-rotate.c).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

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
