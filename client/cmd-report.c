/* custody report: the statistics of a month, a year or any period, as text, JSON or CSV. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records-cmd.h"
#include "records-out.h"

#define REPORT_COLS 5

static int cmd_report_exec(const struct cmd_ctx *, const struct cmd_args *);

static const struct option cmd_report_options[] = {
	{ "month", required_argument, NULL, 'm' },
	{ "year", required_argument, NULL, 'y' },
	{ "from", required_argument, NULL, 'F' },
	{ "to", required_argument, NULL, 'T' },
	{ "basis", required_argument, NULL, 'b' },
	{ "format", required_argument, NULL, RC_OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.usage = "(--month YYYY-MM | --year YYYY | --from YYYY-MM-DD --to YYYY-MM-DD) "
	    "[--basis documented|death] [--format text|json|csv]",
	.help = "Print the casualty statistics of a month, year or period.",
	.options = cmd_report_options,
	.lower = 0,
	.upper = 0,
	.exec = cmd_report_exec,
};

static const char *const report_months[] = { "January", "February", "March", "April", "May",
    "June", "July", "August", "September", "October", "November", "December" };

/* A text table: cells of the first column left-aligned, the others right-aligned. */
struct report_table {
	size_t	 ncols, nrows;
	char	*(*cell)[REPORT_COLS];
};

/* The period from the options into from/to (11 bytes each). */
void
report_period(const struct cmd_args *args, char *from, char *to)
{
	const char *month = cmd_get(args, 'm'), *year = cmd_get(args, 'y');
	const char *f = cmd_get(args, 'F'), *t = cmd_get(args, 'T');
	struct cdate d;

	if ((month != NULL) + (year != NULL) + (f != NULL || t != NULL) != 1)
		cmd_usage_error(args->entry, "give one of --month, --year or --from and --to");
	if (month != NULL) {
		if (strlen(month) != 7 || cdate_parse(&d, month) < 0 || d.precision != DATE_MONTH)
			cmd_usage_error(args->entry, "--month needs YYYY-MM, not '%s'", month);
		snprintf(from, 11, "%s", d.first);
		snprintf(to, 11, "%s", d.last);
		return;
	}
	if (year != NULL) {
		if (strlen(year) != 4 || cdate_parse(&d, year) < 0 || d.precision != DATE_YEAR)
			cmd_usage_error(args->entry, "--year needs YYYY, not '%s'", year);
		snprintf(from, 11, "%s", d.first);
		snprintf(to, 11, "%s", d.last);
		return;
	}
	if (f == NULL || t == NULL)
		cmd_usage_error(args->entry, "--from and --to go together");
	if (strlen(f) != 10 || cdate_parse(&d, f) < 0 || d.precision != DATE_DAY)
		cmd_usage_error(args->entry, "--from needs a real day YYYY-MM-DD, not '%s'", f);
	if (strlen(t) != 10 || cdate_parse(&d, t) < 0 || d.precision != DATE_DAY)
		cmd_usage_error(args->entry, "--to needs a real day YYYY-MM-DD, not '%s'", t);
	if (strcmp(f, t) > 0)
		cmd_usage_error(args->entry, "--to %s is before --from %s", t, f);
	snprintf(from, 11, "%s", f);
	snprintf(to, 11, "%s", t);
}

/* An integer member (0 when absent). */
static long long
report_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Add a row of n cells (copied). */
static void
report_row(struct report_table *t, size_t n, ...)
{
	va_list ap;
	size_t i;

	if ((t->cell = reallocarray(t->cell, t->nrows + 1, sizeof *t->cell)) == NULL)
		client_fatal("out of memory");
	memset(t->cell[t->nrows], 0, sizeof t->cell[0]);
	va_start(ap, n);
	for (i = 0; i < n && i < REPORT_COLS; i++)
		if ((t->cell[t->nrows][i] = strdup(va_arg(ap, const char *))) == NULL)
			client_fatal("out of memory");
	va_end(ap);
	t->ncols = n > t->ncols ? n : t->ncols;
	t->nrows++;
}

/* Print a table indented by two spaces (row 0 is the heading), then free its cells. */
static void
report_table_print(struct report_table *t)
{
	size_t w[REPORT_COLS] = { 0 }, i, j, cw;
	char *s;

	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < t->ncols; j++) {
			s = client_safe(t->cell[i][j] ? t->cell[i][j] : "");
			free(t->cell[i][j]);
			t->cell[i][j] = s;
			if ((cw = client_width(s)) > w[j])
				w[j] = cw;
		}
	for (i = 0; i < t->nrows; i++) {
		fputs("  ", stdout);
		for (j = 0; j < t->ncols; j++) {
			cw = client_width(t->cell[i][j]);
			if (j == 0) {
				client_print_padded(stdout, t->cell[i][j], w[j]);
			} else {
				printf("%*s%s", (int)(w[j] - cw + 2), "", t->cell[i][j]);
			}
			free(t->cell[i][j]);
		}
		putchar('\n');
	}
	free(t->cell);
	memset(t, 0, sizeof *t);
}

/* A number as text in a small static ring (so several can be in one report_row call). */
static const char *
report_num(long long v)
{
	static char ring[8][24];
	static int next;
	char *s = ring[next++ % 8];

	snprintf(s, sizeof ring[0], "%lld", v);
	return s;
}

/* A label for a key of a by_party / by_governorate / by_month object. */
static const char *
report_key_label(char *buf, size_t len, const char *key, int title)
{
	struct cdate d;

	if (strlen(key) == 7 && cdate_parse(&d, key) == 0 && d.precision == DATE_MONTH) {
		snprintf(buf, len, "%s %04d", report_months[d.month - 1], d.year);
		return buf;
	}
	return rout_label(buf, len, key, title);
}

/* A key of a keyed object with the count it is sorted by. */
struct report_key {
	const char	*key;
	long long	 n;
};

/* Largest count first; "unknown" last; then by key. */
static int
report_key_cmp(const void *a, const void *b)
{
	const struct report_key *x = a, *y = b;
	int ux = strcmp(x->key, "unknown") == 0, uy = strcmp(y->key, "unknown") == 0;

	if (ux != uy)
		return ux - uy;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The keys of o by count (member metric of each value, or the value itself); caller frees. */
static struct report_key *
report_sorted(const json_t *o, const char *metric, size_t *n)
{
	struct report_key *k;
	const char *key;
	json_t *v;

	*n = 0;
	if ((k = calloc(json_object_size(o) + 1, sizeof *k)) == NULL)
		client_fatal("out of memory");
	json_object_foreach((json_t *)o, key, v) {
		k[*n].key = key;
		k[(*n)++].n = metric != NULL ? report_int(v, metric) : json_integer_value(v);
	}
	qsort(k, *n, sizeof *k, report_key_cmp);
	return k;
}

/* A table of an object keyed by party: {party: {victims, children, women}} or {party: N}. */
static void
report_by_party(const json_t *o, const char *metric)
{
	struct report_table t = { 0 };
	struct report_key *keys;
	const char *key, *name;
	long long sum[3] = { 0 };
	size_t i, n;
	char label[80];
	json_t *v;

	if (json_object_size(o) == 0) {
		puts("  (none)");
		return;
	}
	if (metric == NULL)
		report_row(&t, 4, "Party", "Victims", "Children", "Women");
	else
		report_row(&t, 2, "Party", metric);
	keys = report_sorted(o, metric == NULL ? "victims" : NULL, &n);
	for (i = 0; i < n; i++) {
		key = keys[i].key;
		v = json_object_get(o, key);
		name = rout_label(label, sizeof label, key, 0);
		if (metric == NULL) {
			report_row(&t, 4, name, report_num(report_int(v, "victims")),
			    report_num(report_int(v, "children")), report_num(report_int(v, "women")));
			sum[0] += report_int(v, "victims");
			sum[1] += report_int(v, "children");
			sum[2] += report_int(v, "women");
		} else {
			report_row(&t, 2, name, report_num(json_integer_value(v)));
			sum[0] += json_integer_value(v);
		}
	}
	free(keys);
	if (metric == NULL)
		report_row(&t, 4, "Total", report_num(sum[0]), report_num(sum[1]),
		    report_num(sum[2]));
	else
		report_row(&t, 2, "Total", report_num(sum[0]));
	report_table_print(&t);
}

/* The readable report. */
static void
report_text(const json_t *r, const char *from, const char *to, const char *basis)
{
	const json_t *gov = json_object_get(r, "by_governorate"), *tort = json_object_get(r,
	    "torture"), *cats = json_object_get(r, "categories"), *mas = json_object_get(r,
	    "massacres"), *c;
	struct report_table t = { 0 };
	struct report_key *keys;
	char label[80], pct[32], month[8];
	const char *key;
	struct cdate d;
	size_t i, n;
	json_t *v;
	int first = 1;

	if (strcmp(from + 4, "-01-01") == 0 && strcmp(to + 4, "-12-31") == 0 &&
	    strncmp(from, to, 4) == 0)
		printf("Casualty report for %.4s", from);
	else if (snprintf(month, sizeof month, "%.7s", to) > 0 && cdate_parse(&d, month) == 0 &&
	    strcmp(from, d.first) == 0 && strcmp(to, d.last) == 0)
		printf("Casualty report for %s %d", report_months[d.month - 1], d.year);
	else
		printf("Casualty report, %s to %s", from, to);
	printf(", by date of %s\n\n", strcmp(basis, "death") == 0 ? "death" : "documentation");

	puts("Totals (civilians)");
	report_row(&t, 2, "Victims", report_num(report_int(r, "victims")));
	report_row(&t, 2, "Children", report_num(report_int(r, "children")));
	report_row(&t, 2, "Women", report_num(report_int(r, "women")));
	report_row(&t, 2, "Non-civilians excluded", report_num(report_int(r,
	    "non_civilians_excluded")));
	report_table_print(&t);

	puts("\nVictims by party");
	report_by_party(json_object_get(r, "by_party"), NULL);

	puts("\nVictims by governorate");
	if (json_object_size(gov) > 0)
		report_row(&t, 3, "Governorate", "Victims", "Share");
	keys = report_sorted(gov, "victims", &n);
	for (i = 0; i < n; i++) {
		key = keys[i].key;
		v = json_object_get(gov, key);
		snprintf(pct, sizeof pct, "%.1f%%", json_number_value(json_object_get(v,
		    "percent")));
		report_row(&t, 3, rout_label(label, sizeof label, key, 1),
		    report_num(report_int(v, "victims")), pct);
	}
	free(keys);
	if (json_object_size(gov) == 0)
		puts("  (none)");
	else
		report_table_print(&t);

	printf("\nDeaths under torture: %lld (children %lld, women %lld)\n",
	    report_int(tort, "victims"), report_int(tort, "children"), report_int(tort, "women"));
	report_by_party(json_object_get(tort, "by_party"), NULL);

	puts("\nMedical personnel, civil defense and media workers");
	json_object_foreach((json_t *)cats, key, c) {
		printf("%s%s: %lld\n", first ? "" : "\n", rout_label(label, sizeof label, key, 0),
		    report_int(c, "victims"));
		first = 0;
		report_by_party(json_object_get(c, "by_party"), "Victims");
	}

	printf("\nMassacres (incidents with %lld or more civilian victims): %lld\n",
	    report_int(mas, "threshold"), report_int(mas, "count"));
	report_by_party(json_object_get(mas, "by_party"), "Massacres");

	puts("\nVictims by month");
	if (json_object_size(json_object_get(r, "by_month")) == 0) {
		puts("  (none)");
		return;
	}
	report_row(&t, 2, "Month", "Victims");
	json_object_foreach(json_object_get(r, "by_month"), key, v)
		report_row(&t, 2, report_key_label(label, sizeof label, key, 0),
		    report_num(json_integer_value(v)));
	report_table_print(&t);
}

/* One "section,key,metric,value" row. */
static void
report_csv_row(const char *section, const char *key, const char *metric, const json_t *v)
{
	char *s = rout_text(v);

	rout_csv_field(stdout, section, 0);
	rout_csv_field(stdout, key, 0);
	rout_csv_field(stdout, metric, 0);
	rout_csv_field(stdout, s, 1);
	free(s);
}

/* Rows for every scalar member of o, as section,key,member,value. */
static void
report_csv_scalars(const char *section, const char *key, const json_t *o)
{
	const char *m;
	json_t *v;

	json_object_foreach((json_t *)o, m, v)
		if (!json_is_object(v) && !json_is_array(v))
			report_csv_row(section, key, m, v);
}

/* Rows of an object keyed by party, governorate or month: {k: {m: v}} or {k: v}. */
static void
report_csv_keyed(const char *section, const json_t *o, const char *metric)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		if (json_is_object(v))
			report_csv_scalars(section, k, v);
		else
			report_csv_row(section, k, metric, v);
	}
}

/* The report as CSV, one section per table. */
static void
report_csv(const json_t *r)
{
	const json_t *tort = json_object_get(r, "torture"), *cats = json_object_get(r,
	    "categories"), *mas = json_object_get(r, "massacres");
	const char *k;
	json_t *c;

	fputs("section,key,metric,value\r\n", stdout);
	report_csv_scalars("period", "", json_object_get(r, "period"));
	report_csv_scalars("totals", "all", r);
	report_csv_keyed("by_party", json_object_get(r, "by_party"), "victims");
	report_csv_keyed("by_governorate", json_object_get(r, "by_governorate"), "victims");
	report_csv_scalars("torture", "all", tort);
	report_csv_keyed("torture_by_party", json_object_get(tort, "by_party"), "victims");
	json_object_foreach((json_t *)cats, k, c)
		report_csv_scalars("categories", k, c);
	json_object_foreach((json_t *)cats, k, c)
		report_csv_keyed("categories_by_party", json_object_get(c, "by_party"), k);
	report_csv_scalars("massacres", "all", mas);
	report_csv_keyed("massacres_by_party", json_object_get(mas, "by_party"), "massacres");
	report_csv_keyed("by_month", json_object_get(r, "by_month"), "victims");
}

/* Ask for the report and print it. */
static int
cmd_report_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__ReportRequest rr = CUSTODY__REPORT_REQUEST__INIT;
	enum rout_format fmt = rout_format(args, RC_OPT_FORMAT, ctx->json, ROUT_TEXT);
	const char *basis = cmd_get(args, 'b');
	char from[11], to[11];
	struct client c;
	json_t *r;

	report_period(args, from, to);
	if (basis == NULL)
		basis = "documented";
	if (strcmp(basis, "documented") != 0 && strcmp(basis, "death") != 0)
		cmd_usage_error(args->entry, "--basis is documented or death, not '%s'", basis);
	rr.from = from;
	rr.to = to;
	rr.basis = (char *)basis;
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_REPORT_REQUEST;
	req.report_request = &rr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_REPORT_REPLY);
	r = rout_parse(reply->report_reply->json, "report");
	wire_free(reply);
	client_close(&c);
	if (!json_is_object(r))
		client_fatal("custodyd sent a report that is not a JSON object");
	if (fmt == ROUT_JSON) {
		rout_json(r);
		return client_finish_stdout();
	}
	if (fmt == ROUT_CSV)
		report_csv(r);
	else
		report_text(r, from, to, basis);
	json_decref(r);
	return client_finish_stdout();
}
