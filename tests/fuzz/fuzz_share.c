/* libFuzzer harness: recovery shares, binary and text (proto/share.c), and their text form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/common.h"
#include "custody/share.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct share s, again;
	char *text;

	if (sodium_init() < 0)
		abort();
	if (share_parse(&s, data, size) != 0)
		return 0;
	/* whatever parses has a text form that parses to the same share */
	if (size >= 7 && memcmp(data, SHARE_MAGIC, 7) == 0) {
		if (share_text(&text, data, size) != 0)
			abort();
		if (share_parse(&again, text, strlen(text)) != 0 ||
		    memcmp(&s, &again, sizeof s) != 0)
			abort();
		free(text);
	}
	return 0;
}
