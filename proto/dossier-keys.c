/*
 * The keys of each office a dossier names. An office's identity key names its feed and signs
 * it until a handover commit, signed by the key of the time, names the next key
 * (proto/PROTOCOL.md, "Signing-key handovers"). custody/offices.json gives each rotated
 * office's handovers as PROOFs with their record keys; they are checked here in order, each
 * against the chain before it, so that a commit is accepted only under the key the feed had at
 * its seq, and the exporter's signature only under the key its feed has now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dossier-int.h"

#define KEYS_OFFICES	"custody/offices.json"

const uint8_t *
dossier_key_at(const struct doffice *o, uint64_t seq)
{
	const uint8_t *key = o->pk;
	size_t j;

	for (j = 0; j < o->nhand && o->hand[j].seq < seq; j++)
		key = o->hand[j].to;
	return key;
}

const uint8_t *
dossier_key_current(const struct doffice *o)
{
	return o->nhand > 0 ? o->hand[o->nhand - 1].to : o->pk;
}

const struct dhandover *
dossier_key_handed(const struct doffice *o, const uint8_t *pk)
{
	size_t j;

	for (j = 0; j < o->nhand; j++)
		if (sodium_memcmp(o->hand[j].from, pk, ED25519_PK_LEN) == 0)
			return &o->hand[j];
	return NULL;
}

/* Is pk the identity of o or a key o's feed was handed over to? */
static int
keys_of(const struct doffice *o, const uint8_t *pk)
{
	size_t j;

	if (sodium_memcmp(o->pk, pk, ED25519_PK_LEN) == 0)
		return 1;
	for (j = 0; j < o->nhand; j++)
		if (sodium_memcmp(o->hand[j].to, pk, ED25519_PK_LEN) == 0)
			return 1;
	return 0;
}

const struct doffice *
dossier_key_office(const struct dcheck *c, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < c->noffices; i++)
		if (keys_of(&c->offices[i], pk))
			return &c->offices[i];
	return NULL;
}

int
dossier_key_commit(const struct doffice *o, const struct dcommit *cm, const char *oid,
    char *why, size_t whylen)
{
	const struct dhandover *h;
	size_t j;

	if (sodium_memcmp(cm->signer, dossier_key_at(o, cm->seq), ED25519_PK_LEN) == 0)
		return 0;
	if ((h = dossier_key_handed(o, cm->signer)) != NULL && h->seq < cm->seq)
		snprintf(why, whylen, "commit %s (Custody-Seq %llu) is signed by a key %.80s "
		    "handed over at its commit %llu: refused", oid, (unsigned long long)cm->seq,
		    o->name, (unsigned long long)h->seq);
	else if (keys_of(o, cm->signer)) {
		for (j = 0; j < o->nhand && sodium_memcmp(o->hand[j].to, cm->signer,
		    ED25519_PK_LEN) != 0; j++)
			;
		snprintf(why, whylen, "commit %s (Custody-Seq %llu) is signed by a key %.80s "
		    "took only at its commit %llu, after it", oid, (unsigned long long)cm->seq,
		    o->name, (unsigned long long)(j < o->nhand ? o->hand[j].seq : 0));
	} else
		snprintf(why, whylen, "commit %s (Custody-Seq %llu) is not signed by a key of "
		    "feed %.16s... (%.80s): no handover in " KEYS_OFFICES " leads to its key",
		    oid, (unsigned long long)cm->seq, o->hex, o->name);
	return CUSTODY_EINVAL;
}

/* The 64-hex-digit key member name of h, or -1. */
static int
keys_hex(uint8_t pk[static ED25519_PK_LEN], const json_t *h, const char *name)
{
	const char *s = json_string_value(json_object_get(h, name));

	if (s == NULL || !hex_is_lower(s, DOSSIER_OFFICE_HEX) ||
	    hex_decode(pk, ED25519_PK_LEN, s) < 0)
		return -1;
	return 0;
}

/* Handover i of office o: 0 when it holds (appended to the chain), 1 when not (a problem). */
static int
keys_one(struct dcheck *c, struct doffice *o, const json_t *h, size_t i)
{
	struct dreasons rs = { 0 };
	struct dproof pr;
	struct dhandover *d;
	uint8_t from[ED25519_PK_LEN], to[ED25519_PK_LEN], rf[ED25519_PK_LEN], rt[ED25519_PK_LEN];
	char what[160], id[16 + DOSSIER_OFFICE_HEX], tohex[DOSSIER_OFFICE_HEX + 1];
	const char *feed = json_string_value(json_object_get(h, "feed"));
	int error;

	snprintf(what, sizeof what, "office %.80s: handovers[%zu]: ", o->name, i);
	if (!json_is_object(h) || keys_hex(from, h, "from") < 0 || keys_hex(to, h, "to") < 0)
		return dossier_problem(c, KEYS_OFFICES, "%snot a handover with from and to keys",
		    what) < 0 ? CUSTODY_ENOMEM : 1;
	if (feed == NULL || strcmp(feed, o->hex) != 0)
		return dossier_problem(c, KEYS_OFFICES, "%sits feed is not the office's", what) <
		    0 ? CUSTODY_ENOMEM : 1;
	hex_encode(tohex, to, sizeof to);
	snprintf(id, sizeof id, "handover-%s", tohex);
	if ((error = dossier_proof_check(c, &pr, &rs, what, h, "handover", id)) < 0)
		goto done;
	if (!pr.ok || pr.record == NULL) {
		if (rs.n > 0)
			error = dossier_problem(c, KEYS_OFFICES, "%s", rs.v[0]);
		else
			error = dossier_problem(c, KEYS_OFFICES, "%sno record_key: the handover "
			    "cannot be read", what);
		goto fail;
	}
	if (keys_hex(rf, pr.record, "from") < 0 || keys_hex(rt, pr.record, "to") < 0 ||
	    memcmp(rf, from, sizeof rf) != 0 || memcmp(rt, to, sizeof rt) != 0) {
		error = dossier_problem(c, KEYS_OFFICES, "%sthe signed handover record does not "
		    "name these keys", what);
		goto fail;
	}
	if (memcmp(from, dossier_key_current(o), sizeof from) != 0) {
		error = dossier_problem(c, KEYS_OFFICES, "%sa handover from a key that did not "
		    "sign the feed then", what);
		goto fail;
	}
	if (keys_of(o, to)) {
		error = dossier_problem(c, KEYS_OFFICES, "%sa handover to a key the feed already "
		    "used", what);
		goto fail;
	}
	if ((o->nhand > 0 && pr.seq <= o->hand[o->nhand - 1].seq) ||
	    o->nhand >= DOSSIER_HANDOVER_MAX) {
		error = dossier_problem(c, KEYS_OFFICES, "%snot after the handover before it, "
		    "or past %d handovers", what, DOSSIER_HANDOVER_MAX);
		goto fail;
	}
	d = &o->hand[o->nhand++];
	d->seq = pr.seq;
	d->time = pr.commit->time;
	memcpy(d->from, from, sizeof from);
	memcpy(d->to, to, sizeof to);
	error = 0;
	goto done;
fail:
	if (error == 0)
		error = 1;
done:
	dossier_proof_free(&pr);
	dossier_reasons_free(&rs);
	return error;
}

int
dossier_keys_check(struct dcheck *c)
{
	struct doffice *o;
	const json_t *h;
	size_t i, j;
	int error = 0;

	for (i = 0; i < c->noffices && error == 0; i++) {
		o = &c->offices[i];
		if (o->handovers == NULL)
			continue;
		if (!json_is_array(o->handovers) ||
		    json_array_size(o->handovers) > DOSSIER_HANDOVER_MAX) {
			error = dossier_problem(c, KEYS_OFFICES, "office %.80s: handovers is not a "
			    "list of at most %d handovers", o->name, DOSSIER_HANDOVER_MAX);
			continue;
		}
		if ((o->hand = calloc(json_array_size(o->handovers) + 1,
		    sizeof *o->hand)) == NULL)
			return CUSTODY_ENOMEM;
		/* the chain stops at the first handover that does not hold */
		json_array_foreach(o->handovers, j, h)
			if ((error = keys_one(c, o, h, j)) != 0)
				break;
		if (error > 0)
			error = 0;
	}
	return error;
}

void
dossier_keys_free(struct doffice *o)
{
	json_decref(o->handovers);
	free(o->hand);
	o->handovers = NULL;
	o->hand = NULL;
	o->nhand = 0;
}
