/*
 * Writing a git pack (version 2, SHA-1) and its index (version 2) as objects come, for objects
 * that do not compress (encrypted records): each object is stored as a zlib stream of stored
 * (uncompressed) deflate blocks, so writing costs a hash and a copy. Memory holds 32 bytes per
 * object (its id, offset and CRC) for the index, never the objects; with packwrite_scratch, at
 * most 65,536 of them, the rest sorted in runs in the scratch file.
 *
 * Use: packwrite_new on an empty file, packwrite_scratch if the pack may be large,
 * packwrite_add for every object (its id comes back),
 * packwrite_finish to complete the pack and write the index to another file, packwrite_free.
 * A pack holds each object once: adding the same object twice fails at packwrite_finish.
 * packwrite_tree_entry builds the body of a tree object for packwrite_add.
 */
#ifndef CUSTODY_PACKWRITE_H
#define CUSTODY_PACKWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "custody/common.h"

#define PACKWRITE_OID_LEN 20

enum packwrite_type {
	PACKWRITE_COMMIT = 1,
	PACKWRITE_TREE = 2,
	PACKWRITE_BLOB = 3,
};

struct packwrite;

int packwrite_new(struct packwrite **, int fd);
int packwrite_scratch(struct packwrite *, int fd);
int packwrite_add(struct packwrite *, enum packwrite_type, const void *data, size_t len,
    uint8_t oid[static PACKWRITE_OID_LEN]);
uint32_t packwrite_count(const struct packwrite *);
int packwrite_finish(struct packwrite *, int idx_fd, uint8_t sum[static PACKWRITE_OID_LEN]);
void packwrite_free(struct packwrite *);

/* Append "MODE NAME\0OID" to a tree body; mode "100644" for a blob, "40000" for a tree. */
int packwrite_tree_entry(struct cbuf *, const char *mode, const char *name,
    const uint8_t oid[static PACKWRITE_OID_LEN]);

#endif
