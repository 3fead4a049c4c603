/*
 * Who is an office: admission by invitation only, names bound once. Records are forged as a
 * seized office would write them (its own feed, signed with its real key) in one real archive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/invite.h"
#include "offices.h"
#include "office-fixture.h"

static json_t *
office_doc(const char *name, const struct who *w, const char *address)
{
	json_t *doc = NULL;

	assert_int_equal(offices_record(&doc, name, w->pk, address), 0);
	return doc;
}

/* hq invites bravo (its invite record) and bravo writes its own office record. */
static void
admit_bravo(struct fixture *f)
{
	write_as(f, &f->hq, invite_doc("bravo", &f->bravo, NULL));
	write_as(f, &f->bravo, office_doc("bravo", &f->bravo, "b.example:7400"));
}

/* The founder alone; then an invited office, with the address of its own record. */
static void
test_founder_and_invited(void **state)
{
	struct fixture *f = *state;
	struct office *v = NULL;
	size_t n;

	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "hq");
	free(v);
	admit_bravo(f);
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(v[0].pk, f->hq.pk, ED25519_PK_LEN);
	assert_string_equal(name_of(v, n, &f->bravo), "bravo");
	assert_string_equal(v[1].address, "b.example:7400");
	free(v);
	assert_int_equal(offices_admitted(f->a, f->bravo.pk), 1);
	assert_int_equal(offices_admitted(f->a, f->ghost.pk), 0);
	assert_int_equal(refused_with(f->a, ""), 0);
	/* its own display details may change (and what was worked out before is not kept) */
	write_as(f, &f->bravo, office_doc("bravo", &f->bravo, "b2.example:7400"));
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].address, "b2.example:7400");
	free(v);
	assert_int_equal(refused_with(f->a, ""), 0);
}

/* A seized bravo renames itself and hq: both refused, names unchanged, bravo's key named. */
static void
test_rename_refused(void **state)
{
	struct fixture *f = *state;
	struct office *v = NULL;
	char *fp = NULL, needle[128];
	size_t n;

	admit_bravo(f);
	write_as(f, &f->bravo, office_doc("hq", &f->bravo, ""));
	write_as(f, &f->bravo, office_doc("beta", &f->hq, ""));
	write_as(f, &f->bravo, invite_doc("beta", &f->hq, NULL));	/* by "invitation" too */
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(name_of(v, n, &f->hq), "hq");
	assert_string_equal(name_of(v, n, &f->bravo), "bravo");
	free(v);
	assert_int_equal(sshkey_fingerprint(&fp, f->bravo.pk), 0);
	snprintf(needle, sizeof needle, "office record in feed %s renames it from 'bravo' to 'hq'",
	    fp);
	assert_int_equal(refused_with(f->a, needle), 1);
	snprintf(needle, sizeof needle, "office record in feed %s about another key", fp);
	assert_int_equal(refused_with(f->a, needle), 1);
	assert_int_equal(refused_with(f->a, "to 'beta'"), 1);
	free(fp);
}

/* Offices nobody invited: refused, and so is what they invite; their witness does not count. */
static void
test_invented_office(void **state)
{
	struct fixture *f = *state;
	json_t *w = NULL, *doc;
	char hq_hex[65], id[200];
	size_t i;

	admit_bravo(f);
	write_as(f, &f->bravo, office_doc("ghost", &f->ghost, ""));
	write_as(f, &f->ghost, office_doc("ghost", &f->ghost, ""));
	write_as(f, &f->ghost, invite_doc("xray", &f->x, NULL));
	assert_int_equal(offices_admitted(f->a, f->ghost.pk), 0);
	assert_int_equal(offices_admitted(f->a, f->x.pk), 0);
	assert_int_equal(refused_with(f->a, "never admitted"), 2);
	assert_int_equal(refused_with(f->a, "about another key"), 1);

	/* witnesses of hq's office record: bravo counts, the ghost does not */
	write_as(f, &f->hq, office_doc("hq", &f->hq, ""));
	hex_encode(hq_hex, f->hq.pk, ED25519_PK_LEN);
	for (i = 0; i < 2; i++) {
		const struct who *by = i == 0 ? &f->bravo : &f->ghost;

		snprintf(id, sizeof id, "witness:%zu:%s:9", i, hq_hex);
		doc = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "kind", "witness", "id", id, "feed",
		    hq_hex, "seq", 9, "head", "0000000000000000000000000000000000000000", "time",
		    "2026-01-01T00:00:00Z");
		write_as(f, by, doc);
	}
	snprintf(id, sizeof id, "office-%s", hq_hex);
	assert_int_equal(index_witnesses(f->a, id, &w), 0);
	assert_int_equal(json_array_size(w), 1);
	hex_encode(hq_hex, f->bravo.pk, ED25519_PK_LEN);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "office")),
	    hq_hex);
	json_decref(w);
}

/* A name is held by one key: the first invitation (by lamport) wins, later ones are refused. */
static void
test_name_taken(void **state)
{
	struct fixture *f = *state;
	struct office *v = NULL;
	size_t n;

	admit_bravo(f);
	write_as(f, &f->hq, invite_doc("zulu", &f->x, NULL));
	write_as(f, &f->bravo, invite_doc("zulu", &f->y, NULL));
	write_as(f, &f->bravo, invite_doc("hq", &f->charlie, NULL));
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(name_of(v, n, &f->x), "zulu");
	assert_null(name_of(v, n, &f->y));
	assert_null(name_of(v, n, &f->charlie));
	free(v);
	assert_int_equal(refused_with(f->a, "gives the name 'zulu'"), 1);
	assert_int_equal(refused_with(f->a, "gives the name 'hq'"), 1);
	/* y's own office record then speaks for a key no invitation admitted */
	write_as(f, &f->y, office_doc("zulu", &f->y, ""));
	assert_int_equal(refused_with(f->a, "never admitted"), 1);
}

/*
 * An office's copy of its signed invitation admits it, and leads up to the founder: seen from
 * charlie (invited by bravo, invited by hq), hq is the founder, even after bravo rewrites its
 * copy. A copy whose invitation is not signed by the inviter it names admits nothing.
 */
static void
test_invitation_copies(void **state)
{
	struct fixture *f = *state;
	struct office *v = NULL;
	char *text = NULL, *forged = NULL;
	uint8_t real_pk[ED25519_PK_LEN];
	size_t n;

	assert_int_equal(invite_write(&text, "bravo", f->bravo.pk, "hq", f->hq.sk,
	    "hq.example:7400", f->a->data_key, NULL), 0);
	write_as(f, &f->bravo, invite_doc("bravo", &f->bravo, text));
	free(text);
	assert_int_equal(invite_write(&text, "charlie", f->charlie.pk, "bravo", f->bravo.sk, "",
	    f->a->data_key, NULL), 0);
	write_as(f, &f->charlie, invite_doc("charlie", &f->charlie, text));
	free(text);
	/* x invites itself, signing as an inviter it calls "ghost" */
	assert_int_equal(invite_write(&forged, "xray", f->x.pk, "ghost", f->x.sk, "",
	    f->a->data_key, NULL), 0);
	write_as(f, &f->x, invite_doc("xray", &f->x, forged));
	free(forged);
	write_as(f, &f->y, invite_doc("yankee", &f->y, "custody-invitation-v1\nnot really\n"));

	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "hq");
	assert_string_equal(name_of(v, n, &f->bravo), "bravo");
	assert_string_equal(name_of(v, n, &f->charlie), "charlie");
	assert_null(name_of(v, n, &f->x));
	free(v);
	assert_int_equal(refused_with(f->a, "without a signed invitation"), 1);	/* yankee */
	assert_int_equal(refused_with(f->a, "the inviter was never admitted"), 1);	/* xray */

	/* a seized bravo rewrites its copy: an "invitation" from the ghost, to re-route the way up */
	assert_int_equal(invite_write(&text, "bravo", f->bravo.pk, "ghost", f->ghost.sk, "",
	    f->a->data_key, NULL), 0);
	write_as(f, &f->bravo, invite_doc("bravo", &f->bravo, text));
	free(text);
	assert_int_equal(refused_with(f->a, "rewritten after commit"), 1);

	/* from charlie's seat: up through bravo to hq, which is the founder */
	memcpy(real_pk, f->a->office_pk, ED25519_PK_LEN);
	become(f->a, &f->charlie);
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	become(f->a, &f->hq);
	assert_int_equal(n, 3);
	assert_memory_equal(v[0].pk, real_pk, ED25519_PK_LEN);
	assert_string_equal(v[0].name, "hq");
	assert_string_equal(v[0].address, "hq.example:7400");
	free(v);
}

/* A seized bravo writes 300 invitations at once: the flood is cut at 256, hq still admits. */
static void
test_flood(void **state)
{
	struct fixture *f = *state;
	struct records_written rw;
	json_t *docs[300];
	struct who w;
	char name[32];
	size_t i;

	admit_bravo(f);
	for (i = 0; i < 300; i++) {
		crypto_sign_keypair(w.pk, w.sk);
		snprintf(name, sizeof name, "flood-%zu", i);
		docs[i] = invite_doc(name, &w, NULL);
	}
	become(f->a, &f->bravo);
	assert_int_equal(records_write_changed(f->a, docs, 300, "forged", 1, &rw), 0);
	become(f->a, &f->hq);
	for (i = 0; i < 300; i++)
		json_decref(docs[i]);
	write_as(f, &f->hq, invite_doc("charlie", &f->charlie, NULL));
	assert_int_equal(offices_admitted(f->a, f->charlie.pk), 1);
	assert_int_equal(refused_with(f->a, "holds more than 256"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_founder_and_invited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invented_office, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invitation_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
	};

	if (sodium_init() < 0 || git_libgit2_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
