/*
 * libFuzzer harness for site geometries: the input checked as GeoJSON (geojson_geometry),
 * whose canonical form must check again to itself, and given as a site's geometry, lat and a
 * person's consent (record_from_fields), which must either build a record or say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/geojson.h"
#include "custody/records.h"
#include "fuzz.h"

/* Build a record of kind with one field set to the input; problems or a record, never both. */
static void
fuzz_field(const char *kind, const char *name, const char *value)
{
	const char *names[] = { "type", name }, *values[] = { "other", value };
	struct record_problems probs = { 0 };
	json_t *rec;
	int skip = strcmp(kind, "site") != 0;
	int rc;

	rc = record_from_fields(&rec, &probs, NULL, kind, names + skip, values + skip, 2 - skip);
	if ((rc == 0) != (probs.n == 0) || (rc == 0) != (rec != NULL))
		abort();
	json_decref(rec);
	record_problems_free(&probs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], *s, *t, *text;
	json_t *g, *again;

	if (geojson_geometry(&g, why, sizeof why, (const char *)data, size) == 0) {
		s = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		if (s == NULL || geojson_geometry(&again, why, sizeof why, s, strlen(s)) != 0)
			abort();
		t = json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		if (t == NULL || strcmp(s, t) != 0)
			abort();
		free(s);
		free(t);
		json_decref(again);
		json_decref(g);
	} else if (why[0] == '\0')
		abort();
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_field("site", "geometry", text);
	fuzz_field("site", "lat", text);
	fuzz_field("person", "consent", text);
	free(text);
	return 0;
}
