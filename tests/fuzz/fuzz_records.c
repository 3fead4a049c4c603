/*
 * libFuzzer harness: records as they arrive from clients and peers. The input is JSON fields
 * checked as each kind (record_from_json), and the same bytes opened as a record object and as
 * a sealed field under a fixed key (recobj_open, recobj_field_open).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "custody/recobj.h"
#include "custody/records.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "victim", "incident", "source", "person",
	    "person_event", "site" };
	static const char tok[] = "00112233445566778899aabbccddeeff";
	static int ready;
	uint8_t key[RECOBJ_KEY_LEN] = { 7 };
	struct record_problems probs;
	json_t *in, *out, *v;
	json_error_t jerr;
	size_t i;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	if ((in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr)) != NULL) {
		for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
			memset(&probs, 0, sizeof probs);
			if (record_from_json(&out, &probs, NULL, kinds[i], in) == 0) {
				if (probs.n != 0)
					abort();
				json_decref(out);
			}
			record_problems_free(&probs);
		}
		if (recobj_field_open(&v, key, tok, "notes", in) == 0)
			json_decref(v);
		json_decref(in);
	}
	if (recobj_open(&out, key, tok, data, size) == 0)
		json_decref(out);
	return 0;
}
