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

/* The evidence record of one file, unless it is a duplicate. */
static int
ingest_evidence(struct archive *a, const struct ingest_file *f, const char *actor,
    const char *now, const char *incident, const char *note, json_t **docs, size_t *n)
{
	uint8_t wrapped[WRAPPED_KEY_LEN];
	char sha[SHA256_HEX_LEN + 1], b64[sodium_base64_ENCODED_LEN(WRAPPED_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL)], ad[96];
	json_t *ev;

	hex_encode(sha, f->blob.sha256, SHA256_LEN);
	if (!f->duplicate) {
		snprintf(ad, sizeof ad, "custody blob key %s", sha);
		epochs_wrap(a, wrapped, f->blob.key, ad);
		sodium_bin2base64(b64, sizeof b64, wrapped, sizeof wrapped,
		    sodium_base64_VARIANT_ORIGINAL);
		ev = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		    "kind", "evidence", "id", sha, "sha256", sha, "size", (json_int_t)f->blob.size,
		    "media_type", f->blob.media_type, "name", f->name, "acquired_at", now,
		    "acquired_by", actor, "office", a->conf.office, "blob", f->blob.name,
		    "key", b64);
		if (ev == NULL)
			return CUSTODY_ENOMEM;
		if (incident[0] != '\0')
			json_object_set_new(ev, "incidents", json_pack("[s]", incident));
		if (note != NULL && note[0] != '\0')
			json_object_set_new(ev, "note", json_string(note));
		docs[(*n)++] = ev;
	}
	return 0;
}

/* Bytes one file adds to its batch's custody event, roughly. */
static size_t
ingest_event_cost(const struct ingest_file *f)
{
	return 96 + strlen(f->name);
}

/* An empty ingest custody event; part and parts are set only when the batch has several. */
static json_t *
ingest_event_new(const char *actor, const char *now, const char *incident, const char *note,
    size_t part, size_t parts)
{
	char *eid;
	json_t *e;

	if ((eid = record_random_id()) == NULL)
		return NULL;
	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "kind", "event", "id", eid,
	    "action", "ingest", "actor", actor, "time", now, "files");
	free(eid);
	if (e == NULL)
		return NULL;
	if (incident[0] != '\0')
		json_object_set_new(e, "incident", json_string(incident));
	if (note != NULL && note[0] != '\0')
		json_object_set_new(e, "note", json_string(note));
	if (parts > 1) {
		json_object_set_new(e, "part", json_integer((json_int_t)part));
		json_object_set_new(e, "parts", json_integer((json_int_t)parts));
	}
	return e;
}

/*
 * The batch's custody event, naming its files in order ({evidence, name, duplicate when it
 * is one}). A batch too large for one record (and one frame, FRAME_MAX) gets one event per
 * INGEST_EVENT_BYTES of names, numbered part 1..parts.
 */
static int
ingest_events(struct ingest_file **files, size_t nfiles, const char *actor, const char *now,
    const char *incident, const char *note, json_t **docs, size_t *n)
{
	struct ingest_file *f;
	char sha[SHA256_HEX_LEN + 1];
	size_t i, bytes = 0, part = 1, parts = 1;
	json_t *e = NULL, *o;

	for (i = 0; i < nfiles; i++) {
		if (bytes > 0 && bytes + ingest_event_cost(files[i]) > INGEST_EVENT_BYTES) {
			parts++;
			bytes = 0;
		}
		bytes += ingest_event_cost(files[i]);
	}
	bytes = 0;
	for (i = 0; i < nfiles; i++) {
		f = files[i];
		if (e != NULL && bytes + ingest_event_cost(f) > INGEST_EVENT_BYTES) {
			docs[(*n)++] = e;
			e = NULL;
			part++;
			bytes = 0;
		}
		if (e == NULL && (e = ingest_event_new(actor, now, incident, note, part,
		    parts)) == NULL)
			return CUSTODY_ENOMEM;
		hex_encode(sha, f->blob.sha256, SHA256_LEN);
		if ((o = json_pack("{s:s,s:s}", "evidence", sha, "name", f->name)) == NULL) {
			json_decref(e);
			return CUSTODY_ENOMEM;
		}
		if (f->duplicate)
			json_object_set_new(o, "duplicate", json_true());
		json_array_append_new(json_object_get(e, "files"), o);
		bytes += ingest_event_cost(f);
	}
	if (e != NULL)
		docs[(*n)++] = e;
	return 0;
}

static int
ingest_cmp_sha(const void *x, const void *y)
{
	const struct ingest_file *a = *(struct ingest_file *const *)x;
	const struct ingest_file *b = *(struct ingest_file *const *)y;
	int c = memcmp(a->blob.sha256, b->blob.sha256, SHA256_LEN);

	return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

/* Within the batch, the same bytes twice: keep the first, the later ones are duplicates. */
static int
ingest_dedupe(struct archive *a, struct ingest_file **files, size_t n)
{
	struct ingest_file **sorted, *f;
	size_t i;

	if ((sorted = malloc(n * sizeof *sorted)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(sorted, files, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, ingest_cmp_sha);
	for (i = 1; i < n; i++) {
		f = sorted[i];
		if (f->duplicate || memcmp(f->blob.sha256, sorted[i - 1]->blob.sha256,
		    SHA256_LEN) != 0)
			continue;
		blob_unplace(a, &f->blob);
		blob_discard(a, &f->blob);
		f->placed = 0;
		f->duplicate = 1;
	}
	free(sorted);
	return 0;
}

int
ingest_commit(struct archive *a, struct feed_commit *fc, struct ingest_file **files,
    size_t nfiles, const char *actor, const char *now, const char *incident, const char *note)
{
	json_t **docs;
	size_t i, n = 0, nnew = 0;
	char summary[96];
	int error = 0;

	if (nfiles > 1 && (error = ingest_dedupe(a, files, nfiles)) < 0)
		return error;
	/* every file's evidence record, and at worst one event per file */
	if ((docs = calloc(2 * nfiles, sizeof *docs)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < nfiles && error == 0; i++) {
		error = ingest_evidence(a, files[i], actor, now, incident, note, docs, &n);
		nnew += !files[i]->duplicate;
	}
	if (error == 0)
		error = ingest_events(files, nfiles, actor, now, incident, note, docs, &n);
	if (error < 0)
		goto done;
	snprintf(summary, sizeof summary, "ingest %zu file%s (%zu new)", nfiles,
	    nfiles == 1 ? "" : "s", nnew);
	pthread_mutex_lock(&a->write_lock);
	error = feed_append(a, fc, summary, docs, n);
	log_debug("ingest: feed appended");
	if (error == 0 && index_apply_commit(a, fc, docs, n) < 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	pthread_mutex_unlock(&a->write_lock);
	if (error < 0)
		goto done;
	for (i = 0; i < nfiles; i++)
		files[i]->placed = 0;	/* committed: the feed refers to them now */
done:
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	return error;
}
