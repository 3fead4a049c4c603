/*
 * Ingest in the engine: each file of a batch hashed and encrypted into tmp/, and moved to blobs/
 * unless the archive already holds its bytes; then the batch committed as one signed commit:
 * an evidence record per new file, one custody event naming every file (several for a batch
 * too large for one record), the feed ref moved and synced, the index updated. A batch that is
 * not committed leaves nothing behind once its files are dropped (a crash may leave unreferenced
 * blobs, which nothing reads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "epochs.h"
#include "ingest.h"
#include "log.h"

#define INGEST_EVENT_BYTES (1u << 20)	/* names in one custody event: it fits in one frame */

char *
ingest_clean_text(const char *s, size_t max)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s), n;
	utf8proc_int32_t cp;
	struct cbuf b = { 0 };
	uint8_t enc[4];

	while (len > 0 && b.len < max) {
		if ((n = utf8proc_iterate(p, len, &cp)) < 0) {
			cp = 0xfffd;
			n = 1;
		}
		p += n;
		len -= n;
		if (cp < 0x20 || cp == 0x7f)
			continue;
		if (cbuf_put(&b, enc, (size_t)utf8proc_encode_char(cp, enc)) < 0) {
			free(b.data);
			return NULL;
		}
	}
	return cbuf_detach(&b);
}

/*
 * The client's name made a clean relative path (invalid UTF-8 replaced, control characters
 * dropped, empty, "." and ".." components and leading slashes removed), "unnamed" when nothing
 * is left.
 */
char *
ingest_clean_name(const char *name)
{
	char *s, *out, *comp, *save = NULL;
	size_t len = 0, n;

	if ((s = ingest_clean_text(name, INGEST_NAME_MAX)) == NULL ||
	    (out = malloc(strlen(s) + sizeof "unnamed")) == NULL) {
		free(s);
		return NULL;
	}
	for (comp = strtok_r(s, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			continue;
		if (len > 0)
			out[len++] = '/';
		n = strlen(comp);
		memcpy(out + len, comp, n);
		len += n;
	}
	if (len == 0)
		len = (size_t)sprintf(out, "unnamed");
	out[len] = '\0';
	free(s);
	return out;
}

int
ingest_file_place(struct archive *a, struct ingest_file *f, int fd)
{
	char hex[SHA256_HEX_LEN + 1];
	int error, found;

	if ((error = blob_ingest(a, &f->blob, fd)) < 0)
		return custody_fail(error, "%s: %s", f->name, custody_error());
	hex_encode(hex, f->blob.sha256, SHA256_LEN);
	if ((error = index_has_evidence(a, hex, &found)) < 0) {
		blob_discard(a, &f->blob);
		return error;
	}
	if (found) {
		f->duplicate = 1;
		blob_discard(a, &f->blob);
		return 0;
	}
	/*
	 * Into its place now, so that tmp/ never holds a whole batch (a directory of thousands
	 * of entries slows every create in it). Nothing refers to it until the commit; a batch
	 * that is not committed removes it again.
	 */
	if ((error = blob_commit(a, &f->blob)) < 0) {
		blob_discard(a, &f->blob);
		return custody_fail(error, "%s: %s", f->name, custody_error());
	}
	f->blob.tmp[0] = '\0';
	f->placed = 1;
	return 0;
}

void
ingest_file_drop(struct archive *a, struct ingest_file *f)
{
	if (f->placed)
		blob_unplace(a, &f->blob);
	blob_discard(a, &f->blob);
	f->placed = 0;
}

/*
 * The records of a batch, made one at a time from the batch under tmp/ when the commit and
 * the index ask for them (struct feed_docs), so that a batch of 100,000 scanned pages never
 * holds 100,000 records, nor its files, at once: first the evidence record of each new file,
 * then the custody events.
 */
struct ingest_docs {
	struct archive		 *a;
	struct ingest_batch	 *b;
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
 * (and one frame, FRAME_MAX); draw their ids.
 */
static int
ingest_docs_plan(struct ingest_docs *d)
{
	struct ingest_entry x;
	uint8_t wrapped[WRAPPED_KEY_LEN];
	char sha[SHA256_HEX_LEN + 1], ad[96];
	size_t i, n = ingest_batch_count(d->b), bytes = 0, cap = 0, *np;
	char **ne;
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
		}
		ingest_batch_entry_free(&x);
		if (error < 0)
			return error;
	}
	return 0;
}

static void
ingest_docs_free(struct ingest_docs *d)
{
	size_t i;

	for (i = 0; d->eid != NULL && i < d->nparts; i++)
		free(d->eid[i]);
	free(d->eid);
	free(d->part);
}

int
ingest_commit(struct archive *a, struct feed_commit *fc, struct ingest_batch *b,
    const char *actor, const char *now, const char *incident, const char *note,
    uint32_t **dups, size_t *ndups)
{
	struct ingest_docs d = { .a = a, .b = b, .actor = actor, .now = now,
	    .incident = incident, .note = note };
	struct feed_docs docs = { .make = ingest_make, .arg = &d };
	size_t nfiles = ingest_batch_count(b);
	char summary[96];
	int error = 0;

	if ((error = ingest_batch_dedupe(b, dups, ndups)) < 0 ||
	    (error = ingest_docs_plan(&d)) < 0)
		goto done;
	docs.n = ingest_batch_nfresh(b) + d.nparts;
	snprintf(summary, sizeof summary, "ingest %zu file%s (%zu new)", nfiles,
	    nfiles == 1 ? "" : "s", ingest_batch_nfresh(b));
	pthread_mutex_lock(&a->write_lock);
	error = feed_append_docs(a, fc, summary, &docs);
	log_debug("ingest: feed appended");
	if (error == 0 && index_apply_docs(a, fc, &docs) < 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	pthread_mutex_unlock(&a->write_lock);
	if (error == 0)
		ingest_batch_committed(b);	/* the feed refers to its blobs now */
done:
	ingest_docs_free(&d);
	return error;
}
