/*
 * libFuzzer harness: the offline dossier verifier on a plain tar (the age layer has its own
 * harness): every tar entry, tag file, manifest, proof, git object and record it holds.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "custody/dossier.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dossier_reader *r = NULL;
	struct dossier_result *res = NULL;
	static int ready;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	if (dossier_reader_new(&r, NULL, 0) < 0)
		abort();
	(void)dossier_reader_feed(r, data, size);
	(void)dossier_reader_finish(&res, r, NULL);
	dossier_result_free(res);
	dossier_reader_free(r);
	return 0;
}
