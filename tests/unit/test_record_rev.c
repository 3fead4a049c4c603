/*
 * The "rev" of an import's commit put into records already encoded (daemon/engine/record-rev.c): the
 * bytes must be exactly those of the record stamped with "rev" and encoded as record_seal
 * encodes it (compact, sorted keys, ASCII), whatever the record holds: keys on either side of
 * "rev" and close to it, strings with quotes, backslashes, braces and non-ASCII text, nested
 * objects (sealed fields) and arrays. A record that already has a "rev", or is not an object,
 * is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"

static const char *const docs[] = {
	"{}",
	"{\"kind\":\"victim\",\"id\":\"V1\"}",
	"{\"a\":1}",
	"{\"zz\":1}",
	"{\"re\":1,\"rev_\":2,\"reu\":3,\"rew\":4,\"r\":5,\"revision\":6}",
	"{\"id\":\"V0000042\",\"kind\":\"victim\",\"name\":\"\\u0623\\u062d\\u0645\\u062f "
	    "Haddad\",\"sex\":\"male\",\"age\":34,\"status\":\"civilian\","
	    "\"categories\":[\"medical\",\"media\"],\"date_of_death\":\"2023-04-05\","
	    "\"governorate\":\"idlib\",\"party\":\"russia\",\"cause\":\"shelling\"}",
	"{\"name\":\"a \\\"quoted\\\" name, with {braces} and [brackets]: \\\\ \",\"x\":\"}\","
	    "\"sex\":\"female\"}",
	"{\"notes\":{\"sealed\":\"AAAA\",\"v\":1,\"rev\":\"inner\"},\"status\":\"combatant\","
	    "\"tags\":[{\"a\":[1,2,{\"b\":\"c,d\"}]},[],{}],\"z\":null,\"y\":true,\"w\":false}",
	"{\"kind\":\"source\",\"name\":\"\\ud83d\\ude00 \\u00e9t\\u00e9\",\"q\":\"\\n\\t\\u0001\"}",
};

static void
test_rev_same_bytes(void **state)
{
	struct cbuf member = { 0 }, out = { 0 };
	json_error_t jerr;
	json_t *doc, *rev;
	char *canon, *want;
	size_t i;

	(void)state;
	assert_int_equal(record_rev_member(&member, 1234567, "ab01cd", "2026-12-05T20:00:00Z",
	    "import 250000 victim records"), 0);
	for (i = 0; i < sizeof docs / sizeof *docs; i++) {
		assert_non_null(doc = json_loads(docs[i], 0, &jerr));
		/* what the import keeps: the content hash's encoding */
		assert_non_null(canon = json_dumps(doc, RECORD_CONTENT_JSON));
		/* what record_seal encodes once the record is stamped */
		assert_non_null(rev = json_pack("{s:I,s:s,s:s,s:s}", "lamport",
		    (json_int_t)1234567, "office", "ab01cd", "time", "2026-12-05T20:00:00Z",
		    "summary", "import 250000 victim records"));
		assert_int_equal(json_object_set_new(doc, "rev", rev), 0);
		assert_non_null(want = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENSURE_ASCII));
		assert_int_equal(record_rev_splice(&out, canon, strlen(canon), &member), 0);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.data, want, out.len);
		free(canon);
		free(want);
		json_decref(doc);
	}
	cbuf_free(&out);
	cbuf_free(&member);
}

static void
test_rev_refused(void **state)
{
	struct cbuf member = { 0 }, out = { 0 };
	static const char *const bad[] = { "", "{", "[1]", "{\"rev\":1}", "{\"a\":1,\"rev\":{}}",
	    "{\"a\"}", "{a:1}", "{\"a\":\"1}" };
	size_t i;

	(void)state;
	assert_int_equal(record_rev_member(&member, 1, "ab", "t", "s"), 0);
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(record_rev_splice(&out, bad[i], strlen(bad[i]), &member),
		    CUSTODY_EINVAL);
	cbuf_free(&out);
	cbuf_free(&member);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rev_same_bytes),
		cmocka_unit_test(test_rev_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
