/*
 * Which strings of a long stream were seen before, in memory that does not grow with the
 * stream: a Bloom filter of a size fixed at the start says "certainly new" or "maybe seen"; a
 * string maybe seen is kept exactly, as a suspect. A second look over the same stream in the
 * same order (seen_first) tells the repeats among the suspects from the filter's false
 * alarms. Memory: the filter, and the suspects (every repeated string, and the false alarms:
 * about one in ten million strings while the filter has 64 bits or more for each).
 *
 * Use: seen_new; seen_note for every string; then, when seen_suspects is not 0, seen_first
 * for every string again, in the same order, with its position; seen_free.
 */
#ifndef CUSTODY_SEEN_H
#define CUSTODY_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "custody/common.h"

struct seen;

/* A filter of at most bytes (a power of two from 64 bytes on, rounded down to one). */
int seen_new(struct seen **, size_t bytes);
/* 0 when s was certainly not noted before, 1 when it may have been, or an error. */
int seen_note(struct seen *, const char *s, size_t n);
size_t seen_suspects(const struct seen *);
/*
 * The second look, at position pos (positions grow; 0 is none): 0 when s is no suspect or
 * this is the first position it was looked at with, else that first position. Asked again
 * in the same order, it answers the same.
 */
uint64_t seen_first(struct seen *, const char *s, size_t n, uint64_t pos);
size_t seen_bytes(const struct seen *);		/* memory held, the suspects' included */
void seen_free(struct seen *);

#endif
