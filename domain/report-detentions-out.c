/*
 * The detention report as text and as CSV, from its JSON (report_detentions_json's, or the
 * daemon's as the client received it). The formats are in include/custody/report-detentions.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/records.h"
#include "custody/report-detentions.h"

#define RDO_COLS 4

static const char *const rdo_months[] = { "January", "February", "March", "April", "May",
    "June", "July", "August", "September", "October", "November", "December" };

/* The seven statuses, in the order of the JSON, with their headings. */
static const char *const rdo_statuses[][2] = {
	{ "detained", "Detained" }, { "disappeared", "Disappeared" },
	{ "released", "Released" }, { "died_in_custody", "Died in custody" },
	{ "found_dead", "Found dead" }, { "identified", "Identified" },
	{ "missing", "Missing" },
};

/* A text table: the first column left-aligned, the others right-aligned. */
struct rdo_table {
	size_t	  ncols, nrows;
	char	*(*cell)[RDO_COLS];
};

/* A key of a keyed object with the count it is listed by. */
struct rdo_key {
	const char	*key;
	long long	 n;
};

/* An integer member (0 when absent or not an integer). */
static long long
rdo_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* A string member, "" when absent. */
static const char *
rdo_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* Append s with every byte that is not printable text (controls, C1, bad UTF-8) as \xNN. */
static int
rdo_safe(struct cbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n, len = strlen(s);
	int error;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			error = cbuf_put(b, p + i, 1);
		} else if (p[i] >= 0xc2 && p[i] < 0xf5 && !(p[i] == 0xc2 && i + 1 < len &&
		    p[i + 1] < 0xa0)) {
			/* a lead byte: take the sequence when every continuation byte is there */
			n = p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
			if (i + n > len)
				n = 1;
			for (size_t k = 1; k < n; k++)
				if ((p[i + k] & 0xc0) != 0x80)
					n = 1;
			error = n > 1 ? cbuf_put(b, p + i, n) : cbuf_printf(b, "\\x%02x", p[i]);
		} else {
			error = cbuf_printf(b, "\\x%02x", p[i]);
		}
		if (error < 0)
			return error;
	}
	return 0;
}

/* The width of UTF-8 text on a terminal, one column a character. */
static size_t
rdo_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Add a row of n cells, each made safe to print. */
static int
rdo_row(struct rdo_table *t, size_t n, ...)
{
	struct cbuf b = { 0 };
	va_list ap;
	size_t i;
	int error = 0;
	void *v;

	if ((v = reallocarray(t->cell, t->nrows + 1, sizeof *t->cell)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	t->cell = v;
	memset(t->cell[t->nrows], 0, sizeof t->cell[0]);
	t->nrows++;
	va_start(ap, n);
	for (i = 0; i < n && i < RDO_COLS; i++) {
		if ((error = rdo_safe(&b, va_arg(ap, const char *))) < 0 ||
		    (error = cbuf_put(&b, "", 1)) < 0)
			break;
		t->cell[t->nrows - 1][i] = (char *)b.data;
		memset(&b, 0, sizeof b);
	}
	va_end(ap);
	cbuf_free(&b);
	if (n > t->ncols)
		t->ncols = n;
	return error;
}

/* Free a table's cells. */
static void
rdo_table_free(struct rdo_table *t)
{
	size_t i, j;

	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < RDO_COLS; j++)
			free(t->cell[i][j]);
	free(t->cell);
	memset(t, 0, sizeof *t);
}

/* Append a table indented by two spaces, "  (none)" when it has no row, then free it. */
static int
rdo_table_put(struct cbuf *b, struct rdo_table *t)
{
	size_t w[RDO_COLS] = { 0 }, i, j, cw;
	const char *c;
	int error = 0;

	if (t->nrows == 0)
		return cbuf_puts(b, "  (none)\n");
	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < t->ncols; j++)
			if (t->cell[i][j] != NULL && (cw = rdo_width(t->cell[i][j])) > w[j])
				w[j] = cw;
	for (i = 0; i < t->nrows && error == 0; i++) {
		error = cbuf_puts(b, "  ");
		for (j = 0; j < t->ncols && error == 0; j++) {
			c = t->cell[i][j] != NULL ? t->cell[i][j] : "";
			cw = rdo_width(c);
			if (j == 0)
				error = cbuf_printf(b, "%s%*s", c, (int)(w[j] - cw), "");
			else
				error = cbuf_printf(b, "%*s%s", (int)(w[j] - cw + 2), "", c);
		}
		if (error == 0)
			error = cbuf_puts(b, "\n");
	}
	rdo_table_free(t);
	return error;
}

/* A number as text in a small ring (several may be in one rdo_row call). */
static const char *
rdo_num(long long v)
{
	static _Thread_local char ring[8][24];
	static _Thread_local int next;
	char *s = ring[next++ % 8];

	snprintf(s, sizeof ring[0], "%lld", v);
	return s;
}

/* Largest count first, "unknown" last, then by key. */
static int
rdo_key_cmp(const void *a, const void *b)
{
	const struct rdo_key *x = a, *y = b;
	int ux = strcmp(x->key, "unknown") == 0, uy = strcmp(y->key, "unknown") == 0;

	if (ux != uy)
		return ux - uy;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The keys of o by count (member metric of each value, or the value itself); caller frees. */
static struct rdo_key *
rdo_sorted(const json_t *o, const char *metric, size_t *n)
{
	struct rdo_key *k;
	const char *key;
	json_t *v;

	*n = 0;
	if ((k = calloc(json_object_size(o) + 1, sizeof *k)) == NULL)
		return NULL;
	json_object_foreach((json_t *)o, key, v) {
		k[*n].key = key;
		k[(*n)++].n = metric != NULL ? rdo_int(v, metric) : json_integer_value(v);
	}
	if (*n > 1)
		qsort(k, *n, sizeof *k, rdo_key_cmp);
	return k;
}

/* The label of a word: the caller's, or the word. */
static const char *
rdo_label(report_detentions_label label, char *buf, size_t len, const char *word)
{
	const char *s = label != NULL ? label(buf, len, word) : NULL;

	return s != NULL ? s : word;
}

/* The title line: a month, a year, or the period's two days. */
static int
rdo_title(struct cbuf *b, const char *from, const char *to)
{
	struct cdate d;
	char month[8];

	if (strlen(from) == 10 && strlen(to) == 10 && strncmp(from, to, 4) == 0 &&
	    strcmp(from + 4, "-01-01") == 0 && strcmp(to + 4, "-12-31") == 0)
		return cbuf_printf(b, "Detention report for %.4s\n", from);
	snprintf(month, sizeof month, "%.7s", to);
	if (cdate_parse(&d, month) == 0 && d.precision == DATE_MONTH &&
	    strcmp(from, d.first) == 0 && strcmp(to, d.last) == 0)
		return cbuf_printf(b, "Detention report for %s %d\n", rdo_months[d.month - 1],
		    d.year);
	if (cbuf_puts(b, "Detention report, ") < 0 || rdo_safe(b, from) < 0 ||
	    cbuf_puts(b, " to ") < 0 || rdo_safe(b, to) < 0)
		return CUSTODY_ENOMEM;
	return cbuf_puts(b, "\n");
}

/* Arrests by party: party, arrests, children, women, and a total row. */
static int
rdo_by_party(struct cbuf *b, const json_t *o, report_detentions_label label)
{
	struct rdo_table t = { 0 };
	struct rdo_key *keys;
	long long sum[3] = { 0 };
	size_t i, n;
	char buf[128];
	json_t *v;
	int error = 0;

	if (json_object_size(o) == 0)
		return cbuf_puts(b, "  (none)\n");
	if ((keys = rdo_sorted(o, "arrests", &n)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	error = rdo_row(&t, 4, "Party", "Arrests", "Children", "Women");
	for (i = 0; i < n && error == 0; i++) {
		v = json_object_get(o, keys[i].key);
		sum[0] += rdo_int(v, "arrests");
		sum[1] += rdo_int(v, "children");
		sum[2] += rdo_int(v, "women");
		error = rdo_row(&t, 4, rdo_label(label, buf, sizeof buf, keys[i].key),
		    rdo_num(rdo_int(v, "arrests")), rdo_num(rdo_int(v, "children")),
		    rdo_num(rdo_int(v, "women")));
	}
	free(keys);
	if (error == 0)
		error = rdo_row(&t, 4, "Total", rdo_num(sum[0]), rdo_num(sum[1]),
		    rdo_num(sum[2]));
	if (error == 0)
		return rdo_table_put(b, &t);
	rdo_table_free(&t);
	return error;
}

/* Arrests by governorate: governorate, arrests, share. */
static int
rdo_by_governorate(struct cbuf *b, const json_t *o, report_detentions_label label)
{
	struct rdo_table t = { 0 };
	struct rdo_key *keys;
	char buf[128], pct[32];
	size_t i, n;
	json_t *v;
	int error = 0;

	if (json_object_size(o) == 0)
		return cbuf_puts(b, "  (none)\n");
	if ((keys = rdo_sorted(o, "arrests", &n)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	error = rdo_row(&t, 3, "Governorate", "Arrests", "Share");
	for (i = 0; i < n && error == 0; i++) {
		v = json_object_get(o, keys[i].key);
		snprintf(pct, sizeof pct, "%.1f%%", json_number_value(json_object_get(v,
		    "percent")));
		error = rdo_row(&t, 3, rdo_label(label, buf, sizeof buf, keys[i].key),
		    rdo_num(rdo_int(v, "arrests")), pct);
	}
	free(keys);
	if (error == 0)
		return rdo_table_put(b, &t);
	rdo_table_free(&t);
	return error;
}

/* Deaths in custody by party, with a total row. */
static int
rdo_died(struct cbuf *b, const json_t *o, report_detentions_label label)
{
	struct rdo_table t = { 0 };
	struct rdo_key *keys;
	long long sum = 0;
	size_t i, n;
	char buf[128];
	int error = 0;

	if (json_object_size(o) == 0)
		return cbuf_puts(b, "  (none)\n");
	if ((keys = rdo_sorted(o, NULL, &n)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "detention report: out of memory");
	error = rdo_row(&t, 2, "Party", "Deaths");
	for (i = 0; i < n && error == 0; i++) {
		sum += keys[i].n;
		error = rdo_row(&t, 2, rdo_label(label, buf, sizeof buf, keys[i].key),
		    rdo_num(keys[i].n));
	}
	free(keys);
	if (error == 0)
		error = rdo_row(&t, 2, "Total", rdo_num(sum));
	if (error == 0)
		return rdo_table_put(b, &t);
	rdo_table_free(&t);
	return error;
}

/* The seven statuses on the last day, with their total. */
static int
rdo_status(struct cbuf *b, const json_t *o)
{
	struct rdo_table t = { 0 };
	long long sum = 0;
	size_t i;
	int error = 0;

	for (i = 0; i < sizeof rdo_statuses / sizeof rdo_statuses[0] && error == 0; i++) {
		sum += rdo_int(o, rdo_statuses[i][0]);
		error = rdo_row(&t, 2, rdo_statuses[i][1], rdo_num(rdo_int(o,
		    rdo_statuses[i][0])));
	}
	if (error == 0)
		error = rdo_row(&t, 2, "Total", rdo_num(sum));
	if (error == 0)
		return rdo_table_put(b, &t);
	rdo_table_free(&t);
	return error;
}

/* The readable report. */
int
report_detentions_text(struct cbuf *b, const json_t *r, report_detentions_label label)
{
	const json_t *period = json_object_get(r, "period"), *died = json_object_get(r,
	    "died_in_custody");
	const char *to = rdo_str(period, "to");
	struct rdo_table t = { 0 };
	int error;

	if ((error = rdo_title(b, rdo_str(period, "from"), to)) < 0 ||
	    (error = cbuf_puts(b, "\nArrests and abductions\n")) < 0 ||
	    (error = rdo_row(&t, 2, "Arrests", rdo_num(rdo_int(r, "arrests")))) < 0 ||
	    (error = rdo_row(&t, 2, "Children", rdo_num(rdo_int(r, "children")))) < 0 ||
	    (error = rdo_row(&t, 2, "Women", rdo_num(rdo_int(r, "women")))) < 0 ||
	    (error = rdo_table_put(b, &t)) < 0 ||
	    (error = cbuf_puts(b, "\nArrests by party\n")) < 0 ||
	    (error = rdo_by_party(b, json_object_get(r, "by_party"), label)) < 0 ||
	    (error = cbuf_puts(b, "\nArrests by governorate\n")) < 0 ||
	    (error = rdo_by_governorate(b, json_object_get(r, "by_governorate"), label)) < 0 ||
	    (error = cbuf_printf(b, "\nReleased: %lld\n", rdo_int(r, "released"))) < 0 ||
	    (error = cbuf_printf(b, "\nDeaths in custody: %lld\n", rdo_int(died, "count"))) < 0 ||
	    (error = rdo_died(b, json_object_get(died, "by_party"), label)) < 0 ||
	    (error = cbuf_puts(b, "\nStatus on ")) < 0 || (error = rdo_safe(b, to)) < 0 ||
	    (error = cbuf_puts(b, " (persons with an event by then)\n")) < 0 ||
	    (error = rdo_status(b, json_object_get(r, "status_at_end"))) < 0 ||
	    (error = cbuf_printf(b, "\nA detention with no news for more than %lld days counts"
	    " as a disappearance.\n", rdo_int(r, "disappeared_after_days"))) < 0)
		goto done;
done:
	rdo_table_free(&t);
	return error;
}

/* One CSV field, quoted when it holds , " CR or LF; then "," or the CRLF of the row. */
static int
rdo_csv_field(struct cbuf *b, const char *s, int last)
{
	const char *p;
	int error = 0;

	if (s[strcspn(s, ",\"\r\n")] == '\0') {
		error = cbuf_puts(b, s);
	} else {
		error = cbuf_put(b, "\"", 1);
		for (p = s; *p != '\0' && error == 0; p++)
			error = *p == '"' ? cbuf_put(b, "\"\"", 2) : cbuf_put(b, p, 1);
		if (error == 0)
			error = cbuf_put(b, "\"", 1);
	}
	if (error == 0)
		error = cbuf_puts(b, last ? "\r\n" : ",");
	return error;
}

/* One "section,key,metric,value" row. */
static int
rdo_csv_row(struct cbuf *b, const char *section, const char *key, const char *metric,
    const char *value)
{
	int error;

	if ((error = rdo_csv_field(b, section, 0)) < 0 || (error = rdo_csv_field(b, key, 0)) < 0 ||
	    (error = rdo_csv_field(b, metric, 0)) < 0)
		return error;
	return rdo_csv_field(b, value, 1);
}

/* A row of an integer member of o. */
static int
rdo_csv_int(struct cbuf *b, const char *section, const char *key, const json_t *o,
    const char *metric)
{
	return rdo_csv_row(b, section, key, metric, rdo_num(rdo_int(o, metric)));
}

/* The rows of a keyed object: {k: n} under metric, or {k: {m: n}} for each m of metrics. */
static int
rdo_csv_keyed(struct cbuf *b, const char *section, const json_t *o, const char *metric,
    const char *const *metrics)
{
	char pct[32];
	const char *k;
	json_t *v;
	size_t i;
	int error = 0;

	json_object_foreach((json_t *)o, k, v) {
		if (metrics == NULL) {
			error = rdo_csv_row(b, section, k, metric, rdo_num(json_integer_value(v)));
		} else {
			for (i = 0; metrics[i] != NULL && error == 0; i++) {
				if (strcmp(metrics[i], "percent") != 0) {
					error = rdo_csv_int(b, section, k, v, metrics[i]);
					continue;
				}
				snprintf(pct, sizeof pct, "%.1f", json_number_value(json_object_get(v,
				    "percent")));
				error = rdo_csv_row(b, section, k, "percent", pct);
			}
		}
		if (error < 0)
			return error;
	}
	return 0;
}

/* The report as CSV. */
int
report_detentions_csv(struct cbuf *b, const json_t *r)
{
	static const char *const party_metrics[] = { "arrests", "children", "women", NULL };
	static const char *const gov_metrics[] = { "arrests", "percent", NULL };
	static const char *const totals[] = { "arrests", "children", "women", "released",
	    "disappeared_after_days", NULL };
	const json_t *period = json_object_get(r, "period"), *died = json_object_get(r,
	    "died_in_custody"), *st = json_object_get(r, "status_at_end");
	size_t i;
	int error;

	if ((error = cbuf_puts(b, "section,key,metric,value\r\n")) < 0 ||
	    (error = rdo_csv_row(b, "period", "", "from", rdo_str(period, "from"))) < 0 ||
	    (error = rdo_csv_row(b, "period", "", "to", rdo_str(period, "to"))) < 0)
		return error;
	for (i = 0; totals[i] != NULL; i++)
		if ((error = rdo_csv_int(b, "totals", "all", r, totals[i])) < 0)
			return error;
	if ((error = rdo_csv_keyed(b, "by_party", json_object_get(r, "by_party"), NULL,
	    party_metrics)) < 0 ||
	    (error = rdo_csv_keyed(b, "by_governorate", json_object_get(r, "by_governorate"),
	    NULL, gov_metrics)) < 0 ||
	    (error = rdo_csv_int(b, "died_in_custody", "all", died, "count")) < 0 ||
	    (error = rdo_csv_keyed(b, "died_in_custody_by_party", json_object_get(died,
	    "by_party"), "died_in_custody", NULL)) < 0)
		return error;
	for (i = 0; i < sizeof rdo_statuses / sizeof rdo_statuses[0]; i++)
		if ((error = rdo_csv_int(b, "status_at_end", "all", st, rdo_statuses[i][0])) < 0)
			return error;
	return 0;
}
