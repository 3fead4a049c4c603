/* Casualty records given as JSON objects (as the socket carries them), checked like fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/records.h"

/* "a;b" from a JSON array of category strings; NULL (and a problem) when it is not one. */
static char *
record_json_categories(struct record_problems *probs, const json_t *a, int *error)
{
	struct cbuf b = { 0 };
	const json_t *e;
	size_t i;

	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || strchr(json_string_value(e), ';') != NULL ||
		    strlen(json_string_value(e)) != json_string_length(e)) {
			cbuf_free(&b);
			*error = record_problems_add(probs, "categories", "not an array of "
			    "category words");
			return NULL;
		}
		if ((i > 0 && cbuf_put_u8(&b, ';') < 0) ||
		    cbuf_puts(&b, json_string_value(e)) < 0) {
			cbuf_free(&b);
			*error = CUSTODY_ENOMEM;
			return NULL;
		}
	}
	if (cbuf_reserve(&b, 1) < 0) {
		*error = CUSTODY_ENOMEM;
		return NULL;
	}
	return cbuf_detach(&b);
}

/*
 * The same check of a JSON object whose members are the fields. Besides strings it takes what
 * the canonical form holds (an integer age, a boolean date_of_death_estimated, an array of
 * categories, "kind", which must be kind, and the derived precision, which is ignored and
 * made again from the date), so that a canonical record given back yields itself, and an
 * edited one (a new date with the old precision) is made right.
 */
int
record_from_json(json_t **out, struct record_problems *probs, const struct vocab *vocab,
    const char *kind, const json_t *fields)
{
	const char **names = NULL, **values = NULL, *key, *s;
	char **owned = NULL, pkey[32] = "";
	size_t n = 0, nowned = 0, cap, start = probs->n, i;
	json_t *v, *rec = NULL;
	int error = 0;

	*out = NULL;
	if (!json_is_object(fields)) {
		if ((error = record_problems_add(probs, NULL, "not a JSON object")) < 0)
			return error;
		return custody_fail(CUSTODY_EINVAL, "record is not a JSON object");
	}
	if (kind != NULL && strcmp(kind, "victim") == 0)
		strcpy(pkey, "date_of_death_precision");
	else if (kind != NULL && strcmp(kind, "incident") == 0)
		strcpy(pkey, "date_precision");
	cap = json_object_size(fields) + 1;
	names = calloc(cap, sizeof *names);
	values = calloc(cap, sizeof *values);
	owned = calloc(cap, sizeof *owned);
	if (names == NULL || values == NULL || owned == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	json_object_foreach((json_t *)fields, key, v) {
		s = NULL;
		if (strcmp(key, "kind") == 0) {
			if (!json_is_string(v) || kind == NULL ||
			    strcmp(json_string_value(v), kind) != 0)
				error = record_problems_add(probs, key, "not \"%s\"",
				    kind ? kind : "");
		} else if (pkey[0] != '\0' && strcmp(key, pkey) == 0)
			continue;	/* derived: made again from the date */
		else if (json_is_null(v))
			continue;
		else if (json_is_string(v)) {
			s = json_string_value(v);
			if (strlen(s) != json_string_length(v)) {
				error = record_problems_add(probs, key, "contains a NUL byte");
				s = NULL;
			}
		} else if (json_is_integer(v) && strcmp(key, "age") == 0) {
			if (asprintf(&owned[nowned], "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v)) < 0) {
				owned[nowned] = NULL;
				error = CUSTODY_ENOMEM;
			} else
				s = owned[nowned++];
		} else if (json_is_boolean(v) && strcmp(key, "date_of_death_estimated") == 0)
			s = json_is_true(v) ? "true" : "false";
		else if (json_is_array(v) && strcmp(key, "categories") == 0) {
			if ((owned[nowned] = record_json_categories(probs, v, &error)) != NULL)
				s = owned[nowned++];
		} else
			error = record_problems_add(probs, key, "must be a string");
		if (error < 0)
			goto done;
		if (s != NULL) {
			names[n] = key;
			values[n++] = s;
		}
	}
	error = record_from_fields(&rec, probs, vocab, kind, names, values, n);
	if (error < 0 && error != CUSTODY_EINVAL)
		goto done;
	error = 0;
	if (probs->n > start) {
		error = custody_fail(CUSTODY_EINVAL, "%s: %s", probs->v[start].column,
		    probs->v[start].problem);
		goto done;
	}
	*out = rec;
	rec = NULL;
done:
	json_decref(rec);
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(names);
	free(values);
	return error;
}
