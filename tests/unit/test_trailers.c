/* Feed commit trailers: one strict parser (proto/trailers.c), good and forged messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/trailers.h"

#define OFFICE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SEQ "Custody-Seq: 12\n"
#define LAM "Custody-Lamport: 40817\n"
#define OFF "Custody-Office: " OFFICE "\n"

static int
parse(struct trailers *t, const char *msg)
{
	return trailers_parse(t, msg, strlen(msg));
}

/* msg is refused, and the reason names why */
static void
refused(const char *msg, const char *why)
{
	struct trailers t;

	if (parse(&t, msg) != CUSTODY_EINVAL)
		fail_msg("accepted: %s", msg);
	if (strstr(custody_error(), why) == NULL)
		fail_msg("\"%s\" refused for \"%s\", not \"%s\"", msg, custody_error(), why);
	assert_int_equal(t.seq, 0);
	assert_int_equal(t.lamport, 0);
	assert_string_equal(t.office, "");
}

static void
test_good(void **state)
{
	struct trailers t;

	assert_int_equal(parse(&t, "ingest 1 file (1 new)\n\n" SEQ LAM OFF), 0);
	assert_int_equal(t.seq, 12);
	assert_int_equal(t.lamport, 40817);
	assert_string_equal(t.office, OFFICE);
	/* any order, a body paragraph, "0", the largest number */
	assert_int_equal(parse(&t, "s\n\nbody\nmore\n\n" OFF "Custody-Lamport: 0\n"
	    "Custody-Seq: 18446744073709551615\n"), 0);
	assert_int_equal(t.seq, UINT64_MAX);
	assert_int_equal(t.lamport, 0);
}

static void
test_numbers(void **state)
{
	refused("s\n\nCustody-Seq: -1\n" LAM OFF, "Custody-Seq is not a decimal");
	refused("s\n\nCustody-Seq: +1\n" LAM OFF, "Custody-Seq is not a decimal");
	refused("s\n\n" SEQ "Custody-Lamport: 18446744073709551616\n" OFF,
	    "Custody-Lamport is not a decimal");
	refused("s\n\n" SEQ "Custody-Lamport: 99999999999999999999\n" OFF, "Custody-Lamport");
	refused("s\n\nCustody-Seq: 012\n" LAM OFF, "leading zero");
	refused("s\n\nCustody-Seq: 00\n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq:  12\n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq: 12 \n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq: 12\r\n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq: 0x12\n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq: \n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq: 1e3\n" LAM OFF, "Custody-Seq is not");
	refused("s\n\nCustody-Seq:12\n" LAM OFF, "no trailer");
	refused("s\n\nCustody-Seq : 12\n" LAM OFF, "unknown trailer");
	refused("s\n\ncustody-seq: 12\n" LAM OFF, "unknown trailer");
	refused("s\n\n" SEQ LAM "Custody-Office: " OFFICE "0\n", "Custody-Office is not 64");
	refused("s\n\n" SEQ LAM "Custody-Office: 0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef\n", "Custody-Office is not 64");
}

static void
test_duplicates(void **state)
{
	refused("s\n\n" SEQ LAM OFF SEQ, "two Custody-Seq trailers");
	refused("s\n\n" SEQ "Custody-Lamport: 1\n" LAM OFF, "two Custody-Lamport trailers");
	refused("s\n\n" SEQ LAM OFF OFF, "two Custody-Office trailers");
}

static void
test_placement(void **state)
{
	/* in the subject or the body: never a trailer, and the message is refused */
	refused(SEQ "\n" LAM OFF, "outside the trailer block");
	refused("s\n\n" SEQ "\n" LAM OFF, "outside the trailer block");
	refused("s\nCustody-Lamport: 9223372036854775807\n\n" SEQ LAM OFF, "outside the trailer");
	refused("s\n\n" SEQ LAM OFF "\nsigned off\n", "outside the trailer block");
	/* no subject, nothing after, more or other lines in the block */
	refused(SEQ LAM OFF, "no subject");
	refused("\n\n" SEQ LAM OFF, "no subject");
	refused("s\n\n" SEQ LAM OFF "\n", "does not end with its last trailer");
	refused("s\n\n" SEQ LAM "Custody-Office: " OFFICE, "does not end");
	refused("s\n\n" SEQ LAM OFF "Signed-off-by: x\n", "unknown trailer");
	refused("s\n\n" SEQ LAM OFF "free text\n", "no trailer");
	refused("s\n\n" SEQ LAM, "no Custody-Office trailer");
	refused("s\n\n" LAM OFF, "no Custody-Seq trailer");
	refused("s\n\n" SEQ OFF, "no Custody-Lamport trailer");
	refused("", "empty");
}

static void
test_nul(void **state)
{
	static const char msg[] = "s\n\n" SEQ LAM "Custody-Office: " OFFICE "\0\n";
	struct trailers t;

	assert_int_equal(trailers_parse(&t, msg, sizeof msg - 1), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "NUL"));
}

static void
test_format_roundtrip(void **state)
{
	struct trailers t = { .seq = 3, .lamport = CUSTODY_LAMPORT_MAX }, back;
	struct cbuf b = { 0 };

	memcpy(t.office, OFFICE, sizeof t.office);
	assert_int_equal(trailers_format(&b, "custody", &t), 0);
	assert_int_equal(trailers_parse(&back, (const char *)b.data, b.len), 0);
	assert_memory_equal(&t, &back, sizeof t);
	cbuf_free(&b);
	assert_int_equal(trailers_format(&b, "two\nlines", &t), CUSTODY_EINVAL);
	assert_int_equal(trailers_format(&b, "", &t), CUSTODY_EINVAL);
	assert_int_equal(trailers_format(&b, "Custody-Seq: 1", &t), CUSTODY_EINVAL);
	cbuf_free(&b);
}

static void
test_clock_bound(void **state)
{
	assert_int_equal(trailers_clock_check(1, 0), 0);
	assert_int_equal(trailers_clock_check(CUSTODY_LAMPORT_AHEAD, 0), 0);
	assert_int_equal(trailers_clock_check(CUSTODY_LAMPORT_AHEAD + 1, 0), CUSTODY_EPROTO);
	assert_int_equal(trailers_clock_check(100 + CUSTODY_LAMPORT_AHEAD, 100), 0);
	assert_int_equal(trailers_clock_check(101 + CUSTODY_LAMPORT_AHEAD, 100), CUSTODY_EPROTO);
	assert_int_equal(trailers_clock_check(CUSTODY_LAMPORT_MAX, 5), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "past the highest held"));
	assert_int_equal(trailers_clock_check(CUSTODY_LAMPORT_MAX, CUSTODY_LAMPORT_MAX - 1), 0);
	assert_int_equal(trailers_clock_check(CUSTODY_LAMPORT_MAX + 1, CUSTODY_LAMPORT_MAX),
	    CUSTODY_EPROTO);
	assert_int_equal(trailers_clock_check(UINT64_MAX, UINT64_MAX - 1), CUSTODY_EPROTO);
	assert_non_null(strstr(custody_error(), "past the largest allowed"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_clock_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
