/*
 * The handovers of the feeds this office holds (handover.h). The feeds here were verified when
 * they came in (sync-verify.c follows each handover), so reading them trusts their signatures.
 * What was read last of each rotated feed stays in memory: the next read walks only the
 * commits past it, and the event loop can map a rotated office's key to its identity.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "handover.h"

#define HANDOVER_CACHE 64	/* rotated feeds remembered */

struct handover_cached {
	git_oid			head;
	struct handover_feed	f;
	int			used;
};

static struct handover_cached handover_cache[HANDOVER_CACHE];
static pthread_mutex_t handover_lock = PTHREAD_MUTEX_INITIALIZER;

struct handover_diff {
	int		records;	/* records the commit changes */
	git_oid		oid;		/* the last of them */
	char		name[TOKEN_HEX_LEN + 1];
};

static int
handover_diff_cb(const char *path, const git_oid *id, int is_tree, void *arg)
{
	struct handover_diff *d = arg;
	const char *name = strrchr(path, '/');

	if (is_tree || id == NULL)
		return 0;
	name = name ? name + 1 : path;
	if (++d->records > 1 || strlen(name) != TOKEN_HEX_LEN)
		return 1;	/* not a handover commit: stop */
	d->oid = *id;
	memcpy(d->name, name, TOKEN_HEX_LEN + 1);
	return 0;
}

int
handover_in_commit(struct archive *a, git_repository *repo, git_commit *c,
    uint8_t from[static ED25519_PK_LEN], uint8_t to[static ED25519_PK_LEN])
{
	struct handover_diff d = { 0 };
	git_commit *p = NULL;
	git_tree *old = NULL, *new = NULL;
	git_blob *b = NULL;
	json_t *doc = NULL;
	const char *kind;
	int error = 0, r;

	if (git_commit_tree(&new, c) < 0 || (git_commit_parentcount(c) == 1 &&
	    (git_commit_parent(&p, c, 0) < 0 || git_commit_tree(&old, p) < 0))) {
		error = custody_fail(CUSTODY_EIO, "a feed commit's tree is missing");
		goto done;
	}
	r = feed_tree_changes(repo, old, new, "", handover_diff_cb, &d);
	if (r < 0 && d.records <= 1) {
		error = r;
		goto done;
	}
	if (d.records != 1)
		goto done;
	if (git_blob_lookup(&b, repo, &d.oid) < 0) {
		error = custody_fail(CUSTODY_EIO, "a feed record is missing");
		goto done;
	}
	if (record_open(&doc, a, d.name, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b),
	    NULL) < 0)
		goto done;	/* not ours to read here: the sync that took it checked it */
	kind = record_kind(doc);
	if (kind == NULL || strcmp(kind, "handover") != 0)
		goto done;
	if ((error = handover_parse(doc, from, to)) == 0)
		error = 1;
done:
	json_decref(doc);
	git_blob_free(b);
	git_tree_free(old);
	git_tree_free(new);
	git_commit_free(p);
	return error;
}

/* Remember what was read of a rotated feed. */
static void
handover_remember(const git_oid *head, const struct handover_feed *f)
{
	size_t i, slot = HANDOVER_CACHE;

	pthread_mutex_lock(&handover_lock);
	for (i = 0; i < HANDOVER_CACHE; i++) {
		if (handover_cache[i].used && memcmp(handover_cache[i].f.ch.original,
		    f->ch.original, ED25519_PK_LEN) == 0) {
			slot = i;
			break;
		}
		if (!handover_cache[i].used && slot == HANDOVER_CACHE)
			slot = i;
	}
	if (slot == HANDOVER_CACHE)
		slot = (size_t)randombytes_uniform(HANDOVER_CACHE);
	handover_cache[slot].head = *head;
	handover_cache[slot].f = *f;
	handover_cache[slot].used = 1;
	pthread_mutex_unlock(&handover_lock);
}

/* What was read last of the feed original, if it rotated: 1 with *head and *f set. */
static int
handover_recall(const uint8_t original[static ED25519_PK_LEN], git_oid *head,
    struct handover_feed *f)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&handover_lock);
	for (i = 0; i < HANDOVER_CACHE && !found; i++)
		if (handover_cache[i].used && memcmp(handover_cache[i].f.ch.original, original,
		    ED25519_PK_LEN) == 0) {
			*head = handover_cache[i].head;
			*f = handover_cache[i].f;
			found = 1;
		}
	pthread_mutex_unlock(&handover_lock);
	return found;
}

int
handover_identity(const uint8_t key[static ED25519_PK_LEN],
    uint8_t identity[static ED25519_PK_LEN])
{
	size_t i;
	int error = CUSTODY_ENOTFOUND;

	pthread_mutex_lock(&handover_lock);
	for (i = 0; i < HANDOVER_CACHE && error < 0; i++)
		if (handover_cache[i].used && handover_cache[i].f.ch.n > 0 &&
		    sodium_memcmp(handover_cache[i].f.ch.current, key, ED25519_PK_LEN) == 0) {
			memcpy(identity, handover_cache[i].f.ch.original, ED25519_PK_LEN);
			error = 0;
		}
	pthread_mutex_unlock(&handover_lock);
	return error;
}

int
handover_handed_over(const uint8_t key[static ED25519_PK_LEN])
{
	const struct handover_feed *f;
	size_t i;
	unsigned j;
	int found = 0;

	pthread_mutex_lock(&handover_lock);
	for (i = 0; i < HANDOVER_CACHE && !found; i++) {
		f = &handover_cache[i].f;
		for (j = 0; handover_cache[i].used && j < f->ch.n && !found; j++)
			found = sodium_memcmp(f->step[j].from, key, ED25519_PK_LEN) == 0;
	}
	pthread_mutex_unlock(&handover_lock);
	return found;
}

int
handover_feed_step(struct handover_feed *f, uint64_t seq, int64_t time,
    const uint8_t from[static ED25519_PK_LEN], const uint8_t to[static ED25519_PK_LEN])
{
	struct handover_step *st;
	unsigned j;
	int error;

	if (memcmp(from, f->ch.current, ED25519_PK_LEN) != 0)
		return custody_fail(CUSTODY_EPROTO, "commit %llu: a handover from a key that does "
		    "not sign this feed", (unsigned long long)seq);
	for (j = 0; j < f->ch.n; j++)
		if (memcmp(to, f->step[j].from, ED25519_PK_LEN) == 0)
			return custody_fail(CUSTODY_EPROTO, "commit %llu: a handover to a key this "
			    "feed already used", (unsigned long long)seq);
	st = &f->step[f->ch.n < HANDOVER_MAX ? f->ch.n : 0];
	if ((error = handover_chain_step(&f->ch, seq, to)) < 0)
		return error;
	st->seq = seq;
	st->time = time;
	memcpy(st->from, from, ED25519_PK_LEN);
	memcpy(st->to, to, ED25519_PK_LEN);
	return 0;
}

/* Apply the handover commit c (seq) holds, if any, to f. */
static int
handover_feed_commit(struct archive *a, git_repository *repo, git_commit *c, uint64_t seq,
    struct handover_feed *f)
{
	uint8_t from[ED25519_PK_LEN], to[ED25519_PK_LEN];
	int r;

	if ((r = handover_in_commit(a, repo, c, from, to)) <= 0)
		return r;
	return handover_feed_step(f, seq, git_commit_time(c), from, to);
}

int
handover_feed_read(struct archive *a, git_repository *repo, const char *hex,
    const git_oid *head, struct handover_feed *f)
{
	uint8_t original[ED25519_PK_LEN];
	git_oid tip, known, *chain = NULL;
	git_commit *c = NULL, *p;
	struct handover_feed from;
	size_t n = 0, cap = 0, i;
	uint64_t seq, lamport, base = 0;
	char *ref, who[65];
	int error = 0, r;

	if (strlen(hex) != 2 * ED25519_PK_LEN || hex_decode(original, ED25519_PK_LEN, hex) < 0)
		return custody_fail(CUSTODY_EINVAL, "not a feed: %.70s", hex);
	memset(f, 0, sizeof *f);
	handover_chain_init(&f->ch, original);
	if (head == NULL) {
		if ((ref = feed_refname(hex)) == NULL)
			return CUSTODY_ENOMEM;
		r = git_reference_name_to_id(&tip, repo, ref);
		free(ref);
		if (r == GIT_ENOTFOUND)
			return 0;
		if (r < 0)
			return custody_fail(CUSTODY_EIO, "reading the feed ref of %.16s", hex);
		head = &tip;
	}
	/* a feed its first key still signs never rotated: a key is never used again */
	if (!handover_recall(original, &known, &from)) {
		if (git_commit_lookup(&c, repo, head) < 0)
			return custody_fail(CUSTODY_EIO, "feed %.16s: head commit missing", hex);
		if (feed_check_signature(repo, head, original) == 0) {
			if ((r = feed_parse_message(git_commit_message(c), &seq, &lamport,
			    who)) == 0)
				r = handover_feed_commit(a, repo, c, seq, f);
			git_commit_free(c);
			if (r == 0 && f->ch.n > 0)
				handover_remember(head, f);
			return r;
		}
		git_commit_free(c);
		c = NULL;
		handover_chain_init(&from.ch, original);
		memset(&known, 0, sizeof known);
	}
	/* back from head to what was read (or the first commit), then forward */
	if (git_commit_lookup(&c, repo, head) < 0)
		return custody_fail(CUSTODY_EIO, "feed %.16s: head commit missing", hex);
	for (;;) {
		if (git_oid_equal(git_commit_id(c), &known)) {
			*f = from;
			feed_parse_message(git_commit_message(c), &base, &lamport, who);
			break;
		}
		if (n == cap && (chain = reallocarray(chain, cap = cap ? 2 * cap : 64,
		    sizeof *chain)) == NULL) {
			error = CUSTODY_ENOMEM;
			goto done;
		}
		chain[n++] = *git_commit_id(c);
		if (git_commit_parentcount(c) == 0)
			break;
		if (git_commit_parent(&p, c, 0) < 0) {
			error = custody_fail(CUSTODY_EIO, "feed %.16s: a commit is missing", hex);
			goto done;
		}
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	c = NULL;
	for (i = n; i > 0 && error == 0; i--) {
		if (git_commit_lookup(&c, repo, &chain[i - 1]) < 0)
			error = custody_fail(CUSTODY_EIO, "feed %.16s: a commit is missing", hex);
		else
			error = handover_feed_commit(a, repo, c, base + n - i + 1, f);
		git_commit_free(c);
		c = NULL;
	}
	if (error == 0)
		handover_remember(head, f);
done:
	git_commit_free(c);
	free(chain);
	return error;
}

const uint8_t *
handover_key_at(const struct handover_feed *f, const uint8_t *original, uint64_t seq)
{
	const uint8_t *key = original;
	unsigned j;

	for (j = 0; j < f->ch.n && j < HANDOVER_MAX; j++)
		if (f->step[j].seq < seq)
			key = f->step[j].to;
	return key;
}

int
handover_current(struct archive *a, const uint8_t identity[static ED25519_PK_LEN],
    uint8_t current[static ED25519_PK_LEN])
{
	struct handover_feed *f;
	char hex[2 * ED25519_PK_LEN + 1];
	git_repository *repo;
	int error;

	memcpy(current, identity, ED25519_PK_LEN);
	if ((repo = archive_repo(a)) == NULL)
		return CUSTODY_EIO;
	if ((f = malloc(sizeof *f)) == NULL)
		return CUSTODY_ENOMEM;
	hex_encode(hex, identity, ED25519_PK_LEN);
	if ((error = handover_feed_read(a, repo, hex, NULL, f)) == 0)
		memcpy(current, f->ch.current, ED25519_PK_LEN);
	free(f);
	return error;
}
