/* Evidence records: what the engine reads from them. */
#include <stdio.h>
#include <string.h>

#include "epochs.h"
#include "evidence.h"

/* Unwrap the file key held in an evidence record. */
int
evidence_file_key(struct archive *a, json_t *doc, uint8_t key[static 32])
{
	const char *wrapped = json_string_value(json_object_get(doc, "key"));
	const char *sha = json_string_value(json_object_get(doc, "sha256"));
	uint8_t raw[WRAPPED_KEY_LEN + 4];
	char ad[96];
	size_t len;

	if (wrapped == NULL || sha == NULL || sodium_base642bin(raw, sizeof raw, wrapped,
	    strlen(wrapped), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return custody_fail(CUSTODY_EINVAL, "evidence record has no usable file key");
	snprintf(ad, sizeof ad, "custody blob key %s", sha);
	return epochs_unwrap(a, key, raw, len, ad);
}
