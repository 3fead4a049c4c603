/*
 * The one calendar (domain/cdate.c): every day of 1900-2100 parsed and counted as the C
 * library's timegm() counts it, and the month lengths the report periods take from it.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "custody/records.h"
#include "report.h"

/* Every day of 1900-2100, against timegm; the day after a month's last is refused. */
static void
test_every_day(void **state)
{
	struct cdate d;
	struct tm tm;
	char s[40];
	int y, m, day, n = 0;

	(void)state;
	for (y = 1900; y <= 2100; y++)
		for (m = 1; m <= 12; m++) {
			for (day = 1; day <= cdate_mdays(y, m); day++, n++) {
				snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, day);
				assert_int_equal(cdate_parse(&d, s), 0);
				assert_string_equal(d.first, s);
				assert_string_equal(d.last, s);
				memset(&tm, 0, sizeof tm);
				tm.tm_year = y - 1900;
				tm.tm_mon = m - 1;
				tm.tm_mday = day;
				assert_int_equal(cdate_days(y, m, day) * 86400, (int64_t)timegm(&tm));
				assert_int_equal(report_check_date(s), 0);
			}
			snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, day);
			assert_int_equal(cdate_parse(&d, s), CUSTODY_EINVAL);
			assert_int_equal(report_check_date(s), CUSTODY_EINVAL);
		}
	assert_int_equal(n, 73414);
	/* the first and last days of a month or a year */
	assert_int_equal(cdate_parse(&d, "2024-02"), 0);
	assert_string_equal(d.first, "2024-02-01");
	assert_string_equal(d.last, "2024-02-29");
	assert_int_equal(cdate_parse(&d, "1900"), 0);
	assert_string_equal(d.first, "1900-01-01");
	assert_string_equal(d.last, "1900-12-31");
	assert_int_equal(cdate_parse(&d, "2100-11"), 0);
	assert_string_equal(d.last, "2100-11-30");
	assert_int_equal(cdate_days(1970, 1, 1), 0);
	assert_int_equal(cdate_days(1969, 12, 31), -1);
	assert_int_equal(cdate_mdays(2000, 2), 29);
	assert_int_equal(cdate_mdays(1900, 2), 28);
	assert_int_equal(cdate_mdays(2024, 2), 29);
	assert_int_equal(cdate_mdays(2100, 2), 28);
}

/* The report's periods are the first and last days cdate gives a month or a year. */
static void
test_report_period(void **state)
{
	char from[11], to[11];

	(void)state;
	assert_int_equal(report_period(from, to, "2024-02", NULL), 0);
	assert_string_equal(from, "2024-02-01");
	assert_string_equal(to, "2024-02-29");
	assert_int_equal(report_period(from, to, "1900-02", NULL), 0);
	assert_string_equal(to, "1900-02-28");
	assert_int_equal(report_period(from, to, NULL, "2023"), 0);
	assert_string_equal(from, "2023-01-01");
	assert_string_equal(to, "2023-12-31");
	assert_int_equal(report_period(from, to, "2024-13", NULL), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "bad month"));
	assert_int_equal(report_period(from, to, "2024-2", NULL), CUSTODY_EINVAL);
	assert_int_equal(report_period(from, to, NULL, "1899"), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "bad year"));
	assert_int_equal(report_period(from, to, NULL, "2024-01"), CUSTODY_EINVAL);
	assert_int_equal(report_period(from, to, "2024-01", "2024"), CUSTODY_EINVAL);
	assert_int_equal(report_check_date("2024-02-30"), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "bad date"));
	assert_int_equal(report_check_date("2024-02"), CUSTODY_EINVAL);
	assert_int_equal(report_check_date(NULL), CUSTODY_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_day),
		cmocka_unit_test(test_report_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
