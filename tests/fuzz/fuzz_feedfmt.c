/*
 * libFuzzer harness: feed ref names and record paths as a peer's repository or a dossier's
 * proofs carry them (proto/feedfmt.c). Whatever parses must write back to the same bytes, and
 * a tree entry is accepted exactly where its full path parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/feedfmt.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256], out[256];
	const char *hex, *tok, *slash;
	size_t dir;

	if (size >= sizeof s || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((hex = feedfmt_ref_office(s)) != NULL &&
	    (feedfmt_ref(out, hex) < 0 || strcmp(out, s) != 0))
		abort();
	if ((tok = feedfmt_record_token(s)) != NULL &&
	    (feedfmt_record_path(out, tok) < 0 || strcmp(out, s) != 0))
		abort();
	/* the entry check at the last '/' agrees with the path parser */
	if ((slash = strrchr(s, '/')) != NULL) {
		dir = (size_t)(slash + 1 - s);
		memcpy(out, s, dir);
		out[dir] = '\0';
		if (feedfmt_entry_ok(out, slash + 1, 0) != (tok != NULL))
			abort();
	}
	return 0;
}
