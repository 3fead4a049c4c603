/*
 * The bundle format (include/custody/bundlefmt.h, proto/PROTOCOL.md "Bundles"): its writer and
 * its one strict streaming parser. Both hash every byte before the signature (BLAKE2b-512) as it
 * passes, except a blob's bytes: those are bound by the blob's name, their SHA-256, which the
 * hash covers and the reader checks. The sender signs BUNDLEFMT_CONTEXT, a NUL, and that hash.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "custody/bundlefmt.h"
#include "custody/common.h"

#define HEADER_LEN	(BUNDLEFMT_MAGIC_LEN + 1 + 2 * BUNDLEFMT_KEY_LEN + 8)
#define FEED_LEN	(BUNDLEFMT_KEY_LEN + 8 + BUNDLEFMT_OID_LEN + 8 + BUNDLEFMT_OID_LEN + 4)
#define BLOB_LEN	(BUNDLEFMT_NAME_LEN + 8)
#define TRAILER_LEN	(4 + 4)
#define FIELD_MAX	FEED_LEN

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
is_zero(const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t acc = 0;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The message the sender signs: the context, a NUL, the hash of the bytes before the sig. */
static void
bundlefmt_signed(uint8_t msg[static sizeof BUNDLEFMT_CONTEXT + crypto_generichash_BYTES_MAX],
    crypto_generichash_state *h)
{
	memcpy(msg, BUNDLEFMT_CONTEXT, sizeof BUNDLEFMT_CONTEXT);	/* with its NUL */
	crypto_generichash_final(h, msg + sizeof BUNDLEFMT_CONTEXT, crypto_generichash_BYTES_MAX);
}

/* A feed section's checks, shared by the writer and the reader. */
static int
bundlefmt_feed_check(const struct bundlefmt_feed *f, const uint8_t *prev, int have_prev)
{
	if (f->seq <= f->base_seq)
		return custody_fail(CUSTODY_EINVAL, "bundle: a feed ends at commit %llu, not after "
		    "its start %llu", (unsigned long long)f->seq, (unsigned long long)f->base_seq);
	if ((f->base_seq == 0) != is_zero(f->base_head, BUNDLEFMT_OID_LEN) ||
	    is_zero(f->head, BUNDLEFMT_OID_LEN))
		return custody_fail(CUSTODY_EINVAL, "bundle: a feed's commit ids are malformed");
	if (f->npacks == 0 || f->npacks > BUNDLEFMT_PACKS_MAX)
		return custody_fail(CUSTODY_EINVAL, "bundle: a feed has %u packs (1 to %u)",
		    f->npacks, BUNDLEFMT_PACKS_MAX);
	if (have_prev && memcmp(prev, f->office, BUNDLEFMT_KEY_LEN) >= 0)
		return custody_fail(CUSTODY_EINVAL, "bundle: feeds out of order or repeated");
	return 0;
}

/* ---- writer ------------------------------------------------------------------------------ */

enum wstate { W_FEEDS, W_PACKS, W_BLOBS, W_DONE, W_BROKEN };

struct bundlefmt_writer {
	bundlefmt_out_fn		 cb;
	void				*arg;
	crypto_generichash_state	 h;
	uint8_t				 sk[BUNDLEFMT_SK_LEN];
	enum wstate			 st;
	uint32_t			 nfeeds, nblobs, packs_left;
	uint64_t			 left;		/* bytes of the current part to come */
	int				 in_part;
	int				 in_blob;	/* the part is a blob: not hashed */
	uint8_t				 last[BUNDLEFMT_KEY_LEN];	/* office or blob name */
};

static int
w_out(struct bundlefmt_writer *w, const void *p, size_t n)
{
	int error;

	crypto_generichash_update(&w->h, p, n);
	if ((error = w->cb(w->arg, p, n)) < 0)
		w->st = W_BROKEN;
	return error;
}

static int
w_fail(struct bundlefmt_writer *w, const char *what)
{
	w->st = W_BROKEN;
	return custody_fail(CUSTODY_EINVAL, "bundle writer: %s", what);
}

int
bundlefmt_writer_new(struct bundlefmt_writer **out, const struct bundlefmt_header *hd,
    const uint8_t sk[static BUNDLEFMT_SK_LEN], bundlefmt_out_fn cb, void *arg)
{
	struct bundlefmt_writer *w;
	uint8_t b[HEADER_LEN];
	int error;

	*out = NULL;
	if ((w = sodium_malloc(sizeof *w)) == NULL)
		return CUSTODY_ENOMEM;
	memset(w, 0, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	memcpy(w->sk, sk, BUNDLEFMT_SK_LEN);
	crypto_generichash_init(&w->h, NULL, 0, crypto_generichash_BYTES_MAX);
	memcpy(b, BUNDLEFMT_MAGIC, BUNDLEFMT_MAGIC_LEN);
	b[BUNDLEFMT_MAGIC_LEN] = BUNDLEFMT_VERSION;
	memcpy(b + BUNDLEFMT_MAGIC_LEN + 1, hd->sender, BUNDLEFMT_KEY_LEN);
	memcpy(b + BUNDLEFMT_MAGIC_LEN + 1 + BUNDLEFMT_KEY_LEN, hd->recipient, BUNDLEFMT_KEY_LEN);
	put64(b + BUNDLEFMT_MAGIC_LEN + 1 + 2 * BUNDLEFMT_KEY_LEN, hd->created);
	if ((error = w_out(w, b, sizeof b)) < 0) {
		bundlefmt_writer_free(w);
		return error;
	}
	*out = w;
	return 0;
}

int
bundlefmt_write_feed(struct bundlefmt_writer *w, const struct bundlefmt_feed *f)
{
	uint8_t b[1 + FEED_LEN], *p = b + 1;
	int error;

	if (w->st != W_FEEDS || w->packs_left > 0 || w->in_part)
		return w_fail(w, "a feed out of order");
	if ((error = bundlefmt_feed_check(f, w->last, w->nfeeds > 0)) < 0) {
		w->st = W_BROKEN;
		return error;
	}
	if (w->nfeeds == BUNDLEFMT_FEEDS_MAX)
		return w_fail(w, "too many feeds");
	b[0] = BUNDLEFMT_FEED;
	memcpy(p, f->office, BUNDLEFMT_KEY_LEN);
	put64(p + 32, f->base_seq);
	memcpy(p + 40, f->base_head, BUNDLEFMT_OID_LEN);
	put64(p + 60, f->seq);
	memcpy(p + 68, f->head, BUNDLEFMT_OID_LEN);
	put32(p + 88, f->npacks);
	memcpy(w->last, f->office, BUNDLEFMT_KEY_LEN);
	w->nfeeds++;
	w->packs_left = f->npacks;
	return w_out(w, b, sizeof b);
}

int
bundlefmt_write_part(struct bundlefmt_writer *w, const uint8_t *name, uint64_t len)
{
	uint8_t b[1 + BLOB_LEN];

	if (w->st == W_BROKEN || w->st == W_DONE || w->in_part)
		return w_fail(w, "a part out of order");
	if (name == NULL) {
		if (w->packs_left == 0 || len == 0 || len > BUNDLEFMT_PACK_MAX)
			return w_fail(w, "a pack out of place or of a bad size");
		w->packs_left--;
		put64(b, len);
		w->left = len;
		w->in_part = 1;
		w->in_blob = 0;
		return w_out(w, b, 8);
	}
	if (w->packs_left > 0 || len > BUNDLEFMT_BLOB_MAX ||
	    (w->nblobs > 0 && memcmp(w->last, name, BUNDLEFMT_NAME_LEN) >= 0))
		return w_fail(w, "a blob out of order, repeated or too large");
	w->st = W_BLOBS;
	b[0] = BUNDLEFMT_BLOB;
	memcpy(b + 1, name, BUNDLEFMT_NAME_LEN);
	put64(b + 1 + BUNDLEFMT_NAME_LEN, len);
	memcpy(w->last, name, BUNDLEFMT_NAME_LEN);
	w->nblobs++;
	w->left = len;
	w->in_part = len > 0;
	w->in_blob = 1;
	return w_out(w, b, sizeof b);
}

int
bundlefmt_write_data(struct bundlefmt_writer *w, const void *buf, size_t len)
{
	int error;

	if (w->st == W_BROKEN || !w->in_part || len > w->left)
		return w_fail(w, "more bytes than the part announced");
	if (w->in_blob) {	/* bound by the blob's name, not by the hash */
		if ((error = w->cb(w->arg, buf, len)) < 0) {
			w->st = W_BROKEN;
			return error;
		}
	} else if ((error = w_out(w, buf, len)) < 0)
		return error;
	if ((w->left -= len) == 0)
		w->in_part = 0;
	return 0;
}

int
bundlefmt_writer_finish(struct bundlefmt_writer *w)
{
	uint8_t b[1 + TRAILER_LEN], msg[sizeof BUNDLEFMT_CONTEXT + crypto_generichash_BYTES_MAX];
	uint8_t sig[BUNDLEFMT_SIG_LEN];
	int error;

	if (w->st == W_BROKEN || w->st == W_DONE || w->in_part || w->packs_left > 0)
		return w_fail(w, "finished in the middle of a part");
	b[0] = BUNDLEFMT_TRAILER;
	put32(b + 1, w->nfeeds);
	put32(b + 5, w->nblobs);
	if ((error = w_out(w, b, sizeof b)) < 0)
		return error;
	bundlefmt_signed(msg, &w->h);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, w->sk);
	if ((error = w->cb(w->arg, sig, sizeof sig)) < 0) {
		w->st = W_BROKEN;
		return error;
	}
	w->st = W_DONE;
	return 0;
}

void
bundlefmt_writer_free(struct bundlefmt_writer *w)
{
	if (w != NULL)
		sodium_free(w);	/* wipes the secret key */
}

/* ---- reader ------------------------------------------------------------------------------ */

enum rstate { R_HEADER, R_TYPE, R_FEED, R_PACKLEN, R_BLOB, R_DATA, R_TRAILER, R_SIG, R_DONE,
    R_BROKEN };

struct bundlefmt_reader {
	struct bundlefmt_cbs		 cbs;
	void				*arg;
	crypto_generichash_state	 h;
	enum rstate			 st;
	int				 error;
	uint8_t				 buf[FIELD_MAX > 64 ? FIELD_MAX : 64];
	size_t				 have, need;	/* bytes of the field collected, wanted */
	uint8_t				 sender[BUNDLEFMT_KEY_LEN];
	uint32_t			 nfeeds, nblobs, packs_left;
	uint64_t			 left;		/* bytes of the current part to come */
	int				 blobs_begun;
	EVP_MD_CTX			*sha;		/* of the blob arriving, or NULL */
	uint8_t				 last[BUNDLEFMT_KEY_LEN];	/* office or blob name */
	uint8_t				 digest[sizeof BUNDLEFMT_CONTEXT +
					    crypto_generichash_BYTES_MAX];
};

static int
r_fail(struct bundlefmt_reader *r, int code, const char *what)
{
	r->st = R_BROKEN;
	r->error = code;
	return custody_fail(code, "bundle: %s", what);
}

static int
r_cb(struct bundlefmt_reader *r, int error)
{
	if (error < 0) {
		r->st = R_BROKEN;
		r->error = error;
	}
	return error;
}

int
bundlefmt_reader_new(struct bundlefmt_reader **out, const struct bundlefmt_cbs *cbs, void *arg)
{
	struct bundlefmt_reader *r;

	if ((*out = r = calloc(1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	if ((r->sha = EVP_MD_CTX_new()) == NULL) {
		free(r);
		*out = NULL;
		return CUSTODY_ENOMEM;
	}
	r->cbs = *cbs;
	r->arg = arg;
	r->st = R_HEADER;
	r->need = HEADER_LEN;
	crypto_generichash_init(&r->h, NULL, 0, crypto_generichash_BYTES_MAX);
	return 0;
}

/* The state after a part (or a feed header) ends. */
static void
r_next(struct bundlefmt_reader *r)
{
	if (r->packs_left > 0) {
		r->st = R_PACKLEN;
		r->need = 8;
	} else {
		r->st = R_TYPE;
		r->need = 1;
	}
	r->have = 0;
}

/* The part arriving is complete: a blob's bytes must hash to its name. */
static int
r_part_end(struct bundlefmt_reader *r)
{
	uint8_t sum[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (r->blobs_begun && (EVP_DigestFinal_ex(r->sha, sum, &n) != 1 ||
	    n != BUNDLEFMT_NAME_LEN || memcmp(sum, r->last, BUNDLEFMT_NAME_LEN) != 0))
		return r_fail(r, CUSTODY_EPROTO, "a blob's bytes do not hash to its name");
	if (r->cbs.part_end != NULL && r_cb(r, r->cbs.part_end(r->arg)) < 0)
		return r->error;
	r_next(r);
	return 0;
}

/* A complete field in r->buf. */
static int
r_field(struct bundlefmt_reader *r)
{
	struct bundlefmt_header hd;
	struct bundlefmt_feed f;
	const uint8_t *p = r->buf;
	int error;

	switch (r->st) {
	case R_HEADER:
		if (memcmp(p, BUNDLEFMT_MAGIC, BUNDLEFMT_MAGIC_LEN) != 0)
			return r_fail(r, CUSTODY_EINVAL, "not a custody bundle (bad magic)");
		if (p[BUNDLEFMT_MAGIC_LEN] != BUNDLEFMT_VERSION)
			return r_fail(r, CUSTODY_EINVAL, "a bundle of an unknown version");
		hd.version = p[BUNDLEFMT_MAGIC_LEN];
		memcpy(hd.sender, p + BUNDLEFMT_MAGIC_LEN + 1, BUNDLEFMT_KEY_LEN);
		memcpy(hd.recipient, p + BUNDLEFMT_MAGIC_LEN + 1 + BUNDLEFMT_KEY_LEN,
		    BUNDLEFMT_KEY_LEN);
		hd.created = get64(p + BUNDLEFMT_MAGIC_LEN + 1 + 2 * BUNDLEFMT_KEY_LEN);
		memcpy(r->sender, hd.sender, BUNDLEFMT_KEY_LEN);
		if (r->cbs.header != NULL && r_cb(r, r->cbs.header(r->arg, &hd)) < 0)
			return r->error;
		r_next(r);
		return 0;
	case R_TYPE:
		switch (p[0]) {
		case BUNDLEFMT_FEED:
			if (r->blobs_begun)
				return r_fail(r, CUSTODY_EINVAL, "a feed after the blobs");
			if (r->nfeeds == BUNDLEFMT_FEEDS_MAX)
				return r_fail(r, CUSTODY_ETOOBIG, "too many feeds");
			r->st = R_FEED;
			r->need = FEED_LEN;
			break;
		case BUNDLEFMT_BLOB:
			r->st = R_BLOB;
			r->need = BLOB_LEN;
			break;
		case BUNDLEFMT_TRAILER:
			r->st = R_TRAILER;
			r->need = TRAILER_LEN;
			break;
		default:
			return r_fail(r, CUSTODY_EINVAL, "an unknown section");
		}
		r->have = 0;
		return 0;
	case R_FEED:
		memcpy(f.office, p, BUNDLEFMT_KEY_LEN);
		f.base_seq = get64(p + 32);
		memcpy(f.base_head, p + 40, BUNDLEFMT_OID_LEN);
		f.seq = get64(p + 60);
		memcpy(f.head, p + 68, BUNDLEFMT_OID_LEN);
		f.npacks = get32(p + 88);
		if ((error = bundlefmt_feed_check(&f, r->last, r->nfeeds > 0)) < 0)
			return r_cb(r, error);
		memcpy(r->last, f.office, BUNDLEFMT_KEY_LEN);
		r->nfeeds++;
		r->packs_left = f.npacks;
		if (r->cbs.feed != NULL && r_cb(r, r->cbs.feed(r->arg, &f)) < 0)
			return r->error;
		r_next(r);
		return 0;
	case R_PACKLEN:
		r->left = get64(p);
		if (r->left == 0 || r->left > BUNDLEFMT_PACK_MAX)
			return r_fail(r, CUSTODY_ETOOBIG, "a pack is empty or over its bound");
		r->packs_left--;
		if (r->cbs.part != NULL && r_cb(r, r->cbs.part(r->arg, NULL, r->left)) < 0)
			return r->error;
		r->st = R_DATA;
		r->have = 0;
		return 0;
	case R_BLOB:
		r->left = get64(p + BUNDLEFMT_NAME_LEN);
		if (r->left > BUNDLEFMT_BLOB_MAX)
			return r_fail(r, CUSTODY_ETOOBIG, "a blob over its bound");
		if (r->nblobs > 0 && memcmp(r->last, p, BUNDLEFMT_NAME_LEN) >= 0)
			return r_fail(r, CUSTODY_EINVAL, "blobs out of order or repeated");
		if (r->nblobs == UINT32_MAX)
			return r_fail(r, CUSTODY_ETOOBIG, "too many blobs");
		memcpy(r->last, p, BUNDLEFMT_NAME_LEN);
		r->blobs_begun = 1;
		r->nblobs++;
		if (r->cbs.part != NULL && r_cb(r, r->cbs.part(r->arg, p, r->left)) < 0)
			return r->error;
		if (EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
			return r_fail(r, CUSTODY_ENOMEM, "no hash");
		r->st = R_DATA;
		r->have = 0;
		return r->left == 0 ? r_part_end(r) : 0;
	case R_TRAILER:
		if (get32(p) != r->nfeeds || get32(p + 4) != r->nblobs)
			return r_fail(r, CUSTODY_EINVAL, "the trailer's counts are not the bundle's");
		bundlefmt_signed(r->digest, &r->h);
		r->st = R_SIG;
		r->need = BUNDLEFMT_SIG_LEN;
		r->have = 0;
		return 0;
	case R_SIG:
		if (crypto_sign_verify_detached(p, r->digest, sizeof r->digest, r->sender) != 0)
			return r_fail(r, CUSTODY_ECRYPTO, "the sender's signature does not verify");
		r->st = R_DONE;
		return 0;
	default:
		return r_fail(r, CUSTODY_EINVAL, "internal state");
	}
}

int
bundlefmt_reader_feed(struct bundlefmt_reader *r, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n;
	int error;

	while (len > 0) {
		switch (r->st) {
		case R_BROKEN:
			return r->error;
		case R_DONE:
			return r_fail(r, CUSTODY_EINVAL, "bytes after the trailer");
		case R_DATA:
			n = len < r->left ? len : (size_t)r->left;
			if (r->blobs_begun)
				EVP_DigestUpdate(r->sha, p, n);
			else
				crypto_generichash_update(&r->h, p, n);
			if (r->cbs.data != NULL && r_cb(r, r->cbs.data(r->arg, p, n)) < 0)
				return r->error;
			p += n;
			len -= n;
			if ((r->left -= n) == 0 && (error = r_part_end(r)) < 0)
				return error;
			break;
		default:
			n = r->need - r->have < len ? r->need - r->have : len;
			memcpy(r->buf + r->have, p, n);
			if (r->st != R_SIG)
				crypto_generichash_update(&r->h, p, n);
			r->have += n;
			p += n;
			len -= n;
			if (r->have == r->need && (error = r_field(r)) < 0)
				return error;
		}
	}
	return 0;
}

int
bundlefmt_reader_finish(struct bundlefmt_reader *r)
{
	if (r->st == R_BROKEN)
		return r->error;
	if (r->st != R_DONE)
		return r_fail(r, CUSTODY_EINVAL, "truncated (it ends before its signed trailer)");
	return 0;
}

void
bundlefmt_reader_counts(const struct bundlefmt_reader *r, uint32_t *feeds, uint32_t *blobs)
{
	*feeds = r->nfeeds;
	*blobs = r->nblobs;
}

void
bundlefmt_reader_free(struct bundlefmt_reader *r)
{
	if (r == NULL)
		return;
	EVP_MD_CTX_free(r->sha);
	free(r);
}
