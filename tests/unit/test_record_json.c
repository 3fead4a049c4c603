/*
 * Records encoded into a caller's buffer (daemon/engine/record-json.c, through jansson's
 * callback) must be byte for byte what json_dumps(doc, RECORD_CONTENT_JSON) gives, since the content hash, the sealed
 * bytes and every later reader depend on it: escapes of quotes, backslashes and every control
 * character, NUL inside strings and keys, DEL and '/', text past ASCII and past the BMP (a
 * surrogate pair), keys in byte order (a key before the longer keys it begins, keys past
 * ASCII), integers at their limits, nested arrays and objects, empty ones; reals, huge objects
 * and deep nesting are left to jansson with the same result. A string that is not UTF-8 is
 * refused by both. Then 20,000 random documents. A record given without an id gets the id it
 * always got (derived from json_dumps' encoding), so a file imported again keeps its ids.
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
#include "record-json.h"
#include "records-write.h"

/* record_json gives what json_dumps gives, appended after what out held. */
static void
same(const json_t *doc)
{
	struct cbuf out = { 0 };
	char *want;

	assert_non_null(want = json_dumps(doc, RECORD_CONTENT_JSON));
	assert_int_equal(cbuf_puts(&out, "kept"), 0);
	assert_int_equal(record_json(&out, doc), 0);
	if (out.len != 4 + strlen(want) || memcmp(out.data + 4, want, out.len - 4) != 0)
		fail_msg("record_json gives %s\njson_dumps gives %s", out.data + 4, want);
	assert_memory_equal(out.data, "kept", 4);
	assert_int_equal(out.data[out.len], '\0');
	free(want);
	cbuf_free(&out);
}

static void
test_json_edges(void **state)
{
	static const char *const docs[] = {
		"{}",
		"{\"kind\":\"victim\",\"id\":\"V1\",\"age\":34,\"sex\":\"male\"}",
		"{\"re\":1,\"rev_\":2,\"reu\":3,\"rew\":4,\"r\":5,\"revision\":6,\"\":7}",
		"{\"name\":\"a \\\"quoted\\\" name, with {braces} and [brackets]: \\\\ / \","
		    "\"x\":\"}\",\"c\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f \"}",
		"{\"name\":\"\\u0623\\u062d\\u0645\\u062f \\u00e9t\\u00e9 \\ud83d\\ude00 "
		    "\\uffff\\u0800\\u07ff\\u0080\"}",
		"{\"\\u00e9\":1,\"z\":2,\"\\u0623\":3,\"\\ud83d\\ude00\":4,\"~\":5,\"\\u007f\":6}",
		"{\"tags\":[{\"a\":[1,2,{\"b\":\"c,d\"}]},[],{}],\"z\":null,\"y\":true,\"w\":false,"
		    "\"n\":-9223372036854775808,\"m\":9223372036854775807,\"o\":0,\"p\":-1}",
		"{\"notes\":{\"sealed\":\"AAAA+/==\"},\"a\":[[[[[]]]]]}",
		"{\"real\":1.5,\"x\":[0.1,-0.0,1e300,100.0]}",
		"{\"nested\":{\"real\":2.5}}",
	};
	json_error_t jerr;
	json_t *doc, *big, *deep;
	char key[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof docs / sizeof *docs; i++) {
		assert_non_null(doc = json_loads(docs[i], 0, &jerr));
		same(doc);
		json_decref(doc);
	}
	/* NUL inside strings and keys; a key before the longer keys it begins */
	assert_non_null(doc = json_object());
	json_object_set_new(doc, "s", json_stringn("a\0b\0", 4));
	json_object_setn_new(doc, "k\0x", 3, json_true());
	json_object_setn_new(doc, "k", 1, json_false());
	json_object_setn_new(doc, "k\0", 2, json_null());
	same(doc);
	json_decref(doc);
	/* more keys than are sorted on the stack, and deeper than it walks: jansson's */
	assert_non_null(big = json_object());
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "k%zu", (i * 7919) % 200);
		json_object_set_new(big, key, json_integer((json_int_t)i));
	}
	same(big);
	assert_non_null(deep = json_object());
	doc = deep;
	for (i = 0; i < 100; i++) {
		json_t *d = json_object();

		json_object_set_new(doc, "d", d);
		doc = d;
	}
	json_object_set_new(doc, "end", json_string("here"));
	same(deep);
	json_decref(deep);
	json_decref(big);
}

static void
test_json_refused(void **state)
{
	static const char *const bad[] = { "\xff", "a\xc3", "\xc0\x80", "\xed\xa0\x80",
	    "\xf4\x90\x80\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80" };
	struct cbuf out = { 0 };
	json_t *doc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_non_null(doc = json_object());
		json_object_set_new(doc, "s", json_stringn_nocheck(bad[i], strlen(bad[i])));
		assert_null(json_dumps(doc, RECORD_CONTENT_JSON));
		out.len = 0;
		assert_int_equal(record_json(&out, doc), CUSTODY_EINVAL);
		json_decref(doc);
	}
	assert_non_null(doc = json_array());
	assert_int_equal(record_json(&out, doc), CUSTODY_EINVAL);	/* not an object */
	json_decref(doc);
	cbuf_free(&out);
}

/* A random string of n characters from a pool of ASCII, escapes, and 2-, 3- and 4-byte text. */
static json_t *
random_string(size_t n, int key)
{
	static const char *const pool[] = { "a", "b", "z", "A", "0", "_", " ", "/", "\"", "\\",
	    "\n", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xd8\xa3", "\xe2\x82\xac",
	    "\xef\xbf\xbf", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "r", "e", "v" };
	char buf[256];
	size_t i, len = 0;
	const char *c;

	for (i = 0; i < n; i++) {
		c = pool[(size_t)rand() % (key ? 3 + 21 * (rand() % 4 == 0) : 24)];
		memcpy(buf + len, c, strlen(c));
		len += strlen(c);
	}
	return json_stringn(buf, len);
}

static json_t *
random_value(int depth)
{
	json_t *v, *k;
	int i, n;

	switch (rand() % (depth < 3 ? 8 : 5)) {
	case 0: return json_integer((json_int_t)rand() - RAND_MAX / 2);
	case 1: return rand() % 2 ? json_true() : json_false();
	case 2: return json_null();
	case 3:
	case 4: return random_string((size_t)(rand() % 40), 0);
	case 5:
		v = json_array();
		for (i = 0, n = rand() % 5; i < n; i++)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (i = 0, n = rand() % 12; i < n; i++) {
			k = random_string((size_t)(rand() % 6), 1);
			json_object_setn_new(v, json_string_value(k), json_string_length(k),
			    random_value(depth + 1));
			json_decref(k);
		}
		return v;
	}
}

static void
test_json_random(void **state)
{
	json_t *doc;
	int i;

	(void)state;
	srand(1303);
	for (i = 0; i < 20000; i++) {
		doc = random_value(0);
		if (!json_is_object(doc)) {
			json_decref(doc);
			doc = json_pack("{s:o}", "v", random_value(0));
		}
		same(doc);
		json_decref(doc);
	}
}

static void
test_json_derived_id(void **state)
{
	struct archive_fixture *f = *state;
	json_error_t jerr;
	json_t *doc;
	uint8_t h[16];
	char *s, want[37];

	assert_non_null(doc = json_loads("{\"kind\":\"person_event\",\"type\":\"arrest\","
	    "\"person_id\":\"P1\",\"date\":\"2023-04-05\",\"notes\":\"\\u00e9 \\\"x\\\"\"}",
	    0, &jerr));
	assert_non_null(s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII));
	record_name_token(f->a, "record-id", s, h);
	free(s);
	h[6] = (h[6] & 0x0f) | 0x80;
	h[8] = (h[8] & 0x3f) | 0x80;
	snprintf(want, sizeof want, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8],
	    h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
	records_derive_id(f->a, doc);
	assert_string_equal(record_id(doc), want);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_edges),
		cmocka_unit_test(test_json_refused),
		cmocka_unit_test(test_json_random),
		cmocka_unit_test_setup_teardown(test_json_derived_id, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
