/* custody keys split: recovery shares of this office's key and data key (keys-share.c). */
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
