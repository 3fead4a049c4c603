/*
 * Serving replication to a pinned peer: the heads of every feed we hold, a git pack of the
 * commits a feed has after the peer's head (or our commit at its sequence when its head is not
 * in our chain: a fork), a raw commit, and blob bytes from an offset. Runs on a worker; the
 * replies are encoded frames the loop seals into the channel. A pack is written object by object
 * in stored form (proto/packwrite.c: no delta search, no recompression, nothing of an object kept
 * once written) into an unnamed file under tmp/ and goes out one SYNC_CHUNK piece at a time
 * (sync_stream_next); memory holds packwrite's 32 bytes an object of the pack being written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custody/packwrite.h"
#include "sync.h"

#define SYNC_CHUNK (1 << 20)	/* bytes of pack or blob per message */

/*
 * A puller that asks for packs of at most pack_bytes (PackRequest.pack_bytes) gets the commits
 * after its head in several packs, and at most SERVE_COMMITS commits or about SERVE_PACKS_MAX / 2
 * packs' worth of them in one answer (whole commits: the last piece names the last one), so
 * that neither side holds more than one pack's index, whatever the size of the feed.
 */
#define SERVE_PART_MIN (64u << 10)	/* the smallest pack we cut on request */
#define SERVE_PART_MAX (256u << 20)	/* and the largest */
#define SERVE_PACKS_MAX 256		/* packs in one answer (sync-verify.h: SYNC_PACKS_MAX) */
#define SERVE_COMMITS 4096		/* commits in one answer of several packs */

/* An answer on its way out: one or more packs, each in an unnamed file. */
struct sync_stream {
	int		fds[SERVE_PACKS_MAX];
	uint64_t	sizes[SERVE_PACKS_MAX];
	size_t		n, cur;		/* packs written, the one being sent */
	uint64_t	off;		/* bytes of it sent */
	int		multi;		/* the puller takes several packs */
	uint64_t	seq;		/* and the head it leads to */
	char		head[GIT_OID_HEXSZ + 1];
};

/* FeedsReply: the head of every feed. */
static int
serve_feeds(struct archive *a, struct cbuf *out)
{
	Custody__FeedsReply fr = CUSTODY__FEEDS_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct sync_feed *feeds = NULL;
	Custody__FeedHead *h = NULL, **hp = NULL;
	size_t n = 0, i;
	int error;

	if ((error = sync_list_feeds(a, &feeds, &n)) < 0)
		return error;
	if (n > 0 && ((h = calloc(n, sizeof *h)) == NULL || (hp = calloc(n, sizeof *hp)) == NULL)) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		custody__feed_head__init(&h[i]);
		h[i].office.data = feeds[i].pk;
		h[i].office.len = ED25519_PK_LEN;
		h[i].seq = feeds[i].seq;
		h[i].head = feeds[i].head;
		hp[i] = &h[i];
	}
	fr.feeds = hp;
	fr.n_feeds = n;
	env.body_case = CUSTODY__ENVELOPE__BODY_FEEDS_REPLY;
	env.feeds_reply = &fr;
	error = wire_encode(out, &env);
done:
	free(h);
	free(hp);
	free(feeds);
	return error;
}

/* The raw bytes of a commit object. */
static int
serve_commit_bytes(git_repository *repo, const git_oid *oid, git_odb_object **obj)
{
	git_odb *odb = NULL;
	int error = 0;

	if (git_repository_odb(&odb, repo) < 0 || git_odb_read(obj, odb, oid) < 0 ||
	    git_odb_object_type(*obj) != GIT_OBJECT_COMMIT)
		error = custody_fail(CUSTODY_ENOTFOUND, "no such commit");
	git_odb_free(odb);
	return error;
}

/* An answer being written for a peer: packs of at most part bytes, each object once. */
struct serve_pack_ctx {
	struct archive		*a;
	git_odb			*odb;
	struct packwrite	*pw;
	struct sync_stream	*st;
	uint64_t		 part;		/* bytes of one pack (UINT64_MAX: one pack) */
	uint64_t		 bytes;		/* of the pack being written, about */
	uint64_t		 total;		/* of the whole answer, about */
};


/* Complete the pack being written (its index goes to a file that vanishes with it). */
static int
serve_pack_close(struct serve_pack_ctx *x)
{
	uint8_t sum[PACKWRITE_OID_LEN];
	struct sync_stream *st = x->st;
	off_t end;
	int idx, error;

	if (x->pw == NULL)
		return 0;
	if ((idx = archive_tmpfile(x->a, "serve")) < 0)
		return custody_fail(CUSTODY_EIO, "cannot make a file for the pack: %s",
		    strerror(errno));
	error = packwrite_finish(x->pw, idx, sum);
	close(idx);
	packwrite_free(x->pw);
	x->pw = NULL;
	if (error < 0)
		return error;
	if ((end = lseek(st->fds[st->n - 1], 0, SEEK_END)) < 0)
		return custody_fail(CUSTODY_EIO, "cannot size the pack: %s", strerror(errno));
	st->sizes[st->n - 1] = (uint64_t)end;
	return 0;
}

/* Start the next pack of the answer. */
static int
serve_pack_open(struct serve_pack_ctx *x)
{
	struct sync_stream *st = x->st;
	int error;

	if ((error = serve_pack_close(x)) < 0)
		return error;
	if (st->n == SERVE_PACKS_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "the answer needs more than %d packs",
		    SERVE_PACKS_MAX);
	if ((st->fds[st->n] = archive_tmpfile(x->a, "serve")) < 0)
		return custody_fail(CUSTODY_EIO, "cannot make a file for the pack: %s",
		    strerror(errno));
	st->n++;
	x->bytes = 0;
	return packwrite_new(&x->pw, st->fds[st->n - 1]);
}

/* Copy one object into the pack (a new pack when this one would pass its bound). */
static int
serve_pack_add(struct serve_pack_ctx *x, const git_oid *id)
{
	git_odb_object *o = NULL;
	uint8_t oid[PACKWRITE_OID_LEN];
	int t;
	size_t len;
	int r;

	if (git_odb_read(&o, x->odb, id) < 0)
		return custody_fail(CUSTODY_EIO, "object %s unreadable", git_oid_tostr_s(id));
	if ((r = feed_object_packtype(o, id, &t)) < 0) {
		git_odb_object_free(o);
		return r;
	}
	len = git_odb_object_size(o);
	r = 0;
	if (x->pw == NULL || (packwrite_count(x->pw) > 0 && x->bytes + len + 64 > x->part))
		r = serve_pack_open(x);
	if (r == 0)
		r = packwrite_add(x->pw, t, git_odb_object_data(o), len, oid);
	x->bytes += len + 32;	/* a stored block's framing, about */
	x->total += len + 32;
	git_odb_object_free(o);
	return r;
}

/*
 * Each object a commit brings (feed_commit_objects) into the pack. Nothing is sent twice: a
 * feed never brings back a tree or record of an earlier commit (every record revision names
 * its commit's clock), and the receiver refuses a pack that holds an object its commits do not
 * use.
 */
static int
serve_pack_object(const char *path, const git_oid *id, int is_tree, void *arg)
{
	return serve_pack_add(arg, id) < 0 ? -1 : 0;
}

/*
 * The commits after have_seq up to head (at seq), oldest first: all of them in one pack, or
 * (x->st->multi) at most SERVE_COMMITS, ending after the commit that passes about half of
 * SERVE_PACKS_MAX packs' worth. x->st->head and seq name the last commit packed.
 */
static int
serve_pack_commits(git_repository *repo, struct serve_pack_ctx *x, const git_oid *head,
    uint64_t seq, uint64_t have_seq)
{
	struct sync_stream *st = x->st;
	uint64_t n = seq - have_seq, keep, i, at;
	git_commit *c = NULL, *p;
	git_oid *ring = NULL;
	int error = 0;

	keep = st->multi && n > SERVE_COMMITS ? SERVE_COMMITS : n;
	if (keep == 0)
		return CUSTODY_EINVAL;
	if ((ring = calloc(keep, sizeof *ring)) == NULL)
		return CUSTODY_ENOMEM;
	/* walk back from the head; the ring keeps the oldest keep commits after have_seq */
	if (git_commit_lookup(&c, repo, head) < 0) {
		error = custody_fail(CUSTODY_EIO, "feed head unreadable");
		goto done;
	}
	for (at = seq; at > have_seq; at--) {
		ring[(at - have_seq - 1) % keep] = *git_commit_id(c);
		if (at - 1 == have_seq)
			break;
		if (git_commit_parentcount(c) != 1 || git_commit_parent(&p, c, 0) < 0) {
			error = custody_fail(CUSTODY_EIO, "feed history unreadable");
			goto done;
		}
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	c = NULL;
	for (i = 0; i < keep && error == 0; i++) {
		if (git_commit_lookup(&c, repo, &ring[i]) < 0) {
			error = custody_fail(CUSTODY_EIO, "feed history unreadable");
			break;
		}
		error = feed_commit_objects(repo, c, serve_pack_object, x);
		git_commit_free(c);
		c = NULL;
		git_oid_tostr(st->head, sizeof st->head, &ring[i]);
		st->seq = have_seq + i + 1;
		if (st->multi && x->total >= (SERVE_PACKS_MAX / 2) * x->part)
			break;
	}
	if (error == 0)
		error = serve_pack_close(x);
done:
	git_commit_free(c);
	free(ring);
	return error;
}

/*
 * The next piece of an answer, as a PackData frame into out: 1 while more remain, 0 at the end.
 * A piece never spans two packs; the last piece of a pack that another follows says so.
 */
int
sync_stream_next(struct sync_stream *st, struct cbuf *out)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__PackData pd = CUSTODY__PACK_DATA__INIT;
	uint64_t size = st->sizes[st->cur];
	uint8_t *buf;
	size_t n = size - st->off < SYNC_CHUNK ? size - st->off : SYNC_CHUNK;
	int error;

	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return CUSTODY_ENOMEM;
	if (n > 0 && pread(st->fds[st->cur], buf, n, (off_t)st->off) != (ssize_t)n) {
		free(buf);
		return custody_fail(CUSTODY_EIO, "cannot read the pack back: %s", strerror(errno));
	}
	st->off += n;
	pd.data.data = buf;
	pd.data.len = n;
	if (st->off >= size && st->cur + 1 < st->n) {
		pd.pack_end = 1;
		st->cur++;
		st->off = 0;
	}
	pd.last = st->cur + 1 >= st->n && st->off >= st->sizes[st->cur];
	pd.head = pd.last ? st->head : (char *)"";
	pd.seq = pd.last ? st->seq : 0;
	env.body_case = CUSTODY__ENVELOPE__BODY_PACK_DATA;
	env.pack_data = &pd;
	error = wire_encode(out, &env);
	free(buf);
	if (error < 0)
		return error;
	return pd.last ? 0 : 1;
}

/* NULL is fine. */
void
sync_stream_free(struct sync_stream *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n; i++)
		close(st->fds[i]);
	free(st);
}

/* PackRequest: our commit at its sequence (a fork), or a pack of what the peer lacks. */
static int
serve_pack(struct archive *a, const Custody__PackRequest *m, struct cbuf *out,
    struct sync_stream **more)
{
	git_repository *repo = archive_repo(a);
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct serve_pack_ctx x = { 0 };
	git_odb_object *obj = NULL;
	struct sync_stream *st = NULL;
	git_oid head, at, have;
	uint64_t seq, lamport;
	char hex[65];
	int error;

	if (repo == NULL)
		return CUSTODY_EIO;
	if (m->office.len != ED25519_PK_LEN)
		return custody_fail(CUSTODY_EINVAL, "pack_request: bad office key");
	hex_encode(hex, m->office.data, ED25519_PK_LEN);
	if ((error = feed_head(a, hex, &head, &seq, &lamport)) < 0)
		return error;
	if (m->have_seq > seq)
		return custody_fail(CUSTODY_EINVAL, "you hold more of that feed than we do");
	if (m->have_seq > 0) {
		if (git_oid_fromstr(&have, m->have_head) < 0)
			return custody_fail(CUSTODY_EINVAL, "pack_request: bad head");
		if ((error = sync_commit_at(a, &head, seq, m->have_seq, &at)) < 0)
			return error;
		if (!git_oid_equal(&at, &have)) {
			Custody__ForkReply fr = CUSTODY__FORK_REPLY__INIT;

			if ((error = serve_commit_bytes(repo, &at, &obj)) < 0)
				return error;
			fr.seq = m->have_seq;
			fr.commit.data = (uint8_t *)git_odb_object_data(obj);
			fr.commit.len = git_odb_object_size(obj);
			env.body_case = CUSTODY__ENVELOPE__BODY_FORK_REPLY;
			env.fork_reply = &fr;
			error = wire_encode(out, &env);
			git_odb_object_free(obj);
			return error;
		}
	}
	if ((st = calloc(1, sizeof *st)) == NULL)
		return CUSTODY_ENOMEM;
	st->seq = seq;
	git_oid_tostr(st->head, sizeof st->head, &head);
	x.a = a;
	x.st = st;
	x.part = UINT64_MAX;
	if (m->pack_bytes > 0) {	/* the puller takes several packs */
		st->multi = 1;
		x.part = m->pack_bytes < SERVE_PART_MIN ? SERVE_PART_MIN :
		    m->pack_bytes > SERVE_PART_MAX ? SERVE_PART_MAX : m->pack_bytes;
	}
	if (git_repository_odb(&x.odb, repo) < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot read the objects");
		goto done;
	}
	if (seq == m->have_seq)	/* nothing to send: an empty pack */
		error = serve_pack_open(&x) < 0 ? -1 : serve_pack_close(&x);
	else
		error = serve_pack_commits(repo, &x, &head, seq, m->have_seq);
	if (error < 0)
		goto done;
	do
		error = sync_stream_next(st, out);
	while (error == 1 && more == NULL);
	if (error == 1) {
		*more = st;
		st = NULL;
		error = 0;
	}
done:
	packwrite_free(x.pw);
	sync_stream_free(st);
	git_odb_free(x.odb);
	return error;
}

/* CommitRequest: one raw commit (fork evidence). */
static int
serve_commit(struct archive *a, const Custody__CommitRequest *m, struct cbuf *out)
{
	Custody__CommitReply cr = CUSTODY__COMMIT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	git_odb_object *obj = NULL;
	git_oid oid;
	int error;

	if (git_oid_fromstr(&oid, m->oid) < 0)
		return custody_fail(CUSTODY_EINVAL, "commit_request: bad id");
	if (archive_repo(a) == NULL)
		return CUSTODY_EIO;
	if ((error = serve_commit_bytes(archive_repo(a), &oid, &obj)) < 0)
		return error;
	cr.commit.data = (uint8_t *)git_odb_object_data(obj);
	cr.commit.len = git_odb_object_size(obj);
	env.body_case = CUSTODY__ENVELOPE__BODY_COMMIT_REPLY;
	env.commit_reply = &cr;
	error = wire_encode(out, &env);
	git_odb_object_free(obj);
	return error;
}

/* BlobRequest: up to SYNC_CHUNK bytes of a blob from an offset, read straight into the frame. */
static int
serve_blob(struct archive *a, const Custody__BlobRequest *m, struct cbuf *out)
{
	struct blobstore_reader *r = NULL;
	struct blobstore *s;
	uint8_t *data;
	uint64_t size;
	size_t len, got = 0, n, at = out->len;
	int error = 0;

	if (!hex_is_lower(m->name, SHA256_HEX_LEN) || m->name[SHA256_HEX_LEN] != '\0')
		return custody_fail(CUSTODY_EINVAL, "blob_request: bad name");
	if ((s = archive_blobs(a)) == NULL)
		return CUSTODY_EIO;
	if ((error = blobstore_read_open(s, m->name, m->offset, &r, &size)) < 0) {
		if (error == CUSTODY_ENOTFOUND)
			return custody_fail(CUSTODY_ENOTFOUND, "no blob %s", m->name);
		return error;
	}
	len = size - m->offset < SYNC_CHUNK ? (size_t)(size - m->offset) : SYNC_CHUNK;
	if ((error = wire_encode_blob_data(out, size, len, &data)) < 0)
		goto done;
	while (got < len) {
		if ((error = blobstore_read(r, data + got, len - got, &n)) < 0 || n == 0) {
			if (error == 0)
				error = custody_fail(CUSTODY_EIO, "reading blob %s: shorter than it "
				    "was", m->name);
			out->len = at;	/* no half frame */
			goto done;
		}
		got += n;
	}
done:
	blobstore_read_close(r);
	return error;
}

/* Answer one replication request into out (encoded frames), a pack whole. */
int
sync_serve(struct archive *a, const Envelope *msg, struct cbuf *out)
{
	return sync_serve_stream(a, msg, out, NULL);
}

/*
 * Answer one replication request into out; when more is not NULL, a pack's first piece only,
 * with *more set to what remains (sync_stream_next, sync_stream_free), or NULL when it is all.
 */
int
sync_serve_stream(struct archive *a, const Envelope *msg, struct cbuf *out,
    struct sync_stream **more)
{
	if (more != NULL)
		*more = NULL;
	switch (msg->body_case) {
	case CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST:
		return serve_feeds(a, out);
	case CUSTODY__ENVELOPE__BODY_PACK_REQUEST:
		return serve_pack(a, msg->pack_request, out, more);
	case CUSTODY__ENVELOPE__BODY_COMMIT_REQUEST:
		return serve_commit(a, msg->commit_request, out);
	case CUSTODY__ENVELOPE__BODY_BLOB_REQUEST:
		return serve_blob(a, msg->blob_request, out);
	default:
		return custody_fail(CUSTODY_EPROTO, "%s: not a replication request",
		    wire_name(msg));
	}
}

/* Whether a message is a replication request sync_serve answers. */
int
sync_is_request(const Envelope *msg)
{
	return msg->body_case == CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST ||
	    msg->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST ||
	    msg->body_case == CUSTODY__ENVELOPE__BODY_COMMIT_REQUEST ||
	    msg->body_case == CUSTODY__ENVELOPE__BODY_BLOB_REQUEST;
}
