/*
 * custodyd blobs migrate: an archive's blobs moved from the store it has to the other one
 * (blobstore.h), one object at a time, each checked at the destination before the source copy
 * goes, resumable after a kill at any point.
 *
 * While a migration is unfinished the file ARCHIVE/blobs-migrating names its target ("local"
 * or "rados", one line), and custodyd refuses to start. When every object is moved,
 * custody.conf's [blobs] store is set to the target and the marker removed, in that order: a
 * crash between the two leaves the marker, and the next run finds nothing left to move and
 * finishes.
 */
#ifndef CUSTODY_BLOBS_MIGRATE_H
#define CUSTODY_BLOBS_MIGRATE_H

#include <stdint.h>

#include "blobstore.h"

#define BLOBS_MIGRATE_MARKER "blobs-migrating"

/* What a migration did; the totals are the source's at the start. */
struct blobs_migrate_stats {
	uint64_t	objects, bytes;		/* in the source at the start */
	uint64_t	done, done_bytes;	/* objects handled so far (moved or already there) */
	uint64_t	moved, moved_bytes;	/* copied, checked at the destination, source removed */
	uint64_t	present;		/* already at the destination whole: not copied again */
	uint64_t	recopied;		/* at the destination damaged: removed, copied again */
	uint64_t	bad;			/* bytes at the source not matching the name: kept */
};

enum blobs_migrate_event {
	BLOBS_MIGRATE_MOVED,		/* name moved */
	BLOBS_MIGRATE_PRESENT,		/* name was at the destination already; source removed */
	BLOBS_MIGRATE_RECOPIED,		/* name was damaged at the destination; copied again */
	BLOBS_MIGRATE_BAD,		/* name's source bytes hash to something else: kept */
};

/* Told of every object; why is the message of a BAD (else NULL). */
typedef void (*blobs_migrate_cb)(void *arg, enum blobs_migrate_event, const char *name,
    uint64_t size, const char *why, const struct blobs_migrate_stats *);

/* How the move runs: the destination's settle makes committed objects durable (may be NULL). */
struct blobs_migrate_io {
	struct blobstore	*src, *dst;
	int			(*settle)(void *arg);
	void			*settle_arg;
	blobs_migrate_cb	 cb;
	void			*cb_arg;
};

/* blobs-migrate.c */
/*
 * Move every object of io->src to io->dst: copy (hashing the source's bytes on the way),
 * settle, read back from the destination and hash, then remove the source copy. An object
 * whose source bytes do not hash to its name is reported and left where it is (st->bad); any
 * other failure stops the move with its error. Returns 0 when every object moved, 1 when some
 * were bad (the rest moved), or a negative code.
 */
int blobs_migrate_move(const struct blobs_migrate_io *io, struct blobs_migrate_stats *st);

/* blobs-migrate-archive.c */
/*
 * The whole command on the archive at path: lock, marker, both stores, the move, custody.conf
 * and the marker at the end. 0 when done (or nothing to do, *cause then says so), 1 when
 * some objects were bad (marker kept), or a negative code with *cause (caller frees).
 */
int blobs_migrate_archive(const char *path, enum blobstore_kind to, blobs_migrate_cb cb,
    void *arg, struct blobs_migrate_stats *st, char **cause);
/* 1 with *cause (caller frees) when a migration of path's blobs is unfinished, else 0. */
int blobs_migrate_pending(const char *path, char **cause);
/* "local" or "rados". */
const char *blobs_migrate_kind_name(enum blobstore_kind);

#endif
