/*
 * The rows of an import on their way to the commit (records-spill.h). A row is the length of
 * its sealed part, that part as given (record objects, encrypted under their own keys), then
 * its secret part under XChaCha20-Poly1305 with a random key of this import (the nonce is the
 * row's place in the file, the additional data its token and line), so nothing of it is
 * readable on disk, and the files have no name: nothing stays after a crash. The run file
 * holds tokens and content hashes (keyed hashes, as in the index), places and lines, nothing
 * of a record.
 */
#include <errno.h>
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
	if ((sp->fd = archive_tmpfile(a, "import")) < 0 ||
	    (runfd = archive_tmpfile(a, "import")) < 0) {
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

/*
 * Keep one row: sealed (slen bytes, already encrypted: written as they are) and secret (len
 * bytes, encrypted here), with the token, line and content hash that find it again.
 */
int
records_spill_add(struct records_spill *sp, const uint8_t tok[static TOKEN_LEN], uint32_t line,
    const uint8_t chash[static TOKEN_LEN], const void *sealed, size_t slen, const void *secret,
    size_t len)
{
	struct records_spill_row row, *r = &row;
	size_t rlen = 4 + slen + len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t nonce[24], ad[TOKEN_LEN + 4], *p;
	uint32_t n = (uint32_t)slen;
	int error;

	if (rlen > SPILL_ROW_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "a record of %zu bytes is too large",
		    slen + len);
	if ((error = cbuf_reserve(&sp->pend, rlen)) < 0)
		return error;
	memset(r, 0, sizeof *r);
	memcpy(r->tok, tok, TOKEN_LEN);
	memcpy(r->chash, chash, TOKEN_LEN);
	r->off = sp->off;
	r->len = (uint32_t)rlen;
	r->line = line;
	p = sp->pend.data + sp->pend.len;
	memcpy(p, &n, 4);
	if (slen > 0)
		memcpy(p + 4, sealed, slen);
	records_spill_nonce(nonce, r->off);
	records_spill_ad(ad, r);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + 4 + slen, NULL, secret, len, ad,
	    sizeof ad, NULL, nonce, sp->key);
	sp->pend.len += rlen;
	sp->off += rlen;
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
 * Read a row (from records_spill_next) into buf (the caller's, reused from row to row; it
 * holds the secret part decrypted: wipe it with cbuf_free): it points into buf.
 */
int
records_spill_read(struct records_spill *sp, const struct records_spill_row *r,
    struct cbuf *buf, struct records_spill_item *it)
{
	uint8_t nonce[24], ad[TOKEN_LEN + 4], *c;
	size_t clen;
	uint32_t slen;
	ssize_t got;
	int error;

	memset(it, 0, sizeof *it);
	buf->len = 0;
	if (r->len < 4 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return custody_fail(CUSTODY_EIO, "import: a row under tmp/ is too short");
	if ((error = cbuf_reserve(buf, r->len)) < 0)
		return error;
	do
		got = pread(sp->fd, buf->data, r->len, (off_t)r->off);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)r->len)
		return got < 0 ? records_spill_sys("cannot read") :
		    custody_fail(CUSTODY_EIO, "import: the rows under tmp/ were cut short");
	memcpy(&slen, buf->data, 4);
	if (slen > r->len - 4 - crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return custody_fail(CUSTODY_EIO, "import: a row under tmp/ does not parse");
	c = buf->data + 4 + slen;
	clen = r->len - 4 - slen;
	records_spill_nonce(nonce, r->off);
	records_spill_ad(ad, r);
	/* in place: the tag is checked before anything is decrypted */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(c, NULL, NULL, c, clen, ad, sizeof ad,
	    nonce, sp->key) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "import: a row under tmp/ was altered");
	buf->len = r->len;
	it->sealed = buf->data + 4;
	it->slen = slen;
	it->secret = c;
	it->len = clen - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	return 0;
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
	runsort_free(sp->rows);
	free(sp);
}
