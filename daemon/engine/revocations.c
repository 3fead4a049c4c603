/* Revocations: which seized offices are cut off, and from where (see revocations.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "revocations.h"
#include "sync-feeds.h"

#define REVOCATIONS_KEY_LEN 32

size_t
revocations_quorum(size_t others, int conf)
{
	if (conf > 0)
		return (size_t)conf;
	return others / 2 + 1;
}

/* The admitted office with key pk, or -1. */
static ssize_t
revocations_admitted(const struct office *v, size_t n, const uint8_t pk[static ED25519_PK_LEN])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(v[i].pk, pk, ED25519_PK_LEN) == 0)
			return (ssize_t)i;
	return -1;
}

/* The revocation of (target, from_seq) in v, or -1. */
static ssize_t
revocations_find(const struct revocation *v, size_t n, const uint8_t target[static 32],
    uint64_t from_seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(v[i].target, target, ED25519_PK_LEN) == 0 && v[i].from_seq == from_seq)
			return (ssize_t)i;
	return -1;
}

/* The effective revocation of pk in v, or -1. */
static ssize_t
revocations_effective(const struct revocation *v, size_t n, const uint8_t pk[static 32])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].effective && memcmp(v[i].target, pk, ED25519_PK_LEN) == 0)
			return (ssize_t)i;
	return -1;
}

static int
revocations_order(const void *x, const void *y)
{
	const struct revocation *a = x, *b = y;
	int c = memcmp(a->target, b->target, ED25519_PK_LEN);

	if (c != 0)
		return c;
	return a->from_seq < b->from_seq ? -1 : a->from_seq > b->from_seq;
}

static int
revocations_by_clock(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return *a < *b ? -1 : *a > *b;
}

/*
 * Mark which signers of r count now (given who is already revoked in v) and, when they reach
 * the quorum, the clock at which the quorum completed (*at). 1 when it does.
 */
static int
revocations_count(struct revocation *r, const struct revocation *v, size_t nv,
    const struct revocation_sig *sigs, size_t nsigs, const struct office *admitted,
    size_t nadmitted, int quorum_conf, uint64_t *at)
{
	uint64_t clocks[REVOCATIONS_SIGNERS_MAX];
	size_t j, k, counted = 0;

	/*
	 * The others are every admitted office but the target, revoked ones included: revoking
	 * one office does not lower the bar for revoking the next (with three offices, the two
	 * left cannot cut each other off alone).
	 */
	r->quorum = revocations_quorum(nadmitted > 0 ? nadmitted - 1 : 0, quorum_conf);
	for (j = 0; j < r->nsigners; j++) {
		r->signers[j].counted = 0;
		if (revocations_admitted(admitted, nadmitted, r->signers[j].pk) < 0 ||
		    memcmp(r->signers[j].pk, r->target, ED25519_PK_LEN) == 0)
			continue;
		/* a revoked office revokes no one, whenever it signed */
		if (revocations_effective(v, nv, r->signers[j].pk) >= 0)
			continue;
		/* its earliest signature on this revocation */
		for (k = 0; k < nsigs; k++) {
			if (memcmp(sigs[k].signer, r->signers[j].pk, ED25519_PK_LEN) != 0 ||
			    memcmp(sigs[k].target, r->target, ED25519_PK_LEN) != 0 ||
			    sigs[k].from_seq != r->from_seq)
				continue;
			if (!r->signers[j].counted || sigs[k].lamport < clocks[counted - 1]) {
				if (!r->signers[j].counted)
					counted++;
				r->signers[j].counted = 1;
				clocks[counted - 1] = sigs[k].lamport;
			}
		}
	}
	if (counted < r->quorum || r->quorum == 0)
		return 0;
	qsort(clocks, counted, sizeof *clocks, revocations_by_clock);
	*at = clocks[r->quorum - 1];
	return 1;
}

int
revocations_compute(const struct revocation_sig *sigs, size_t nsigs,
    const struct office *admitted, size_t nadmitted, int quorum_conf,
    struct revocation **out, size_t *n)
{
	struct revocation *v = NULL, *grown, *r;
	uint64_t at, best_at = 0;
	ssize_t k, best;
	size_t i, j;

	*out = NULL;
	*n = 0;
	for (i = 0; i < nsigs; i++) {
		if (revocations_admitted(admitted, nadmitted, sigs[i].target) < 0)
			continue;
		if ((k = revocations_find(v, *n, sigs[i].target, sigs[i].from_seq)) < 0) {
			if ((grown = reallocarray(v, *n + 1, sizeof *v)) == NULL) {
				free(v);
				*n = 0;
				return CUSTODY_ENOMEM;
			}
			v = grown;
			k = (ssize_t)(*n)++;
			memset(&v[k], 0, sizeof *v);
			memcpy(v[k].target, sigs[i].target, ED25519_PK_LEN);
			v[k].from_seq = sigs[i].from_seq;
		}
		r = &v[k];
		for (j = 0; j < r->nsigners; j++)
			if (memcmp(r->signers[j].pk, sigs[i].signer, ED25519_PK_LEN) == 0)
				break;
		if (j == r->nsigners && r->nsigners < REVOCATIONS_SIGNERS_MAX)
			memcpy(r->signers[r->nsigners++].pk, sigs[i].signer, ED25519_PK_LEN);
	}
	if (*n > 0)
		qsort(v, *n, sizeof *v, revocations_order);
	/* take effect one at a time, the first quorum completed first */
	for (;;) {
		best = -1;
		for (i = 0; i < *n; i++) {
			if (v[i].effective || revocations_effective(v, *n, v[i].target) >= 0)
				continue;
			if (revocations_count(&v[i], v, *n, sigs, nsigs, admitted, nadmitted,
			    quorum_conf, &at) && (best < 0 || at < best_at)) {
				best = (ssize_t)i;
				best_at = at;
			}
		}
		if (best < 0)
			break;
		v[best].effective = 1;
	}
	/* what each pending one counts in the end */
	for (i = 0; i < *n; i++)
		if (!v[i].effective)
			revocations_count(&v[i], v, *n, sigs, nsigs, admitted, nadmitted,
			    quorum_conf, &at);
	*out = v;
	return 0;
}

void
revocations_id(char id[static ID_MAX + 1], const uint8_t pk[static ED25519_PK_LEN],
    uint64_t from_seq)
{
	char hex[2 * ED25519_PK_LEN + 1];

	hex_encode(hex, pk, ED25519_PK_LEN);
	snprintf(id, ID_MAX + 1, "revocation-%s-%" PRIu64, hex, from_seq);
}

/* Read one revocation record of feed (a signer) into sig; EINVAL when it is not well made. */
static int
revocations_parse(struct revocation_sig *sig, json_t *doc)
{
	const char *id = record_id(doc), *office;
	json_t *from = json_object_get(doc, "from_seq");
	char want[ID_MAX + 1];

	office = json_string_value(json_object_get(doc, "office"));
	if (office == NULL || strlen(office) != 2 * ED25519_PK_LEN || !hex_is_lower(office,
	    2 * ED25519_PK_LEN) || hex_decode(sig->target, ED25519_PK_LEN, office) < 0 ||
	    !json_is_integer(from) || json_integer_value(from) < 0)
		return CUSTODY_EINVAL;
	sig->from_seq = (uint64_t)json_integer_value(from);
	revocations_id(want, sig->target, sig->from_seq);
	if (id == NULL || strcmp(id, want) != 0)
		return CUSTODY_EINVAL;
	return 0;
}

/* Every revocation record held, as signatures. */
static int
revocations_read(struct archive *a, struct revocation_sig **out, size_t *n)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	struct revocation_sig *v = NULL, *grown, sig;
	char hex[TOKEN_HEX_LEN + 1], last[65] = "";
	const char *office;
	size_t per = 0;
	json_t *doc;
	int rc, error = 0;

	*out = NULL;
	*n = 0;
	if (db == NULL)
		return CUSTODY_EIO;
	if (sqlite3_prepare_v2(db, "SELECT tok, " INDEX_OFFICE_KEY("office") " AS okey,"
	    " first_seq, lamport FROM records WHERE kind = 'revocation' ORDER BY okey, first_seq,"
	    " tok", -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	while (error == 0 && *n < REVOCATIONS_RECS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		office = (const char *)sqlite3_column_text(st, 1);
		memset(&sig, 0, sizeof sig);
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN || office == NULL ||
		    strlen(office) != 2 * ED25519_PK_LEN ||
		    hex_decode(sig.signer, ED25519_PK_LEN, office) < 0)
			continue;
		per = strcmp(last, office) == 0 ? per + 1 : 1;
		snprintf(last, sizeof last, "%s", office);
		if (per > REVOCATIONS_PER_FEED)
			continue;
		sig.seq = (uint64_t)sqlite3_column_int64(st, 2);
		sig.lamport = (uint64_t)sqlite3_column_int64(st, 3);
		hex_encode(hex, sqlite3_column_blob(st, 0), TOKEN_LEN);
		doc = NULL;
		if (feed_read_token(a, office, hex, &doc) < 0 || revocations_parse(&sig, doc) < 0) {
			log_warn("revocation record %s in feed %.16s unreadable or malformed: not "
			    "counted", hex, office);
			json_decref(doc);
			continue;
		}
		json_decref(doc);
		if ((grown = reallocarray(v, *n + 1, sizeof *v)) == NULL) {
			error = CUSTODY_ENOMEM;
			break;
		}
		v = grown;
		v[(*n)++] = sig;
	}
	sqlite3_finalize(st);
	if (error < 0) {
		free(v);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

/* The last revocations computed, for as long as what they were made of stays the same. */
static pthread_mutex_t revocations_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int			 valid;
	uint8_t			 key[REVOCATIONS_KEY_LEN];
	struct revocation	*v;
	size_t			 n;
} revocations_cache;

/*
 * What the revocations depend on: this archive, the quorum, the admitted offices and which
 * revision of each revocation record is current (as offices_key does for the offices).
 */
static int
revocations_key(struct archive *a, const struct office *admitted, size_t nadmitted,
    uint8_t key[static REVOCATIONS_KEY_LEN])
{
	crypto_generichash_state h;
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	int64_t nums[4];
	size_t i;
	int rc;

	if (db == NULL)
		return CUSTODY_EIO;
	if (sqlite3_prepare_v2(db, "SELECT tok, " INDEX_OFFICE_KEY("office") " AS okey, seq,"
	    " first_seq, lamport FROM records WHERE kind = 'revocation' ORDER BY okey, first_seq,"
	    " tok", -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	crypto_generichash_init(&h, NULL, 0, REVOCATIONS_KEY_LEN);
	crypto_generichash_update(&h, (const uint8_t *)a->path, strlen(a->path) + 1);
	nums[0] = a->conf.revoke_quorum;
	nums[1] = (int64_t)nadmitted;
	crypto_generichash_update(&h, (const uint8_t *)nums, 2 * sizeof *nums);
	for (i = 0; i < nadmitted; i++)
		crypto_generichash_update(&h, admitted[i].pk, ED25519_PK_LEN);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		crypto_generichash_update(&h, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		crypto_generichash_update(&h, sqlite3_column_text(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1) + 1);
		nums[0] = sqlite3_column_bytes(st, 0);
		nums[1] = sqlite3_column_int64(st, 2);
		nums[2] = sqlite3_column_int64(st, 3);
		nums[3] = sqlite3_column_int64(st, 4);
		crypto_generichash_update(&h, (const uint8_t *)nums, sizeof nums);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	crypto_generichash_final(&h, key, REVOCATIONS_KEY_LEN);
	return 0;
}

/* A copy of the n revocations in v into *out (none when n is 0). */
static int
revocations_copy(struct revocation **out, const struct revocation *v, size_t n)
{
	*out = NULL;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof **out)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(*out, v, n * sizeof **out);
	return 0;
}

int
revocations_list(struct archive *a, struct revocation **out, size_t *n)
{
	struct revocation_sig *sigs = NULL;
	struct office *admitted = NULL;
	uint8_t key[REVOCATIONS_KEY_LEN];
	size_t nsigs = 0, nadmitted = 0;
	int error, hit = 0;

	*out = NULL;
	*n = 0;
	if ((error = offices_list(a, &admitted, &nadmitted)) < 0 ||
	    (error = revocations_key(a, admitted, nadmitted, key)) < 0)
		goto done;
	pthread_mutex_lock(&revocations_cache_lock);
	if (revocations_cache.valid && sodium_memcmp(revocations_cache.key, key, sizeof key) == 0) {
		hit = 1;
		if ((error = revocations_copy(out, revocations_cache.v, revocations_cache.n)) == 0)
			*n = revocations_cache.n;
	}
	pthread_mutex_unlock(&revocations_cache_lock);
	if (hit)
		goto done;
	if ((error = revocations_read(a, &sigs, &nsigs)) < 0 ||
	    (error = revocations_compute(sigs, nsigs, admitted, nadmitted,
	    a->conf.revoke_quorum, out, n)) < 0)
		goto done;
	pthread_mutex_lock(&revocations_cache_lock);
	free(revocations_cache.v);
	revocations_cache.valid = revocations_copy(&revocations_cache.v, *out, *n) == 0;
	revocations_cache.n = revocations_cache.valid ? *n : 0;
	memcpy(revocations_cache.key, key, sizeof key);
	pthread_mutex_unlock(&revocations_cache_lock);
done:
	free(sigs);
	free(admitted);
	return error;
}

int
revocations_cut(struct archive *a, const uint8_t pk[static ED25519_PK_LEN], uint64_t *from_seq)
{
	struct revocation *v = NULL;
	size_t n = 0;
	ssize_t k;

	if (revocations_list(a, &v, &n) < 0) {
		log_warn("revocations unreadable: %s", custody_error());
		return 0;
	}
	if ((k = revocations_effective(v, n, pk)) >= 0)
		*from_seq = v[k].from_seq;
	free(v);
	return k >= 0;
}

int
revocations_default_seq(struct archive *a, const uint8_t pk[static ED25519_PK_LEN],
    uint64_t *out)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	char hex[2 * ED25519_PK_LEN + 1];
	int rc;

	*out = 0;
	hex_encode(hex, pk, ED25519_PK_LEN);
	if (db == NULL || (st = index_stmt(db, "SELECT max(seq) FROM witnesses WHERE feed = "
	    INDEX_OFFICE_ID " AND witness != " INDEX_OFFICE_ID)) == NULL)
		return custody_fail(CUSTODY_EIO, "index: cannot read witnesses");
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : custody_fail(CUSTODY_EIO,
	    "index: %s", sqlite3_errmsg(db));
}

int
revocations_commit_time(struct archive *a, const uint8_t pk[static ED25519_PK_LEN],
    uint64_t seq, int64_t *out)
{
	git_repository *repo = archive_repo(a);
	git_commit *c = NULL, *p;
	char hex[2 * ED25519_PK_LEN + 1];
	uint64_t at, lamport;
	git_oid head;
	int error;

	hex_encode(hex, pk, ED25519_PK_LEN);
	if (repo == NULL)
		return CUSTODY_EIO;
	if ((error = feed_head(a, hex, &head, &at, &lamport)) < 0)
		return error;
	if (seq == 0 || seq > at)
		return custody_fail(CUSTODY_ENOTFOUND, "no commit %" PRIu64 " held", seq);
	if (git_commit_lookup(&c, repo, &head) < 0)
		return custody_fail(CUSTODY_EIO, "feed head unreadable");
	for (; at > seq; at--) {
		if (git_commit_parent(&p, c, 0) < 0) {
			git_commit_free(c);
			return custody_fail(CUSTODY_EIO, "feed history unreadable");
		}
		git_commit_free(c);
		c = p;
	}
	*out = (int64_t)git_commit_time(c);
	git_commit_free(c);
	return 0;
}

int
revocations_lines(struct archive *a, char ***lines, size_t *n)
{
	struct revocation *v = NULL;
	struct cbuf b = { 0 };
	size_t nv = 0, i, j, counted;
	char **grown, *name, *fp, *s;
	int error;

	*lines = NULL;
	*n = 0;
	if ((error = revocations_list(a, &v, &nv)) < 0)
		return error;
	for (i = 0; i < nv && error == 0; i++) {
		name = sync_office_name(a, v[i].target);
		fp = NULL;
		sshkey_fingerprint(&fp, v[i].target);
		for (j = counted = 0; j < v[i].nsigners; j++)
			counted += v[i].signers[j].counted;
		cbuf_free(&b);
		if (v[i].effective)
			error = cbuf_printf(&b, "office %s (%s) REVOKED after its commit %llu, "
			    "signed by", name ? name : "?", fp ? fp : "?",
			    (unsigned long long)v[i].from_seq);
		else
			error = cbuf_printf(&b, "office %s (%s): revocation after its commit %llu "
			    "pending, %zu of %zu signers:", name ? name : "?", fp ? fp : "?",
			    (unsigned long long)v[i].from_seq, counted, v[i].quorum);
		free(name);
		free(fp);
		for (j = 0; j < v[i].nsigners && error == 0; j++) {
			name = sync_office_name(a, v[i].signers[j].pk);
			error = cbuf_printf(&b, " %s%s", name ? name : "?",
			    v[i].signers[j].counted ? "" : " (not counted)");
			free(name);
		}
		if (error < 0 || (s = cbuf_detach(&b)) == NULL) {
			error = error < 0 ? error : CUSTODY_ENOMEM;
			break;
		}
		if ((grown = reallocarray(*lines, *n + 1, sizeof *grown)) == NULL) {
			free(s);
			error = CUSTODY_ENOMEM;
			break;
		}
		*lines = grown;
		grown[(*n)++] = s;
	}
	cbuf_free(&b);
	free(v);
	if (error < 0) {
		offices_refused_free(*lines, *n);
		*lines = NULL;
		*n = 0;
	}
	return error;
}

int
revocations_mark(struct archive *a, const char *office_hex, const char *tok_hex, json_t *doc)
{
	uint8_t pk[ED25519_PK_LEN], tok[TOKEN_LEN];
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	uint64_t cut, seq = 0;
	int rc;

	if (hex_decode(pk, sizeof pk, office_hex) < 0 || hex_decode(tok, sizeof tok, tok_hex) < 0)
		return CUSTODY_EINVAL;
	if (!revocations_cut(a, pk, &cut))
		return 0;
	if (db == NULL || (st = index_stmt(db, "SELECT seq FROM records WHERE tok = ? AND "
	    "office = " INDEX_OFFICE_ID)) == NULL)
		return CUSTODY_EIO;
	sqlite3_bind_blob(st, 1, tok, sizeof tok, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, office_hex, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return 0;
	/* the index holds no revision past the cut (index-cuts.c): this one was signed before */
	json_object_set_new(doc, "revocation", json_pack("{s:s,s:I,s:I}", "signed",
	    "before its office was revoked", "office_revoked_after", (json_int_t)cut, "seq",
	    (json_int_t)seq));
	return 0;
}

int
revocations_valid_before(struct archive *a, const uint8_t pk[static ED25519_PK_LEN],
    char when[static 32])
{
	char hex[2 * ED25519_PK_LEN + 1];
	uint64_t cut, at, lamport;
	git_oid head;
	struct tm tm;
	int64_t t = 1;	/* no commit counts (0 would mean no limit) */
	time_t tt;
	int error;

	if (!revocations_cut(a, pk, &cut))
		return 0;
	hex_encode(hex, pk, ED25519_PK_LEN);
	if (cut > 0 && feed_head(a, hex, &head, &at, &lamport) == 0 && at > 0 &&
	    (error = revocations_commit_time(a, pk, cut < at ? cut : at, &t)) < 0)
		return error;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(when, 32, "%Y%m%d%H%M%SZ", &tm) == 0)
		return custody_fail(CUSTODY_EINVAL, "a commit time out of range");
	return 1;
}
