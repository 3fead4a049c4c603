/*
 * The commit of an ingest batch: one signed commit holding an evidence record per new file
 * and custody events naming every file in order (several for a batch too large for one
 * record), the feed ref moved and synced, the index updated. Records are made one at a time
 * from the batch under tmp/ (ingest-batch.c). A batch of INGEST_STREAM_MIN new files or more
 * is written as a stream (feed_append_sorted): its records sealed in the order of their
 * tokens (sorted under tmp/ as well), packed and indexed as they come, so that the commit
 * of a million scanned pages holds a bounded part of them; a smaller one is written as any
 * commit (feed_append_docs). The blobs placed since the batch's last writeback (archive-flush.c)
 * go to the disk while the commit is built; a writeback that failed fails the commit before
 * its commit point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custody/runsort.h"
#include "epochs.h"
#include "ingest.h"
#include "log.h"

#define INGEST_EVENT_BYTES (1u << 20)	/* names in one custody event: it fits in one frame */
#define INGEST_STREAM_MIN 64		/* new files from which the commit is a stream */
#define INGEST_SORT_RUN 65536		/* tokens sorted in memory before they go to a run */
#define INGEST_SLOTS (2 * FEED_STREAM_AHEAD)
#define INGEST_SLOT_KEEP (64 << 10)	/* bytes a slot keeps for the next record */

/*
 * The records of a batch, made one at a time from the batch under tmp/ when the commit and
 * the index ask for them (struct feed_docs), so that a batch of 100,000 scanned pages never
 * holds 100,000 records, nor its files, at once: first the evidence record of each new file,
 * then the custody events.
 */
/* A record of the stream, in the order of its token: new file i, or custody event i. */
struct ingest_sorted {
	uint8_t		tok[TOKEN_LEN];
	uint32_t	i;
	uint32_t	event;
};

static int
ingest_sorted_cmp(const void *x, const void *y)
{
	return memcmp(x, y, TOKEN_LEN);
}

struct ingest_docs {
	struct archive		 *a;
	struct ingest_batch	 *b;
	struct runsort		 *order;	/* a stream's records by token (ingest_sorted) */
	size_t			 *part;		/* the first file of each event */
	char			**eid;		/* and its id */
	size_t			  nparts;
	const char		 *actor, *now, *incident, *note;
};

/* The evidence record of new file i; its key was wrapped before (the same record each time). */
static json_t *
ingest_evidence(const struct ingest_docs *d, uint32_t i)
{
	struct ingest_entry x;
	uint8_t wrapped[WRAPPED_KEY_LEN];
	char sha[SHA256_HEX_LEN + 1], b64[sodium_base64_ENCODED_LEN(WRAPPED_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];
	json_t *ev = NULL;

	if (ingest_batch_get(d->b, i, &x) < 0)
		return NULL;
	if (ingest_batch_wrapped(d->b, i, wrapped) < 0)
		goto done;
	hex_encode(sha, x.sha256, SHA256_LEN);
	sodium_bin2base64(b64, sizeof b64, wrapped, sizeof wrapped,
	    sodium_base64_VARIANT_ORIGINAL);
	ev = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "kind", "evidence", "id", sha, "sha256", sha, "size", (json_int_t)x.size,
	    "media_type", x.media_type, "name", x.name, "acquired_at", d->now,
	    "acquired_by", d->actor, "office", d->a->conf.office, "blob", x.blob, "key", b64);
	if (ev == NULL)
		goto done;
	if ((d->incident[0] != '\0' && json_object_set_new(ev, "incidents",
	    json_pack("[s]", d->incident)) < 0) || (d->note != NULL && d->note[0] != '\0' &&
	    json_object_set_new(ev, "note", json_string(d->note)) < 0)) {
		json_decref(ev);
		ev = NULL;
	}
done:
	ingest_batch_entry_free(&x);
	return ev;
}

/* Bytes a file of this name adds to its batch's custody event, roughly. */
static size_t
ingest_event_cost(const char *name)
{
	return 96 + strlen(name);
}

/*
 * Custody event k of the batch, naming its files in order ({evidence, name, duplicate when
 * it is one}); part and parts are set only when the batch has several.
 */
static json_t *
ingest_event(const struct ingest_docs *d, size_t k)
{
	struct ingest_entry x;
	char sha[SHA256_HEX_LEN + 1];
	size_t i, end = k + 1 < d->nparts ? d->part[k + 1] : ingest_batch_count(d->b);
	json_t *e, *files, *o;

	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "kind", "event", "id", d->eid[k],
	    "action", "ingest", "actor", d->actor, "time", d->now, "files");
	if (e == NULL)
		return NULL;
	if (d->incident[0] != '\0')
		json_object_set_new(e, "incident", json_string(d->incident));
	if (d->note != NULL && d->note[0] != '\0')
		json_object_set_new(e, "note", json_string(d->note));
	if (d->nparts > 1) {
		json_object_set_new(e, "part", json_integer((json_int_t)k + 1));
		json_object_set_new(e, "parts", json_integer((json_int_t)d->nparts));
	}
	files = json_object_get(e, "files");
	for (i = d->part[k]; i < end; i++) {
		if (ingest_batch_get(d->b, (uint32_t)i, &x) < 0) {
			json_decref(e);
			return NULL;
		}
		hex_encode(sha, x.sha256, SHA256_LEN);
		o = json_pack("{s:s,s:s}", "evidence", sha, "name", x.name);
		if (o == NULL || (x.duplicate && json_object_set_new(o, "duplicate",
		    json_true()) < 0) || json_array_append_new(files, o) < 0) {
			ingest_batch_entry_free(&x);
			json_decref(e);
			return NULL;
		}
		ingest_batch_entry_free(&x);
	}
	return e;
}

/* Record i of the batch (struct feed_docs). */
static json_t *
ingest_make(void *arg, size_t i)
{
	const struct ingest_docs *d = arg;
	size_t nfresh = ingest_batch_nfresh(d->b);

	if (i < nfresh)
		return ingest_evidence(d, ingest_batch_fresh(d->b, i));
	return ingest_event(d, i - nfresh);
}

/*
 * In one pass over the batch: wrap the key of each new file, and cut the names into custody
 * events, each naming INGEST_EVENT_BYTES of names at most, so that it fits in one record
 * (and one frame, FRAME_MAX); draw their ids. For a stream, every record goes into d->order
 * by its token, which is then sorted.
 */
static int
ingest_docs_plan(struct ingest_docs *d)
{
	struct ingest_entry x;
	uint8_t wrapped[WRAPPED_KEY_LEN];
	char sha[SHA256_HEX_LEN + 1], ad[96];
	size_t i, n = ingest_batch_count(d->b), bytes = 0, cap = 0, *np;
	char **ne;
	struct ingest_sorted it;
	int error;

	for (i = 0; i < n; i++) {
		if ((error = ingest_batch_get(d->b, (uint32_t)i, &x)) < 0)
			return error;
		if (i == 0 || bytes + ingest_event_cost(x.name) > INGEST_EVENT_BYTES) {
			if (d->nparts == cap) {
				cap = cap ? cap * 2 : 4;
				if ((np = reallocarray(d->part, cap, sizeof *np)) != NULL)
					d->part = np;
				if ((ne = reallocarray(d->eid, cap, sizeof *ne)) != NULL)
					d->eid = ne;
				if (np == NULL || ne == NULL) {
					ingest_batch_entry_free(&x);
					return CUSTODY_ENOMEM;
				}
			}
			d->part[d->nparts] = i;
			if ((d->eid[d->nparts] = record_random_id()) == NULL) {
				ingest_batch_entry_free(&x);
				return CUSTODY_ENOMEM;
			}
			d->nparts++;
			bytes = 0;
		}
		bytes += ingest_event_cost(x.name);
		error = 0;
		if (!x.duplicate) {
			hex_encode(sha, x.sha256, SHA256_LEN);
			snprintf(ad, sizeof ad, "custody blob key %s", sha);
			epochs_wrap(d->a, wrapped, x.key, ad);
			error = ingest_batch_wrap(d->b, (uint32_t)i, wrapped);
			if (error == 0 && d->order != NULL) {
				memset(&it, 0, sizeof it);
				archive_token(d->a, it.tok, sha);
				it.i = (uint32_t)i;
				error = runsort_add(d->order, &it);
			}
		}
		ingest_batch_entry_free(&x);
		if (error < 0)
			return error;
	}
	for (i = 0; d->order != NULL && i < d->nparts; i++) {
		memset(&it, 0, sizeof it);
		archive_token(d->a, it.tok, d->eid[i]);
		it.i = (uint32_t)i;
		it.event = 1;
		if ((error = runsort_add(d->order, &it)) < 0)
			return error;
	}
	if (d->order != NULL && (error = runsort_sort(d->order)) == 0)
		error = runsort_rewind(d->order);
	return d->order != NULL ? error : 0;
}

static void
ingest_docs_free(struct ingest_docs *d)
{
	size_t i;

	for (i = 0; d->eid != NULL && i < d->nparts; i++)
		free(d->eid[i]);
	free(d->eid);
	free(d->part);
	runsort_free(d->order);
}

/* A record given to feed_append_sorted: its sealed object, and its record for the index. */
struct ingest_slot {
	struct cbuf	 obj;
	json_t		*doc;
};

/* A batch's commit written as a stream (struct feed_stream). */
struct ingest_stream {
	struct ingest_docs	*d;
	const char		*summary;
	uint64_t		 lamport;
	/* the records given and not yet indexed (feed_stream: 2 * FEED_STREAM_AHEAD at most) */
	struct ingest_slot	 slot[INGEST_SLOTS];
	size_t			 given, taken;
	struct index_commit	 ic;
	int			 indexing;
};

/* feed_stream sealed_for: the records are sealed as they are given, for this commit's clock. */
static int
ingest_stream_sealed_for(void *arg, uint64_t lamport)
{
	struct ingest_stream *s = arg;

	s->lamport = lamport;
	return 1;
}

/* feed_stream next: the next record by token, made and sealed with the commit's "rev". */
static int
ingest_stream_next(void *arg, const uint8_t **obj, size_t *len,
    char tok_hex[static TOKEN_HEX_LEN + 1])
{
	struct ingest_stream *s = arg;
	struct ingest_docs *d = s->d;
	struct ingest_sorted it;
	struct ingest_slot *sl;
	const void *p;
	json_t *doc, *rev;
	int error, more;

	if ((more = runsort_next(d->order, &p)) != 0)
		return more;
	memcpy(&it, p, sizeof it);
	doc = it.event ? ingest_event(d, it.i) : ingest_evidence(d, it.i);
	if (doc == NULL)
		return custody_error()[0] ? CUSTODY_EIO : CUSTODY_ENOMEM;
	if ((rev = json_pack("{s:I,s:s,s:s,s:s}", "lamport", (json_int_t)s->lamport, "office",
	    d->a->office_hex, "time", d->now, "summary", s->summary)) == NULL ||
	    json_object_set_new(doc, "rev", rev) < 0) {
		json_decref(doc);
		return CUSTODY_ENOMEM;
	}
	hex_encode(tok_hex, it.tok, TOKEN_LEN);
	s->given++;
	sl = &s->slot[s->given % INGEST_SLOTS];
	json_decref(sl->doc);
	sl->doc = doc;
	if (sl->obj.cap > INGEST_SLOT_KEEP)
		cbuf_free(&sl->obj);	/* a custody event's */
	sl->obj.len = 0;
	if ((error = record_seal(&sl->obj, d->a, tok_hex, doc)) < 0)
		return error;
	json_object_del(doc, "rev");	/* indexed as feed_append_docs's records are */
	*obj = sl->obj.data;
	*len = sl->obj.len;
	return 0;
}

/* feed_stream written: index the record in the transaction of the commit. */
static int
ingest_stream_written(void *arg, const struct feed_commit *fc, const char *tok_hex)
{
	struct ingest_stream *s = arg;

	(void)tok_hex;
	if (!s->indexing) {
		s->indexing = 1;
		index_commit_begin(&s->ic, s->d->a, fc);
	}
	index_commit_put(&s->ic, s->slot[++s->taken % INGEST_SLOTS].doc);
	return 0;
}

/* feed_stream ready: the blobs' writeback begun ahead went well (ingest_batch_flushed). */
static int
ingest_stream_ready(void *arg)
{
	struct ingest_stream *s = arg;

	return ingest_batch_flushed(s->d->b);
}

/* The batch's records as one commit, written as a stream. */
static int
ingest_commit_stream(struct ingest_docs *d, struct feed_commit *fc, const char *summary)
{
	struct ingest_stream s = { .d = d, .summary = summary };
	struct feed_stream st = { .next = ingest_stream_next, .sealed_for =
	    ingest_stream_sealed_for, .written = ingest_stream_written, .arg = &s,
	    .ready = ingest_stream_ready, .since = ingest_batch_since(d->b) };
	size_t i, written = 0;
	int error;

	pthread_mutex_lock(&d->a->write_lock);
	error = feed_append_sorted(d->a, fc, summary, &st, &written);
	if (s.indexing && index_commit_end(&s.ic, error == 0 && written > 0) < 0 && error == 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	pthread_mutex_unlock(&d->a->write_lock);
	if (error == 0 && written == 0)
		error = custody_fail(CUSTODY_EIO, "ingest: no record was written");
	for (i = 0; i < INGEST_SLOTS; i++) {
		cbuf_free(&s.slot[i].obj);
		json_decref(s.slot[i].doc);
	}
	return error;
}

int
ingest_commit(struct archive *a, struct feed_commit *fc, struct ingest_batch *b,
    const char *actor, const char *now, const char *incident, const char *note,
    uint32_t **dups, size_t *ndups)
{
	struct ingest_docs d = { .a = a, .b = b, .actor = actor, .now = now,
	    .incident = incident, .note = note };
	struct feed_docs docs = { .make = ingest_make, .arg = &d,
	    .since = ingest_batch_since(b) };
	size_t nfiles = ingest_batch_count(b);
	char summary[96];
	int fd, error = 0;

	/* what was placed since the last writeback goes to the disk while the commit is built */
	ingest_batch_flush_kick(b);
	if ((error = ingest_batch_dedupe(b, dups, ndups)) < 0)
		goto done;
	if (ingest_batch_nfresh(b) >= INGEST_STREAM_MIN) {
		if ((fd = archive_tmpfile(a, "ingest")) < 0) {
			error = custody_fail(CUSTODY_EIO, "ingest: cannot sort the batch under "
			    "tmp/");
			goto done;
		}
		if ((error = runsort_new(&d.order, sizeof(struct ingest_sorted),
		    INGEST_SORT_RUN, ingest_sorted_cmp, fd)) < 0) {
			close(fd);
			goto done;
		}
	}
	if ((error = ingest_docs_plan(&d)) < 0)
		goto done;
	docs.n = ingest_batch_nfresh(b) + d.nparts;
	snprintf(summary, sizeof summary, "ingest %zu file%s (%zu new)", nfiles,
	    nfiles == 1 ? "" : "s", ingest_batch_nfresh(b));
	if (d.order != NULL) {
		error = ingest_commit_stream(&d, fc, summary);
	} else if ((error = ingest_batch_flushed(b)) == 0) {
		pthread_mutex_lock(&a->write_lock);
		error = feed_append_docs(a, fc, summary, &docs);
		if (error == 0 && index_apply_docs(a, fc, &docs) < 0)
			log_warn("index update failed (%s); it catches up at the next start",
			    custody_error());
		pthread_mutex_unlock(&a->write_lock);
	}
	if (error == 0)
		ingest_batch_committed(b);	/* the feed refers to its blobs now */
done:
	ingest_docs_free(&d);
	return error;
}
