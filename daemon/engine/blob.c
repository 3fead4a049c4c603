/*
 * The blob store: evidence encrypted with crypto_secretstream_xchacha20poly1305 under a random
 * per-file key, one immutable file each at blobs/ab/NAME, NAME the SHA-256 of the file and ab
 * its first two hex digits (one level: a batch into a new archive would otherwise pay two
 * mkdirs per file, and 256 directories of htree-indexed names scale to millions of blobs).
 *
 * File format (custody/blobfmt.h): "CUSTBLB2", the 24-byte secretstream header, then chunks of
 * BLOB_CHUNK plaintext bytes (each + 17 bytes); the last chunk (possibly short) is tagged FINAL.
 * The plaintext is the evidence, a 0x80 mark and the zeros that pad the file to a Padmé length.
 * "CUSTBLB1" blobs, written before padding, hold the evidence alone and are still read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archive.h"

#include "blob.h"
#include "custody/lockmem.h"

/* blobs/ab/NAME */
char *
blob_path(const struct archive *a, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/blobs/%.2s/%s", a->path, name, name) < 0)
		return NULL;
	return p;
}

/* Whether the store holds a blob (0 too when it cannot say: a fetch then fails clearly). */
int
blob_exists(struct archive *a, const char *name)
{
	struct blobstore *s = archive_blobs(a);
	uint64_t size;

	return s != NULL && blobstore_stat(s, name, &size) == 0;
}

/* Say what failed, telling a full disk apart. */
int
blob_io_error(const char *what)
{
	if (errno == ENOSPC || errno == EDQUOT)
		return custody_fail(CUSTODY_ENOSPC, "%s: no space left on device", what);
	return custody_fail(CUSTODY_EIO, "%s: %s", what, strerror(errno));
}

/* Drop an uncommitted blob (the store's writer, or a file staged in tmp/) and wipe its key. */
void
blob_discard(struct archive *a, struct blob_info *b)
{
	char path[4096];

	blobstore_abort(b->w);
	b->w = NULL;
	if (b->tmp[0] != '\0') {
		snprintf(path, sizeof path, "%s/tmp/%s", a->path, b->tmp);
		unlink(path);
		b->tmp[0] = '\0';
	}
	sodium_memzero(b->key, sizeof b->key);
}

/* Remove a placed blob that no commit refers to (an abandoned ingest). */
void
blob_unplace(struct archive *a, const struct blob_info *b)
{
	struct blobstore *s = archive_blobs(a);

	if (s != NULL)
		(void)blobstore_remove(s, b->name);
}

/*
 * Make a blob final under its name: the ingest's writer, or a file staged in tmp/ (moved into
 * the local store, copied into others). Durable after the caller's archive_sync() for the
 * local store; acknowledged by the store for the others.
 */
int
blob_commit(struct archive *a, struct blob_info *b)
{
	struct blobstore_writer *w = b->w;
	struct blobstore *s;
	char from[4096];

	b->w = NULL;
	if (w != NULL)
		return blobstore_commit(w, b->name);
	if ((s = archive_blobs(a)) == NULL)
		return CUSTODY_EIO;
	snprintf(from, sizeof from, "%s/tmp/%s", a->path, b->tmp);
	return blobstore_commit_file(s, from, b->name);
}

static int
blob_write_fd(void *arg, const void *p, size_t n)
{
	int fd = *(int *)arg, error;

	if (fd >= 0 && (error = write_all(fd, p, n)) < 0)
		return custody_fail(error, "writing the output: %s", strerror(errno));
	return 0;
}

/*
 * Decrypt blob NAME into outfd (-1 to only check it), giving the plaintext SHA-256 and size,
 * and the SHA-256 of the stored bytes. Bytes reach outfd before the whole blob is checked: the
 * caller releases them only after comparing sha256 with the record.
 */
int
blob_decrypt(struct archive *a, const char *name, const uint8_t key[static 32], int outfd,
    uint8_t sha256[static SHA256_LEN], uint64_t *size, uint8_t cipher_sha256[SHA256_LEN])
{
	return blob_decrypt_cb(a, name, key, blob_write_fd, &outfd, sha256, size,
	    cipher_sha256);
}

/* Read n bytes, fewer only at the blob's end; the count, or a negative code. */
static ssize_t
blob_read_full(struct blobstore_reader *r, void *p, size_t n)
{
	size_t done = 0, got;
	int error;

	while (done < n) {
		if ((error = blobstore_read(r, (uint8_t *)p + done, n - done, &got)) < 0)
			return error;
		if (got == 0)
			break;
		done += got;
	}
	return (ssize_t)done;
}

/* Where decrypted evidence goes: hashed, counted, handed to out. */
struct blob_out {
	int		(*out)(void *, const void *, size_t);
	void		*arg;
	EVP_MD_CTX	*sha;		/* NULL: not hashed */
	uint64_t	*size;
};

/* Release n bytes of evidence. */
static int
blob_emit(void *arg, const void *p, size_t n)
{
	struct blob_out *o = arg;
	int error;

	if (n == 0)
		return 0;
	if (o->sha != NULL)
		EVP_DigestUpdate(o->sha, p, n);
	if ((error = o->out(o->arg, p, n)) < 0)
		return error;
	*o->size += n;
	return 0;
}

/*
 * blob_decrypt, the plaintext going to out(arg, bytes, len) one chunk at a time; sha256 may be
 * NULL when the caller hashes what it receives itself. out must not decrypt a blob on the same
 * thread: the chunk buffer is the thread's.
 */
int
blob_decrypt_cb(struct archive *a, const char *name, const uint8_t key[static 32],
    int (*out)(void *, const void *, size_t), void *arg, uint8_t sha256[SHA256_LEN],
    uint64_t *size, uint8_t cipher_sha256[SHA256_LEN])
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[BLOB_MAGIC_LEN + BLOB_HDR_LEN], *in = NULL, *pt = NULL, tag = 0;
	EVP_MD_CTX *psha = EVP_MD_CTX_new(), *csha = EVP_MD_CTX_new();
	const size_t clen = BLOB_CHUNK + BLOB_ABYTES;
	unsigned long long plen;
	struct blob_out o = { out, arg, sha256 != NULL ? psha : NULL, size };
	struct blobfmt_unpad u;
	struct blobstore_reader *rd = NULL;
	struct blobstore *s;
	uint64_t chunk = 0, stored;
	ssize_t r;
	int padded, error = CUSTODY_ENOMEM;

	*size = 0;
	if (psha == NULL || csha == NULL || (in = malloc(clen)) == NULL ||
	    (pt = lockmem_thread_buffer(LOCKMEM_SLOT_DECRYPT, BLOB_CHUNK)) == NULL)
		goto done;
	if ((s = archive_blobs(a)) == NULL) {
		error = custody_fail(CUSTODY_EIO, "blob %s: %s", name, custody_error());
		goto done;
	}
	if ((error = blobstore_read_open(s, name, 0, &rd, &stored)) < 0) {
		if (error == CUSTODY_ENOTFOUND)
			error = custody_fail(CUSTODY_ENOTFOUND, "blob %s: missing", name);
		goto done;
	}
	EVP_DigestInit_ex(psha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(csha, EVP_sha256(), NULL);
	if ((r = blob_read_full(rd, hdr, sizeof hdr)) < 0) {
		error = (int)r;
		goto done;
	}
	if (r != (ssize_t)sizeof hdr ||
	    (error = blobfmt_header_read(&st, &padded, hdr, key)) == CUSTODY_EINVAL) {
		error = custody_fail(CUSTODY_EINVAL, "blob %s: not a custody blob (bad header)",
		    name);
		goto done;
	}
	if (error < 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "blob %s: bad stream header", name);
		goto done;
	}
	blobfmt_unpad_init(&u, blob_emit, &o);
	EVP_DigestUpdate(csha, hdr, sizeof hdr);
	while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		if ((r = blob_read_full(rd, in, clen)) < 0) {
			error = (int)r;
			goto done;
		}
		if (r < (ssize_t)BLOB_ABYTES) {
			error = custody_fail(CUSTODY_EINVAL, "blob %s: truncated after %llu bytes",
			    name, (unsigned long long)*size);
			goto done;
		}
		if (cipher_sha256 != NULL)
			EVP_DigestUpdate(csha, in, (size_t)r);
		if (crypto_secretstream_xchacha20poly1305_pull(&st, pt, &plen, &tag, in, (size_t)r,
		    NULL, 0) != 0) {
			error = custody_fail(CUSTODY_ECRYPTO, "blob %s: chunk %llu does not "
			    "authenticate (altered or truncated)", name, (unsigned long long)chunk);
			goto done;
		}
		if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL && plen != BLOB_CHUNK) {
			error = custody_fail(CUSTODY_EINVAL, "blob %s: short chunk %llu", name,
			    (unsigned long long)chunk);
			goto done;
		}
		if ((error = padded ? blobfmt_unpad_feed(&u, pt, (size_t)plen) : blob_emit(&o, pt,
		    (size_t)plen)) < 0)
			goto done;
		chunk++;
	}
	if (padded && blobfmt_unpad_finish(&u) < 0) {
		error = custody_fail(CUSTODY_EINVAL, "blob %s: its padding has no mark", name);
		goto done;
	}
	if ((r = blob_read_full(rd, in, 1)) != 0) {
		if (r < 0) {
			error = (int)r;
			goto done;
		}
		error = custody_fail(CUSTODY_EINVAL, "blob %s: data after the final chunk", name);
		goto done;
	}
	if (sha256 != NULL)
		EVP_DigestFinal_ex(psha, sha256, NULL);
	if (cipher_sha256 != NULL)
		EVP_DigestFinal_ex(csha, cipher_sha256, NULL);
	error = 0;
done:
	blobstore_read_close(rd);
	sodium_memzero(&st, sizeof st);
	if (pt != NULL)
		sodium_memzero(pt, BLOB_CHUNK);
	free(in);
	EVP_MD_CTX_free(psha);
	EVP_MD_CTX_free(csha);
	return error;
}
