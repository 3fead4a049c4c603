/*
 * Ingest: a batch of files, each passed as a descriptor, hashed and encrypted into tmp/ on a
 * worker, then committed as one signed commit: blobs moved and fsynced, records written, the
 * feed ref moved. Only then is the batch acknowledged. A batch the client abandons, or that
 * fails, leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "log.h"
#include "server.h"

#define INGEST_MAX_FILES 1000000

struct ingest_item {
	struct blob_info	 blob;
	char			*name;
	int			 duplicate;
};

struct ingest {
	char			*incident;
	char			*note;
	uint32_t		 expected;
	struct ingest_item	*items;
	size_t			 n;
	int			 busy;	/* a worker holds this batch */
};

static void
ingest_free(struct archive *a, struct ingest *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->n; i++) {
		blob_discard(a, &in->items[i].blob);
		free(in->items[i].name);
	}
	free(in->items);
	free(in->incident);
	free(in->note);
	free(in);
}

/* Drop an uncommitted batch (client gone, error, or shutdown). */
void
ingest_abort(struct client *c)
{
	if (c->ingest != NULL && !c->ingest->busy) {
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

/* IngestBegin: open a batch. */
void
ingest_begin(struct client *c, Envelope *msg)
{
	Custody__IngestBegin *b = msg->ingest_begin;
	struct ingest *in;

	if (c->ingest != NULL) {
		peer_send_error(c->peer, CUSTODY_EPROTO, "an ingest batch is already open");
		goto done;
	}
	if (b->count == 0 || b->count > INGEST_MAX_FILES) {
		peer_send_error(c->peer, CUSTODY_EINVAL, "an ingest batch holds 1 to %d files",
		    INGEST_MAX_FILES);
		goto done;
	}
	if (b->incident[0] != '\0' && archive_check_id(b->incident) < 0) {
		peer_send_error(c->peer, CUSTODY_EINVAL, "incident: %s", custody_error());
		goto done;
	}
	if ((in = calloc(1, sizeof *in)) == NULL)
		fatal("out of memory");
	in->expected = b->count;
	in->incident = strdup(b->incident);
	in->note = ingest_clean_text(b->note, 65536);
	c->ingest = in;
done:
	wire_free(msg);
}

static int
ingest_file_work(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct ingest *in = r->c->ingest;
	struct ingest_item *it = &in->items[in->n];
	char hex[SHA256_HEX_LEN + 1];
	size_t i;
	int error, found;

	if ((error = blob_ingest(a, &it->blob, r->fd)) < 0)
		return custody_fail(error, "%s: %s", it->name, custody_error());
	hex_encode(hex, it->blob.sha256, SHA256_LEN);
	if ((error = index_has_evidence(a, hex, &found)) < 0) {
		blob_discard(a, &it->blob);
		return error;
	}
	for (i = 0; i < in->n && !found; i++)
		found = memcmp(in->items[i].blob.sha256, it->blob.sha256, SHA256_LEN) == 0;
	if (found) {
		it->duplicate = 1;
		blob_discard(a, &it->blob);
	}
	in->n++;
	{
		Custody__IngestFileDone d = CUSTODY__INGEST_FILE_DONE__INIT;
		Envelope env = CUSTODY__ENVELOPE__INIT;

		d.index = r->msg->ingest_file->index;
		d.sha256 = hex;
		d.size = it->blob.size;
		d.duplicate = it->duplicate;
		d.media_type = it->blob.media_type;
		env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_FILE_DONE;
		env.ingest_file_done = &d;
		return server_reply(r, &env);
	}
}

static void
ingest_request_done(struct request *r)
{
	struct client *c = r->c;

	if (c->ingest == NULL)
		return;
	c->ingest->busy = 0;
	if (r->error < 0 || c->gone || r->work != ingest_file_work) {
		/* failed, abandoned, or committed: the batch is over either way */
		ingest_free(c->s->a, c->ingest);
		c->ingest = NULL;
	}
}

/* IngestFile: hash and encrypt one descriptor on a worker. */
void
ingest_file(struct client *c, Envelope *msg)
{
	struct ingest *in = c->ingest;
	struct ingest_item *grown;
	struct request *r;
	const char *base;
	int fd;

	if ((fd = peer_take_fd(c->peer)) < 0) {
		peer_send_error(c->peer, CUSTODY_EPROTO, "ingest_file without a descriptor");
		wire_free(msg);
		return;
	}
	if (in == NULL || in->n >= in->expected) {
		close(fd);
		peer_send_error(c->peer, CUSTODY_EPROTO, in == NULL ? "ingest_file outside a "
		    "batch" : "more files than the batch announced");
		wire_free(msg);
		return;
	}
	if ((grown = reallocarray(in->items, in->n + 1, sizeof *grown)) == NULL)
		fatal("out of memory");
	in->items = grown;
	memset(&in->items[in->n], 0, sizeof *grown);
	base = strrchr(msg->ingest_file->name, '/');
	base = base != NULL ? base + 1 : msg->ingest_file->name;
	if ((in->items[in->n].name = ingest_clean_text(base, 1024)) == NULL)
		fatal("out of memory");
	if (in->items[in->n].name[0] == '\0') {
		free(in->items[in->n].name);
		in->items[in->n].name = strdup("unnamed");
	}
	r = request_new(c, msg, ingest_file_work);
	r->fd = fd;
	r->done = ingest_request_done;
	r->fatal = 1;
	in->busy = 1;
	server_submit(r);
}

/* The records of one file: its evidence record (unless a duplicate) and a custody event. */
static int
ingest_records(struct archive *a, struct client *c, struct ingest_item *it, const char *now,
    json_t **docs, size_t *n)
{
	struct ingest *in = c->ingest;
	uint8_t wrapped[WRAPPED_KEY_LEN];
	char sha[SHA256_HEX_LEN + 1], b64[sodium_base64_ENCODED_LEN(WRAPPED_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL)], ad[96], *eid;
	json_t *ev, *e;

	hex_encode(sha, it->blob.sha256, SHA256_LEN);
	if (!it->duplicate) {
		snprintf(ad, sizeof ad, "custody blob key %s", sha);
		keys_wrap(wrapped, a->data_key, it->blob.key, ad);
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
	if ((eid = record_random_id()) == NULL)
		return CUSTODY_ENOMEM;
	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "kind", "event", "id", eid,
	    "action", "ingest", "evidence", sha, "name", it->name, "actor", c->actor,
	    "time", now, "duplicate", it->duplicate);
	free(eid);
	if (e == NULL)
		return CUSTODY_ENOMEM;
	if (in->incident[0] != '\0')
		json_object_set_new(e, "incident", json_string(in->incident));
	if (in->note != NULL && in->note[0] != '\0')
		json_object_set_new(e, "note", json_string(in->note));
	docs[(*n)++] = e;
	return 0;
}

/* Commit the batch: blobs into place, one signed commit, the ref moved, then the index. */
static int
ingest_commit_work(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct ingest *in = r->c->ingest;
	Custody__IngestDone d = CUSTODY__INGEST_DONE__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct feed_commit fc;
	json_t **docs;
	size_t i, n = 0, nfiles = 0;
	char summary[96], now[32], oid[GIT_OID_HEXSZ + 1];
	int error = 0;

	if ((docs = calloc(2 * in->n, sizeof *docs)) == NULL)
		return CUSTODY_ENOMEM;
	record_now(now);
	for (i = 0; i < in->n && error == 0; i++)
		error = ingest_records(a, r->c, &in->items[i], now, docs, &n);
	if (error < 0)
		goto done;

	pthread_mutex_lock(&a->write_lock);
	for (i = 0; i < in->n; i++) {
		if (in->items[i].duplicate)
			continue;
		if ((error = blob_commit(a, &in->items[i].blob)) < 0) {
			pthread_mutex_unlock(&a->write_lock);
			goto done;
		}
		in->items[i].blob.tmp[0] = '\0';	/* moved: not ours to discard */
		nfiles++;
	}
	snprintf(summary, sizeof summary, "ingest %zu file%s (%zu new)", in->n,
	    in->n == 1 ? "" : "s", nfiles);
	error = feed_append(a, &fc, summary, docs, n);
	if (error == 0 && index_apply_commit(a, a->office_hex, &fc.oid) < 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	pthread_mutex_unlock(&a->write_lock);
	if (error < 0)
		goto done;
	git_oid_tostr(oid, sizeof oid, &fc.oid);
	log_info("ingest by %s: %zu file%s, commit %s (seq %llu)", r->c->actor, in->n,
	    in->n == 1 ? "" : "s", oid, (unsigned long long)fc.seq);
	d.commit = oid;
	d.seq = fc.seq;
	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_DONE;
	env.ingest_done = &d;
	error = server_reply(r, &env);
done:
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	return error;
}

/* IngestCommit: commit every file received. */
void
ingest_commit(struct client *c, Envelope *msg)
{
	struct request *r;

	if (c->ingest == NULL || c->ingest->n != c->ingest->expected) {
		peer_send_error(c->peer, CUSTODY_EPROTO, c->ingest == NULL ? "ingest_commit "
		    "outside a batch" : "ingest_commit before every file was sent");
		wire_free(msg);
		return;
	}
	r = request_new(c, msg, ingest_commit_work);
	r->done = ingest_request_done;
	r->fatal = 1;
	c->ingest->busy = 1;
	server_submit(r);
}
