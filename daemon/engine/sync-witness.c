/*
 * What a pull leaves besides the feeds it takes: the evidence of a fork (a commit the feed's
 * owner signed that our history does not hold), and the witness records of what arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/gitobj.h"
#include "sync-verify.h"

/*
 * The peer holds another commit at seq of a feed: if the feed's owner signed it, the owner
 * signed two histories. Keep it as evidence and report the fork; never take it.
 */
int
sync_fork_evidence(struct archive *a, const char *hex, const uint8_t pk[static 32], uint64_t seq,
    const char *ours, const void *commit, size_t len, char **line)
{
	struct cbuf data = { 0 }, sig = { 0 };
	uint8_t signer[ED25519_PK_LEN];
	struct handover_feed *keys;
	int error;

	*line = NULL;
	if ((keys = malloc(sizeof *keys)) == NULL)
		return CUSTODY_ENOMEM;
	if (handover_feed_read(a, archive_repo(a), hex, NULL, keys) < 0)
		keys->ch.n = 0;
	/* the key that signs the feed at seq: its owner's first, or one handed over to */
	if ((error = gitobj_commit_signature(&data, &sig, commit, len)) < 0 ||
	    (error = sshsig_verify(signer, (const char *)sig.data, sig.len, "git", data.data,
	    data.len)) < 0 || sodium_memcmp(signer, handover_key_at(keys, pk, seq),
	    ED25519_PK_LEN) != 0) {
		error = custody_fail(CUSTODY_EPROTO, "the peer claims a fork with a commit the "
		    "feed's owner did not sign");
		goto done;
	}
	error = sync_record_fork(a, hex, seq, ours, commit, len, line);
done:
	cbuf_free(&data);
	cbuf_free(&sig);
	free(keys);
	return error;
}

/* One commit of witness records: which feeds we received, how far, and when. */
int
sync_witness(struct archive *a, const struct sync_witness *wit, size_t n)
{
	struct records_written w;
	json_t **docs;
	char id[160], now[32];
	size_t i;
	int error = 0;

	if ((docs = calloc(n, sizeof *docs)) == NULL)
		return CUSTODY_ENOMEM;
	record_now(now);
	for (i = 0; i < n && error == 0; i++) {
		snprintf(id, sizeof id, "witness:%.16s:%s:%llu", a->office_hex, wit[i].hex,
		    (unsigned long long)wit[i].seq);
		if ((docs[i] = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "kind", "witness", "id", id,
		    "feed", wit[i].hex, "seq", (json_int_t)wit[i].seq, "head", wit[i].head, "time",
		    now)) == NULL)
			error = CUSTODY_ENOMEM;
	}
	if (error == 0)
		error = records_write_changed(a, docs, n, "witness", 0, &w);
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	return error;
}
