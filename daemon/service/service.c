/* Request handlers that read the archive: status, show, log, verify, keys, get. */
#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "custody/invite.h"
#include "epochs.h"
#include "evidence.h"
#include "handover.h"
#include "log.h"
#include "offices.h"
#include "revocations.h"
#include "server.h"
#include "sync.h"

#define LOG_MAX_ENTRIES 10000

/* Bytes used under dir, not following links, leaving out skip (a name at its top). */
static uint64_t
service_du(const char *dir, const char *skip)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	uint64_t total = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (skip != NULL && strcmp(de->d_name, skip) == 0))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0)
			continue;
		total += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode))
			total += service_du(path, NULL);
	}
	closedir(d);
	return total;
}

/*
 * The disk use status shows: the evidence blobs' bytes as the index counts them when they are
 * on this disk (the local blob store: blobs/ is never walked, it grows with the evidence; a
 * RADOS store's are in its pool), and the rest of the archive (git/, the index,
 * keys), whose size grows with commits, not with bytes of evidence, measured at most every
 * STATUS_DU_AGE seconds.
 */
#define STATUS_DU_AGE 30
#define STATUS_REFUSED_MAX 32	/* refused office records listed by status */

static uint64_t
service_status_du(struct archive *a)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const struct archive *cached;
	static time_t walked;
	static uint64_t du;
	time_t now = time(NULL);
	uint64_t v, blobs = 0;

	pthread_mutex_lock(&lock);
	if (cached != a || now - walked >= STATUS_DU_AGE) {
		du = service_du(a->path, "blobs");
		walked = now;
		cached = a;
	}
	v = du;
	pthread_mutex_unlock(&lock);
	if (a->conf.blobs.kind == BLOBSTORE_LOCAL && index_blob_bytes(a, &blobs) == 0)
		v += blobs;
	return v;
}
/*
 * Where the blobs live and whether their store answers, into st's blobs fields: desc and why
 * hold the strings (the caller frees them). blobstore_health answers within seconds however
 * long the store's own operations may wait (blobstore-rados-health.c).
 */
static void
service_status_blobs(struct archive *a, Custody__StatusReply *st, char **desc, char **why)
{
	struct blobstore *s;

	*why = NULL;
	if (a->conf.blobs.kind == BLOBSTORE_RADOS) {
		if (asprintf(desc, "rados pool %s", a->conf.blobs.pool) < 0)
			*desc = NULL;
	} else
		*desc = strdup("local blobs/");
	st->blobs = *desc != NULL ? *desc : "blobs";
	if ((s = archive_blobs(a)) == NULL)
		*why = strdup(custody_error());
	else if (blobstore_health(s, why) == 0) {
		st->blobs_state = "ok";
		return;
	}
	st->blobs_state = *why != NULL && strncmp(*why, "ceph pool full", 14) == 0 ? "full" :
	    "unreachable";
	st->blobs_error = *why != NULL ? *why : "no answer";
}


int
service_status(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__StatusReply st = CUSTODY__STATUS_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint8_t id[INVITE_ARCHIVE_ID_LEN];
	char idhex[2 * INVITE_ARCHIVE_ID_LEN + 1], *blobs = NULL, *blobs_why = NULL;
	int error;

	if ((error = index_counts(a, &st.evidence, &st.records, &st.commits)) < 0)
		return error;
	service_status_blobs(a, &st, &blobs, &blobs_why);
	st.disk_bytes = service_status_du(a);
	st.office = a->conf.office;
	st.public_key = a->public_line;
	st.fingerprint = a->fingerprint;
	st.uptime_seconds = (uint64_t)(time(NULL) - a->started);
	st.archive = a->path;
	st.version = CUSTODY_VERSION;
	invite_archive_id(id, a->data_key);
	hex_encode(idhex, id, sizeof id);
	st.archive_id = idhex;
	sync_list_forks(a, &st.forks, &st.n_forks);
	if ((error = offices_refused(a, &st.refused_offices, &st.n_refused_offices)) < 0)
		goto done;
	if ((error = revocations_lines(a, &st.revocations, &st.n_revocations)) < 0)
		goto done;
	if (st.n_refused_offices > STATUS_REFUSED_MAX) {	/* `verify` lists them all */
		while (st.n_refused_offices > STATUS_REFUSED_MAX - 1)
			free(st.refused_offices[--st.n_refused_offices]);
		if (asprintf(&st.refused_offices[st.n_refused_offices], "and more: custody "
		    "verify lists them all") >= 0)
			st.n_refused_offices++;
	}
	env.body_case = CUSTODY__ENVELOPE__BODY_STATUS_REPLY;
	env.status_reply = &st;
	error = server_reply(r, &env);
done:
	for (size_t i = 0; i < st.n_forks; i++)
		free(st.forks[i]);
	free(st.forks);
	offices_refused_free(st.refused_offices, st.n_refused_offices);
	offices_refused_free(st.revocations, st.n_revocations);
	free(blobs);
	free(blobs_why);
	return error;
}

/* The office whose feed holds the current revision of record id. */
static int
service_record_office(struct archive *a, const char *id, char office[static 65])
{
	int error;

	if ((error = archive_check_id(id)) < 0)
		return error;
	if ((error = index_record_office(a, id, office)) < 0) {
		if (error != CUSTODY_ENOTFOUND)
			return error;
		snprintf(office, 65, "%s", a->office_hex);
	}
	return 0;
}

/* Read the current revision of a record, wherever it was last written. */
static int
service_record(struct archive *a, const char *id, json_t **doc)
{
	char office[65];
	int error;

	if ((error = service_record_office(a, id, office)) < 0)
		return error;
	return feed_read_record(a, office, id, doc);
}

/* "witnessed_by": the offices whose signed witness records cover this item, and when. */
static void
service_add_witnesses(struct archive *a, json_t *doc, const char *id)
{
	json_t *w = NULL, *v;
	uint8_t pk[ED25519_PK_LEN];
	size_t i;
	char *name;

	if (index_witnesses(a, id, &w) < 0) {
		json_decref(w);
		return;
	}
	json_array_foreach(w, i, v) {
		const char *hex = json_string_value(json_object_get(v, "office"));

		if (hex != NULL && hex_decode(pk, sizeof pk, hex) == 0 &&
		    (name = sync_office_name(a, pk)) != NULL) {
			json_object_set_new(v, "key", json_string(hex));	/* before hex is freed */
			json_object_set_new(v, "office", json_string(name));
			free(name);
		}
	}
	json_object_set_new(doc, "witnessed_by", w);
}

int
service_show(struct request *r)
{
	struct archive *a = r->c->s->a;
	const char *id = r->msg->show_request->id;
	Custody__ShowReply sr = CUSTODY__SHOW_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	char office[65], tok[TOKEN_HEX_LEN + 1];
	json_t *doc = NULL;
	int error;

	if ((error = service_record_office(a, id, office)) < 0)
		return error;
	archive_token_hex(a, tok, id);
	if ((error = records_view(r->c, NULL, office, tok, &doc)) < 0)
		return error == CUSTODY_ENOTFOUND ? custody_fail(error, "no such record: %s", id) :
		    error;
	if (strcmp(record_kind(doc), "evidence") == 0)
		service_add_witnesses(a, doc, id);
	if (revocations_mark(a, office, tok, doc) < 0)
		log_warn("show: revocation state unreadable: %s", custody_error());
	if ((sr.json = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
		error = CUSTODY_ENOMEM;
	else {
		env.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REPLY;
		env.show_reply = &sr;
		error = server_reply(r, &env);
	}
	free(sr.json);
	json_decref(doc);
	return error;
}

/* The log of one feed, newest first, appended to entries. */
static int
service_log_feed(struct archive *a, const char *office, const char *name, size_t limit,
    Custody__LogEntry ***entries, size_t *n)
{
	git_repository *repo = archive_repo(a);
	Custody__LogEntry *e, **grown;
	git_commit *c = NULL, *p;
	uint8_t pk[ED25519_PK_LEN];
	uint64_t lamport;
	char hex[65], oid[GIT_OID_HEXSZ + 1];
	struct handover_feed *keys;
	git_oid head;
	int error;

	if ((error = feed_head(a, office, &head, &lamport, &lamport)) < 0)
		return error == CUSTODY_ENOTFOUND ? 0 : error;
	hex_decode(pk, sizeof pk, office);
	if ((keys = malloc(sizeof *keys)) == NULL)
		return CUSTODY_ENOMEM;
	if (handover_feed_read(a, repo, office, &head, keys) < 0)
		keys->ch.n = 0;	/* each commit is then checked against the first key */
	if (git_commit_lookup(&c, repo, &head) < 0) {
		free(keys);
		return custody_fail(CUSTODY_EIO, "feed %.16s: head unreadable", office);
	}
	while (c != NULL && *n < limit) {
		if ((grown = reallocarray(*entries, *n + 1, sizeof **entries)) == NULL ||
		    (e = calloc(1, sizeof *e)) == NULL) {
			if (grown != NULL)
				*entries = grown;
			git_commit_free(c);
			free(keys);
			return CUSTODY_ENOMEM;
		}
		*entries = grown;
		custody__log_entry__init(e);
		(*entries)[(*n)++] = e;
		feed_parse_message(git_commit_message(c), &e->seq, &lamport, hex);
		e->time = git_commit_time(c);
		e->office = strdup(name);
		if (feed_summary(a, c, &e->summary) < 0)
			e->summary = strdup("(summary unreadable)");
		git_oid_tostr(oid, sizeof oid, git_commit_id(c));
		e->commit = strdup(oid);
		error = feed_check_signature(repo, git_commit_id(c), handover_key_at(keys, pk,
		    e->seq));
		e->signature = strdup(error == 0 ? "good" : error == CUSTODY_ENOTFOUND ?
		    "missing" : "BAD");
		p = NULL;
		if (git_commit_parentcount(c) > 0)
			git_commit_parent(&p, c, 0);
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	free(keys);
	return 0;
}

int
service_log(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__LogRequest *req = r->msg->log_request;
	Custody__LogReply lr = CUSTODY__LOG_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__LogEntry **entries = NULL;
	size_t n = 0, i, limit = req->limit ? req->limit : LOG_MAX_ENTRIES;
	int error = 0;

	if (limit > LOG_MAX_ENTRIES)
		limit = LOG_MAX_ENTRIES;
	if (req->office[0] != '\0' && strcmp(req->office, a->conf.office) != 0 &&
	    strncmp(a->office_hex, req->office, strlen(req->office)) != 0)
		return custody_fail(CUSTODY_ENOTFOUND, "no office named %s", req->office);
	error = service_log_feed(a, a->office_hex, a->conf.office, limit, &entries, &n);
	if (error == 0) {
		lr.n_entries = n;
		lr.entries = entries;
		env.body_case = CUSTODY__ENVELOPE__BODY_LOG_REPLY;
		env.log_reply = &lr;
		error = server_reply(r, &env);
	}
	for (i = 0; i < n; i++) {
		free(entries[i]->office);
		free(entries[i]->summary);
		free(entries[i]->commit);
		free(entries[i]->signature);
		free(entries[i]);
	}
	free(entries);
	return error;
}

int
service_verify(struct request *r)
{
	Custody__VerifyReply vr = CUSTODY__VERIFY_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct verify_result res;
	Custody__VerifyProblem *probs = NULL, **pp = NULL;
	size_t i, n;
	int error;

	if ((error = verify_archive(r->c->s->a, &res)) < 0)
		goto done;
	n = res.nproblems < 1000 ? res.nproblems : 1000;
	if (n > 0 && ((probs = calloc(n, sizeof *probs)) == NULL ||
	    (pp = calloc(n, sizeof *pp)) == NULL)) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		custody__verify_problem__init(&probs[i]);
		probs[i].item = res.problems[i].item ?: "";
		probs[i].problem = res.problems[i].problem ?: "";
		pp[i] = &probs[i];
	}
	vr.ok = res.nproblems == 0;
	vr.n_problems = n;
	vr.problems = pp;
	vr.problems_total = res.nproblems;
	vr.commits = res.commits;
	vr.records = res.records;
	vr.blobs = res.blobs;
	env.body_case = CUSTODY__ENVELOPE__BODY_VERIFY_REPLY;
	env.verify_reply = &vr;
	error = server_reply(r, &env);
	if (res.nproblems > 0)
		log_warn("verify found %zu problem%s", res.nproblems, res.nproblems == 1 ? "" :
		    "s");
done:
	free(probs);
	free(pp);
	verify_result_free(&res);
	return error;
}

/* A commit time as OpenSSH allowed-signers writes one (UTC). */
static int
service_keys_time(char when[static 32], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(when, 32, "%Y%m%d%H%M%SZ", &tm) == 0)
		return custody_fail(CUSTODY_EINVAL, "a commit time out of range");
	return 0;
}

/*
 * The allowed-signers lines of one office: each key its feed was signed by, valid from the
 * handover that named it (valid-after) to the handover that passed it on (valid-before), both
 * the handover commit's time, so that stock git verify-commit accepts every commit of the
 * feed. A revoked office's last key is valid only before the time of its last commit that
 * counts; when that commit is not held here, the key is left out, with a comment saying why.
 */
static int
service_keys_line(struct archive *a, struct cbuf *b, const char *name,
    const uint8_t pk[static ED25519_PK_LEN], const char *bare)
{
	struct handover_feed *f;
	char hex[2 * ED25519_PK_LEN + 1], after[64] = "", before[64] = "", when[32], *line = NULL;
	const uint8_t *key;
	uint64_t cut;
	int64_t t;
	unsigned k;
	int error = 0;

	if ((f = malloc(sizeof *f)) == NULL)
		return CUSTODY_ENOMEM;
	hex_encode(hex, pk, ED25519_PK_LEN);
	if (handover_feed_read(a, archive_repo(a), hex, NULL, f) < 0) {
		memset(f, 0, sizeof *f);
		handover_chain_init(&f->ch, pk);
	}
	for (k = 0; k <= f->ch.n && error == 0; k++) {
		key = k == 0 ? pk : f->step[k - 1].to;
		after[0] = before[0] = '\0';
		if (k > 0 && (error = service_keys_time(when, f->step[k - 1].time)) == 0)
			snprintf(after, sizeof after, ",valid-after=\"%s\"", when);
		if (k < f->ch.n && error == 0 && (error = service_keys_time(when,
		    f->step[k].time)) == 0)
			snprintf(before, sizeof before, ",valid-before=\"%s\"", when);
		if (k == f->ch.n && error == 0 && revocations_cut(a, pk, &cut)) {
			if (cut == 0)
				t = 1;	/* no commit counts (0 would mean no limit) */
			else if (revocations_commit_time(a, pk, cut, &t) < 0) {
				error = cbuf_printf(b, "# %s revoked after its commit %llu, which is "
				    "not held here: left out\n", name, (unsigned long long)cut);
				break;
			}
			if ((error = service_keys_time(when, t)) == 0)
				snprintf(before, sizeof before, ",valid-before=\"%s\"", when);
		}
		free(line);
		line = NULL;
		if (error == 0 && k > 0 && (error = sshkey_format_pub(&line, key, NULL)) < 0)
			break;
		if (error == 0)
			error = cbuf_printf(b, "%s namespaces=\"git,custody-dossier\"%s%s %s\n", name,
			    after, before, k == 0 ? bare : line);
	}
	free(line);
	free(f);
	return error;
}

int
service_keys(struct request *r)
{
	struct archive *a = r->c->s->a;
	Custody__KeysReply kr = CUSTODY__KEYS_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct office *offices = NULL;
	struct cbuf b = { 0 };
	char *bare = NULL, *signing = NULL;
	size_t n = 0, i;
	int error;

	/* this office, then every office known through office records */
	if ((error = offices_list(a, &offices, &n)) < 0)
		return error;
	for (i = 0; i <= n && error == 0; i++) {
		if (i > 0 && memcmp(offices[i - 1].pk, a->office_pk, ED25519_PK_LEN) == 0)
			continue;
		free(bare);
		bare = NULL;
		if ((error = sshkey_format_pub(&bare, i == 0 ? a->office_pk : offices[i - 1].pk,
		    NULL)) == 0)
			error = service_keys_line(a, &b, i == 0 ? a->conf.office :
			    offices[i - 1].name, i == 0 ? a->office_pk : offices[i - 1].pk, bare);
	}
	free(offices);
	if (error < 0 || (kr.allowed_signers = cbuf_detach(&b)) == NULL) {
		cbuf_free(&b);
		free(bare);
		return error < 0 ? error : CUSTODY_ENOMEM;
	}
	kr.public_key = a->public_line;
	kr.fingerprint = a->fingerprint;
	if (memcmp(a->sign_pk, a->office_pk, ED25519_PK_LEN) != 0 &&
	    sshkey_format_pub(&signing, a->sign_pk, a->conf.office) < 0) {
		free(kr.allowed_signers);
		free(bare);
		return CUSTODY_ENOMEM;
	}
	if (signing != NULL)
		kr.signing_key = signing;
	env.body_case = CUSTODY__ENVELOPE__BODY_KEYS_REPLY;
	env.keys_reply = &kr;
	error = server_reply(r, &env);
	free(kr.allowed_signers);
	free(bare);
	free(signing);
	return error;
}

/* A custody event: someone had the plaintext of evidence sha (action "get"). */
static int
service_access_event(struct archive *a, const char *action, const char *sha,
    const char *actor)
{
	struct records_written w;
	char now[32], *eid = record_random_id();
	json_t *ev;
	int error;

	if (eid == NULL)
		return CUSTODY_ENOMEM;
	record_now(now);
	ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "event", "id", eid, "action", action,
	    "evidence", sha, "actor", actor, "time", now);
	free(eid);
	if (ev == NULL)
		return CUSTODY_ENOMEM;
	error = records_write_changed(a, &ev, 1, "get evidence", 0, &w);
	json_decref(ev);
	return error;
}

#define AUDIT_PAGE_EVENTS 1000		/* events a page holds at most */
#define AUDIT_PAGE_BYTES (1024 * 1024)	/* JSON a page holds, roughly: well under a frame */

struct service_audit_page {
	const struct client	*c;
	json_t			*list;
	size_t			 bytes;
};

/* Open one event of the page, unless the page is full (1). */
static int
service_audit_event(void *arg, const char *office, const char *tok)
{
	struct service_audit_page *p = arg;
	json_t *doc;
	size_t len;
	int error;

	if ((error = records_view(p->c, NULL, office, tok, &doc)) < 0)
		return error;
	json_object_del(doc, "rev");
	len = json_dumpb(doc, NULL, 0, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (json_array_size(p->list) > 0 && p->bytes + len > AUDIT_PAGE_BYTES) {
		json_decref(doc);
		return 1;
	}
	p->bytes += len;
	return json_array_append_new(p->list, doc) == 0 ? 0 : CUSTODY_ENOMEM;
}

/*
 * AuditRequest: a page of the custody events (ingest, get, extract) of every feed, or of
 * those about one item, in causal order (clock, then time), from the index's event table:
 * only the events of the page are opened.
 */
int
service_audit(struct request *r)
{
	struct archive *a = r->c->s->a;
	const Custody__AuditRequest *q = r->msg->audit_request;
	const char *id = q->id;
	Custody__AuditReply ar = CUSTODY__AUDIT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct service_audit_page p = { r->c, NULL, 0 };
	struct index_event_at at = { .lamport = -1 };
	size_t max = q->limit > 0 && q->limit < AUDIT_PAGE_EVENTS ? q->limit : AUDIT_PAGE_EVENTS;
	int error, more = 0;

	if (*id != '\0' && (error = archive_check_id(id)) < 0)
		return custody_fail(error, "'%s' is not a record id", id);
	if (q->has_after) {
		if (q->after_tok.len != TOKEN_LEN)
			return custody_fail(CUSTODY_EINVAL, "audit: the page to follow is malformed");
		at.lamport = q->after_lamport;
		snprintf(at.time, sizeof at.time, "%s", q->after_time);
		memcpy(at.tok, q->after_tok.data, TOKEN_LEN);
	}
	if ((p.list = json_array()) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = index_events_page(a, *id != '\0' ? id : NULL, &at, max,
	    service_audit_event, &p, &more)) < 0)
		goto done;
	if ((ar.json = json_dumps(p.list, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	ar.more = more;
	ar.next_lamport = at.lamport;
	ar.next_time = at.time;
	ar.next_tok.data = at.tok;
	ar.next_tok.len = TOKEN_LEN;
	env.body_case = CUSTODY__ENVELOPE__BODY_AUDIT_REPLY;
	env.audit_reply = &ar;
	error = server_reply(r, &env);
done:
	free(ar.json);
	json_decref(p.list);
	return error;
}

/* Decrypt evidence into the client's descriptor; answer only when its hash is right. */
int
service_get(struct request *r)
{
	struct archive *a = r->c->s->a;
	const char *id = r->msg->get_request->id;
	Custody__GetReply gr = CUSTODY__GET_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint8_t key[32], sum[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], tok[TOKEN_HEX_LEN + 1];	/* the log names the token */
	const char *blob, *sha;
	json_t *doc = NULL;
	uint64_t size;
	struct stat st;
	int error;

	archive_token_hex(a, tok, id);
	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return custody_fail(CUSTODY_EINVAL, "get needs a regular file to write to");
	if ((error = service_record(a, id, &doc)) < 0)
		return error;
	blob = json_string_value(json_object_get(doc, "blob"));
	sha = json_string_value(json_object_get(doc, "sha256"));
	if (strcmp(record_kind(doc), "evidence") != 0 || blob == NULL || sha == NULL ||
	    !hex_is_lower(blob, SHA256_HEX_LEN)) {
		error = custody_fail(CUSTODY_EINVAL, "%s is not an evidence record", id);
		goto done;
	}
	if ((error = evidence_file_key(a, doc, key)) < 0)
		goto done;
	if (ftruncate(r->fd, 0) != 0 || lseek(r->fd, 0, SEEK_SET) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot write to the output file");
		goto done;
	}
	error = blob_decrypt(a, blob, key, r->fd, sum, &size, NULL);
	sodium_memzero(key, sizeof key);
	if (error < 0) {
		log_warn("get record %s: %s", tok, custody_error());
		goto done;
	}
	hex_encode(hex, sum, SHA256_LEN);
	if (strcmp(hex, sha) != 0) {
		log_warn("get record %s: decrypted bytes do not match the record", tok);
		error = custody_fail(CUSTODY_ECRYPTO, "evidence %s is damaged: its bytes hash to %s",
		    id, hex);
		goto done;
	}
	/* who saw the plaintext goes in the signed feed before the plaintext goes out */
	if ((error = service_access_event(a, "get", sha, r->c->actor)) < 0) {
		log_warn("get record %s: the custody event cannot be written: %s", tok,
		    custody_error());
		goto done;
	}
	gr.sha256 = hex;
	gr.size = size;
	gr.name = (char *)(json_string_value(json_object_get(doc, "name")) ?: "");
	env.body_case = CUSTODY__ENVELOPE__BODY_GET_REPLY;
	env.get_reply = &gr;
	error = server_reply(r, &env);
done:
	if (error < 0 && ftruncate(r->fd, 0) != 0)
		log_warn("get record %s: cannot clear the output after a failure", tok);
	json_decref(doc);
	return error;
}
