/*
 * Reading a git pack index (version 2, SHA-1) in place: the sorted object ids of one pack, for
 * looking an id up by its position without holding a set of them (the file is mapped, not read).
 * The index is checked when opened: its magic, version, fan-out table (never decreasing) and
 * length for the objects it names.
 *
 * Use: packidx_open, packidx_find / packidx_oid, packidx_free.
 */
#ifndef CUSTODY_PACKIDX_H
#define CUSTODY_PACKIDX_H

#include <stddef.h>
#include <stdint.h>

#define PACKIDX_OID_LEN 20

struct packidx;

int packidx_open(struct packidx **, const char *path);
/* The objects it names. */
uint32_t packidx_count(const struct packidx *);
/* The position of oid among them, or -1 when the pack does not hold it. */
int64_t packidx_find(const struct packidx *, const uint8_t oid[static PACKIDX_OID_LEN]);
/* The id at a position (below packidx_count). */
const uint8_t *packidx_oid(const struct packidx *, uint32_t pos);
void packidx_free(struct packidx *);

#endif
