/*
 * The "rev" of an import's commit put into records already encoded (daemon/engine/record-rev.c): the
 * bytes must be exactly those of the record stamped with "rev" and encoded as record_seal
 * encodes it (compact, sorted keys, ASCII), whatever the record holds: keys on either side of
 * "rev" and close to it, strings with quotes, backslashes, braces and non-ASCII text, nested
 * objects (sealed fields) and arrays. A record that already has a "rev", or is not an object,
 * is refused. A record sealed with one commit's "rev" and sealed again for another
 * (record_rev_reseal, when the clock moved while an import was open) holds exactly what the
 * import would have sealed for that other commit, its protected fields still sealed.
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
#include "archive-fixture.h"

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
	    "import: 250000 victim rows sent"), 0);
	for (i = 0; i < sizeof docs / sizeof *docs; i++) {
		assert_non_null(doc = json_loads(docs[i], 0, &jerr));
		/* what the import keeps: the content hash's encoding */
		assert_non_null(canon = json_dumps(doc, RECORD_CONTENT_JSON));
		/* what record_seal encodes once the record is stamped */
		assert_non_null(rev = json_pack("{s:I,s:s,s:s,s:s}", "lamport",
		    (json_int_t)1234567, "office", "ab01cd", "time", "2026-12-05T20:00:00Z",
		    "summary", "import: 250000 victim rows sent"));
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

static void
test_rev_reseal(void **state)
{
	struct archive_fixture *f = *state;
	struct cbuf first = { 0 }, second = { 0 }, text = { 0 }, obj = { 0 }, again = { 0 };
	uint8_t tok[TOKEN_LEN];
	char hex[TOKEN_HEX_LEN + 1], *content, *got;
	json_error_t jerr;
	json_t *doc, *back, *rev;

	archive_token(f->a, tok, "V77");
	hex_encode(hex, tok, TOKEN_LEN);
	assert_non_null(doc = json_loads("{\"id\":\"V77\",\"kind\":\"victim\",\"name\":"
	    "\"Rima \\u00e9\",\"sex\":\"female\",\"notes\":\"seen at the \\\"bridge\\\"\"}",
	    0, &jerr));
	/* what an import seals as the row arrives: fields sealed, its "rev" spliced in */
	assert_int_equal(record_seal_fields(f->a, hex, doc), 0);
	assert_non_null(content = json_dumps(doc, RECORD_CONTENT_JSON));
	assert_int_equal(record_rev_member(&first, 7, f->a->office_hex, "2026-12-06T06:00:00Z",
	    "import: 64 victim rows sent"), 0);
	assert_int_equal(record_rev_splice(&text, content, strlen(content), &first), 0);
	assert_int_equal(record_seal_text(&obj, f->a, hex, "victim", (const char *)text.data,
	    text.len), 0);
	/* sealed again for a commit at clock 9 */
	assert_int_equal(record_rev_reseal(&again, f->a, hex, obj.data, obj.len, 9,
	    "2026-12-06T06:05:00Z", "import: 64 victim rows sent"), 0);
	assert_int_equal(record_open_flags(&back, f->a, hex, again.data, again.len, NULL,
	    RECORD_SEALED), 0);
	rev = json_object_get(back, "rev");
	assert_int_equal(json_integer_value(json_object_get(rev, "lamport")), 9);
	assert_string_equal(json_string_value(json_object_get(rev, "office")), f->a->office_hex);
	assert_string_equal(json_string_value(json_object_get(rev, "time")),
	    "2026-12-06T06:05:00Z");
	/* the bytes the import would have sealed for clock 9 */
	assert_int_equal(record_rev_member(&second, 9, f->a->office_hex, "2026-12-06T06:05:00Z",
	    "import: 64 victim rows sent"), 0);
	assert_int_equal(record_rev_splice(&text, content, strlen(content), &second), 0);
	assert_non_null(got = json_dumps(back, RECORD_CONTENT_JSON));
	assert_int_equal(strlen(got), text.len);
	assert_memory_equal(got, text.data, text.len);
	free(got);
	json_decref(back);
	/* its protected field opens */
	assert_int_equal(record_open(&back, f->a, hex, again.data, again.len, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(back, "notes")),
	    "seen at the \"bridge\"");
	json_decref(back);
	/* an object altered, or at another token, is not sealed again */
	obj.data[obj.len - 1] ^= 1;
	assert_true(record_rev_reseal(&again, f->a, hex, obj.data, obj.len, 9, "t", "s") < 0);
	obj.data[obj.len - 1] ^= 1;
	hex[0] = hex[0] == '0' ? '1' : '0';
	assert_true(record_rev_reseal(&again, f->a, hex, obj.data, obj.len, 9, "t", "s") < 0);
	free(content);
	json_decref(doc);
	cbuf_free(&first);
	cbuf_free(&second);
	cbuf_free(&text);
	cbuf_free(&obj);
	cbuf_free(&again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rev_same_bytes),
		cmocka_unit_test(test_rev_refused),
		cmocka_unit_test_setup_teardown(test_rev_reseal, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
