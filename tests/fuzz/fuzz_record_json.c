/*
 * libFuzzer harness: the import's record encoder (daemon/engine/record-json.c). Any JSON object
 * jansson reads (NUL allowed in strings) must encode to exactly the bytes of
 * json_dumps(doc, RECORD_CONTENT_JSON), or be refused by both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive.h"
#include "record-json.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbuf out = { 0 };
	json_error_t jerr;
	json_t *doc;
	char *want;
	int error;

	if ((doc = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr)) == NULL)
		return 0;
	want = json_dumps(doc, RECORD_CONTENT_JSON);
	error = record_json(&out, doc);
	if (!json_is_object(doc) || want == NULL) {
		if (error == 0 && json_is_object(doc))
			abort();	/* jansson refused what was encoded */
	} else if (error != 0 || out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
		abort();
	free(want);
	cbuf_free(&out);
	json_decref(doc);
	return 0;
}
