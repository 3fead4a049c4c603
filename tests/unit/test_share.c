/*
 * Recovery shares: split and join round trips (every 3 of 5), the text form, and every
 * corruption: each flipped bit, each truncation, an extra byte, a mistyped, missing or moved
 * text line, a share of another office, too few shares, the same share twice, shares of two
 * different splits, a share re-signed by another key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "custody/share.h"

struct office {
	struct archive	 a;
	uint8_t		 bin[5][SHARE_MAX];
	size_t		 len[5];
};

static void
office_make(struct office *o, const char *name)
{
	memset(o, 0, sizeof *o);
	o->a.office_sk = sodium_malloc(ED25519_SK_LEN);
	o->a.data_key = sodium_malloc(DATA_KEY_LEN);
	assert_non_null(o->a.office_sk);
	assert_non_null(o->a.data_key);
	crypto_sign_keypair(o->a.office_pk, o->a.office_sk);
	memcpy(o->a.sign_pk, o->a.office_pk, ED25519_PK_LEN);	/* an office that never rotated */
	randombytes_buf(o->a.data_key, DATA_KEY_LEN);
	o->a.conf.office = strdup(name);
	assert_int_equal(keys_share_split(&o->a, 5, 3, o->bin, o->len), 0);
}

static void
office_free(struct office *o)
{
	sodium_free(o->a.office_sk);
	sodium_free(o->a.data_key);
	free(o->a.conf.office);
}

static const char *names[] = { "s1", "s2", "s3", "s4", "s5" };

/* Join the given shares of o (bins) as office; the error, and cause when it fails. */
static int
join(const uint8_t (*bins)[SHARE_MAX], const size_t *lens, size_t n, const char *office,
    uint8_t sk[64], uint8_t dk[32], char **cause)
{
	struct share s[5];
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(share_parse(&s[i], bins[i], lens[i]), 0);
	*cause = NULL;
	return keys_share_join(s, names, n, office, sk, dk, cause);
}

static void
test_every_three_of_five(void **state)
{
	struct office o;
	uint8_t bins[5][SHARE_MAX], sk[64], dk[32];
	size_t lens[5], a, b, c, combos = 0;
	char *cause;

	office_make(&o, "branch-b");
	for (a = 0; a < 5; a++)
		for (b = a + 1; b < 5; b++)
			for (c = b + 1; c < 5; c++) {
				memcpy(bins[0], o.bin[c], SHARE_MAX);	/* any order */
				memcpy(bins[1], o.bin[a], SHARE_MAX);
				memcpy(bins[2], o.bin[b], SHARE_MAX);
				lens[0] = o.len[c], lens[1] = o.len[a], lens[2] = o.len[b];
				assert_int_equal(join((const uint8_t (*)[SHARE_MAX])bins, lens, 3,
				    "branch-b", sk, dk, &cause), 0);
				assert_memory_equal(sk, o.a.office_sk, 64);
				assert_memory_equal(dk, o.a.data_key, 32);
				combos++;
			}
	assert_int_equal(combos, 10);
	assert_int_equal(join((const uint8_t (*)[SHARE_MAX])o.bin, o.len, 5, "branch-b", sk, dk,
	    &cause), 0);
	assert_memory_equal(sk, o.a.office_sk, 64);
	office_free(&o);
}

static void
test_text_round_trip(void **state)
{
	struct office o;
	struct share s1, s2;
	char *text, *p;
	size_t i;

	office_make(&o, "hq");
	for (i = 0; i < 5; i++) {
		assert_int_equal(share_parse(&s1, o.bin[i], o.len[i]), 0);
		assert_int_equal(share_text(&text, o.bin[i], o.len[i]), 0);
		assert_int_equal(share_parse(&s2, text, strlen(text)), 0);
		assert_memory_equal(&s1, &s2, sizeof s1);
		assert_int_equal(s2.x, i + 1);
		assert_int_equal(s2.threshold, 3);
		assert_int_equal(s2.count, 5);
		assert_string_equal(s2.office, "hq");
		assert_memory_equal(s2.pk, o.a.office_pk, 32);
		/* typed back in lower case with other spacing: still the share */
		for (p = text; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z' && p[-1] != '#')
				*p = (char)(*p - 'A' + 'a');
		assert_int_equal(share_parse(&s2, text, strlen(text)), 0);
		assert_memory_equal(&s1, &s2, sizeof s1);
		free(text);
	}
	office_free(&o);
}

static void
test_every_flipped_bit(void **state)
{
	struct office o;
	struct share s;
	uint8_t bad[SHARE_MAX];
	size_t i, b;

	office_make(&o, "branch-b");
	for (i = 0; i < o.len[0]; i++)
		for (b = 0; b < 8; b++) {
			memcpy(bad, o.bin[0], o.len[0]);
			bad[i] ^= (uint8_t)(1u << b);
			assert_int_not_equal(share_parse(&s, bad, o.len[0]), 0);
			assert_non_null(strstr(custody_error(), i < 7 ? "not a custody" :
			    i == 7 ? "version" : "damaged"));
		}
	office_free(&o);
}

static void
test_every_length(void **state)
{
	struct office o;
	struct share s;
	uint8_t longer[SHARE_MAX + 1];
	size_t n;

	office_make(&o, "branch-b");
	for (n = 0; n < o.len[0]; n++)
		assert_int_not_equal(share_parse(&s, o.bin[0], n), 0);
	memcpy(longer, o.bin[0], o.len[0]);
	longer[o.len[0]] = 0;
	assert_int_not_equal(share_parse(&s, longer, o.len[0] + 1), 0);
	assert_non_null(strstr(custody_error(), "damaged"));
	office_free(&o);
}

/* The text of share 0 with line (1-based) changed by f. */
static void
test_text_mistakes(void **state)
{
	struct office o;
	struct share s;
	char *text, *bad, *line, *next, *l2, *l3;
	size_t lines = 0, n, i;

	office_make(&o, "branch-b");
	assert_int_equal(share_text(&text, o.bin[0], o.len[0]), 0);
	for (line = strstr(text, "\n01 "); line != NULL; line = strstr(line + 1, "\n"))
		if (line[1] >= '0' && line[1] <= '9')
			lines++;
	assert_true(lines >= 8);
	/* one letter changed in each line: that line is named */
	for (i = 1; i <= lines; i++) {
		char want[16], key[8];

		assert_non_null(bad = strdup(text));
		snprintf(key, sizeof key, "\n%02zu ", i);
		assert_non_null(line = strstr(bad, key));
		line[5] = line[5] == 'A' ? 'B' : 'A';
		assert_int_not_equal(share_parse(&s, bad, strlen(bad)), 0);
		snprintf(want, sizeof want, "line %zu ", i);
		assert_non_null(strstr(custody_error(), want));
		free(bad);
	}
	/* line 3 left out */
	assert_non_null(bad = strdup(text));
	l3 = strstr(bad, "\n03 ");
	next = strchr(l3 + 1, '\n');
	memmove(l3, next, strlen(next) + 1);
	assert_int_not_equal(share_parse(&s, bad, strlen(bad)), 0);
	assert_non_null(strstr(custody_error(), "line 3"));
	free(bad);
	/* lines 2 and 3 swapped (their numbers kept): each check covers its line number */
	assert_non_null(bad = strdup(text));
	l2 = strstr(bad, "\n02 ") + 1;
	l3 = strstr(bad, "\n03 ") + 1;
	n = (size_t)(l3 - l2);
	assert_int_equal(n, (size_t)(strchr(l3, '\n') - l3 + 1));
	{
		char tmp[128];

		memcpy(tmp, l2 + 3, n - 3);
		memcpy(l2 + 3, l3 + 3, n - 3);
		memcpy(l3 + 3, tmp, n - 3);
	}
	assert_int_not_equal(share_parse(&s, bad, strlen(bad)), 0);
	assert_non_null(strstr(custody_error(), "line 2"));
	free(bad);
	/* the last line cut off */
	assert_non_null(bad = strdup(text));
	*strrchr(bad, '\n') = '\0';
	*(strrchr(bad, '\n') + 1) = '\0';
	assert_int_not_equal(share_parse(&s, bad, strlen(bad)), 0);
	free(bad);
	/* garbage */
	assert_int_not_equal(share_parse(&s, "hello\n", 6), 0);
	assert_int_not_equal(share_parse(&s, "", 0), 0);
	free(text);
	office_free(&o);
}

static void
test_join_refusals(void **state)
{
	struct office o, other, same_name, again;
	uint8_t bins[3][SHARE_MAX], sk[64], dk[32];
	size_t lens[3];
	char *cause;

	office_make(&o, "branch-b");
	office_make(&other, "branch-c");
	office_make(&same_name, "branch-b");
	/* too few */
	assert_int_not_equal(join((const uint8_t (*)[SHARE_MAX])o.bin, o.len, 2, "branch-b", sk,
	    dk, &cause), 0);
	assert_non_null(strstr(cause, "needs 3 of its 5 shares"));
	free(cause);
	/* the same share twice is not two shares */
	memcpy(bins[0], o.bin[0], SHARE_MAX);
	memcpy(bins[1], o.bin[1], SHARE_MAX);
	memcpy(bins[2], o.bin[0], SHARE_MAX);
	lens[0] = o.len[0], lens[1] = o.len[1], lens[2] = o.len[0];
	assert_int_not_equal(join((const uint8_t (*)[SHARE_MAX])bins, lens, 3, "branch-b", sk, dk,
	    &cause), 0);
	assert_non_null(strstr(cause, "s1 and s3 are the same share"));
	free(cause);
	/* a share of another office, by name */
	memcpy(bins[2], other.bin[2], SHARE_MAX);
	lens[2] = other.len[2];
	assert_int_not_equal(join((const uint8_t (*)[SHARE_MAX])bins, lens, 3, "branch-b", sk, dk,
	    &cause), 0);
	assert_non_null(strstr(cause, "s3 is a share of office branch-c"));
	free(cause);
	/* a share of another office of the same name: named even when it comes first */
	memcpy(bins[0], same_name.bin[2], SHARE_MAX);
	memcpy(bins[2], o.bin[2], SHARE_MAX);
	lens[0] = same_name.len[2], lens[2] = o.len[2];
	assert_int_not_equal(join((const uint8_t (*)[SHARE_MAX])bins, lens, 3, "branch-b", sk, dk,
	    &cause), 0);
	assert_non_null(strstr(cause, "s1 is a share of office branch-b (key"));
	free(cause);
	/* the wrong office asked for */
	assert_int_not_equal(join((const uint8_t (*)[SHARE_MAX])o.bin, o.len, 3, "branch-c", sk,
	    dk, &cause), 0);
	assert_non_null(strstr(cause, "is a share of office branch-b"));
	free(cause);
	/* shares of two splits of the same keys do not mix */
	again = o;
	assert_int_equal(keys_share_split(&again.a, 5, 3, again.bin, again.len), 0);
	memcpy(bins[0], o.bin[0], SHARE_MAX);
	memcpy(bins[1], o.bin[1], SHARE_MAX);
	memcpy(bins[2], again.bin[2], SHARE_MAX);
	lens[0] = o.len[0], lens[1] = o.len[1], lens[2] = again.len[2];
	assert_int_not_equal(join((const uint8_t (*)[SHARE_MAX])bins, lens, 3, "branch-b", sk, dk,
	    &cause), 0);
	assert_non_null(strstr(cause, "do not restore"));
	free(cause);
	office_free(&o);
	office_free(&other);
	office_free(&same_name);
}

/* A share carrying the office's key but signed by another key is damaged. */
static void
test_forged_signature(void **state)
{
	struct office o;
	struct share s;
	uint8_t pk[32], sk[64], out[SHARE_MAX];
	size_t len;

	office_make(&o, "branch-b");
	assert_int_equal(share_parse(&s, o.bin[0], o.len[0]), 0);
	crypto_sign_keypair(pk, sk);
	s.secret[0] ^= 1;
	assert_int_equal(share_encode(out, &len, &s, sk), 0);	/* keeps o's key in s.pk */
	assert_int_not_equal(share_parse(&s, out, len), 0);
	assert_non_null(strstr(custody_error(), "signature does not verify"));
	/* a version this custody does not read, correctly signed */
	assert_int_equal(share_parse(&s, o.bin[0], o.len[0]), 0);
	memcpy(out, o.bin[0], o.len[0]);
	out[7] = 2;
	crypto_sign_ed25519_detached(out + o.len[0] - 64, NULL, out, o.len[0] - 64,
	    o.a.office_sk);
	assert_int_not_equal(share_parse(&s, out, o.len[0]), 0);
	assert_non_null(strstr(custody_error(), "version 2"));
	office_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_three_of_five),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_every_flipped_bit),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_text_mistakes),
		cmocka_unit_test(test_join_refusals),
		cmocka_unit_test(test_forged_signature),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
