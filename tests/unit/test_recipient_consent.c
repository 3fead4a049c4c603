/*
 * Recipients' consent classes and the policy an extract adds to a stored one (recipients.c):
 * the classes of a person's consent and nothing else; persons' and sites' fields withholdable;
 * reporters and notes always withheld; a recipient added before classes gets the new defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "dossier.h"

static void
test_classes(void **state)
{
	const char *good[] = { "icmp", "iiim", "coi", "wgeid", "icrc", "prosecutors", "public" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(recipient_class_ok(good[i]));
	assert_false(recipient_class_ok(""));
	assert_false(recipient_class_ok("press"));
	assert_false(recipient_class_ok("ICMP"));
	assert_false(recipient_class_ok("icmp,coi"));
}

static void
test_withholdable(void **state)
{
	(void)state;
	assert_true(recipient_withholdable("person.marks"));
	assert_true(recipient_withholdable("person.reporter_contact"));
	assert_true(recipient_withholdable("person_event.notes"));
	assert_true(recipient_withholdable("site.lat"));
	assert_true(recipient_withholdable("site.geometry"));
	assert_true(recipient_withholdable("evidence.persons"));
	assert_true(recipient_withholdable("evidence.sites"));
	assert_false(recipient_withholdable("person.id"));
	assert_false(recipient_withholdable("person.shoe_size"));
	assert_false(recipient_withholdable("site.ante_mortem"));
}

static void
test_policy_extra(void **state)
{
	json_t *p = json_object(), *old = json_pack("{s:s}", "name", "old");
	json_t *cls = json_pack("{s:s,s:s}", "name", "icmp", "class", "icmp");

	(void)state;
	assert_int_equal(recipient_policy_extra(p, cls), 0);
	assert_non_null(json_object_get(p, "person.reporter_name"));
	assert_non_null(json_object_get(p, "person.reporter_contact"));
	assert_non_null(json_object_get(p, "person.notes"));
	assert_non_null(json_object_get(p, "person_event.notes"));
	/* a recipient with a class: its stored policy decides the rest */
	assert_null(json_object_get(p, "person.marks"));
	assert_null(json_object_get(p, "site.lat"));
	json_object_clear(p);
	assert_int_equal(recipient_policy_extra(p, old), 0);
	assert_non_null(json_object_get(p, "person.reporter_contact"));
	assert_non_null(json_object_get(p, "person.marks"));
	assert_non_null(json_object_get(p, "person.dental"));
	assert_non_null(json_object_get(p, "site.lat"));
	assert_non_null(json_object_get(p, "site.lon"));
	assert_non_null(json_object_get(p, "site.geometry"));
	assert_null(json_object_get(p, "victim.name"));
	json_decref(p);
	json_decref(old);
	json_decref(cls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_withholdable),
		cmocka_unit_test(test_policy_extra),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
