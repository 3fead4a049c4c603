/*
 * Invitations that expire or are withdrawn, as every office judges them from the same signed
 * records (written as each office would, signed with its key, in one real archive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "custody/invite.h"
#include "offices.h"
#include "office-fixture.h"

/* A copy of an invitation hq signs for w, created and expiring as given. */
static void
copy_as(struct fixture *f, const char *name, const struct who *w, const char *created,
    const char *expires)
{
	char *text = NULL;

	assert_int_equal(invite_write_expires(&text, name, w->pk, "hq", f->hq.sk, "",
	    f->a->data_key, created, expires), 0);
	write_as(f, w, invite_doc(name, w, text));
	free(text);
}

/* Now, plus or minus some seconds, as an invitation time. */
static void
at(char out[static INVITE_TIME_LEN + 1], int64_t from_now)
{
	invite_format_time(out, (int64_t)time(NULL) + from_now);
}

/* The times of an invitation in force: created a minute ago, expiring in an hour. */
struct window {
	char	now[INVITE_TIME_LEN + 1];
	char	later[INVITE_TIME_LEN + 1];
};

static void
window_open(struct window *w)
{
	at(w->now, -60);
	at(w->later, 3600);
}

/*
 * Expiry, judged by the time the invited office wrote its copy (its commit's rev time, signed):
 * charlie's copy is in time; bravo's copy of an invitation that expired before it was written
 * admits nobody, nor does hq's invite record of bravo; an office admitted with an older
 * invitation, without an expires line, stays admitted (custodyd join alone judged it).
 */
static void
test_expired_copies(void **state)
{
	struct fixture *f = *state;
	struct office *v = NULL;
	struct window w;
	json_t *doc;
	size_t n;

	window_open(&w);
	copy_as(f, "charlie", &f->charlie, w.now, w.later);
	assert_non_null(doc = invite_doc("bravo", &f->bravo, NULL));
	assert_int_equal(json_object_set_new(doc, "expires", json_string("2020-01-08T00:00:00Z")),
	    0);
	write_as(f, &f->hq, doc);
	copy_as(f, "bravo", &f->bravo, "2020-01-01T00:00:00Z", "2020-01-08T00:00:00Z");
	/* an office that joined with an invitation older than expiry lines stays admitted */
	copy_as(f, "xray", &f->x, "2020-01-01T00:00:00Z", "");

	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_string_equal(name_of(v, n, &f->charlie), "charlie");
	assert_null(name_of(v, n, &f->bravo));
	assert_string_equal(name_of(v, n, &f->x), "xray");
	assert_int_equal(n, 3);
	free(v);
	assert_true(refused_with(f->a, "with an invitation that expired at "
	    "2020-01-08T00:00:00Z") >= 2);	/* bravo's copy and hq's invite record */
	assert_true(refused_with(f->a, "that expired at 2020-01-08T00:00:00Z: it admits "
	    "nobody") >= 1);
	assert_true(offices_admitted(f->a, f->charlie.pk));
	assert_false(offices_admitted(f->a, f->bravo.pk));
}

/* A witness record of w's feed written by by, at time. */
static void
witness_as(struct fixture *f, const struct who *by, const struct who *w, const char *time)
{
	char hex[2 * ED25519_PK_LEN + 1], id[200];

	hex_encode(hex, w->pk, ED25519_PK_LEN);
	snprintf(id, sizeof id, "witness-%s-1", hex);
	write_as(f, by, json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "kind", "witness", "id", id, "feed",
	    hex, "seq", 1, "head", "0000000000000000000000000000000000000000", "time", time));
}

/*
 * Withdrawal: hq withdraws bravo's invitation before anyone saw bravo, which then admits
 * nobody, though bravo writes its copy; x's withdrawal of an invitation by hq counts for
 * nothing; charlie, witnessed by hq before hq withdrew its invitation, stays admitted.
 */
static void
test_withdrawn(void **state)
{
	struct fixture *f = *state;
	struct office *v = NULL;
	struct window w;
	json_t *doc;
	size_t n;

	window_open(&w);
	write_as(f, &f->hq, invite_doc("bravo", &f->bravo, NULL));
	write_as(f, &f->hq, invite_doc("charlie", &f->charlie, NULL));
	write_as(f, &f->hq, invite_doc("yankee", &f->y, NULL));
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 4);
	free(v);

	assert_int_equal(offices_withdrawal_record(&doc, "bravo", f->bravo.pk), 0);
	write_as(f, &f->hq, doc);
	copy_as(f, "bravo", &f->bravo, w.now, w.later);
	copy_as(f, "charlie", &f->charlie, w.now, w.later);
	witness_as(f, &f->hq, &f->charlie, "2020-01-01T00:00:00Z");
	assert_int_equal(offices_withdrawal_record(&doc, "charlie", f->charlie.pk), 0);
	write_as(f, &f->hq, doc);
	/* x, no office, "withdraws" yankee; and a withdrawal whose id names another key */
	assert_int_equal(offices_withdrawal_record(&doc, "yankee", f->y.pk), 0);
	write_as(f, &f->x, doc);
	assert_int_equal(offices_withdrawal_record(&doc, "yankee", f->y.pk), 0);
	assert_int_equal(json_object_set_new(doc, "id", json_string("withdrawal-00")), 0);
	write_as(f, &f->hq, doc);

	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_null(name_of(v, n, &f->bravo));
	assert_string_equal(name_of(v, n, &f->charlie), "charlie");
	assert_string_equal(name_of(v, n, &f->y), "yankee");
	assert_int_equal(n, 3);
	free(v);
	assert_true(refused_with(f->a, "was withdrawn by its inviter: it admits nobody") >= 1);
	assert_true(refused_with(f->a, "written after that office joined, it changes "
	    "nothing") >= 1);
	assert_int_equal(refused_with(f->a, "withdrawal record in feed"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expired_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawn, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
