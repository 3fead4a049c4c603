/*
 * Writing casualty records: edits and links, and the commit of a small batch (records-import.c
 * takes batches apart). A record identical to its current revision is not written again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record-json.h"
#include "records-write.h"

/* Whether records of kind are written by these requests. */
int
records_kind_ok(const char *kind)
{
	return strcmp(kind, "victim") == 0 || strcmp(kind, "incident") == 0 ||
	    strcmp(kind, "source") == 0 || strcmp(kind, "person") == 0 ||
	    strcmp(kind, "person_event") == 0 || strcmp(kind, "site") == 0;
}

/*
 * Whether the record id names exists and is of kind: 0, or CUSTODY_EINVAL with the problem
 * added to probs under column; another error as is.
 */
static int
records_check_ref(struct archive *a, const char *id, const char *want, const char *column,
    struct record_problems *probs)
{
	uint8_t tok[TOKEN_LEN], chash[TOKEN_LEN];
	char office[65], kind[16];
	int r;

	archive_token(a, tok, id);
	if ((r = index_current_chash(a, tok, chash, office, kind)) < 0 && r != CUSTODY_ENOTFOUND)
		return r;
	if (r == 0 && strcmp(kind, want) == 0)
		return 0;
	if ((r = record_problems_add(probs, column, "no %s %s in the archive%s", want, id,
	    r == 0 ? " (the id is another kind of record)" : "")) < 0)
		return r;
	return CUSTODY_EINVAL;
}

/*
 * The records a record names that must exist: a person event's person, and its site when it
 * names one. 0, or CUSTODY_EINVAL with the problems added to probs (column, problem); another
 * error as is.
 */
int
records_check_refs(struct archive *a, const json_t *doc, struct record_problems *probs)
{
	const char *person, *site;
	int r, error = 0;

	if (strcmp(record_kind(doc), "person_event") != 0)
		return 0;
	if ((person = json_string_value(json_object_get(doc, "person_id"))) != NULL &&
	    (r = records_check_ref(a, person, "person", "person_id", probs)) < 0) {
		if (r != CUSTODY_EINVAL)
			return r;
		error = r;
	}
	if ((site = json_string_value(json_object_get(doc, "site_id"))) != NULL &&
	    (r = records_check_ref(a, site, "site", "site_id", probs)) < 0) {
		if (r != CUSTODY_EINVAL)
			return r;
		error = r;
	}
	return error;
}

/* A stable id for a record given without one: the same row always gets the same id. */
void
records_derive_id(struct archive *a, json_t *doc)
{
	struct cbuf s = { 0 };
	uint8_t h[16];
	char id[37];

	/* the record as json_dumps(doc, RECORD_CONTENT_JSON) encodes it, or "" */
	if (record_json(&s, doc) < 0)
		s.len = 0;
	record_name_token(a, "record-id", s.len > 0 ? (const char *)s.data : "", h);
	cbuf_free(&s);
	h[6] = (h[6] & 0x0f) | 0x80;	/* UUID version 8: derived, not random */
	h[8] = (h[8] & 0x3f) | 0x80;
	snprintf(id, sizeof id, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8],
	    h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
	json_object_set_new(doc, "id", json_string(id));
}

/*
 * Write docs (owned by the caller) as one commit, leaving out those identical to their
 * current revision; with own, also rewrite those whose current revision another office wrote
 * (an office states its own view of them). An id already used by another kind is refused.
 */
int
records_write_changed(struct archive *a, json_t **docs, size_t n, const char *summary, int own,
    struct records_written *out)
{
	uint8_t tok[TOKEN_LEN], cur[TOKEN_LEN], now[TOKEN_LEN];
	char office[65], kind[16];
	json_t **changed;
	size_t i;
	int error = 0, r;

	memset(out, 0, sizeof *out);
	if ((changed = calloc(n ? n : 1, sizeof *changed)) == NULL)
		return CUSTODY_ENOMEM;
	pthread_mutex_lock(&a->write_lock);
	for (i = 0; i < n; i++) {
		archive_token(a, tok, record_id(docs[i]));
		r = index_current_chash(a, tok, cur, office, kind);
		if (r < 0 && r != CUSTODY_ENOTFOUND) {
			error = r;
			goto done;
		}
		if (r == 0 && strcmp(kind, record_kind(docs[i])) != 0) {
			error = custody_fail(CUSTODY_EEXIST, "id %s is already a%s %s record",
			    record_id(docs[i]), strchr("aeiou", kind[0]) ? "n" : "", kind);
			goto done;
		}
		record_content_hash(a, docs[i], now);
		if (r == 0 && memcmp(cur, now, TOKEN_LEN) == 0 &&
		    (!own || strcmp(office, a->office_hex) == 0))
			out->unchanged++;
		else
			changed[out->written++] = docs[i];
	}
	if (out->written > 0) {
		if ((error = feed_append(a, &out->commit, summary, changed, out->written)) < 0)
			goto done;
		out->committed = 1;
		if (index_apply_commit(a, &out->commit, changed, out->written) < 0)
			log_warn("index update failed (%s); it catches up at the next start",
			    custody_error());
	}
done:
	pthread_mutex_unlock(&a->write_lock);
	free(changed);
	return error;
}

/* records_write_changed for a RecordDone: counts, seq and the commit id ("" when none). */
int
records_write(struct archive *a, json_t **docs, size_t n, const char *summary,
    Custody__RecordDone *d, char oid[GIT_OID_HEXSZ + 1])
{
	struct records_written w;
	int error;

	oid[0] = '\0';
	if ((error = records_write_changed(a, docs, n, summary, 0, &w)) < 0)
		return error;
	d->written = (uint32_t)w.written;
	d->unchanged += (uint32_t)w.unchanged;
	if (w.committed) {
		git_oid_tostr(oid, GIT_OID_HEXSZ + 1, &w.commit.oid);
		d->seq = w.commit.seq;
	}
	return 0;
}

/* The current revision of a record, wherever it was last written. */
static int
records_current(struct archive *a, const char *id, const char *kind, json_t **doc)
{
	uint8_t tok[TOKEN_LEN], chash[TOKEN_LEN];
	char office[65], k[16];
	int error;

	if ((error = archive_check_id(id)) < 0)
		return error;
	archive_token(a, tok, id);
	if ((error = index_current_chash(a, tok, chash, office, k)) < 0)
		return error == CUSTODY_ENOTFOUND ? custody_fail(error, "no %s %s", kind, id) :
		    error;
	if (strcmp(k, kind) != 0)
		return custody_fail(CUSTODY_EINVAL, "%s is a%s %s, not a%s %s", id,
		    strchr("aeiou", k[0]) ? "n" : "", k, strchr("aeiou", kind[0]) ? "n" : "", kind);
	return feed_read_record(a, office, id, doc);
}

/* Remove the fields validation derives from others (the precision of each date). */
static void
records_drop_derived(json_t *doc)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t n;

	json_object_foreach_safe(doc, tmp, k, v) {
		n = strlen(k);
		if (n > 10 && strcmp(k + n - 10, "_precision") == 0)
			json_object_del(doc, k);
	}
}

static int
records_unsets(char *const *unset, size_t nunset, const char *field)
{
	size_t i;

	for (i = 0; i < nunset; i++)
		if (strcmp(unset[i], field) == 0)
			return 1;
	return 0;
}

/* Set and unset fields of a record; the result is validated like a new one. */
int
records_edit(char **idp, struct archive *a, const char *kind, const char *id,
    const char *fields, char *const *unset, size_t nunset, Custody__RecordDone *d,
    char oid[GIT_OID_HEXSZ + 1])
{
	struct record_problems probs = { 0 };
	json_t *cur = NULL, *set = NULL, *doc = NULL;
	char summary[96];
	json_error_t jerr;
	size_t i;
	int error;

	*idp = NULL;
	oid[0] = '\0';
	if (!records_kind_ok(kind))
		return custody_fail(CUSTODY_EINVAL, "unknown record kind");
	if ((error = records_current(a, id, kind, &cur)) < 0)
		return error;
	if ((set = json_loads(fields[0] ? fields : "{}", JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(set)) {
		error = custody_fail(CUSTODY_EINVAL, "edit: the fields are not a JSON object");
		goto done;
	}
	if (json_object_get(set, "id") != NULL &&
	    !json_equal(json_object_get(set, "id"), json_object_get(cur, "id"))) {
		error = custody_fail(CUSTODY_EINVAL, "edit cannot change a record's id");
		goto done;
	}
	json_object_del(cur, "rev");
	json_object_del(cur, "kind");
	records_drop_derived(cur);	/* derived again from the edited fields */
	if (json_object_get(set, "age_group") == NULL && (json_object_get(set, "age") != NULL ||
	    records_unsets(unset, nunset, "age")))
		json_object_del(cur, "age_group");	/* derived from the new age */
	json_object_update(cur, set);
	for (i = 0; i < nunset; i++) {
		if (strcmp(unset[i], "id") == 0) {
			error = custody_fail(CUSTODY_EINVAL, "edit cannot remove a record's id");
			goto done;
		}
		json_object_del(cur, unset[i]);
	}
	if (record_from_json(&doc, &probs, &a->vocab, kind, cur) < 0 || probs.n > 0 ||
	    (error = records_check_refs(a, doc, &probs)) == CUSTODY_EINVAL) {
		error = custody_fail(CUSTODY_EINVAL, "%s: %s", probs.n ? probs.v[0].column : "",
		    probs.n ? probs.v[0].problem : custody_error());
		goto done;
	}
	if (error < 0)
		goto done;
	if ((*idp = strdup(record_id(doc))) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	snprintf(summary, sizeof summary, "edit a %s record", kind);
	error = records_write(a, &doc, 1, summary, d, oid);
done:
	record_problems_free(&probs);
	json_decref(cur);
	json_decref(set);
	json_decref(doc);
	return error;
}

/* Add id to the sorted array field of doc; 0 if it was there already. */
static int
records_add_link(json_t *doc, const char *field, const char *id)
{
	json_t *arr = json_object_get(doc, field), *v;
	size_t i;

	if (arr == NULL) {
		json_object_set_new(doc, field, json_pack("[s]", id));
		return 1;
	}
	json_array_foreach(arr, i, v) {
		if (json_string_value(v) != NULL && strcmp(json_string_value(v), id) == 0)
			return 0;
		if (json_string_value(v) != NULL && strcmp(json_string_value(v), id) > 0)
			break;
	}
	json_array_insert_new(arr, i, json_string(id));
	return 1;
}

/* Link evidence to an incident, a victim or a source (target, of kind, in field). */
int
records_link(char **idp, struct archive *a, const char *evidence, const char *target,
    const char *kind, const char *field, Custody__RecordDone *d, char oid[GIT_OID_HEXSZ + 1])
{
	json_t *ev = NULL, *other = NULL;
	int error;

	*idp = NULL;
	oid[0] = '\0';
	if ((error = records_current(a, evidence, "evidence", &ev)) < 0 ||
	    (error = records_current(a, target, kind, &other)) < 0)
		goto done;
	json_object_del(ev, "rev");
	if ((*idp = strdup(record_id(ev))) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (records_add_link(ev, field, target) == 0)
		d->unchanged = 1;
	else
		error = records_write(a, &ev, 1, "link evidence", d, oid);
done:
	json_decref(ev);
	json_decref(other);
	return error;
}
