/*
 * The rows of an import on their way to the commit (records-spill.h). Each row is sealed with
 * XChaCha20-Poly1305 under a random key of this import (the nonce is its place in the file,
 * the additional data its token and line), so nothing of it is readable on disk, and the files
 * have no name: nothing stays after a crash. The run file holds tokens (keyed hashes, as in
 * the index), places and lines, nothing of a record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records-spill.h"

#define SPILL_WRITE (1u << 20)	/* ciphertext buffered before a write */
#define SPILL_ROW_MAX (1u << 24)
#define SPILL_MERGE_ROWS 1024	/* rows of each run read at a time while merging */

/* One sorted run in the run file, being merged. */
struct records_spill_run {
	uint64_t			 start;		/* its first row in the run file */
	size_t				 n, read;	/* rows; rows read from the file */
	struct records_spill_row	*buf;
	size_t				 bn, bi;	/* rows in buf; the next */
};

static int
records_spill_sys(const char *what)
{
	return custody_fail(errno == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
	    "import: %s the rows under tmp/: %s", what, strerror(errno));
}

/* An unnamed file under tmp/: its descriptor, or -1. */
static int
records_spill_tmp(struct archive *a)
{
	char *dir = archive_file(a, "tmp"), path[4200];
	int fd;

	if (dir == NULL)
		return -1;
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		snprintf(path, sizeof path, "%s/import-XXXXXX", dir);
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	free(dir);
	return fd;
}

/* A spill in an unnamed file under tmp/. */
int
records_spill_open(struct records_spill **out, struct archive *a)
{
	struct records_spill *sp;

	*out = NULL;
	if ((sp = calloc(1, sizeof *sp)) == NULL)
		return CUSTODY_ENOMEM;
	sp->a = a;
	sp->runfd = -1;
	if ((sp->fd = records_spill_tmp(a)) < 0) {
		free(sp);
		return records_spill_sys("cannot keep");
	}
	crypto_aead_xchacha20poly1305_ietf_keygen(sp->key);
	*out = sp;
	return 0;
}

static void
records_spill_nonce(uint8_t nonce[static 24], uint64_t off)
{
	memset(nonce, 0, 24);
	memcpy(nonce, &off, sizeof off);
}

static void
records_spill_ad(uint8_t ad[static TOKEN_LEN + 4], const struct records_spill_row *r)
{
	memcpy(ad, r->tok, TOKEN_LEN);
	memcpy(ad + TOKEN_LEN, &r->line, 4);
}

static int
records_spill_flush(struct records_spill *sp)
{
	size_t done = 0;
	ssize_t w;

	while (done < sp->pend.len) {
		if ((w = write(sp->fd, sp->pend.data + done, sp->pend.len - done)) < 0) {
			if (errno == EINTR)
				continue;
			return records_spill_sys("cannot write");
		}
		done += (size_t)w;
	}
	sp->pend.len = 0;
	return 0;
}

static int
records_spill_cmp(const void *x, const void *y)
{
	const struct records_spill_row *a = x, *b = y;
	int c = memcmp(a->tok, b->tok, TOKEN_LEN);

	if (c != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Write all of buf at off of fd. */
static int
records_spill_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t w;

	while (done < len) {
		if ((w = pwrite(fd, (const uint8_t *)buf + done, len - done,
		    (off_t)(off + done))) < 0) {
			if (errno == EINTR)
				continue;
			return records_spill_sys("cannot write");
		}
		done += (size_t)w;
	}
	return 0;
}

/* The run gathered in memory, sorted and written to the run file. */
static int
records_spill_run_out(struct records_spill *sp)
{
	struct records_spill_run *r;
	uint64_t start = 0;
	int error;

	if (sp->n == 0)
		return 0;
	if (sp->runfd < 0 && (sp->runfd = records_spill_tmp(sp->a)) < 0)
		return records_spill_sys("cannot keep");
	if ((r = reallocarray(sp->runs, sp->nruns + 1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	sp->runs = r;
	if (sp->nruns > 0)
		start = r[sp->nruns - 1].start + r[sp->nruns - 1].n * sizeof *sp->row;
	qsort(sp->row, sp->n, sizeof *sp->row, records_spill_cmp);
	if ((error = records_spill_pwrite(sp->runfd, sp->row, sp->n * sizeof *sp->row,
	    start)) < 0)
		return error;
	r[sp->nruns++] = (struct records_spill_run){ .start = start, .n = sp->n };
	sp->n = 0;
	return 0;
}

/* Keep one row: its content hash and JSON, sealed. */
int
records_spill_add(struct records_spill *sp, const uint8_t tok[static TOKEN_LEN], uint32_t line,
    const uint8_t chash[static TOKEN_LEN], const char *json)
{
	struct records_spill_row *r;
	size_t n = strlen(json), clen = TOKEN_LEN + n + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t nonce[24], ad[TOKEN_LEN + 4], *plain;
	int error;

	if (clen > SPILL_ROW_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "a record of %zu bytes is too large", n);
	if (sp->n == SPILL_RUN && (error = records_spill_run_out(sp)) < 0)
		return error;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? 2 * sp->cap : 4096;

		if ((r = reallocarray(sp->row, cap, sizeof *r)) == NULL)
			return CUSTODY_ENOMEM;
		sp->row = r;
		sp->cap = cap;
	}
	if ((plain = malloc(TOKEN_LEN + n)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = cbuf_reserve(&sp->pend, clen)) < 0) {
		free(plain);
		return error;
	}
	r = &sp->row[sp->n];
	memcpy(r->tok, tok, TOKEN_LEN);
	r->off = sp->off;
	r->len = (uint32_t)clen;
	r->line = line;
	memcpy(plain, chash, TOKEN_LEN);
	memcpy(plain + TOKEN_LEN, json, n);
	records_spill_nonce(nonce, r->off);
	records_spill_ad(ad, r);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sp->pend.data + sp->pend.len, NULL, plain,
	    TOKEN_LEN + n, ad, sizeof ad, NULL, nonce, sp->key);
	sodium_memzero(plain, TOKEN_LEN + n);
	free(plain);
	sp->pend.len += clen;
	sp->off += clen;
	sp->n++;
	sp->total++;
	if (sp->pend.len >= SPILL_WRITE)
		return records_spill_flush(sp);
	return 0;
}

/*
 * Every row written, and ready to come back in token order (a repeated token: its first line
 * first): one run sorted in memory, or every run in the run file.
 */
int
records_spill_sort(struct records_spill *sp)
{
	int error;

	if ((error = records_spill_flush(sp)) < 0)
		return error;
	if (sp->runfd < 0) {
		qsort(sp->row, sp->n, sizeof *sp->row, records_spill_cmp);
		return 0;
	}
	if ((error = records_spill_run_out(sp)) < 0)
		return error;
	free(sp->row);	/* the merge reads each run in pieces */
	sp->row = NULL;
	sp->cap = 0;
	return 0;
}

/* Refill run r's buffer from the run file: 0, or 1 when the run is over. */
static int
records_spill_run_fill(struct records_spill *sp, struct records_spill_run *r)
{
	size_t want = r->n - r->read < SPILL_MERGE_ROWS ? r->n - r->read : SPILL_MERGE_ROWS;
	ssize_t got;

	if (want == 0)
		return 1;
	do
		got = pread(sp->runfd, r->buf, want * sizeof *r->buf, (off_t)(r->start +
		    r->read * sizeof *r->buf));
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)(want * sizeof *r->buf))
		return got < 0 ? records_spill_sys("cannot read") :
		    custody_fail(CUSTODY_EIO, "import: the rows under tmp/ were cut short");
	r->read += want;
	r->bn = want;
	r->bi = 0;
	return 0;
}

static int
records_spill_less(struct records_spill *sp, size_t x, size_t y)
{
	struct records_spill_run *a = &sp->runs[x], *b = &sp->runs[y];

	return records_spill_cmp(&a->buf[a->bi], &b->buf[b->bi]) < 0;
}

/* Move the heap's entry at i down to its place. */
static void
records_spill_down(struct records_spill *sp, size_t i)
{
	size_t l, m, t;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < sp->nheap && records_spill_less(sp, sp->heap[l], sp->heap[m]))
			m = l;
		if (l + 1 < sp->nheap && records_spill_less(sp, sp->heap[l + 1], sp->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = sp->heap[i];
		sp->heap[i] = sp->heap[m];
		sp->heap[m] = t;
		i = m;
	}
}

/* Read the rows again from the first, in token order. */
int
records_spill_rewind(struct records_spill *sp)
{
	struct records_spill_run *r;
	size_t i;
	int error;

	sp->at = 0;
	if (sp->runfd < 0)
		return 0;
	if (sp->heap == NULL && (sp->heap = calloc(sp->nruns, sizeof *sp->heap)) == NULL)
		return CUSTODY_ENOMEM;
	sp->nheap = 0;
	for (i = 0; i < sp->nruns; i++) {
		r = &sp->runs[i];
		if (r->buf == NULL && (r->buf = calloc(SPILL_MERGE_ROWS, sizeof *r->buf)) == NULL)
			return CUSTODY_ENOMEM;
		r->read = 0;
		if ((error = records_spill_run_fill(sp, r)) < 0)
			return error;
		if (error == 0)
			sp->heap[sp->nheap++] = i;
	}
	for (i = sp->nheap; i-- > 0;)
		records_spill_down(sp, i);
	return 0;
}

/*
 * The next row in token order: 0 and *row (valid until the next call), 1 after the last, or
 * an error.
 */
int
records_spill_next(struct records_spill *sp, const struct records_spill_row **row)
{
	struct records_spill_run *r;
	int error;

	*row = NULL;
	if (sp->runfd < 0) {
		if (sp->at == sp->n)
			return 1;
		*row = &sp->row[sp->at++];
		return 0;
	}
	if (sp->nheap == 0)
		return 1;
	r = &sp->runs[sp->heap[0]];
	sp->cur = r->buf[r->bi++];
	if (r->bi == r->bn) {
		if ((error = records_spill_run_fill(sp, r)) < 0)
			return error;
		if (error == 1)
			sp->heap[0] = sp->heap[--sp->nheap];
	}
	records_spill_down(sp, 0);
	sp->at++;
	*row = &sp->cur;
	return 0;
}

/* A row (from records_spill_next): its content hash, and its JSON (the caller frees it). */
int
records_spill_read(struct records_spill *sp, const struct records_spill_row *r,
    uint8_t chash[static TOKEN_LEN], char **json)
{
	uint8_t nonce[24], ad[TOKEN_LEN + 4], *c = NULL, *plain = NULL;
	size_t plen = r->len - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	ssize_t got;
	int error = 0;

	*json = NULL;
	if ((c = malloc(r->len)) == NULL || (plain = malloc(plen + 1)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	do
		got = pread(sp->fd, c, r->len, (off_t)r->off);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)r->len) {
		error = got < 0 ? records_spill_sys("cannot read") :
		    custody_fail(CUSTODY_EIO, "import: the rows under tmp/ were cut short");
		goto done;
	}
	records_spill_nonce(nonce, r->off);
	records_spill_ad(ad, r);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, c, r->len, ad,
	    sizeof ad, nonce, sp->key) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "import: a row under tmp/ was altered");
		goto done;
	}
	memcpy(chash, plain, TOKEN_LEN);
	memmove(plain, plain + TOKEN_LEN, plen - TOKEN_LEN);
	plain[plen - TOKEN_LEN] = '\0';
	*json = (char *)plain;
	plain = NULL;
done:
	free(c);
	if (plain != NULL) {
		sodium_memzero(plain, plen);
		free(plain);
	}
	return error;
}

void
records_spill_free(struct records_spill *sp)
{
	size_t i;

	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->runfd >= 0)
		close(sp->runfd);
	sodium_memzero(sp->key, sizeof sp->key);
	cbuf_free(&sp->pend);
	for (i = 0; i < sp->nruns; i++)
		free(sp->runs[i].buf);
	free(sp->runs);
	free(sp->heap);
	free(sp->row);
	free(sp);
}
