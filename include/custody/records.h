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

/* A date with its precision: "2024-12-05" (day), "2024-12" (month), "2024" (year). */
enum date_precision { DATE_DAY = 3, DATE_MONTH = 2, DATE_YEAR = 1 };
struct cdate {
	int			 year, month, day;	/* month/day 0 when not known */
	enum date_precision	 precision;
	char			 first[11], last[11];	/* the first and last day it covers */
};
/* Parse and check a real calendar date (leap years, month lengths, years 1900-2100). */
int cdate_parse(struct cdate *, const char *);

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
 */
int record_from_fields(json_t **out, struct record_problems *probs, const struct vocab *,
    const char *kind, const char *const *names, const char *const *values, size_t n);
/* The same check of a JSON object whose members are the fields (as the socket carries them). */
int record_from_json(json_t **out, struct record_problems *probs, const struct vocab *,
    const char *kind, const json_t *fields);
/* The field names of a kind, NULL-terminated; CSV headers must use only these. */
const char *const *record_fields(const char *kind);

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
 */
struct csv_import;
typedef int (*csv_row_cb)(void *arg, unsigned long line, json_t *record,
    const struct record_problems *probs);
int csv_import_new(struct csv_import **, const char *kind, const struct vocab *,
    csv_row_cb, void *arg);
int csv_import_feed(struct csv_import *, const void *buf, size_t len);
int csv_import_finish(struct csv_import *);
void csv_import_free(struct csv_import *);

#endif
