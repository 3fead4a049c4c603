/*
 * The counts of custody sites over a real index (index-sites.c): the evidence records whose
 * current revision is linked to a site, whatever the order their revisions arrive in (an
 * older one changes nothing, another office's newer one replaces the links), and the persons
 * whose events name a site, each once however many of their events name it. Ids are asked
 * in any order, twice, or unknown (0); the victims rows of the fixture change nothing.
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
#include "index-int.h"

#include "index-fixture.h"

static void
evidence(struct fixture *f, const char *office, int64_t lamport, const char *id,
    const char *sites)
{
	char text[512];

	snprintf(text, sizeof text, "{\"kind\": \"evidence\", \"id\": \"%s\", \"size\": 10,"
	    " \"media_type\": \"text/plain\", \"sites\": [%s]}", id, sites);
	fixture_put(f, office, lamport, text);
}

static void
event(struct fixture *f, const char *id, const char *person, const char *site)
{
	char text[512];

	snprintf(text, sizeof text, "{\"kind\": \"person_event\", \"id\": \"%s\", \"person_id\":"
	    " \"%s\", \"type\": \"seen_in_custody\", \"date\": \"2024-06\"%s%s%s}", id, person,
	    site ? ", \"site_id\": \"" : "", site ? site : "", site ? "\"" : "");
	fixture_put(f, "office-a", 2, text);
}

/* Ask for S-1, S-2, S-404 and S-1 again; compare with the four counts expected of each. */
static void
expect(struct fixture *f, const uint64_t ev[4], const uint64_t pe[4])
{
	static const char *const ids[] = { "S-1", "S-2", "S-404", "S-1" };
	uint64_t gotev[4], gotpe[4];
	int i;

	assert_int_equal(index_sites_counts(f->a, ids, 4, gotev, gotpe), 0);
	for (i = 0; i < 4; i++) {
		if (gotev[i] != ev[i] || gotpe[i] != pe[i])
			fail_msg("%s: evidence %llu persons %llu, expected %llu and %llu", ids[i],
			    (unsigned long long)gotev[i], (unsigned long long)gotpe[i],
			    (unsigned long long)ev[i], (unsigned long long)pe[i]);
	}
}

static void
test_counts(void **state)
{
	struct fixture *f = *state;
	uint64_t none[1];

	assert_int_equal(index_sites_counts(f->a, NULL, 0, none, none), 0);
	evidence(f, "office-a", 3, "E-1", "\"S-1\", \"S-2\"");
	evidence(f, "office-a", 4, "E-2", "\"S-1\"");
	evidence(f, "office-a", 5, "E-3", "");
	event(f, "PE-1", "P-1", "S-1");
	event(f, "PE-2", "P-1", "S-1");	/* P-1 once */
	event(f, "PE-3", "P-2", "S-1");
	event(f, "PE-4", "P-3", "S-2");
	event(f, "PE-5", "P-4", NULL);
	expect(f, (const uint64_t[]){ 2, 1, 0, 2 }, (const uint64_t[]){ 2, 1, 0, 2 });

	/* an older revision of E-1, from another office, arriving late: nothing changes */
	evidence(f, "office-b", 2, "E-1", "");
	expect(f, (const uint64_t[]){ 2, 1, 0, 2 }, (const uint64_t[]){ 2, 1, 0, 2 });
	/* a newer one of another office is current: E-1 linked to S-2 only */
	evidence(f, "office-b", 7, "E-1", "\"S-2\"");
	expect(f, (const uint64_t[]){ 1, 1, 0, 1 }, (const uint64_t[]){ 2, 1, 0, 2 });
	/* then office-a's older one (6 < 7) comes: still office-b's */
	evidence(f, "office-a", 6, "E-1", "\"S-1\", \"S-2\"");
	expect(f, (const uint64_t[]){ 1, 1, 0, 1 }, (const uint64_t[]){ 2, 1, 0, 2 });
	/* a person's event moved to another site: P-2 no longer counts at S-1 */
	fixture_put(f, "office-a", 8, "{\"kind\": \"person_event\", \"id\": \"PE-3\", \"person_id\":"
	    " \"P-2\", \"type\": \"seen_in_custody\", \"date\": \"2024-06\", \"site_id\": \"S-2\"}");
	expect(f, (const uint64_t[]){ 1, 1, 0, 1 }, (const uint64_t[]){ 1, 2, 0, 1 });
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, setup_dataset, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
