/* Casualty records: the fields of each kind, their checks, and the canonical JSON they become. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/ids.h"
#include "custody/records.h"
#include "records-int.h"

#define RECORD_TEXT_MAX		65536	/* bytes of one field */
#define RECORD_ID_MAX		IDS_RECORD_MAX
#define RECORD_FIELDS_MAX	32
#define RECORD_COLUMN_MAX	128	/* bytes of a column name quoted in a problem */
#define RECORD_MESSAGE_MAX	512

struct record_kind {
	const char			*name;
	const struct record_field	*fields;
	const char *const		*names;
	size_t				 n;
};

static const char *const record_sexes[] = { "male", "female", "unknown", NULL };
static const char *const record_age_groups[] = { "child", "adult", "unknown", NULL };
static const char *const record_statuses[] = { "civilian", "combatant", "unknown", NULL };
static const char *const record_dna_references[] = { "none", "collected", "submitted", NULL };
static const char *const record_site_types[] = { "mass_grave", "detention_facility",
    "execution_site", "crime_scene", "cultural_site", "mine_area", "other", NULL };
static const char *const record_site_statuses[] = { "reported", "verified", "secured",
    "marked", "exhumed", "disturbed", "destroyed", NULL };
#define record_event_types record_event_type_names
const char *const record_event_type_names[] = { "last_seen", "arrest", "abduction",
    "transfer", "seen_in_custody", "inquiry", "denial", "release", "death_in_custody",
    "remains_found", "identified", NULL };
/* The canonical array of a person's consent follows this order. */
const char *const record_consent_classes[] = { "icmp", "iiim", "coi", "wgeid", "icrc",
    "prosecutors", "public", NULL };
/* In sorted order: the canonical array follows it. */
static const char *const record_categories[] = { "civil_defense", "media", "medical", NULL };

/* The rows of the field table (custody/records.h) as this file checks them. */
#define RECORD_ROW(name, option, type, words, required, usage) { #name, type, words, required },
#define RECORD_NAME(name, option, type, words, required, usage) #name,

static const struct record_field record_victim[] = {
	{ "id", RT_ID, NULL, RECORD_VICTIM_ID_REQUIRED },
	RECORD_VICTIM_FIELDS(RECORD_ROW)
};
static const char *const record_victim_names[] = {
	"id", RECORD_VICTIM_FIELDS(RECORD_NAME) NULL
};
static const struct record_field record_incident[] = {
	{ "id", RT_ID, NULL, RECORD_INCIDENT_ID_REQUIRED },
	RECORD_INCIDENT_FIELDS(RECORD_ROW)
};
static const char *const record_incident_names[] = {
	"id", RECORD_INCIDENT_FIELDS(RECORD_NAME) NULL
};
static const struct record_field record_source[] = {
	{ "id", RT_ID, NULL, RECORD_SOURCE_ID_REQUIRED },
	RECORD_SOURCE_FIELDS(RECORD_ROW)
};
static const char *const record_source_names[] = {
	"id", RECORD_SOURCE_FIELDS(RECORD_NAME) NULL
};

static const struct record_field record_person[] = {
	{ "id", RT_ID, NULL, RECORD_PERSON_ID_REQUIRED },
	RECORD_PERSON_FIELDS(RECORD_ROW)
};
static const char *const record_person_names[] = {
	"id", RECORD_PERSON_FIELDS(RECORD_NAME) NULL
};
static const struct record_field record_person_event[] = {
	{ "id", RT_ID, NULL, RECORD_PERSON_EVENT_ID_REQUIRED },
	RECORD_PERSON_EVENT_FIELDS(RECORD_ROW)
};
static const char *const record_person_event_names[] = {
	"id", RECORD_PERSON_EVENT_FIELDS(RECORD_NAME) NULL
};
static const struct record_field record_site[] = {
	{ "id", RT_ID, NULL, RECORD_SITE_ID_REQUIRED },
	RECORD_SITE_FIELDS(RECORD_ROW)
};
static const char *const record_site_names[] = {
	"id", RECORD_SITE_FIELDS(RECORD_NAME) NULL
};

#define KIND(n, f, names) { n, f, names, sizeof f / sizeof f[0] }
static const struct record_kind record_kinds[] = {
	KIND("victim", record_victim, record_victim_names),
	KIND("incident", record_incident, record_incident_names),
	KIND("source", record_source, record_source_names),
	KIND("person", record_person, record_person_names),
	KIND("person_event", record_person_event, record_person_event_names),
	KIND("site", record_site, record_site_names),
};


/* The kind named name, or NULL. */
static const struct record_kind *
record_kind_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof record_kinds / sizeof record_kinds[0]; i++)
		if (strcmp(record_kinds[i].name, name) == 0)
			return &record_kinds[i];
	return NULL;
}

/* The index of field name in k, or -1. */
static int
record_field_find(const struct record_kind *k, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < k->n; i++)
		if (strcmp(k->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * The index of the field named name in k, for column col of a row: the field found for that
 * column of the last row of the kind on this thread is tried first (a CSV file names the same
 * columns in every row), checked with one strcmp, instead of a strcmp per field of the kind.
 */
static int
record_field_column(const struct record_kind *k, size_t col, const char *name)
{
	static _Thread_local unsigned char guess[sizeof record_kinds /
	    sizeof record_kinds[0]][RECORD_FIELDS_MAX];	/* field + 1, 0 none */
	unsigned char *g = guess[k - record_kinds];
	int j;

	if (col < RECORD_FIELDS_MAX && name != NULL && g[col] > 0 &&
	    strcmp(k->fields[g[col] - 1].name, name) == 0)
		return g[col] - 1;
	j = record_field_find(k, name);
	if (col < RECORD_FIELDS_MAX)
		g[col] = (unsigned char)(j + 1);
	return j;
}

/* The length of the well-formed UTF-8 sequence at s (code point in *cp), or 0. */
static size_t
record_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* True for a control character (C0, DEL, C1). */
static int
record_is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* A printable copy of at most max bytes of s: bad bytes and controls as \xNN. */
static char *
record_printable(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	struct cbuf b = { 0 };
	size_t n = strlen(s), k;
	uint32_t c;

	if (cbuf_reserve(&b, 1) < 0)
		return NULL;
	while (n > 0 && b.len < max) {
		k = record_utf8_next(p, n, &c);
		if (k == 0 || record_is_control(c)) {
			if (cbuf_printf(&b, "\\x%02x", *p) < 0)
				goto fail;
			k = 1;
		} else if (cbuf_put(&b, p, k) < 0)
			goto fail;
		p += k;
		n -= k;
	}
	if (n > 0 && cbuf_puts(&b, "...") < 0)
		goto fail;
	return cbuf_detach(&b);
fail:
	cbuf_free(&b);
	return NULL;
}

/* Append one problem; column and message made printable. */
int
record_problems_add(struct record_problems *probs, const char *column, const char *fmt, ...)
{
	struct record_problem *v;
	char msg[RECORD_MESSAGE_MAX], *col, *text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	col = record_printable(column ? column : "", RECORD_COLUMN_MAX);
	text = record_printable(msg, sizeof msg);
	if (col == NULL || text == NULL ||
	    (v = reallocarray(probs->v, probs->n + 1, sizeof *v)) == NULL) {
		free(col);
		free(text);
		return CUSTODY_ENOMEM;
	}
	probs->v = v;
	v[probs->n].column = col;
	v[probs->n].problem = text;
	probs->n++;
	return 0;
}

/* Free every problem; probs is left empty. NULL is fine. */
void
record_problems_free(struct record_problems *probs)
{
	size_t i;

	if (probs == NULL)
		return;
	for (i = 0; i < probs->n; i++) {
		free(probs->v[i].column);
		free(probs->v[i].problem);
	}
	free(probs->v);
	probs->v = NULL;
	probs->n = 0;
}

/* The field names of a kind. */
const char *const *
record_fields(const char *kind)
{
	const struct record_kind *k = record_kind_find(kind);

	return k ? k->names : NULL;
}

/* Is the field a vocabulary word? */
int
record_field_vocab(const char *kind, const char *field)
{
	const struct record_kind *k = record_kind_find(kind);
	int i = k != NULL ? record_field_find(k, field) : -1;

	return i >= 0 && k->fields[i].type == RT_VOCAB;
}

/* Check a list of column names against a kind. */
int
record_header_check(struct record_problems *probs, const char *kind,
    const char *const *names, size_t n)
{
	const struct record_kind *k = record_kind_find(kind);
	unsigned char seen[RECORD_FIELDS_MAX] = { 0 };
	size_t start = probs->n, i;
	char col[32];
	int j, error = 0;

	if (k == NULL)
		return custody_fail(CUSTODY_EINVAL, "no record kind \"%s\"", kind ? kind : "");
	for (i = 0; i < n && error == 0; i++) {
		if (names[i] == NULL || names[i][0] == '\0') {
			snprintf(col, sizeof col, "column %zu", i + 1);
			error = record_problems_add(probs, col, "empty column name");
		}
		else if ((j = record_field_find(k, names[i])) < 0)
			error = record_problems_add(probs, names[i], "unknown column");
		else if (seen[j])
			error = record_problems_add(probs, names[i], "duplicate column");
		else
			seen[j] = 1;
	}
	for (i = 0; i < k->n && error == 0; i++)
		if (k->fields[i].required && !seen[i])
			error = record_problems_add(probs, k->fields[i].name,
			    "missing required column");
	if (error < 0)
		return error;
	return probs->n > start ? CUSTODY_EINVAL : 0;
}

/* Set obj[key] to v (taking it); CUSTODY_ENOMEM when v is NULL or it fails. */
int
record_set(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) < 0)
		return CUSTODY_ENOMEM;
	return 0;
}

/* Check the bytes of a text value: UTF-8, no controls (but tab and line breaks in free text). */
static int
record_text_check(struct record_ctx *x, const struct record_field *f, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), off = 0, k;
	uint32_t c;

	if (n > RECORD_TEXT_MAX)
		return record_problems_add(x->probs, f->name, "longer than %d bytes",
		    RECORD_TEXT_MAX) < 0 ? CUSTODY_ENOMEM : 1;
	while (off < n) {
		if ((k = record_utf8_next(p + off, n - off, &c)) == 0)
			return record_problems_add(x->probs, f->name, "invalid UTF-8 at byte %zu",
			    off + 1) < 0 ? CUSTODY_ENOMEM : 1;
		if (record_is_control(c) && !(f->type == RT_FREE &&
		    (c == '\n' || c == '\r' || c == '\t')))
			return record_problems_add(x->probs, f->name, "%s at byte %zu",
			    c == '\n' || c == '\r' ? "line break not allowed" :
			    "control character", off + 1) < 0 ? CUSTODY_ENOMEM : 1;
		off += k;
	}
	return 0;
}

/* A lower-cased NUL-terminated copy of n bytes into buf (RECORD_WORD_MAX + 1); 0 if too long. */
int
record_word(char *buf, const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > RECORD_WORD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[n] = '\0';
	return 1;
}

/* The word in the NULL-terminated list equal to w, or NULL. */
static const char *
record_enum_find(const char *const *list, const char *w)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, w) == 0)
			return *list;
	return NULL;
}

/* Check "a;b;c" categories and store them as a sorted, deduplicated array. */
static int
record_categories_set(struct record_ctx *x, const struct record_field *f, const char *s,
    size_t n)
{
	char w[RECORD_WORD_MAX + 1];
	const char *tok = s, *end = s + n, *sep;
	unsigned seen = 0, bad = 0;
	size_t len, i;
	json_t *a;

	while (tok <= end) {
		if ((sep = memchr(tok, ';', (size_t)(end - tok))) == NULL)
			sep = end;
		while (tok < sep && (*tok == ' ' || *tok == '\t'))
			tok++;
		len = (size_t)(sep - tok);
		while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			len--;
		if (len > 0) {
			for (i = 0; record_categories[i] != NULL; i++)
				if (record_word(w, tok, len) &&
				    strcmp(w, record_categories[i]) == 0)
					break;
			if (record_categories[i] != NULL)
				seen |= 1u << i;
			else if (record_problems_add(x->probs, f->name, "unknown category "
			    "\"%.*s%s\" (civil_defense, media, medical)",
			    (int)(len <= RECORD_WORD_MAX ? len : RECORD_WORD_MAX), tok,
			    len <= RECORD_WORD_MAX ? "" : "...") < 0)
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
	for (i = 0; record_categories[i] != NULL; i++)
		if ((seen & (1u << i)) &&
		    json_array_append_new(a, json_string(record_categories[i])) < 0) {
			json_decref(a);
			return CUSTODY_ENOMEM;
		}
	return record_set(x->obj, f->name, a);
}

/* Check and store a date (with NAME_precision unless day precision is required). */
static int
record_date_set(struct record_ctx *x, const struct record_field *f, const char *s, size_t n)
{
	char buf[16], key[64];
	struct cdate d;
	int error;

	if (n >= sizeof buf)
		return record_problems_add(x->probs, f->name,
		    "not a date (YYYY-MM-DD, YYYY-MM or YYYY)");
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (cdate_parse(&d, buf) < 0)
		return record_problems_add(x->probs, f->name, "%s", custody_error());
	if (f->type == RT_DAY && d.precision != DATE_DAY)
		return record_problems_add(x->probs, f->name, "must be a full date (YYYY-MM-DD)");
	if ((error = record_set(x->obj, f->name, json_string(buf))) < 0)
		return error;
	if (strcmp(f->name, "date_of_death") == 0 || strcmp(f->name, "date") == 0) {
		x->death = d;
		x->have_death = 1;
	} else if (strcmp(f->name, "date_documented") == 0) {
		x->documented = d;
		x->have_documented = 1;
	}
	if (f->type == RT_DAY)
		return 0;
	snprintf(key, sizeof key, "%s_precision", f->name);
	return record_set(x->obj, key, json_string(cdate_precision_name(d.precision)));
}

/* Check one given value of field f and store it. */
static int
record_field_set(struct record_ctx *x, const struct record_field *f, const char *v)
{
	char w[RECORD_WORD_MAX + 1], list[200];
	const char *s = v, *word;
	size_t n, i;
	long age;
	int error;

	if ((error = record_text_check(x, f, v)) != 0)
		return error < 0 ? error : 0;
	n = strlen(s);
	if (f->type != RT_FREE) {
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
	} else if (strspn(s, " \t\r\n") == n)
		n = 0;
	if (n == 0)
		return 1;		/* blank: not given */

	switch (f->type) {
	case RT_ID:
		if (!ids_record_ok(s, n))
			return record_problems_add(x->probs, f->name, "not an id ([A-Za-z0-9._:-],"
			    " 1-%d characters, not starting with . or -)", RECORD_ID_MAX);
		return record_set(x->obj, f->name, json_stringn(s, n));
	case RT_TEXT:
	case RT_FREE:
		return record_set(x->obj, f->name, json_stringn(s, n));
	case RT_ENUM:
		if (!record_word(w, s, n) || (word = record_enum_find(f->words, w)) == NULL)
			return record_problems_add(x->probs, f->name, "not one of %s",
			    record_enum_text(list, sizeof list, f->words));
		if (f->words == record_age_groups) {
			x->age_group = word;
			return 0;
		}
		return record_set(x->obj, f->name, json_string(word));
	case RT_BOOL:
		if (!record_word(w, s, n) || (strcmp(w, "true") != 0 && strcmp(w, "false") != 0))
			return record_problems_add(x->probs, f->name, "not true or false");
		return record_set(x->obj, f->name, json_boolean(w[0] == 't'));
	case RT_AGE:
		for (i = 0, age = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				break;
			if (age <= 1000)
				age = age * 10 + (s[i] - '0');
		}
		if (i < n || age > 130)
			return record_problems_add(x->probs, f->name,
			    "not an age (a whole number of years, 0-130)");
		x->age = age;
		return record_set(x->obj, f->name, json_integer(age));
	case RT_CATEGORIES:
		return record_categories_set(x, f, s, n);
	case RT_DATE:
	case RT_DAY:
		return record_date_set(x, f, s, n);
	case RT_VOCAB:
		if (!record_word(w, s, n) || !vocab_has(x->vocab, f->name, w))
			return record_problems_add(x->probs, f->name, "unknown %s \"%.*s%s\"",
			    f->name, (int)(n <= RECORD_WORD_MAX ? n : RECORD_WORD_MAX), s,
			    n <= RECORD_WORD_MAX ? "" : "...");
		return record_set(x->obj, f->name, json_string(w));
	case RT_YEAR:
		if ((age = record_number(s, n)) < 1880 || age > 2100 || n != 4)
			return record_problems_add(x->probs, f->name,
			    "not a year (YYYY, 1880-2100)");
		return record_set(x->obj, f->name, json_integer(age));
	case RT_HEIGHT:
		if ((age = record_number(s, n)) < 30 || age > 250)
			return record_problems_add(x->probs, f->name,
			    "not a height (whole centimetres, 30-250)");
		return record_set(x->obj, f->name, json_integer(age));
	case RT_CONSENT:
		return record_consent_set(x, f, s, n);
	case RT_LAT:
		return record_degrees_set(x, f, s, n, 90);
	case RT_LON:
		return record_degrees_set(x, f, s, n, 180);
	case RT_GEOJSON:
		return record_geometry_set(x, f, s, n);
	}
	return 0;
}

/* The victim's derived fields: defaults, age group from age, dates in order. */
static int
record_victim_derive(struct record_ctx *x)
{
	const char *group = x->age_group ? x->age_group : "unknown";
	int error;

	if (json_object_get(x->obj, "sex") == NULL &&
	    (error = record_set(x->obj, "sex", json_string("unknown"))) < 0)
		return error;
	if (json_object_get(x->obj, "status") == NULL &&
	    (error = record_set(x->obj, "status", json_string("civilian"))) < 0)
		return error;
	if (x->age >= 0) {
		group = x->age < 18 ? "child" : "adult";
		if (x->age_group != NULL && strcmp(x->age_group, "unknown") != 0 &&
		    strcmp(x->age_group, group) != 0 &&
		    (error = record_problems_add(x->probs, "age_group", "%s contradicts age %ld",
		    x->age_group, x->age)) < 0)
			return error;
	}
	if (x->have_death && x->have_documented &&
	    strcmp(x->death.first, x->documented.first) > 0 &&
	    (error = record_problems_add(x->probs, "date_of_death", "after date_documented "
	    "(%s)", x->documented.first)) < 0)
		return error;
	return record_set(x->obj, "age_group", json_string(group));
}

/* Build the canonical record of a kind from names and values; problems are appended. */
int
record_from_fields(json_t **out, struct record_problems *probs, const struct vocab *vocab,
    const char *kind, const char *const *names, const char *const *values, size_t n)
{
	const struct record_kind *k;
	const char *val[RECORD_FIELDS_MAX] = { 0 };
	unsigned char seen[RECORD_FIELDS_MAX] = { 0 }, given[RECORD_FIELDS_MAX] = { 0 };
	struct record_ctx x = { 0 };
	size_t start = probs->n, i;
	int j, error = 0;

	*out = NULL;
	if ((k = record_kind_find(kind)) == NULL) {
		if ((error = record_problems_add(probs, "kind", "no record kind \"%s\"",
		    kind ? kind : "")) < 0)
			return error;
		return custody_fail(CUSTODY_EINVAL, "no record kind \"%s\"", kind ? kind : "");
	}
	x.probs = probs;
	x.start = probs->n;
	x.vocab = vocab;
	x.age = -1;
	if ((x.obj = json_object()) == NULL ||
	    (error = record_set(x.obj, "kind", json_string(k->name))) < 0 ||
	    (error = record_set(x.obj, "id", json_string(""))) < 0)
		goto fail;

	for (i = 0; i < n; i++) {
		if ((j = record_field_column(k, i, names[i])) < 0)
			error = record_problems_add(probs, names[i] ? names[i] : "",
			    "unknown field");
		else if (seen[j])
			error = record_problems_add(probs, names[i], "given twice");
		else {
			seen[j] = 1;
			val[j] = values ? values[i] : NULL;
		}
		if (error < 0)
			goto fail;
	}
	for (i = 0; i < k->n; i++) {
		if (val[i] == NULL || val[i][0] == '\0')
			continue;
		if ((error = record_field_set(&x, &k->fields[i], val[i])) < 0)
			goto fail;
		given[i] = error == 0;
		error = 0;
	}
	for (i = 0; i < k->n; i++)
		if (k->fields[i].required && !given[i] &&
		    (error = record_problems_add(probs, k->fields[i].name, "required")) < 0)
			goto fail;
	if (k->fields == record_victim && (error = record_victim_derive(&x)) < 0)
		goto fail;
	if (k->fields == record_person && (error = record_person_derive(&x)) < 0)
		goto fail;
	if (k->fields == record_person_event && (error = record_person_event_derive(&x)) < 0)
		goto fail;
	if (k->fields == record_site && (error = record_site_derive(&x)) < 0)
		goto fail;

	if (probs->n > start) {
		error = custody_fail(CUSTODY_EINVAL, "%s: %s", probs->v[start].column,
		    probs->v[start].problem);
		goto fail;
	}
	*out = x.obj;
	return 0;
fail:
	json_decref(x.obj);
	return error < 0 ? error : CUSTODY_EINVAL;
}

