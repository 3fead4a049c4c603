/*
 * Site geometries: a GeoJSON (RFC 7946) Polygon or MultiPolygon given as text, checked and
 * made canonical. Used by the record checks (domain/records.c) for a site's geometry.
 */
#ifndef CUSTODY_GEOJSON_H
#define CUSTODY_GEOJSON_H

#include <stddef.h>

#include <jansson.h>

#define GEOJSON_POSITIONS_MAX	20000	/* positions in one geometry */

/*
 * Parse len bytes of text (jansson, duplicate members refused) as a GeoJSON geometry object
 * of type "Polygon" or "MultiPolygon": every linear ring an array of at least 4 positions
 * whose first and last are equal (closed), every position 2 or 3 numbers, longitude -180 to
 * 180 and latitude -90 to 90 (WGS84), at most GEOJSON_POSITIONS_MAX positions. Members other
 * than "type", "coordinates" and "bbox" are refused.
 *
 * Returns 0 with *out the canonical geometry (a new object holding only "type" and
 * "coordinates"), or CUSTODY_EINVAL with why (a NUL-terminated sentence, at most whylen
 * bytes, naming the polygon, ring and position) and *out NULL; CUSTODY_ENOMEM.
 */
int geojson_geometry(json_t **out, char *why, size_t whylen, const char *text, size_t len);

#endif
