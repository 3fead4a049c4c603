/* Feed commit trailers (include/custody/trailers.h): parsed strictly, written once. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "custody/trailers.h"

#define TRAILER_PREFIX "Custody-"

/* A decimal number of n bytes: digits only, no leading zero but "0", at most UINT64_MAX. */
static int
trailers_decimal(uint64_t *out, const char *s, size_t n)
{
	uint64_t v = 0, d;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* One line "Name: value" of the trailer block; have is the trailers seen so far (bits). */
static int
trailers_line(struct trailers *t, const char *p, size_t n, int *have)
{
	static const char *names[] = { "Custody-Seq", "Custody-Lamport", "Custody-Office" };
	const char *colon = memchr(p, ':', n), *v;
	size_t k, vn, i;

	if (colon == NULL || (size_t)(colon - p) + 2 > n || colon[1] != ' ')
		return custody_fail(CUSTODY_EINVAL, "the trailer block holds a line that is no "
		    "trailer: \"%.*s\"", (int)(n < 60 ? n : 60), p);
	k = (size_t)(colon - p);
	v = colon + 2;
	vn = n - k - 2;
	for (i = 0; i < 3; i++)
		if (strlen(names[i]) == k && memcmp(p, names[i], k) == 0)
			break;
	if (i == 3)
		return custody_fail(CUSTODY_EINVAL, "unknown trailer \"%.*s\"",
		    (int)(k < 40 ? k : 40), p);
	if (*have & (1 << i))
		return custody_fail(CUSTODY_EINVAL, "two %s trailers", names[i]);
	*have |= 1 << i;
	if (i == 2) {
		for (k = 0; k < vn && ((v[k] >= '0' && v[k] <= '9') || (v[k] >= 'a' &&
		    v[k] <= 'f')); k++)
			;
		if (vn != TRAILERS_OFFICE_HEX || k != vn)
			return custody_fail(CUSTODY_EINVAL, "Custody-Office is not 64 lower-case "
			    "hex digits");
		memcpy(t->office, v, TRAILERS_OFFICE_HEX);
		t->office[TRAILERS_OFFICE_HEX] = '\0';
		return 0;
	}
	if (trailers_decimal(i == 0 ? &t->seq : &t->lamport, v, vn) < 0)
		return custody_fail(CUSTODY_EINVAL, "%s is not a decimal number of 64 bits "
		    "(digits only, no sign, space or leading zero)", names[i]);
	return 0;
}

/* Parse a feed commit message strictly. */
int
trailers_parse(struct trailers *out, const char *msg, size_t len)
{
	const char *p, *nl, *end = msg + len, *block = NULL;
	int have = 0, error;

	memset(out, 0, sizeof *out);
	if (len == 0 || memchr(msg, '\0', len) != NULL)
		return custody_fail(CUSTODY_EINVAL, "the commit message is empty or holds a NUL");
	if (msg[len - 1] != '\n' || (len > 1 && msg[len - 2] == '\n'))
		return custody_fail(CUSTODY_EINVAL, "the commit message does not end with its "
		    "last trailer");
	/* the last paragraph: after the last blank line */
	for (p = msg; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n')
			block = p + 2;
	if (block == NULL || msg[0] == '\n')
		return custody_fail(CUSTODY_EINVAL, "the commit message has no subject and trailer "
		    "block");
	for (p = msg; p < block; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((size_t)(nl - p) >= strlen(TRAILER_PREFIX) &&
		    memcmp(p, TRAILER_PREFIX, strlen(TRAILER_PREFIX)) == 0)
			return custody_fail(CUSTODY_EINVAL, "a Custody- trailer outside the trailer "
			    "block");
	}
	for (p = block; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((error = trailers_line(out, p, (size_t)(nl - p), &have)) < 0) {
			memset(out, 0, sizeof *out);
			return error;
		}
	}
	if (have != 7) {
		memset(out, 0, sizeof *out);
		return custody_fail(CUSTODY_EINVAL, "no %s trailer in the trailer block",
		    !(have & 1) ? "Custody-Seq" : !(have & 2) ? "Custody-Lamport" :
		    "Custody-Office");
	}
	return 0;
}

/* Write a feed commit message. */
int
trailers_format(struct cbuf *out, const char *subject, const struct trailers *t)
{
	if (subject[0] == '\0' || strchr(subject, '\n') != NULL ||
	    strncmp(subject, TRAILER_PREFIX, strlen(TRAILER_PREFIX)) == 0 ||
	    !hex_is_lower(t->office, TRAILERS_OFFICE_HEX))
		return custody_fail(CUSTODY_EINVAL, "not a feed commit subject or office");
	return cbuf_printf(out, "%s\n\nCustody-Seq: %" PRIu64 "\nCustody-Lamport: %" PRIu64
	    "\nCustody-Office: %s\n", subject, t->seq, t->lamport, t->office);
}

/* May a peer's commit carry this clock, when the highest we hold is seen? */
int
trailers_clock_check(uint64_t clock, uint64_t seen)
{
	if (clock > CUSTODY_LAMPORT_MAX)
		return custody_fail(CUSTODY_EPROTO, "Lamport clock %" PRIu64 " is past the largest "
		    "allowed (%" PRIu64 ")", clock, CUSTODY_LAMPORT_MAX);
	if (seen < CUSTODY_LAMPORT_MAX - CUSTODY_LAMPORT_AHEAD && clock > seen +
	    CUSTODY_LAMPORT_AHEAD)
		return custody_fail(CUSTODY_EPROTO, "Lamport clock %" PRIu64 " runs more than 2^32 "
		    "past the highest held (%" PRIu64 ")", clock, seen);
	return 0;
}
