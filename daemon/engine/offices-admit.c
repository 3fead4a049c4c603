/* Who is an office: admission by invitation only, one name per key (see offices.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/invite.h"
#include "log.h"
#include "offices.h"

#define OFFICES_RECS_MAX 16384		/* office and invite records read; more are refused */
#define OFFICES_PER_FEED 256		/* the same from one feed: one office cannot crowd out */
#define OFFICES_DEPTH 64		/* invitations followed up to the founder */
#define OFFICES_WALK 100000		/* commits walked back to an invitation's first revision */
#define OFFICES_LOGGED_MAX 1024		/* refusals remembered as logged */
#define OFFICES_KEY_LEN 32

enum { REC_OFFICE, REC_INVITE, REC_COPY, REC_WITHDRAWAL };

/* One office or invite record as read from a feed. */
struct offices_rec {
	int		 kind;
	uint8_t		 feed[ED25519_PK_LEN];		/* the office whose feed holds it */
	uint8_t		 inviter[ED25519_PK_LEN];	/* REC_INVITE, REC_COPY */
	struct office	 o;				/* the office it names */
	char		 inviter_name[OFFICE_NAME_MAX + 1];	/* REC_COPY */
	char		 inviter_address[INVITE_ADDRESS_MAX + 1];	/* REC_COPY */
	uint64_t	 lamport;
	int		 done;				/* an invitation taken */
	int64_t		 expires;	/* REC_INVITE, REC_COPY: the invitation's expiry, or 0 */
	int64_t		 at;		/* REC_COPY: when the office wrote it (rev time), or 0 */
};

/* How many records a feed holds. */
struct offices_feed {
	uint8_t	 pk[ED25519_PK_LEN];
	size_t	 n;
};

/* What one computation found. */
struct offices_view {
	struct archive		*a;
	struct offices_rec	*recs;
	size_t			 nrecs;
	struct offices_feed	*feeds;
	size_t			 nfeeds;
	struct office		*list;		/* admitted, founder first */
	size_t			 n;
	char			**lines;	/* refusals */
	size_t			 nlines;
	int			 error;		/* ENOMEM only: refusals never fail */
};

/* The last view computed, for as long as the records it was made of stay the same. */
static pthread_mutex_t offices_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int			valid;
	uint8_t			key[OFFICES_KEY_LEN];
	struct offices_view	view;		/* list and lines only */
} offices_cache;

static pthread_mutex_t offices_logged_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t offices_logged[OFFICES_LOGGED_MAX][16];
static size_t offices_nlogged;

/* Log a refusal the first time this process sees it. */
static void
offices_log_once(const char *line)
{
	uint8_t h[16];
	size_t i;
	int seen = 0;

	crypto_generichash(h, sizeof h, (const uint8_t *)line, strlen(line), NULL, 0);
	pthread_mutex_lock(&offices_logged_lock);
	for (i = 0; i < offices_nlogged && !seen; i++)
		seen = memcmp(offices_logged[i], h, sizeof h) == 0;
	if (!seen && offices_nlogged < OFFICES_LOGGED_MAX)
		memcpy(offices_logged[offices_nlogged++], h, sizeof h);
	pthread_mutex_unlock(&offices_logged_lock);
	if (!seen)
		log_warn("refused: %s", line);
}

/* "SHA256:..." of pk into buf. */
static const char *
offices_fp(char buf[static 64], const uint8_t pk[static ED25519_PK_LEN])
{
	char *fp = NULL;

	if (sshkey_fingerprint(&fp, pk) < 0)
		snprintf(buf, 64, "(no fingerprint)");
	else
		snprintf(buf, 64, "%s", fp);
	free(fp);
	return buf;
}

/* Note a refused record. */
static void __attribute__((format(printf, 2, 3)))
offices_refuse(struct offices_view *v, const char *fmt, ...)
{
	char **grown, *line;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0 || (grown = reallocarray(v->lines, v->nlines + 1, sizeof *grown)) == NULL) {
		if (r >= 0)
			free(line);
		v->error = CUSTODY_ENOMEM;
		return;
	}
	v->lines = grown;
	v->lines[v->nlines++] = line;
	offices_log_once(line);
}

/*
 * Invitations expire and can be withdrawn. Every office decides the same from the same signed
 * records: the expiry is the one the signed invitation states (the invited office's copy) or
 * the one the inviter's invite record states; it is compared with the time in the invited
 * office's copy of its invitation (the "rev" time of the commit it wrote when it joined), which
 * every office reads alike. Invitations made before they stated an expiry are not judged
 * here (offices admitted with them stay so); custodyd join refuses them 7 days on. An
 * invitation its inviter withdrew admits nobody.
 */

static ssize_t offices_find(const struct offices_view *, const uint8_t[static ED25519_PK_LEN]);
static void offices_key_witnesses(sqlite3 *, crypto_generichash_state *);

/* Take the expiry of an invitation and, for a copy, when it was written. */
static void
offices_expiry(struct offices_rec *r, json_t *doc, const struct invite *inv)
{
	const char *s;
	int64_t t;

	if (inv != NULL && inv->has_expires)
		r->expires = inv->expires_at;	/* older ones expire only at join */
	else if ((s = json_string_value(json_object_get(doc, "expires"))) != NULL &&
	    invite_time(&t, s) == 0)
		r->expires = t;
	s = json_string_value(json_object_get(json_object_get(doc, "rev"), "time"));
	if (r->kind == REC_COPY && s != NULL && invite_time(&t, s) == 0)
		r->at = t;
}

/*
 * Did an office admitted so far, other than pk itself, witness pk's feed before time t? Then
 * pk had joined before a withdrawal written at t, which cannot take it back (that is
 * revocation). Witness times are signed by the witnessing offices: every office reads them alike.
 */
static int
offices_witnessed(struct offices_view *v, const uint8_t pk[static ED25519_PK_LEN], int64_t t)
{
	sqlite3 *db = archive_db(v->a);
	sqlite3_stmt *st;
	uint8_t w[ED25519_PK_LEN];
	char hex[2 * ED25519_PK_LEN + 1];
	const char *wh, *time;
	int64_t at;
	int found = 0;

	if (db == NULL || sqlite3_prepare_v2(db, "SELECT " INDEX_OFFICE_KEY("witness") ", time"
	    " FROM witnesses WHERE feed = " INDEX_OFFICE_ID, -1, &st, NULL) != SQLITE_OK)
		return 0;
	hex_encode(hex, pk, ED25519_PK_LEN);
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	while (!found && sqlite3_step(st) == SQLITE_ROW) {
		wh = (const char *)sqlite3_column_text(st, 0);
		time = (const char *)sqlite3_column_text(st, 1);
		if (wh == NULL || time == NULL || strlen(wh) != 2 * ED25519_PK_LEN ||
		    hex_decode(w, sizeof w, wh) < 0 || memcmp(w, pk, ED25519_PK_LEN) == 0 ||
		    invite_time(&at, time) < 0)
			continue;
		found = at < t && offices_find(v, w) >= 0;
	}
	sqlite3_finalize(st);
	return found;
}

/* A withdrawal record, in the feed of the inviter that withdraws its invitation. */
static void
offices_withdrawal(struct offices_view *v, struct offices_rec *r, json_t *doc)
{
	struct offices_rec *grown;
	char hex[2 * ED25519_PK_LEN + 1], want[16 + 2 * ED25519_PK_LEN], f1[64];
	const char *id = record_id(doc), *s;

	if (offices_parse(&r->o, doc) < 0) {
		offices_refuse(v, "malformed withdrawal record in feed %s",
		    offices_fp(f1, r->feed));
		return;
	}
	hex_encode(hex, r->o.pk, ED25519_PK_LEN);
	snprintf(want, sizeof want, "withdrawal-%s", hex);
	if (id == NULL || strcmp(id, want) != 0) {
		offices_refuse(v, "withdrawal record in feed %s: its id does not name its key",
		    offices_fp(f1, r->feed));
		return;
	}
	r->kind = REC_WITHDRAWAL;
	memcpy(r->inviter, r->feed, ED25519_PK_LEN);
	if ((s = json_string_value(json_object_get(json_object_get(doc, "rev"), "time"))) ==
	    NULL || invite_time(&r->at, s) < 0) {
		offices_refuse(v, "withdrawal record in feed %s without a time",
		    offices_fp(f1, r->feed));
		return;
	}
	if ((grown = reallocarray(v->recs, v->nrecs + 1, sizeof *grown)) == NULL) {
		v->error = CUSTODY_ENOMEM;
		return;
	}
	v->recs = grown;
	v->recs[v->nrecs++] = *r;
}

/*
 * Does invitation r admit nobody: withdrawn by its inviter, or the invited office's copy of
 * an invitation (this one or another for its key) written after that invitation expired?
 */
static int
offices_void(struct offices_view *v, const struct offices_rec *r)
{
	const struct offices_rec *w;
	char f1[64], f2[64], at[INVITE_TIME_LEN + 1], until[INVITE_TIME_LEN + 1];
	size_t i;

	for (i = 0; i < v->nrecs; i++) {
		w = &v->recs[i];
		if (w->kind == REC_WITHDRAWAL && memcmp(w->feed, r->inviter, ED25519_PK_LEN) == 0 &&
		    memcmp(w->o.pk, r->o.pk, ED25519_PK_LEN) == 0) {
			if (offices_witnessed(v, r->o.pk, w->at)) {
				offices_refuse(v, "withdrawal by %s of its invitation for %s: "
				    "written after that office joined, it changes nothing",
				    offices_fp(f1, r->inviter), offices_fp(f2, r->o.pk));
				continue;
			}
			offices_refuse(v, "invitation by %s for %s as '%s' was withdrawn by its "
			    "inviter: it admits nobody", offices_fp(f1, r->inviter),
			    offices_fp(f2, r->o.pk), r->o.name);
			return 1;
		}
		if (w->kind == REC_COPY && memcmp(w->o.pk, r->o.pk, ED25519_PK_LEN) == 0 &&
		    w->expires != 0 && (w->at == 0 || w->at > w->expires)) {
			invite_format_time(at, w->at);
			invite_format_time(until, w->expires);
			offices_refuse(v, "office %s (as '%s') joined at %s with an invitation "
			    "that expired at %s: it admits nobody", offices_fp(f1, r->o.pk),
			    r->o.name, w->at != 0 ? at : "an unknown time", until);
			return 1;
		}
	}
	return 0;
}

/* Sort a record read from feed into the view, or refuse it. */
static void
offices_classify(struct offices_view *v, const uint8_t feed[static ED25519_PK_LEN],
    uint64_t lamport, json_t *doc)
{
	struct offices_rec r, *grown;
	struct invite inv;
	const char *kind = record_kind(doc), *id = record_id(doc), *text;
	char hex[2 * ED25519_PK_LEN + 1], want[16 + 2 * ED25519_PK_LEN], f1[64], f2[64];
	int office = strcmp(kind, "office") == 0;

	memset(&r, 0, sizeof r);
	memcpy(r.feed, feed, ED25519_PK_LEN);
	r.lamport = lamport;
	if (strcmp(kind, "withdrawal") == 0) {
		offices_withdrawal(v, &r, doc);
		return;
	}
	if (offices_parse(&r.o, doc) < 0) {
		offices_refuse(v, "malformed %s record in feed %s", kind, offices_fp(f1, feed));
		return;
	}
	hex_encode(hex, r.o.pk, ED25519_PK_LEN);
	snprintf(want, sizeof want, "%s-%s", office ? "office" : "invite", hex);
	if (id == NULL || strcmp(id, want) != 0) {
		offices_refuse(v, "%s record in feed %s: its id does not name its key %s", kind,
		    offices_fp(f1, feed), offices_fp(f2, r.o.pk));
		return;
	}
	if (office) {
		if (memcmp(r.o.pk, feed, ED25519_PK_LEN) != 0) {
			offices_refuse(v, "office record in feed %s about another key, %s (as "
			    "'%s'): an office speaks only for itself", offices_fp(f1, feed),
			    offices_fp(f2, r.o.pk), r.o.name);
			return;
		}
		r.kind = REC_OFFICE;
	} else if (memcmp(r.o.pk, feed, ED25519_PK_LEN) != 0) {
		r.kind = REC_INVITE;
		memcpy(r.inviter, feed, ED25519_PK_LEN);
		r.o.address[0] = '\0';
		offices_expiry(&r, doc, NULL);
	} else {
		text = json_string_value(json_object_get(doc, "invitation"));
		if (text == NULL || invite_verify(&inv, text, strlen(text)) < 0 ||
		    memcmp(inv.office_pk, feed, ED25519_PK_LEN) != 0 ||
		    strcmp(inv.office, r.o.name) != 0) {
			offices_refuse(v, "invite record in feed %s for itself (as '%s') without "
			    "a signed invitation for that key and name", offices_fp(f1, feed),
			    r.o.name);
			return;
		}
		r.kind = REC_COPY;
		memcpy(r.inviter, inv.inviter_pk, ED25519_PK_LEN);
		snprintf(r.inviter_name, sizeof r.inviter_name, "%s", inv.inviter);
		snprintf(r.inviter_address, sizeof r.inviter_address, "%s", inv.address);
		r.o.address[0] = '\0';
		offices_expiry(&r, doc, &inv);
	}
	if ((grown = reallocarray(v->recs, v->nrecs + 1, sizeof *grown)) == NULL) {
		v->error = CUSTODY_ENOMEM;
		return;
	}
	v->recs = grown;
	v->recs[v->nrecs++] = r;
}

/*
 * The revision of an invitation its feed first wrote, at first_seq: an invitation, once
 * written, never changes (a seized office that rewrites its own copy must not re-route the
 * way up to the founder). At most OFFICES_WALK commits back from the head.
 */
static int
offices_first(struct offices_view *v, const char *feed, const char *tok, uint64_t first_seq,
    json_t **out, uint64_t *lamport)
{
	git_repository *repo = archive_repo(v->a);
	git_commit *c = NULL, *parent;
	git_oid head;
	uint64_t seq, at;
	int error;

	*out = NULL;
	if ((error = feed_head(v->a, feed, &head, &seq, &at)) < 0)
		return error;
	if (repo == NULL || first_seq > seq || seq - first_seq > OFFICES_WALK)
		return custody_fail(CUSTODY_EINVAL, "its first revision is out of reach");
	if (git_commit_lookup(&c, repo, &head) < 0)
		return custody_fail(CUSTODY_EIO, "reading the feed head");
	for (; seq > first_seq; seq--) {
		if (git_commit_parent(&parent, c, 0) < 0) {
			git_commit_free(c);
			return custody_fail(CUSTODY_EIO, "reading the feed");
		}
		git_commit_free(c);
		c = parent;
	}
	error = feed_read_at(v->a, c, tok, out, NULL);
	git_commit_free(c);
	if (error == 0)
		*lamport = (uint64_t)json_integer_value(json_object_get(json_object_get(*out,
		    "rev"), "lamport"));
	return error;
}

/* Count one more record read from feed; how many so far (ENOMEM counts as too many). */
static size_t
offices_count(struct offices_view *v, const uint8_t feed[static ED25519_PK_LEN])
{
	struct offices_feed *grown;
	size_t i;

	for (i = 0; i < v->nfeeds; i++)
		if (memcmp(v->feeds[i].pk, feed, ED25519_PK_LEN) == 0)
			return ++v->feeds[i].n;
	if ((grown = reallocarray(v->feeds, v->nfeeds + 1, sizeof *grown)) == NULL) {
		v->error = CUSTODY_ENOMEM;
		return SIZE_MAX;
	}
	v->feeds = grown;
	memcpy(v->feeds[v->nfeeds].pk, feed, ED25519_PK_LEN);
	v->feeds[v->nfeeds].n = 1;
	return v->feeds[v->nfeeds++].n;
}

/* Read every office and invite record of every feed. */
static int
offices_read(struct offices_view *v)
{
	sqlite3 *db = archive_db(v->a);
	sqlite3_stmt *st;
	uint8_t feed[ED25519_PK_LEN];
	char hex[TOKEN_HEX_LEN + 1], fp[64];
	const char *office;
	uint64_t lamport, first;
	size_t count;
	json_t *doc;
	int rc = SQLITE_DONE, error = 0, invite;

	if (db == NULL)
		return CUSTODY_EIO;
	if (sqlite3_prepare_v2(db, "SELECT tok, " INDEX_OFFICE_KEY("office") " AS okey, lamport,"
	    " kind, seq, first_seq FROM records WHERE kind IN ('office', 'invite', 'withdrawal')"
	    " ORDER BY lamport, okey", -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	while (v->error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		office = (const char *)sqlite3_column_text(st, 1);
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN || office == NULL ||
		    strlen(office) != 2 * ED25519_PK_LEN ||
		    hex_decode(feed, sizeof feed, office) < 0)
			continue;
		if (v->nrecs >= OFFICES_RECS_MAX) {
			offices_refuse(v, "more than %d office and invite records: the rest are "
			    "not read", OFFICES_RECS_MAX);
			break;
		}
		if ((count = offices_count(v, feed)) > OFFICES_PER_FEED) {
			if (count == OFFICES_PER_FEED + 1)
				offices_refuse(v, "feed %s holds more than %d office and invite "
				    "records: the rest are not read", offices_fp(fp, feed),
				    OFFICES_PER_FEED);
			continue;
		}
		hex_encode(hex, sqlite3_column_blob(st, 0), TOKEN_LEN);
		doc = NULL;
		lamport = (uint64_t)sqlite3_column_int64(st, 2);
		first = (uint64_t)sqlite3_column_int64(st, 5);
		invite = strcmp((const char *)sqlite3_column_text(st, 3), "invite") == 0;
		if (invite && sqlite3_column_int64(st, 4) != sqlite3_column_int64(st, 5)) {
			if (offices_first(v, office, hex, first, &doc, &lamport) < 0)
				offices_refuse(v, "invite record in feed %s rewritten after "
				    "commit %llu, and its first revision cannot be read (%s): not "
				    "counted", offices_fp(fp, feed), (unsigned long long)first,
				    custody_error());
			else {
				offices_refuse(v, "invite record in feed %s rewritten after "
				    "commit %llu: an invitation never changes, its first "
				    "revision counts", offices_fp(fp, feed),
				    (unsigned long long)first);
				offices_classify(v, feed, lamport, doc);
			}
		} else if (feed_read_token(v->a, office, hex, &doc) < 0)
			log_warn("office record %s unreadable: %s", hex, custody_error());
		else
			offices_classify(v, feed, lamport, doc);
		json_decref(doc);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return error < 0 ? error : v->error;
}

/* The admitted office with key pk, or -1. */
static ssize_t
offices_find(const struct offices_view *v, const uint8_t pk[static ED25519_PK_LEN])
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (memcmp(v->list[i].pk, pk, ED25519_PK_LEN) == 0)
			return (ssize_t)i;
	return -1;
}

/* The admitted office named name, or -1. */
static ssize_t
offices_find_name(const struct offices_view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->list[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Bind name to pk. */
static int
offices_admit(struct offices_view *v, const uint8_t pk[static ED25519_PK_LEN],
    const char *name, const char *address)
{
	struct office *grown;

	if ((grown = reallocarray(v->list, v->n + 1, sizeof *grown)) == NULL)
		return v->error = CUSTODY_ENOMEM;
	v->list = grown;
	memset(&v->list[v->n], 0, sizeof *v->list);
	memcpy(v->list[v->n].pk, pk, ED25519_PK_LEN);
	snprintf(v->list[v->n].name, sizeof v->list->name, "%s", name);
	snprintf(v->list[v->n].address, sizeof v->list->address, "%s", address);
	v->n++;
	return 0;
}

/* The founder: follow each office's own signed invitation up from this office. */
static int
offices_founder(struct offices_view *v)
{
	const struct offices_rec *up;
	uint8_t at[ED25519_PK_LEN];
	const char *name = v->a->conf.office, *address = "";
	size_t depth, i;

	memcpy(at, v->a->office_pk, ED25519_PK_LEN);
	for (depth = 0; depth < OFFICES_DEPTH; depth++) {
		for (i = 0, up = NULL; i < v->nrecs && up == NULL; i++)
			if (v->recs[i].kind == REC_COPY &&
			    memcmp(v->recs[i].o.pk, at, ED25519_PK_LEN) == 0)
				up = &v->recs[i];
		if (up == NULL)
			break;
		memcpy(at, up->inviter, ED25519_PK_LEN);
		name = up->inviter_name;
		address = up->inviter_address;
	}
	return offices_admit(v, at, name, address);
}

/* Is invitation r taken before invitation b: by (lamport, inviter key, key)? */
static int
offices_before(const struct offices_rec *r, const struct offices_rec *b)
{
	int c;

	if (r->lamport != b->lamport)
		return r->lamport < b->lamport;
	if ((c = memcmp(r->inviter, b->inviter, ED25519_PK_LEN)) != 0)
		return c < 0;
	return memcmp(r->o.pk, b->o.pk, ED25519_PK_LEN) < 0;
}

/* Take invitations from admitted offices, first first, until none is left. */
static void
offices_close(struct offices_view *v)
{
	struct offices_rec *r, *best;
	char f1[64], f2[64], f3[64], f4[64];
	ssize_t k;
	size_t i;

	for (;;) {
		for (i = 0, best = NULL; i < v->nrecs; i++) {
			r = &v->recs[i];
			if (r->kind != REC_OFFICE && r->kind != REC_WITHDRAWAL && !r->done &&
			    offices_find(v, r->inviter) >= 0 &&
			    (best == NULL || offices_before(r, best)))
				best = r;
		}
		if (best == NULL || v->error < 0)
			break;
		best->done = 1;
		if (offices_void(v, best))
			continue;
		if ((k = offices_find(v, best->o.pk)) >= 0) {
			if (strcmp(v->list[k].name, best->o.name) != 0)
				offices_refuse(v, "invitation by %s (in feed %s) renames %s from "
				    "'%s' to '%s'", offices_fp(f1, best->inviter),
				    offices_fp(f2, best->feed), offices_fp(f3, best->o.pk),
				    v->list[k].name, best->o.name);
		} else if ((k = offices_find_name(v, best->o.name)) >= 0)
			offices_refuse(v, "invitation by %s (in feed %s) gives the name '%s' of %s "
			    "to a second key, %s", offices_fp(f1, best->inviter),
			    offices_fp(f2, best->feed), best->o.name, offices_fp(f3, v->list[k].pk),
			    offices_fp(f4, best->o.pk));
		else if (offices_admit(v, best->o.pk, best->o.name, "") == 0)
			v->list[v->n - 1].invite_expires = best->expires;
	}
	for (i = 0; i < v->nrecs; i++) {
		r = &v->recs[i];
		if (r->kind != REC_OFFICE && r->kind != REC_WITHDRAWAL && !r->done)
			offices_refuse(v, "invitation by %s (in feed %s) for %s as '%s': the "
			    "inviter was never admitted", offices_fp(f1, r->inviter),
			    offices_fp(f2, r->feed), offices_fp(f3, r->o.pk), r->o.name);
	}
}

/* Office records: an admitted office's own, with its bound name, gives its address. */
static void
offices_own(struct offices_view *v)
{
	const struct offices_rec *r;
	char f1[64];
	ssize_t k;
	size_t i;

	for (i = 0; i < v->nrecs; i++) {
		r = &v->recs[i];
		if (r->kind == REC_COPY && (k = offices_find(v, r->inviter)) >= 0 &&
		    v->list[k].address[0] == '\0')
			snprintf(v->list[k].address, sizeof v->list->address, "%s",
			    r->inviter_address);
	}
	for (i = 0; i < v->nrecs; i++) {
		r = &v->recs[i];
		if (r->kind != REC_OFFICE)
			continue;
		if ((k = offices_find(v, r->feed)) < 0)
			offices_refuse(v, "office record in feed %s (as '%s'): that key was never "
			    "admitted by an invitation", offices_fp(f1, r->feed), r->o.name);
		else if (strcmp(v->list[k].name, r->o.name) != 0)
			offices_refuse(v, "office record in feed %s renames it from '%s' to '%s'",
			    offices_fp(f1, r->feed), v->list[k].name, r->o.name);
		else if (r->o.address[0] != '\0')
			snprintf(v->list[k].address, sizeof v->list->address, "%s",
			    r->o.address);
	}
}

/* Free what a view holds. */
static void
offices_view_free(struct offices_view *v)
{
	free(v->recs);
	free(v->feeds);
	free(v->list);
	offices_refused_free(v->lines, v->nlines);
	memset(v, 0, sizeof *v);
}

/*
 * What the view depends on: this archive and office, and which revision of each office and
 * invite record is current. Reading those rows is cheap; opening the records is not.
 */
static int
offices_key(struct archive *a, uint8_t key[static OFFICES_KEY_LEN])
{
	crypto_generichash_state h;
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	int64_t seqs[2];
	int rc;

	if (db == NULL)
		return CUSTODY_EIO;
	if (sqlite3_prepare_v2(db, "SELECT tok, " INDEX_OFFICE_KEY("office") " AS okey, seq,"
	    " first_seq FROM records WHERE kind IN ('office', 'invite', 'withdrawal')"
	    " ORDER BY tok, okey", -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	crypto_generichash_init(&h, NULL, 0, OFFICES_KEY_LEN);
	crypto_generichash_update(&h, (const uint8_t *)a->path, strlen(a->path) + 1);
	crypto_generichash_update(&h, a->office_pk, ED25519_PK_LEN);
	crypto_generichash_update(&h, (const uint8_t *)a->conf.office,
	    strlen(a->conf.office) + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		crypto_generichash_update(&h, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		crypto_generichash_update(&h, sqlite3_column_text(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1) + 1);
		seqs[0] = sqlite3_column_int64(st, 2);
		seqs[1] = sqlite3_column_int64(st, 3);
		crypto_generichash_update(&h, (const uint8_t *)seqs, sizeof seqs);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	offices_key_witnesses(db, &h);
	crypto_generichash_final(&h, key, OFFICES_KEY_LEN);
	return 0;
}

/* Withdrawals depend on witnesses (offices_witnessed): then the view does too. */
static void
offices_key_witnesses(sqlite3 *db, crypto_generichash_state *h)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM witnesses WHERE EXISTS (SELECT 1 FROM "
	    "records WHERE kind = 'withdrawal')", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	crypto_generichash_update(h, (const uint8_t *)&n, sizeof n);
}

/* Copy the list and the refusals of from into to (which holds neither). */
static int
offices_copy(struct offices_view *to, const struct offices_view *from)
{
	size_t i;

	if (from->n > 0 && (to->list = calloc(from->n, sizeof *to->list)) == NULL)
		return CUSTODY_ENOMEM;
	if (from->n > 0)
		memcpy(to->list, from->list, from->n * sizeof *to->list);
	to->n = from->n;
	if (from->nlines > 0 && (to->lines = calloc(from->nlines, sizeof *to->lines)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < from->nlines; i++, to->nlines++)
		if ((to->lines[i] = strdup(from->lines[i])) == NULL)
			return CUSTODY_ENOMEM;
	return 0;
}

/* Read every record and work out who is admitted and what is refused (or take it cached). */
static int
offices_view(struct offices_view *v, struct archive *a)
{
	uint8_t key[OFFICES_KEY_LEN];
	int error, hit = 0;

	memset(v, 0, sizeof *v);
	v->a = a;
	if ((error = offices_key(a, key)) < 0)
		return error;
	pthread_mutex_lock(&offices_cache_lock);
	if (offices_cache.valid && sodium_memcmp(offices_cache.key, key, sizeof key) == 0) {
		hit = 1;
		error = offices_copy(v, &offices_cache.view);
	}
	pthread_mutex_unlock(&offices_cache_lock);
	if (hit)
		goto done;
	if ((error = offices_read(v)) < 0 || (error = offices_founder(v)) < 0)
		goto done;
	offices_close(v);
	offices_own(v);
	if ((error = v->error) < 0)
		goto done;
	pthread_mutex_lock(&offices_cache_lock);
	offices_view_free(&offices_cache.view);
	offices_cache.valid = offices_copy(&offices_cache.view, v) == 0;
	memcpy(offices_cache.key, key, sizeof key);
	pthread_mutex_unlock(&offices_cache_lock);
done:
	free(v->recs);
	free(v->feeds);
	v->recs = NULL;
	v->feeds = NULL;
	v->nrecs = v->nfeeds = 0;
	if (error < 0)
		offices_view_free(v);
	return error;
}

int
offices_list(struct archive *a, struct office **out, size_t *n)
{
	struct offices_view v;
	int error;

	*out = NULL;
	*n = 0;
	if ((error = offices_view(&v, a)) < 0)
		return error;
	*out = v.list;
	*n = v.n;
	v.list = NULL;
	offices_view_free(&v);
	return 0;
}

int
offices_admitted(struct archive *a, const uint8_t pk[static ED25519_PK_LEN])
{
	struct offices_view v;
	int found;

	if (offices_view(&v, a) < 0)
		return 0;
	found = offices_find(&v, pk) >= 0;
	offices_view_free(&v);
	return found;
}

int
offices_refused(struct archive *a, char ***lines, size_t *n)
{
	struct offices_view v;
	int error;

	*lines = NULL;
	*n = 0;
	if ((error = offices_view(&v, a)) < 0)
		return error;
	*lines = v.lines;
	*n = v.nlines;
	v.lines = NULL;
	v.nlines = 0;
	offices_view_free(&v);
	return 0;
}

void
offices_refused_free(char **lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
