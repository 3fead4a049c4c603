/*
 * Record batches: an import, or one add. Every record is validated again here against this
 * archive's vocabularies as its message arrives (on two threads), and kept in a file under
 * tmp/ (records-spill.h), so an import of any size holds a bounded part of itself in memory.
 * A batch is one commit, written only when every record is valid (or the client asked to skip
 * the invalid ones). From RECORDS_STREAM_MIN records a batch is a stream: its commit's "rev"
 * is fixed when its first rows arrive (the clock the feed would take then, the time, and a
 * summary known from the start: the kind and the rows sent, record-rev.c), so each record is
 * sealed once, with its final bytes, on the checking threads, and kept as the object that
 * goes into the pack; at the commit the objects are written in token order into one new pack
 * (feed-import.c), the index rows in one transaction with it. Should the clock have moved by
 * then (another write of this office committed while the import was open), each record is
 * opened and sealed again with the commit's own "rev". A record identical to its current
 * revision (by its content hash, which does not depend on the sealing) is not written again,
 * so importing a file twice changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/lockmem.h"
#include "custody/recobj.h"
#include "epochs.h"
#include "log.h"
#include "index-row.h"
#include "record-json.h"
#include "records-spill.h"
#include "records-write.h"

#define RECORDS_MAX 5000000
#define RECORDS_IMPORT_SLOTS (2 * FEED_STREAM_AHEAD)
#define RECORDS_STREAM_MIN 64		/* from this many records an import is a stream (a pack) */


/*
 * An open batch. Each record is validated as its message arrives and kept, sealed, in a file
 * under tmp/ (records-spill.h): memory holds 48 bytes a record, the ids of a small batch (for
 * the reply) and the first problems, whatever the size of the import.
 */
struct recbatch {
	char			 kind[16];
	int			 skip_invalid;
	uint32_t		 expected;
	size_t			 received;
	struct records_spill	*spill;		/* valid records */
	char			**cols;		/* records come as rows under these columns */
	size_t			 ncols;
	char			**ids;		/* while expected <= RECORDS_LIST_IDS */
	uint32_t		*idlines;
	size_t			 nids;
	struct recproblem	*probs;		/* the first RECORDS_LIST_PROBLEMS */
	size_t			 nprobs, probs_total;
	/* a stream: the "rev" its records are sealed with (lamport 0 before its first rows) */
	uint64_t		 lamport;
	int			 has_epoch;
	struct epoch		 epoch;		/* the newest then (has_epoch) */
	char			 time[32], summary[96];
	struct cbuf		 rev;		/* "rev":{...} */
	/* the checking threads' buffers, kept from message to message */
	struct cbuf		 arena[2], text[4];
};

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
			error = recbatch_problem(b, row->line, row->probs.v[k].column,
			    row->probs.v[k].problem);
		if (row->probs.n == 0 && error == 0)
			error = recbatch_problem(b, row->line, "", row->bad ?: "invalid");
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
 * known from the start. The commit checks them again (records_import_sealed_for).
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

/* A record given to feed_stream and not yet written: its spill row, read back. */
struct records_import_slot {
	struct cbuf	 buf;		/* the row (records_spill_read) */
	const uint8_t	*irow;
	size_t		 irow_len;
	uint8_t		 tok[TOKEN_LEN], chash[TOKEN_LEN];
};

/* One import being written: the spill read in token order (records-spill.h). */
struct records_import {
	struct archive		*a;
	struct recbatch		*b;
	size_t			 i, n;		/* rows read; rows to write at most */
	uint8_t			 prev[TOKEN_LEN];	/* the token of the row before */
	size_t			 unchanged;
	/* the records given and not yet packed (feed_stream: 2 * FEED_STREAM_AHEAD at most) */
	struct records_import_slot slot[RECORDS_IMPORT_SLOTS];
	size_t			 given, taken;
	struct index_scan	*scan;		/* the current revisions, in token order */
	int			 indexing, index_open, index_failed;
	/* index_import_build on a second thread while the commit is completed (st->done) */
	pthread_t		 build;
	sqlite3			*build_db;
	int			 building, build_error;
	char			 build_msg[256];
};

/*
 * A spill row's secret part: the record's id (NUL-terminated) and what follows it (the index
 * row of a stream, the JSON of a small batch).
 */
static int
records_import_secret(const struct records_spill_item *it, const char **id,
    const uint8_t **rest, size_t *len)
{
	const uint8_t *nul = memchr(it->secret, '\0', it->len);

	*id = "";
	*rest = NULL;
	*len = 0;
	if (nul == NULL)
		return custody_fail(CUSTODY_EIO, "import: a row under tmp/ does not parse");
	*id = (const char *)it->secret;
	*rest = nul + 1;
	*len = it->len - (size_t)(nul + 1 - it->secret);
	return 0;
}

/* feed_stream next: the next record that differs from its current revision. */
static int
records_import_next(void *arg, const uint8_t **obj, size_t *len,
    char tok_hex[static TOKEN_HEX_LEN + 1])
{
	struct records_import *im = arg;
	struct records_spill *sp = im->b->spill;
	struct records_import_slot *sl;
	const struct records_spill_row *row;
	struct records_spill_item it;
	uint8_t cur[TOKEN_LEN];
	char office[65], ckind[16];
	const char *id = NULL;
	int more, r, error;

	while ((more = records_spill_next(sp, &row)) == 0) {
		if (im->i++ > 0 && memcmp(row->tok, im->prev, TOKEN_LEN) == 0)
			continue;	/* a repeated id: its first line is written */
		memcpy(im->prev, row->tok, TOKEN_LEN);
		r = im->scan != NULL ? index_scan_current(im->scan, row->tok, cur, office, ckind) :
		    index_current_chash(im->a, row->tok, cur, office, ckind);
		if (r < 0 && r != CUSTODY_ENOTFOUND)
			return r;
		if (r == 0 && strcmp(ckind, im->b->kind) == 0 &&
		    memcmp(cur, row->chash, TOKEN_LEN) == 0) {
			im->unchanged++;	/* known from the row's place: not read */
			continue;
		}
		sl = &im->slot[im->given % RECORDS_IMPORT_SLOTS];
		if ((error = records_spill_read(sp, row, &sl->buf, &it)) < 0 ||
		    (error = records_import_secret(&it, &id, &sl->irow, &sl->irow_len)) < 0)
			return error;
		if (r == 0 && strcmp(ckind, im->b->kind) != 0)
			return custody_fail(CUSTODY_EEXIST, "id %s is already a%s %s record", id,
			    strchr("aeiou", ckind[0]) ? "n" : "", ckind);
		memcpy(sl->tok, row->tok, TOKEN_LEN);
		memcpy(sl->chash, row->chash, TOKEN_LEN);
		*obj = it.sealed;
		*len = it.slen;
		hex_encode(tok_hex, row->tok, TOKEN_LEN);
		im->given++;
		return 0;
	}
	return more;
}

/*
 * feed_stream sealed_for: whether the records were sealed for a commit at clock lamport, the
 * batch's "rev" and the newest epoch still those of its start.
 */
static int
records_import_sealed_for(void *arg, uint64_t lamport)
{
	struct records_import *im = arg;
	struct recbatch *b = im->b;
	struct epoch e = { 0 };
	int has = epochs_newest(im->a, &e);

	if (lamport == b->lamport && has == b->has_epoch && (!has || (e.num == b->epoch.num &&
	    memcmp(e.creator, b->epoch.creator, sizeof e.creator) == 0)))
		return 1;
	log_info("import: %s since its rows began to arrive; its records are sealed again for "
	    "the commit", lamport != b->lamport ? "the clock moved (a commit was written or "
	    "received)" : "a newer data-key epoch came");
	return 0;
}

/* feed_stream written: index the record in the transaction of the commit. */
static int
records_import_written(void *arg, const struct feed_commit *fc, const char *tok_hex)
{
	struct records_import *im = arg;
	struct records_import_slot *sl = &im->slot[im->taken++ % RECORDS_IMPORT_SLOTS];

	(void)tok_hex;
	if (!im->indexing) {
		if (im->scan != NULL)
			index_scan_pause(im->scan);	/* the schema may change */
		im->indexing = 1;
		im->index_open = index_import_begin(im->a, fc, im->n);
	}
	if (im->index_open && !im->index_failed && index_import_put_row(im->a, fc, sl->tok,
	    im->b->kind, sl->irow, sl->irow_len, sl->chash) < 0) {
		/* rolled back at the end (the scan still reads), then caught up from git */
		log_warn("index update failed (%s); it catches up after the commit",
		    custody_error());
		im->index_failed = 1;
	}
	return 0;
}

static void *
records_import_build(void *arg)
{
	struct records_import *im = arg;

	if ((im->build_error = index_import_build(im->build_db)) < 0)
		snprintf(im->build_msg, sizeof im->build_msg, "%s", custody_error());
	return NULL;
}

/*
 * feed_stream done: every row is in the index's transaction, so its secondary indexes are
 * built on a second thread while this one completes the pack and makes the commit durable.
 * The connection is this thread's: it is left alone until records_import_built.
 */
static void
records_import_done(void *arg)
{
	struct records_import *im = arg;

	if (!im->index_open || im->index_failed)
		return;
	if (im->scan != NULL)
		index_scan_pause(im->scan);	/* no statement of the connection left running */
	if ((im->build_db = archive_db(im->a)) == NULL)
		return;
	im->building = lockmem_thread_create(&im->build, records_import_build, im) == 0;
}

/* Wait for records_import_done's thread; the index's update failed if it did. */
static void
records_import_built(struct records_import *im)
{
	if (!im->building)
		return;
	pthread_join(im->build, NULL);
	im->building = 0;
	if (im->build_error < 0) {
		log_warn("index update failed (%s); it catches up after the commit",
		    im->build_msg);
		im->index_failed = 1;
	}
}

/* A small batch (an add): its records read back, written as any commit (loose objects). */
static int
records_write_few(struct archive *a, struct recbatch *b, size_t n, const char *summary,
    Custody__RecordDone *d, char oid[GIT_OID_HEXSZ + 1])
{
	struct records_spill *sp = b->spill;
	const struct records_spill_row *row;
	struct records_spill_item it;
	struct cbuf buf = { 0 };
	uint8_t prev[TOKEN_LEN];
	const uint8_t *json = NULL;
	const char *id = NULL;
	json_error_t jerr;
	json_t **docs;
	size_t i = 0, k = 0, len = 0;
	int error;

	if ((docs = calloc(n, sizeof *docs)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = records_spill_rewind(sp)) < 0)
		goto done;
	while (k < n && (error = records_spill_next(sp, &row)) == 0) {
		if (i++ > 0 && memcmp(row->tok, prev, TOKEN_LEN) == 0)
			continue;	/* a repeated id: its first line is written */
		memcpy(prev, row->tok, TOKEN_LEN);
		if ((error = records_spill_read(sp, row, &buf, &it)) < 0 ||
		    (error = records_import_secret(&it, &id, &json, &len)) < 0)
			break;
		if ((docs[k++] = json_loadb((const char *)json, len, 0, &jerr)) == NULL) {
			error = custody_fail(CUSTODY_EIO, "import: a kept record does not parse");
			break;
		}
	}
	if (error >= 0)
		error = records_write(a, docs, k, summary, d, oid);
done:
	cbuf_free(&buf);
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
	struct feed_stream st = { .next = records_import_next, .sealed_for =
	    records_import_sealed_for, .written = records_import_written, .arg = &im,
	    .done = records_import_done };
	struct feed_commit fc = { 0 };
	size_t i, written = 0;
	int error;

	if (b->expected < RECORDS_STREAM_MIN)	/* protected fields still open: recbatch_keep */
		return records_write_few(a, b, n, summary, d, oid);
	if ((error = records_spill_rewind(b->spill)) < 0)
		return error;
	if (index_scan_new(a, &im.scan) < 0)
		im.scan = NULL;		/* index_current_chash then */
	pthread_mutex_lock(&a->write_lock);
	error = feed_append_sorted(a, &fc, summary, &st, &written);
	records_import_built(&im);
	index_scan_free(im.scan);
	for (i = 0; i < RECORDS_IMPORT_SLOTS; i++)
		cbuf_free(&im.slot[i].buf);
	if (im.indexing && im.index_failed) {
		index_import_end(a, &fc, im.index_open, 0);
		im.index_open = 0;	/* and catch up below, if the commit is made */
	}
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
	const struct records_spill_row *row;
	struct records_spill_item it;
	struct cbuf buf = { 0 };
	uint8_t prev[TOKEN_LEN];
	const uint8_t *rest = NULL;
	const char *id = NULL;
	char msg[160];
	size_t i = 0, k, len = 0;
	int error;

	*n = records_spill_count(sp);
	if ((error = records_spill_rewind(sp)) < 0)
		return error;
	while (error == 0 && (error = records_spill_next(sp, &row)) == 0) {
		if (i++ == 0 || memcmp(row->tok, prev, TOKEN_LEN) != 0) {
			memcpy(prev, row->tok, TOKEN_LEN);
			continue;
		}
		(*n)--;
		if ((error = records_spill_read(sp, row, &buf, &it)) < 0 ||
		    (error = records_import_secret(&it, &id, &rest, &len)) < 0)
			break;
		/* the first keeps the id; the repeat is a problem, and not written */
		snprintf(msg, sizeof msg, "id %s appears more than once", id);
		error = recbatch_problem(b, row->line, "id", msg);
		for (k = 0; k < b->nids; k++)
			if (b->idlines[k] == row->line) {
				free(b->ids[k]);
				memmove(&b->ids[k], &b->ids[k + 1], (b->nids - k - 1) *
				    sizeof *b->ids);
				memmove(&b->idlines[k], &b->idlines[k + 1], (b->nids - k - 1) *
				    sizeof *b->idlines);
				b->nids--;
				break;
			}
	}
	cbuf_free(&buf);
	return error < 0 ? error : 0;
}

/* RecordCommit (on a worker): the batch becomes one commit, or nothing if anything is wrong. */
int
records_batch_commit(struct archive *a, struct recbatch *b, Custody__RecordDone *d,
    char oid[GIT_OID_HEXSZ + 1])
{
	char summary[96];
	size_t n = 0;
	int error;

	oid[0] = '\0';
	if (b == NULL)
		return custody_fail(CUSTODY_EPROTO, "record_commit outside a batch");
	if (b->received != b->expected)
		return custody_fail(CUSTODY_EPROTO, "record_commit after %zu of %u records",
		    b->received, b->expected);
	if (b->spill != NULL && ((error = records_spill_sort(b->spill)) < 0 ||
	    (error = records_repeats(b, &n)) < 0))
		return error;
	if (b->probs_total == 0 || b->skip_invalid) {
		if (b->expected >= RECORDS_STREAM_MIN)	/* its records carry it already */
			snprintf(summary, sizeof summary, "%s", b->summary);
		else
			snprintf(summary, sizeof summary, "%s %zu %s record%s", b->expected > 1 ?
			    "import" : "add", n, b->kind, n == 1 ? "" : "s");
		if (n > 0 && (error = records_import_write(a, b, n, summary, d, oid)) < 0)
			return error;
	}
	return 0;
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
