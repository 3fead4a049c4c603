/* What the RADOS blob store's files share (blobstore-rados.c, blobstore-rados-read.c). */
#ifndef CUSTODY_BLOBSTORE_RADOS_INT_H
#define CUSTODY_BLOBSTORE_RADOS_INT_H

#include <pthread.h>
#include <time.h>

#include <rados/librados.h>

#include "custody/common.h"
#include "blobstore.h"

#define RADOS_PART	(64u << 20)	/* bytes per part object (osd_max_object_size 128 MiB) */
#define RADOS_WRITE	(8u << 20)	/* bytes per write op (osd_max_write_size 90 MiB) */
#define RADOS_INLINE	RADOS_WRITE	/* blobs up to this size are one object */
#define RADOS_INFLIGHT	4		/* writes of one writer in flight */
#define RADOS_XATTR	"custody.parts"
#define RADOS_ID_LEN	32		/* hex digits of a writer's id */
#define RADOS_OID_MAX	72		/* "part." ID "." SEQ, or a final name, and a NUL */
#define RADOS_MANIFEST_MAX 128
#define RADOS_HEALTH_WAIT_MS 2000	/* how long blobstore_health waits for an answer */

_Static_assert(RADOS_PART % RADOS_WRITE == 0, "a write never spans two parts");

struct blobstore_rados_store {
	struct blobstore	 base;
	rados_t			 cluster;
	rados_ioctx_t		 io;
	char			*pool;
	unsigned		 timeout;
	pthread_mutex_t		 health_lock;
	struct blobstore_rados_probe *probe;	/* a health probe in flight, or NULL */
	time_t			 full_at;	/* when a write was last refused for lack of
						   space (EDQUOT, ENOSPC), 0 since one went
						   through; atomic */
	int			 full_r;	/* that refusal's error */
};

/* Where a blob's bytes are. */
struct blobstore_rados_layout {
	int		 parted;		/* 0: the final object holds the bytes */
	char		 id[RADOS_ID_LEN + 1];
	uint64_t	 size, partsize;
	uint32_t	 parts;
};

/*
 * Say what a librados error r means, naming the pool and what was done; a full pool is
 * remembered (full_at) for the health check until a write goes through.
 */
int blobstore_rados_fail(struct blobstore_rados_store *, int r, const char *what);
/* "part.ID.SEQ" */
void blobstore_rados_part_oid(char oid[static RADOS_OID_MAX], const char *id, uint32_t seq);
/* Where name's bytes are: CUSTODY_ENOTFOUND (no message) when it is not there. */
int blobstore_rados_layout_get(struct blobstore_rados_store *, const char *name,
    struct blobstore_rados_layout *);

/* blobstore-rados-read.c */
int blobstore_rados_read_open(struct blobstore *, const char *name, uint64_t offset,
    struct blobstore_reader **out, uint64_t *size);
int blobstore_rados_read(struct blobstore_reader *, void *p, size_t n, size_t *got);
void blobstore_rados_read_close(struct blobstore_reader *);

/* blobstore-rados-health.c */
int blobstore_rados_health(struct blobstore *, char **why);
void blobstore_rados_health_close(struct blobstore_rados_store *);

#endif
