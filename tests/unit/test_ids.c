/*
 * The record id and office name rules (domain/ids.c), and that every place that checks an id or
 * an office name (the daemon, invitations) applies them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "custody/ids.h"
#include "custody/invite.h"

static int
id_ok(const char *s)
{
	return ids_record_ok(s, strlen(s));
}

static int
name_ok(const char *s)
{
	return ids_office_name_ok(s, strlen(s));
}

/* Every checker of ids agrees with ids_record_ok on s. */
static void
id_everywhere(const char *s, int want)
{
	assert_int_equal(id_ok(s), want);
	assert_int_equal(archive_check_id(s) == 0, want);
}

/* Every checker of office names agrees with ids_office_name_ok on s. */
static void
name_everywhere(const char *s, int want)
{
	assert_int_equal(name_ok(s), want);
	assert_int_equal(archive_check_name(s) == 0, want);
	assert_int_equal(invite_check_name(s) == 0, want);
}

static void
test_record_id(void **state)
{
	char s[IDS_RECORD_MAX + 2];

	(void)state;
	id_everywhere("V-1", 1);
	id_everywhere("a", 1);
	id_everywhere("inc:2024.03_aleppo-7", 1);
	id_everywhere("_x", 1);
	id_everywhere("", 0);
	id_everywhere(".hidden", 0);
	id_everywhere("-flag", 0);
	id_everywhere("a/b", 0);
	id_everywhere("a b", 0);
	id_everywhere("a\\b", 0);
	id_everywhere("\xd9\x85", 0);	/* a letter, but not ASCII */
	memset(s, 'x', sizeof s);
	s[IDS_RECORD_MAX] = '\0';
	id_everywhere(s, 1);
	s[IDS_RECORD_MAX] = 'x';
	s[IDS_RECORD_MAX + 1] = '\0';
	id_everywhere(s, 0);
	/* n bytes, not up to a NUL: the CSV parser checks fields in place */
	assert_int_equal(ids_record_ok("ab/", 2), 1);
	assert_int_equal(ids_record_ok("a\0b", 3), 0);
}

static void
test_office_name(void **state)
{
	char s[IDS_OFFICE_NAME_MAX + 2];

	(void)state;
	name_everywhere("aleppo", 1);
	name_everywhere("HQ.geneva_2-b", 1);
	name_everywhere("", 0);
	name_everywhere(".office", 0);
	name_everywhere("-office", 0);
	name_everywhere("a:b", 0);	/* ':' is for ids only */
	name_everywhere("a b", 0);
	name_everywhere("a/b", 0);
	name_everywhere("a\nb", 0);
	memset(s, 'o', sizeof s);
	s[IDS_OFFICE_NAME_MAX] = '\0';
	name_everywhere(s, 1);
	s[IDS_OFFICE_NAME_MAX] = 'o';
	s[IDS_OFFICE_NAME_MAX + 1] = '\0';
	name_everywhere(s, 0);
	assert_int_equal(ids_office_name_ok("ab\n", 2), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_id),
		cmocka_unit_test(test_office_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
