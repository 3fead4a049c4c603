/*
 * Writing casualty records: batches (an import, or one add), edits and links. Every record is
 * validated again here against this archive's vocabularies as its message arrives, and kept
 * sealed in a file under tmp/ (records-spill.h), so an import of any size holds a bounded
 * part of itself in memory. A batch is one commit, written only when every record is valid (or
 * the client asked to skip the invalid ones): from RECORDS_STREAM_MIN records as a stream in
 * token order into one new pack (feed-import.c), the index rows in one transaction with it. A
 * record identical to its current revision is not written again, so importing a file twice
 * changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "custody/recobj.h"
#include "records-spill.h"
#include "server.h"

#define RECORDS_MAX 5000000
#define RECORDS_LIST_IDS 10000		/* RecordDone lists ids up to this many */
#define RECORDS_LIST_PROBLEMS 1000
#define RECORDS_STREAM_MIN 64		/* from this many records an import is a stream (a pack) */

struct recproblem {
	uint32_t	 line;
	char		*column;
	char		*problem;
};

/*
 * An open batch. Each record is validated as its message arrives and kept, sealed, in a file
 * under tmp/ (records-spill.h): memory holds 32 bytes a record, the ids of a small batch (for
 * the reply) and the first problems, whatever the size of the import.
 */
struct recbatch {
	char			 kind[16];
	int			 skip_invalid;
	uint32_t		 expected;
	size_t			 received;
	struct records_spill	*spill;		/* valid records */
	char			**ids;		/* while expected <= RECORDS_LIST_IDS */
	uint32_t		*idlines;
	size_t			 nids;
	struct recproblem	*probs;		/* the first RECORDS_LIST_PROBLEMS */
	size_t			 nprobs, probs_total;
	int			 busy;
};

static void
recbatch_free(struct recbatch *b)
{
	size_t i;

	if (b == NULL)
		return;
	records_spill_free(b->spill);
	for (i = 0; i < b->nids; i++)
		free(b->ids[i]);
	for (i = 0; i < b->nprobs; i++) {
		free(b->probs[i].column);
		free(b->probs[i].problem);
	}
	free(b->ids);
	free(b->idlines);
	free(b->probs);
	free(b);
}

/* Drop an open batch (client gone or shutdown) unless a worker holds it. */
void
records_abort(struct client *c)
{
	if (c->records != NULL && !c->records->busy) {
		recbatch_free(c->records);
		c->records = NULL;
	}
}

/* A worker is about to use the open batch: keep it until its done callback. */
void
records_hold(struct client *c)
{
	if (c->records != NULL)
		c->records->busy = 1;
}

static int
recbatch_problem(struct recbatch *b, uint32_t line, const char *column, const char *problem)
{
	struct recproblem *p;

	if (b->probs_total++ >= RECORDS_LIST_PROBLEMS)
		return 0;	/* counted, not kept */
	if ((p = reallocarray(b->probs, b->nprobs + 1, sizeof *p)) == NULL)
		return CUSTODY_ENOMEM;
	b->probs = p;
	p[b->nprobs].line = line;
	p[b->nprobs].column = strdup(column);
	p[b->nprobs].problem = strdup(problem);
	b->nprobs++;
	return 0;
}

static int
records_kind_ok(const char *kind)
{
	return strcmp(kind, "victim") == 0 || strcmp(kind, "incident") == 0 ||
	    strcmp(kind, "source") == 0;
}

/* RecordBegin: open a batch. */
void
records_begin(struct client *c, Envelope *msg)
{
	Custody__RecordBegin *rb = msg->record_begin;
	struct recbatch *b;

	if (c->records != NULL)
		peer_send_error(c->peer, CUSTODY_EPROTO, "a record batch is already open");
	else if (!records_kind_ok(rb->kind))
		peer_send_error(c->peer, CUSTODY_EINVAL, "unknown record kind '%.32s'", rb->kind);
	else if (rb->count == 0 || rb->count > RECORDS_MAX)
		peer_send_error(c->peer, CUSTODY_EINVAL, "a record batch holds 1 to %d records",
		    RECORDS_MAX);
	else {
		if ((b = calloc(1, sizeof *b)) == NULL)
			fatal("out of memory");
		snprintf(b->kind, sizeof b->kind, "%s", rb->kind);
		b->expected = rb->count;
		b->skip_invalid = rb->skip_invalid;
		c->records = b;
	}
	wire_free(msg);
}

static void records_derive_id(struct archive *, json_t *);

/* Keep a valid record: its id for the reply of a small batch, the record in the spill. */
static int
recbatch_keep(struct archive *a, struct recbatch *b, uint32_t line, json_t *doc)
{
	uint8_t tok[TOKEN_LEN], chash[TOKEN_LEN];
	char *s, hex[TOKEN_HEX_LEN + 1];
	int error;

	if (record_id(doc)[0] == '\0')
		records_derive_id(a, doc);
	if (b->spill == NULL && (error = records_spill_open(&b->spill, a)) < 0)
		return error;
	if (b->expected <= RECORDS_LIST_IDS) {
		if (b->ids == NULL && ((b->ids = calloc(b->expected, sizeof *b->ids)) == NULL ||
		    (b->idlines = calloc(b->expected, sizeof *b->idlines)) == NULL))
			return CUSTODY_ENOMEM;
		if ((b->ids[b->nids] = strdup(record_id(doc))) == NULL)
			return CUSTODY_ENOMEM;
		b->idlines[b->nids++] = line;
	}
	archive_token(a, tok, record_id(doc));
	/* the record has no "rev" yet: its encoding is the content hash's */
	if ((s = json_dumps(doc, RECORD_CONTENT_JSON)) == NULL)
		return custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON");
	record_content_hash_json(a, s, chash);
	if (b->expected >= RECORDS_STREAM_MIN && recobj_sealed_fields(b->kind)[0] != NULL) {
		/* kept with its protected fields sealed already, as the stream writes them */
		sodium_memzero(s, strlen(s));
		free(s);
		archive_token_hex(a, hex, record_id(doc));
		if ((error = record_seal_fields(a, hex, doc)) < 0)
			return error;
		if ((s = json_dumps(doc, JSON_COMPACT)) == NULL)
			return custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON");
	}
	error = records_spill_add(b->spill, tok, line, chash, s);
	sodium_memzero(s, strlen(s));
	free(s);
	return error;
}

/* RecordBatch (on a worker): validate each record of the message, keep the valid ones. */
int
records_batch(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct recbatch *b = r->c->records;
	Custody__RecordBatch *m = r->msg->record_batch;
	struct record_problems probs = { 0 };
	json_error_t jerr;
	json_t *fields, *doc;
	uint32_t line;
	size_t i, k;
	int error = 0;

	if (b == NULL)
		return custody_fail(CUSTODY_EPROTO, "record_batch outside a batch");
	if (m->n_lines != 0 && m->n_lines != m->n_json)
		return custody_fail(CUSTODY_EPROTO, "record_batch: lines do not match records");
	if (b->received + m->n_json > b->expected)
		return custody_fail(CUSTODY_EPROTO, "more records than the batch announced");
	for (i = 0; i < m->n_json && error == 0; i++) {
		line = m->n_lines ? m->lines[i] : (uint32_t)(b->received + 1);
		b->received++;
		fields = json_loads(m->json[i], JSON_REJECT_DUPLICATES, &jerr);
		if (fields == NULL || !json_is_object(fields)) {
			json_decref(fields);
			error = recbatch_problem(b, line, "", "not a JSON object");
			continue;
		}
		doc = NULL;
		if (record_from_json(&doc, &probs, &a->vocab, b->kind, fields) < 0 ||
		    probs.n > 0) {
			for (k = 0; k < probs.n && error == 0; k++)
				error = recbatch_problem(b, line, probs.v[k].column,
				    probs.v[k].problem);
			if (probs.n == 0)
				error = recbatch_problem(b, line, "", custody_error());
		} else
			error = recbatch_keep(a, b, line, doc);
		json_decref(doc);
		record_problems_free(&probs);
		json_decref(fields);
	}
	return error;
}

/* A stable id for a record given without one: the same row always gets the same id. */
static void
records_derive_id(struct archive *a, json_t *doc)
{
	uint8_t h[16];
	char *s, id[37];

	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	record_name_token(a, "record-id", s != NULL ? s : "", h);
	free(s);
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
static int
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

/* Encode a RecordDone with ids and problems (both cut short when long; total problems). */
static int
records_reply(struct request *r, Custody__RecordDone *d, char **ids, size_t n,
    struct recproblem *probs, size_t nprobs, size_t total, char *oid)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__RecordProblem *pv = NULL, **pp = NULL;
	size_t i, np = nprobs < RECORDS_LIST_PROBLEMS ? nprobs : RECORDS_LIST_PROBLEMS;
	int error;

	d->commit = oid;
	d->problems_total = (uint32_t)(total > UINT32_MAX ? UINT32_MAX : total);
	if (n <= RECORDS_LIST_IDS) {
		d->ids = ids;
		d->n_ids = n;
	}
	if (np > 0 && ((pv = calloc(np, sizeof *pv)) == NULL || (pp = calloc(np,
	    sizeof *pp)) == NULL)) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < np; i++) {
		custody__record_problem__init(&pv[i]);
		pv[i].line = probs[i].line;
		pv[i].column = probs[i].column ?: "";
		pv[i].problem = probs[i].problem ?: "";
		pp[i] = &pv[i];
	}
	d->n_problems = np;
	d->problems = pp;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_DONE;
	env.record_done = d;
	error = server_reply(r, &env);
done:
	free(pv);
	free(pp);
	return error;
}

/* One import being written: the spill read in token order (records-spill.h). */
struct records_import {
	struct archive		*a;
	struct recbatch		*b;
	size_t			 i, n;		/* the next row; rows to write at most */
	size_t			 unchanged;
	uint8_t			 chash[TOKEN_LEN];	/* of the record last given */
	int			 indexing, index_open;
};

/* feed_stream next: the next record that differs from its current revision. */
static int
records_import_next(void *arg, json_t **doc, char tok_hex[static TOKEN_HEX_LEN + 1])
{
	struct records_import *im = arg;
	struct records_spill *sp = im->b->spill;
	const struct records_spill_row *row;
	uint8_t cur[TOKEN_LEN];
	char office[65], kind[16], *json;
	json_error_t jerr;
	int r, error;

	*doc = NULL;
	while (im->i < sp->n) {
		row = &sp->row[im->i++];
		if (im->i > 1 && memcmp(row->tok, sp->row[im->i - 2].tok, TOKEN_LEN) == 0)
			continue;	/* a repeated id: its first line is written */
		r = index_current_chash(im->a, row->tok, cur, office, kind);
		if (r < 0 && r != CUSTODY_ENOTFOUND)
			return r;
		if ((error = records_spill_read(sp, im->i - 1, im->chash, &json)) < 0)
			return error;
		if (r == 0 && strcmp(kind, im->b->kind) != 0) {
			*doc = json_loads(json, 0, &jerr);
			error = custody_fail(CUSTODY_EEXIST, "id %s is already a%s %s record",
			    record_id(*doc), strchr("aeiou", kind[0]) ? "n" : "", kind);
			json_decref(*doc);
			*doc = NULL;
		} else if (r == 0 && memcmp(cur, im->chash, TOKEN_LEN) == 0) {
			im->unchanged++;
			error = 1;
		} else if ((*doc = json_loads(json, 0, &jerr)) == NULL)
			error = custody_fail(CUSTODY_EIO, "import: a kept record does not parse");
		sodium_memzero(json, strlen(json));
		free(json);
		if (error < 0)
			return error;
		if (error == 0) {
			hex_encode(tok_hex, row->tok, TOKEN_LEN);
			return 0;
		}
	}
	return 1;
}

/* feed_stream written: index the record in the transaction of the commit. */
static int
records_import_written(void *arg, const struct feed_commit *fc, const char *tok_hex,
    json_t *doc)
{
	struct records_import *im = arg;

	(void)tok_hex;
	if (!im->indexing) {
		im->indexing = 1;
		im->index_open = index_import_begin(im->a, fc, im->n);
	}
	if (im->index_open && index_import_put(im->a, fc, doc, im->chash) < 0) {
		log_warn("index update failed (%s); it catches up after the commit",
		    custody_error());
		index_import_end(im->a, fc, 1, 0);
		im->index_open = 0;
	}
	return 0;
}

/* A small batch (an add): its records read back, written as any commit (loose objects). */
static int
records_write_few(struct archive *a, struct recbatch *b, size_t n, const char *summary,
    Custody__RecordDone *d, char oid[GIT_OID_HEXSZ + 1])
{
	struct records_spill *sp = b->spill;
	uint8_t chash[TOKEN_LEN];
	json_error_t jerr;
	json_t **docs;
	char *json;
	size_t i, k = 0;
	int error = 0;

	if ((docs = calloc(n, sizeof *docs)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < sp->n && k < n && error == 0; i++) {
		if (i > 0 && memcmp(sp->row[i].tok, sp->row[i - 1].tok, TOKEN_LEN) == 0)
			continue;	/* a repeated id: its first line is written */
		if ((error = records_spill_read(sp, i, chash, &json)) < 0)
			break;
		if ((docs[k++] = json_loads(json, 0, &jerr)) == NULL)
			error = custody_fail(CUSTODY_EIO, "import: a kept record does not parse");
		sodium_memzero(json, strlen(json));
		free(json);
	}
	if (error == 0)
		error = records_write(a, docs, k, summary, d, oid);
	for (i = 0; i < k; i++)
		json_decref(docs[i]);
	free(docs);
	return error;
}

/*
 * Write the kept records of b as one commit, leaving out those identical to their current
 * revision (importing a file twice writes nothing). An id already used by another kind is
 * refused, and nothing is written.
 */
static int
records_import_write(struct archive *a, struct recbatch *b, size_t n, const char *summary,
    Custody__RecordDone *d, char oid[GIT_OID_HEXSZ + 1])
{
	struct records_import im = { .a = a, .b = b, .n = n };
	struct feed_stream st = { records_import_next, records_import_written, &im };
	struct feed_commit fc = { 0 };
	size_t written = 0;
	int error;

	if (b->expected < RECORDS_STREAM_MIN)	/* protected fields still open: recbatch_keep */
		return records_write_few(a, b, n, summary, d, oid);
	pthread_mutex_lock(&a->write_lock);
	error = feed_append_sorted(a, &fc, summary, &st, &written);
	if (im.indexing && index_import_end(a, &fc, im.index_open, error == 0 &&
	    written > 0) < 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	pthread_mutex_unlock(&a->write_lock);
	if (error < 0)
		return error;
	d->written = (uint32_t)written;
	d->unchanged += (uint32_t)im.unchanged;
	if (written > 0) {
		git_oid_tostr(oid, GIT_OID_HEXSZ + 1, &fc.oid);
		d->seq = fc.seq;
	}
	return 0;
}

/* Report every repeated id of the sorted spill; the count of records left to write. */
static int
records_repeats(struct recbatch *b, size_t *n)
{
	struct records_spill *sp = b->spill;
	uint8_t chash[TOKEN_LEN];
	json_error_t jerr;
	json_t *doc;
	char *json, msg[160];
	size_t i, k;
	int error = 0;

	*n = sp->n;
	for (i = 1; i < sp->n && error == 0; i++) {
		if (memcmp(sp->row[i].tok, sp->row[i - 1].tok, TOKEN_LEN) != 0)
			continue;
		(*n)--;
		if ((error = records_spill_read(sp, i, chash, &json)) < 0)
			break;
		doc = json_loads(json, 0, &jerr);
		sodium_memzero(json, strlen(json));
		free(json);
		/* the first keeps the id; the repeat is a problem, and not written */
		snprintf(msg, sizeof msg, "id %s appears more than once", record_id(doc));
		json_decref(doc);
		error = recbatch_problem(b, sp->row[i].line, "id", msg);
		for (k = 0; k < b->nids; k++)
			if (b->idlines[k] == sp->row[i].line) {
				free(b->ids[k]);
				memmove(&b->ids[k], &b->ids[k + 1], (b->nids - k - 1) *
				    sizeof *b->ids);
				memmove(&b->idlines[k], &b->idlines[k + 1], (b->nids - k - 1) *
				    sizeof *b->idlines);
				b->nids--;
				break;
			}
	}
	return error;
}

/* RecordCommit (on a worker): the batch becomes one commit, or nothing if anything is wrong. */
int
records_commit(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct recbatch *b = r->c->records;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	char oid[GIT_OID_HEXSZ + 1] = "", summary[96];
	size_t n = 0;
	int error;

	if (b == NULL)
		return custody_fail(CUSTODY_EPROTO, "record_commit outside a batch");
	if (b->received != b->expected)
		return custody_fail(CUSTODY_EPROTO, "record_commit after %zu of %u records",
		    b->received, b->expected);
	if (b->spill != NULL && ((error = records_spill_sort(b->spill)) < 0 ||
	    (error = records_repeats(b, &n)) < 0))
		return error;
	if (b->probs_total == 0 || b->skip_invalid) {
		snprintf(summary, sizeof summary, "%s %zu %s record%s", b->expected > 1 ?
		    "import" : "add", n, b->kind, n == 1 ? "" : "s");
		if (n > 0 && (error = records_import_write(a, b, n, summary, &d, oid)) < 0)
			return error;
	}
	return records_reply(r, &d, b->ids, b->nids, b->probs, b->nprobs, b->probs_total, oid);
}

/* After a batch's commit job: the batch is over. */
void
records_done(struct request *r)
{
	struct client *c = r->c;

	if (c->records == NULL)
		return;
	c->records->busy = 0;
	if (r->msg->body_case == CUSTODY__ENVELOPE__BODY_RECORD_COMMIT || r->error < 0 ||
	    c->gone) {
		recbatch_free(c->records);
		c->records = NULL;
	}
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
records_unsets(const Custody__RecordEdit *m, const char *field)
{
	size_t i;

	for (i = 0; i < m->n_unset; i++)
		if (strcmp(m->unset[i], field) == 0)
			return 1;
	return 0;
}

/* RecordEdit: set and unset fields of a record; the result is validated like a new one. */
int
records_edit(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__RecordEdit *m = r->msg->record_edit;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	struct record_problems probs = { 0 };
	json_t *cur = NULL, *set = NULL, *doc = NULL;
	char oid[GIT_OID_HEXSZ + 1] = "", summary[96], *id;
	json_error_t jerr;
	size_t i;
	int error;

	if (!records_kind_ok(m->kind))
		return custody_fail(CUSTODY_EINVAL, "unknown record kind");
	if ((error = records_current(a, m->id, m->kind, &cur)) < 0)
		return error;
	if ((set = json_loads(m->json[0] ? m->json : "{}", JSON_REJECT_DUPLICATES, &jerr)) ==
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
	    records_unsets(m, "age")))
		json_object_del(cur, "age_group");	/* derived from the new age */
	json_object_update(cur, set);
	for (i = 0; i < m->n_unset; i++) {
		if (strcmp(m->unset[i], "id") == 0) {
			error = custody_fail(CUSTODY_EINVAL, "edit cannot remove a record's id");
			goto done;
		}
		json_object_del(cur, m->unset[i]);
	}
	if (record_from_json(&doc, &probs, &a->vocab, m->kind, cur) < 0 || probs.n > 0) {
		error = custody_fail(CUSTODY_EINVAL, "%s: %s", probs.n ? probs.v[0].column : "",
		    probs.n ? probs.v[0].problem : custody_error());
		goto done;
	}
	id = (char *)record_id(doc);
	snprintf(summary, sizeof summary, "edit a %s record", m->kind);
	if ((error = records_write(a, &doc, 1, summary, &d, oid)) == 0)
		error = records_reply(r, &d, &id, 1, NULL, 0, 0, oid);
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

/* LinkRequest: evidence to an incident, a victim or a source. */
int
records_link(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__LinkRequest *m = r->msg->link_request;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	const char *target, *kind, *field;
	char oid[GIT_OID_HEXSZ + 1] = "", *id;
	json_t *ev = NULL, *other = NULL;
	int error;

	if (m->incident[0] != '\0')
		target = m->incident, kind = "incident", field = "incidents";
	else if (m->victim[0] != '\0')
		target = m->victim, kind = "victim", field = "victims";
	else if (m->source[0] != '\0')
		target = m->source, kind = "source", field = "sources";
	else
		return custody_fail(CUSTODY_EINVAL, "link to what? give an incident, a victim or "
		    "a source");
	if ((error = records_current(a, m->evidence, "evidence", &ev)) < 0 ||
	    (error = records_current(a, target, kind, &other)) < 0)
		goto done;
	json_object_del(ev, "rev");
	id = (char *)record_id(ev);
	if (records_add_link(ev, field, target) == 0) {
		d.unchanged = 1;
		error = records_reply(r, &d, &id, 1, NULL, 0, 0, oid);
		goto done;
	}
	if ((error = records_write(a, &ev, 1, "link evidence", &d, oid)) == 0)
		error = records_reply(r, &d, &id, 1, NULL, 0, 0, oid);
done:
	json_decref(ev);
	json_decref(other);
	return error;
}
