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

/* A key pair that plays an office. */
struct who {
	uint8_t	pk[ED25519_PK_LEN];
	uint8_t	sk[ED25519_SK_LEN];
};

struct fixture {
	char		 dir[256];
	struct archive	*a;		/* "hq", the founder */
	struct who	 hq, bravo, charlie, ghost, x, y;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL, path[300];

	snprintf(f->dir, sizeof f->dir, "/tmp/custody-offices.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof path, "%s/a", f->dir);
	assert_int_equal(archive_create(path, "hq", NULL, &cause), 0);
	assert_int_equal(archive_open(&f->a, path, NULL, 0, &cause), 0);
	assert_int_equal(index_open(f->a, &cause), 0);
	memcpy(f->hq.pk, f->a->office_pk, ED25519_PK_LEN);
	memcpy(f->hq.sk, f->a->office_sk, ED25519_SK_LEN);
	crypto_sign_keypair(f->bravo.pk, f->bravo.sk);
	crypto_sign_keypair(f->charlie.pk, f->charlie.sk);
	crypto_sign_keypair(f->ghost.pk, f->ghost.sk);
	crypto_sign_keypair(f->x.pk, f->x.sk);
	crypto_sign_keypair(f->y.pk, f->y.sk);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[400];

	archive_close(f->a);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Be office w for a while: our key signs w's own feed. */
static void
become(struct archive *a, const struct who *w)
{
	memcpy(a->office_pk, w->pk, ED25519_PK_LEN);
	memcpy(a->office_sk, w->sk, ED25519_SK_LEN);
	hex_encode(a->office_hex, w->pk, ED25519_PK_LEN);
}

/* Commit doc (taken) in w's own feed, signed by w. */
static void
write_as(struct fixture *f, const struct who *w, json_t *doc)
{
	struct records_written rw;

	assert_non_null(doc);
	become(f->a, w);
	assert_int_equal(records_write_changed(f->a, &doc, 1, "forged", 1, &rw), 0);
	become(f->a, &f->hq);
	json_decref(doc);
}

static json_t *
invite_doc(const char *name, const struct who *w, const char *invitation)
{
	json_t *doc = NULL;

	assert_int_equal(offices_invite_record(&doc, name, w->pk, invitation), 0);
	return doc;
}

/* The name pk is admitted with, or NULL. */
static const char *
name_of(const struct office *v, size_t n, const struct who *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(v[i].pk, w->pk, ED25519_PK_LEN) == 0)
			return v[i].name;
	return NULL;
}

/* How many refusal lines hold needle. */
static size_t
refused_with(struct archive *a, const char *needle)
{
	char **lines = NULL;
	size_t n = 0, i, k = 0;

	assert_int_equal(offices_refused(a, &lines, &n), 0);
	for (i = 0; i < n; i++)
		k += strstr(lines[i], needle) != NULL;
	offices_refused_free(lines, n);
	return k;
}


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
	char now[INVITE_TIME_LEN + 1], later[INVITE_TIME_LEN + 1];
	json_t *doc;
	size_t n;

	at(now, -60);
	at(later, 3600);
	copy_as(f, "charlie", &f->charlie, now, later);
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
	char now[INVITE_TIME_LEN + 1], later[INVITE_TIME_LEN + 1];
	json_t *doc;
	size_t n;

	at(now, -60);
	at(later, 3600);
	write_as(f, &f->hq, invite_doc("bravo", &f->bravo, NULL));
	write_as(f, &f->hq, invite_doc("charlie", &f->charlie, NULL));
	write_as(f, &f->hq, invite_doc("yankee", &f->y, NULL));
	assert_int_equal(offices_list(f->a, &v, &n), 0);
	assert_int_equal(n, 4);
	free(v);

	assert_int_equal(offices_withdrawal_record(&doc, "bravo", f->bravo.pk), 0);
	write_as(f, &f->hq, doc);
	copy_as(f, "bravo", &f->bravo, now, later);
	copy_as(f, "charlie", &f->charlie, now, later);
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
