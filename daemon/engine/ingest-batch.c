/*
 * The files of an ingest batch on their way to the commit, kept under tmp/ rather than in
 * memory, so that a batch of a million scanned pages holds a few bits per file. Each file is
 * an entry of fixed size at its place in the batch (its hashes, key, size, blob name, and
 * where its media type and name are) in an unnamed file; its media type and name are appended
 * to a second one, and its wrapped key written to a third at the commit. Everything is under
 * XChaCha20-Poly1305 with a random key of this batch, whose nonce says what the bytes are and
 * where they sit, so nothing of a file is readable on disk, and nothing stays after a crash.
 * Memory keeps two bits per file (kept, duplicate), a run of the placed files' hashes (sorted
 * to find copies, the rest in runs under tmp/) and, once the batch is deduplicated, a count
 * per 64 files to find its n-th new file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custody/runsort.h"
#include "ingest.h"

#define ENT_PLACE	1	/* nonce kinds */
#define ENT_VAR		2
#define ENT_WRAPPED	3
#define DEDUPE_RUN	65536	/* hashes sorted in memory before they go to a run */

/* One file as kept under tmp/. */
struct ingest_ent {
	uint8_t		sha256[SHA256_LEN];
	uint8_t		key[32];
	char		blob[SHA256_HEX_LEN + 1];
	uint8_t		duplicate;
	uint16_t	media_len;
	uint32_t	var_len;	/* media type then name, no NUL */
	uint64_t	size, var_off;
};

#define SEAL crypto_aead_xchacha20poly1305_ietf_ABYTES
#define ENT_LEN (sizeof(struct ingest_ent) + SEAL)
#define WRAPPED_LEN (WRAPPED_KEY_LEN + SEAL)

/* A placed file's hash and place, sorted to find copies within the batch. */
struct ingest_dedupe_item {
	uint8_t		sha256[SHA256_LEN];
	uint32_t	index;
};

static int
ingest_dedupe_cmp(const void *x, const void *y)
{
	const struct ingest_dedupe_item *a = x, *b = y;
	int c = memcmp(a->sha256, b->sha256, SHA256_LEN);

	return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

struct ingest_batch {
	struct archive	*a;
	uint32_t	 n;
	int		 fd, vfd, wfd;	/* entries, names, wrapped keys */
	uint8_t		 key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	pthread_mutex_t	 lock;		/* vend and bysha */
	uint64_t	 vend;		/* of vfd */
	struct runsort	*bysha;		/* the placed files by hash (ingest_dedupe_item) */
	uint64_t	*kept, *dup;	/* n bits each */
	uint32_t	*rank;		/* new files before each word of dup */
	size_t		 nfresh;
	int		 committed;
	struct archive_flusher *flush;	/* the placed blobs written back ahead of the commit */
	uint64_t	 since;		/* archive_sync_mark() before the first blob was placed */
};

static int
ingest_batch_sys(const char *what)
{
	return custody_fail(errno == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
	    "ingest: %s the batch's files under tmp/: %s", what, strerror(errno));
}

static void
ingest_batch_nonce(uint8_t nonce[static 24], int kind, uint64_t where)
{
	memset(nonce, 0, 24);
	nonce[0] = (uint8_t)kind;
	memcpy(nonce + 8, &where, sizeof where);
}

static int
ingest_batch_bit(const uint64_t *v, size_t i)
{
	return (int)(__atomic_load_n(&v[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1);
}

static void
ingest_batch_set(uint64_t *v, size_t i)
{
	__atomic_fetch_or(&v[i / 64], (uint64_t)1 << (i % 64), __ATOMIC_RELAXED);
}

/* Seal len bytes of p as (kind, where) and write them at off of fd. */
static int
ingest_batch_put_at(struct ingest_batch *b, int fd, int kind, uint64_t where, uint64_t off,
    const void *p, size_t len)
{
	uint8_t nonce[24], *ct;
	int error = 0;

	if ((ct = malloc(len + SEAL)) == NULL)
		return CUSTODY_ENOMEM;
	ingest_batch_nonce(nonce, kind, where);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, p, len, NULL, 0, NULL, nonce, b->key);
	if (pwrite_all(fd, ct, len + SEAL, (off_t)off) < 0)
		error = ingest_batch_sys("cannot keep");
	free(ct);
	return error;
}

/* Read and open len bytes kept as (kind, where) at off of fd into p. */
static int
ingest_batch_get_at(const struct ingest_batch *b, int fd, int kind, uint64_t where,
    uint64_t off, void *p, size_t len)
{
	uint8_t nonce[24], *ct;
	int error = 0;

	if ((ct = malloc(len + SEAL)) == NULL)
		return CUSTODY_ENOMEM;
	ingest_batch_nonce(nonce, kind, where);
	if (pread_full(fd, ct, len + SEAL, (off_t)off) < 0)
		error = ingest_batch_sys("cannot read");
	else if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, NULL, NULL, ct, len + SEAL, NULL,
	    0, nonce, b->key) != 0)
		error = custody_fail(CUSTODY_EIO, "ingest: a file of the batch under tmp/ was "
		    "changed or lost");
	free(ct);
	return error;
}

int
ingest_batch_new(struct ingest_batch **out, struct archive *a, uint32_t n)
{
	struct ingest_batch *b;
	size_t words = (size_t)n / 64 + 1;
	int sfd, error;

	*out = NULL;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return CUSTODY_ENOMEM;
	b->a = a;
	b->n = n;
	b->since = archive_sync_mark(a);
	b->fd = b->vfd = b->wfd = -1;
	pthread_mutex_init(&b->lock, NULL);
	crypto_aead_xchacha20poly1305_ietf_keygen(b->key);
	if ((b->kept = calloc(words, sizeof *b->kept)) == NULL ||
	    (b->dup = calloc(words, sizeof *b->dup)) == NULL ||
	    archive_flusher_new(&b->flush, a, NULL) < 0) {
		ingest_batch_free(b);
		return CUSTODY_ENOMEM;
	}
	if ((b->fd = archive_tmpfile(a, "ingest")) < 0 ||
	    (b->vfd = archive_tmpfile(a, "ingest")) < 0 ||
	    (b->wfd = archive_tmpfile(a, "ingest")) < 0 ||
	    (sfd = archive_tmpfile(a, "ingest")) < 0) {
		error = ingest_batch_sys("cannot make");
		ingest_batch_free(b);
		return error;
	}
	if ((error = runsort_new(&b->bysha, sizeof(struct ingest_dedupe_item), DEDUPE_RUN,
	    ingest_dedupe_cmp, sfd)) < 0) {
		close(sfd);
		ingest_batch_free(b);
		return error;
	}
	*out = b;
	return 0;
}

int
ingest_batch_put(struct ingest_batch *b, const struct ingest_file *f)
{
	struct ingest_ent e;
	struct ingest_dedupe_item it;
	size_t mlen = strlen(f->blob.media_type), nlen = strlen(f->name);
	char *var;
	int error;

	if (f->index >= b->n || ingest_batch_bit(b->kept, f->index))
		return custody_fail(CUSTODY_EINVAL, "ingest: file %u kept twice", f->index);
	memset(&e, 0, sizeof e);
	memcpy(e.sha256, f->blob.sha256, SHA256_LEN);
	memcpy(e.key, f->blob.key, sizeof e.key);
	memcpy(e.blob, f->blob.name, sizeof e.blob);
	e.duplicate = f->duplicate != 0;
	e.size = f->blob.size;
	e.media_len = (uint16_t)mlen;
	e.var_len = (uint32_t)(mlen + nlen);
	if ((var = malloc(mlen + nlen + 1)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(var, f->blob.media_type, mlen);
	memcpy(var + mlen, f->name, nlen);
	memset(&it, 0, sizeof it);
	memcpy(it.sha256, f->blob.sha256, SHA256_LEN);
	it.index = f->index;
	pthread_mutex_lock(&b->lock);
	e.var_off = b->vend;
	b->vend += e.var_len + SEAL;
	/* in the archive already: nothing was placed, nothing to compare */
	error = f->duplicate ? 0 : runsort_add(b->bysha, &it);
	pthread_mutex_unlock(&b->lock);
	if (error == 0)
		error = ingest_batch_put_at(b, b->vfd, ENT_VAR, e.var_off, e.var_off, var,
		    e.var_len);
	if (error == 0)
		error = ingest_batch_put_at(b, b->fd, ENT_PLACE, f->index,
		    (uint64_t)f->index * ENT_LEN, &e, sizeof e);
	sodium_memzero(&e, sizeof e);
	free(var);
	if (error < 0)
		return error;
	if (f->duplicate)
		ingest_batch_set(b->dup, f->index);
	else
		archive_flusher_note(b->flush, f->blob.size);
	ingest_batch_set(b->kept, f->index);
	return 0;
}

void
ingest_batch_flush_kick(struct ingest_batch *b)
{
	archive_flusher_kick(b->flush);
}

int
ingest_batch_flushed(struct ingest_batch *b)
{
	return archive_flusher_stop(b->flush);
}

unsigned
ingest_batch_flushes(struct ingest_batch *b)
{
	return archive_flusher_syncs(b->flush);
}

uint64_t
ingest_batch_since(const struct ingest_batch *b)
{
	return b->since;
}

uint32_t
ingest_batch_count(const struct ingest_batch *b)
{
	return b->n;
}

int
ingest_batch_duplicate(const struct ingest_batch *b, uint32_t i)
{
	return ingest_batch_bit(b->dup, i);
}

void
ingest_batch_entry_free(struct ingest_entry *x)
{
	sodium_memzero(x->key, sizeof x->key);
	free(x->var);
	x->var = NULL;
}

int
ingest_batch_get(const struct ingest_batch *b, uint32_t i, struct ingest_entry *x)
{
	struct ingest_ent e;
	int error;

	memset(x, 0, sizeof *x);
	if (i >= b->n || !ingest_batch_bit(b->kept, i))
		return custody_fail(CUSTODY_EINVAL, "ingest: file %u of the batch is not kept", i);
	if ((error = ingest_batch_get_at(b, b->fd, ENT_PLACE, i, (uint64_t)i * ENT_LEN, &e,
	    sizeof e)) < 0)
		return error;
	if (e.media_len > e.var_len || (x->var = malloc((size_t)e.var_len + 2)) == NULL) {
		sodium_memzero(&e, sizeof e);
		return e.media_len > e.var_len ? custody_fail(CUSTODY_EIO, "ingest: a file of "
		    "the batch under tmp/ does not parse") : CUSTODY_ENOMEM;
	}
	if ((error = ingest_batch_get_at(b, b->vfd, ENT_VAR, e.var_off, e.var_off, x->var + 1,
	    e.var_len)) < 0) {
		sodium_memzero(&e, sizeof e);
		ingest_batch_entry_free(x);
		return error;
	}
	/* "media\0name\0" in one buffer */
	memmove(x->var, x->var + 1, e.media_len);
	x->var[e.media_len] = '\0';
	x->var[e.var_len + 1] = '\0';
	x->media_type = x->var;
	x->name = x->var + e.media_len + 1;
	memcpy(x->sha256, e.sha256, SHA256_LEN);
	memcpy(x->key, e.key, sizeof x->key);
	memcpy(x->blob, e.blob, sizeof x->blob);
	x->blob[SHA256_HEX_LEN] = '\0';
	x->size = e.size;
	x->duplicate = ingest_batch_bit(b->dup, i);
	sodium_memzero(&e, sizeof e);
	return 0;
}

int
ingest_batch_wrap(struct ingest_batch *b, uint32_t i, const uint8_t wrapped[WRAPPED_KEY_LEN])
{
	return ingest_batch_put_at(b, b->wfd, ENT_WRAPPED, i, (uint64_t)i * WRAPPED_LEN,
	    wrapped, WRAPPED_KEY_LEN);
}

int
ingest_batch_wrapped(const struct ingest_batch *b, uint32_t i, uint8_t wrapped[WRAPPED_KEY_LEN])
{
	return ingest_batch_get_at(b, b->wfd, ENT_WRAPPED, i, (uint64_t)i * WRAPPED_LEN,
	    wrapped, WRAPPED_KEY_LEN);
}

static int
ingest_cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

/* Count the new files before each word of dup (ingest_batch_fresh). */
static int
ingest_batch_rank(struct ingest_batch *b)
{
	size_t w, words = (size_t)b->n / 64 + 1, fresh = 0, i;

	if ((b->rank = calloc(words, sizeof *b->rank)) == NULL)
		return CUSTODY_ENOMEM;
	for (w = 0; w < words; w++) {
		b->rank[w] = (uint32_t)fresh;
		for (i = w * 64; i < (w + 1) * 64 && i < b->n; i++)
			fresh += !ingest_batch_bit(b->dup, i);
	}
	b->nfresh = fresh;
	return 0;
}

int
ingest_batch_dedupe(struct ingest_batch *b, uint32_t **dups, size_t *ndups)
{
	struct ingest_dedupe_item it, prev;
	struct ingest_entry x;
	const void *p;
	uint32_t i, *nv;
	int error, more = 0, have = 0;

	*dups = NULL;
	*ndups = 0;
	for (i = 0; i < b->n; i++)
		if (!ingest_batch_bit(b->kept, i))
			return custody_fail(CUSTODY_EINVAL, "ingest: file %u of the batch is "
			    "missing", i);
	if ((error = runsort_sort(b->bysha)) == 0)
		error = runsort_rewind(b->bysha);
	while (error == 0 && (more = runsort_next(b->bysha, &p)) == 0) {
		memcpy(&it, p, sizeof it);
		if (have && memcmp(it.sha256, prev.sha256, SHA256_LEN) == 0) {
			/* later copies of the same bytes: the first is kept */
			if ((error = ingest_batch_get(b, it.index, &x)) < 0)
				break;
			(void)blobstore_remove(archive_blobs(b->a), x.blob);
			ingest_batch_entry_free(&x);
			ingest_batch_set(b->dup, it.index);
			if ((nv = reallocarray(*dups, *ndups + 1, sizeof *nv)) == NULL) {
				error = CUSTODY_ENOMEM;
				break;
			}
			nv[(*ndups)++] = it.index;
			*dups = nv;
			continue;
		}
		prev = it;
		have = 1;
	}
	if (error == 0 && more < 0)
		error = more;
	if (error == 0 && *ndups > 1)
		qsort(*dups, *ndups, sizeof **dups, ingest_cmp_u32);
	if (error == 0)
		error = ingest_batch_rank(b);
	return error;
}

size_t
ingest_batch_nfresh(const struct ingest_batch *b)
{
	return b->nfresh;
}

uint32_t
ingest_batch_fresh(const struct ingest_batch *b, size_t k)
{
	size_t lo = 0, hi = (size_t)b->n / 64 + 1, mid, i;
	uint32_t left;

	while (hi - lo > 1) {	/* the last word with fewer than k + 1 new files before it */
		mid = (lo + hi) / 2;
		if (b->rank[mid] <= k)
			lo = mid;
		else
			hi = mid;
	}
	left = (uint32_t)(k - b->rank[lo]);
	for (i = lo * 64; i < b->n; i++)
		if (!ingest_batch_bit(b->dup, i) && left-- == 0)
			break;
	return (uint32_t)i;
}

void
ingest_batch_committed(struct ingest_batch *b)
{
	b->committed = 1;
}

void
ingest_batch_free(struct ingest_batch *b)
{
	struct ingest_entry x;
	struct blobstore *s;
	uint32_t i;

	if (b == NULL)
		return;
	archive_flusher_free(b->flush);
	/* the blobs of a batch that is not committed: nothing refers to them */
	s = b->kept != NULL && !b->committed ? archive_blobs(b->a) : NULL;
	for (i = 0; s != NULL && i < b->n; i++) {
		if (!ingest_batch_bit(b->kept, i) || ingest_batch_bit(b->dup, i))
			continue;
		if (ingest_batch_get(b, i, &x) == 0)
			(void)blobstore_remove(s, x.blob);
		ingest_batch_entry_free(&x);
	}
	/*
	 * A batch that a write error failed may have more of its writeback failing still: its
	 * blobs gone, one sync takes those errors, so that they do not fail the next batch.
	 */
	if (s != NULL && archive_sync_mark(b->a) != b->since)
		(void)archive_sync(b->a);
	if (b->fd >= 0)
		close(b->fd);
	if (b->vfd >= 0)
		close(b->vfd);
	if (b->wfd >= 0)
		close(b->wfd);
	runsort_free(b->bysha);
	sodium_memzero(b->key, sizeof b->key);
	pthread_mutex_destroy(&b->lock);
	free(b->kept);
	free(b->dup);
	free(b->rank);
	free(b);
}
