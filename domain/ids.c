/* The record id and office name rules (include/custody/ids.h). */
#include "custody/ids.h"

/* 1 for [A-Za-z0-9._-], and for ':' when colon is set. */
static int
ids_char_ok(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-' || (colon && c == ':');
}

/* 1 when s[0..n) has 1-max allowed bytes and does not start with '.' or '-'. */
static int
ids_ok(const char *s, size_t n, size_t max, int colon)
{
	size_t i;

	if (n == 0 || n > max || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!ids_char_ok(s[i], colon))
			return 0;
	return 1;
}

/* Is this a record id? */
int
ids_record_ok(const char *s, size_t n)
{
	return ids_ok(s, n, IDS_RECORD_MAX, 1);
}

/* Is this an office name? */
int
ids_office_name_ok(const char *s, size_t n)
{
	return ids_ok(s, n, IDS_OFFICE_NAME_MAX, 0);
}
