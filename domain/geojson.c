/* Site geometries: GeoJSON Polygon and MultiPolygon, checked with jansson. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "custody/common.h"
#include "custody/geojson.h"

/* Where the walk is, for the message of a problem. */
struct geojson_walk {
	char	*why;
	size_t	 whylen;
	size_t	 positions;
	size_t	 polygon;	/* 1-based in a MultiPolygon, 0 in a Polygon */
};

/* Say why (printf-style) and return CUSTODY_EINVAL. */
static int
geojson_fail(struct geojson_walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
geojson_fail(struct geojson_walk *w, const char *fmt, ...)
{
	char msg[160], where[48] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (w->polygon > 0)
		snprintf(where, sizeof where, "polygon %zu: ", w->polygon);
	snprintf(w->why, w->whylen, "%s%s", where, msg);
	return CUSTODY_EINVAL;
}

/* Check one position (ring r, position p, both 1-based) [lon, lat(, alt)]. */
static int
geojson_position(struct geojson_walk *w, const json_t *pos, size_t r, size_t p)
{
	double lon, lat;
	size_t i;

	if (!json_is_array(pos) || json_array_size(pos) < 2 || json_array_size(pos) > 3)
		return geojson_fail(w, "ring %zu position %zu is not [longitude, latitude]", r, p);
	for (i = 0; i < json_array_size(pos); i++)
		if (!json_is_number(json_array_get(pos, i)) ||
		    !isfinite(json_number_value(json_array_get(pos, i))))
			return geojson_fail(w, "ring %zu position %zu holds a non-number", r, p);
	lon = json_number_value(json_array_get(pos, 0));
	lat = json_number_value(json_array_get(pos, 1));
	if (lon < -180 || lon > 180)
		return geojson_fail(w, "ring %zu position %zu: longitude %g is not between -180"
		    " and 180", r, p, lon);
	if (lat < -90 || lat > 90)
		return geojson_fail(w, "ring %zu position %zu: latitude %g is not between -90"
		    " and 90", r, p, lat);
	if (++w->positions > GEOJSON_POSITIONS_MAX)
		return geojson_fail(w, "more than %d positions", GEOJSON_POSITIONS_MAX);
	return 0;
}

/* Are two checked positions the same point? */
static int
geojson_same(const json_t *a, const json_t *b)
{
	size_t i;

	if (json_array_size(a) != json_array_size(b))
		return 0;
	for (i = 0; i < json_array_size(a); i++)
		if (json_number_value(json_array_get(a, i)) !=
		    json_number_value(json_array_get(b, i)))
			return 0;
	return 1;
}

/* Check the coordinates of one polygon: an array of closed linear rings. */
static int
geojson_polygon(struct geojson_walk *w, const json_t *rings)
{
	const json_t *ring;
	size_t r, p, n;
	int error;

	if (!json_is_array(rings) || json_array_size(rings) == 0)
		return geojson_fail(w, "a polygon is a non-empty array of linear rings");
	json_array_foreach(rings, r, ring) {
		if (!json_is_array(ring) || (n = json_array_size(ring)) < 4)
			return geojson_fail(w, "ring %zu has fewer than 4 positions", r + 1);
		for (p = 0; p < n; p++)
			if ((error = geojson_position(w, json_array_get(ring, p), r + 1,
			    p + 1)) < 0)
				return error;
		if (!geojson_same(json_array_get(ring, 0), json_array_get(ring, n - 1)))
			return geojson_fail(w, "ring %zu is not closed (its first and last"
			    " positions differ)", r + 1);
	}
	return 0;
}

/* Check a geometry object and keep its type and coordinates. */
int
geojson_geometry(json_t **out, char *why, size_t whylen, const char *text, size_t len)
{
	struct geojson_walk w = { .why = why, .whylen = whylen };
	const char *type, *key;
	json_t *doc, *coords, *v, *poly;
	json_error_t jerr;
	size_t i;
	int error = 0;

	*out = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return geojson_fail(&w, "not JSON (%s at character %d)", jerr.text,
		    jerr.position);
	if (!json_is_object(doc)) {
		error = geojson_fail(&w, "not a GeoJSON geometry object");
		goto done;
	}
	json_object_foreach(doc, key, v)
		if (strcmp(key, "type") != 0 && strcmp(key, "coordinates") != 0 &&
		    strcmp(key, "bbox") != 0) {
			error = geojson_fail(&w, "unexpected member \"%.32s\"", key);
			goto done;
		}
	type = json_string_value(json_object_get(doc, "type"));
	coords = json_object_get(doc, "coordinates");
	if (type == NULL || (strcmp(type, "Polygon") != 0 && strcmp(type, "MultiPolygon") != 0)) {
		error = geojson_fail(&w, "type is not Polygon or MultiPolygon");
		goto done;
	}
	if (strcmp(type, "Polygon") == 0)
		error = geojson_polygon(&w, coords);
	else if (!json_is_array(coords) || json_array_size(coords) == 0)
		error = geojson_fail(&w, "a MultiPolygon's coordinates are a non-empty array of"
		    " polygons");
	else
		json_array_foreach(coords, i, poly) {
			w.polygon = i + 1;
			if ((error = geojson_polygon(&w, poly)) < 0)
				break;
		}
	if (error < 0)
		goto done;
	if ((*out = json_pack("{s:s,s:O}", "type", type, "coordinates", coords)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	json_decref(doc);
	return error;
}
