/* The checks of the persons, person events and sites: consent, coordinates, geometry, events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/geojson.h"
#include "records-int.h"

/* The words of a list as "a, b, c" in buf. */
const char *
record_enum_text(char *buf, size_t len, const char *const *words)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; *words != NULL && off < len; words++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", *words);
	return buf;
}

/*
 * Check "a,b" consent classes (";" separates them too, as the client's CSV output writes
 * arrays) and store them as an array in the classes' order.
 */
int
record_consent_set(struct record_ctx *x, const struct record_field *f, const char *s,
    size_t n)
{
	char w[RECORD_WORD_MAX + 1], list[160];
	const char *tok = s, *end = s + n, *sep;
	unsigned seen = 0, bad = 0;
	size_t len, i;
	json_t *a;

	while (tok <= end) {
		for (sep = tok; sep < end && *sep != ',' && *sep != ';'; sep++)
			;
		while (tok < sep && (*tok == ' ' || *tok == '\t'))
			tok++;
		len = (size_t)(sep - tok);
		while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			len--;
		if (len > 0) {
			for (i = 0; record_consent_classes[i] != NULL; i++)
				if (record_word(w, tok, len) &&
				    strcmp(w, record_consent_classes[i]) == 0)
					break;
			if (record_consent_classes[i] != NULL)
				seen |= 1u << i;
			else if (record_problems_add(x->probs, f->name, "unknown consent class "
			    "\"%.*s%s\" (%s)", (int)(len <= RECORD_WORD_MAX ? len :
			    RECORD_WORD_MAX), tok, len <= RECORD_WORD_MAX ? "" : "...",
			    record_enum_text(list, sizeof list, record_consent_classes)) < 0)
				return CUSTODY_ENOMEM;
			else
				bad = 1;
		}
		tok = sep + 1;
	}
	if (bad || seen == 0)
		return 0;
	if ((a = json_array()) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; record_consent_classes[i] != NULL; i++)
		if ((seen & (1u << i)) &&
		    json_array_append_new(a, json_string(record_consent_classes[i])) < 0) {
			json_decref(a);
			return CUSTODY_ENOMEM;
		}
	return record_set(x->obj, f->name, a);
}

/* A whole number of at most 9 digits, or -1. */
long
record_number(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Check a latitude or longitude in decimal degrees ([+-]D[.D], at most 12 decimals, within
 * max) and store it as given, without a leading '+'.
 */
int
record_degrees_set(struct record_ctx *x, const struct record_field *f, const char *s,
    size_t n, double max)
{
	char buf[32];
	size_t i = 0, ints = 0, decs = 0;
	double v;

	if (n > 1 && s[0] == '+' && s[1] != '-')
		s++, n--;
	if (n < sizeof buf && n > 0 && s[0] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		ints++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			decs++;
	if (n >= sizeof buf || i != n || ints == 0 || ints > 3 || decs > 12 ||
	    s[n - 1] == '.')
		return record_problems_add(x->probs, f->name, "not decimal degrees (like %s)",
		    max == 90 ? "36.2021" : "37.1343");
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtod(buf, NULL);
	if (v < -max || v > max)
		return record_problems_add(x->probs, f->name, "%s is not between %g and %g "
		    "(WGS84 %s)", buf, -max, max, max == 90 ? "latitude" : "longitude");
	if (max == 90)
		x->have_lat = 1;
	else
		x->have_lon = 1;
	return record_set(x->obj, f->name, json_string(buf));
}

/* Check a GeoJSON Polygon or MultiPolygon and store it as compact canonical JSON text. */
int
record_geometry_set(struct record_ctx *x, const struct record_field *f, const char *s,
    size_t n)
{
	char why[256], *text;
	json_t *g;
	int error;

	if ((error = geojson_geometry(&g, why, sizeof why, s, n)) < 0)
		return error == CUSTODY_EINVAL ? record_problems_add(x->probs, f->name, "%s",
		    why) : error;
	text = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	json_decref(g);
	if (text == NULL)
		return CUSTODY_ENOMEM;
	error = record_set(x->obj, f->name, json_string(text));
	free(text);
	return error;
}

/* Whether the record already has a problem with column (given, but not valid). */
static int
record_has_problem(const struct record_ctx *x, const char *column)
{
	size_t i;

	for (i = x->start; i < x->probs->n; i++)
		if (strcmp(x->probs->v[i].column, column) == 0)
			return 1;
	return 0;
}

/* Set field to word unless it was given. */
static int
record_default(struct record_ctx *x, const char *field, const char *word)
{
	if (json_object_get(x->obj, field) != NULL)
		return 0;
	return record_set(x->obj, field, json_string(word));
}

/* The age group of a victim or person: from the age when given, else as given. */
static int
record_age_derive(struct record_ctx *x)
{
	const char *group = x->age_group ? x->age_group : "unknown";
	int error;

	if (x->age >= 0) {
		group = x->age < 18 ? "child" : "adult";
		if (x->age_group != NULL && strcmp(x->age_group, "unknown") != 0 &&
		    strcmp(x->age_group, group) != 0 &&
		    (error = record_problems_add(x->probs, "age_group", "%s contradicts age %ld",
		    x->age_group, x->age)) < 0)
			return error;
	}
	return record_set(x->obj, "age_group", json_string(group));
}

/* A person's derived fields: sex unknown unless given, age group from age. */
int
record_person_derive(struct record_ctx *x)
{
	int error;

	if ((error = record_default(x, "sex", "unknown")) < 0)
		return error;
	return record_age_derive(x);
}

/* An event's checks across fields: its party where the type needs one, dates in order. */
int
record_person_event_derive(struct record_ctx *x)
{
	const char *type = json_string_value(json_object_get(x->obj, "type"));
	int error;

	if (type != NULL && record_event_needs_party(type) &&
	    json_object_get(x->obj, "party") == NULL && !record_has_problem(x, "party") &&
	    (error = record_problems_add(x->probs, "party", "required for a%s %s event",
	    strchr("aeiou", type[0]) ? "n" : "", type)) < 0)
		return error;
	if (x->have_death && x->have_documented &&
	    strcmp(x->death.first, x->documented.first) > 0 &&
	    (error = record_problems_add(x->probs, "date", "after date_documented (%s)",
	    x->documented.first)) < 0)
		return error;
	return 0;
}

/* A site's checks across fields: lat and lon together, status reported unless given. */
int
record_site_derive(struct record_ctx *x)
{
	int error;

	if (x->have_lat != x->have_lon && !record_has_problem(x, "lat") &&
	    !record_has_problem(x, "lon") &&
	    (error = record_problems_add(x->probs, x->have_lat ? "lon" : "lat",
	    "required with %s", x->have_lat ? "lat" : "lon")) < 0)
		return error;
	return record_default(x, "status", "reported");
}

/* Must an event of type name its party? */
int
record_event_needs_party(const char *type)
{
	return strcmp(type, "arrest") == 0 || strcmp(type, "abduction") == 0 ||
	    strcmp(type, "transfer") == 0 || strcmp(type, "death_in_custody") == 0;
}
