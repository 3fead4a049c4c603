/*
 * Many records read one after another (a list, a query): each office's feed head is resolved
 * once, and the trees on the path to the last record read are kept, so that records read in
 * token order read each tree of a feed once. The reader reads through a repository handle of
 * its own, opened again every FEED_READER_TREES trees: what libgit2 caches of a long list
 * stays bounded, and goes when the reader does. A reader belongs to the thread that made it,
 * and bounds that thread's index page cache while it lives (its caller reads each index row
 * once).
 */
#ifndef CUSTODY_FEED_READER_H
#define CUSTODY_FEED_READER_H

#include "archive.h"

#define FEED_READER_OFFICES 8		/* feeds whose heads and paths are kept */
#define FEED_READER_TREES 4096		/* trees read through one repository handle */

struct feed_reader;

struct feed_reader *feed_reader_new(struct archive *);
int feed_reader_read(struct feed_reader *, const char *office_hex, const char *tok,
    json_t **out, unsigned flags);
size_t feed_reader_opened(const struct feed_reader *);
void feed_reader_free(struct feed_reader *);

#endif
