/*
 * Casualty records as they cross boundaries (CSV files, the socket, feeds, dossiers): the
 * fields of victims, incidents and sources, their validation against the vocabularies, and the
 * canonical JSON each becomes. Used by the client (to report FILE:LINE errors before sending)
 * and by the daemon (which validates again: it trusts no client).
 */
#ifndef CUSTODY_RECORDS_H
#define CUSTODY_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "custody/common.h"

/* Vocabularies: the allowed values of party, governorate and cause (lower-case words). */
struct vocab {
	char	**party;
	size_t	  nparty;
	char	**governorate;
	size_t	  ngovernorate;
	char	**cause;
	size_t	  ncause;
};

/* The defaults of the monthly-report issue (party, governorate, cause). */
int vocab_default(struct vocab *);
/* Replace one list ("party", "governorate", "cause") from a comma-separated string. */
int vocab_set(struct vocab *, const char *which, const char *csv);
void vocab_free(struct vocab *);
/* True when word (lower-case) is in the list named which of v; the defaults when v is NULL. */
int vocab_has(const struct vocab *, const char *which, const char *word);

/* A date with its precision: "2024-12-05" (day), "2024-12" (month), "2024" (year). */
enum date_precision { DATE_DAY = 3, DATE_MONTH = 2, DATE_YEAR = 1 };
struct cdate {
	int			 year, month, day;	/* month/day 0 when not known */
	enum date_precision	 precision;
	char			 first[11], last[11];	/* the first and last day it covers */
};
/* Parse and check a real calendar date (leap years, month lengths, years 1900-2100). */
int cdate_parse(struct cdate *, const char *);
/* "day", "month" or "year". */
const char *cdate_precision_name(enum date_precision);
/* The number of days in month m (1-12) of Gregorian year y. */
int cdate_mdays(int y, int m);
/* Exactly n ASCII digits at s as a number, or -1. */
int cdate_digits(const char *s, size_t n);
/* Days from 1970-01-01 to y-m-d (a checked date; proleptic Gregorian, negative before 1970). */
int64_t cdate_days(int y, int m, int d);

/*
 * The one table of record fields, besides the id every kind has first: one row
 * F(NAME, OPTION, TYPE, WORDS, REQUIRED, USAGE) a field, in canonical order.
 *   NAME	the field as an identifier: its JSON member and CSV column is #NAME
 *   OPTION	the client's long option ("date-of-death"); #NAME is accepted as well
 *   TYPE, WORDS	how domain/records.c checks the value (its RT_* types and word lists)
 *   REQUIRED	1 when every record of the kind must have it
 *   USAGE	the client's usage text for it (" [--OPTION VALUE]"), "" for a field the
 *		command's usage line names on its own
 * domain/records.c checks records by it and the client's record commands take their options
 * from it: a field added here is checked, imported from CSV and given on the command line.
 */
#define RECORD_VICTIM_ID_REQUIRED	0
#define RECORD_VICTIM_FIELDS(F) \
	F(name, "name", RT_TEXT, NULL, 0, "") \
	F(sex, "sex", RT_ENUM, record_sexes, 0, " [--sex male|female|unknown]") \
	F(age, "age", RT_AGE, NULL, 0, " [--age N]") \
	F(age_group, "age-group", RT_ENUM, record_age_groups, 0, \
	    " [--age-group child|adult|unknown]") \
	F(status, "status", RT_ENUM, record_statuses, 0, \
	    " [--status civilian|combatant|unknown]") \
	F(categories, "categories", RT_CATEGORIES, NULL, 0, \
	    " [--categories medical;civil_defense;media]") \
	F(date_of_death, "date-of-death", RT_DATE, NULL, 0, " [--date-of-death YYYY[-MM[-DD]]]") \
	F(date_of_death_estimated, "date-of-death-estimated", RT_BOOL, NULL, 0, \
	    " [--date-of-death-estimated true|false]") \
	F(date_documented, "date-documented", RT_DAY, NULL, 1, "") \
	F(governorate, "governorate", RT_VOCAB, NULL, 0, " [--governorate G]") \
	F(area, "area", RT_FREE, NULL, 0, " [--area A]") \
	F(cause, "cause", RT_VOCAB, NULL, 0, " [--cause C]") \
	F(party, "party", RT_VOCAB, NULL, 0, " [--party P]") \
	F(incident_id, "incident-id", RT_ID, NULL, 0, " [--incident-id ID]") \
	F(source_id, "source-id", RT_ID, NULL, 0, " [--source-id ID]") \
	F(notes, "notes", RT_FREE, NULL, 0, " [--notes TEXT]")
#define RECORD_INCIDENT_ID_REQUIRED	1
#define RECORD_INCIDENT_FIELDS(F) \
	F(date, "date", RT_DATE, NULL, 0, " [--date YYYY[-MM[-DD]]]") \
	F(governorate, "governorate", RT_VOCAB, NULL, 0, " [--governorate G]") \
	F(area, "area", RT_FREE, NULL, 0, " [--area A]") \
	F(party, "party", RT_VOCAB, NULL, 0, " [--party P]") \
	F(type, "type", RT_TEXT, NULL, 0, " [--type T]") \
	F(title, "title", RT_FREE, NULL, 0, " [--title TEXT]") \
	F(description, "description", RT_FREE, NULL, 0, " [--description TEXT]")
#define RECORD_SOURCE_ID_REQUIRED	0
#define RECORD_SOURCE_FIELDS(F) \
	F(name, "name", RT_TEXT, NULL, 0, " [--name NAME]") \
	F(contact, "contact", RT_TEXT, NULL, 0, " [--contact TEXT]") \
	F(notes, "notes", RT_FREE, NULL, 0, " [--notes TEXT]")
/* A missing or detained person; reporter and ante-mortem fields are protected (recobj.h). */
#define RECORD_PERSON_ID_REQUIRED	0
#define RECORD_PERSON_FIELDS(F) \
	F(name, "name", RT_TEXT, NULL, 0, "") \
	F(sex, "sex", RT_ENUM, record_sexes, 0, " [--sex male|female|unknown]") \
	F(age, "age", RT_AGE, NULL, 0, " [--age N]") \
	F(age_group, "age-group", RT_ENUM, record_age_groups, 0, \
	    " [--age-group child|adult|unknown]") \
	F(birth_year, "birth-year", RT_YEAR, NULL, 0, " [--birth-year YYYY]") \
	F(governorate, "governorate", RT_VOCAB, NULL, 0, " [--governorate G]") \
	F(area, "area", RT_FREE, NULL, 0, " [--area A]") \
	F(consent, "consent", RT_CONSENT, NULL, 0, \
	    " [--consent icmp,iiim,coi,wgeid,icrc,prosecutors,public]") \
	F(reporter_name, "reporter-name", RT_TEXT, NULL, 0, " [--reporter-name NAME]") \
	F(reporter_relationship, "reporter-relationship", RT_TEXT, NULL, 0, \
	    " [--reporter-relationship R]") \
	F(reporter_contact, "reporter-contact", RT_TEXT, NULL, 0, " [--reporter-contact TEXT]") \
	F(height_cm, "height-cm", RT_HEIGHT, NULL, 0, " [--height-cm N]") \
	F(build, "build", RT_TEXT, NULL, 0, " [--build TEXT]") \
	F(hair, "hair", RT_TEXT, NULL, 0, " [--hair TEXT]") \
	F(eyes, "eyes", RT_TEXT, NULL, 0, " [--eyes TEXT]") \
	F(marks, "marks", RT_FREE, NULL, 0, " [--marks TEXT]") \
	F(dental, "dental", RT_FREE, NULL, 0, " [--dental TEXT]") \
	F(clothing, "clothing", RT_FREE, NULL, 0, " [--clothing TEXT]") \
	F(belongings, "belongings", RT_FREE, NULL, 0, " [--belongings TEXT]") \
	F(dna_reference, "dna-reference", RT_ENUM, record_dna_references, 0, \
	    " [--dna-reference none|collected|submitted]") \
	F(notes, "notes", RT_FREE, NULL, 0, " [--notes TEXT]")
/* What happened to a person, when; the types in the order that breaks ties on one date. */
#define RECORD_PERSON_EVENT_ID_REQUIRED	0
#define RECORD_PERSON_EVENT_FIELDS(F) \
	F(person_id, "person-id", RT_ID, NULL, 1, "") \
	F(type, "type", RT_ENUM, record_event_types, 1, "") \
	F(date, "date", RT_DATE, NULL, 1, "") \
	F(date_estimated, "date-estimated", RT_BOOL, NULL, 0, " [--date-estimated true|false]") \
	F(date_documented, "date-documented", RT_DAY, NULL, 0, " [--date-documented YYYY-MM-DD]") \
	F(party, "party", RT_VOCAB, NULL, 0, " [--party P]") \
	F(site_id, "site-id", RT_ID, NULL, 0, " [--site-id ID]") \
	F(governorate, "governorate", RT_VOCAB, NULL, 0, " [--governorate G]") \
	F(area, "area", RT_FREE, NULL, 0, " [--area A]") \
	F(source_id, "source-id", RT_ID, NULL, 0, " [--source-id ID]") \
	F(notes, "notes", RT_FREE, NULL, 0, " [--notes TEXT]")
/* A place where evidence lies; its coordinates and geometry are protected (recobj.h). */
#define RECORD_SITE_ID_REQUIRED	0
#define RECORD_SITE_FIELDS(F) \
	F(type, "type", RT_ENUM, record_site_types, 1, "") \
	F(name, "name", RT_TEXT, NULL, 0, " [--name NAME]") \
	F(governorate, "governorate", RT_VOCAB, NULL, 0, " [--governorate G]") \
	F(area, "area", RT_FREE, NULL, 0, " [--area A]") \
	F(lat, "lat", RT_LAT, NULL, 0, " [--lat DEGREES]") \
	F(lon, "lon", RT_LON, NULL, 0, " [--lon DEGREES]") \
	F(geometry, "geometry", RT_GEOJSON, NULL, 0, " [--geometry GEOJSON]") \
	F(party, "party", RT_VOCAB, NULL, 0, " [--party P]") \
	F(first_reported, "first-reported", RT_DATE, NULL, 0, \
	    " [--first-reported YYYY[-MM[-DD]]]") \
	F(status, "status", RT_ENUM, record_site_statuses, 0, \
	    " [--status reported|verified|secured|marked|exhumed|disturbed|destroyed]") \
	F(description, "description", RT_FREE, NULL, 0, " [--description TEXT]") \
	F(source_id, "source-id", RT_ID, NULL, 0, " [--source-id ID]")

/* The consent classes a person's consent lists, in canonical order. */
extern const char *const record_consent_classes[];
/* The person event types, in the order that breaks ties on one date. */
extern const char *const record_event_type_names[];
/* 1 when a person event of type (a word of record_event_type_names) must name its party. */
int record_event_needs_party(const char *type);

/* One problem with one field: "column: problem". */
struct record_problem {
	char	*column;
	char	*problem;
};
struct record_problems {
	struct record_problem	*v;
	size_t			 n;
};
void record_problems_free(struct record_problems *);
/*
 * Append one problem (column NULL means ""). Bytes of column and message that are not
 * printable UTF-8 are written as \xNN, so the problem can be printed as it is.
 */
int record_problems_add(struct record_problems *, const char *column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Build the canonical record of a kind ("victim", "incident", "source") from field values
 * (CSV columns or command-line flags; NULL or "" means not given). Every problem is added to
 * probs (none when 0 is returned); *out is the canonical JSON object with "kind" and "id" set
 * (id may be "" when not given: the caller assigns one). Unknown field names are problems.
 *
 * victim: id, name, sex (male|female|unknown, default unknown), age (0-130), age_group
 *   (child|adult|unknown; derived from age when age is given, a problem when it contradicts
 *   it), status (civilian|combatant|unknown, default civilian), categories (";"-separated:
 *   medical, civil_defense, media), date_of_death (a cdate; stored with
 *   "date_of_death_precision": day|month|year), date_of_death_estimated (true|false),
 *   date_documented (required, day precision), governorate, area, cause, party, incident_id,
 *   source_id, notes.
 * incident: id (required), date (a cdate), governorate, area, party, type, title, description.
 * source: id, name, contact, notes (protected: withheld from dossiers by default).
 * Text fields must be valid UTF-8 without control characters (newlines allowed in free text:
 * notes, description, area, title) and at most 64 KiB; ids as archive ids
 * ([A-Za-z0-9._:-], 1-128, not starting with . or -).
 *
 * Returns 0 (*out set, no problem added), CUSTODY_EINVAL (problems appended to probs, which
 * the caller zero-initialises and frees; *out NULL) or CUSTODY_ENOMEM. Values are trimmed of
 * blanks (free text excepted); a blank value is not given. Vocabulary and enumeration words
 * are matched case-insensitively and stored lower-case; vocab NULL means the defaults. The
 * incident date is stored with "date_precision". The result depends only on the set of
 * (name, value) pairs: json_dumps(JSON_SORT_KEYS | JSON_COMPACT) of it is canonical.
 */
int record_from_fields(json_t **out, struct record_problems *probs, const struct vocab *,
    const char *kind, const char *const *names, const char *const *values, size_t n);
/*
 * The same check of a JSON object whose members are the fields (as the socket carries them).
 * The canonical form is accepted too: "kind" (must be kind), an integer age, a boolean
 * date_of_death_estimated, an array of categories; "date_of_death_precision" and
 * "date_precision" are ignored (derived again). A canonical record gives itself back.
 */
int record_from_json(json_t **out, struct record_problems *probs, const struct vocab *,
    const char *kind, const json_t *fields);
/*
 * An import as rows of values (byte strings and their lengths) under a header, as the socket
 * carries it. record_row_header checks the header like record_header_check, and a NUL byte in
 * a name or a count outside 1 to RECORD_ROW_COLUMNS_MAX is a problem too; *out gets its names
 * as strings (a NULL-terminated array, freed with record_row_header_free). record_from_row
 * builds a row's canonical record like a CSV row's: another count of values than of columns
 * (column "row"), a value holding a NUL byte or longer than 64 KiB is a problem, then
 * record_from_fields. Both return 0, CUSTODY_EINVAL with problems, or CUSTODY_ENOMEM.
 */
#define RECORD_ROW_COLUMNS_MAX 64
int record_row_header(char ***out, struct record_problems *, const char *kind,
    const uint8_t *const *names, const size_t *lens, size_t n);
void record_row_header_free(char **cols);
int record_from_row(json_t **out, struct record_problems *, const struct vocab *,
    const char *kind, const char *const *cols, size_t ncols, const uint8_t *const *values,
    const size_t *lens, size_t n);
/* The field names of a kind, NULL-terminated; CSV headers must use only these. NULL for an
 * unknown kind. */
const char *const *record_fields(const char *kind);
/* 1 when field of kind takes a word of the office's vocabulary named like it, else 0. */
int record_field_vocab(const char *kind, const char *field);
/*
 * Check the column names of a CSV header (or any list of field names) of a kind: every
 * unknown name ("unknown column"), repeated one ("duplicate column"), empty one (column
 * "column N": "empty column name") and missing required field ("missing required column")
 * becomes a problem. 0, CUSTODY_EINVAL with problems, or CUSTODY_ENOMEM.
 */
int record_header_check(struct record_problems *, const char *kind,
    const char *const *names, size_t n);

/*
 * A name normalised for matching: Unicode NFKC, case-folded, marks (Arabic tashkeel, Latin
 * accents) removed, Arabic letter variants unified (alef forms to bare alef, ta marbuta to
 * ha, alef maqsura to ya, tatweel removed), punctuation dropped, runs of spaces made one.
 * Caller frees. NULL on invalid UTF-8.
 */
char *name_normalize(const char *name);

/*
 * CSV import, streaming (libcsv): RFC 4180, UTF-8 (a BOM is skipped), header row required
 * (any order; an unknown or repeated column is an error, a missing required one too). Each
 * data row becomes a record through record_from_fields; row_cb gets it with its line number
 * (the line the row starts on), or its problems. Embedded newlines in quoted fields count as
 * lines. Fields over 64 KiB are a problem of that row, not a failure of the parser.
 *
 * The callback: for a good row, record is the canonical record (borrowed: json_incref it to
 * keep it) and probs->n is 0; for a bad row, record is NULL and probs holds its problems
 * (column, problem: "FILE:LINE: column: problem"; column "row" when the row has the wrong
 * number of fields). probs is never NULL. A negative return stops the import and is what
 * feed/finish return. Header problems (unknown, duplicate or missing required column, no
 * header at all) are given once to the callback with record NULL and line 1 (even when
 * blank lines come first), then feed or finish returns CUSTODY_EINVAL. Malformed CSV (a quote inside an
 * unquoted field, a quoted field not closed at the end) is not a row problem: feed or finish
 * returns CUSTODY_EINVAL, and custody_error() says "line N: malformed CSV: ...". After an
 * error every call returns it again. Lines end with LF, CRLF or CR. Memory stays bounded
 * whatever the input (csv_import_memory: at most one row of fields of 64 KiB, well under
 * 2 MB); column names over 256 bytes are a header problem.
 */
struct csv_import;
typedef int (*csv_row_cb)(void *arg, unsigned long line, json_t *record,
    const struct record_problems *probs);
int csv_import_new(struct csv_import **, const char *kind, const struct vocab *,
    csv_row_cb, void *arg);
int csv_import_feed(struct csv_import *, const void *buf, size_t len);
int csv_import_finish(struct csv_import *);
/* Bytes the import holds now (parser buffer and kept fields), for tests of the bound. */
size_t csv_import_memory(const struct csv_import *);
/*
 * The header's column names (lower-cased; NULL and 0 before it is read), and value i of the
 * row being given to the callback as it was read ("" past its end; valid during the call).
 */
const char *const *csv_import_columns(const struct csv_import *, size_t *n);
const char *csv_import_value(const struct csv_import *, size_t i);
void csv_import_free(struct csv_import *);

#endif
