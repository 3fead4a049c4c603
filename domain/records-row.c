/*
 * Casualty records given as rows of values under a header (an import as the socket carries
 * it): byte strings with their lengths, checked like the fields of a CSV row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/records.h"

#define RECORD_ROW_VALUE_MAX	65536	/* bytes of one value, as a CSV field */

/* NUL-terminated copies of n byte strings in one block: *out (free it), its strings in v. */
static int
record_row_copy(char **out, const char **v, const uint8_t *const *s, const size_t *lens,
    size_t n)
{
	size_t i, total = 1;
	char *p;

	for (i = 0; i < n; i++)
		total += lens[i] + 1;
	if ((*out = p = malloc(total)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = p;
		if (lens[i] > 0)
			memcpy(p, s[i], lens[i]);
		p += lens[i];
		*p++ = '\0';
	}
	return 0;
}

/* Check a header of n column names (byte strings), then keep them as strings. */
int
record_row_header(char ***out, struct record_problems *probs, const char *kind,
    const uint8_t *const *names, const size_t *lens, size_t n)
{
	const char *v[RECORD_ROW_COLUMNS_MAX];
	char *block = NULL, **cols = NULL, col[32];
	size_t start = probs->n, i;
	int error = 0;

	*out = NULL;
	if (n == 0 || n > RECORD_ROW_COLUMNS_MAX) {
		if ((error = record_problems_add(probs, "header", "%zu columns (1 to %d)", n,
		    RECORD_ROW_COLUMNS_MAX)) < 0)
			return error;
		return CUSTODY_EINVAL;
	}
	if ((error = record_row_copy(&block, v, names, lens, n)) < 0)
		return error;
	for (i = 0; i < n && error == 0; i++) {
		snprintf(col, sizeof col, "column %zu", i + 1);
		if (strlen(v[i]) != lens[i])
			error = record_problems_add(probs, col, "name holds a NUL byte");
	}
	if (error == 0 && probs->n == start &&
	    (error = record_header_check(probs, kind, v, n)) == CUSTODY_EINVAL)
		error = 0;
	if (error == 0 && probs->n > start)
		error = CUSTODY_EINVAL;
	if (error == 0 && (cols = calloc(n + 1, sizeof *cols)) == NULL)
		error = CUSTODY_ENOMEM;
	for (i = 0; i < n && error == 0; i++)
		if ((cols[i] = strdup(v[i])) == NULL)
			error = CUSTODY_ENOMEM;
	if (error < 0) {
		for (i = 0; cols != NULL && i < n; i++)
			free(cols[i]);
		free(cols);
	} else
		*out = cols;
	free(block);
	return error;
}

/*
 * The canonical record of a row of n values (byte strings) under the ncols columns of a
 * header that record_row_header accepted; problems are appended, as for a CSV row.
 */
int
record_from_row(json_t **out, struct record_problems *probs, const struct vocab *vocab,
    const char *kind, const char *const *cols, size_t ncols, const uint8_t *const *values,
    const size_t *lens, size_t n)
{
	const char *v[RECORD_ROW_COLUMNS_MAX];
	char *block = NULL;
	size_t start = probs->n, i;
	int error = 0;

	*out = NULL;
	if (n != ncols) {
		if ((error = record_problems_add(probs, "row", "%zu fields where the header "
		    "has %zu", n, ncols)) < 0)
			return error;
		return custody_fail(CUSTODY_EINVAL, "row: %zu fields where the header has %zu",
		    n, ncols);
	}
	for (i = 0; i < n && error == 0; i++)
		if (lens[i] > RECORD_ROW_VALUE_MAX)
			error = record_problems_add(probs, cols[i], "longer than %d bytes",
			    RECORD_ROW_VALUE_MAX);
		else if (lens[i] > 0 && memchr(values[i], '\0', lens[i]) != NULL)
			error = record_problems_add(probs, cols[i], "holds a NUL byte");
	if (error == 0 && probs->n == start &&
	    (error = record_row_copy(&block, v, values, lens, n)) == 0)
		error = record_from_fields(out, probs, vocab, kind, cols, v, n);
	free(block);
	if (error < 0)
		return error;
	if (probs->n > start)
		return custody_fail(CUSTODY_EINVAL, "%s: %s", probs->v[start].column,
		    probs->v[start].problem);
	return 0;
}

/* Free the names of record_row_header; NULL is fine. */
void
record_row_header_free(char **cols)
{
	size_t i;

	for (i = 0; cols != NULL && cols[i] != NULL; i++)
		free(cols[i]);
	free(cols);
}
