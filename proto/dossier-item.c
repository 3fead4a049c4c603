/*
 * Checks 4 and 6-8 of a dossier, item by item: the item file and the files it names, the
 * proof, the evidence file against its record, the parent chain of commits, and each witness;
 * then the verdict and a one-line summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "dossier-int.h"

/* One item being checked. */
struct ditem {
	struct dcheck		*c;
	struct dossier_item	*out;
	struct dreasons		 rs;
	const json_t		*item;		/* the item file */
	json_t			*record;	/* the record file */
	struct dproof		 proof;
	struct cbuf		 witnessed;	/* "bravo 2026-11-28T21:00:00Z, ..." */
};

/* A string member of o, or NULL. */
static const char *
item_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The name of the office with key hex, else its first digits (into buf). */
static const char *
item_office(const struct dcheck *c, const char *hex, char *buf, size_t len)
{
	const struct doffice *o = dossier_office(c, hex);

	if (o != NULL)
		return o->name;
	snprintf(buf, len, "%.16s...", hex != NULL ? hex : "");
	return buf;
}

/* True when two lists are equal, an absent one counting as empty. */
static int
item_same_list(const json_t *a, const json_t *b)
{
	if (a == NULL && b == NULL)
		return 1;
	if (a == NULL)
		return json_is_array(b) && json_array_size(b) == 0;
	if (b == NULL)
		return json_is_array(a) && json_array_size(a) == 0;
	return json_equal((json_t *)a, (json_t *)b);
}

/* The record file and (evidence) the evidence file the item names. */
static int
item_files(struct ditem *it, const struct dfile **evidence)
{
	struct dossier_item *out = it->out;
	const char *record = item_str(it->item, "record"), *ev, *k, *id;
	char want[256], why[DOSSIER_WHY_LEN];
	struct dfile *f;
	int error;

	*evidence = NULL;
	k = item_str(it->item, "kind");
	id = item_str(it->item, "id");
	if (k == NULL || id == NULL || strcmp(k, out->kind) != 0 || strcmp(id, out->id) != 0)
		return dossier_reason(&it->rs, "the item file is not about %s %s", out->kind,
		    out->id);
	snprintf(want, sizeof want, "data/records/%s/%s.json", out->kind, out->id);
	if (record == NULL || strcmp(record, want) != 0)
		return dossier_reason(&it->rs, "the item does not name its record file %s", want);
	if ((f = dossier_set_file(it->c->set, want)) == NULL)
		return dossier_reason(&it->rs, "the record file %s is missing", want);
	f->claimed = 1;
	if ((it->record = dossier_json_file(f, why, sizeof why)) == NULL)
		return dossier_reason(&it->rs, "%s: %s", want, why);
	k = item_str(it->record, "kind");
	id = item_str(it->record, "id");
	if (k == NULL || id == NULL || strcmp(k, out->kind) != 0 || strcmp(id, out->id) != 0 ||
	    json_string_length(json_object_get(it->record, "id")) != strlen(id)) {
		if ((error = dossier_reason(&it->rs, "the record file is not about %s %s",
		    out->kind, out->id)) < 0)
			return error;
	}
	if (!item_same_list(json_object_get(it->item, "withheld"),
	    json_object_get(it->record, "withheld")) && (error = dossier_reason(&it->rs,
	    "the item's withheld list is not the record file's")) < 0)
		return error;
	if (strcmp(out->kind, "evidence") != 0)
		return 0;
	ev = item_str(it->item, "evidence");
	if (ev == NULL || strncmp(ev, "data/evidence/", 14) != 0 ||
	    (f = dossier_set_file(it->c->set, ev)) == NULL)
		return dossier_reason(&it->rs, "the evidence file %.200s is missing",
		    ev != NULL ? ev : "(none named)");
	f->claimed = 1;
	*evidence = f;
	return 0;
}

/* Check 6: the record's sha256 and size are the evidence file's. */
static int
item_evidence(struct ditem *it, const struct dfile *ev)
{
	const char *sha = item_str(it->record, "sha256"), *listed;
	const json_t *size = json_object_get(it->record, "size");
	int error;

	if (sha == NULL || !hex_is_lower(sha, SHA256_HEX_LEN))
		return dossier_reason(&it->rs, "the record has no sha256");
	if (strncmp(ev->path + 14, sha, SHA256_HEX_LEN) != 0 ||
	    ev->path[14 + SHA256_HEX_LEN] != '/') {
		if ((error = dossier_reason(&it->rs, "the evidence file %s is not under the "
		    "record's sha256 %s", ev->path, sha)) < 0)
			return error;
	}
	if ((listed = dossier_bag_listed(it->c, ev->path)) == NULL) {
		if ((error = dossier_reason(&it->rs, "manifest-sha256.txt does not list the "
		    "evidence file")) < 0)
			return error;
	} else if (strcmp(listed, sha) != 0 && (error = dossier_reason(&it->rs,
	    "manifest-sha256.txt lists %s for the evidence file, the record says %s", listed,
	    sha)) < 0)
		return error;
	if (strcmp(ev->sha256, sha) != 0 && (error = dossier_reason(&it->rs, "the evidence "
	    "file hashes to %s, the record says %s", ev->sha256, sha)) < 0)
		return error;
	if (!json_is_integer(size) || json_integer_value(size) < 0 ||
	    (uint64_t)json_integer_value(size) != ev->size)
		return dossier_reason(&it->rs, "the evidence file has %llu bytes, the record "
		    "says otherwise", (unsigned long long)ev->size);
	return 0;
}

/* Check 7: commits, newest first, each the parent of the one before, down to the proof's. */
static int
item_commits(struct ditem *it, const json_t *commits, size_t nwitnesses)
{
	const struct dcommit *cm, *prev = NULL;
	const char *oid, *prev_oid = NULL, *feed = it->proof.commit->office;
	char why[DOSSIER_WHY_LEN];
	size_t i, n;
	int error;

	if (!json_is_array(commits) || (n = json_array_size(commits)) == 0)
		return dossier_reason(&it->rs, "commits is not a list of commits");
	oid = json_string_value(json_array_get(commits, n - 1));
	if (oid == NULL || strcmp(oid, it->proof.commit_oid) != 0)
		return dossier_reason(&it->rs, "commits does not end at the proof's commit");
	if (nwitnesses == 0 && n != 1)
		return dossier_reason(&it->rs, "commits goes past the proof's commit, but no "
		    "witness names a later one");
	for (i = 0; i < n; i++) {
		if ((oid = json_string_value(json_array_get(commits, i))) == NULL)
			return dossier_reason(&it->rs, "commits[%zu] is not a commit id", i);
		error = dossier_git_commit(it->c, &cm, oid, why, sizeof why);
		if (error == CUSTODY_EINVAL)
			return dossier_reason(&it->rs, "commits: %s", why);
		if (error < 0)
			return error;
		if (strcmp(cm->office, feed) != 0 || (it->proof.office == NULL &&
		    sodium_memcmp(cm->signer, it->proof.commit->signer, ED25519_PK_LEN) != 0))
			return dossier_reason(&it->rs, "commits: %s is not in the item's feed",
			    oid);
		if (it->proof.office != NULL && dossier_key_commit(it->proof.office, cm, oid, why,
		    sizeof why) < 0)
			return dossier_reason(&it->rs, "commits: %s", why);
		if (prev != NULL && strcmp(prev->parent, oid) != 0)
			return dossier_reason(&it->rs, "commits: %s is not the parent of %s", oid,
			    prev_oid);
		if (prev != NULL && prev->seq != cm->seq + 1)
			return dossier_reason(&it->rs, "commits: %s has Custody-Seq %llu, its "
			    "child %s %llu", oid, (unsigned long long)cm->seq, prev_oid,
			    (unsigned long long)prev->seq);
		prev = cm;
		prev_oid = oid;
	}
	return 0;
}

/* The index of oid in commits, or -1. */
static long
item_in_commits(const json_t *commits, const char *oid)
{
	const json_t *v;
	size_t i;

	json_array_foreach(commits, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), oid) == 0)
			return (long)i;
	return -1;
}

/* Check 8 for one witness. */
static int
item_witness(struct ditem *it, const json_t *w, size_t k, const json_t *commits)
{
	const char *office = item_str(w, "office"), *commit = item_str(w, "commit"), *v;
	const char *feed = it->proof.commit->office, *name, *time;
	const json_t *seq = json_object_get(w, "seq"), *rseq;
	char what[160], buf[32], why[DOSSIER_WHY_LEN];
	const struct dcommit *cm;
	struct dproof wp;
	size_t start = it->rs.n;
	int error;

	if (!json_is_object(w) || office == NULL || !hex_is_lower(office, DOSSIER_OFFICE_HEX) ||
	    commit == NULL || !hex_is_lower(commit, DOSSIER_OID_HEX) || !json_is_integer(seq))
		return dossier_reason(&it->rs, "witnesses[%zu] is not {office, seq, commit, "
		    "time, proof}", k);
	name = item_office(it->c, office, buf, sizeof buf);
	snprintf(what, sizeof what, "witness %.100s: ", name);
	if (strcmp(office, feed) == 0)
		return dossier_reason(&it->rs, "%sa feed does not witness itself", what);
	if ((error = dossier_proof_check(it->c, &wp, &it->rs, what, json_object_get(w, "proof"),
	    "witness", NULL)) < 0)
		return error;
	if (!wp.ok)
		goto done;
	if (strcmp(wp.commit->office, office) != 0)
		error = dossier_reason(&it->rs, "%sthe proof is not in the witness's feed", what);
	else if (!wp.keyed)
		error = dossier_reason(&it->rs, "%sno record_key: the witness record cannot be "
		    "read", what);
	else if ((v = item_str(wp.record, "feed")) == NULL || strcmp(v, feed) != 0)
		error = dossier_reason(&it->rs, "%sthe witness record is about another feed",
		    what);
	else if (!json_is_integer(rseq = json_object_get(wp.record, "seq")) ||
	    json_integer_value(rseq) != json_integer_value(seq))
		error = dossier_reason(&it->rs, "%sthe witness record says another seq", what);
	else if ((v = item_str(wp.record, "head")) == NULL || strcmp(v, commit) != 0)
		error = dossier_reason(&it->rs, "%sthe witness record names another head "
		    "commit", what);
	if (error < 0 || it->rs.n > start)
		goto done;
	if (item_in_commits(commits, commit) < 0) {
		error = dossier_reason(&it->rs, "%scommit %s is not in commits", what, commit);
		goto done;
	}
	if ((error = dossier_git_commit(it->c, &cm, commit, why, sizeof why)) < 0)
		goto done;	/* item_commits said why */
	if (cm->seq != (uint64_t)json_integer_value(seq)) {
		error = dossier_reason(&it->rs, "%scommit %s has Custody-Seq %llu, not %lld",
		    what, commit, (unsigned long long)cm->seq,
		    (long long)json_integer_value(seq));
		goto done;
	}
	time = item_str(wp.record, "time");
	if (time != NULL && (v = item_str(w, "time")) != NULL && strcmp(time, v) != 0) {
		error = dossier_reason(&it->rs, "%sthe witness record's time is %.40s, the item "
		    "says %.40s", what, time, v);
		goto done;
	}
	error = cbuf_printf(&it->witnessed, "%s%s %.40s", it->witnessed.len ? ", " : "", name,
	    time != NULL ? time : "(no time)");
done:
	dossier_proof_free(&wp);
	return error == CUSTODY_EINVAL ? 0 : error;
}

/* Check 8: every witness; commits must start at one of theirs. */
static int
item_witnesses(struct ditem *it)
{
	const json_t *ws = json_object_get(it->item, "witnesses"), *commits, *w;
	const struct doffice *o;
	const char *first;
	uint8_t *seen;
	size_t i, n = json_array_size(ws), start = it->rs.n;
	int error, named = 0;

	if (ws != NULL && !json_is_array(ws))
		return dossier_reason(&it->rs, "witnesses is not a list");
	commits = json_object_get(it->item, "commits");
	if ((error = item_commits(it, commits, n)) < 0 || it->rs.n > start)
		return error;
	first = json_string_value(json_array_get(commits, 0));
	if ((seen = calloc(it->c->noffices + 1, 1)) == NULL)
		return CUSTODY_ENOMEM;
	json_array_foreach(ws, i, w) {
		if ((o = dossier_office(it->c, item_str(w, "office"))) != NULL &&
		    seen[o - it->c->offices]++) {
			error = dossier_reason(&it->rs, "witnesses[%zu]: %.80s is listed twice", i,
			    o->name);
			break;
		}
		if ((error = item_witness(it, w, i, commits)) < 0)
			break;
		if (json_is_string(json_object_get(w, "commit")) &&
		    strcmp(item_str(w, "commit"), first) == 0)
			named = 1;
	}
	free(seen);
	if (error < 0)
		return error;
	if (n > 0 && !named)
		return dossier_reason(&it->rs, "commits does not start at a commit a witness "
		    "names");
	return 0;
}

/*
 * The chain of custody tells what the proofs show: one recorded event, the proof's; one
 * witnessed event per witness, with its seq. The other events are the exporter's word.
 */
static int
item_custody(struct ditem *it)
{
	const json_t *events = json_object_get(it->item, "custody"), *e, *w, *seq;
	const json_t *ws = json_object_get(it->item, "witnesses"), **wit = NULL;
	const struct doffice *o;
	const char *ev, *commit;
	unsigned *count = NULL;
	size_t i, recorded = 0, k;
	int error = 0;

	if (!json_is_array(events))
		return dossier_reason(&it->rs, "custody is not a list of events");
	if ((wit = calloc(it->c->noffices + 1, sizeof *wit)) == NULL ||
	    (count = calloc(it->c->noffices + 1, sizeof *count)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	json_array_foreach(ws, i, w)
		if ((o = dossier_office(it->c, item_str(w, "office"))) != NULL)
			wit[o - it->c->offices] = w;
	json_array_foreach(events, i, e) {
		if ((ev = item_str(e, "event")) == NULL) {
			error = dossier_reason(&it->rs, "custody[%zu] is not an event", i);
			goto done;
		}
		o = dossier_office(it->c, item_str(e, "office"));
		seq = json_object_get(e, "seq");
		commit = item_str(e, "commit");
		if (strcmp(ev, "recorded") == 0) {
			recorded++;
			if (o == NULL || strcmp(o->hex, it->proof.commit->office) != 0 ||
			    !json_is_integer(seq) || (uint64_t)json_integer_value(seq) !=
			    it->proof.seq || commit == NULL ||
			    strcmp(commit, it->proof.commit_oid) != 0) {
				error = dossier_reason(&it->rs, "custody: the recorded event is "
				    "not the proof's commit");
				goto done;
			}
		} else if (strcmp(ev, "witnessed") == 0) {
			if (o == NULL || (w = wit[k = (size_t)(o - it->c->offices)]) == NULL ||
			    !json_equal((json_t *)seq, json_object_get(w, "seq"))) {
				error = dossier_reason(&it->rs, "custody: a witnessed event has no "
				    "witness proof");
				goto done;
			}
			count[k]++;
		}
	}
	if (recorded != 1) {
		error = dossier_reason(&it->rs, "custody: %s recorded event", recorded ?
		    "more than one" : "no");
		goto done;
	}
	json_array_foreach(ws, i, w)
		if ((o = dossier_office(it->c, item_str(w, "office"))) != NULL &&
		    count[o - it->c->offices] != 1) {
			error = dossier_reason(&it->rs, "custody: witness %.80s has %s witnessed "
			    "event", o->name, count[o - it->c->offices] ? "more than one" : "no");
			goto done;
		}
done:
	free(wit);
	free(count);
	return error;
}

/* "recorded by alpha at seq 3 on 2026-11-28; witnessed by bravo 2026-11-28T21:00:00Z". */
static int
item_summary(struct ditem *it)
{
	struct cbuf b = { 0 };
	char day[32] = "an unknown day", buf[32];
	time_t t = (time_t)it->proof.commit->time;
	struct tm tm;
	int error;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
	error = cbuf_printf(&b, "recorded by %s at seq %llu on %s; ", item_office(it->c,
	    it->proof.commit->office, buf, sizeof buf), (unsigned long long)it->proof.seq, day);
	if (error == 0 && it->witnessed.len > 0)
		error = cbuf_printf(&b, "witnessed by %s", (const char *)it->witnessed.data);
	else if (error == 0)
		error = cbuf_puts(&b, "no witness");
	if (error == 0 && !it->proof.keyed)
		error = cbuf_puts(&b, "; content vouched for by the exporter alone (no record "
		    "key)");
	if (error == 0 && (it->out->summary = cbuf_detach(&b)) == NULL)
		error = CUSTODY_ENOMEM;
	cbuf_free(&b);
	return error;
}

/* Checks 4-8 of the item whose file is f. */
static int
item_check(struct dcheck *c, struct dossier_item *out, const struct dfile *f)
{
	struct ditem it = { .c = c, .out = out };
	const struct dfile *ev = NULL;
	char why[DOSSIER_WHY_LEN];
	json_t *item;
	int error;

	if ((item = dossier_json_file(f, why, sizeof why)) == NULL) {
		error = dossier_reason(&it.rs, "%s: %s", f->path, why);
		goto verdict;
	}
	it.item = item;
	if ((error = item_files(&it, &ev)) < 0 || it.record == NULL)
		goto verdict;
	if ((error = dossier_proof_check(c, &it.proof, &it.rs, "", json_object_get(item,
	    "proof"), out->kind, out->id)) < 0)
		goto verdict;
	if (it.proof.ok && it.proof.record != NULL &&
	    (error = dossier_proof_compare(&it.rs, &it.proof, it.record)) < 0)
		goto verdict;
	if (ev != NULL && (error = item_evidence(&it, ev)) < 0)
		goto verdict;
	if (!it.proof.ok)
		goto verdict;
	if ((error = item_witnesses(&it)) == 0 && (error = item_custody(&it)) == 0)
		error = item_summary(&it);
verdict:
	if (error == 0) {
		out->verdict = it.rs.n > 0 ? DOSSIER_FAILED : it.proof.keyed ? DOSSIER_PROVEN :
		    DOSSIER_ATTESTED;
		out->reasons = it.rs.v;
		out->nreasons = it.rs.n;
		it.rs.v = NULL;
		it.rs.n = 0;
	}
	dossier_reasons_free(&it.rs);
	dossier_proof_free(&it.proof);
	cbuf_free(&it.witnessed);
	json_decref(it.record);
	json_decref(item);
	return error;
}

/* Add an item for custody/items/KIND/ID.json (room made by the caller) and check it. */
static int
items_add(struct dcheck *c, const struct dfile *f, const char *kind, const char *id)
{
	struct dossier_result *res = c->res;
	struct dossier_item *out = &res->items[res->nitems];

	memset(out, 0, sizeof *out);
	out->verdict = DOSSIER_FAILED;
	if ((out->kind = strdup(kind)) == NULL || (out->id = strdup(id)) == NULL) {
		free(out->kind);
		return CUSTODY_ENOMEM;
	}
	res->nitems++;
	return item_check(c, out, f);
}

/* Every item, then the records and evidence no item accounts for. */
int
dossier_items_check(struct dcheck *c)
{
	const struct dfile *f;
	char kind[16], id[129], path[256];
	size_t i, n = 0;
	int error;

	for (i = 0; i < c->set->n; i++)
		if (!c->set->f[i].dir && strncmp(c->set->f[i].path, "custody/items/", 14) == 0)
			n++;
	if ((c->res->items = calloc(n + 1, sizeof *c->res->items)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (f->dir || strncmp(f->path, "custody/items/", 14) != 0 ||
		    dossier_kind_id(f->path + 14, kind, id) < 0)
			continue;
		if ((error = items_add(c, f, kind, id)) < 0)
			return error;
	}
	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (f->dir || f->claimed)
			continue;
		error = 0;
		if (strncmp(f->path, "data/records/", 13) == 0 &&
		    dossier_kind_id(f->path + 13, kind, id) == 0) {
			snprintf(path, sizeof path, "custody/items/%s/%s.json", kind, id);
			error = dossier_problem(c, f->path, "%s", dossier_set_file(c->set,
			    path) == NULL ? "no item file for this record" :
			    "its item does not name it");
		} else if (dossier_set_streamed(f->path))
			error = dossier_problem(c, f->path, "no item names this evidence file");
		if (error < 0)
			return error;
	}
	if (c->res->nitems == 0)
		return dossier_problem(c, "custody/items", "the dossier has no items");
	return 0;
}
