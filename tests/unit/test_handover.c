/*
 * Signing-key handovers (daemon/engine/handover.c): the key each commit of a feed must carry as its
 * handovers are read in order, and the strict reading of a handover record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "handover.h"

static uint8_t k0[ED25519_PK_LEN], k1[ED25519_PK_LEN], k2[ED25519_PK_LEN];

/* Before any handover the feed's commits carry the owner's key; after one, the next key. */
static void
test_chain_follows(void **state)
{
	struct handover_chain ch;

	(void)state;
	handover_chain_init(&ch, k0);
	assert_memory_equal(ch.current, k0, ED25519_PK_LEN);
	assert_int_equal(handover_chain_step(&ch, 1, NULL), 0);
	assert_memory_equal(ch.current, k0, ED25519_PK_LEN);
	assert_int_equal(handover_chain_step(&ch, 2, k1), 0);
	assert_memory_equal(ch.current, k1, ED25519_PK_LEN);
	assert_memory_equal(ch.original, k0, ED25519_PK_LEN);
	assert_int_equal(ch.seq, 2);
	assert_int_equal(handover_chain_step(&ch, 3, NULL), 0);
	assert_memory_equal(ch.current, k1, ED25519_PK_LEN);
	/* a second rotation, by the new key */
	assert_int_equal(handover_chain_step(&ch, 4, k2), 0);
	assert_memory_equal(ch.current, k2, ED25519_PK_LEN);
	assert_int_equal(ch.n, 2);
}

/* A handover back to a key the feed used is refused, and the chain keeps its key. */
static void
test_chain_no_reuse(void **state)
{
	struct handover_chain ch;

	(void)state;
	handover_chain_init(&ch, k0);
	assert_int_equal(handover_chain_step(&ch, 1, k0), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "already used"));
	assert_int_equal(handover_chain_step(&ch, 2, k1), 0);
	assert_int_equal(handover_chain_step(&ch, 3, k1), CUSTODY_EPROTO);
	assert_int_equal(handover_chain_step(&ch, 4, k0), CUSTODY_EPROTO);
	assert_memory_equal(ch.current, k1, ED25519_PK_LEN);
	assert_int_equal(ch.seq, 2);
}

/* No feed makes more than HANDOVER_MAX handovers. */
static void
test_chain_bounded(void **state)
{
	struct handover_chain ch;
	uint8_t k[ED25519_PK_LEN];
	unsigned i;

	(void)state;
	handover_chain_init(&ch, k0);
	for (i = 0; i < HANDOVER_MAX; i++) {
		memset(k, 0x80, sizeof k);
		k[0] = (uint8_t)i;
		assert_int_equal(handover_chain_step(&ch, i + 1, k), 0);
	}
	memset(k, 0x90, sizeof k);
	assert_int_equal(handover_chain_step(&ch, i + 1, k), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "past the"));
}

static json_t *
record(const uint8_t *from, const uint8_t *to)
{
	char fh[65], th[65], id[ID_MAX + 1];

	hex_encode(fh, from, ED25519_PK_LEN);
	hex_encode(th, to, ED25519_PK_LEN);
	handover_id(id, to);
	return json_pack("{s:s,s:s,s:s,s:s}", "kind", "handover", "id", id, "from", fh, "to", th);
}

static void
test_parse_good(void **state)
{
	uint8_t from[ED25519_PK_LEN], to[ED25519_PK_LEN];
	json_t *doc = record(k0, k1);

	(void)state;
	assert_int_equal(handover_parse(doc, from, to), 0);
	assert_memory_equal(from, k0, ED25519_PK_LEN);
	assert_memory_equal(to, k1, ED25519_PK_LEN);
	assert_int_equal(strncmp(json_string_value(json_object_get(doc, "id")), "handover-", 9), 0);
	json_decref(doc);
}

/* Every field is checked: kind, key syntax, a key handed to itself, the id. */
static void
test_parse_bad(void **state)
{
	uint8_t from[ED25519_PK_LEN], to[ED25519_PK_LEN];
	json_t *doc;

	(void)state;
	doc = record(k0, k1);
	json_object_set_new(doc, "kind", json_string("revocation"));
	assert_int_equal(handover_parse(doc, from, to), CUSTODY_EPROTO);
	json_decref(doc);

	doc = record(k0, k1);
	json_object_set_new(doc, "to", json_string("ABCD"));
	assert_int_equal(handover_parse(doc, from, to), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "\"to\""));
	json_decref(doc);

	doc = record(k2, k1);	/* upper-case hex: one spelling only */
	{
		char up[65];
		size_t i;

		snprintf(up, sizeof up, "%s", json_string_value(json_object_get(doc, "from")));
		for (i = 0; up[i]; i++)
			if (up[i] >= 'a' && up[i] <= 'f')
				up[i] = (char)(up[i] - 'a' + 'A');
		json_object_set_new(doc, "from", json_string(up));
	}
	assert_int_equal(handover_parse(doc, from, to), CUSTODY_EPROTO);
	json_decref(doc);

	doc = record(k1, k1);
	assert_int_equal(handover_parse(doc, from, to), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "itself"));
	json_decref(doc);

	doc = record(k0, k1);	/* an id naming another key */
	json_object_set_new(doc, "id", json_string("handover-0000"));
	assert_int_equal(handover_parse(doc, from, to), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "id"));
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_follows),
		cmocka_unit_test(test_chain_no_reuse),
		cmocka_unit_test(test_chain_bounded),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
	};

	memset(k0, 0x10, sizeof k0);
	memset(k1, 0x20, sizeof k1);
	memset(k2, 0xab, sizeof k2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
