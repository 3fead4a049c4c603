/*
 * The rows of an import while it arrives: each validated record, encrypted under a key that
 * lives only in this process, appended to an unnamed file under tmp/; memory keeps 32 bytes a
 * row (token, line, place in the file). Sorted by token, the rows come back in the order of
 * the feed's tree, so the commit writes its pack and trees as one stream.
 */
#ifndef CUSTODY_RECORDS_SPILL_H
#define CUSTODY_RECORDS_SPILL_H

#include "archive.h"

struct records_spill_row {
	uint8_t		tok[TOKEN_LEN];
	uint64_t	off;
	uint32_t	len;		/* of the ciphertext */
	uint32_t	line;
};

struct records_spill {
	int				 fd;
	uint8_t				 key[32];
	uint64_t			 off;
	struct cbuf			 pend;	/* ciphertext not yet written */
	struct records_spill_row	*row;
	size_t				 n, cap;
};

int records_spill_open(struct records_spill **, struct archive *);
int records_spill_add(struct records_spill *, const uint8_t tok[static TOKEN_LEN],
    uint32_t line, const uint8_t chash[static TOKEN_LEN], const char *json);
int records_spill_sort(struct records_spill *);
int records_spill_read(struct records_spill *, size_t i, uint8_t chash[static TOKEN_LEN],
    char **json);
void records_spill_free(struct records_spill *);

#endif
