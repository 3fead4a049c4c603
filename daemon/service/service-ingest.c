/*
 * Ingest: a batch of files, each passed as a descriptor, hashed and encrypted into tmp/ on a
 * worker (several files at once) and moved to blobs/, then committed as one signed commit:
 * records written (an evidence record per new file, one custody event naming every file),
 * the file system synced, the feed ref moved and synced. Only then is the batch acknowledged.
 * A batch the client abandons, or that fails, leaves nothing behind (a crash may leave
 * unreferenced blobs, which nothing reads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "epochs.h"
#include "log.h"
#include "server.h"

#define INGEST_MAX_FILES 1000000
#define INGEST_PARALLEL 3	/* files of one batch worked on at once */
#define INGEST_NAME_MAX 4096	/* bytes of a recorded name (a relative path) */
#define INGEST_EVENT_BYTES (1u << 20)	/* names in one custody event: it fits in one frame */

struct ingest_item {
	struct blob_info	 blob;
	char			*name;
	uint32_t		 index;
	int			 duplicate;
	int			 duplicate_known;	/* as its IngestFileDone said */
	int			 placed;	/* in blobs/, not yet committed */
	int			 done;		/* worked on; reply waiting to be sent in order */
	struct cbuf		 reply;
};

struct ingest {
	char			*incident;
	char			*note;
	uint32_t		 expected;
	struct ingest_item	**items;	/* expected slots */
	size_t			 n;		/* received */
	size_t			 sent;		/* replies sent, in order */
	int			 inflight;	/* jobs holding this batch */
	int			 failed;
	Envelope		*commit;	/* IngestCommit waiting for the last file */
	int			 committing;	/* its job runs */
};

static void ingest_start_commit(struct client *, Envelope *);

static void
ingest_free(struct archive *a, struct ingest *in)
{
	struct ingest_item *it;
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->n; i++) {
		if ((it = in->items[i]) == NULL)
			continue;
		if (it->placed)
			blob_unplace(a, &it->blob);
		blob_discard(a, &it->blob);
		cbuf_free(&it->reply);
		free(it->name);
		free(it);
	}
	wire_free(in->commit);
	free(in->items);
	free(in->incident);
	free(in->note);
	free(in);
}

/* Drop an uncommitted batch (client gone, error, or shutdown) once no worker holds it. */
void
service_ingest_abort(struct client *c)
{
	if (c->ingest != NULL && c->ingest->inflight == 0) {
		ingest_free(c->s->a, c->ingest);
		c->ingest = NULL;
	}
}

/* A copy of s with invalid UTF-8 replaced, control characters dropped. */
static char *
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
 * The name a file is recorded under: the client's name made a clean relative path (invalid
 * UTF-8 replaced, control characters dropped, empty, "." and ".." components and leading
 * slashes removed), "unnamed" when nothing is left. NULL when out of memory.
 */
static char *
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

/* IngestBegin: open a batch. */
void
service_ingest_begin(struct client *c, Envelope *msg)
{
	Custody__IngestBegin *b = msg->ingest_begin;
	struct ingest *in;

	if (c->ingest != NULL) {
		conn_send_error(c->conn, CUSTODY_EPROTO, "an ingest batch is already open");
		goto done;
	}
	if (b->count == 0 || b->count > INGEST_MAX_FILES) {
		conn_send_error(c->conn, CUSTODY_EINVAL, "an ingest batch holds 1 to %d files",
		    INGEST_MAX_FILES);
		goto done;
	}
	if (b->incident[0] != '\0' && archive_check_id(b->incident) < 0) {
		conn_send_error(c->conn, CUSTODY_EINVAL, "incident: %s", custody_error());
		goto done;
	}
	if ((in = calloc(1, sizeof *in)) == NULL ||
	    (in->items = calloc(b->count, sizeof *in->items)) == NULL)
		fatal("out of memory");
	in->expected = b->count;
	in->incident = strdup(b->incident);
	in->note = ingest_clean_text(b->note, 65536);
	c->ingest = in;
done:
	wire_free(msg);
}

/* Hash, encrypt and place one file (on a worker). */
static int
ingest_file_work(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct ingest_item *it = r->arg;
	Custody__IngestFileDone d = CUSTODY__INGEST_FILE_DONE__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	char hex[SHA256_HEX_LEN + 1];
	int error, found;

	if ((error = blob_ingest(a, &it->blob, r->fd)) < 0)
		return custody_fail(error, "%s: %s", it->name, custody_error());
	hex_encode(hex, it->blob.sha256, SHA256_LEN);
	if ((error = index_has_evidence(a, hex, &found)) < 0) {
		blob_discard(a, &it->blob);
		return error;
	}
	if (found) {
		it->duplicate = it->duplicate_known = 1;
		blob_discard(a, &it->blob);
	} else {
		/*
		 * Into its place now, so that tmp/ never holds a whole batch (a directory of
		 * thousands of entries slows every create in it). Nothing refers to it until the
		 * commit; an abandoned batch removes it again.
		 */
		if ((error = blob_commit(a, &it->blob)) < 0) {
			blob_discard(a, &it->blob);
			return custody_fail(error, "%s: %s", it->name, custody_error());
		}
		it->blob.tmp[0] = '\0';
		it->placed = 1;
	}
	d.index = it->index;
	d.sha256 = hex;
	d.size = it->blob.size;
	d.duplicate = it->duplicate;
	d.media_type = it->blob.media_type;
	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_FILE_DONE;
	env.ingest_file_done = &d;
	return wire_encode(&it->reply, &env);
}

/* On the loop after a file job: send finished replies in order; start a waiting commit. */
static void
ingest_file_done(struct request *r)
{
	struct client *c = r->c;
	struct ingest *in = c->ingest;
	struct ingest_item *it = r->arg;

	in->inflight--;
	if (r->error < 0)
		in->failed = 1;
	if (in->failed || c->gone) {
		if (in->inflight == 0) {
			ingest_free(c->s->a, in);
			c->ingest = NULL;
		}
		return;
	}
	it->done = 1;
	while (in->sent < in->n && in->items[in->sent]->done) {
		conn_send_frames(c->conn, &in->items[in->sent]->reply);
		cbuf_free(&in->items[in->sent]->reply);
		in->sent++;
	}
	if (in->commit != NULL && in->inflight == 0) {
		Envelope *msg = in->commit;

		in->commit = NULL;
		ingest_start_commit(c, msg);
	}
}

/* IngestFile: work on one descriptor, up to INGEST_PARALLEL files at once. */
void
service_ingest_file(struct client *c, Envelope *msg)
{
	struct ingest *in = c->ingest;
	struct ingest_item *it;
	struct request *r;
	int fd;

	if ((fd = conn_take_fd(c->conn)) < 0) {
		conn_send_error(c->conn, CUSTODY_EPROTO, "ingest_file without a descriptor");
		wire_free(msg);
		return;
	}
	if (in == NULL || in->n >= in->expected || in->commit != NULL) {
		close(fd);
		conn_send_error(c->conn, CUSTODY_EPROTO, in == NULL ? "ingest_file outside a "
		    "batch" : "more files than the batch announced");
		wire_free(msg);
		return;
	}
	if ((it = calloc(1, sizeof *it)) == NULL)
		fatal("out of memory");
	it->index = (uint32_t)in->n;
	if ((it->name = ingest_clean_name(msg->ingest_file->name)) == NULL)
		fatal("out of memory");
	in->items[in->n++] = it;
	r = request_new(c, msg, ingest_file_work);
	r->fd = fd;
	r->arg = it;
	r->done = ingest_file_done;
	r->fatal = 1;
	in->inflight++;
	server_submit(r);
	if (in->inflight < INGEST_PARALLEL)
		conn_resume(c->conn);	/* take the next file while this one is worked on */
}

/* The evidence record of one file, unless it is a duplicate. */
static int
ingest_evidence(struct archive *a, struct client *c, struct ingest_item *it, const char *now,
    json_t **docs, size_t *n)
{
	struct ingest *in = c->ingest;
	uint8_t wrapped[WRAPPED_KEY_LEN];
	char sha[SHA256_HEX_LEN + 1], b64[sodium_base64_ENCODED_LEN(WRAPPED_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL)], ad[96];
	json_t *ev;

	hex_encode(sha, it->blob.sha256, SHA256_LEN);
	if (!it->duplicate) {
		snprintf(ad, sizeof ad, "custody blob key %s", sha);
		epochs_wrap(a, wrapped, it->blob.key, ad);
		sodium_bin2base64(b64, sizeof b64, wrapped, sizeof wrapped,
		    sodium_base64_VARIANT_ORIGINAL);
		ev = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		    "kind", "evidence", "id", sha, "sha256", sha, "size", (json_int_t)it->blob.size,
		    "media_type", it->blob.media_type, "name", it->name, "acquired_at", now,
		    "acquired_by", c->actor, "office", a->conf.office, "blob", it->blob.name,
		    "key", b64);
		if (ev == NULL)
			return CUSTODY_ENOMEM;
		if (in->incident[0] != '\0')
			json_object_set_new(ev, "incidents", json_pack("[s]", in->incident));
		if (in->note != NULL && in->note[0] != '\0')
			json_object_set_new(ev, "note", json_string(in->note));
		docs[(*n)++] = ev;
	}
	return 0;
}

/* Bytes one file adds to its batch's custody event, roughly. */
static size_t
ingest_event_cost(const struct ingest_item *it)
{
	return 96 + strlen(it->name);
}

/* An empty ingest custody event; part and parts are set only when the batch has several. */
static json_t *
ingest_event_new(struct client *c, const char *now, size_t part, size_t parts)
{
	struct ingest *in = c->ingest;
	char *eid;
	json_t *e;

	if ((eid = record_random_id()) == NULL)
		return NULL;
	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "kind", "event", "id", eid,
	    "action", "ingest", "actor", c->actor, "time", now, "files");
	free(eid);
	if (e == NULL)
		return NULL;
	if (in->incident[0] != '\0')
		json_object_set_new(e, "incident", json_string(in->incident));
	if (in->note != NULL && in->note[0] != '\0')
		json_object_set_new(e, "note", json_string(in->note));
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
ingest_events(struct client *c, const char *now, json_t **docs, size_t *n)
{
	struct ingest *in = c->ingest;
	struct ingest_item *it;
	char sha[SHA256_HEX_LEN + 1];
	size_t i, bytes = 0, part = 1, parts = 1;
	json_t *e = NULL, *f;

	for (i = 0; i < in->n; i++) {
		if (bytes > 0 && bytes + ingest_event_cost(in->items[i]) > INGEST_EVENT_BYTES) {
			parts++;
			bytes = 0;
		}
		bytes += ingest_event_cost(in->items[i]);
	}
	bytes = 0;
	for (i = 0; i < in->n; i++) {
		it = in->items[i];
		if (e != NULL && bytes + ingest_event_cost(it) > INGEST_EVENT_BYTES) {
			docs[(*n)++] = e;
			e = NULL;
			part++;
			bytes = 0;
		}
		if (e == NULL && (e = ingest_event_new(c, now, part, parts)) == NULL)
			return CUSTODY_ENOMEM;
		hex_encode(sha, it->blob.sha256, SHA256_LEN);
		if ((f = json_pack("{s:s,s:s}", "evidence", sha, "name", it->name)) == NULL) {
			json_decref(e);
			return CUSTODY_ENOMEM;
		}
		if (it->duplicate)
			json_object_set_new(f, "duplicate", json_true());
		json_array_append_new(json_object_get(e, "files"), f);
		bytes += ingest_event_cost(it);
	}
	if (e != NULL)
		docs[(*n)++] = e;
	return 0;
}

static int
ingest_cmp_sha(const void *x, const void *y)
{
	const struct ingest_item *a = *(struct ingest_item *const *)x;
	const struct ingest_item *b = *(struct ingest_item *const *)y;
	int c = memcmp(a->blob.sha256, b->blob.sha256, SHA256_LEN);

	return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

/* Within the batch, the same bytes twice: keep the first, the later ones are duplicates. */
static int
ingest_dedupe(struct archive *a, struct ingest *in)
{
	struct ingest_item **sorted, *it;
	size_t i;

	if ((sorted = malloc(in->n * sizeof *sorted)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(sorted, in->items, in->n * sizeof *sorted);
	qsort(sorted, in->n, sizeof *sorted, ingest_cmp_sha);
	for (i = 1; i < in->n; i++) {
		it = sorted[i];
		if (it->duplicate || memcmp(it->blob.sha256, sorted[i - 1]->blob.sha256,
		    SHA256_LEN) != 0)
			continue;
		blob_unplace(a, &it->blob);
		blob_discard(a, &it->blob);
		it->placed = 0;
		it->duplicate = 1;
	}
	free(sorted);
	return 0;
}

/* Append index i to the array *v of *n. */
static int
ingest_push_index(uint32_t **v, size_t *n, size_t i)
{
	uint32_t *nv;

	if ((nv = reallocarray(*v, *n + 1, sizeof *nv)) == NULL)
		return CUSTODY_ENOMEM;
	nv[(*n)++] = (uint32_t)i;
	*v = nv;
	return 0;
}

/* Commit the batch: one signed commit (the ref moved and synced), then the index. */
static int
ingest_commit_work(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct ingest *in = r->c->ingest;
	Custody__IngestDone d = CUSTODY__INGEST_DONE__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct feed_commit fc;
	json_t **docs;
	uint32_t *dups = NULL;
	size_t i, n = 0, nfiles = 0, ndups = 0;
	char summary[96], now[32], oid[GIT_OID_HEXSZ + 1];
	int error = 0;

	log_debug("ingest by uid %u: committing %zu files", (unsigned)r->c->uid, in->n);
	if (in->n > 1 && (error = ingest_dedupe(a, in)) < 0)
		return error;
	/* every file's evidence record, and at worst one event per file */
	if ((docs = calloc(2 * in->n, sizeof *docs)) == NULL)
		return CUSTODY_ENOMEM;
	record_now(now);
	for (i = 0; i < in->n && error == 0; i++) {
		error = ingest_evidence(a, r->c, in->items[i], now, docs, &n);
		nfiles += !in->items[i]->duplicate;
	}
	if (error == 0)
		error = ingest_events(r->c, now, docs, &n);
	if (error < 0)
		goto done;
	snprintf(summary, sizeof summary, "ingest %zu file%s (%zu new)", in->n,
	    in->n == 1 ? "" : "s", nfiles);
	pthread_mutex_lock(&a->write_lock);
	error = feed_append(a, &fc, summary, docs, n);
	log_debug("ingest: feed appended");
	if (error == 0 && index_apply_commit(a, &fc, docs, n) < 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	pthread_mutex_unlock(&a->write_lock);
	if (error < 0)
		goto done;
	for (i = 0; i < in->n; i++)
		in->items[i]->placed = 0;	/* committed: the feed refers to them now */
	git_oid_tostr(oid, sizeof oid, &fc.oid);
	log_info("ingest by uid %u: %zu file%s, commit %s (seq %llu)", (unsigned)r->c->uid, in->n,
	    in->n == 1 ? "" : "s", oid, (unsigned long long)fc.seq);
	d.commit = oid;
	d.seq = fc.seq;
	for (i = 0; i < in->n; i++)	/* the duplicates the file replies could not know */
		if (in->items[i]->duplicate && !in->items[i]->duplicate_known &&
		    (error = ingest_push_index(&dups, &ndups, i)) < 0)
			goto done;
	d.n_batch_duplicates = ndups;
	d.batch_duplicates = dups;
	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_DONE;
	env.ingest_done = &d;
	error = server_reply(r, &env);
done:
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	free(dups);
	return error;
}

/* After the commit job: the batch is over, committed or not. */
static void
ingest_commit_done(struct request *r)
{
	struct client *c = r->c;

	c->ingest->inflight--;
	ingest_free(c->s->a, c->ingest);
	c->ingest = NULL;
}

static void
ingest_start_commit(struct client *c, Envelope *msg)
{
	struct request *r;

	r = request_new(c, msg, ingest_commit_work);
	r->done = ingest_commit_done;
	r->fatal = 1;
	c->ingest->inflight++;
	c->ingest->committing = 1;
	server_submit(r);
}

/*
 * Whether the client's next message must wait: its IngestCommit waits for the last file or
 * runs. Answers go out in the order of the requests, so nothing after a commit is read before
 * the commit is answered, even while the batch's last files finish.
 */
int
service_ingest_holds(const struct client *c)
{
	return c->ingest != NULL && (c->ingest->commit != NULL || c->ingest->committing);
}

/* IngestCommit: commit every file received, once the last one is worked on. */
void
service_ingest_commit(struct client *c, Envelope *msg)
{
	struct ingest *in = c->ingest;

	if (in == NULL || in->n != in->expected || in->commit != NULL) {
		conn_send_error(c->conn, CUSTODY_EPROTO, in == NULL ? "ingest_commit outside a "
		    "batch" : "ingest_commit before every file was sent");
		wire_free(msg);
		return;
	}
	if (in->inflight > 0) {
		in->commit = msg;	/* started by the last file's completion */
		conn_pause(c->conn);
		return;
	}
	ingest_start_commit(c, msg);
}
