/*
 * Taking in a bundle: the age stream is opened with this office's key and parsed as it comes
 * (proto/bundlefmt.c); each feed's packs go into a quarantine of their own (sync-verify.h), each
 * blob into tmp/ (the parser checks that its bytes hash to its name). Nothing is verified or applied until the whole
 * file authenticated (every age chunk, the final one, the sender's signature over the plaintext,
 * the sender pinned and not revoked, the bundle made for this office). Then the feeds are
 * verified exactly as a pull verifies them, the blobs their records name are checked (name and
 * size) against what was staged, and only when every feed of a round passed are the blobs placed
 * and the refs moved. Commits their owner signed that a pull refuses (a fork, past a revocation
 * cut) are refused as a pull refuses them, and the rest taken; anything wrong with the bundle
 * itself refuses all of it. A feed of an office that another feed of the bundle admits waits
 * for a second round, after the first is applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custody/age.h"
#include "custody/bundlefmt.h"
#include "bundle.h"
#include "bundle-queue.h"
#include "epochs.h"
#include "handover.h"
#include "log.h"
#include "offices.h"
#include "peers.h"
#include "revocations.h"
#include "sync-verify.h"

#define BA_READ (1u << 20)	/* bytes of the file read at a time */
#define BA_FLUSH (8u << 20)	/* a staged blob's writeback starts every so many bytes */

/* F_BEHIND: we hold the feed as far as the bundle goes; its pack is kept to show a fork */
enum { F_PENDING, F_VERIFIED, F_DONE, F_SKIP, F_BEHIND };

struct ba_feed {
	struct bundlefmt_feed	 f;
	char			 hex[2 * ED25519_PK_LEN + 1];
	struct sync_incoming	 in;
	int			 begun;		/* in holds a quarantine */
	int			 state;
	uint64_t		 ours;		/* how far we held it */
	uint32_t		 packs_left;
};

struct ba_blob {
	uint8_t		 name[BUNDLEFMT_NAME_LEN];
	uint64_t	 size;
	char		 tmp[96];	/* under tmp/, "" when not staged (held already) */
};

struct ba {
	struct archive		*a;
	struct ba_feed		*feeds;
	size_t			 nfeeds;
	struct ba_blob		*blobs;
	size_t			 nblobs;
	uint8_t			 sender[ED25519_PK_LEN];
	char			 name[OFFICE_NAME_MAX + 1];
	char			 tag[17];	/* tells this apply's staged files apart */
	struct ba_feed		*feed;		/* whose packs are arriving */
	struct ba_blob		*blob;		/* arriving, or NULL */
	int			 fd;
	uint64_t		 staged;	/* bytes of the blob arriving written */
	uint64_t		 pack_bytes;
	struct bundlefmt_reader	*br;
};

/* The bundle's header: made for us, by a pinned office that is not revoked. */
static int
ba_header(void *arg, const struct bundlefmt_header *h)
{
	struct ba *x = arg;
	struct peers_entry e;
	uint8_t id[ED25519_PK_LEN];
	uint64_t cut;

	if (sodium_memcmp(h->recipient, x->a->sign_pk, ED25519_PK_LEN) != 0)
		return custody_fail(CUSTODY_EPERM, "this bundle was made for another office "
		    "(and encrypted again to this one): refused");
	if (sodium_memcmp(h->sender, x->a->sign_pk, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EINVAL, "this bundle was made by this office");
	if (handover_identity(h->sender, id) < 0)
		memcpy(id, h->sender, ED25519_PK_LEN);
	if (revocations_cut(x->a, id, &cut))
		return custody_fail(CUSTODY_EPERM, "the bundle's sender is revoked (after its "
		    "commit %llu): refused", (unsigned long long)cut);
	if (peers_find_key(&e, id) < 0)
		return custody_fail(CUSTODY_EPERM, "the bundle's sender is not a pinned peer of "
		    "this office: refused");
	memcpy(x->sender, id, ED25519_PK_LEN);
	snprintf(x->name, sizeof x->name, "%s", e.name);
	return 0;
}

/* A feed section: where we stand in it, and a quarantine for its packs when it brings more. */
static int
ba_feed(void *arg, const struct bundlefmt_feed *f)
{
	struct ba *x = arg;
	struct ba_feed *bf;
	git_oid head;
	uint64_t seq = 0, lamport;
	int error;

	if ((x->nfeeds & (x->nfeeds - 1)) == 0) {	/* grown to 1, 2, 4, 8... */
		if ((bf = reallocarray(x->feeds, x->nfeeds ? 2 * x->nfeeds : 1,
		    sizeof *bf)) == NULL)
			return CUSTODY_ENOMEM;
		x->feeds = bf;
	}
	bf = x->feed = &x->feeds[x->nfeeds++];
	memset(bf, 0, sizeof *bf);
	bf->f = *f;
	bf->packs_left = f->npacks;
	hex_encode(bf->hex, f->office, ED25519_PK_LEN);
	error = feed_head(x->a, bf->hex, &head, &seq, &lamport);
	if (error < 0 && error != CUSTODY_ENOTFOUND)
		return error;
	bf->ours = error == 0 ? seq : 0;
	if (sodium_memcmp(f->office, x->a->office_pk, ED25519_PK_LEN) == 0 ||
	    seq < f->base_seq) {
		bf->state = F_SKIP;	/* decided after the whole file authenticated */
		return 0;
	}
	if (seq >= f->seq)
		bf->state = F_BEHIND;
	if ((error = sync_incoming_begin(&bf->in, x->a, bf->hex, f->office, seq,
	    seq > 0 ? &head : NULL)) < 0)
		return error;
	bf->begun = 1;
	bf->in.overlap = seq > f->base_seq;
	return 0;
}

static int
ba_part(void *arg, const uint8_t *name, uint64_t len)
{
	struct ba *x = arg;
	struct ba_blob *b;
	char hex[SHA256_HEX_LEN + 1], path[4300];

	if (name == NULL) {	/* a pack of the current feed */
		if ((x->pack_bytes += len) > SYNC_SESSION_MAX_BYTES)
			return custody_fail(CUSTODY_ETOOBIG, "the bundle's packs pass %llu bytes",
			    (unsigned long long)SYNC_SESSION_MAX_BYTES);
		x->feed->packs_left--;
		x->blob = NULL;
		return 0;
	}
	x->feed = NULL;
	if ((x->nblobs & (x->nblobs - 1)) == 0) {	/* grown to 1, 2, 4, 8... */
		if ((b = reallocarray(x->blobs, x->nblobs ? 2 * x->nblobs : 1,
		    sizeof *b)) == NULL)
			return CUSTODY_ENOMEM;
		x->blobs = b;
	}
	b = x->blob = &x->blobs[x->nblobs++];
	memset(b, 0, sizeof *b);
	memcpy(b->name, name, BUNDLEFMT_NAME_LEN);
	b->size = len;
	hex_encode(hex, name, BUNDLEFMT_NAME_LEN);
	if (blob_exists(x->a, hex))
		return 0;	/* held already: its bytes pass by */
	snprintf(b->tmp, sizeof b->tmp, "bundle-%s-%.32s.part", x->tag, hex);
	snprintf(path, sizeof path, "%s/tmp/%s", x->a->path, b->tmp);
	if ((x->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		b->tmp[0] = '\0';
		return custody_fail(CUSTODY_EIO, "%s: %s", path, strerror(errno));
	}
	x->staged = 0;
	return 0;
}

static int
ba_data(void *arg, const void *p, size_t n)
{
	struct ba *x = arg;
	int error;

	if (x->blob == NULL) {
		if (!x->feed->begun)
			return 0;
		return sync_incoming_pack(&x->feed->in, p, n);
	}
	if (x->fd < 0)
		return 0;
	if ((error = write_all(x->fd, p, n)) < 0)
		return custody_fail(error, "staging a blob: %s", strerror(errno));
	/* start writeback as we go: the sync before the refs move has little left to wait for */
	if ((x->staged + n) / BA_FLUSH != x->staged / BA_FLUSH)
		sync_file_range(x->fd, (off_t)(x->staged / BA_FLUSH * BA_FLUSH), BA_FLUSH,
		    SYNC_FILE_RANGE_WRITE);
	x->staged += n;
	return 0;
}

static int
ba_part_end(void *arg)
{
	struct ba *x = arg;

	if (x->blob == NULL) {
		if (!x->feed->begun)
			return 0;
		return sync_incoming_pack_end(&x->feed->in);
	}
	if (x->fd >= 0) {	/* the parser checked its bytes hash to its name */
		close(x->fd);
		x->fd = -1;
	}
	return 0;
}

/* The file's reading and decryption, on a thread of its own: the plaintext into a queue. */
struct ba_reader {
	int			 fd;
	struct age_reader	*ar;
	struct bq		*q;
};

static int ba_age_error(struct age_reader *, int);

static int
ba_plain(void *arg, const void *p, size_t n)
{
	return bq_put(arg, p, n);
}

static void *
ba_reader_main(void *arg)
{
	struct ba_reader *rd = arg;
	uint8_t *buf;
	ssize_t r;
	int error = 0;

	if ((buf = malloc(BA_READ)) == NULL)
		error = CUSTODY_ENOMEM;
	while (error == 0) {
		if ((r = read(rd->fd, buf, BA_READ)) < 0) {
			if (errno != EINTR)
				error = custody_fail(CUSTODY_EIO, "reading the bundle: %s",
				    strerror(errno));
		} else if (r == 0) {
			if ((error = age_reader_finish(rd->ar)) < 0)
				error = ba_age_error(rd->ar, error);
			break;
		} else if ((error = age_reader_feed(rd->ar, buf, (size_t)r)) < 0)
			error = ba_age_error(rd->ar, error);	/* or the consumer stopped */
	}
	free(buf);
	bq_close(rd->q, error, error < 0 ? custody_error() : NULL);
	return NULL;
}

/*
 * Decrypt fd on another thread while this one parses the plaintext (and stages what it
 * holds): 0 when the whole file authenticated and parsed.
 */
static int
ba_read_all(struct ba *x, const struct age_identity *id, int fd)
{
	struct ba_reader rd = { .fd = fd };
	const uint8_t *p;
	pthread_t t;
	size_t n;
	int error, r;

	if ((error = bq_new(&rd.q)) < 0)
		return error;
	if ((error = age_reader_new(&rd.ar, id, 1, ba_plain, rd.q)) < 0)
		goto done;
	if (pthread_create(&t, NULL, ba_reader_main, &rd) != 0) {
		error = custody_fail(CUSTODY_ERR, "cannot start a thread");
		goto done;
	}
	while ((r = bq_get(rd.q, &p, &n)) == 1) {
		error = bundlefmt_reader_feed(x->br, p, n);
		bq_done(rd.q);
		if (error < 0)
			break;
	}
	if (error == 0 && r < 0)
		error = r;	/* the age layer's, said by bq_get */
	if (error < 0)
		bq_stop(rd.q);
	pthread_join(t, NULL);
	if (error == 0)
		error = bundlefmt_reader_finish(x->br);
done:
	age_reader_free(rd.ar);
	bq_free(rd.q);
	return error;
}

/* Is pk an office whose feeds we take: pinned, or named by an office record? */
static int
ba_known(struct archive *a, const uint8_t *pk)
{
	struct peers_entry e;
	struct office *v = NULL;
	size_t n = 0, i;
	int known = 0;

	if (peers_find_key(&e, pk) == 0)
		return 1;
	if (offices_list(a, &v, &n) == 0)
		for (i = 0; i < n && !known; i++)
			known = sodium_memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0;
	free(v);
	return known;
}

/* The staged blob called name (the bundle's blobs are in name order). */
static struct ba_blob *
ba_find_blob(struct ba *x, const char *name)
{
	uint8_t raw[BUNDLEFMT_NAME_LEN];
	size_t lo = 0, hi = x->nblobs, mid;
	int c;

	if (hex_decode(raw, sizeof raw, name) < 0)
		return NULL;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = memcmp(x->blobs[mid].name, raw, sizeof raw)) == 0)
			return &x->blobs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A feed we hold as far as the bundle goes, or further: its head must be our commit at its
 * sequence; one that is not is a fork (the other history, signed by its owner, is in the pack).
 */
static int
ba_behind(struct ba *x, struct ba_feed *bf, char **line)
{
	char ours[GIT_OID_HEXSZ + 1], theirs[GIT_OID_HEXSZ + 1];
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	git_oid head, at;
	uint64_t seq, lamport;
	int error;

	*line = NULL;
	if ((error = feed_head(x->a, bf->hex, &head, &seq, &lamport)) < 0 ||
	    (error = sync_commit_at(x->a, &head, seq, bf->f.seq, &at)) < 0)
		return error;
	git_oid_tostr(ours, sizeof ours, &at);
	hex_encode(theirs, bf->f.head, BUNDLEFMT_OID_LEN);
	if (strcmp(ours, theirs) == 0)
		return 0;
	/* the bundle's commit, if its owner signed it, is the evidence of a fork: keep it */
	if (bf->begun && sync_quarantine_close(bf->in.q, &repo) == 0 &&
	    git_repository_odb(&odb, repo) == 0 && git_oid_fromraw(&at, bf->f.head) == 0 &&
	    git_odb_read(&o, odb, &at) == 0 && git_odb_object_type(o) == GIT_OBJECT_COMMIT)
		error = sync_fork_evidence(x->a, bf->hex, bf->f.office, bf->f.seq, ours,
		    git_odb_object_data(o), git_odb_object_size(o), line);
	else
		error = custody_fail(CUSTODY_EPROTO, "the bundle's head is not in its pack");
	git_odb_object_free(o);
	git_odb_free(odb);
	if (error < 0)
		return error;
	if (*line == NULL && asprintf(line, "fork: the bundle's commit %llu is %.12s, ours is "
	    "%.12s", (unsigned long long)bf->f.seq, theirs, ours) < 0)
		*line = NULL;
	return custody_fail(CUSTODY_EPROTO, "%s", *line ? *line : "a fork");
}

/*
 * The new commits do not extend ours: if the bundle holds, at our sequence, another commit its
 * owner signed, keep it as the evidence of a fork (as a pull does with a peer's ForkReply).
 */
static void
ba_fork_evidence(struct ba *x, struct ba_feed *bf)
{
	git_repository *repo = bf->in.repo;
	git_commit *c = NULL, *p;
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	git_oid head;
	char ours[GIT_OID_HEXSZ + 1], *line = NULL;
	uint64_t at = bf->f.seq;

	if (repo == NULL || !bf->in.have_old || bf->ours <= bf->f.base_seq ||
	    git_oid_fromraw(&head, bf->f.head) < 0 || git_commit_lookup(&c, repo, &head) < 0)
		return;
	while (at > bf->ours && git_commit_parentcount(c) == 1 &&
	    git_commit_parent(&p, c, 0) == 0) {
		git_commit_free(c);
		c = p;
		at--;
	}
	git_oid_tostr(ours, sizeof ours, &bf->in.old_head);
	if (at == bf->ours && !git_oid_equal(git_commit_id(c), &bf->in.old_head) &&
	    git_repository_odb(&odb, repo) == 0 && git_odb_read(&o, odb, git_commit_id(c)) == 0 &&
	    sync_fork_evidence(x->a, bf->hex, bf->f.office, at, ours, git_odb_object_data(o),
	    git_odb_object_size(o), &line) == 0 && line != NULL) {
		free(bf->in.refused);
		bf->in.refused = line;
		line = NULL;
	}
	free(line);
	git_odb_object_free(o);
	git_odb_free(odb);
	git_commit_free(c);
}

/*
 * Verify one feed as a pull does: 0 when it is to be taken (perhaps only up to a revoked
 * office's cut, or to the first commit whose records need a data-key epoch not held: then
 * res says what was left), 1 when commits its owner signed are refused as a pull refuses them
 * (a fork, a commit past a revocation cut: kept as evidence, said in res, nothing of the feed
 * taken); negative when the bundle itself is bad, and the whole of it is refused.
 */
static int
ba_verify(struct ba *x, struct ba_feed *bf, struct sync_result *res)
{
	char head[GIT_OID_HEXSZ + 1], *name = sync_office_name(x->a, bf->f.office);
	const char *who = name ? name : bf->hex;
	struct ba_blob *b;
	size_t i;
	int error;

	hex_encode(head, bf->f.head, BUNDLEFMT_OID_LEN);
	if ((error = sync_incoming_verify(&bf->in, head, bf->f.seq)) < 0) {
		if (bf->in.refused == NULL && !bf->in.epoch_missing)
			ba_fork_evidence(x, bf);
		if (bf->in.refused != NULL || bf->in.epoch_missing) {
			sync_result_add(res, 1, "feed %s: %s", who, bf->in.refused ?
			    bf->in.refused : "its records need a data-key epoch this office does "
			    "not hold: not taken");
			bf->state = F_SKIP;
			error = 1;
		} else
			error = custody_fail(error, "feed %s: %s", who, custody_error());
		goto done;
	}
	if (bf->in.refused != NULL)	/* past a revoked office's cut: taken up to it */
		sync_result_add(res, 1, "feed %s: %s", who, bf->in.refused);
	else if (bf->in.new_seq != bf->f.seq)
		sync_result_add(res, 1, "feed %s: commits after %llu need a data-key epoch this "
		    "office does not hold: not taken", who, (unsigned long long)bf->in.new_seq);
	for (i = 0; i < bf->in.nneed; i++) {
		if (blob_exists(x->a, bf->in.need[i].name))
			continue;
		if ((b = ba_find_blob(x, bf->in.need[i].name)) == NULL || b->tmp[0] == '\0') {
			error = custody_fail(CUSTODY_EPROTO, "feed %s: blob %s, which its records "
			    "name, is not in the bundle", who, bf->in.need[i].name);
			goto done;
		}
		if (b->size > bf->in.need[i].max) {
			error = custody_fail(CUSTODY_EPROTO, "blob %s: %llu bytes, more than its "
			    "record allows (%llu)", bf->in.need[i].name,
			    (unsigned long long)b->size, (unsigned long long)bf->in.need[i].max);
			goto done;
		}
	}
	bf->state = F_VERIFIED;
done:
	free(name);
	return error;
}

/* Place the verified feeds' blobs, then move their refs. */
static int
ba_apply_round(struct ba *x, struct sync_result *res, struct sync_witness **wit, size_t *nwit)
{
	struct ba_feed *bf;
	struct ba_blob *b;
	struct blob_info bi;
	char *name;
	size_t i, j, nb;
	int error;

	for (i = 0; i < x->nfeeds; i++) {
		bf = &x->feeds[i];
		if (bf->state != F_VERIFIED)
			continue;
		for (j = 0; j < bf->in.nneed; j++) {
			if (blob_exists(x->a, bf->in.need[j].name))
				continue;
			/* found by the name the record gives; the parser checked the bytes hash
			   to it */
			b = ba_find_blob(x, bf->in.need[j].name);
			memset(&bi, 0, sizeof bi);
			snprintf(bi.name, sizeof bi.name, "%s", bf->in.need[j].name);
			snprintf(bi.tmp, sizeof bi.tmp, "%s", b->tmp);
			if ((error = blob_commit(x->a, &bi)) < 0)
				return error;
			b->tmp[0] = '\0';
			bf->in.nblobs++;
		}
	}
	for (i = 0; i < x->nfeeds; i++) {
		bf = &x->feeds[i];
		if (bf->state != F_VERIFIED)
			continue;
		nb = bf->in.nblobs;
		if ((error = sync_incoming_finish(&bf->in)) < 0)
			return error;
		bf->state = F_DONE;
		name = sync_office_name(x->a, bf->f.office);
		sync_result_add(res, 0, "feed %s: %llu commit%s, %zu blob%s", name ? name : bf->hex,
		    (unsigned long long)(bf->in.new_seq - bf->ours), bf->in.new_seq - bf->ours ==
		    1 ? "" : "s", nb, nb == 1 ? "" : "s");
		free(name);
		if ((*wit = reallocarray(*wit, *nwit + 1, sizeof **wit)) == NULL)
			return CUSTODY_ENOMEM;
		snprintf((*wit)[*nwit].hex, sizeof (*wit)[*nwit].hex, "%s", bf->hex);
		(*wit)[*nwit].seq = bf->in.new_seq;
		snprintf((*wit)[*nwit].head, sizeof (*wit)[*nwit].head, "%s", bf->in.new_head);
		(*nwit)++;
	}
	return 0;
}

/*
 * A feed the bundle does not take further: one we hold as far (its head must be ours there,
 * else a fork: kept, said), or one it starts past where we stand (said).
 */
static void
ba_not_further(struct ba *x, struct ba_feed *bf, struct sync_result *res)
{
	char *name = sync_office_name(x->a, bf->f.office), *line = NULL;
	const char *who = name ? name : bf->hex;

	if (bf->ours < bf->f.base_seq)
		sync_result_add(res, 1, "feed %s: the bundle starts after its commit %llu and this "
		    "office holds %llu: not taken (ask %s for a bundle with --all or --since)", who,
		    (unsigned long long)bf->f.base_seq, (unsigned long long)bf->ours, x->name);
	else if (ba_behind(x, bf, &line) < 0)
		sync_result_add(res, 1, "feed %s: %s", who, line ? line : custody_error());
	free(line);
	free(name);
}

/* Everything authenticated: verify and apply, in rounds. */
static int
ba_apply(struct ba *x, struct sync_result *res)
{
	struct sync_witness *wit = NULL;
	struct ba_feed *bf;
	char *name;
	size_t i, nwit = 0, verified;
	int error = 0, r;

	for (i = 0; i < x->nfeeds; i++) {
		bf = &x->feeds[i];
		if ((bf->state == F_SKIP || bf->state == F_BEHIND) &&
		    sodium_memcmp(bf->f.office, x->a->office_pk, ED25519_PK_LEN) != 0 &&
		    ba_known(x->a, bf->f.office))
			ba_not_further(x, bf, res);
	}
	for (;;) {
		verified = 0;
		for (i = 0; i < x->nfeeds && error == 0; i++) {
			bf = &x->feeds[i];
			if (bf->state != F_PENDING || !ba_known(x->a, bf->f.office))
				continue;
			if ((r = ba_verify(x, bf, res)) < 0)
				error = r;
			else if (r == 0)
				verified++;
		}
		if (error < 0 || verified == 0)
			break;
		/* every feed of the round checked: only now does anything change */
		if ((error = ba_apply_round(x, res, &wit, &nwit)) < 0)
			break;
	}
	for (i = 0; i < x->nfeeds && error == 0; i++)
		if (x->feeds[i].state == F_PENDING) {
			name = sync_office_name(x->a, x->feeds[i].f.office);
			sync_result_add(res, 0, "feed %s: not taken (not an office this archive "
			    "knows)", name ? name : x->feeds[i].hex);
			free(name);
		}
	if (nwit > 0 && sync_witness(x->a, wit, nwit) < 0)
		log_warn("cannot write witness records: %s", custody_error());
	if (nwit > 0 && epochs_after_revocations(x->a) < 0)
		log_warn("data-key rotation after a revocation failed: %s", custody_error());
	if (nwit > 0 && epochs_after_admissions(x->a) < 0)
		log_warn("data-key epochs for offices admitted since: %s", custody_error());
	free(wit);
	return error;
}

/* The age layer's failure, said for a bundle. */
static int
ba_age_error(struct age_reader *ar, int error)
{
	if (age_reader_stage(ar) == AGE_STAGE_HEADER && error == CUSTODY_ENOTFOUND)
		return custody_fail(CUSTODY_EPERM, "this bundle is not for this office (it is "
		    "encrypted to another office's key, or its header is damaged)");
	if (age_reader_stage(ar) == AGE_STAGE_HEADER)
		return custody_fail(error, "not a bundle, or its header is damaged: %s",
		    custody_error());
	if (error == CUSTODY_ECRYPTO)
		return custody_fail(error, "the bundle is truncated or was tampered with: %s",
		    custody_error());
	return custody_fail(error, "the bundle is truncated or damaged: %s", custody_error());
}

int
bundle_apply(struct sync_result *res, char sender[static OFFICE_NAME_MAX + 1],
    struct archive *a, int fd)
{
	static const struct bundlefmt_cbs cbs = { ba_header, ba_feed, ba_part, ba_data,
	    ba_part_end };
	struct ba x = { .a = a, .fd = -1 };
	struct age_identity id;
	char path[4300];
	uint8_t xsk[32], rnd[8];
	size_t i;
	int error;

	sender[0] = '\0';
	randombytes_buf(rnd, sizeof rnd);
	hex_encode(x.tag, rnd, sizeof rnd);
	crypto_sign_ed25519_sk_to_curve25519(xsk, a->office_sk);
	error = age_identity_from_secret(&id, xsk);
	sodium_memzero(xsk, sizeof xsk);
	if (error < 0)
		return error;
	if ((error = bundlefmt_reader_new(&x.br, &cbs, &x)) < 0 ||
	    (error = ba_read_all(&x, &id, fd)) < 0)
		goto done;
	snprintf(sender, OFFICE_NAME_MAX + 1, "%s", x.name);
	error = ba_apply(&x, res);
	if (error == 0 && res->nmoved == 0 && res->nforks == 0)
		sync_result_add(res, 0, "nothing new");
done:
	sodium_memzero(&id, sizeof id);
	if (x.fd >= 0)
		close(x.fd);
	for (i = 0; i < x.nblobs; i++)
		if (x.blobs[i].tmp[0] != '\0') {
			snprintf(path, sizeof path, "%s/tmp/%s", a->path, x.blobs[i].tmp);
			unlink(path);
		}
	for (i = 0; i < x.nfeeds; i++) {
		if (x.feeds[i].begun)
			sync_incoming_free(&x.feeds[i].in);
	}
	free(x.feeds);
	free(x.blobs);
	bundlefmt_reader_free(x.br);
	return error;
}
