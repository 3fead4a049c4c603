/*
 * A strict streaming check of a git pack (version 2 or 3, SHA-1) from someone else, done before
 * any of its bytes reach libgit2's indexer (see proto/PROTOCOL.md, "Packs"). It reads every
 * entry header, inflates every entry into a small fixed buffer (so memory stays constant), and
 * refuses as soon as a limit is passed: bytes in the pack, objects, the size an entry declares,
 * the base and result sizes a delta declares (the indexer allocates the result size before it
 * applies the delta), and the sum of all declared sizes. It also refuses entries whose inflated
 * size differs from the declared one, an OFS_DELTA pointing outside the pack, a pack that ends
 * early, and bytes after the trailer. The trailer's hash is left to the indexer.
 *
 * Use: pack_check_new, pack_check_feed for every piece as it arrives (a negative return refuses
 * the pack, custody_error says why), pack_check_finish at the end, pack_check_free.
 */
#ifndef CUSTODY_PACK_CHECK_H
#define CUSTODY_PACK_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct pack_limits {
	uint64_t	bytes;		/* the whole pack, header and trailer included */
	uint32_t	objects;	/* entries the header may claim */
	uint64_t	object;		/* inflated size of an entry; base and result of a delta */
	uint64_t	expanded;	/* sum of every entry's size and every delta's result */
};

struct pack_check;

int pack_check_new(struct pack_check **, const struct pack_limits *);
int pack_check_feed(struct pack_check *, const void *data, size_t len);
int pack_check_finish(struct pack_check *);
/* Objects the header claims (0 until the header is read). */
uint32_t pack_check_objects(const struct pack_check *);
void pack_check_free(struct pack_check *);

#endif
