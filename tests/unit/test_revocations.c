/*
 * The revocation quorum (daemon/engine/revocations.c): how many signers a revocation needs, and which
 * revocations take effect from a set of signed revocation records, the same at every office.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "revocations.h"

enum { A, B, C, D, NOFFICES };

static struct office offices[NOFFICES];

static void
setup_offices(void)
{
	size_t i;

	memset(offices, 0, sizeof offices);
	for (i = 0; i < NOFFICES; i++) {
		offices[i].name[0] = (char)('a' + i);
		memset(offices[i].pk, 0x10 * (int)(i + 1), ED25519_PK_LEN);
	}
}

/* signer's revocation of target after from_seq, at clock lamport. */
static struct revocation_sig
sig(int signer, int target, uint64_t from_seq, uint64_t lamport)
{
	struct revocation_sig s;

	memset(&s, 0, sizeof s);
	memcpy(s.signer, offices[signer].pk, ED25519_PK_LEN);
	memcpy(s.target, offices[target].pk, ED25519_PK_LEN);
	s.from_seq = from_seq;
	s.seq = lamport;
	s.lamport = lamport;
	return s;
}

/* The computed revocation of target after from_seq, or NULL. */
static const struct revocation *
find(const struct revocation *v, size_t n, int target, uint64_t from_seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(v[i].target, offices[target].pk, ED25519_PK_LEN) == 0 &&
		    v[i].from_seq == from_seq)
			return &v[i];
	return NULL;
}

static size_t
counted(const struct revocation *r)
{
	size_t i, k = 0;

	for (i = 0; i < r->nsigners; i++)
		k += r->signers[i].counted != 0;
	return k;
}

/*
 * The revocations computed from the ns records s among the first nadmitted offices, with
 * [trust] revoke_quorum quorum: there must be want of them. Caller frees.
 */
static struct revocation *
computed(const struct revocation_sig *s, size_t ns, size_t nadmitted, int quorum, size_t want)
{
	struct revocation *v = NULL;
	size_t n;

	assert_int_equal(revocations_compute(s, ns, offices, nadmitted, quorum, &v, &n), 0);
	assert_int_equal(n, want);
	return v;
}

static void
test_quorum_default(void **state)
{
	(void)state;
	assert_int_equal(revocations_quorum(1, 0), 1);	/* two offices: the other alone */
	assert_int_equal(revocations_quorum(2, 0), 2);	/* three: both others */
	assert_int_equal(revocations_quorum(3, 0), 2);
	assert_int_equal(revocations_quorum(4, 0), 3);
	assert_int_equal(revocations_quorum(2, 1), 1);	/* [trust] revoke_quorum */
	assert_int_equal(revocations_quorum(2, 5), 5);
}

/* Three offices: a and b revoke c; effective after c's commit 4. */
static void
test_two_of_three(void **state)
{
	struct revocation_sig s[2] = { sig(A, C, 4, 10), sig(B, C, 4, 11) };
	struct revocation *v = computed(s, 2, 3, 0, 1);
	const struct revocation *r;

	(void)state;
	assert_non_null(r = find(v, 1, C, 4));
	assert_true(r->effective);
	assert_int_equal(r->quorum, 2);
	assert_int_equal(counted(r), 2);
	free(v);
}

/* One signer of three offices: pending. */
static void
test_one_signer_pending(void **state)
{
	struct revocation_sig s[1] = { sig(A, C, 4, 10) };
	struct revocation *v = computed(s, 1, 3, 0, 1);
	size_t n;

	(void)state;
	assert_false(v[0].effective);
	assert_int_equal(v[0].quorum, 2);
	assert_int_equal(counted(&v[0]), 1);
	free(v);
	/* with [trust] revoke_quorum = 1 the same record is enough */
	assert_int_equal(revocations_compute(s, 1, offices, 3, 1, &v, &n), 0);
	assert_true(v[0].effective);
	free(v);
}

/* The same office twice (two records, two clocks) counts once. */
static void
test_twice_from_one_office(void **state)
{
	struct revocation_sig s[3] = { sig(B, C, 4, 10), sig(B, C, 4, 12), sig(B, C, 4, 15) };
	struct revocation *v = computed(s, 3, 3, 0, 1);

	(void)state;
	assert_false(v[0].effective);
	assert_int_equal(v[0].nsigners, 1);
	assert_int_equal(counted(&v[0]), 1);
	free(v);
}

/* An office cannot count for its own revocation, nor can an office never admitted. */
static void
test_target_and_stranger(void **state)
{
	struct revocation_sig s[3] = { sig(A, C, 4, 10), sig(C, C, 4, 11), sig(D, C, 4, 12) };
	struct revocation *v = computed(s, 3, 3, 0, 1);	/* d is not among the 3 admitted */

	(void)state;
	assert_false(v[0].effective);
	assert_int_equal(v[0].nsigners, 3);
	assert_int_equal(counted(&v[0]), 1);
	free(v);
}

/*
 * c, revoked by a and b, revokes a with d's help (four offices, quorum 2 of the 3 others):
 * a revoked office revokes no one, so a stays. Then b and d alone (three offices, c revoked)
 * revoke each other: still 2 of 3 needed (c's revocation does not lower the bar).
 */
static void
test_revoked_cannot_revoke(void **state)
{
	struct revocation_sig s[4] = { sig(A, C, 4, 10), sig(B, C, 4, 11), sig(C, A, 3, 12),
	    sig(D, A, 3, 13) };
	struct revocation *v = computed(s, 4, 4, 0, 2);
	const struct revocation *r;

	(void)state;
	assert_non_null(r = find(v, 2, C, 4));
	assert_true(r->effective);
	assert_int_equal(r->quorum, 2);		/* more than half of a, b, d */
	assert_non_null(r = find(v, 2, A, 3));
	assert_false(r->effective);
	assert_int_equal(r->quorum, 2);
	assert_int_equal(counted(r), 1);	/* d's; c's does not count */
	free(v);
}

/* Three offices, c revoked: b alone cannot revoke a (2 of the 2 others needed still). */
static void
test_revoked_does_not_lower_bar(void **state)
{
	struct revocation_sig s[3] = { sig(A, C, 4, 10), sig(B, C, 4, 11), sig(B, A, 1, 12) };
	struct revocation *v = computed(s, 3, 3, 0, 2);
	const struct revocation *r;

	(void)state;
	assert_non_null(r = find(v, 2, C, 4));
	assert_true(r->effective);
	assert_non_null(r = find(v, 2, A, 1));
	assert_false(r->effective);
	assert_int_equal(r->quorum, 2);
	free(v);
}

/*
 * Order: the revocation whose quorum completed first takes effect first. With two offices,
 * a revokes b at clock 5 and b revokes a at clock 9: b is revoked, and b's revocation of a
 * then counts for nothing, at every office whatever order it read the records in.
 */
static void
test_first_quorum_wins(void **state)
{
	struct revocation_sig s1[2] = { sig(A, B, 2, 5), sig(B, A, 7, 9) };
	struct revocation_sig s2[2] = { sig(B, A, 7, 9), sig(A, B, 2, 5) };
	struct revocation *v;
	const struct revocation *r;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		v = computed(k ? s2 : s1, 2, 2, 0, 2);
		assert_non_null(r = find(v, 2, B, 2));
		assert_true(r->effective);
		assert_int_equal(r->quorum, 1);
		assert_non_null(r = find(v, 2, A, 7));
		assert_false(r->effective);
		assert_int_equal(counted(r), 0);
		free(v);
	}
}

/* Signatures on different cut points do not add up. */
static void
test_different_cuts(void **state)
{
	struct revocation_sig s[2] = { sig(A, C, 4, 10), sig(B, C, 5, 11) };
	struct revocation *v = computed(s, 2, 3, 0, 2);
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_false(v[i].effective);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quorum_default),
		cmocka_unit_test(test_two_of_three),
		cmocka_unit_test(test_one_signer_pending),
		cmocka_unit_test(test_twice_from_one_office),
		cmocka_unit_test(test_target_and_stranger),
		cmocka_unit_test(test_revoked_cannot_revoke),
		cmocka_unit_test(test_revoked_does_not_lower_bar),
		cmocka_unit_test(test_first_quorum_wins),
		cmocka_unit_test(test_different_cuts),
	};

	setup_offices();	/* before the tests build their signatures */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
