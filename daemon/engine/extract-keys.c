/*
 * The keys a dossier names for one office (proto/DOSSIER.md): every key its feed was signed by,
 * as allowed_signers lines stock git and ssh-keygen accept (each key valid from the handover
 * that named it to the handover that passed it on, both that commit's time), and the proofs of
 * its handovers, so that an investigator follows the feed from the office's identity key to
 * the key that signed each commit without trusting the exporter.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dossier.h"
#include "handover.h"

/* An allowed-signers time: YYYYMMDDHHMMSSZ. */
static int
extract_keys_time(char when[static 32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(when, 32, "%Y%m%d%H%M%SZ", &tm) == 0)
		return custody_fail(CUSTODY_EINVAL, "a commit time out of range");
	return 0;
}

int
extract_keys(struct proof_ctx *p, struct cbuf *signers, const char *name,
    const uint8_t pk[static ED25519_PK_LEN], const char *revoked_before, json_t **handovers)
{
	struct handover_feed *f;
	char hex[2 * ED25519_PK_LEN + 1], after[64], before[64], when[32], *line = NULL;
	json_t *proof;
	unsigned k;
	int error = 0;

	*handovers = NULL;
	if ((f = malloc(sizeof *f)) == NULL)
		return CUSTODY_ENOMEM;
	hex_encode(hex, pk, ED25519_PK_LEN);
	if ((error = handover_feed_read(p->a, p->repo, hex, NULL, f)) < 0)
		goto done;
	if (f->ch.n > 0 && (*handovers = json_array()) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (k = 0; k <= f->ch.n && error == 0; k++) {
		after[0] = before[0] = '\0';
		if (k > 0 && (error = extract_keys_time(when, f->step[k - 1].time)) == 0)
			snprintf(after, sizeof after, ",valid-after=\"%s\"", when);
		if (error == 0 && k < f->ch.n && (error = extract_keys_time(when,
		    f->step[k].time)) == 0)
			snprintf(before, sizeof before, ",valid-before=\"%s\"", when);
		if (error == 0 && k == f->ch.n && revoked_before != NULL)
			snprintf(before, sizeof before, ",valid-before=\"%s\"", revoked_before);
		free(line);
		line = NULL;
		if (error < 0 || (error = sshkey_format_pub(&line, k == 0 ? pk :
		    f->step[k - 1].to, NULL)) < 0 ||
		    (error = cbuf_printf(signers, "%s namespaces=\"custody-dossier,git\"%s%s %s\n",
		    name, after, before, line)) < 0)
			break;
		if (k < f->ch.n) {
			if ((error = proof_handover(p, hex, f->step[k].seq, f->step[k].from,
			    f->step[k].to, &proof)) < 0) {
				custody_fail(error, "office %s: its handover at commit %llu: %s", name,
				    (unsigned long long)f->step[k].seq, custody_error());
				break;
			}
			json_array_append_new(*handovers, proof);
		}
	}
done:
	if (error < 0) {
		json_decref(*handovers);
		*handovers = NULL;
	}
	free(line);
	free(f);
	return error;
}
