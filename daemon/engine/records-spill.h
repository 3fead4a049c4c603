/*
 * The rows of an import while it arrives, appended to an unnamed file under tmp/. A row is two
 * parts: bytes already sealed (a record object as it will go into the pack, written as is)
 * and bytes still secret (a record's id and index row, or a small batch's open JSON),
 * encrypted under a key that lives only in this process. What finds a row again (token,
 * content hash, line, place in the file: 48 bytes) is kept in memory for at most SPILL_RUN
 * rows: beyond that, each run of rows is sorted and written to a second unnamed file, and the
 * runs are merged when the rows are read back. Memory stays bounded whatever the import's
 * size; sorted by token, the rows come back in the order of the feed's tree, so the commit
 * writes its pack and trees as one stream.
 */
#ifndef CUSTODY_RECORDS_SPILL_H
#define CUSTODY_RECORDS_SPILL_H

#include "archive.h"
#include "custody/runsort.h"

#define SPILL_RUN 65536		/* rows sorted in memory before they go to the run file */

struct records_spill_row {
	uint8_t		tok[TOKEN_LEN];
	uint8_t		chash[TOKEN_LEN];	/* content hash (keyed, as in the index) */
	uint64_t	off;
	uint32_t	len;		/* of the row in the file */
	uint32_t	line;
};

struct records_spill {
	struct archive			*a;
	int				 fd;	/* the rows */
	uint8_t				 key[32];
	uint64_t			 off;
	struct cbuf			 pend;	/* rows not yet written */
	struct runsort			*rows;	/* struct records_spill_row, by token */
};

/* A row read back: pointers into the caller's buffer. */
struct records_spill_item {
	const uint8_t	*sealed;
	size_t		 slen;
	uint8_t		*secret;	/* decrypted (the caller wipes it) */
	size_t		 len;
};

int records_spill_open(struct records_spill **, struct archive *);
int records_spill_add(struct records_spill *, const uint8_t tok[static TOKEN_LEN],
    uint32_t line, const uint8_t chash[static TOKEN_LEN], const void *sealed, size_t slen,
    const void *secret, size_t len);
int records_spill_sort(struct records_spill *);
size_t records_spill_count(const struct records_spill *);
int records_spill_rewind(struct records_spill *);
int records_spill_next(struct records_spill *, const struct records_spill_row **);
int records_spill_read(struct records_spill *, const struct records_spill_row *,
    struct cbuf *buf, struct records_spill_item *);
void records_spill_free(struct records_spill *);

#endif
