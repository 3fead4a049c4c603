/*
 * Feed commit messages: a subject, then a trailer block that is the message's last paragraph.
 *
 *	SUBJECT\n
 *	\n
 *	Custody-Seq: 12\n
 *	Custody-Lamport: 40817\n
 *	Custody-Office: <64 lower-case hex digits: the feed owner's Ed25519 key>\n
 *
 * The subject (and any body paragraphs) may not hold a line starting "Custody-". The block holds
 * exactly these three trailers, each once, in any order, and nothing else; numbers are decimal
 * digits with no sign, space or leading zero, and fit in 64 bits. The message ends with the
 * newline of its last trailer. One parser for everyone who reads a feed commit: the daemon
 * (feeds, sync, verify, index) and the dossier verifier.
 */
#ifndef CUSTODY_TRAILERS_H
#define CUSTODY_TRAILERS_H

#include <stddef.h>
#include <stdint.h>

#include "custody/common.h"

#define TRAILERS_OFFICE_HEX 64

/*
 * Lamport clocks are unsigned 64-bit numbers, but no valid clock exceeds CUSTODY_LAMPORT_MAX, so
 * they keep their order wherever they are stored signed (SQLite integers, JSON integers read by
 * jansson). A commit from a peer may run at most CUSTODY_LAMPORT_AHEAD past the highest clock the
 * receiver holds: honest clocks grow by one per commit, so that is four billion commits the
 * receiver has not seen. A peer therefore needs two billion accepted commits to exhaust the
 * clock, not one.
 */
#define CUSTODY_LAMPORT_MAX	((uint64_t)INT64_MAX)
#define CUSTODY_LAMPORT_AHEAD	(UINT64_C(1) << 32)

/* The trailers of one feed commit. */
struct trailers {
	uint64_t	seq;		/* Custody-Seq: 1 for a feed's first commit, then parent + 1 */
	uint64_t	lamport;	/* Custody-Lamport */
	char		office[TRAILERS_OFFICE_HEX + 1];	/* Custody-Office, NUL-terminated */
};

/*
 * Parse a whole commit message of len bytes (not NUL-terminated). 0, or CUSTODY_EINVAL with
 * custody_error() saying what is wrong; *out is zeroed first.
 */
int trailers_parse(struct trailers *out, const char *msg, size_t len);

/* Append a whole message: the subject (one line, not empty), a blank line and the trailers. */
int trailers_format(struct cbuf *out, const char *subject, const struct trailers *t);

/*
 * Whether a commit's clock may be taken from a peer when the highest clock held is seen: 0, or
 * CUSTODY_EPROTO with custody_error() saying why not.
 */
int trailers_clock_check(uint64_t clock, uint64_t seen);

#endif
