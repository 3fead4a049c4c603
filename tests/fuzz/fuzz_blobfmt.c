/*
 * libFuzzer harness for taking the padding off a padded blob's plaintext: data[1..] fed in
 * pieces sized by data[0]; the evidence must be what the definition says (everything before
 * the last 0x80 that only zeros follow), or the end must say there is no mark.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/blobfmt.h"
#include "custody/common.h"
#include "fuzz.h"

struct got {
	const uint8_t	*want;
	size_t		 len;
};

/* Each released byte must be the next byte of the input. */
static int
check_cb(void *arg, const void *p, size_t n)
{
	struct got *g = arg;

	if (memcmp(g->want + g->len, p, n) != 0)
		abort();
	g->len += n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blobfmt_unpad u;
	struct got g;
	size_t step, i, end;
	int error;

	if (size < 1)
		return 0;
	g.want = data + 1;
	g.len = 0;
	step = (size_t)data[0] + 1;
	blobfmt_unpad_init(&u, check_cb, &g);
	for (i = 1; i < size; i += step)
		if (blobfmt_unpad_feed(&u, data + i, size - i < step ? size - i : step) < 0)
			abort();
	error = blobfmt_unpad_finish(&u);
	for (end = size - 1; end > 0 && data[end] == 0; end--)
		;
	if (end > 0 && data[end] == BLOBFMT_MARK) {
		if (error != 0 || g.len != end - 1)
			abort();
	} else if (error != CUSTODY_EINVAL)
		abort();
	return 0;
}
