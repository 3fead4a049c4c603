/*
 * libFuzzer harness: the frame decoder and message decoding, as the daemon meets a stream of
 * bytes from a local client or (inside the channel) a peer: frames one after another, each
 * message unpacked, named and encoded again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/wire.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f;
	struct cbuf again = { 0 };
	Envelope *env;
	size_t used, off = 0;

	while (off < size) {
		if (frame_parse(&f, &used, data + off, size - off, off == 0 ? FRAME_MAX_HELLO :
		    FRAME_MAX) < 0 || used == 0)
			break;
		if (used > size - off || f.len > used)
			abort();
		off += used;
		if (f.type != FRAME_MSG || wire_decode(&env, f.body, f.len) < 0)
			continue;
		if (wire_name(env) == NULL)
			abort();
		/* what was understood must encode again */
		again.len = 0;
		if (wire_encode(&again, env) < 0)
			abort();
		wire_free(env);
	}
	cbuf_free(&again);
	return 0;
}
