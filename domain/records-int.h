/*
 * What domain/records.c shares with the checks of the persons, person events and sites
 * (records-persons.c): the field types, the state of one record's check, and the helpers both
 * use. Internal to domain/.
 */
#ifndef CUSTODY_RECORDS_INT_H
#define CUSTODY_RECORDS_INT_H

#include "custody/records.h"

#define RECORD_WORD_MAX		64	/* longest vocabulary or enumeration word */

enum record_type {
	RT_ID,		/* an archive id */
	RT_TEXT,	/* one line of text */
	RT_FREE,	/* free text: line breaks and tabs allowed */
	RT_ENUM,	/* one of words */
	RT_BOOL,	/* true or false */
	RT_AGE,		/* 0-130 */
	RT_CATEGORIES,	/* ";"-separated categories */
	RT_DATE,	/* a cdate of any precision, stored with NAME_precision */
	RT_DAY,		/* a cdate of day precision */
	RT_VOCAB,	/* a word of the vocabulary named like the field */
	RT_YEAR,	/* a year, 1880-2100 */
	RT_HEIGHT,	/* centimetres, 30-250 */
	RT_CONSENT,	/* ","-separated consent classes */
	RT_LAT,		/* WGS84 latitude, decimal degrees */
	RT_LON,		/* WGS84 longitude, decimal degrees */
	RT_GEOJSON,	/* a GeoJSON Polygon or MultiPolygon (geojson.h) */
};

struct record_field {
	const char		*name;
	enum record_type	 type;
	const char *const	*words;		/* RT_ENUM */
	int			 required;
};

/* What the checks of one record share. */
struct record_ctx {
	json_t			*obj;
	struct record_problems	*probs;
	const struct vocab	*vocab;
	long			 age;		/* -1 when not given */
	const char		*age_group;	/* as given, NULL when not given */
	struct cdate		 death, documented;
	int			 have_death, have_documented;
	int			 have_lat, have_lon;
	size_t			 start;		/* the record's first problem in probs */
};

/* Set obj[key] to v (taking it); CUSTODY_ENOMEM when v is NULL or it fails. */
int record_set(json_t *obj, const char *key, json_t *v);
/* A lower-cased NUL-terminated copy of n bytes into buf (RECORD_WORD_MAX + 1); 0 if too long. */
int record_word(char *buf, const char *s, size_t n);

/* records-persons.c: the words of a list as "a, b, c" in buf (len bytes). */
const char *record_enum_text(char *buf, size_t len, const char *const *words);
/* A whole number of at most 9 digits, or -1. */
long record_number(const char *s, size_t n);
/*
 * The setters of the field types: check the n bytes at s (trimmed, not blank) and store the
 * value, or add a problem. 0 either way; CUSTODY_ENOMEM.
 */
int record_consent_set(struct record_ctx *, const struct record_field *, const char *s,
    size_t n);
int record_degrees_set(struct record_ctx *, const struct record_field *, const char *s,
    size_t n, double max);
int record_geometry_set(struct record_ctx *, const struct record_field *, const char *s,
    size_t n);
/* The checks across the fields of a person, a person event, a site. */
int record_person_derive(struct record_ctx *);
int record_person_event_derive(struct record_ctx *);
int record_site_derive(struct record_ctx *);

#endif
