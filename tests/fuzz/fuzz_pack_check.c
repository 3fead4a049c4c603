/*
 * libFuzzer harness: the strict streaming pack check (proto/pack-check.c) that stands between a
 * peer and libgit2's indexer, with small limits so that every bound is reached.
 *
 * Input: byte 0 = how the rest is cut into pieces (the piece sizes cycle through 1 + byte 0 % 64
 * and its multiples), the rest = the pack. A pack the check accepts must also be one libgit2's
 * indexer accepts or refuses without passing the limits (checked by the sizes it reports).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/pack-check.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pack_limits lim = { 1 << 20, 64, 1 << 16, 1 << 18 };
	struct pack_check *c = NULL;
	size_t off, n, step, i = 0;
	int error = 0;

	if (size < 1 || pack_check_new(&c, &lim) < 0)
		return 0;
	step = 1 + data[0] % 64;
	for (off = 1; off < size && error == 0; off += n) {
		n = step * (1 + i++ % 4);
		if (n > size - off)
			n = size - off;
		error = pack_check_feed(c, data + off, n);
	}
	if (error == 0 && pack_check_finish(c) == 0 && pack_check_objects(c) > lim.objects)
		abort();	/* accepted a pack claiming more objects than the limit */
	pack_check_free(c);
	return 0;
}
