/*
 * libFuzzer harness for the CSV import: data[1..] imported as victims, incidents, persons,
 * person events or sites (by the first byte's top three bits), whole and in pieces sized by
 * the first byte. Both must report the same rows
 * and the same result, and every record must come back unchanged through record_from_json.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/records.h"
#include "fuzz.h"

struct fuzz_run {
	const char	*kind;
	struct cbuf	 out;
};

static int
fuzz_row(void *arg, unsigned long line, json_t *rec, const struct record_problems *probs)
{
	struct fuzz_run *r = arg;
	struct record_problems again_probs = { 0 };
	json_t *again;
	char *a, *b;
	size_t i;

	cbuf_printf(&r->out, "%lu", line);
	if (rec == NULL) {
		if (probs->n == 0)
			abort();
		for (i = 0; i < probs->n; i++)
			cbuf_printf(&r->out, " %s: %s;", probs->v[i].column, probs->v[i].problem);
		cbuf_puts(&r->out, "\n");
		return 0;
	}
	if (probs->n != 0 || (a = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
		abort();
	if (record_from_json(&again, &again_probs, NULL, r->kind, rec) != 0)
		abort();
	b = json_dumps(again, JSON_SORT_KEYS | JSON_COMPACT);
	if (b == NULL || strcmp(a, b) != 0)
		abort();
	cbuf_printf(&r->out, " %s\n", a);
	free(a);
	free(b);
	json_decref(again);
	return 0;
}

/* Import data in pieces of step bytes; the result code, the rows in r->out. */
static int
fuzz_import(struct fuzz_run *r, const uint8_t *data, size_t size, size_t step)
{
	struct csv_import *imp;
	size_t i, n;
	int error = 0;

	if (csv_import_new(&imp, r->kind, NULL, fuzz_row, r) < 0)
		abort();
	for (i = 0; i < size && error == 0; i += n) {
		n = size - i < step ? size - i : step;
		error = csv_import_feed(imp, data + i, n);
	}
	if (error == 0)
		error = csv_import_finish(imp);
	if (csv_import_memory(imp) > 2 * 1024 * 1024)
		abort();
	csv_import_free(imp);
	return error;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run whole = { 0 }, pieces = { 0 };
	int e1, e2;

	if (size < 1)
		return 0;
	static const char *const kinds[8] = { "victim", "person", "person_event", "site",
	    "incident", "incident", "incident", "incident" };

	whole.kind = pieces.kind = kinds[data[0] >> 5];
	e1 = fuzz_import(&whole, data + 1, size - 1, size);
	e2 = fuzz_import(&pieces, data + 1, size - 1, (size_t)(data[0] & 0x7f) + 1);
	if (e1 != e2 || whole.out.len != pieces.out.len ||
	    (whole.out.len > 0 && memcmp(whole.out.data, pieces.out.data, whole.out.len) != 0))
		abort();
	cbuf_free(&whole.out);
	cbuf_free(&pieces.out);
	return 0;
}
