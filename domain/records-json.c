/* Casualty records given as JSON objects (as the socket carries them), checked like fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/records.h"

/*
 * "a;b" (categories) or "a,b" (consent) from a JSON array of words of field; NULL (and a
 * problem) when it is not one.
 */
static char *
record_json_words(struct record_problems *probs, const char *field, const json_t *a,
    int *error)
{
	char sep = strcmp(field, "consent") == 0 ? ',' : ';';
	struct cbuf b = { 0 };
	const json_t *e;
	size_t i;

	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || strchr(json_string_value(e), sep) != NULL ||
		    strlen(json_string_value(e)) != json_string_length(e)) {
			cbuf_free(&b);
			*error = record_problems_add(probs, field, "not an array of words");
			return NULL;
		}
		if ((i > 0 && cbuf_put_u8(&b, (uint8_t)sep) < 0) ||
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

/* Whether key is the derived precision of a date field of kind ("date_precision"). */
static int
record_json_precision(const char *kind, const char *key)
{
	const char *const *f = kind != NULL ? record_fields(kind) : NULL;
	size_t n = strlen(key);

	if (f == NULL || n <= 10 || strcmp(key + n - 10, "_precision") != 0)
		return 0;
	for (; *f != NULL; f++)
		if (strlen(*f) == n - 10 && strncmp(*f, key, n - 10) == 0)
			return 1;
	return 0;
}

/* Fields whose canonical value is a number, a boolean, an array of words. */
static int
record_json_is(const char *key, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

static const char *const record_json_integers[] = { "age", "birth_year", "height_cm", NULL };
static const char *const record_json_booleans[] = { "date_of_death_estimated",
    "date_estimated", NULL };
static const char *const record_json_arrays[] = { "categories", "consent", NULL };

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
	char **owned = NULL;
	size_t n = 0, nowned = 0, cap, start = probs->n, i;
	json_t *v, *rec = NULL;
	int error = 0;

	*out = NULL;
	if (!json_is_object(fields)) {
		if ((error = record_problems_add(probs, NULL, "not a JSON object")) < 0)
			return error;
		return custody_fail(CUSTODY_EINVAL, "record is not a JSON object");
	}
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
		} else if (record_json_precision(kind, key))
			continue;	/* derived: made again from the date */
		else if (json_is_null(v))
			continue;
		else if (json_is_string(v)) {
			s = json_string_value(v);
			if (strlen(s) != json_string_length(v)) {
				error = record_problems_add(probs, key, "contains a NUL byte");
				s = NULL;
			}
		} else if (json_is_integer(v) && record_json_is(key, record_json_integers)) {
			if (asprintf(&owned[nowned], "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v)) < 0) {
				owned[nowned] = NULL;
				error = CUSTODY_ENOMEM;
			} else
				s = owned[nowned++];
		} else if (json_is_boolean(v) && record_json_is(key, record_json_booleans))
			s = json_is_true(v) ? "true" : "false";
		else if (json_is_array(v) && record_json_is(key, record_json_arrays)) {
			if ((owned[nowned] = record_json_words(probs, key, v, &error)) != NULL)
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
