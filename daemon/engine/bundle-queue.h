/* bundle-queue.c: pieces of bytes from one thread to another, in order, bounded. */
#ifndef CUSTODY_BUNDLE_QUEUE_H
#define CUSTODY_BUNDLE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "custody/common.h"

#define BQ_PIECE (256u << 10)	/* bytes of one piece at most */
#define BQ_SLOTS 16		/* pieces held at most */

struct bq;
int bq_new(struct bq **);
int bq_put(struct bq *, const void *p, size_t n);
void bq_close(struct bq *, int status, const char *msg);
int bq_get(struct bq *, const uint8_t **p, size_t *n);
void bq_done(struct bq *);
void bq_stop(struct bq *);
void bq_free(struct bq *);

#endif
