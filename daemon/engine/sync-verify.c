/*
 * What a peer sends is checked before any of it counts: the pack's objects hash to their names
 * (the indexer), every new commit extends the one before it (parent, sequence, lamport clock,
 * the feed owner's trailer) and carries the feed owner's signature, every record opens at its
 * place, every blob hashes to its name and decrypts to the plaintext its record names. Only then
 * does the ref move, fast-forward only. A commit its owner signed that runs its clock too far
 * ahead (include/custody/trailers.h), or holds a record whose revision is not the commit's own
 * (rev.lamport its clock, rev.office its feed), is refused like a fork: kept as evidence, told.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custody/gitobj.h"
#include "custody/recobj.h"
#include "custody/trailers.h"
#include "custody/blobfmt.h"
#include "epochs.h"
#include "log.h"
#include "revocations.h"
#include "sync-verify.h"

/* Start receiving a feed we hold up to (seq, head) (head NULL: nothing yet). */
int
sync_incoming_begin(struct sync_incoming *in, struct archive *a, const char *hex,
    const uint8_t pk[static ED25519_PK_LEN], uint64_t seq, const git_oid *head)
{
	memset(in, 0, sizeof *in);
	in->a = a;
	in->since = archive_sync_mark(a);
	snprintf(in->hex, sizeof in->hex, "%s", hex);
	memcpy(in->pk, pk, ED25519_PK_LEN);
	in->old_seq = seq;
	if (head != NULL) {
		in->old_head = *head;
		in->have_old = 1;
	}
	return sync_quarantine_begin(&in->q, a);
}

/* Feed pack bytes to the quarantine (checked as they come, then indexed apart). */
int
sync_incoming_pack(struct sync_incoming *in, const void *data, size_t len)
{
	return sync_quarantine_pack(in->q, data, len);
}

/* The pack that arrived is complete: another of the same answer follows. */
int
sync_incoming_pack_end(struct sync_incoming *in)
{
	return sync_quarantine_pack_end(in->q);
}

/*
 * A record's revision stamp must be its commit's: rev.lamport the Custody-Lamport trailer (the
 * clock every office orders revisions by), rev.office the feed's owner. *disagree is set when
 * it is not.
 */
static int
verify_rev(struct sync_incoming *in, const char *name, json_t *doc, uint64_t lamport,
    int *disagree)
{
	json_t *rev = json_object_get(doc, "rev"), *l = json_object_get(rev, "lamport");
	const char *office = json_string_value(json_object_get(rev, "office"));

	if (json_is_integer(l) && json_integer_value(l) >= 0 &&
	    (uint64_t)json_integer_value(l) == lamport && office != NULL &&
	    strcmp(office, in->hex) == 0)
		return 0;
	*disagree = 1;
	return custody_fail(CUSTODY_EPROTO, "record %.16s: its revision (clock %lld, office %.16s) "
	    "is not its commit's (clock %llu, office %.16s)", name, json_is_integer(l) ?
	    (long long)json_integer_value(l) : -1LL, office ? office : "none",
	    (unsigned long long)lamport, in->hex);
}

/*
 * A data-key epoch record the feed's owner signed (not past its cut: those commits are refused
 * before their records are read): take the epoch in now, so that the records after it in this
 * pack open. One that names another creator, or is not well made, is refused like a fork; one
 * with no copy for this office leaves it out, which is no fault.
 */
static int
verify_epoch(struct sync_incoming *in, const char *name, json_t *doc, int *disagree)
{
	int error = epochs_accept(in->a, doc, in->pk);

	if (error == CUSTODY_EPERM || error == CUSTODY_EINVAL) {
		*disagree = 1;
		return custody_fail(CUSTODY_EPROTO, "record %.16s: data-key epoch refused: %s", name,
		    custody_error());
	}
	if (error < 0 && error != CUSTODY_ENOTFOUND)	/* not for this office: no fault */
		log_warn("feed %.16s: data-key epoch %s not taken: %s", in->hex, record_id(doc),
		    custody_error());
	return 0;
}

/* Check one incoming record entry of a commit at clock lamport; note the blob it needs. */
static int
verify_record(struct sync_incoming *in, git_repository *repo, const char *path,
    const git_oid *oid, uint64_t lamport, int *disagree)
{
	const char *name = strrchr(path, '/');
	char tok[TOKEN_HEX_LEN + 1], ad[96];
	uint8_t raw[WRAPPED_KEY_LEN + 4];
	struct sync_need *nd;
	const char *blob, *sha, *wrapped;
	const uint8_t *w;
	json_t *size;
	git_blob *b = NULL;
	json_t *doc = NULL;
	size_t rawlen;
	int error;

	name = name ? name + 1 : path;
	if (feedfmt_record_token(path) == NULL)
		return custody_fail(CUSTODY_EPROTO, "unexpected entry %s in the feed tree", path);
	if (git_blob_lookup(&b, repo, oid) < 0)
		return custody_fail(CUSTODY_EPROTO, "record %s missing from the pack", name);
	error = record_open(&doc, in->a, name, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), NULL);
	if (error < 0 && (w = recobj_wrapped(git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b))) != NULL && !epochs_held(in->a, w))
		in->epoch_missing = 1;
	git_blob_free(b);
	if (error < 0)
		return custody_fail(CUSTODY_EPROTO, "record %s: %s", name, custody_error());
	archive_token_hex(in->a, tok, record_id(doc));
	if (strcmp(tok, name) != 0) {
		error = custody_fail(CUSTODY_EPROTO, "record %s holds another id", name);
		goto done;
	}
	if ((error = verify_rev(in, name, doc, lamport, disagree)) < 0)
		goto done;
	in->records++;
	if (strcmp(record_kind(doc), "witness") != 0)
		in->news++;
	if (strcmp(record_kind(doc), "handover") == 0) {
		if ((error = handover_parse(doc, in->ho_from, in->ho_to)) < 0)
			*disagree = 1;	/* signed by the owner: refused, kept as evidence */
		in->handovers++;
		goto done;
	}
	if (strcmp(record_kind(doc), "epoch") == 0) {
		error = verify_epoch(in, name, doc, disagree);
		goto done;
	}
	if (strcmp(record_kind(doc), "evidence") != 0)
		goto done;
	blob = json_string_value(json_object_get(doc, "blob"));
	sha = json_string_value(json_object_get(doc, "sha256"));
	wrapped = json_string_value(json_object_get(doc, "key"));
	size = json_object_get(doc, "size");
	if (blob == NULL || sha == NULL || wrapped == NULL || !hex_is_lower(blob, 64) ||
	    !hex_is_lower(sha, 64) || !json_is_integer(size) || json_integer_value(size) < 0) {
		error = custody_fail(CUSTODY_EPROTO, "evidence record %s is incomplete", name);
		goto done;
	}
	if (blob_exists(in->a, blob))
		goto done;
	/* it holds file keys: grown (to 4, 8, 16...) with no copy left in freed memory */
	nd = in->need;
	if ((in->nneed == 0 || (in->nneed >= 4 && (in->nneed & (in->nneed - 1)) == 0)) &&
	    bytes_grow((void **)&nd, in->nneed * sizeof *nd, (in->nneed ? 2 * in->nneed : 4) *
	    sizeof *nd) < 0) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	in->need = nd;
	nd = &in->need[in->nneed];
	snprintf(nd->name, sizeof nd->name, "%s", blob);
	snprintf(nd->sha256, sizeof nd->sha256, "%s", sha);
	nd->max = blobfmt_max_stored((uint64_t)json_integer_value(size));	/* 0: none fits */
	snprintf(ad, sizeof ad, "custody blob key %s", sha);
	if (sodium_base642bin(raw, sizeof raw, wrapped, strlen(wrapped), NULL, &rawlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    epochs_unwrap(in->a, nd->key, raw, rawlen, ad) < 0) {
		error = custody_fail(CUSTODY_EPROTO, "evidence %s: its file key does not open", sha);
		goto done;
	}
	in->nneed++;
done:
	json_decref(doc);
	return error;
}

struct diff_ctx {
	struct sync_incoming	*in;
	git_repository		*repo;
	int			 error;
	uint64_t		 lamport;	/* of the commit whose changes these are */
	int			 disagree;	/* a record's revision is not its commit's */
};

static int
verify_change_cb(const char *path, const git_oid *id, int is_tree, void *arg)
{
	struct diff_ctx *x = arg;

	if (id == NULL) {
		x->error = custody_fail(CUSTODY_EPROTO, "a commit deletes %s: feeds never delete",
		    path);
		return -1;
	}
	sync_quarantine_use(x->in->q, id);
	if (is_tree)
		return 0;
	if ((x->error = verify_record(x->in, x->repo, path, id, x->lamport, &x->disagree)) < 0)
		return -1;
	return 0;
}

/*
 * Refuse a commit its owner signed, keeping it as evidence (sync-feeds.c) and the line for the
 * operator in in->refused. Returns CUSTODY_EPROTO.
 */
static int
sync_incoming_refuse(struct sync_incoming *in, git_commit *c, uint64_t seq, const char *reason)
{
	git_odb_object *o = NULL;
	git_odb *odb = NULL;
	char why[400];
	int r;

	snprintf(why, sizeof why, "%s", reason);
	r = git_repository_odb(&odb, in->repo) < 0 ? -1 : git_odb_read(&o, odb, git_commit_id(c));
	git_odb_free(odb);
	if (r < 0)
		return custody_fail(CUSTODY_EPROTO, "%s", why);
	free(in->refused);
	in->refused = NULL;
	if (sync_record_refused(in->a, in->hex, seq, why, git_odb_object_data(o),
	    git_odb_object_size(o), &in->refused) < 0)
		log_warn("cannot keep a refused commit as evidence: %s", custody_error());
	git_odb_object_free(o);
	return custody_fail(CUSTODY_EPROTO, "%s", in->refused ? in->refused : why);
}

/*
 * The commits chain[from..n) of an office revoked after its commit cut: each its owner signed
 * is refused and kept as evidence, the line for the operator in in->refused. 0 when commits
 * before them are left to take, else CUSTODY_EPROTO.
 */
static int
sync_incoming_revoked(struct sync_incoming *in, git_commit **chain, uint64_t from, uint64_t n,
    uint64_t cut)
{
	git_repository *repo = in->repo;
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	char why[200], who[65], *line = NULL, *first = NULL;
	uint64_t i, cseq, clam;

	snprintf(why, sizeof why, "its office is revoked after its commit %llu",
	    (unsigned long long)cut);
	for (i = from; i < n; i++) {
		if (feed_parse_message(git_commit_message(chain[i]), &cseq, &clam, who) < 0 ||
		    feed_check_signature(repo, git_commit_id(chain[i]), in->keys->ch.current) < 0 ||
		    (odb == NULL && git_repository_odb(&odb, repo) < 0) ||
		    git_odb_read(&o, odb, git_commit_id(chain[i])) < 0)
			break;
		if (sync_record_refused(in->a, in->hex, cseq, why, git_odb_object_data(o),
		    git_odb_object_size(o), &line) < 0)
			log_warn("cannot keep a refused commit as evidence: %s", custody_error());
		git_odb_object_free(o);
		o = NULL;
		if (first == NULL)
			first = line;
		else
			free(line);
		line = NULL;
	}
	git_odb_free(odb);
	free(in->refused);
	if ((in->refused = first) == NULL)
		in->refused = strdup(why);
	if (from > 0)
		return 0;
	return custody_fail(CUSTODY_EPROTO, "%s", in->refused ? in->refused : why);
}

/*
 * Refuse commit chain[i] (kept as evidence, the line in in->refused) and take the commits
 * before it: 0 when there are some, else CUSTODY_EPROTO.
 */
static int
sync_incoming_stop(struct sync_incoming *in, git_commit **chain, uint64_t i, uint64_t seq,
    const char *why, uint64_t *taken)
{
	int error = sync_incoming_refuse(in, chain[i], seq, why);

	if (in->refused == NULL || i == 0)
		return error;
	*taken = i;
	return 0;
}

/* The key that made commit c's signature, whichever it is; an error when none verifies. */
static int
verify_signer(git_repository *repo, git_commit *c, uint8_t signer[static ED25519_PK_LEN])
{
	git_buf sig = { 0 }, data = { 0 };
	int error;

	if (git_commit_extract_signature(&sig, &data, repo, (git_oid *)git_commit_id(c),
	    NULL) < 0)
		return CUSTODY_ENOTFOUND;
	error = sshsig_verify(signer, sig.ptr, sig.size, "git", data.ptr, data.size);
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return error;
}

/*
 * A commit whose signature is not the feed's current key's: kept as evidence when a key the
 * feed handed over made it (a seized old key going on), or when it holds a handover (one the
 * feed's key did not sign); any other is a forged signature.
 */
static int
verify_wrong_key(struct sync_incoming *in, git_commit **chain, uint64_t i, uint64_t seq,
    uint64_t *taken)
{
	const struct handover_feed *k = in->keys;
	uint8_t signer[ED25519_PK_LEN], from[ED25519_PK_LEN], to[ED25519_PK_LEN];
	char *got = NULL, *want = NULL, why[300], oid[GIT_OID_HEXSZ + 1];
	int old = 0, ho = 0, error;
	unsigned j;

	git_oid_tostr(oid, sizeof oid, git_commit_id(chain[i]));
	if (verify_signer(in->repo, chain[i], signer) < 0)
		return custody_fail(CUSTODY_EPROTO, "commit %s: forged signature (%s)", oid,
		    "signature does not verify");
	old = memcmp(signer, k->ch.original, ED25519_PK_LEN) == 0;
	for (j = 0; j < k->ch.n && !old; j++)
		old = memcmp(signer, k->step[j].from, ED25519_PK_LEN) == 0;
	if (!old && (ho = handover_in_commit(in->a, in->repo, chain[i], from, to)) <= 0)
		return custody_fail(CUSTODY_EPROTO, "commit %s: forged signature (signed by "
		    "another key)", oid);
	sshkey_fingerprint(&got, signer);
	sshkey_fingerprint(&want, k->ch.current);
	snprintf(why, sizeof why, "%s signed by %s, not by the feed's current key %s",
	    old ? "a commit after the feed handed its key over," : "a handover", got ? got : "?",
	    want ? want : "?");
	free(got);
	free(want);
	error = sync_incoming_stop(in, chain, i, seq, why, taken);
	return error;
}

/*
 * The commit chain[i], signed by the feed's current key, holds a handover: it must hold it
 * alone, hand over from that key, to a key the feed never used. Then later commits need the
 * new key. Any other is refused and kept as evidence.
 */
static int
verify_handover(struct sync_incoming *in, git_commit **chain, uint64_t i, uint64_t seq,
    uint64_t *taken)
{
	char why[300];

	if (in->handovers > 1 || in->records != 1)
		snprintf(why, sizeof why, "a handover commit must hold its handover record alone");
	else if (handover_feed_step(in->keys, seq, git_commit_time(chain[i]), in->ho_from,
	    in->ho_to) < 0)
		snprintf(why, sizeof why, "%s", custody_error());
	else
		return 0;
	return sync_incoming_stop(in, chain, i, seq, why, taken);
}

/* Take in an epoch record found at path of a new commit (they are wrapped under epoch 0). */
static int
scan_change_cb(const char *path, const git_oid *id, int is_tree, void *arg)
{
	struct sync_incoming *in = arg;
	const char *name = strrchr(path, '/');
	const uint8_t *w;
	git_blob *b = NULL;
	json_t *doc = NULL;

	name = name ? name + 1 : path;
	if (is_tree || id == NULL || strlen(name) != TOKEN_HEX_LEN ||
	    git_blob_lookup(&b, in->repo, id) < 0)
		return 0;
	if ((w = recobj_wrapped(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b))) != NULL &&
	    !epochs_named(w) && record_open(&doc, in->a, name, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), NULL) == 0 && strcmp(record_kind(doc), "epoch") == 0)
		epochs_accept(in->a, doc, in->pk);	/* refused or not: checked again */
	json_decref(doc);
	git_blob_free(b);
	return 0;
}

/*
 * Take in the data-key epochs the commits chain[0..n) announce, of those the feed's owner
 * signed up to its cut; the number of epochs newly held.
 */
static int
sync_epochs_scan(struct sync_incoming *in, git_commit **chain, uint64_t n, int revoked,
    uint64_t cut)
{
	git_commit *pc;
	git_tree *old, *new;
	uint64_t i, cseq, clam;
	size_t held = epochs_count(in->a);
	char who[65];

	for (i = 0; i < n; i++) {
		if (feed_parse_message(git_commit_message(chain[i]), &cseq, &clam, who) < 0 ||
		    (revoked && cseq > cut) ||
		    feed_check_signature(in->repo, git_commit_id(chain[i]),
		    handover_key_at(in->keys, in->pk, cseq)) < 0)
			break;
		old = new = NULL;
		pc = NULL;
		if (git_commit_parentcount(chain[i]) == 1 && (git_commit_parent(&pc, chain[i], 0) < 0 ||
		    git_commit_tree(&old, pc) < 0)) {
			git_commit_free(pc);
			break;
		}
		git_commit_free(pc);
		if (git_commit_tree(&new, chain[i]) == 0)
			feed_tree_changes(in->repo, old, new, "", scan_change_cb, in);
		git_tree_free(old);
		git_tree_free(new);
	}
	return (int)(epochs_count(in->a) - held);
}

/* The feed's handovers up to the head we hold: the key its next commit needs. */
static int
sync_incoming_keys(struct sync_incoming *in, git_repository *repo)
{
	if (in->keys == NULL && (in->keys = malloc(sizeof *in->keys)) == NULL)
		return CUSTODY_ENOMEM;
	memset(in->keys, 0, sizeof *in->keys);
	handover_chain_init(&in->keys->ch, in->pk);
	if (in->have_old)
		return handover_feed_read(in->a, repo, in->hex, &in->old_head, in->keys);
	return 0;
}

/* Index the pack, then check every new commit from ours to the head the peer named. */
int
sync_incoming_verify(struct sync_incoming *in, const char *head, uint64_t seq)
{
	git_repository *repo = NULL;
	git_commit **chain = NULL, *c = NULL, *p;
	git_tree *old = NULL, *new = NULL;
	struct diff_ctx x = { in, NULL, 0 };
	uint64_t n = seq - in->old_seq, i, cseq, clam, last_lamport = 0, seen, cut = 0, taken;
	uint64_t first_lamport, failed = 0;
	size_t need_at = 0, failed_need = 0;
	char who[65], oid[GIT_OID_HEXSZ + 1];
	size_t nneed;
	int error = 0, revoked, scanned = 0;

	if ((error = sync_quarantine_close(in->q, &repo)) < 0)
		return error;
	in->repo = x.repo = repo;
	if (seq <= in->old_seq || n > 10000000 || git_oid_fromstr(&in->new_oid, head) < 0)
		return custody_fail(CUSTODY_EPROTO, "the peer named a bad head");
	if ((error = feed_clock_seen(in->a, &seen)) < 0)
		return error;
	revoked = revocations_cut(in->a, in->pk, &cut);
	taken = n;
	if ((error = sync_incoming_keys(in, repo)) < 0)
		return error;
	if ((chain = calloc(n, sizeof *chain)) == NULL)
		return CUSTODY_ENOMEM;
	if (git_commit_lookup(&c, repo, &in->new_oid) < 0) {
		error = custody_fail(CUSTODY_EPROTO, "the head commit is not in the pack");
		goto done;
	}
	for (i = n; i > 0; i--) {
		chain[i - 1] = c;
		if (git_commit_parentcount(c) > 1) {
			error = custody_fail(CUSTODY_EPROTO, "a merge commit in a feed");
			goto done;
		}
		if (i == 1)
			break;
		if (git_commit_parentcount(c) != 1 || git_commit_parent(&p, c, 0) < 0) {
			error = custody_fail(CUSTODY_EPROTO, "the chain breaks before our head");
			goto done;
		}
		c = p;
	}
	/* the oldest new commit must sit on our head (or be the first) */
	if (in->have_old ? git_commit_parentcount(chain[0]) != 1 ||
	    !git_oid_equal(git_commit_parent_id(chain[0], 0), &in->old_head) :
	    git_commit_parentcount(chain[0]) != 0) {
		error = custody_fail(CUSTODY_EPROTO, "the new commits do not extend ours");
		goto done;
	}
	if (in->have_old) {
		git_commit *oc = NULL;

		if (git_commit_lookup(&oc, repo, &in->old_head) == 0) {
			feed_parse_message(git_commit_message(oc), &cseq, &last_lamport, who);
			git_commit_free(oc);
		}
	}
	first_lamport = last_lamport;
again:
	for (i = 0; i < n && error == 0; i++) {
		git_oid_tostr(oid, sizeof oid, git_commit_id(chain[i]));
		if (feed_parse_message(git_commit_message(chain[i]), &cseq, &clam, who) < 0 ||
		    cseq != in->old_seq + i + 1 || strcmp(who, in->hex) != 0 ||
		    clam <= last_lamport) {
			error = custody_fail(CUSTODY_EPROTO, "commit %s: wrong sequence, clock or "
			    "office", oid);
			break;
		}
		last_lamport = clam;
		if (feed_check_signature(repo, git_commit_id(chain[i]), in->keys->ch.current) <
		    0) {
			error = verify_wrong_key(in, chain, i, cseq, &taken);
			break;
		}
		if (revoked && cseq > cut) {
			error = sync_incoming_revoked(in, chain, i, n, cut);
			taken = i;
			break;
		}
		if (trailers_clock_check(clam, seen) < 0) {
			error = sync_incoming_refuse(in, chain[i], cseq, custody_error());
			break;
		}
		old = NULL;
		if (git_commit_parentcount(chain[i]) == 1) {
			git_commit *pc = NULL;

			if (git_commit_parent(&pc, chain[i], 0) < 0 || git_commit_tree(&old, pc) < 0)
				error = custody_fail(CUSTODY_EPROTO, "commit %s: parent tree missing",
				    oid);
			git_commit_free(pc);
		}
		if (error == 0 && git_commit_tree(&new, chain[i]) < 0)
			error = custody_fail(CUSTODY_EPROTO, "commit %s: tree missing", oid);
		x.lamport = clam;
		in->handovers = 0;
		in->records = 0;
		nneed = in->nneed;
		need_at = in->nneed;
		if (error == 0) {
			sync_quarantine_use(in->q, git_commit_id(chain[i]));
			sync_quarantine_use(in->q, git_tree_id(new));
		}
		if (error == 0 && feed_tree_changes(repo, old, new, "", verify_change_cb, &x) != 0) {
			failed = i;
			failed_need = need_at;
			error = x.disagree ? sync_incoming_refuse(in, chain[i], cseq,
			    custody_error()) : x.error < 0 ? x.error : custody_fail(CUSTODY_EPROTO,
			    "commit %s: %s", oid, custody_error());
		}
		git_tree_free(old);
		git_tree_free(new);
		old = new = NULL;
		if (error == 0 && in->handovers > 0 && ((error = verify_handover(in, chain, i, cseq,
		    &taken)) < 0 || taken < n)) {
			in->nneed = nneed;	/* the refused commit's blobs are not fetched */
			break;
		}
	}
	/*
	 * A record wrapped under an epoch that a later commit of this pack announces (an office
	 * admitted after a rotation gets its copy in a new revision of the epoch record): take
	 * the epochs in and check the commits again, once.
	 */
	if (error < 0 && in->epoch_missing && in->refused == NULL && !scanned) {
		scanned = 1;
		if (sync_epochs_scan(in, chain, n, revoked, cut) > 0) {
			error = x.error = x.disagree = in->epoch_missing = 0;
			last_lamport = first_lamport;
			taken = n;
			if (in->need != NULL)
				sodium_memzero(in->need, in->nneed * sizeof *in->need);
			free(in->need);
			in->need = NULL;
			in->nneed = 0;
			if ((error = sync_incoming_keys(in, repo)) < 0)
				goto done;
			goto again;
		}
	}
	/*
	 * Still missing: take the commits before the first that needs it (they may admit the
	 * office whose feed brings the epoch); the caller asks for the rest again later.
	 */
	if (error < 0 && in->epoch_missing && in->refused == NULL && failed > 0) {
		log_info("feed %.16s: taken up to commit %llu, the next needs a data-key epoch not "
		    "held yet (%s)", in->hex, (unsigned long long)(in->old_seq + failed),
		    custody_error());
		error = 0;
		taken = failed;
		if (in->need != NULL)
			sodium_memzero(in->need + failed_need, (in->nneed - failed_need) *
			    sizeof *in->need);
		in->nneed = failed_need;
	}
	/* a pack cut short by a revocation holds objects of refused commits: only used ones enter */
	if (error == 0 && taken == n && !in->overlap)
		error = sync_quarantine_only(in->q);
	in->partial = taken < n || in->overlap;
	in->new_seq = seq;
	snprintf(in->new_head, sizeof in->new_head, "%s", head);
	if (error == 0 && taken < n) {	/* up to a revoked office's cut, or an epoch */
		in->new_seq = in->old_seq + taken;
		in->new_oid = *git_commit_id(chain[taken - 1]);
		git_oid_tostr(in->new_head, sizeof in->new_head, &in->new_oid);
	}
done:
	for (i = 0; i < n; i++)
		git_commit_free(chain[i]);
	free(chain);
	return error;
}

/* Does the feed's ref already hold new_oid (another session took it while this one checked)? */
static int
sync_incoming_taken(struct sync_incoming *in, const char *name)
{
	git_reference *ref = NULL;
	const git_oid *cur;
	int taken = 0;

	if (git_reference_lookup(&ref, archive_repo(in->a), name) < 0)
		return 0;
	if ((cur = git_reference_target(ref)) != NULL)
		taken = git_oid_equal(cur, &in->new_oid) || git_graph_descendant_of(
		    archive_repo(in->a), cur, &in->new_oid) == 1;
	git_reference_free(ref);
	return taken;
}

/* Everything checked: make it durable, move the ref if it still is where we left it. */
int
sync_incoming_finish(struct sync_incoming *in)
{
	struct archive *a = in->a;
	git_reference *ref = NULL;
	char *name;
	int error;

	if ((name = feed_refname(in->hex)) == NULL)
		return CUSTODY_ENOMEM;
	pthread_mutex_lock(&a->write_lock);
	if ((error = in->partial ? sync_quarantine_admit_used(in->q) :
	    sync_quarantine_admit(in->q)) < 0 || (error = archive_sync_since(a, in->since)) < 0)
		goto done;
	if (in->have_old)
		error = git_reference_create_matching(&ref, archive_repo(a), name, &in->new_oid, 1,
		    &in->old_head, "sync");
	else
		error = git_reference_create(&ref, archive_repo(a), name, &in->new_oid, 0, "sync");
	if (error < 0 && sync_incoming_taken(in, name)) {
		error = 0;	/* another session (both ways, or a timer's) took it meanwhile */
		goto taken;
	}
	if (error < 0) {
		error = custody_fail(CUSTODY_EIO, "cannot move the feed ref (moved meanwhile?): %s",
		    git_error_last() ? git_error_last()->message : "?");
		goto done;
	}
	if ((error = archive_sync_since(a, in->since)) < 0)
		goto done;
taken:
	sync_quarantine_release(in->q);
	in->repo = NULL;
	if (in->keys != NULL && in->keys->ch.n > 0 &&	/* remembered for the peer's new key */
	    handover_feed_read(a, archive_repo(a), in->hex, &in->new_oid, in->keys) < 0)
		log_warn("reading the handovers of feed %.16s: %s", in->hex, custody_error());
	if (index_catch_up(a, 0) < 0)
		log_warn("index catch-up after sync: %s", custody_error());
	archive_packs_after(a);
done:
	pthread_mutex_unlock(&a->write_lock);
	git_reference_free(ref);
	free(name);
	return error;
}

void
sync_incoming_free(struct sync_incoming *in)
{
	sync_quarantine_free(in->q);
	if (in->need != NULL)
		sodium_memzero(in->need, in->nneed * sizeof *in->need);
	free(in->need);
	free(in->refused);
	free(in->keys);
	memset(in, 0, sizeof *in);
}
