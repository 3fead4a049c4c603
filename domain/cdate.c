/* Calendar dates with a precision (day, month or year), as the casualty records carry them. */
#include <string.h>

#include "custody/records.h"

#define CDATE_YEAR_MIN 1900
#define CDATE_YEAR_MAX 2100

/* True for a Gregorian leap year. */
static int
cdate_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The number of days in month m (1-12) of year y. */
int
cdate_mdays(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && cdate_leap(y))
		return 29;
	return days[m - 1];
}

/* Exactly n ASCII digits at s as a number, or -1. */
int
cdate_digits(const char *s, size_t n)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a checked date, counting years from March (leap day last). */
int64_t
cdate_days(int y, int m, int d)
{
	int64_t yy, era, yoe, doy, doe;

	yy = m <= 2 ? y - 1 : y;
	era = (yy >= 0 ? yy : yy - 399) / 400;
	yoe = yy - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n decimal digits of v into out, zero-padded. */
static void
cdate_put(char *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * "YYYY-MM-DD" of a checked date into out (11 bytes), written by hand: every date of a
 * report is parsed, and snprintf was most of the parse.
 */
static void
cdate_format(char out[static 11], int y, int m, int d)
{
	cdate_put(out, (unsigned)y % 10000u, 4);
	out[4] = '-';
	cdate_put(out + 5, (unsigned)m % 100u, 2);
	out[7] = '-';
	cdate_put(out + 8, (unsigned)d % 100u, 2);
	out[10] = '\0';
}

/*
 * Parse "YYYY", "YYYY-MM" or "YYYY-MM-DD" exactly (no signs, spaces or short forms such as
 * "2024-1-5": the text kept is then always the canonical one) into a checked calendar date.
 */
int
cdate_parse(struct cdate *d, const char *s)
{
	size_t len;
	int y, m = 0, day = 0;

	memset(d, 0, sizeof *d);
	if (s == NULL)
		return custody_fail(CUSTODY_EINVAL, "no date");
	len = strlen(s);
	if (len != 4 && len != 7 && len != 10)
		goto bad;
	if ((y = cdate_digits(s, 4)) < 0)
		goto bad;
	if (len >= 7 && (s[4] != '-' || (m = cdate_digits(s + 5, 2)) < 0))
		goto bad;
	if (len == 10 && (s[7] != '-' || (day = cdate_digits(s + 8, 2)) < 0))
		goto bad;
	if (y < CDATE_YEAR_MIN || y > CDATE_YEAR_MAX)
		return custody_fail(CUSTODY_EINVAL, "year %d outside %d-%d", y, CDATE_YEAR_MIN,
		    CDATE_YEAR_MAX);
	if (len >= 7 && (m < 1 || m > 12))
		return custody_fail(CUSTODY_EINVAL, "no month %02d", m);
	if (len == 10 && (day < 1 || day > cdate_mdays(y, m)))
		return custody_fail(CUSTODY_EINVAL, "no day %02d in %04d-%02d", day, y, m);

	d->year = y;
	d->month = m;
	d->day = day;
	d->precision = len == 10 ? DATE_DAY : len == 7 ? DATE_MONTH : DATE_YEAR;
	cdate_format(d->first, y, m ? m : 1, day ? day : 1);
	cdate_format(d->last, y, m ? m : 12, day ? day : cdate_mdays(y, m ? m : 12));
	return 0;

bad:
	return custody_fail(CUSTODY_EINVAL, "not a date (YYYY-MM-DD, YYYY-MM or YYYY)");
}

/* The name of a precision: "day", "month" or "year". */
const char *
cdate_precision_name(enum date_precision p)
{
	switch (p) {
	case DATE_DAY:		return "day";
	case DATE_MONTH:	return "month";
	case DATE_YEAR:		return "year";
	}
	return "unknown";
}
