/*
 * Printing casualty records and reports: tables on a terminal, JSON, CSV (RFC 4180), problem
 * lines ("FILE:LINE: column: problem") and human labels for vocabulary words.
 */
#ifndef CUSTODY_RECORDS_OUT_H
#define CUSTODY_RECORDS_OUT_H

#include <stdio.h>

#include <jansson.h>

#include "custody/records.h"
#include "custody/wire.h"

struct cmd_args;
struct cmd_ctx;

enum rout_format {
	ROUT_TABLE,	/* aligned columns for a terminal */
	ROUT_TEXT,	/* the report's readable form */
	ROUT_JSON,
	ROUT_CSV,
};

/*
 * The --format argument (option value val): "json", "csv", or the default's own name
 * ("table" or "text"); --json (json != 0) means json. Any other word is a usage error.
 */
enum rout_format rout_format(const struct cmd_args *args, int val, int json,
    enum rout_format dflt);

/* The daemon's JSON text parsed (objects keep their order); exits 1 if it is malformed. */
json_t *rout_parse(const char *text, const char *what);

/* A value as text: strings as they are, arrays joined with ';', null or NULL as "". */
char *rout_text(const json_t *v);
/* A member's value as text: strings as they are, arrays joined with ';', null as "". */
char *rout_cell(const json_t *record, const char *key);

/*
 * Print records (a JSON array of objects): a table of the columns cols, a CSV with one column
 * per field of kind (what 'custody import' reads back), or the JSON array. Releases recs.
 */
void rout_records(json_t *recs, const char *kind, const char *const *cols,
    enum rout_format fmt);
/*
 * Records printed one at a time as CSV or JSON (as rout_records prints them), so that a list of
 * any length is never held whole: begin, put each (released), end.
 */
struct rout_stream {
	enum rout_format	 fmt;
	const char *const	*fields;
	size_t			 n;
};
void rout_stream_begin(struct rout_stream *, const char *kind, enum rout_format);
void rout_stream_put(struct rout_stream *, json_t *rec);
void rout_stream_end(struct rout_stream *);
/* Print a table of the columns cols (NULL-terminated) of recs to stdout; a '~' marks an estimate. */
void rout_table(const json_t *recs, const char *const *cols);

/* One CSV field, quoted when it must be (RFC 4180); then ',' or, when last, "\r\n". */
void rout_csv_field(FILE *f, const char *s, int last);

/* Print JSON to stdout: indent 2, order kept, reals with one decimal. Releases v. */
void rout_json(json_t *v);

/* Print "FILE:LINE: column: problem" (the parts given) to stderr, made safe for a terminal. */
void rout_problem(const char *file, unsigned long line, const char *column, const char *problem);

/*
 * A label for a vocabulary word: "syrian_regime" -> "Syrian regime forces", "deir_ez_zor" ->
 * "Deir ez-Zor", any other word capitalised with '_' as ' ' (every word when title).
 */
const char *rout_label(char *buf, size_t len, const char *word, int title);

/* Print the RecordDone of one record's change: the commit or "unchanged"; --json: the counts. */
void rout_done(const struct cmd_ctx *ctx, const Custody__RecordDone *d, const char *id);

#endif
