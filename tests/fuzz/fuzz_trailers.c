/*
 * libFuzzer harness: a feed commit message, as peers and dossiers carry it (proto/trailers.c).
 * Whatever parses must write back to a message that parses to the same trailers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/trailers.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trailers t, back;
	struct cbuf b = { 0 };

	if (trailers_parse(&t, (const char *)data, size) < 0)
		return 0;
	if (trailers_format(&b, "custody", &t) < 0 ||
	    trailers_parse(&back, (const char *)b.data, b.len) < 0 ||
	    memcmp(&t, &back, sizeof t) != 0)
		abort();
	cbuf_free(&b);
	(void)trailers_clock_check(t.lamport, t.seq);
	return 0;
}
