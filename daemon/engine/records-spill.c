/*
 * The rows of an import on their way to the commit (records-spill.h). Each row is sealed with
 * XChaCha20-Poly1305 under a random key of this import (the nonce is its place in the file,
 * the additional data its token and line), so nothing of it is readable on disk, and the files
 * have no name: nothing stays after a crash. The run file holds tokens and content hashes
 * (keyed hashes, as in the index), places and lines, nothing of a record.
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

static int
records_spill_sys(const char *what)
{
	return custody_fail(errno == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
	    "import: %s the rows under tmp/: %s", what, strerror(errno));
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

/* An unnamed file under tmp/: its descriptor, or -1 (errno says why). */
int
records_spill_tmpfile(struct archive *a)
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
	int runfd = -1, error;

	*out = NULL;
	if ((sp = calloc(1, sizeof *sp)) == NULL)
		return CUSTODY_ENOMEM;
	sp->a = a;
	if ((sp->fd = records_spill_tmpfile(a)) < 0 || (runfd = records_spill_tmpfile(a)) < 0) {
		error = records_spill_sys("cannot keep");
		goto fail;
	}
	if ((error = runsort_new(&sp->rows, sizeof(struct records_spill_row), SPILL_RUN,
	    records_spill_cmp, runfd)) < 0)
		goto fail;
	crypto_aead_xchacha20poly1305_ietf_keygen(sp->key);
	*out = sp;
	return 0;
fail:
	if (runfd >= 0)
		close(runfd);
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp);
	return error;
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

/* Keep one row: its content hash, its JSON and extra bytes (elen of them), sealed. */
int
records_spill_add(struct records_spill *sp, const uint8_t tok[static TOKEN_LEN], uint32_t line,
    const uint8_t chash[static TOKEN_LEN], const char *json, const uint8_t *extra, size_t elen)
{
	struct records_spill_row row, *r = &row;
	size_t n = strlen(json), plen = TOKEN_LEN + 4 + n + elen,
	    clen = plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t nonce[24], ad[TOKEN_LEN + 4], *plain;
	uint32_t jlen = (uint32_t)n;
	int error;

	if (clen > SPILL_ROW_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "a record of %zu bytes is too large", n);
	if ((error = cbuf_reserve(&sp->plain, plen)) < 0 ||
	    (error = cbuf_reserve(&sp->pend, clen)) < 0)
		return error;
	plain = sp->plain.data;
	memset(r, 0, sizeof *r);
	memcpy(r->tok, tok, TOKEN_LEN);
	memcpy(r->chash, chash, TOKEN_LEN);
	r->off = sp->off;
	r->len = (uint32_t)clen;
	r->line = line;
	memcpy(plain, chash, TOKEN_LEN);
	memcpy(plain + TOKEN_LEN, &jlen, 4);
	memcpy(plain + TOKEN_LEN + 4, json, n);
	if (elen > 0)
		memcpy(plain + TOKEN_LEN + 4 + n, extra, elen);
	records_spill_nonce(nonce, r->off);
	records_spill_ad(ad, r);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sp->pend.data + sp->pend.len, NULL, plain,
	    plen, ad, sizeof ad, NULL, nonce, sp->key);
	sodium_memzero(plain, plen);
	sp->pend.len += clen;
	sp->off += clen;
	if ((error = runsort_add(sp->rows, r)) < 0)
		return error;
	if (sp->pend.len >= SPILL_WRITE)
		return records_spill_flush(sp);
	return 0;
}

/* Every row written, ready to come back in token order (a repeated token: first line first). */
int
records_spill_sort(struct records_spill *sp)
{
	int error;

	if ((error = records_spill_flush(sp)) < 0)
		return error;
	return runsort_sort(sp->rows);
}

/* Read the rows again from the first. */
int
records_spill_rewind(struct records_spill *sp)
{
	return runsort_rewind(sp->rows);
}

/*
 * The next row in token order: 0 and *row (valid until the next call), 1 after the last, or
 * an error.
 */
int
records_spill_next(struct records_spill *sp, const struct records_spill_row **row)
{
	const void *item;
	int error;

	error = runsort_next(sp->rows, &item);
	*row = item;
	return error;
}

/* Rows added. */
size_t
records_spill_count(const struct records_spill *sp)
{
	return runsort_count(sp->rows);
}

/*
 * A row (from records_spill_next): its content hash, its JSON (the caller frees it) and, if
 * extra is not NULL, its extra bytes (in the same allocation, after the JSON's NUL).
 */
int
records_spill_read(struct records_spill *sp, const struct records_spill_row *r,
    uint8_t chash[static TOKEN_LEN], char **json, const uint8_t **extra, size_t *elen)
{
	uint8_t nonce[24], ad[TOKEN_LEN + 4], *c = NULL, *plain = NULL;
	size_t plen = r->len - crypto_aead_xchacha20poly1305_ietf_ABYTES, rest;
	uint32_t jlen;
	ssize_t got;
	int error = 0;

	*json = NULL;
	if (r->len < crypto_aead_xchacha20poly1305_ietf_ABYTES + TOKEN_LEN + 4)
		return custody_fail(CUSTODY_EIO, "import: a row under tmp/ is too short");
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
	memcpy(&jlen, plain + TOKEN_LEN, 4);
	rest = plen - TOKEN_LEN - 4;
	if (jlen > rest) {
		error = custody_fail(CUSTODY_EIO, "import: a row under tmp/ does not parse");
		goto done;
	}
	/* JSON, NUL, extra */
	memmove(plain, plain + TOKEN_LEN + 4, jlen);
	memmove(plain + jlen + 1, plain + TOKEN_LEN + 4 + jlen, rest - jlen);
	plain[jlen] = '\0';
	if (extra != NULL) {
		*extra = plain + jlen + 1;
		*elen = rest - jlen;
	}
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
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	sodium_memzero(sp->key, sizeof sp->key);
	cbuf_free(&sp->pend);
	cbuf_free(&sp->plain);
	runsort_free(sp->rows);
	free(sp);
}
