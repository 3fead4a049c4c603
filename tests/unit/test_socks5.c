/*
 * SOCKS5 as a dialling office speaks it (proto/socks5.c): the proxy URL, the exact bytes of the
 * greeting and the CONNECT request, the replies read whole, a byte at a time and never past
 * their end, every bad reply refused with a reason; and v3 onion addresses (proto/onion.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "custody/common.h"
#include "custody/invite.h"
#include "custody/onion.h"
#include "custody/socks5.h"

/* Two real v3 onion services (the Tor Project's and DuckDuckGo's). */
#define ONION_A "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
#define ONION_B "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"

static void
test_url(void **state)
{
	struct socks5_proxy px;

	(void)state;
	assert_int_equal(socks5_url_parse(&px, "socks5h://127.0.0.1:9050"), 0);
	assert_string_equal(px.host, "127.0.0.1");
	assert_int_equal(px.port, 9050);
	assert_int_equal(px.remote_names, 1);
	assert_int_equal(socks5_url_parse(&px, "socks5://proxy.example.org:1080"), 0);
	assert_string_equal(px.host, "proxy.example.org");
	assert_int_equal(px.port, 1080);
	assert_int_equal(px.remote_names, 0);
	assert_int_equal(socks5_url_parse(&px, "socks5h://[::1]:9050"), 0);
	assert_string_equal(px.host, "::1");
	assert_int_equal(px.port, 9050);

	static const char *bad[] = {
		"", "none", "http://127.0.0.1:8080", "socks4://127.0.0.1:1080",
		"SOCKS5H://127.0.0.1:9050", "socks5h://127.0.0.1", "socks5h://:9050",
		"socks5h://127.0.0.1:0", "socks5h://127.0.0.1:65536", "socks5h://127.0.0.1:9050/",
		"socks5h://127.0.0.1:9050 ", "socks5h://user:pw@127.0.0.1:9050",
		"socks5h://[::1:9050", "socks5h://[nope]:9050", "socks5h://127.0.0.1:90a",
		"socks5h://127.0.0.1:99999999999999999999", " socks5h://127.0.0.1:9050",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (socks5_url_parse(&px, bad[i]) != CUSTODY_EINVAL)
			fail_msg("accepted proxy URL '%s'", bad[i]);
		assert_true(custody_error()[0] != '\0');
	}
}

static void
test_request(void **state)
{
	static const uint8_t greet[] = { 5, 1, 0 };
	static const uint8_t v4[] = { 5, 1, 0, 1, 127, 0, 0, 1, 0x1b, 0x58 };
	static const uint8_t v6[] = { 5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	    0, 80 };
	uint8_t out[SOCKS5_REQUEST_MAX], g[SOCKS5_GREETING_LEN];
	char name[300];
	size_t len;

	(void)state;
	socks5_greeting(g);
	assert_memory_equal(g, greet, sizeof greet);
	assert_int_equal(socks5_request(out, &len, "127.0.0.1", 7000), 0);
	assert_int_equal(len, sizeof v4);
	assert_memory_equal(out, v4, sizeof v4);
	assert_int_equal(socks5_request(out, &len, "::1", 80), 0);
	assert_int_equal(len, sizeof v6);
	assert_memory_equal(out, v6, sizeof v6);
	/* a name goes as a name: the proxy resolves it (an onion address only Tor can) */
	assert_int_equal(socks5_request(out, &len, ONION_A, 443), 0);
	assert_int_equal(len, 5 + strlen(ONION_A) + 2);
	assert_memory_equal(out, "\x05\x01\x00\x03", 4);
	assert_int_equal(out[4], strlen(ONION_A));
	assert_memory_equal(out + 5, ONION_A, strlen(ONION_A));
	assert_int_equal(out[len - 2], 1);
	assert_int_equal(out[len - 1], 187);
	/* 255 bytes is the most a name may have */
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_int_equal(socks5_request(out, &len, name, 1), 0);
	assert_int_equal(len, SOCKS5_REQUEST_MAX);
	name[255] = 'a';
	name[256] = '\0';
	assert_int_equal(socks5_request(out, &len, name, 1), CUSTODY_EINVAL);
	assert_int_equal(socks5_request(out, &len, "", 1), CUSTODY_EINVAL);
	assert_int_equal(socks5_request(out, &len, "a b", 1), CUSTODY_EINVAL);
	assert_int_equal(socks5_request(out, &len, "a\001b", 1), CUSTODY_EINVAL);
	assert_int_equal(socks5_request(out, &len, "example.org", 0), CUSTODY_EINVAL);
}

/* Feed the method choice 05 00 then reply, in pieces of step bytes; the final state. */
static int
feed(const uint8_t *reply, size_t len, size_t step, size_t *taken)
{
	struct socks5_reply r;
	static const uint8_t method[] = { 5, 0 };
	size_t used, off = 0, n;
	int st;

	socks5_reply_init(&r);
	assert_int_equal(socks5_reply_need(&r), 2);
	assert_int_equal(socks5_reply_feed(&r, method, 2, &used), SOCKS5_REPLY);
	assert_int_equal(used, 2);
	*taken = 0;
	st = r.state;
	while (off < len && st == SOCKS5_REPLY) {
		n = len - off < step ? len - off : step;
		if (n > socks5_reply_need(&r) && step == 1)
			fail_msg("need() is 0 before the reply is done");
		st = socks5_reply_feed(&r, reply + off, n, &used);
		assert_true(used <= n);
		off += used;
		*taken += used;
		if (st >= 0 && used < n)
			break;
	}
	if (st == SOCKS5_REPLY)
		st = socks5_reply_finish(&r) == 0 ? SOCKS5_DONE : CUSTODY_EPROTO;
	return st;
}

static void
test_replies(void **state)
{
	static const uint8_t ok4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38, 'N', 'O', 'I' };
	static const uint8_t ok6[] = { 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	    0, 1, 0xaa };
	static const uint8_t okname[] = { 5, 0, 0, 3, 3, 'a', '.', 'b', 0, 1, 0xbb };
	size_t steps[] = { 1, 2, 3, 7, 64 }, taken;

	(void)state;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		/* done at the reply's end: the Noise bytes after it are left alone */
		assert_int_equal(feed(ok4, sizeof ok4, steps[i], &taken), SOCKS5_DONE);
		assert_int_equal(taken, 10);
		assert_int_equal(feed(ok6, sizeof ok6, steps[i], &taken), SOCKS5_DONE);
		assert_int_equal(taken, 22);
		assert_int_equal(feed(okname, sizeof okname, steps[i], &taken), SOCKS5_DONE);
		assert_int_equal(taken, 10);
	}
}

/* A reply the parser must refuse, with words from the reason. */
static void
refused(const uint8_t *reply, size_t len, const char *words)
{
	size_t taken;

	custody_error_clear();
	if (feed(reply, len, 64, &taken) != CUSTODY_EPROTO)
		fail_msg("accepted a bad reply (expected: %s)", words);
	if (strstr(custody_error(), words) == NULL)
		fail_msg("'%s' does not say '%s'", custody_error(), words);
	custody_error_clear();
	if (feed(reply, len, 1, &taken) != CUSTODY_EPROTO)
		fail_msg("accepted a bad reply a byte at a time (expected: %s)", words);
}

static void
test_bad_replies(void **state)
{
	struct socks5_reply r;
	size_t used;

	(void)state;
	refused((const uint8_t *)"\x05\x04\x00\x01\0\0\0\0\0\0", 10,
	    "refused: host unreachable (4)");
	refused((const uint8_t *)"\x05\x05\x00\x01", 4, "refused: connection refused (5)");
	refused((const uint8_t *)"\x05\x01", 2, "refused: general SOCKS server failure (1)");
	refused((const uint8_t *)"\x05\x63\x00\x01", 4, "refused: unassigned (99)");
	refused((const uint8_t *)"\x04\x5a\x00\x00\0\0\0\0", 8, "answered version 4");
	refused((const uint8_t *)"\x05\x00\x01\x01\0\0\0\0\0\0", 10, "reserved byte");
	refused((const uint8_t *)"\x05\x00\x00\x02\0\0\0\0\0\0", 10, "unknown address type 2");
	refused((const uint8_t *)"\x05\x00\x00\x03\x00\0\0", 7, "empty name");
	refused((const uint8_t *)"\x05\x00\x00\x01\x7f\x00", 6, "closed the connection after 6");
	refused((const uint8_t *)"", 0, "closed the connection after 0");

	/* the method choice: version, no acceptable method, a method not offered */
	socks5_reply_init(&r);
	assert_int_equal(socks5_reply_feed(&r, (const uint8_t *)"\x04\x00", 2, &used),
	    CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "not a SOCKS5 proxy: it answered version 4"));
	assert_int_equal(socks5_reply_need(&r), 0);
	assert_int_equal(socks5_reply_feed(&r, (const uint8_t *)"\x05\x00", 2, &used),
	    CUSTODY_EPROTO);
	socks5_reply_init(&r);
	assert_int_equal(socks5_reply_feed(&r, (const uint8_t *)"\x05\xff", 2, &used),
	    CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "accepts none of the methods"));
	socks5_reply_init(&r);
	assert_int_equal(socks5_reply_feed(&r, (const uint8_t *)"\x05\x02", 2, &used),
	    CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "chose method 2"));
	socks5_reply_init(&r);
	assert_int_equal(socks5_reply_feed(&r, (const uint8_t *)"\x05", 1, &used), SOCKS5_METHOD);
	assert_int_equal(socks5_reply_finish(&r), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "after 1 byte of its method choice"));
	/* the method choice is not read past: the request goes before the reply */
	socks5_reply_init(&r);
	assert_int_equal(socks5_reply_feed(&r, (const uint8_t *)"\x05\x00\x05\x00", 4, &used),
	    SOCKS5_REPLY);
	assert_int_equal(used, 2);
	assert_string_equal(socks5_reply_name(4), "host unreachable");
	assert_string_equal(socks5_reply_name(8), "address type not supported");
	assert_string_equal(socks5_reply_name(9), "unassigned");
}

static void
test_onion(void **state)
{
	char addr[300], bad[100];

	(void)state;
	assert_true(onion_is(ONION_A, strlen(ONION_A)));
	assert_true(onion_is("X.ONION", 7));
	assert_false(onion_is("onion", 5));
	assert_false(onion_is("example.org", 11));
	assert_false(onion_is("example.onion.org", 17));
	assert_int_equal(onion_check(ONION_A, strlen(ONION_A)), 0);
	assert_int_equal(onion_check(ONION_B, strlen(ONION_B)), 0);
	/* capitals are the same letters */
	snprintf(bad, sizeof bad, "%s", ONION_B);
	for (char *p = bad; *p != '.'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(onion_check(bad, strlen(bad)), 0);
	/* one letter changed: the checksum catches it */
	snprintf(bad, sizeof bad, "%s", ONION_A);
	bad[3] = bad[3] == 'a' ? 'b' : 'a';
	assert_int_equal(onion_check(bad, strlen(bad)), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "checksum"));
	/* not base32, too short, a v2 address, the version letter changed */
	snprintf(bad, sizeof bad, "%s", ONION_A);
	bad[5] = '1';
	assert_int_equal(onion_check(bad, strlen(bad)), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "base32"));
	assert_int_equal(onion_check("expyuzz4wqqyqhjn.onion", 22), CUSTODY_EINVAL);
	assert_int_equal(onion_check(".onion", 6), CUSTODY_EINVAL);
	snprintf(bad, sizeof bad, "%s", ONION_A);
	bad[55] = 'c';
	assert_int_equal(onion_check(bad, strlen(bad)), CUSTODY_EINVAL);
	/* invitations take onion addresses, well formed only */
	snprintf(addr, sizeof addr, "%s:7400", ONION_A);
	assert_int_equal(invite_check_address(addr), 0);
	snprintf(addr, sizeof addr, "%.50s.onion:7400", ONION_A);
	assert_int_equal(invite_check_address(addr), CUSTODY_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_onion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
