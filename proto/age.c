/* age v1 STREAM payload: the streaming writer and the streaming, verify-then-release reader. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "age-internal.h"

#define AGE_SEALED_LEN (AGE_CHUNK_LEN + AGE_TAG_LEN)

struct age_writer {
	age_write_fn	 cb;
	void		*arg;
	uint8_t		*key;		/* payload key, sodium_malloc'd */
	uint8_t		*plain;		/* pending plaintext, AGE_CHUNK_LEN, sodium_malloc'd */
	size_t		 plen;
	uint8_t		*sealed;	/* AGE_SEALED_LEN */
	uint64_t	 counter;	/* next chunk number */
	int		 finished;
	int		 error;		/* sticky */
};

struct age_reader {
	struct age_header	*hdr;	/* NULL once the header is done */
	struct age_identity	*ids;	/* copies, sodium_malloc'd */
	age_write_fn		 cb;
	void			*arg;
	uint8_t			*key;	/* payload key, sodium_malloc'd */
	uint8_t			*sealed;	/* the chunk being collected */
	size_t			 slen;
	uint8_t			*plain;		/* AGE_CHUNK_LEN, sodium_malloc'd */
	uint64_t		 counter;	/* number of the chunk being collected */
	enum age_stage		 stage;
	int			 error;		/* sticky */
};

/* The 12-byte STREAM nonce: 11-byte big-endian counter, then the last-chunk flag. */
static void
age_stream_nonce(uint8_t nonce[static 12], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* Start a file: write header and nonce through cb, keep the payload key. */
static int
age_writer_start(struct age_writer *w, const struct age_recipient *rcpts, size_t n)
{
	uint8_t file_key[AGE_FILE_KEY_LEN], nonce[AGE_NONCE_LEN];
	struct cbuf hdr = { 0 };
	int error;

	randombytes_buf(file_key, sizeof file_key);
	randombytes_buf(nonce, sizeof nonce);
	if ((error = age_header_write(&hdr, file_key, rcpts, n)) < 0 ||
	    (error = cbuf_put(&hdr, nonce, sizeof nonce)) < 0)
		goto done;
	age_hkdf(w->key, file_key, sizeof file_key, nonce, sizeof nonce, "payload");
	error = w->cb(w->arg, hdr.data, hdr.len);
done:
	sodium_memzero(file_key, sizeof file_key);
	cbuf_free(&hdr);
	return error;
}

/* A writer encrypting to rcpts, emitting the header at once. */
int
age_writer_new(struct age_writer **out, const struct age_recipient *rcpts, size_t n,
    age_write_fn cb, void *arg)
{
	struct age_writer *w;
	int error;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL ||
	    (w->key = sodium_malloc(AGE_KEY_LEN)) == NULL ||
	    (w->plain = sodium_malloc(AGE_CHUNK_LEN)) == NULL ||
	    (w->sealed = malloc(AGE_SEALED_LEN)) == NULL) {
		error = custody_fail(CUSTODY_ENOMEM, "age: out of memory");
		goto fail;
	}
	w->cb = cb;
	w->arg = arg;
	if ((error = age_writer_start(w, rcpts, n)) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	age_writer_free(w);
	return error;
}

/* Encrypt the pending plaintext as the next chunk and emit it. */
static int
age_writer_seal(struct age_writer *w, int last)
{
	uint8_t nonce[12];
	unsigned long long clen;
	int error;

	age_stream_nonce(nonce, w->counter, last);
	crypto_aead_chacha20poly1305_ietf_encrypt(w->sealed, &clen, w->plain, w->plen,
	    NULL, 0, NULL, nonce, w->key);
	w->counter++;
	w->plen = 0;
	if ((error = w->cb(w->arg, w->sealed, (size_t)clen)) < 0)
		w->error = error;
	return error;
}

/* Encrypt len more bytes; a full chunk is sealed only once more data follows it. */
int
age_writer_write(struct age_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t take;
	int error;

	if (w->error < 0)
		return w->error;
	if (w->finished)
		return custody_fail(CUSTODY_EINVAL, "age: write after finish");
	while (len > 0) {
		if (w->plen == AGE_CHUNK_LEN && (error = age_writer_seal(w, 0)) < 0)
			return error;
		take = AGE_CHUNK_LEN - w->plen;
		if (take > len)
			take = len;
		memcpy(w->plain + w->plen, p, take);
		w->plen += take;
		p += take;
		len -= take;
	}
	return 0;
}

/* Seal the final chunk (empty only for an empty file). */
int
age_writer_finish(struct age_writer *w)
{
	int error;

	if (w->error < 0)
		return w->error;
	if (w->finished)
		return custody_fail(CUSTODY_EINVAL, "age: finish called twice");
	if ((error = age_writer_seal(w, 1)) < 0)
		return error;
	w->finished = 1;
	return 0;
}

/* Free a writer, wiping keys and plaintext. */
void
age_writer_free(struct age_writer *w)
{
	if (w == NULL)
		return;
	if (w->key != NULL)
		sodium_free(w->key);
	if (w->plain != NULL)
		sodium_free(w->plain);
	free(w->sealed);
	free(w);
}

/* A reader decrypting with copies of ids, sending plaintext to cb. */
int
age_reader_new(struct age_reader **out, const struct age_identity *ids, size_t n,
    age_write_fn cb, void *arg)
{
	struct age_reader *r;
	int error;

	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (n > 0 && (r->ids = sodium_allocarray(n, sizeof *ids)) == NULL) ||
	    (r->key = sodium_malloc(AGE_KEY_LEN)) == NULL ||
	    (r->sealed = malloc(AGE_SEALED_LEN)) == NULL ||
	    (r->plain = sodium_malloc(AGE_CHUNK_LEN)) == NULL) {
		error = custody_fail(CUSTODY_ENOMEM, "age: out of memory");
		goto fail;
	}
	if (n > 0)
		memcpy(r->ids, ids, n * sizeof *ids);
	if ((error = age_header_new(&r->hdr, r->ids, n)) < 0)
		goto fail;
	r->cb = cb;
	r->arg = arg;
	r->stage = AGE_STAGE_HEADER;
	*out = r;
	return 0;
fail:
	age_reader_free(r);
	return error;
}

/* Record a payload failure (sticky). */
static int
age_reader_fail(struct age_reader *r, int code, const char *what)
{
	r->error = custody_fail(code, "age payload: %s (chunk %llu)", what,
	    (unsigned long long)r->counter);
	return r->error;
}

/* Try to open the collected chunk as final or not; 0 on success with *plen set. */
static int
age_reader_open(struct age_reader *r, int last, size_t *plen)
{
	uint8_t nonce[12];
	unsigned long long n;

	age_stream_nonce(nonce, r->counter, last);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(r->plain, &n, NULL, r->sealed, r->slen,
	    NULL, 0, nonce, r->key) != 0)
		return -1;
	*plen = (size_t)n;
	return 0;
}

/* Hand plen verified plaintext bytes to the consumer; move to the next chunk. */
static int
age_reader_release(struct age_reader *r, size_t plen)
{
	int error = 0;

	if (plen > 0 && (error = r->cb(r->arg, r->plain, plen)) < 0)
		r->error = error;
	sodium_memzero(r->plain, plen);
	r->counter++;
	r->slen = 0;
	return error;
}

/* A full chunk with more input after it: it must be a non-final chunk. */
static int
age_reader_full_chunk(struct age_reader *r)
{
	size_t plen;
	int error;

	if (age_reader_open(r, 0, &plen) == 0)
		return age_reader_release(r, plen);
	if (age_reader_open(r, 1, &plen) != 0)
		return age_reader_fail(r, CUSTODY_ECRYPTO, "chunk failed to authenticate");
	if ((error = age_reader_release(r, plen)) < 0)
		return error;
	return age_reader_fail(r, CUSTODY_EINVAL, "data after the final chunk");
}

/* The header is complete: derive the payload key and drop the parser. */
static void
age_reader_header_done(struct age_reader *r)
{
	age_header_payload_key(r->hdr, r->key);
	age_header_free(r->hdr);
	r->hdr = NULL;
	r->stage = AGE_STAGE_PAYLOAD;
}

/* Feed encrypted bytes in any pieces. */
int
age_reader_feed(struct age_reader *r, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t used, take;
	int rc;

	if (r->error < 0)
		return r->error;
	if (r->stage == AGE_STAGE_DONE)
		return custody_fail(CUSTODY_EINVAL, "age: feed after finish");
	if (r->stage == AGE_STAGE_HEADER) {
		if ((rc = age_header_feed(r->hdr, p, len, &used)) < 0)
			return r->error = rc;
		if (rc == 0)
			return 0;
		age_reader_header_done(r);
		p += used;
		len -= used;
	}
	while (len > 0) {
		if (r->slen == AGE_SEALED_LEN && (rc = age_reader_full_chunk(r)) < 0)
			return rc;
		take = AGE_SEALED_LEN - r->slen;
		if (take > len)
			take = len;
		memcpy(r->sealed + r->slen, p, take);
		r->slen += take;
		p += take;
		len -= take;
	}
	return 0;
}

/* End of input: the collected chunk must be a valid final chunk. */
int
age_reader_finish(struct age_reader *r)
{
	size_t plen;
	int error;

	if (r->error < 0)
		return r->error;
	if (r->stage == AGE_STAGE_DONE)
		return 0;
	if (r->stage == AGE_STAGE_HEADER)
		return r->error = age_header_finish(r->hdr);
	if (r->slen == 0)
		return age_reader_fail(r, CUSTODY_EINVAL, r->counter == 0 ?
		    "no chunks after the header" : "missing final chunk");
	if (r->slen < AGE_TAG_LEN)
		return age_reader_fail(r, CUSTODY_EINVAL, "truncated chunk");
	if (age_reader_open(r, 1, &plen) == 0) {
		if (plen == 0 && r->counter > 0)
			return age_reader_fail(r, CUSTODY_EINVAL, "empty final chunk");
		if ((error = age_reader_release(r, plen)) < 0)
			return error;
		r->stage = AGE_STAGE_DONE;
		return 0;
	}
	if (r->slen == AGE_SEALED_LEN && age_reader_open(r, 0, &plen) == 0) {
		if ((error = age_reader_release(r, plen)) < 0)
			return error;
		return age_reader_fail(r, CUSTODY_EINVAL, "missing final chunk (truncated?)");
	}
	return age_reader_fail(r, CUSTODY_ECRYPTO, "chunk failed to authenticate");
}

/* Pull the whole file from rd, then finish. */
int
age_reader_run(struct age_reader *r, age_read_fn rd, void *arg)
{
	uint8_t *buf;
	ssize_t n;
	int error = 0;

	if ((buf = malloc(AGE_SEALED_LEN)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "age: out of memory");
	while (error == 0) {
		if ((n = rd(arg, buf, AGE_SEALED_LEN)) < 0)
			error = r->error = custody_fail(CUSTODY_EIO, "age: read error");
		else if (n == 0)
			break;
		else
			error = age_reader_feed(r, buf, (size_t)n);
	}
	free(buf);
	return error < 0 ? error : age_reader_finish(r);
}

/* Where the reader is (or where it failed). */
int
age_reader_stage(const struct age_reader *r)
{
	return (int)r->stage;
}

/* Free a reader, wiping keys and plaintext. */
void
age_reader_free(struct age_reader *r)
{
	if (r == NULL)
		return;
	age_header_free(r->hdr);
	if (r->ids != NULL)
		sodium_free(r->ids);
	if (r->key != NULL)
		sodium_free(r->key);
	if (r->plain != NULL)
		sodium_free(r->plain);
	free(r->sealed);
	free(r);
}
