/* Printing records and reports: tables, JSON, CSV, problem lines and labels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "client.h"
#include "cmd.h"
#include "records-out.h"

#define ROUT_MAX_COLS 32
#define ROUT_CELL_WIDTH 32	/* longer cells are cut with an ellipsis */

/* Human labels of vocabulary and report words that are not just capitalised. */
static const struct {
	const char	*word;
	const char	*label;
} rout_labels[] = {
	{ "syrian_regime", "Syrian regime forces" },
	{ "sna", "Armed opposition / SNA" },
	{ "coalition", "International coalition" },
	{ "hts", "HTS" },
	{ "isis", "ISIS" },
	{ "sdf", "SDF" },
	{ "russia", "Russian forces" },
	{ "other", "Other parties" },
	{ "rif_dimashq", "Rif Dimashq" },
	{ "deir_ez_zor", "Deir ez-Zor" },
	{ "civil_defense", "Civil defense" },
	{ "non_civilians_excluded", "Non-civilians excluded" },
	{ "by_party", "By party" },
	{ "by_governorate", "By governorate" },
	{ "by_month", "By month" },
	{ "percent", "%" },
};

/* The --format value. */
enum rout_format
rout_format(const struct cmd_args *args, int val, int json, enum rout_format dflt)
{
	const char *f = cmd_get(args, val);
	const char *own = dflt == ROUT_TEXT ? "text" : "table";

	if (json)
		return ROUT_JSON;
	if (f == NULL || strcmp(f, own) == 0)
		return dflt;
	if (strcmp(f, "json") == 0)
		return ROUT_JSON;
	if (strcmp(f, "csv") == 0)
		return ROUT_CSV;
	cmd_usage_error(args->entry, "--format is %s, json or csv, not '%s'", own, f);
}

/* Parse the daemon's JSON, or exit. */
json_t *
rout_parse(const char *text, const char *what)
{
	json_error_t jerr;
	json_t *j;

	if ((j = json_loads(text != NULL ? text : "", JSON_DECODE_ANY, &jerr)) == NULL)
		client_fatal("custodyd sent a malformed %s: %s (line %d)", what, jerr.text,
		    jerr.line);
	return j;
}

/* Append the text of v to b. */
static void
rout_cell_put(struct cbuf *b, const json_t *v)
{
	char *s;
	size_t i;
	int r = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		r = cbuf_put(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		r = cbuf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		r = cbuf_printf(b, "%.1f", json_real_value(v));
		break;
	case JSON_TRUE:
		r = cbuf_puts(b, "true");
		break;
	case JSON_FALSE:
		r = cbuf_puts(b, "false");
		break;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v) && r == 0; i++) {
			if (i > 0)
				r = cbuf_puts(b, ";");
			rout_cell_put(b, json_array_get(v, i));
		}
		break;
	case JSON_OBJECT:
		if ((s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
			r = cbuf_puts(b, s);
			free(s);
		}
		break;
	default:
		break;
	}
	if (r < 0)
		client_fatal("out of memory");
}

/* A value as text; "" for NULL. */
char *
rout_text(const json_t *v)
{
	struct cbuf b = { 0 };
	char *out;

	if (v != NULL)
		rout_cell_put(&b, v);
	if ((out = cbuf_detach(&b)) == NULL)
		client_fatal("out of memory");
	return out;
}

/* A member as text; "" when absent. */
char *
rout_cell(const json_t *record, const char *key)
{
	return rout_text(json_is_object(record) ? json_object_get(record, key) : NULL);
}

/* A table cell: safe, estimated dates marked, cut to ROUT_CELL_WIDTH columns. */
static char *
rout_table_cell(const json_t *record, const char *col)
{
	const utf8proc_uint8_t *p;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	char *raw = rout_cell(record, col), *safe, *marked;
	size_t w = 0;
	int cw;

	if (strcmp(col, "date_of_death") == 0 && *raw != '\0' &&
	    json_is_true(json_object_get(record, "date_of_death_estimated"))) {
		if (asprintf(&marked, "~%s", raw) < 0)
			client_fatal("out of memory");
		free(raw);
		raw = marked;
	}
	safe = client_safe(raw);
	free(raw);
	if (client_width(safe) <= ROUT_CELL_WIDTH)
		return safe;
	for (p = (const utf8proc_uint8_t *)safe; *p != '\0'; p += n) {
		if ((n = utf8proc_iterate(p, -1, &cp)) <= 0)
			break;
		cw = utf8proc_charwidth(cp);
		if (w + (size_t)(cw > 0 ? cw : 0) > ROUT_CELL_WIDTH - 1)
			break;
		w += (size_t)(cw > 0 ? cw : 0);
	}
	strcpy((char *)p, "\xe2\x80\xa6");	/* the ellipsis is no longer than what it replaces */
	return safe;
}

/* Print a table of recs. */
void
rout_table(const json_t *recs, const char *const *cols)
{
	size_t ncols, i, j, n = json_array_size(recs), width[ROUT_MAX_COLS], w;
	char **cell, head[64];

	for (ncols = 0; cols[ncols] != NULL && ncols < ROUT_MAX_COLS; ncols++)
		width[ncols] = strlen(cols[ncols]);
	if ((cell = calloc(n * ncols + 1, sizeof *cell)) == NULL)
		client_fatal("out of memory");
	for (i = 0; i < n; i++)
		for (j = 0; j < ncols; j++) {
			cell[i * ncols + j] = rout_table_cell(json_array_get(recs, i), cols[j]);
			if ((w = client_width(cell[i * ncols + j])) > width[j])
				width[j] = w;
		}
	for (j = 0; j < ncols; j++) {
		for (i = 0; cols[j][i] != '\0' && i < sizeof head - 1; i++)
			head[i] = cols[j][i] >= 'a' && cols[j][i] <= 'z' ? cols[j][i] - 32 : cols[j][i];
		head[i] = '\0';
		client_print_padded(stdout, head, j + 1 < ncols ? width[j] + 2 : 0);
	}
	putchar('\n');
	for (i = 0; i < n; i++) {
		for (j = 0; j < ncols; j++) {
			client_print_padded(stdout, cell[i * ncols + j],
			    j + 1 < ncols ? width[j] + 2 : 0);
			free(cell[i * ncols + j]);
		}
		putchar('\n');
	}
	free(cell);
}

/* One CSV field. */
void
rout_csv_field(FILE *f, const char *s, int last)
{
	const char *p;

	if (s[strcspn(s, ",\"\r\n")] == '\0') {
		fputs(s, f);
	} else {
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static void rout_round(json_t *);

/* Print records in the chosen format. */
void
rout_records(json_t *recs, const char *kind, const char *const *cols, enum rout_format fmt)
{
	struct rout_stream st;
	size_t i;

	if (fmt == ROUT_CSV || fmt == ROUT_JSON) {
		rout_stream_begin(&st, kind, fmt);
		for (i = 0; i < json_array_size(recs); i++)
			rout_stream_put(&st, json_incref(json_array_get(recs, i)));
		rout_stream_end(&st);
	} else if (json_array_size(recs) == 0)
		fputs("no records\n", stderr);
	else
		rout_table(recs, cols);
	json_decref(recs);
}

/* Begin printing records one at a time: the CSV header with every field of kind. */
void
rout_stream_begin(struct rout_stream *st, const char *kind, enum rout_format fmt)
{
	size_t j;

	st->fmt = fmt;
	st->n = 0;
	if (fmt != ROUT_CSV)
		return;
	if ((st->fields = record_fields(kind)) == NULL)
		client_fatal("no fields known for kind %s", kind);
	for (j = 0; st->fields[j] != NULL; j++)
		rout_csv_field(stdout, st->fields[j], st->fields[j + 1] == NULL);
}

/*
 * Print one record and release it: a CSV row, or an element of the JSON array as json_dumpf
 * of the whole array would print it (indented by two more).
 */
void
rout_stream_put(struct rout_stream *st, json_t *rec)
{
	char *text, *v, *u;
	size_t j;

	if (st->fmt == ROUT_CSV) {
		for (j = 0; st->fields[j] != NULL; j++) {
			v = rout_cell(rec, st->fields[j]);
			u = client_utf8(v, NULL);
			rout_csv_field(stdout, u, st->fields[j + 1] == NULL);
			free(u);
			free(v);
		}
	} else {
		rout_round(rec);
		if ((text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))) == NULL)
			client_fatal("out of memory");
		fputs(st->n == 0 ? "[\n  " : ",\n  ", stdout);
		for (v = text; *v != '\0'; v++) {
			putchar(*v);
			if (*v == '\n')
				fputs("  ", stdout);
		}
		free(text);
	}
	st->n++;
	json_decref(rec);
}

/* The end of the records: the JSON array closed. */
void
rout_stream_end(struct rout_stream *st)
{
	if (st->fmt == ROUT_JSON)
		fputs(st->n == 0 ? "[]\n" : "\n]\n", stdout);
	if (ferror(stdout))
		client_fatal("cannot write output: %s", strerror(errno));
}

/* Round every real in v to one decimal. */
static void
rout_round(json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;

	double x = json_is_real(v) ? json_real_value(v) * 10.0 : 0;

	/* half away from zero, without libm: the client links none */
	if (json_is_real(v) && x > -1e15 && x < 1e15)
		json_real_set(v, (double)(long long)(x < 0 ? x - 0.5 : x + 0.5) / 10.0);
	else if (json_is_array(v))
		json_array_foreach(v, i, m)
			rout_round(m);
	else if (json_is_object(v))
		json_object_foreach(v, key, m)
			rout_round(m);
}

/* Print JSON with reals at one decimal. */
void
rout_json(json_t *v)
{
	if (v == NULL)
		client_fatal("out of memory");
	rout_round(v);
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15)) < 0 || fputc('\n', stdout) == EOF)
		client_fatal("cannot write output: %s", strerror(errno));
	json_decref(v);
}

/* Print one problem line. */
void
rout_problem(const char *file, unsigned long line, const char *column, const char *problem)
{
	char *f = file != NULL ? client_safe(file) : NULL;
	char *c = client_safe(column != NULL && *column != '\0' ? column : "row");
	char *p = client_safe(problem != NULL ? problem : "invalid");

	fflush(stdout);
	if (f != NULL && line > 0)
		fprintf(stderr, "%s:%lu: %s: %s\n", f, line, c, p);
	else if (f != NULL)
		fprintf(stderr, "%s: %s: %s\n", f, c, p);
	else
		fprintf(stderr, "%s: %s\n", c, p);
	free(f);
	free(c);
	free(p);
}

/* A human label for a word; title: every word capitalised (place names). */
const char *
rout_label(char *buf, size_t len, const char *word, int title)
{
	size_t i, o = 0;
	int start = 1;

	for (i = 0; i < sizeof rout_labels / sizeof rout_labels[0]; i++)
		if (strcmp(word, rout_labels[i].word) == 0)
			return rout_labels[i].label;
	for (i = 0; word[i] != '\0' && o + 1 < len; i++, o++) {
		buf[o] = word[i] == '_' ? ' ' : word[i];
		if (start && buf[o] >= 'a' && buf[o] <= 'z')
			buf[o] -= 32;
		start = title && buf[o] == ' ';
	}
	buf[o] = '\0';
	return buf;
}

/* Print a one-record RecordDone. */
void
rout_done(const struct cmd_ctx *ctx, const Custody__RecordDone *d, const char *id)
{
	json_t *o;
	char *s;

	if (ctx->json) {
		o = json_object();
		if (id != NULL)
			client_json_str(o, "id", id);
		client_json_bool(o, "changed", d->commit != NULL && *d->commit != '\0');
		client_json_str(o, "commit", d->commit);
		client_json_u64(o, "seq", d->seq);
		client_json_u64(o, "written", d->written);
		client_json_u64(o, "unchanged", d->unchanged);
		client_json_print(o);
		return;
	}
	if (d->commit == NULL || *d->commit == '\0') {
		puts("unchanged");
		return;
	}
	s = client_safe(d->commit);
	printf("%s\n", s);
	free(s);
}
