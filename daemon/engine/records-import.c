/*
 * Record batches: an import, or one add. Every record is validated again here against this
 * archive's vocabularies as its message arrives (on two threads), and kept in a file under
 * tmp/ (records-spill.h), so an import of any size holds a bounded part of itself in memory.
 * A batch is one commit, written only when every record is valid (or the client asked to skip
 * the invalid ones). From RECORDS_STREAM_MIN records a batch is a stream: its commit's "rev"
 * is fixed when its first rows arrive (the clock the feed would take then, the time, and a
 * summary known from the start: the kind and the rows sent, record-rev.c), so each record is
 * sealed once, with its final bytes, on the checking threads, and kept as the object that
 * goes into the pack; at the commit (records-commit.c) the objects are written in token order
 * into one new pack (feed-import.c), the index rows in one transaction with it. Should the
 * clock have moved by then (another write of this office committed while the import was
 * open), each record is opened and sealed again with the commit's own "rev". A record
 * identical to its current revision (by its content hash, which does not depend on the
 * sealing) is not written again, so importing a file twice changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/lockmem.h"
#include "custody/recobj.h"
#include "index-row.h"
#include "log.h"
#include "record-json.h"
#include "records-batch.h"

#define RECORDS_MAX 5000000

void
records_batch_free(struct recbatch *b)
{
	size_t i;

	if (b == NULL)
		return;
	records_spill_free(b->spill);
	record_row_header_free(b->cols);
	cbuf_free(&b->rev);
	for (i = 0; i < 2; i++)
		cbuf_free(&b->arena[i]);
	for (i = 0; i < 4; i++)
		cbuf_free(&b->text[i]);
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

/* A problem of a row (line, column): kept among the first RECORDS_LIST_PROBLEMS, counted. */
int
records_batch_problem(struct recbatch *b, uint32_t line, const char *column, const char *problem)
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

/* Open a batch (a RecordBegin). */
int
records_batch_new(struct recbatch **out, const char *kind, uint32_t count, int skip_invalid)
{
	struct recbatch *b;

	*out = NULL;
	if (!records_kind_ok(kind))
		return custody_fail(CUSTODY_EINVAL, "unknown record kind '%.32s'", kind);
	if (count == 0 || count > RECORDS_MAX)
		return custody_fail(CUSTODY_EINVAL, "a record batch holds 1 to %d records",
		    RECORDS_MAX);
	if ((b = calloc(1, sizeof *b)) == NULL)
		fatal("out of memory");
	snprintf(b->kind, sizeof b->kind, "%s", kind);
	b->expected = count;
	b->skip_invalid = skip_invalid;
	*out = b;
	return 0;
}

/*
 * The header of an import sent as rows (RecordBegin's columns), checked like a CSV header: a
 * bad one fails the batch with "ORIGIN:1: column: problem", and nothing can be written.
 */
int
records_batch_columns(struct recbatch *b, const char *origin, const ProtobufCBinaryData *cols,
    size_t n)
{
	struct record_problems probs = { 0 };
	const uint8_t *names[RECORD_ROW_COLUMNS_MAX];
	size_t lens[RECORD_ROW_COLUMNS_MAX], i;
	int error;

	for (i = 0; i < n && i < RECORD_ROW_COLUMNS_MAX; i++) {
		names[i] = cols[i].data;
		lens[i] = cols[i].len;
	}
	error = record_row_header(&b->cols, &probs, b->kind, names, lens, n);
	if (error == CUSTODY_EINVAL && probs.n > 0)
		custody_fail(error, "%.200s:1: %s: %s", origin != NULL && *origin != '\0' ?
		    origin : "header", probs.v[0].column, probs.v[0].problem);
	else if (error == 0)
		b->ncols = n;
	record_problems_free(&probs);
	return error;
}

/* One record of a RecordBatch message, checked. */
struct recbatch_row {
	uint32_t		 line;
	struct record_problems	 probs;		/* valid when none, and bad NULL */
	char			*bad;		/* a problem of the whole row */
	int			 ok;		/* valid: kept in arena, as a spill row's parts */
	const struct cbuf	*arena;		/* its part's (recbatch_part) */
	size_t			 off, slen, len;	/* sealed part at off, secret after it */
	json_t			*doc;		/* a person event's record (its references) */
	uint8_t			 tok[TOKEN_LEN], chash[TOKEN_LEN];
};

/* The rows lo to hi of a message, checked by one thread. */
struct recbatch_part {
	struct archive		*a;
	const struct recbatch	*b;
	Custody__RecordBatch	*m;
	struct recbatch_row	*rows;
	size_t			 lo, hi;
	struct cbuf		*arena;		/* what the rows keep (the batch's, reused) */
	struct cbuf		*text, *stamped;	/* a record's JSON; with its "rev" */
	int			 error;
	char			 msg[256];
};

/* Whether doc holds a protected field (to be sealed). */
static int
recbatch_has_sealed(const char *kind, const json_t *doc)
{
	const char *const *f;

	for (f = recobj_sealed_fields(kind); *f != NULL; f++)
		if (json_object_get(doc, *f) != NULL)
			return 1;
	return 0;
}

/* doc encoded as records are (RECORD_CONTENT_JSON, NUL-terminated) into out, emptied first. */
static int
recbatch_dump(struct cbuf *out, const json_t *doc)
{
	out->len = 0;
	return record_json(out, doc);
}

/*
 * Encode a valid record as kept, into the part's arena: token, content hash; a small batch
 * keeps its id and JSON (the secret part); a stream seals its protected fields, puts the
 * batch's "rev" in and seals the record as it will be written (the sealed part), then keeps
 * its id and its index row, worked out here (the secret part).
 */
static int
recbatch_encode(struct recbatch_part *p, json_t *doc, struct recbatch_row *row)
{
	struct archive *a = p->a;
	const struct recbatch *b = p->b;
	struct cbuf *arena = p->arena, *text = p->text;
	char hex[TOKEN_HEX_LEN + 1];
	const char *id;
	int error;

	if (record_id(doc)[0] == '\0')
		records_derive_id(a, doc);
	id = record_id(doc);
	archive_token(a, row->tok, id);
	/* the record has no "rev" yet: its encoding is the content hash's */
	if ((error = recbatch_dump(text, doc)) < 0)
		goto done;
	record_content_hash_json(a, (const char *)text->data, row->chash);
	if (strcmp(b->kind, "person_event") == 0)
		row->doc = json_incref(doc);	/* its references are checked after */
	row->arena = arena;
	row->off = arena->len;
	if (b->expected < RECORDS_STREAM_MIN) {
		if ((error = cbuf_put(arena, id, strlen(id) + 1)) == 0)
			error = cbuf_put(arena, text->data, text->len);
		goto done;
	}
	hex_encode(hex, row->tok, TOKEN_LEN);
	if (recbatch_has_sealed(b->kind, doc)) {
		sodium_memzero(text->data, text->len);
		if ((error = record_seal_fields(a, hex, doc)) < 0 ||
		    (error = recbatch_dump(text, doc)) < 0)
			goto done;
	}
	if ((error = record_rev_splice(p->stamped, (const char *)text->data, text->len,
	    &b->rev)) < 0 || (error = record_seal_text(arena, a, hex, b->kind,
	    (const char *)p->stamped->data, p->stamped->len)) < 0)
		goto done;
	row->slen = arena->len - row->off;
	if ((error = cbuf_put(arena, id, strlen(id) + 1)) == 0)
		error = index_row_pack(a, doc, arena);
done:
	sodium_memzero(text->data, text->len);
	sodium_memzero(p->stamped->data, p->stamped->len);
	if (error == 0) {
		row->len = arena->len - row->off - row->slen;
		row->ok = 1;
	}
	return error;
}

/* The record of row i of a message of rows, or its problems in row. */
static int
recbatch_from_row(json_t **doc, const struct recbatch_part *p, struct recbatch_row *row,
    size_t i)
{
	const Custody__RecordRow *r = p->m->rows[i];
	const uint8_t *values[RECORD_ROW_COLUMNS_MAX];
	size_t lens[RECORD_ROW_COLUMNS_MAX], k;

	for (k = 0; k < r->n_values && k < RECORD_ROW_COLUMNS_MAX; k++) {
		values[k] = r->values[k].data;
		lens[k] = r->values[k].len;
	}
	return record_from_row(doc, &row->probs, &p->a->vocab, p->b->kind,
	    (const char *const *)p->b->cols, p->b->ncols, values, lens, r->n_values);
}

/* Check the rows of one part (a thread's). */
static void *
recbatch_check(void *arg)
{
	struct recbatch_part *p = arg;
	struct recbatch_row *row;
	json_error_t jerr;
	json_t *fields = NULL, *doc;
	size_t i;

	p->arena->len = 0;
	for (i = p->lo; i < p->hi && p->error == 0; i++) {
		row = &p->rows[i];
		doc = NULL;
		if (p->b->ncols > 0) {
			if (recbatch_from_row(&doc, p, row, i) == 0)
				p->error = recbatch_encode(p, doc, row);
			else if (row->probs.n == 0)
				row->bad = strdup(custody_error());
			if (p->error < 0)
				snprintf(p->msg, sizeof p->msg, "%s", custody_error());
			json_decref(doc);
			continue;
		}
		fields = json_loads(p->m->json[i], JSON_REJECT_DUPLICATES, &jerr);
		if (fields == NULL || !json_is_object(fields))
			row->bad = strdup("not a JSON object");
		else if (record_from_json(&doc, &row->probs, &p->a->vocab, p->b->kind, fields) <
		    0 || row->probs.n > 0) {
			if (row->probs.n == 0)
				row->bad = strdup(custody_error());
		} else
			p->error = recbatch_encode(p, doc, row);
		if (p->error < 0)
			snprintf(p->msg, sizeof p->msg, "%s", custody_error());
		json_decref(doc);
		json_decref(fields);
	}
	return NULL;
}

/*
 * Keep one checked row: its problems, or the record (in the spill) and its id. The spill row's
 * secret part is the id, a NUL, then the index row (a stream: the record object is its sealed
 * part) or the record's JSON (a small batch, its protected fields still open).
 */
static int
recbatch_keep(struct archive *a, struct recbatch *b, struct recbatch_row *row)
{
	const uint8_t *at;
	size_t k;
	int error = 0;

	if (row->probs.n > 0 || row->bad != NULL || !row->ok) {
		for (k = 0; k < row->probs.n && error == 0; k++)
			error = records_batch_problem(b, row->line, row->probs.v[k].column,
			    row->probs.v[k].problem);
		if (row->probs.n == 0 && error == 0)
			error = records_batch_problem(b, row->line, "", row->bad ?: "invalid");
		return error;
	}
	if (b->spill == NULL && (error = records_spill_open(&b->spill, a)) < 0)
		return error;
	at = row->arena->data + row->off;
	if ((error = records_spill_add(b->spill, row->tok, row->line, row->chash, at, row->slen,
	    at + row->slen, row->len)) < 0)
		return error;
	if (b->expected <= RECORDS_LIST_IDS) {
		if (b->ids == NULL && ((b->ids = calloc(b->expected, sizeof *b->ids)) == NULL ||
		    (b->idlines = calloc(b->expected, sizeof *b->idlines)) == NULL))
			return CUSTODY_ENOMEM;
		if ((b->ids[b->nids] = strdup((const char *)at + row->slen)) == NULL)
			return CUSTODY_ENOMEM;
		b->idlines[b->nids++] = row->line;
	}
	return 0;
}

/*
 * A stream's "rev", fixed when its first rows arrive: the clock this office's next commit
 * would take now, the newest epoch (records are wrapped under it), the time, and a summary
 * known from the start. The commit checks them again (records_commit_sealed_for).
 */
static int
recbatch_reserve(struct archive *a, struct recbatch *b)
{
	int error;

	if ((error = feed_clock_next(a, &b->lamport)) < 0)
		return error;
	memset(&b->epoch, 0, sizeof b->epoch);
	b->has_epoch = epochs_newest(a, &b->epoch);
	record_now(b->time);
	snprintf(b->summary, sizeof b->summary, "import: %u %s rows sent", b->expected,
	    b->kind);
	return record_rev_member(&b->rev, b->lamport, a->office_hex, b->time, b->summary);
}

/* Check that the records a valid row names exist (records_check_refs); a problem if not. */
static int
recbatch_refs(struct archive *a, struct recbatch_row *row)
{
	int error;

	if (row->doc == NULL || !row->ok || row->probs.n > 0 || row->bad != NULL)
		return 0;
	error = records_check_refs(a, row->doc, &row->probs);
	return error == CUSTODY_EINVAL ? 0 : error;
}

/* RecordBatch (on a worker): check the records of the message on two threads, keep them. */
int
records_batch_add(struct archive *a, struct recbatch *b, Custody__RecordBatch *m)
{
	struct recbatch_part one, two;
	struct recbatch_row *rows;
	pthread_t t;
	size_t i, n;
	int threaded = 0, error = 0;

	if (b == NULL)
		return custody_fail(CUSTODY_EPROTO, "record_batch outside a batch");
	n = b->ncols > 0 ? m->n_rows : m->n_json;
	if (b->ncols > 0 ? m->n_json != 0 : m->n_rows != 0)
		return custody_fail(CUSTODY_EPROTO, "record_batch: rows where the batch takes "
		    "JSON, or JSON where it takes rows");
	if (m->n_lines != 0 && m->n_lines != n)
		return custody_fail(CUSTODY_EPROTO, "record_batch: lines do not match records");
	if (b->received + n > b->expected)
		return custody_fail(CUSTODY_EPROTO, "more records than the batch announced");
	if (b->expected >= RECORDS_STREAM_MIN && b->lamport == 0 &&
	    (error = recbatch_reserve(a, b)) < 0)
		return error;
	if ((rows = calloc(n ? n : 1, sizeof *rows)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < n; i++)
		rows[i].line = m->n_lines ? m->lines[i] : (uint32_t)(b->received + i + 1);
	b->received += n;
	one = (struct recbatch_part){ .a = a, .b = b, .m = m, .rows = rows, .lo = 0,
	    .hi = n, .arena = &b->arena[0], .text = &b->text[0], .stamped = &b->text[1] };
	two = (struct recbatch_part){ .a = a, .b = b, .m = m, .rows = rows, .lo = n,
	    .hi = n, .arena = &b->arena[1], .text = &b->text[2], .stamped = &b->text[3] };
	if (n >= RECORDS_STREAM_MIN) {
		one.hi = two.lo = n / 2;
		threaded = lockmem_thread_create(&t, recbatch_check, &two) == 0;
		if (!threaded)
			one.hi = n;
	}
	recbatch_check(&one);
	if (threaded)
		pthread_join(t, NULL);
	if ((error = one.error) < 0 || (threaded && (error = two.error) < 0))
		custody_fail(error, "%s", one.error < 0 ? one.msg : two.msg);
	if (error == 0 && strcmp(b->kind, "person_event") == 0) {
		index_lookup_cache(a, 1);
		for (i = 0; i < n && error == 0; i++)
			error = recbatch_refs(a, &rows[i]);
		index_lookup_cache(a, 0);
	}
	for (i = 0; i < n; i++) {
		if (error == 0)
			error = recbatch_keep(a, b, &rows[i]);
		record_problems_free(&rows[i].probs);
		free(rows[i].bad);
		json_decref(rows[i].doc);
	}
	free(rows);
	for (i = 0; i < 2; i++)	/* ids, index rows, a small batch's records */
		sodium_memzero(b->arena[i].data, b->arena[i].len);
	return error;
}

/* What a batch's reply lists (records_batch_commit done): ids, problems, their count. */
void
records_batch_outcome(const struct recbatch *b, char ***ids, size_t *nids,
    struct recproblem **probs, size_t *nprobs, size_t *total)
{
	*ids = b->ids;
	*nids = b->nids;
	*probs = b->probs;
	*nprobs = b->nprobs;
	*total = b->probs_total;
}
