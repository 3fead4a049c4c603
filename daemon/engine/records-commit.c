/*
 * The commit of a record batch (records-import.c received and checked it): the rows kept
 * under tmp/ (records-spill.h) come back in token order, a repeated id is reported at its
 * later lines, and the records become one commit, leaving out those identical to their
 * current revision (by content hash): importing a file twice writes nothing. A small batch
 * (an add) is written as any commit; a stream (an import) gives feed-import.c its records
 * as they were sealed on arrival, with the "rev" fixed then, unless the clock moved since
 * (records_commit_sealed_for), and indexes them in one transaction with the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/lockmem.h"
#include "log.h"
#include "records-batch.h"

#define RECORDS_COMMIT_SLOTS (2 * FEED_STREAM_AHEAD)

/* A record given to feed_stream and not yet written: its spill row, read back. */
struct records_commit_slot {
	struct cbuf	 buf;		/* the row (records_spill_read) */
	const uint8_t	*irow;
	size_t		 irow_len;
	uint8_t		 tok[TOKEN_LEN], chash[TOKEN_LEN];
};

/* One import being written: the spill read in token order (records-spill.h). */
struct records_commit {
	struct archive		*a;
	struct recbatch		*b;
	size_t			 i, n;		/* rows read; rows to write at most */
	uint8_t			 prev[TOKEN_LEN];	/* the token of the row before */
	size_t			 unchanged;
	/* the records given and not yet packed (feed_stream: 2 * FEED_STREAM_AHEAD at most) */
	struct records_commit_slot slot[RECORDS_COMMIT_SLOTS];
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
records_commit_secret(const struct records_spill_item *it, const char **id,
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
records_commit_next(void *arg, const uint8_t **obj, size_t *len,
    char tok_hex[static TOKEN_HEX_LEN + 1])
{
	struct records_commit *im = arg;
	struct records_spill *sp = im->b->spill;
	struct records_commit_slot *sl;
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
		sl = &im->slot[im->given % RECORDS_COMMIT_SLOTS];
		if ((error = records_spill_read(sp, row, &sl->buf, &it)) < 0 ||
		    (error = records_commit_secret(&it, &id, &sl->irow, &sl->irow_len)) < 0)
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
records_commit_sealed_for(void *arg, uint64_t lamport)
{
	struct records_commit *im = arg;
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
records_commit_written(void *arg, const struct feed_commit *fc, const char *tok_hex)
{
	struct records_commit *im = arg;
	struct records_commit_slot *sl = &im->slot[im->taken++ % RECORDS_COMMIT_SLOTS];

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
records_commit_build(void *arg)
{
	struct records_commit *im = arg;

	if ((im->build_error = index_import_build(im->build_db)) < 0)
		snprintf(im->build_msg, sizeof im->build_msg, "%s", custody_error());
	return NULL;
}

/*
 * feed_stream done: every row is in the index's transaction, so its secondary indexes are
 * built on a second thread while this one completes the pack and makes the commit durable.
 * The connection is this thread's: it is left alone until records_commit_built.
 */
static void
records_commit_done(void *arg)
{
	struct records_commit *im = arg;

	if (!im->index_open || im->index_failed)
		return;
	if (im->scan != NULL)
		index_scan_pause(im->scan);	/* no statement of the connection left running */
	if ((im->build_db = archive_db(im->a)) == NULL)
		return;
	im->building = lockmem_thread_create(&im->build, records_commit_build, im) == 0;
}

/* Wait for records_commit_done's thread; the index's update failed if it did. */
static void
records_commit_built(struct records_commit *im)
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
records_commit_few(struct archive *a, struct recbatch *b, size_t n, const char *summary,
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
		    (error = records_commit_secret(&it, &id, &json, &len)) < 0)
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
records_commit_stream(struct archive *a, struct recbatch *b, size_t n, const char *summary,
    Custody__RecordDone *d, char oid[GIT_OID_HEXSZ + 1])
{
	struct records_commit im = { .a = a, .b = b, .n = n };
	struct feed_stream st = { .next = records_commit_next, .sealed_for =
	    records_commit_sealed_for, .written = records_commit_written, .arg = &im,
	    .done = records_commit_done };
	struct feed_commit fc = { 0 };
	size_t i, written = 0;
	int error;

	if (b->expected < RECORDS_STREAM_MIN)	/* protected fields still open: recbatch_keep */
		return records_commit_few(a, b, n, summary, d, oid);
	if ((error = records_spill_rewind(b->spill)) < 0)
		return error;
	if (index_scan_new(a, &im.scan) < 0)
		im.scan = NULL;		/* index_current_chash then */
	pthread_mutex_lock(&a->write_lock);
	error = feed_append_sorted(a, &fc, summary, &st, &written);
	records_commit_built(&im);
	index_scan_free(im.scan);
	for (i = 0; i < RECORDS_COMMIT_SLOTS; i++)
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
records_commit_repeats(struct recbatch *b, size_t *n)
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
		    (error = records_commit_secret(&it, &id, &rest, &len)) < 0)
			break;
		/* the first keeps the id; the repeat is a problem, and not written */
		snprintf(msg, sizeof msg, "id %s appears more than once", id);
		error = records_batch_problem(b, row->line, "id", msg);
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
	    (error = records_commit_repeats(b, &n)) < 0))
		return error;
	if (b->probs_total == 0 || b->skip_invalid) {
		if (b->expected >= RECORDS_STREAM_MIN)	/* its records carry it already */
			snprintf(summary, sizeof summary, "%s", b->summary);
		else
			snprintf(summary, sizeof summary, "%s %zu %s record%s", b->expected > 1 ?
			    "import" : "add", n, b->kind, n == 1 ? "" : "s");
		if (n > 0 && (error = records_commit_stream(a, b, n, summary, d, oid)) < 0)
			return error;
	}
	return 0;
}
