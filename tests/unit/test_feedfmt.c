/*
 * The feed format (proto/feedfmt.c): ref names and record paths written and parsed strictly,
 * and the tree entries a feed commit may hold. The daemon (feeds, sync, verify, extract) and
 * the dossier verifier read them through these functions only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "custody/common.h"
#include "custody/feedfmt.h"

#define OFFICE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TOKEN "c0ffee0123456789abcdef0123456789"

static void
test_ref(void **state)
{
	char ref[FEEDFMT_REF_LEN + 1];
	const char *hex;

	(void)state;
	assert_int_equal(feedfmt_ref(ref, OFFICE), 0);
	assert_string_equal(ref, "refs/feeds/" OFFICE);
	hex = feedfmt_ref_office(ref);
	assert_non_null(hex);
	assert_string_equal(hex, OFFICE);
	/* the writer takes only an office key */
	assert_int_equal(feedfmt_ref(ref, "0123"), CUSTODY_EINVAL);
	assert_string_equal(ref, "");
	assert_int_equal(feedfmt_ref(ref, "0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef"), CUSTODY_EINVAL);
	assert_int_equal(feedfmt_ref(ref, OFFICE "0"), CUSTODY_EINVAL);
	/* the parser takes only exactly refs/feeds/ and 64 lower-case hex digits */
	assert_null(feedfmt_ref_office("refs/feeds/"));
	assert_null(feedfmt_ref_office("refs/feeds/" OFFICE "0"));
	assert_null(feedfmt_ref_office("refs/feeds/" OFFICE "/x"));
	assert_null(feedfmt_ref_office("refs/feeds/0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef"));
	assert_null(feedfmt_ref_office("refs/heads/" OFFICE));
	assert_null(feedfmt_ref_office("refs/feeds//123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef"));
	assert_null(feedfmt_ref_office("refs/feeds/g123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef"));
}

static void
test_record_path(void **state)
{
	char path[FEEDFMT_PATH_LEN + 1];
	const char *tok;

	(void)state;
	assert_int_equal(feedfmt_record_path(path, TOKEN), 0);
	assert_string_equal(path, "records/c0/ff/" TOKEN);
	tok = feedfmt_record_token(path);
	assert_non_null(tok);
	assert_string_equal(tok, TOKEN);
	assert_int_equal(feedfmt_record_path(path, "c0ffee"), CUSTODY_EINVAL);
	assert_string_equal(path, "");
	assert_int_equal(feedfmt_record_path(path, "C0FFEE0123456789abcdef0123456789"),
	    CUSTODY_EINVAL);
	/* misplaced, malformed, or too long */
	assert_null(feedfmt_record_token("records/c0/fe/" TOKEN));
	assert_null(feedfmt_record_token("records/ff/c0/" TOKEN));
	assert_null(feedfmt_record_token("records/c0ff/e/" TOKEN));
	assert_null(feedfmt_record_token("records/c0/ffx" TOKEN));
	assert_null(feedfmt_record_token("records/c0/ff/" TOKEN "0"));
	assert_null(feedfmt_record_token("records/c0/ff/C0FFEE0123456789abcdef0123456789"));
	assert_null(feedfmt_record_token("recordz/c0/ff/" TOKEN));
	assert_null(feedfmt_record_token("records/c0/ff/c0ffee0123456789abcdef012345678/"));
	assert_null(feedfmt_record_token(""));
}

static void
test_entries(void **state)
{
	(void)state;
	assert_int_equal(feedfmt_entry_ok("", "records", 1), 1);
	assert_int_equal(feedfmt_entry_ok("", "records", 0), 0);
	assert_int_equal(feedfmt_entry_ok("", "evil", 1), 0);
	assert_int_equal(feedfmt_entry_ok("", TOKEN, 0), 0);
	assert_int_equal(feedfmt_entry_ok("records/", "c0", 1), 1);
	assert_int_equal(feedfmt_entry_ok("records/", "C0", 1), 0);
	assert_int_equal(feedfmt_entry_ok("records/", "c0f", 1), 0);
	assert_int_equal(feedfmt_entry_ok("records/", TOKEN, 0), 0);
	assert_int_equal(feedfmt_entry_ok("records/c0/", "ff", 1), 1);
	assert_int_equal(feedfmt_entry_ok("records/zz/", "ff", 1), 0);
	assert_int_equal(feedfmt_entry_ok("records/c0/ff/", "00", 1), 0);
	assert_int_equal(feedfmt_entry_ok("records/c0/ff/", TOKEN, 0), 1);
	assert_int_equal(feedfmt_entry_ok("records/c0/fe/", TOKEN, 0), 0);
	assert_int_equal(feedfmt_entry_ok("records/c0/ff/", TOKEN "0", 0), 0);
	assert_int_equal(feedfmt_entry_ok("records/c0/ff/", "c0ff", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_record_path),
		cmocka_unit_test(test_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
