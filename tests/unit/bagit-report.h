/* How the BagIt tests look for a finding in a validation report, and print one. */
#ifndef CUSTODY_TEST_BAGIT_REPORT_H
#define CUSTODY_TEST_BAGIT_REPORT_H

/* True when the report has a finding whose file and text contain the given parts. */
static int
has_finding(const struct bagit_report *r, int warning, const char *file,
    const char *what)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->items[i].warning == warning &&
		    (file == NULL || strstr(r->items[i].file, file)) &&
		    (what == NULL || strstr(r->items[i].what, what)))
			return 1;
	return 0;
}

/* Print a report (shown by cmocka when a test fails). */
static void
show(const char *dir, const struct bagit_report *r)
{
	struct cbuf b = { 0 };

	assert_int_equal(bagit_report_format(&b, r), 0);
	print_message("%s:\n%s", dir, b.data ? (char *)b.data : "");
	cbuf_free(&b);
}

#endif
