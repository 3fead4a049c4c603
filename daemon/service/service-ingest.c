/*
 * The ingest requests: a batch of files, each passed as a descriptor and placed by the engine
 * on a worker (several files at once, ingest.c), replies sent in order, then committed as one
 * signed commit (ingest_commit) on a worker. Only then is the batch acknowledged. A batch the
 * client abandons, or that fails, is dropped and leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "log.h"
#include "server.h"

#define INGEST_MAX_FILES 1000000
#define INGEST_PARALLEL 3	/* files of one batch worked on at once */
#define INGEST_WINDOW 64	/* files received and not yet answered, at most */

/* A file received and not yet answered; once placed, the batch keeps it (ingest_batch_put). */
struct ingest_item {
	struct ingest_file	 f;		/* the engine's part */
	int			 done;		/* worked on; reply waiting to be sent in order */
	struct cbuf		 reply;
};

struct ingest {
	char			*incident;
	char			*note;
	uint32_t		 expected;
	struct ingest_batch	*batch;		/* the files placed */
	/* files n - INGEST_WINDOW .. n - 1, at i % INGEST_WINDOW: those not answered yet */
	struct ingest_item	*items[INGEST_WINDOW];
	size_t			 n;		/* received */
	size_t			 sent;		/* replies sent, in order */
	int			 inflight;	/* jobs holding this batch */
	int			 failed;
	Envelope		*commit;	/* IngestCommit waiting for the last file */
	int			 committing;	/* its job runs */
};

static void ingest_start_commit(struct client *, Envelope *);

static void
ingest_item_free(struct archive *a, struct ingest_item *it)
{
	if (it == NULL)
		return;
	ingest_file_drop(a, &it->f);
	cbuf_free(&it->reply);
	free(it->f.name);
	free(it);
}

static void
ingest_free_now(struct archive *a, struct ingest *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < INGEST_WINDOW; i++)
		ingest_item_free(a, in->items[i]);
	ingest_batch_free(in->batch);
	wire_free(in->commit);
	free(in->incident);
	free(in->note);
	free(in);
}

struct ingest_drop {
	struct archive	*a;
	struct ingest	*in;
};

static void
ingest_drop_work(void *arg)
{
	struct ingest_drop *d = arg;

	ingest_free_now(d->a, d->in);
}

static void
ingest_drop_done(void *arg)
{
	free(arg);
}

/*
 * Free a batch that is over. Blobs it placed but did not commit are removed on a worker: with
 * a RADOS store each removal is a round trip to Ceph, up to the store's timeout while Ceph is
 * down, which the loop must not wait for. Once the pool is gone (shutdown), here.
 */
static void
ingest_free(struct client *c, struct ingest *in)
{
	struct ingest_drop *d;

	if (in == NULL)
		return;
	if (in->n > 0 && c->s->pool != NULL && (d = malloc(sizeof *d)) != NULL) {
		d->a = c->s->a;
		d->in = in;
		pool_submit(c->s->pool, ingest_drop_work, ingest_drop_done, d);
		return;
	}
	ingest_free_now(c->s->a, in);
}

/* Drop an uncommitted batch (client gone, error, or shutdown) once no worker holds it. */
void
service_ingest_abort(struct client *c)
{
	if (c->ingest != NULL && c->ingest->inflight == 0) {
		ingest_free(c, c->ingest);
		c->ingest = NULL;
	}
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
	if ((in = calloc(1, sizeof *in)) == NULL)
		fatal("out of memory");
	if (ingest_batch_new(&in->batch, c->s->a, b->count) < 0) {
		conn_send_error(c->conn, CUSTODY_EIO, "%s", custody_error());
		free(in);
		goto done;
	}
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
	int error;

	if ((error = ingest_file_place(a, &it->f, r->fd)) < 0)
		return error;
	if ((error = ingest_batch_put(r->c->ingest->batch, &it->f)) < 0) {
		ingest_file_drop(a, &it->f);
		return error;
	}
	it->f.placed = 0;	/* the batch's now */
	sodium_memzero(it->f.blob.key, sizeof it->f.blob.key);
	hex_encode(hex, it->f.blob.sha256, SHA256_LEN);
	d.index = it->f.index;
	d.sha256 = hex;
	d.size = it->f.blob.size;
	d.duplicate = it->f.duplicate;
	d.media_type = it->f.blob.media_type;
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
			ingest_free(c, in);
			c->ingest = NULL;
		}
		return;
	}
	it->done = 1;
	while (in->sent < in->n && (it = in->items[in->sent % INGEST_WINDOW])->done) {
		conn_send_frames(c->conn, &it->reply);
		ingest_item_free(c->s->a, it);
		in->items[in->sent % INGEST_WINDOW] = NULL;
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
	it->f.index = (uint32_t)in->n;
	if ((it->f.name = ingest_clean_name(msg->ingest_file->name)) == NULL)
		fatal("out of memory");
	in->items[in->n++ % INGEST_WINDOW] = it;
	r = request_new(c, msg, ingest_file_work);
	r->fd = fd;
	r->arg = it;
	r->done = ingest_file_done;
	r->fatal = 1;
	in->inflight++;
	server_submit(r);
	if (in->inflight < INGEST_PARALLEL && !service_ingest_holds(c))
		conn_resume(c->conn);	/* take the next file while this one is worked on */
}

/* Commit the batch (ingest_commit) and reply with the commit and the batch's duplicates. */
static int
ingest_commit_work(struct request *r)
{
	struct archive *a = r->c->s->a;
	struct ingest *in = r->c->ingest;
	Custody__IngestDone d = CUSTODY__INGEST_DONE__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct feed_commit fc;
	uint32_t *dups = NULL;
	size_t ndups = 0;
	char now[32], oid[GIT_OID_HEXSZ + 1];
	int error;

	log_debug("ingest by uid %u: committing %zu files", (unsigned)r->c->uid, in->n);
	record_now(now);
	/* dups: the duplicates within the batch, which the file replies could not know */
	if ((error = ingest_commit(a, &fc, in->batch, r->c->actor, now, in->incident, in->note,
	    &dups, &ndups)) < 0)
		goto done;
	git_oid_tostr(oid, sizeof oid, &fc.oid);
	log_info("ingest by uid %u: %zu file%s, commit %s (seq %llu)", (unsigned)r->c->uid, in->n,
	    in->n == 1 ? "" : "s", oid, (unsigned long long)fc.seq);
	d.commit = oid;
	d.seq = fc.seq;
	d.n_batch_duplicates = ndups;
	d.batch_duplicates = dups;
	env.body_case = CUSTODY__ENVELOPE__BODY_INGEST_DONE;
	env.ingest_done = &d;
	error = server_reply(r, &env);
done:
	free(dups);
	return error;
}

/* After the commit job: the batch is over, committed or not. */
static void
ingest_commit_done(struct request *r)
{
	struct client *c = r->c;

	c->ingest->inflight--;
	ingest_free(c, c->ingest);
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
 * the commit is answered, even while the batch's last files finish. Nor is a file read while
 * INGEST_WINDOW files wait for their answers (behind a large one still being worked on).
 */
int
service_ingest_holds(const struct client *c)
{
	const struct ingest *in = c->ingest;

	return in != NULL && (in->commit != NULL || in->committing ||
	    in->n - in->sent >= INGEST_WINDOW);
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
