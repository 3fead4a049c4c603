/*
 * CSV import of casualty records: libcsv parses, this file counts lines, checks the header,
 * keeps memory bounded and turns each row into a record through record_from_fields.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "custody/records.h"

#define CSV_IMPORT_FIELD_MAX	65536	/* bytes of one field */
#define CSV_IMPORT_SEGMENT_MAX	16384	/* most bytes given to libcsv between two checks */
#define CSV_IMPORT_COLUMNS_MAX	64	/* columns of a header row looked at */
#define CSV_IMPORT_NAME_MAX	256	/* bytes of a column name */

enum csv_import_state {
	CSV_IMPORT_OK,
	CSV_IMPORT_BIG,		/* longer than CSV_IMPORT_FIELD_MAX: value not kept */
	CSV_IMPORT_NUL,		/* holds a NUL byte: value not kept */
};

struct csv_import_field {
	char			*value;
	enum csv_import_state	 state;
};

struct csv_import {
	struct csv_parser	 parser;
	char			*kind;
	const struct vocab	*vocab;
	csv_row_cb		 cb;
	void			*arg;

	char			**cols;		/* the header, once read */
	size_t			 ncols;
	int			 have_header;

	struct csv_import_field	 row[CSV_IMPORT_COLUMNS_MAX];
	size_t			 nfields;	/* fields of the current row so far */
	int			 in_row;	/* a row has begun and not ended */
	unsigned long		 line;		/* the line of the next byte */
	unsigned long		 row_line;	/* the line the current row began on */
	int			 last_cr;	/* the last byte was a CR */
	int			 field_big;	/* the field being parsed was cut short */

	size_t			 nbom;		/* bytes of a BOM matched so far */
	int			 bom_done;
	int			 finished;
	int			 error;		/* sticky: every later call returns it */
};

static const unsigned char csv_import_bom[3] = { 0xef, 0xbb, 0xbf };

/* Forget the fields of the current row. */
static void
csv_import_row_clear(struct csv_import *imp)
{
	size_t i;

	for (i = 0; i < CSV_IMPORT_COLUMNS_MAX; i++) {
		free(imp->row[i].value);
		imp->row[i].value = NULL;
		imp->row[i].state = CSV_IMPORT_OK;
	}
	imp->nfields = 0;
}

/* libcsv's field callback: keep the field when the row has room for it. */
static void
csv_import_field(void *s, size_t len, void *arg)
{
	struct csv_import *imp = arg;
	struct csv_import_field *f;
	size_t limit = imp->have_header ? imp->ncols : CSV_IMPORT_COLUMNS_MAX;
	int big = imp->field_big || len > (imp->have_header ? CSV_IMPORT_FIELD_MAX :
	    CSV_IMPORT_NAME_MAX);

	imp->field_big = 0;
	if (imp->error != 0 || imp->nfields++ >= limit)
		return;
	f = &imp->row[imp->nfields - 1];
	if (big)
		f->state = CSV_IMPORT_BIG;
	else if (len > 0 && memchr(s, '\0', len) != NULL)
		f->state = CSV_IMPORT_NUL;
	else if ((f->value = malloc(len + 1)) == NULL)
		imp->error = custody_fail(CUSTODY_ENOMEM, "line %lu: out of memory",
		    imp->row_line);
	else {
		if (len > 0)
			memcpy(f->value, s, len);
		f->value[len] = '\0';
	}
}

/* Check the header row and keep its column names (ASCII lower-cased). */
static void
csv_import_header(struct csv_import *imp)
{
	struct record_problems probs = { 0 };
	const char *names[CSV_IMPORT_COLUMNS_MAX];
	char col[32];
	size_t n = 0, i, j;
	int error = 0;

	for (i = 0; i < imp->nfields && i < CSV_IMPORT_COLUMNS_MAX && error == 0; i++) {
		snprintf(col, sizeof col, "column %zu", i + 1);
		if (imp->row[i].state == CSV_IMPORT_BIG)
			error = record_problems_add(&probs, col, "name longer than %d bytes",
			    CSV_IMPORT_NAME_MAX);
		else if (imp->row[i].state == CSV_IMPORT_NUL)
			error = record_problems_add(&probs, col, "name holds a NUL byte");
		else {
			for (j = 0; imp->row[i].value[j] != '\0'; j++)
				imp->row[i].value[j] =
				    (char)tolower((unsigned char)imp->row[i].value[j]);
			names[n++] = imp->row[i].value;
		}
	}
	if (error == 0 && imp->nfields > CSV_IMPORT_COLUMNS_MAX)
		error = record_problems_add(&probs, "header", "more than %d columns",
		    CSV_IMPORT_COLUMNS_MAX);
	if (error == 0 && (error = record_header_check(&probs, imp->kind, names, n)) ==
	    CUSTODY_EINVAL)
		error = 0;
	if (error < 0) {
		imp->error = error;
		goto out;
	}
	if (probs.n > 0) {
		/* line 1 as agreed with the client, even after blank lines */
		imp->cb(imp->arg, 1, NULL, &probs);
		imp->error = custody_fail(CUSTODY_EINVAL, "line 1: invalid header: %s: %s",
		    probs.v[0].column, probs.v[0].problem);
		goto out;
	}
	if ((imp->cols = calloc(n, sizeof *imp->cols)) == NULL) {
		imp->error = CUSTODY_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		imp->cols[i] = imp->row[i].value;
		imp->row[i].value = NULL;
	}
	imp->ncols = n;
	imp->have_header = 1;
out:
	record_problems_free(&probs);
}

/* Drop the problems from index from on whose column already has one before from. */
static void
csv_import_dedup(struct record_problems *probs, size_t from)
{
	size_t i, j, k = from;

	for (i = from; i < probs->n; i++) {
		for (j = 0; j < from; j++)
			if (strcmp(probs->v[j].column, probs->v[i].column) == 0)
				break;
		if (j < from) {
			free(probs->v[i].column);
			free(probs->v[i].problem);
		} else
			probs->v[k++] = probs->v[i];
	}
	probs->n = k;
}

/* Turn a data row into a record (or its problems) and hand it to the callback. */
static void
csv_import_record(struct csv_import *imp)
{
	struct record_problems probs = { 0 };
	const char *values[CSV_IMPORT_COLUMNS_MAX] = { 0 };
	json_t *rec = NULL;
	size_t i, mark;
	int error = 0;

	if (imp->nfields != imp->ncols) {
		error = record_problems_add(&probs, "row", "%zu fields where the header has %zu",
		    imp->nfields, imp->ncols);
		goto deliver;
	}
	for (i = 0; i < imp->ncols && error == 0; i++) {
		values[i] = imp->row[i].value;
		if (imp->row[i].state == CSV_IMPORT_BIG)
			error = record_problems_add(&probs, imp->cols[i], "longer than %d bytes",
			    CSV_IMPORT_FIELD_MAX);
		else if (imp->row[i].state == CSV_IMPORT_NUL)
			error = record_problems_add(&probs, imp->cols[i], "holds a NUL byte");
	}
	if (error < 0)
		goto out;
	mark = probs.n;
	error = record_from_fields(&rec, &probs, imp->vocab, imp->kind,
	    (const char *const *)imp->cols, values, imp->ncols);
	if (error < 0 && error != CUSTODY_EINVAL)
		goto out;
	error = 0;
	if (mark > 0) {
		/* a field we could not pass on is not also "required" */
		csv_import_dedup(&probs, mark);
		json_decref(rec);
		rec = NULL;
	}
deliver:
	if (error < 0)
		goto out;
	error = imp->cb(imp->arg, imp->row_line, probs.n > 0 ? NULL : rec, &probs);
out:
	if (error < 0)
		imp->error = error;
	json_decref(rec);
	record_problems_free(&probs);
}

/* libcsv's row callback: the header first, then records. */
static void
csv_import_row(int c, void *arg)
{
	struct csv_import *imp = arg;

	imp->in_row = 0;
	if (imp->error == 0) {
		if (!imp->have_header)
			csv_import_header(imp);
		else
			csv_import_record(imp);
	}
	csv_import_row_clear(imp);
}

/*
 * Keep libcsv's field buffer bounded (it would hold a whole field, however long). Uses the
 * parser's public fields: entry_pos (bytes held) and spaces (trailing blanks among them, which
 * libcsv drops when the field ends there; after a closing quote the quote itself is held
 * before them too). Whatever is done here, a field is reported too long exactly when its
 * value would be, whatever the pieces the input came in.
 */
static void
csv_import_bound(struct csv_import *imp)
{
	struct csv_parser *p = &imp->parser;

	/*
	 * A long run of trailing blanks: dropped if the field ends after it, so drop all but
	 * FIELD_MAX + 1 now; if anything else follows, the field is too long either way.
	 */
	if (p->spaces > 2 * (size_t)(CSV_IMPORT_FIELD_MAX + 1)) {
		p->entry_pos -= p->spaces - (CSV_IMPORT_FIELD_MAX + 1);
		p->spaces = CSV_IMPORT_FIELD_MAX + 1;
	}
	/* More than FIELD_MAX bytes that stay in the value: too long; keep a stub. */
	if (p->entry_pos > p->spaces + 1 + CSV_IMPORT_FIELD_MAX) {
		imp->field_big = 1;
		if (p->spaces > 1)
			p->spaces = 1;
		p->entry_pos = p->spaces + 1;
	}
}

/*
 * Give bytes to libcsv in segments that end at the first CR or LF (or after SEGMENT_MAX
 * bytes), so each segment lies on one line and at most one row begins or ends in it: the
 * line a row begins on is then known (libcsv skips blanks and empty lines between rows).
 */
static int
csv_import_bytes(struct csv_import *imp, const unsigned char *p, size_t len)
{
	size_t seg, i, done;
	unsigned char c;
	int status;

	while (len > 0 && imp->error == 0) {
		seg = len < CSV_IMPORT_SEGMENT_MAX ? len : CSV_IMPORT_SEGMENT_MAX;
		for (i = 0; i < seg; i++)
			if (p[i] == '\r' || p[i] == '\n') {
				seg = i + 1;
				break;
			}
		if (!imp->in_row) {
			for (i = 0; i < seg; i++)
				if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
					break;
			if (i < seg) {
				imp->in_row = 1;
				imp->row_line = imp->line;
			}
		}
		done = csv_parse(&imp->parser, p, seg, csv_import_field, csv_import_row, imp);
		if (imp->error != 0)
			break;
		if (done != seg) {
			status = csv_error(&imp->parser);
			if (status == CSV_EPARSE)
				imp->error = custody_fail(CUSTODY_EINVAL, "line %lu: malformed CSV: "
				    "a quote inside an unquoted field or after a closing quote",
				    imp->line);
			else
				imp->error = custody_fail(CUSTODY_ENOMEM, "line %lu: %s", imp->line,
				    csv_strerror(status));
			break;
		}
		csv_import_bound(imp);
		c = p[seg - 1];
		if (c == '\r' || (c == '\n' && !(seg == 1 && imp->last_cr)))
			imp->line++;
		imp->last_cr = c == '\r';
		p += seg;
		len -= seg;
	}
	return imp->error;
}

/* Start an import of records of kind; vocab (NULL: the defaults) must outlive it. */
int
csv_import_new(struct csv_import **out, const char *kind, const struct vocab *vocab,
    csv_row_cb cb, void *arg)
{
	struct csv_import *imp;

	*out = NULL;
	if (record_fields(kind) == NULL || cb == NULL)
		return custody_fail(CUSTODY_EINVAL, "csv import: no record kind \"%s\"",
		    kind ? kind : "");
	if ((imp = calloc(1, sizeof *imp)) == NULL)
		return CUSTODY_ENOMEM;
	if ((imp->kind = strdup(kind)) == NULL ||
	    csv_init(&imp->parser, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
		free(imp->kind);
		free(imp);
		return CUSTODY_ENOMEM;
	}
	csv_set_blk_size(&imp->parser, 4096);
	imp->vocab = vocab;
	imp->cb = cb;
	imp->arg = arg;
	imp->line = 1;
	imp->row_line = 1;
	*out = imp;
	return 0;
}

/* Parse the next len bytes of the file. */
int
csv_import_feed(struct csv_import *imp, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int error;

	if (imp->error != 0)
		return imp->error;
	if (imp->finished)
		return custody_fail(CUSTODY_EINVAL, "csv import: fed after the end");
	while (!imp->bom_done && len > 0) {
		if (*p == csv_import_bom[imp->nbom]) {
			p++;
			len--;
			imp->bom_done = ++imp->nbom == sizeof csv_import_bom;
			continue;
		}
		/* not a BOM after all: what looked like one is data */
		imp->bom_done = 1;
		if ((error = csv_import_bytes(imp, csv_import_bom, imp->nbom)) < 0)
			return error;
	}
	return csv_import_bytes(imp, p, len);
}

/* The end of the file: the last row, and the checks only the end can make. */
int
csv_import_finish(struct csv_import *imp)
{
	struct record_problems probs = { 0 };
	int error;

	if (imp->error != 0)
		return imp->error;
	if (imp->finished)
		return 0;
	if (!imp->bom_done) {
		imp->bom_done = 1;
		if ((error = csv_import_bytes(imp, csv_import_bom, imp->nbom)) < 0)
			return error;
	}
	imp->finished = 1;
	if (csv_fini(&imp->parser, csv_import_field, csv_import_row, imp) != 0)
		return imp->error = custody_fail(CUSTODY_EINVAL, "line %lu: malformed CSV: a "
		    "quoted field of the row starting here is not closed at the end of the file",
		    imp->row_line);
	if (imp->error != 0)
		return imp->error;
	if (!imp->have_header) {
		if ((error = record_problems_add(&probs, "header", "no header row")) < 0)
			return imp->error = error;
		imp->cb(imp->arg, 1, NULL, &probs);
		record_problems_free(&probs);
		return imp->error = custody_fail(CUSTODY_EINVAL, "line 1: no header row");
	}
	return 0;
}

/* Bytes the import holds now (libcsv's buffer and the kept fields): bounded by design. */
size_t
csv_import_memory(const struct csv_import *imp)
{
	size_t n = csv_get_buffer_size((struct csv_parser *)&imp->parser), i;

	for (i = 0; i < CSV_IMPORT_COLUMNS_MAX; i++)
		if (imp->row[i].value != NULL)
			n += strlen(imp->row[i].value) + 1;
	for (i = 0; i < imp->ncols; i++)
		n += strlen(imp->cols[i]) + 1;
	return n;
}

/* The header's column names (lower-cased), once read; NULL and 0 before. */
const char *const *
csv_import_columns(const struct csv_import *imp, size_t *n)
{
	*n = imp->ncols;
	return (const char *const *)imp->cols;
}

/* Value i of the row being given to the callback, as read (valid during the callback). */
const char *
csv_import_value(const struct csv_import *imp, size_t i)
{
	return i < imp->nfields && i < CSV_IMPORT_COLUMNS_MAX && imp->row[i].value != NULL ?
	    imp->row[i].value : "";
}

/* Free an import. NULL is fine. */
void
csv_import_free(struct csv_import *imp)
{
	size_t i;

	if (imp == NULL)
		return;
	csv_import_row_clear(imp);
	for (i = 0; i < imp->ncols; i++)
		free(imp->cols[i]);
	free(imp->cols);
	csv_free(&imp->parser);
	free(imp->kind);
	free(imp);
}
