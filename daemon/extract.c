/*
 * custody extract: a dossier for one recipient (proto/DOSSIER.md), streamed into the client's
 * descriptor as age(tar(BagIt)). Nothing is staged on disk and memory does not grow with the
 * evidence: files are decrypted chunk by chunk into the tar, the tar into age. What grows with
 * the item count is the selection and the manifests.
 *
 * Selection: the records asked for, then one step out: an incident brings its victims and
 * the evidence linked to it; a victim its incident and its evidence; evidence the incidents
 * and victims it is linked to; and every victim and evidence item its sources.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <utf8proc.h>

#include "custody/age.h"
#include "custody/bagit.h"
#include "custody/recobj.h"
#include "custody/tar.h"
#include "dossier.h"
#include "log.h"
#include "report.h"
#include "server.h"
#include "sync.h"

enum { K_INCIDENT, K_VICTIM, K_EVIDENCE, K_SOURCE, K_COUNT };
static const char *const xkinds[K_COUNT] = { "incident", "victim", "evidence", "source" };

struct xsel {
	int		 kind;
	int		 primary;	/* asked for, not brought in by a link */
	char		*id;
	char		 office[65];
	uint8_t		 tok[TOKEN_LEN];
	json_t		*doc;		/* during selection only */
};

struct extract {
	struct archive		*a;
	struct request		*r;
	json_t			*recipient;
	json_t			*policy;	/* "kind.field" -> true */
	struct age_recipient	 rcpt;
	struct xsel		*sel;
	size_t			 nsel, capsel;
	json_t			*seen;		/* id -> true */
	char			 root[48];	/* dossier-ID */
	char			 now[32];
	struct tar_writer	 tw;
	struct age_writer	*aw;
	uint64_t		 written;
	json_t			*dirs;		/* tar directories written */
	json_t			*offices;	/* feed hex -> true */
	struct cbuf		 manifest, tagmanifest;
	uint64_t		 octets, files, evidence_bytes;
	unsigned		 count[K_COUNT];
	struct proof_ctx	 proof;
};

static int
xkind(const char *kind)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(kind, xkinds[k]) == 0)
			return k;
	return -1;
}

/* ---- selection ---------------------------------------------------------------------------- */

/* Add the record at (tok, office); *added tells whether it was new. kind < 0: any. */
static int
xsel_add_tok(struct extract *x, const uint8_t tok[static TOKEN_LEN], const char *office,
    int kind, int primary, const char *asked)
{
	char tokhex[TOKEN_HEX_LEN + 1];
	struct xsel *s;
	json_t *doc = NULL;
	int k, error;

	hex_encode(tokhex, tok, TOKEN_LEN);
	if ((error = feed_read_token(x->a, office, tokhex, &doc)) < 0)
		return error;
	k = xkind(record_kind(doc));
	if (k < 0 || (kind >= 0 && k != kind)) {
		error = custody_fail(CUSTODY_EINVAL, "%s is a%s %s record, not %s %s", asked,
		    strchr("aeiou", record_kind(doc)[0]) ? "n" : "", record_kind(doc),
		    kind == K_INCIDENT || kind == K_EVIDENCE ? "an" : "a",
		    kind >= 0 ? xkinds[kind] : "one a dossier holds");
		json_decref(doc);
		return error;
	}
	if (json_object_get(x->seen, record_id(doc)) != NULL) {
		json_decref(doc);
		return 0;
	}
	if (x->nsel == x->capsel) {
		size_t cap = x->capsel ? 2 * x->capsel : 64;

		if ((s = reallocarray(x->sel, cap, sizeof *s)) == NULL) {
			json_decref(doc);
			return CUSTODY_ENOMEM;
		}
		x->sel = s;
		x->capsel = cap;
	}
	s = &x->sel[x->nsel];
	memset(s, 0, sizeof *s);
	s->kind = k;
	s->primary = primary;
	s->doc = doc;
	snprintf(s->office, sizeof s->office, "%s", office);
	memcpy(s->tok, tok, TOKEN_LEN);
	if ((s->id = strdup(record_id(doc))) == NULL) {
		json_decref(doc);
		return CUSTODY_ENOMEM;
	}
	x->nsel++;
	return json_object_set_new(x->seen, s->id, json_true()) == 0 ? 0 : CUSTODY_ENOMEM;
}

/* Add the record id (of kind, or any when kind < 0). quiet: a missing link is no error. */
static int
xsel_add(struct extract *x, const char *id, int kind, int primary, int quiet)
{
	uint8_t tok[TOKEN_LEN];
	char office[65];
	int error;

	if (archive_check_id(id) < 0) {
		if (quiet)
			return 0;
		return custody_fail(CUSTODY_EINVAL, "'%s' is not a record id", id);
	}
	if (json_object_get(x->seen, id) != NULL)
		return 0;
	if ((error = index_record_office(x->a, id, office)) < 0) {
		if (error == CUSTODY_ENOTFOUND) {
			if (quiet) {
				log_warn("extract: %s is linked but not here; left out", id);
				return 0;
			}
			return custody_fail(error, "no such record: %s", id);
		}
		return error;
	}
	archive_token(x->a, tok, id);
	return xsel_add_tok(x, tok, office, kind, primary, id);
}

static int
xsel_query_cb(void *arg, const uint8_t tok[16], const char *office)
{
	struct extract *x = arg;

	return xsel_add_tok(x, tok, office, K_VICTIM, 1, "a queried victim");
}

static int
xsel_incident_cb(void *arg, const uint8_t tok[16], const char *office)
{
	return xsel_add_tok(arg, tok, office, K_VICTIM, 0, "a victim of the incident");
}

/* True when any member of the array doc[field] is a selected id of one of the kinds. */
static int
xsel_links_to(struct extract *x, json_t *doc, const char *field)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(doc, field), i, v)
		if (json_is_string(v) && json_object_get(x->seen, json_string_value(v)) != NULL)
			return 1;
	return 0;
}

/* Evidence linked to a selected incident or victim: one pass over every evidence record. */
static int
xsel_scan_evidence(struct extract *x)
{
	sqlite3 *db = archive_db(x->a);
	sqlite3_stmt *st;
	char tokhex[TOKEN_HEX_LEN + 1], office[65];
	uint8_t tok[TOKEN_LEN];
	json_t *doc;
	int error = 0, rc;

	if (db == NULL || (st = index_stmt(db, "SELECT tok, office FROM records WHERE "
	    "kind='evidence'")) == NULL)
		return custody_fail(CUSTODY_EIO, "index: cannot list evidence");
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN)
			continue;
		memcpy(tok, sqlite3_column_blob(st, 0), TOKEN_LEN);
		snprintf(office, sizeof office, "%s", (const char *)sqlite3_column_text(st, 1));
		hex_encode(tokhex, tok, TOKEN_LEN);
		if ((error = feed_read_token(x->a, office, tokhex, &doc)) < 0)
			break;
		if (json_object_get(x->seen, record_id(doc)) == NULL &&
		    (xsel_links_to(x, doc, "incidents") || xsel_links_to(x, doc, "victims")))
			error = xsel_add_tok(x, tok, office, K_EVIDENCE, 0, record_id(doc));
		json_decref(doc);
	}
	sqlite3_reset(st);
	return error;
}

static int
xsel_links(struct extract *x, json_t *doc, const char *field, int kind)
{
	json_t *v;
	size_t i;
	int error = 0;

	json_array_foreach(json_object_get(doc, field), i, v)
		if (error == 0 && json_is_string(v))
			error = xsel_add(x, json_string_value(v), kind, 0, 1);
	return error;
}

static int
xsel_build(struct extract *x, const Custody__ExtractRequest *m)
{
	struct query_filter f = { 0 };
	const Custody__QueryRequest *q = m->query;
	uint8_t itok[TOKEN_LEN];
	sqlite3 *db = archive_db(x->a);
	size_t i, n;
	const char *s;
	int error = 0;

	for (i = 0; i < m->n_incidents && error == 0; i++)
		error = xsel_add(x, m->incidents[i], K_INCIDENT, 1, 0);
	for (i = 0; i < m->n_victims && error == 0; i++)
		error = xsel_add(x, m->victims[i], K_VICTIM, 1, 0);
	for (i = 0; i < m->n_evidence && error == 0; i++)
		error = xsel_add(x, m->evidence[i], K_EVIDENCE, 1, 0);
	if (error == 0 && m->query_set && q != NULL) {
		if (db == NULL)
			return CUSTODY_EIO;
		records_query_filter(&f, itok, x->a, q);
		error = query_victims(db, &f, xsel_query_cb, x);
	}
	if (error < 0)
		return error;
	if (x->nsel == 0)
		return custody_fail(CUSTODY_EINVAL, "nothing selected: give --incident, --victim, "
		    "--evidence or query flags that match");
	/* an incident asked for brings its victims */
	n = x->nsel;
	for (i = 0; i < n && error == 0; i++)
		if (x->sel[i].kind == K_INCIDENT && x->sel[i].primary) {
			memset(&f, 0, sizeof f);
			f.basis = "documented";
			f.incident = x->sel[i].tok;
			error = query_victims(db, &f, xsel_incident_cb, x);
		}
	/* evidence linked to the incidents and victims */
	for (i = 0; i < x->nsel && error == 0; i++)
		if (x->sel[i].kind == K_INCIDENT || x->sel[i].kind == K_VICTIM) {
			error = xsel_scan_evidence(x);
			break;
		}
	/* a victim's incident; the records evidence asked for is linked to */
	n = x->nsel;
	for (i = 0; i < n && error == 0; i++) {
		json_t *doc = x->sel[i].doc;

		if (x->sel[i].kind == K_VICTIM &&
		    (s = json_string_value(json_object_get(doc, "incident_id"))) != NULL)
			error = xsel_add(x, s, K_INCIDENT, 0, 1);
		else if (x->sel[i].kind == K_EVIDENCE && x->sel[i].primary &&
		    (error = xsel_links(x, doc, "incidents", K_INCIDENT)) == 0)
			error = xsel_links(x, doc, "victims", K_VICTIM);
	}
	/* and the sources of every victim and evidence item */
	n = x->nsel;
	for (i = 0; i < n && error == 0; i++) {
		json_t *doc = x->sel[i].doc;

		if (x->sel[i].kind == K_VICTIM &&
		    (s = json_string_value(json_object_get(doc, "source_id"))) != NULL)
			error = xsel_add(x, s, K_SOURCE, 0, 1);
		else if (x->sel[i].kind == K_EVIDENCE)
			error = xsel_links(x, doc, "sources", K_SOURCE);
	}
	for (i = 0; i < x->nsel; i++) {
		if (x->sel[i].kind == K_EVIDENCE)
			x->evidence_bytes += (uint64_t)json_integer_value(json_object_get(
			    x->sel[i].doc, "size"));
		json_decref(x->sel[i].doc);
		x->sel[i].doc = NULL;
	}
	return error;
}

static int
xsel_cmp(const void *p, const void *q)
{
	const struct xsel *a = p, *b = q;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	return strcmp(a->id, b->id);
}

/* ---- output: tar entries into age into the descriptor ------------------------------------ */

#define X_FLUSH (8u << 20)

static int
x_file_out(void *arg, const void *p, size_t n)
{
	struct extract *x = arg;
	int error;

	if ((error = write_all(x->r->fd, p, n)) < 0)
		return custody_fail(error, "writing the dossier: %s", strerror(errno));
	/* start writeback as we go, so that the fsync at the end has little left to wait for */
	if ((x->written + n) / X_FLUSH != x->written / X_FLUSH)
		sync_file_range(x->r->fd, (off_t)(x->written / X_FLUSH * X_FLUSH), X_FLUSH,
		    SYNC_FILE_RANGE_WRITE);
	x->written += n;
	__atomic_store_n(&x->r->progress_done, x->written, __ATOMIC_RELAXED);
	return 0;
}

static int
x_tar_out(void *arg, const void *p, size_t n)
{
	struct extract *x = arg;

	return age_writer_write(x->aw, p, n);
}

/* A tar directory entry for every parent of rel not written yet. */
static int
x_dirs(struct extract *x, const char *rel)
{
	char path[TAR_MAX_NAME];
	char *slash;
	int error;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", x->root, rel) >= sizeof path)
		return custody_fail(CUSTODY_EINVAL, "path too long in the dossier: %s", rel);
	for (slash = path; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		if (json_object_get(x->dirs, path) == NULL) {
			if ((error = tar_write_entry(&x->tw, path, TAR_DIR, 0, 0755,
			    time(NULL))) < 0)
				return error;
			json_object_set_new(x->dirs, path, json_true());
		}
		*slash = '/';
	}
	return 0;
}

static int
x_entry(struct extract *x, const char *rel, uint64_t size)
{
	char path[TAR_MAX_NAME];
	int error;

	if ((error = x_dirs(x, rel)) < 0)
		return error;
	snprintf(path, sizeof path, "%s/%s", x->root, rel);
	return tar_write_entry(&x->tw, path, TAR_FILE, size, 0644, time(NULL));
}

static void
x_sha256_hex(char hex[static SHA256_HEX_LEN + 1], const void *p, size_t n)
{
	uint8_t md[SHA256_LEN];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	hex_encode(hex, md, SHA256_LEN);
}

/* A whole file from memory, listed in the payload manifest (data/) or the tag manifest. */
static int
x_file(struct extract *x, const char *rel, const void *p, size_t n)
{
	char hex[SHA256_HEX_LEN + 1];
	int payload = strncmp(rel, "data/", 5) == 0, error;

	if ((error = x_entry(x, rel, n)) < 0 || (error = tar_write_data(&x->tw, p, n)) < 0)
		return error;
	x_sha256_hex(hex, p, n);
	if (payload) {
		x->octets += n;
		x->files++;
	}
	return bagit_write_manifest_line(payload ? &x->manifest : &x->tagmanifest, hex, rel);
}

static int
x_json_file(struct extract *x, const char *rel, json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t n;
	int error;

	if (s == NULL)
		return CUSTODY_ENOMEM;
	n = strlen(s);
	s[n] = '\0';
	if ((s = realloc(s, n + 2)) == NULL)
		return CUSTODY_ENOMEM;
	s[n] = '\n';
	error = x_file(x, rel, s, n + 1);
	sodium_memzero(s, n + 1);
	free(s);
	return error;
}

static int
x_object_cb(void *arg, const char *name, const void *body, size_t len)
{
	char rel[128];

	snprintf(rel, sizeof rel, "custody/objects/%s", name);
	return x_file(arg, rel, body, len);
}

/* An evidence file name fit for a bag: no '/', control characters or leading dot. */
static char *
x_safe_name(const char *name)
{
	char *s;
	size_t i;

	if (name == NULL || name[0] == '\0' ||
	    utf8proc_iterate((const uint8_t *)name, -1, &(utf8proc_int32_t){ 0 }) < 0)
		return strdup("file");
	if ((s = strdup(name)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '/' || s[i] == '\\' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    (i == 0 && s[i] == '.'))
			s[i] = '_';
	return s;
}

/* ---- items --------------------------------------------------------------------------------- */

/*
 * Evidence is decrypted on a thread of its own and hashed on another, in 1 MiB pieces that the
 * request's thread tars and age-encrypts: the work spreads over the cores. The pieces are
 * plaintext: sodium_malloc'd (locked in memory, wiped when freed). Pieces are numbered
 * in order; piece n lives in slot n % XQ_SLOTS, which is filled again only once both the hasher
 * and the request's thread are past it.
 */
#define XQ_SLOTS 6
#define XQ_BUF (1u << 20)

struct xqueue {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	uint8_t		*buf[XQ_SLOTS];
	size_t		 len[XQ_SLOTS];
	uint64_t	 published, consumed, hashed;	/* pieces, counted from 0 */
	size_t		 fill;		/* bytes in the piece being filled (producer's) */
	int		 done, stop;
	/* the decryption, on the producer thread */
	struct archive	*a;
	const char	*blob;
	uint8_t		 key[32];
	uint64_t	 got, left;
	int		 error;
	char		 errmsg[512];
	/* the plaintext's SHA-256, on the hasher thread */
	EVP_MD_CTX	*sha;
	uint8_t		 sum[SHA256_LEN];
};

static uint64_t
xq_released(const struct xqueue *q)
{
	return q->consumed < q->hashed ? q->consumed : q->hashed;
}

/* Producer: append plaintext to the piece being filled, publishing it when full. */
static int
xq_put(void *arg, const void *p, size_t n)
{
	struct xqueue *q = arg;
	const uint8_t *b = p;
	unsigned slot;
	size_t take;

	if (n > q->left)
		return custody_fail(CUSTODY_ECRYPTO, "evidence is longer than its record says");
	q->left -= n;
	while (n > 0) {
		pthread_mutex_lock(&q->mu);
		while (q->published - xq_released(q) == XQ_SLOTS && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop) {
			pthread_mutex_unlock(&q->mu);
			return custody_fail(CUSTODY_EIO, "extract stopped");
		}
		slot = q->published % XQ_SLOTS;
		pthread_mutex_unlock(&q->mu);
		take = XQ_BUF - q->fill < n ? XQ_BUF - q->fill : n;
		memcpy(q->buf[slot] + q->fill, b, take);
		q->fill += take;
		b += take;
		n -= take;
		if (q->fill == XQ_BUF) {
			pthread_mutex_lock(&q->mu);
			q->len[slot] = q->fill;
			q->fill = 0;
			q->published++;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
		}
	}
	return 0;
}

static void *
xq_producer(void *arg)
{
	struct xqueue *q = arg;
	int error;

	error = blob_decrypt_cb(q->a, q->blob, q->key, xq_put, q, NULL, &q->got, NULL);
	sodium_memzero(q->key, sizeof q->key);
	pthread_mutex_lock(&q->mu);
	if (error < 0) {
		q->error = error;
		snprintf(q->errmsg, sizeof q->errmsg, "%s", custody_error());
	} else if (q->fill > 0) {
		q->len[q->published % XQ_SLOTS] = q->fill;	/* the last, partial piece */
		q->published++;
	}
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	archive_thread_done();
	return NULL;
}

/* Take the next piece for *counter (the hasher's or the consumer's): its slot, or -1 at the end. */
static int
xq_next(struct xqueue *q, uint64_t *counter)
{
	int slot;

	pthread_mutex_lock(&q->mu);
	while (*counter == q->published && !q->done && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	slot = *counter < q->published && !q->stop ? (int)(*counter % XQ_SLOTS) : -1;
	pthread_mutex_unlock(&q->mu);
	return slot;
}

/* Past a piece: the producer may fill its slot once the other party is past it too. */
static void
xq_past(struct xqueue *q, uint64_t *counter)
{
	pthread_mutex_lock(&q->mu);
	(*counter)++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void *
xq_hasher(void *arg)
{
	struct xqueue *q = arg;
	int slot;

	while ((slot = xq_next(q, &q->hashed)) >= 0) {
		EVP_DigestUpdate(q->sha, q->buf[slot], q->len[slot]);
		xq_past(q, &q->hashed);
	}
	return NULL;
}

/* Consumer: tar what the producer decrypted until it is done. */
static int
xq_drain(struct extract *x, struct xqueue *q)
{
	int slot, error;

	while ((slot = xq_next(q, &q->consumed)) >= 0) {
		if ((error = tar_write_data(&x->tw, q->buf[slot], q->len[slot])) < 0) {
			pthread_mutex_lock(&q->mu);
			q->stop = 1;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
			return error;
		}
		xq_past(q, &q->consumed);
	}
	return 0;
}

/* Stream one evidence file into the bag, checking it against its record. */
static int
x_evidence(struct extract *x, json_t *doc, const char *rel)
{
	const char *sha = json_string_value(json_object_get(doc, "sha256"));
	const char *blob = json_string_value(json_object_get(doc, "blob"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(doc, "size"));
	struct xqueue q = { .a = x->a, .blob = blob, .left = size };
	char hex[SHA256_HEX_LEN + 1];
	pthread_t th, hth;
	int error, i;

	if (sha == NULL || blob == NULL || !hex_is_lower(blob, SHA256_HEX_LEN))
		return custody_fail(CUSTODY_EINVAL, "evidence %s has no blob", record_id(doc));
	if ((error = service_file_key(x->a, doc, q.key)) < 0)
		return error;
	if ((error = x_entry(x, rel, size)) < 0)
		goto wipe;
	if ((q.sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(q.sha, EVP_sha256(), NULL) != 1) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < XQ_SLOTS; i++)
		if ((q.buf[i] = sodium_malloc(XQ_BUF)) == NULL) {
			error = CUSTODY_ENOMEM;
			goto done;
		}
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.cv, NULL);
	if (pthread_create(&th, NULL, xq_producer, &q) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot start a thread");
		goto destroy;
	}
	if (pthread_create(&hth, NULL, xq_hasher, &q) != 0) {
		pthread_mutex_lock(&q.mu);
		q.stop = 1;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.mu);
		pthread_join(th, NULL);
		error = custody_fail(CUSTODY_EIO, "cannot start a thread");
		goto destroy;
	}
	error = xq_drain(x, &q);
	pthread_join(th, NULL);
	pthread_join(hth, NULL);
	if (error == 0 && q.error < 0)
		error = custody_fail(q.error, "%s", q.errmsg);
	if (error == 0)
		EVP_DigestFinal_ex(q.sha, q.sum, NULL);
destroy:
	pthread_cond_destroy(&q.cv);
	pthread_mutex_destroy(&q.mu);
done:
	for (i = 0; i < XQ_SLOTS; i++)
		if (q.buf[i] != NULL)
			sodium_free(q.buf[i]);	/* wipes, unlocks */
	EVP_MD_CTX_free(q.sha);
wipe:
	sodium_memzero(q.key, sizeof q.key);
	if (error < 0)
		return error;
	hex_encode(hex, q.sum, SHA256_LEN);
	if (q.got != size || strcmp(hex, sha) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "evidence %s is damaged: its bytes hash to %s",
		    sha, hex);
	x->octets += size;
	x->files++;
	return bagit_write_manifest_line(&x->manifest, sha, rel);
}

/* Take the withheld fields out of doc; decide which keys the proof may carry. */
static int
x_withhold(struct extract *x, struct xsel *s, json_t *doc, json_t *proof,
    const uint8_t key[static 32], json_t **withheld)
{
	const char *kind = xkinds[s->kind], *const *sf;
	char name[160], b64[64], tokhex[TOKEN_HEX_LEN + 1];
	int give_key = 1, sealed;
	json_t *fkeys = json_object(), *v;
	const char *field;
	uint8_t fk[32];
	void *tmp;

	*withheld = json_array();
	if (fkeys == NULL || *withheld == NULL)
		return CUSTODY_ENOMEM;
	hex_encode(tokhex, s->tok, TOKEN_LEN);
	/* records open with their keys in sorted order, so withheld comes out sorted */
	json_object_foreach_safe(doc, tmp, field, v) {
		snprintf(name, sizeof name, "%s.%s", kind, field);
		if (json_object_get(x->policy, name) == NULL &&
		    !(s->kind == K_EVIDENCE && strcmp(field, "key") == 0))
			continue;
		for (sealed = 0, sf = recobj_sealed_fields(kind); *sf != NULL; sf++)
			if (strcmp(*sf, field) == 0)
				sealed = 1;
		/* an evidence record's file key is wrapped by the archive key: no disclosure */
		if (!sealed && !(s->kind == K_EVIDENCE && strcmp(field, "key") == 0))
			give_key = 0;
		json_array_append_new(*withheld, json_string(field));
		json_object_del(doc, field);
	}
	for (sf = recobj_sealed_fields(kind); *sf != NULL; sf++) {
		if (json_object_get(doc, *sf) == NULL)
			continue;
		record_field_key(x->a, tokhex, *sf, fk);
		sodium_bin2base64(b64, sizeof b64, fk, sizeof fk, sodium_base64_VARIANT_ORIGINAL);
		sodium_memzero(fk, sizeof fk);
		json_object_set_new(fkeys, *sf, json_string(b64));
	}
	if (give_key) {
		sodium_bin2base64(b64, sizeof b64, key, 32, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(proof, "record_key", json_string(b64));
		if (json_object_size(fkeys) > 0)
			json_object_set(proof, "field_keys", fkeys);
	}
	sodium_memzero(b64, sizeof b64);
	json_decref(fkeys);
	if (json_array_size(*withheld) > 0)
		json_object_set(doc, "withheld", *withheld);
	return 0;
}

static int
x_office_seen(struct extract *x, const char *hex)
{
	return json_object_set_new(x->offices, hex, json_true()) == 0 ? 0 : CUSTODY_ENOMEM;
}

/* One record: its file, its evidence file, its proofs and chain of custody. */
static int
x_item(struct extract *x, struct xsel *s)
{
	const char *kind = xkinds[s->kind];
	json_t *proof = NULL, *doc = NULL, *commits = NULL, *wits = NULL, *withheld = NULL;
	json_t *item = NULL, *chain = NULL, *w;
	char rel[TAR_MAX_NAME], evrel[TAR_MAX_NAME] = "", when[32], *name = NULL;
	uint8_t key[32];
	size_t i;
	int error;

	if ((error = proof_build(&x->proof, s->office, s->tok, &proof, &doc, key, &commits,
	    &wits, when)) < 0) {
		custody_fail(error, "%s %s: %s", kind, s->id, custody_error());
		goto done;
	}
	if ((error = x_office_seen(x, s->office)) < 0)
		goto done;
	json_array_foreach(wits, i, w)
		if ((error = x_office_seen(x, json_string_value(json_object_get(w, "office")))) <
		    0)
			goto done;
	if ((chain = json_array()) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (s->kind == K_EVIDENCE)
		json_array_append_new(chain, json_pack("{s:s,s:s,s:s,s:s}", "event", "acquired",
		    "time", json_string_value(json_object_get(doc, "acquired_at")) ?: "", "by",
		    json_string_value(json_object_get(doc, "acquired_by")) ?: "", "office",
		    json_string_value(json_object_get(doc, "office")) ?: ""));
	json_array_append_new(chain, json_pack("{s:s,s:s,s:O,s:O,s:s}", "event", "recorded",
	    "office", s->office, "seq", json_object_get(proof, "seq"), "commit",
	    json_object_get(proof, "commit"), "time", when));
	json_array_foreach(wits, i, w)
		json_array_append_new(chain, json_pack("{s:s,s:O,s:O,s:O}", "event", "witnessed",
		    "office", json_object_get(w, "office"), "seq", json_object_get(w, "seq"),
		    "time", json_object_get(w, "time")));
	json_array_append_new(chain, json_pack("{s:s,s:s,s:s,s:s,s:s}", "event", "exported",
	    "office", x->a->office_hex, "by", x->r->c->actor, "time", x->now, "recipient",
	    json_string_value(json_object_get(x->recipient, "name"))));
	if (s->kind == K_EVIDENCE) {
		const char *sha = json_string_value(json_object_get(doc, "sha256"));

		if (sha == NULL || !hex_is_lower(sha, SHA256_HEX_LEN) ||
		    (name = x_safe_name(json_string_value(json_object_get(doc, "name")))) ==
		    NULL) {
			error = custody_fail(CUSTODY_EINVAL, "evidence %s: bad record", s->id);
			goto done;
		}
		snprintf(evrel, sizeof evrel, "data/evidence/%s/%s", sha, name);
		if ((error = x_evidence(x, doc, evrel)) < 0)
			goto done;
	}
	if ((error = x_withhold(x, s, doc, proof, key, &withheld)) < 0)
		goto done;
	snprintf(rel, sizeof rel, "data/records/%s/%s.json", kind, s->id);
	if ((error = x_json_file(x, rel, doc)) < 0)
		goto done;
	if ((item = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:O}", "kind", kind, "id", s->id,
	    "record", rel, "withheld", withheld, "proof", proof, "commits", commits,
	    "witnesses", wits, "custody", chain)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (evrel[0] != '\0')
		json_object_set_new(item, "evidence", json_string(evrel));
	snprintf(rel, sizeof rel, "custody/items/%s/%s.json", kind, s->id);
	if ((error = x_json_file(x, rel, item)) < 0)
		goto done;
	x->count[s->kind]++;
done:
	sodium_memzero(key, sizeof key);
	free(name);
	json_decref(item);
	json_decref(chain);
	json_decref(withheld);
	json_decref(proof);
	json_decref(doc);
	json_decref(commits);
	json_decref(wits);
	return error;
}

/* ---- the tag files ----------------------------------------------------------------------- */

static int
x_offices(struct extract *x, struct cbuf *signers)
{
	json_t *list = json_array(), *doc = NULL, *v;
	uint8_t pk[ED25519_PK_LEN];
	char *line = NULL, *fp = NULL, *name;
	const char *hex;
	int error = 0, pass;

	if (list == NULL)
		return CUSTODY_ENOMEM;
	/* the exporter first, then the others */
	for (pass = 0; pass < 2 && error == 0; pass++) {
		json_object_foreach(x->offices, hex, v) {
			if ((strcmp(hex, x->a->office_hex) == 0) != (pass == 0))
				continue;
			if (hex_decode(pk, sizeof pk, hex) < 0) {
				error = custody_fail(CUSTODY_EINVAL, "bad office key %s", hex);
				break;
			}
			name = pass == 0 ? strdup(x->a->conf.office) : sync_office_name(x->a, pk);
			if (name == NULL && (name = strndup(hex, 16)) == NULL) {
				error = CUSTODY_ENOMEM;
				break;
			}
			if ((error = sshkey_format_pub(&line, pk, NULL)) < 0 ||
			    (error = sshkey_fingerprint(&fp, pk)) < 0 ||
			    (error = cbuf_printf(signers, "%s namespaces=\"custody-dossier,git\" "
			    "%s\n", name, line)) < 0) {
				free(name);
				break;
			}
			json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "key", hex,
			    "name", name, "public_key", line, "fingerprint", fp));
			free(name);
			free(line);
			free(fp);
			line = fp = NULL;
		}
	}
	if (error == 0 && (doc = json_pack("{s:s,s:O}", "exporter", x->a->office_hex,
	    "offices", list)) == NULL)
		error = CUSTODY_ENOMEM;
	if (error == 0)
		error = x_json_file(x, "custody/offices.json", doc);
	free(line);
	free(fp);
	json_decref(list);
	json_decref(doc);
	return error;
}

static int
x_export(struct extract *x)
{
	json_t *items = json_array(), *doc = NULL, *withhold = json_array(), *v;
	const char *k;
	size_t i;
	int error = CUSTODY_ENOMEM;

	if (items == NULL || withhold == NULL)
		goto done;
	for (i = 0; i < x->nsel; i++)
		json_array_append_new(items, json_pack("{s:s,s:s}", "kind",
		    xkinds[x->sel[i].kind], "id", x->sel[i].id));
	json_object_foreach(x->policy, k, v)
		json_array_append_new(withhold, json_string(k));
	json_array_append_new(withhold, json_string("evidence.key"));
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:O,s:O},s:O,s:O}", "dossier", x->root,
	    "office", x->a->office_hex, "office_name", x->a->conf.office, "exported_at", x->now,
	    "exported_by", x->r->c->actor, "recipient", "name",
	    json_object_get(x->recipient, "name"), "key", json_object_get(x->recipient, "key"),
	    "withhold", withhold, "items", items)) == NULL)
		goto done;
	error = x_json_file(x, "custody/export.json", doc);
done:
	json_decref(items);
	json_decref(withhold);
	json_decref(doc);
	return error;
}

/* The manifests, bag-info, the signature: everything after the payload. */
static int
x_finish_bag(struct extract *x, char tmhex[static SHA256_HEX_LEN + 1])
{
	struct cbuf decl = { 0 }, info = { 0 }, signers = { 0 }, sigline = { 0 };
	char date[16], rcpt[256], *sig = NULL;
	struct bagit_tag tags[7];
	int error;

	if ((error = x_export(x)) < 0 || (error = x_offices(x, &signers)) < 0)
		goto done;
	snprintf(date, sizeof date, "%.10s", x->now);
	snprintf(rcpt, sizeof rcpt, "%s %s",
	    json_string_value(json_object_get(x->recipient, "name")),
	    json_string_value(json_object_get(x->recipient, "key")));
	tags[0] = (struct bagit_tag){ "Source-Organization", x->a->conf.office };
	tags[1] = (struct bagit_tag){ "Bagging-Date", date };
	tags[2] = (struct bagit_tag){ "External-Identifier", x->root };
	tags[3] = (struct bagit_tag){ "Custody-Office-Fingerprint", x->a->fingerprint };
	tags[4] = (struct bagit_tag){ "Custody-Recipient", rcpt };
	tags[5] = (struct bagit_tag){ "Custody-Exported-By", x->r->c->actor };
	tags[6] = (struct bagit_tag){ "Custody-Exported-At", x->now };
	if ((error = bagit_write_declaration(&decl)) < 0 ||
	    (error = bagit_write_info(&info, tags, 7, x->octets, x->files)) < 0 ||
	    (error = x_file(x, "manifest-sha256.txt", x->manifest.data, x->manifest.len)) < 0 ||
	    (error = x_file(x, "bagit.txt", decl.data, decl.len)) < 0 ||
	    (error = x_file(x, "bag-info.txt", info.data, info.len)) < 0 ||
	    (error = x_file(x, "allowed_signers", signers.data, signers.len)) < 0)
		goto done;
	/* the tag manifest lists the files above; it is not listed in itself */
	x_sha256_hex(tmhex, x->tagmanifest.data, x->tagmanifest.len);
	if ((error = x_entry(x, "tagmanifest-sha256.txt", x->tagmanifest.len)) < 0 ||
	    (error = tar_write_data(&x->tw, x->tagmanifest.data, x->tagmanifest.len)) < 0)
		goto done;
	if ((error = sshsig_sign(&sig, x->a->office_sk, "custody-dossier", "sha512",
	    x->tagmanifest.data, x->tagmanifest.len)) < 0 ||
	    (error = cbuf_printf(&sigline, "%s\n", sig)) < 0 ||
	    (error = x_entry(x, "tagmanifest-sha256.txt.sig", sigline.len)) < 0 ||
	    (error = tar_write_data(&x->tw, sigline.data, sigline.len)) < 0)
		goto done;
	error = tar_write_finish(&x->tw);
done:
	free(sig);
	cbuf_free(&decl);
	cbuf_free(&info);
	cbuf_free(&signers);
	cbuf_free(&sigline);
	return error;
}

/* ---- the request ------------------------------------------------------------------------- */

/*
 * The custody event of this extract, in the office's own feed. The dossier's hash is its tag
 * manifest's: that covers every file of the bag, and the recipient can compute it.
 */
static int
x_event(struct extract *x, const char *tmhex, struct records_written *w)
{
	json_t *items = json_array(), *ev;
	char *eid = record_random_id();
	size_t i;
	int error;

	if (items == NULL || eid == NULL) {
		json_decref(items);
		free(eid);
		return CUSTODY_ENOMEM;
	}
	for (i = 0; i < x->nsel; i++)
		json_array_append_new(items, json_pack("s++", xkinds[x->sel[i].kind], ":",
		    x->sel[i].id));
	ev = json_pack("{s:s,s:s,s:s,s:s,s:O,s:O,s:o,s:s,s:I,s:s,s:s}", "kind", "event", "id",
	    eid, "action", "extract", "dossier", x->root, "recipient",
	    json_object_get(x->recipient, "name"), "recipient_key",
	    json_object_get(x->recipient, "key"), "items", items, "tagmanifest_sha256", tmhex, "size", (json_int_t)x->written, "actor", x->r->c->actor,
	    "time", x->now);
	free(eid);
	if (ev == NULL)
		return CUSTODY_ENOMEM;
	error = records_write_changed(x->a, &ev, 1, "extract a dossier", 0, w);
	json_decref(ev);
	return error;
}

static void
x_free(struct extract *x)
{
	size_t i;

	for (i = 0; i < x->nsel; i++) {
		free(x->sel[i].id);
		json_decref(x->sel[i].doc);
	}
	free(x->sel);
	json_decref(x->seen);
	json_decref(x->recipient);
	json_decref(x->policy);
	json_decref(x->dirs);
	json_decref(x->offices);
	json_decref(x->proof.objects);
	proof_free(&x->proof);
	age_writer_free(x->aw);
	cbuf_free(&x->manifest);
	cbuf_free(&x->tagmanifest);
}

int
service_extract(struct request *r)
{
	struct archive *a = r->c->s->a;
	const Custody__ExtractRequest *m = r->msg->extract_request;
	Custody__ExtractReply er = CUSTODY__EXTRACT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct extract x = { .a = a, .r = r };
	struct records_written w;
	uint8_t rid[16];
	char tmhex[SHA256_HEX_LEN + 1], oid[GIT_OID_HEXSZ + 1] = "";
	const char *key;
	json_t *v;
	struct stat st;
	size_t i;
	int error;

	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return custody_fail(CUSTODY_EINVAL, "extract needs a regular file to write to");
	x.seen = json_object();
	x.dirs = json_object();
	x.offices = json_object();
	x.policy = json_object();
	x.proof.objects = json_object();
	if (x.seen == NULL || x.dirs == NULL || x.offices == NULL || x.policy == NULL ||
	    x.proof.objects == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((error = recipient_load(a, m->recipient, &x.recipient)) < 0)
		goto done;
	key = json_string_value(json_object_get(x.recipient, "key"));
	if (key == NULL || age_recipient_parse(&x.rcpt, key, strlen(key)) < 0) {
		error = custody_fail(CUSTODY_EINVAL, "recipient %s has no usable age key",
		    m->recipient);
		goto done;
	}
	json_array_foreach(json_object_get(x.recipient, "withhold"), i, v)
		if (json_is_string(v))
			json_object_set_new(x.policy, json_string_value(v), json_true());
	if ((error = xsel_build(&x, m)) < 0)
		goto done;
	qsort(x.sel, x.nsel, sizeof *x.sel, xsel_cmp);
	__atomic_store_n(&r->progress_total, x.evidence_bytes + 65536 * (uint64_t)x.nsel,
	    __ATOMIC_RELAXED);
	randombytes_buf(rid, sizeof rid);
	memcpy(x.root, "dossier-", 8);
	hex_encode(x.root + 8, rid, sizeof rid);
	record_now(x.now);
	x.proof.a = a;
	x.proof.object = x_object_cb;
	x.proof.arg = &x;
	if ((x.proof.repo = archive_repo(a)) == NULL) {
		error = CUSTODY_EIO;
		goto done;
	}
	if (ftruncate(r->fd, 0) != 0 || lseek(r->fd, 0, SEEK_SET) != 0) {
		error = custody_fail(CUSTODY_EIO, "cannot write to the output file");
		goto done;
	}
	if ((error = age_writer_new(&x.aw, &x.rcpt, 1, x_file_out, &x)) < 0)
		goto done;
	tar_writer_init(&x.tw, x_tar_out, &x);
	for (i = 0; i < x.nsel && error == 0; i++)
		error = x_item(&x, &x.sel[i]);
	if (error < 0 || (error = x_finish_bag(&x, tmhex)) < 0 ||
	    (error = age_writer_finish(x.aw)) < 0)
		goto done;
	if (fsync(r->fd) != 0) {
		error = custody_fail(CUSTODY_EIO, "writing the dossier: %s", strerror(errno));
		goto done;
	}
	if ((error = x_event(&x, tmhex, &w)) < 0)
		goto done;
	if (w.committed) {
		git_oid_tostr(oid, sizeof oid, &w.commit.oid);
		er.seq = w.commit.seq;
	}
	log_info("%s extracted %s for %s: %zu records, %llu evidence bytes, tag manifest %s",
	    r->c->actor, x.root, m->recipient, x.nsel, (unsigned long long)x.evidence_bytes,
	    tmhex);
	er.dossier = x.root;
	er.size = x.written;
	er.tagmanifest_sha256 = tmhex;
	er.incidents = x.count[K_INCIDENT];
	er.victims = x.count[K_VICTIM];
	er.evidence = x.count[K_EVIDENCE];
	er.sources = x.count[K_SOURCE];
	er.evidence_bytes = x.evidence_bytes;
	er.commit = oid;
	env.body_case = CUSTODY__ENVELOPE__BODY_EXTRACT_REPLY;
	env.extract_reply = &er;
	error = server_reply(r, &env);
done:
	if (error < 0 && ftruncate(r->fd, 0) != 0)
		log_warn("extract: cannot clear the output after a failure");
	x_free(&x);
	return error;
}
