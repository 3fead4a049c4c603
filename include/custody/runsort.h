/*
 * Sorting more fixed-size items than memory should hold: items gather in memory up to a run
 * of them, each full run is sorted and written to a scratch file, and reading back merges the
 * runs (a heap of their current items, each read in pieces). Memory holds one run and a piece
 * of each run, whatever the count. Without a scratch file (fd -1) every item stays in memory.
 *
 * Use: runsort_new, runsort_add for every item, runsort_sort once, then runsort_rewind and
 * runsort_next to the end, as many times as needed; runsort_free (which closes the scratch
 * file). Items that compare equal come back in no set order.
 */
#ifndef CUSTODY_RUNSORT_H
#define CUSTODY_RUNSORT_H

#include <stddef.h>

#include "custody/common.h"

struct runsort;

/* size: bytes of an item; run: items a run holds; fd: the scratch file (taken), or -1. */
int runsort_new(struct runsort **, size_t size, size_t run,
    int (*cmp)(const void *, const void *), int fd);
int runsort_add(struct runsort *, const void *item);
int runsort_sort(struct runsort *);
int runsort_rewind(struct runsort *);
/* The next item: 0 and *item (valid until the next call), 1 after the last, or an error. */
int runsort_next(struct runsort *, const void **item);
size_t runsort_count(const struct runsort *);
size_t runsort_runs(const struct runsort *);	/* runs written to the scratch file */
size_t runsort_held(const struct runsort *);	/* items memory has room for now */
void runsort_free(struct runsort *);

#endif
