/*
 * The move of custodyd blobs migrate (blobs-migrate.h): every object of one blob store into
 * another, in batches. For each object of a batch: an object already at the destination whose
 * bytes hash to its name is kept (a resumed run copies nothing twice), a damaged one is removed
 * and copied again; otherwise the source's bytes are streamed into a destination writer while
 * they are hashed, and committed only when they hash to the name (else the object is reported
 * and left alone). Then the destination settles (durable), each copy is read back from it and
 * hashed, and only then is the source copy removed. A kill at any point leaves every object in
 * the source, or whole at the destination, or both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "custody/common.h"
#include "blobs-migrate.h"

#define MIGRATE_BATCH		64		/* objects between two settles */
#define MIGRATE_BATCH_BYTES	(256u << 20)	/* or bytes */
#define MIGRATE_PIECE		(1u << 20)	/* bytes per read */

typedef char migrate_name[SHA256_HEX_LEN + 1];

struct migrate_names {
	migrate_name	*v;
	size_t		 n, cap;
};

enum migrate_state { MIGRATE_SKIP, MIGRATE_PRESENT, MIGRATE_COPIED };

/* Collect a final name of the source (blobstore_list's callback). */
static int
blobs_migrate_collect(void *arg, const char *name)
{
	struct migrate_names *l = arg;
	migrate_name *grown;

	if (!hex_is_lower(name, SHA256_HEX_LEN) || name[SHA256_HEX_LEN] != '\0')
		return 0;	/* not a blob's name: not ours to move */
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		if ((grown = realloc(l->v, l->cap * sizeof *grown)) == NULL)
			return custody_fail(CUSTODY_ENOMEM, "out of memory listing the blobs");
		l->v = grown;
	}
	memcpy(l->v[l->n++], name, sizeof (migrate_name));
	return 0;
}

/* The SHA-256 of ctx in lowercase hex. */
static void
blobs_migrate_digest(EVP_MD_CTX *ctx, char hex[static SHA256_HEX_LEN + 1])
{
	uint8_t md[SHA256_LEN];

	EVP_DigestFinal_ex(ctx, md, NULL);
	hex_encode(hex, md, SHA256_LEN);
}

/*
 * Read name from store into got (hex), its SHA-256; with w, write the bytes to w on the way.
 */
static int
blobs_migrate_read(struct blobstore *store, const char *name, struct blobstore_writer *w,
    uint8_t *buf, char got[static SHA256_HEX_LEN + 1])
{
	struct blobstore_reader *r = NULL;
	EVP_MD_CTX *ctx = NULL;
	uint64_t size;
	size_t n;
	int error;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = blobstore_read_open(store, name, 0, &r, &size)) < 0)
		goto done;
	while ((error = blobstore_read(r, buf, MIGRATE_PIECE, &n)) == 0 && n > 0) {
		EVP_DigestUpdate(ctx, buf, n);
		if (w != NULL && (error = blobstore_write(w, buf, n)) < 0)
			goto done;
	}
	if (error == 0)
		blobs_migrate_digest(ctx, got);
done:
	blobstore_read_close(r);
	EVP_MD_CTX_free(ctx);
	return error;
}

/* Hash name as store holds it into got (hex). */
static int
blobs_migrate_hash(struct blobstore *store, const char *name, uint8_t *buf,
    char got[static SHA256_HEX_LEN + 1])
{
	return blobs_migrate_read(store, name, NULL, buf, got);
}

/*
 * Stream name from src into a dst writer, hashing on the way; commit only when the bytes hash
 * to the name, else abort with *bad set and got (hex) naming what they hash to.
 */
static int
blobs_migrate_copy(const struct blobs_migrate_io *io, const char *name, uint8_t *buf,
    int *bad, char got[static SHA256_HEX_LEN + 1])
{
	struct blobstore_writer *w = NULL;
	int error;

	*bad = 0;
	if ((error = blobstore_begin(io->dst, &w)) < 0 ||
	    (error = blobs_migrate_read(io->src, name, w, buf, got)) < 0)
		goto done;
	if (strcmp(got, name) != 0) {
		*bad = 1;
		goto done;
	}
	error = blobstore_commit(w, name);
	w = NULL;	/* the commit freed it */
done:
	blobstore_abort(w);
	return error;
}

/*
 * The first pass over one object: *state says what the second pass does with it. An object at
 * the destination is hashed there: whole, it stays; damaged, it is removed and copied again.
 */
static int
blobs_migrate_place(const struct blobs_migrate_io *io, struct blobs_migrate_stats *st,
    const char *name, uint64_t size, uint8_t *buf, enum migrate_state *state)
{
	char got[SHA256_HEX_LEN + 1], why[256];
	uint64_t dsize;
	int error, bad;

	*state = MIGRATE_SKIP;
	error = blobstore_stat(io->dst, name, &dsize);
	if (error == 0) {
		if ((error = blobs_migrate_hash(io->dst, name, buf, got)) < 0)
			return error;
		if (strcmp(got, name) == 0) {
			*state = MIGRATE_PRESENT;
			return 0;
		}
		if ((error = blobstore_remove(io->dst, name)) < 0 && error != CUSTODY_ENOTFOUND)
			return error;
		st->recopied++;
		if (io->cb != NULL)
			io->cb(io->cb_arg, BLOBS_MIGRATE_RECOPIED, name, dsize, NULL, st);
	} else if (error != CUSTODY_ENOTFOUND)
		return error;
	if ((error = blobs_migrate_copy(io, name, buf, &bad, got)) < 0)
		return error;
	if (bad) {
		st->bad++;
		snprintf(why, sizeof why, "blob %s: its bytes at the source hash to %s: not moved, "
		    "kept where it is", name, got);
		if (io->cb != NULL)
			io->cb(io->cb_arg, BLOBS_MIGRATE_BAD, name, size, why, st);
		return 0;
	}
	*state = MIGRATE_COPIED;
	return 0;
}

/* The second pass over one object, after the settle: check the copy, then drop the source's. */
static int
blobs_migrate_finish(const struct blobs_migrate_io *io, struct blobs_migrate_stats *st,
    const char *name, uint64_t size, uint8_t *buf, enum migrate_state state)
{
	char got[SHA256_HEX_LEN + 1];
	int error;

	if (state == MIGRATE_SKIP)
		return 0;
	if (state == MIGRATE_COPIED) {
		if ((error = blobs_migrate_hash(io->dst, name, buf, got)) < 0)
			return error;
		if (strcmp(got, name) != 0) {
			blobstore_remove(io->dst, name);
			return custody_fail(CUSTODY_EIO, "blob %s: read back from the %s store, its "
			    "bytes hash to %s: the copy is removed, the source kept", name,
			    blobstore_kind(io->dst), got);
		}
	}
	if ((error = blobstore_remove(io->src, name)) < 0 && error != CUSTODY_ENOTFOUND)
		return error;
	st->done++;
	st->done_bytes += size;
	if (state == MIGRATE_COPIED) {
		st->moved++;
		st->moved_bytes += size;
	} else
		st->present++;
	if (io->cb != NULL)
		io->cb(io->cb_arg, state == MIGRATE_COPIED ? BLOBS_MIGRATE_MOVED :
		    BLOBS_MIGRATE_PRESENT, name, size, NULL, st);
	return 0;
}

int
blobs_migrate_move(const struct blobs_migrate_io *io, struct blobs_migrate_stats *st)
{
	struct migrate_names names = { 0 };
	enum migrate_state state[MIGRATE_BATCH];
	uint64_t *sizes = NULL, batch_bytes;
	uint8_t *buf = NULL;
	size_t i, j, k;
	int error;

	memset(st, 0, sizeof *st);
	if ((buf = malloc(MIGRATE_PIECE)) == NULL) {
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = blobstore_list(io->src, blobs_migrate_collect, &names)) < 0)
		goto done;
	if (names.n > 0 && (sizes = calloc(names.n, sizeof *sizes)) == NULL) {
		error = custody_fail(CUSTODY_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < names.n; i++) {
		if ((error = blobstore_stat(io->src, names.v[i], &sizes[i])) < 0)
			goto done;
		st->objects++;
		st->bytes += sizes[i];
	}
	for (i = 0; i < names.n; i = j) {
		batch_bytes = 0;
		for (j = i; j < names.n && j - i < MIGRATE_BATCH &&
		    batch_bytes < MIGRATE_BATCH_BYTES; j++) {
			if ((error = blobs_migrate_place(io, st, names.v[j], sizes[j], buf,
			    &state[j - i])) < 0)
				goto done;
			batch_bytes += sizes[j];
		}
		if (io->settle != NULL && (error = io->settle(io->settle_arg)) < 0)
			goto done;
		for (k = i; k < j; k++)
			if ((error = blobs_migrate_finish(io, st, names.v[k], sizes[k], buf,
			    state[k - i])) < 0)
				goto done;
	}
	error = st->bad > 0 ? 1 : 0;
done:
	free(names.v);
	free(sizes);
	free(buf);
	return error;
}
