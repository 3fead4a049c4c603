/*
 * Check 5 of a dossier: one PROOF, from the feed's signed commit through its tree to the
 * record object, opened with the disclosed record and field keys, and the record file compared
 * with what opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/feedfmt.h"
#include "custody/recobj.h"
#include "dossier-int.h"

/* A string member of o, or NULL. */
static const char *
proof_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Decode a 32-byte key from standard base64; -1 when it is not one. */
static int
proof_key(uint8_t key[static RECOBJ_KEY_LEN], const char *b64)
{
	const char *end;
	size_t len;

	if (b64 == NULL || sodium_base642bin(key, RECOBJ_KEY_LEN, b64, strlen(b64), NULL, &len,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || len != RECOBJ_KEY_LEN || *end != '\0')
		return -1;
	return 0;
}

/* True when path is records/ab/cd/TOKEN (proto/feedfmt.c); token gets TOKEN. */
static int
proof_path(char token[static RECOBJ_TOKEN_HEX_LEN + 1], const char *path)
{
	const char *t = path != NULL ? feedfmt_record_token(path) : NULL;

	if (t == NULL)
		return 0;
	memcpy(token, t, RECOBJ_TOKEN_HEX_LEN + 1);
	return 1;
}

/* Open the disclosed sealed fields of the record in place. */
static int
proof_fields(struct dproof *out, struct dreasons *rs, const char *what, const json_t *keys,
    const char *token)
{
	uint8_t key[RECOBJ_KEY_LEN];
	const char *field;
	json_t *v, *opened;
	int error = 0;

	if (keys == NULL)
		return 0;
	if (!json_is_object(keys))
		return dossier_reason(rs, "%sfield_keys is not an object", what);
	json_object_foreach((json_t *)keys, field, v) {
		if (proof_key(key, json_string_value(v)) < 0) {
			error = dossier_reason(rs, "%sthe key of field %.80s is not 32 bytes of "
			    "base64", what, field);
		} else if (!recobj_is_sealed(json_object_get(out->record, field))) {
			error = dossier_reason(rs, "%sfield_keys has a key for %.80s, which is not "
			    "sealed in the feed's record", what, field);
		} else if (recobj_field_open(&opened, key, token, field,
		    json_object_get(out->record, field)) < 0) {
			error = dossier_reason(rs, "%sfield %.80s does not open with its key", what,
			    field);
		} else if (json_object_set_new(out->record, field, opened) < 0 ||
		    json_array_append_new(out->disclosed, json_string(field)) < 0)
			error = CUSTODY_ENOMEM;
		sodium_memzero(key, sizeof key);
		if (error < 0)
			return error;
	}
	return 0;
}

/* Open the record object with the record key; its kind and id must be the item's. */
static int
proof_open(struct dproof *out, struct dreasons *rs, const char *what, const json_t *proof,
    const struct dfile *obj, const char *token, const char *kind, const char *id)
{
	uint8_t key[RECOBJ_KEY_LEN];
	const char *rk, *rid;
	int error;

	if (json_object_get(proof, "record_key") == NULL)
		return 0;
	out->keyed = 1;
	if (proof_key(key, proof_str(proof, "record_key")) < 0)
		return dossier_reason(rs, "%srecord_key is not 32 bytes of base64", what);
	error = recobj_open(&out->record, key, token, dossier_bytes(obj), obj->data.len);
	sodium_memzero(key, sizeof key);
	if (error == CUSTODY_ECRYPTO)
		return dossier_reason(rs, "%sthe record object does not open with record_key",
		    what);
	if (error == CUSTODY_EINVAL || error == CUSTODY_ETOOBIG)
		return dossier_reason(rs, "%sthe record object is malformed: %s", what,
		    custody_error());
	if (error < 0)
		return error;
	if ((out->disclosed = json_array()) == NULL)
		return CUSTODY_ENOMEM;
	rk = proof_str(out->record, "kind");
	rid = proof_str(out->record, "id");
	if (rk == NULL || strcmp(rk, kind) != 0)
		return dossier_reason(rs, "%sthe feed's record is of kind %.40s, not %s", what,
		    rk != NULL ? rk : "(none)", kind);
	if (id != NULL && (rid == NULL || strcmp(rid, id) != 0))
		return dossier_reason(rs, "%sthe feed's record is %s %.130s, not %s", what, kind,
		    rid != NULL ? rid : "(no id)", id);
	return proof_fields(out, rs, what, json_object_get(proof, "field_keys"), token);
}

/* Check one PROOF. */
int
dossier_proof_check(struct dcheck *c, struct dproof *out, struct dreasons *rs,
    const char *what, const json_t *proof, const char *kind, const char *id)
{
	const char *feed, *commit, *object;
	char token[RECOBJ_TOKEN_HEX_LEN + 1], why[DOSSIER_WHY_LEN], blob[DOSSIER_OID_HEX + 1];
	uint8_t pk[ED25519_PK_LEN];
	const struct dcommit *cm;
	const struct dfile *obj;
	const json_t *seq;
	size_t start = rs->n;
	int error;

	memset(out, 0, sizeof *out);
	if (!json_is_object(proof))
		return dossier_reason(rs, "%sno proof", what);
	feed = proof_str(proof, "feed");
	commit = proof_str(proof, "commit");
	object = proof_str(proof, "object");
	seq = json_object_get(proof, "seq");
	if (feed == NULL || !hex_is_lower(feed, DOSSIER_OFFICE_HEX))
		return dossier_reason(rs, "%sproof.feed is not an office key", what);
	if (commit == NULL || !hex_is_lower(commit, DOSSIER_OID_HEX))
		return dossier_reason(rs, "%sproof.commit is not a commit id", what);
	if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		return dossier_reason(rs, "%sproof.seq is not a number from 1", what);
	if (!proof_path(token, proof_str(proof, "path")))
		return dossier_reason(rs, "%sproof.path is not records/ab/cd/TOKEN", what);
	if (object == NULL || !hex_is_lower(object, DOSSIER_OID_HEX))
		return dossier_reason(rs, "%sproof.object is not a blob id", what);
	hex_decode(pk, sizeof pk, feed);
	if ((out->office = dossier_office(c, feed)) == NULL &&
	    (error = dossier_reason(rs, "%sfeed %.16s... is not an office of "
	    "custody/offices.json", what, feed)) < 0)
		return error;
	snprintf(out->commit_oid, sizeof out->commit_oid, "%s", commit);
	out->seq = (uint64_t)json_integer_value(seq);

	/* the commit, signed by the feed's key, its trailers the proof's */
	if ((error = dossier_git_commit(c, &cm, commit, why, sizeof why)) == CUSTODY_EINVAL)
		return dossier_reason(rs, "%s%s", what, why);
	if (error < 0)
		return error;
	out->commit = cm;
	if (out->office != NULL && strcmp(cm->office, feed) == 0 &&
	    dossier_key_commit(out->office, cm, commit, why, sizeof why) < 0)
		return dossier_reason(rs, "%s%s", what, why);
	if ((out->office == NULL || strcmp(cm->office, feed) != 0) &&
	    sodium_memcmp(cm->signer, pk, sizeof pk) != 0 &&
	    (out->office == NULL || dossier_key_office(c, cm->signer) != out->office))
		return dossier_reason(rs, "%scommit %s is not signed by the key of feed "
		    "%.16s... (a proof from another feed?)", what, commit, feed);
	if (strcmp(cm->office, feed) != 0)
		return dossier_reason(rs, "%scommit %s is in feed %.16s... (Custody-Office), "
		    "not %.16s...", what, commit, cm->office, feed);
	if (cm->seq != out->seq)
		return dossier_reason(rs, "%scommit %s has Custody-Seq %llu, the proof says "
		    "%llu", what, commit, (unsigned long long)cm->seq,
		    (unsigned long long)out->seq);

	/* the path through the trees to the object */
	error = dossier_git_path(c, blob, cm->tree, proof_str(proof, "path"), why, sizeof why);
	if (error == CUSTODY_EINVAL)
		return dossier_reason(rs, "%scommit %s: %s", what, commit, why);
	if (error < 0)
		return error;
	if (strcmp(blob, object) != 0)
		return dossier_reason(rs, "%sthe commit's %s is object %s, not %s", what,
		    proof_str(proof, "path"), blob, object);
	if ((error = dossier_git_object(c, &obj, object, "blob", why, sizeof why)) ==
	    CUSTODY_EINVAL)
		return dossier_reason(rs, "%s%s", what, why);
	if (error < 0)
		return error;

	if ((error = proof_open(out, rs, what, proof, obj, token, kind, id)) < 0)
		return error;
	out->ok = rs->n == start;
	return 0;
}

/* Release what a proof opened. */
void
dossier_proof_free(struct dproof *p)
{
	json_decref(p->record);
	json_decref(p->disclosed);
	p->record = p->disclosed = NULL;
}

/* True when array a holds the string s. */
static int
proof_has(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* True when a is a non-empty array of distinct strings in ascending order. */
static int
proof_sorted(const json_t *a)
{
	const json_t *v;
	const char *prev = NULL;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return 0;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return 0;
		if (prev != NULL && strcmp(prev, json_string_value(v)) >= 0)
			return 0;
		prev = json_string_value(v);
	}
	return 1;
}

/* Name each field where the record file and the opened record differ. */
static int
proof_differences(struct dreasons *rs, const struct dproof *p, const json_t *want,
    const json_t *file)
{
	const char *key;
	json_t *v, *w;
	size_t start = rs->n;
	int error = 0;

	json_object_foreach((json_t *)file, key, v) {
		w = json_object_get(want, key);
		if (w == NULL && json_object_get(p->record, key) != NULL)
			error = dossier_reason(rs, "field %.80s: the dossier has a value the "
			    "feed does not disclose", key);
		else if (w == NULL)
			error = dossier_reason(rs, "field %.80s is not in the feed's record", key);
		else if (!json_equal(w, v) && recobj_is_sealed(w))
			error = dossier_reason(rs, "field %.80s: the dossier has a value the "
			    "feed does not disclose", key);
		else if (!json_equal(w, v))
			error = dossier_reason(rs, "field %.80s differs from the feed", key);
		if (error < 0)
			return error;
	}
	json_object_foreach((json_t *)want, key, w)
		if (json_object_get(file, key) == NULL && (error = dossier_reason(rs,
		    "field %.80s of the feed's record is missing from the dossier", key)) < 0)
			return error;
	if (rs->n == start)
		return dossier_reason(rs, "the record file differs from the feed's record");
	return 0;
}

/* The record file must be the opened record minus the withheld fields plus "withheld". */
int
dossier_proof_compare(struct dreasons *rs, const struct dproof *p, const json_t *file)
{
	const json_t *withheld = json_object_get(file, "withheld"), *v;
	const char *key;
	json_t *want = NULL;
	size_t i;
	int error = 0;

	if (withheld != NULL && !proof_sorted(withheld))
		return dossier_reason(rs, "the record file's withheld is not a sorted list of "
		    "field names");
	if (json_object_get(p->record, "withheld") != NULL)
		return dossier_reason(rs, "the feed's record has a field called withheld");
	json_object_foreach(p->record, key, v) {
		if (!recobj_is_sealed(v) || proof_has(p->disclosed, key) ||
		    proof_has(withheld, key))
			continue;
		if ((error = dossier_reason(rs, "field %.80s is sealed in the feed and not "
		    "disclosed, yet not withheld", key)) < 0)
			return error;
	}
	json_array_foreach(withheld, i, v) {
		key = json_string_value(v);
		if ((strcmp(key, "kind") == 0 || strcmp(key, "id") == 0) &&
		    (error = dossier_reason(rs, "field %s cannot be withheld", key)) < 0)
			return error;
		if (proof_has(p->disclosed, key) && (error = dossier_reason(rs, "field %.80s is "
		    "withheld, yet its key is disclosed", key)) < 0)
			return error;
	}
	if ((want = json_deep_copy(p->record)) == NULL)
		return CUSTODY_ENOMEM;
	json_array_foreach(withheld, i, v)
		json_object_del(want, json_string_value(v));
	if (withheld != NULL && json_object_set(want, "withheld", (json_t *)withheld) < 0)
		error = CUSTODY_ENOMEM;
	else if (!json_equal(want, (json_t *)file))
		error = proof_differences(rs, p, want, file);
	json_decref(want);
	return error;
}
