/*
 * A batch of records, received and checked (records-import.c), then committed
 * (records-commit.c): what both halves share.
 */
#ifndef CUSTODY_RECORDS_BATCH_H
#define CUSTODY_RECORDS_BATCH_H

#include "epochs.h"
#include "records-spill.h"
#include "records-write.h"

#define RECORDS_STREAM_MIN 64		/* from this many records an import is a stream (a pack) */

/*
 * An open batch. Each record is validated as its message arrives and kept, sealed, in a file
 * under tmp/ (records-spill.h): memory holds 48 bytes a record, the ids of a small batch (for
 * the reply) and the first problems, whatever the size of the import.
 */
struct recbatch {
	char			 kind[16];
	int			 skip_invalid;
	uint32_t		 expected;
	size_t			 received;
	struct records_spill	*spill;		/* valid records */
	char			**cols;		/* records come as rows under these columns */
	size_t			 ncols;
	char			**ids;		/* while expected <= RECORDS_LIST_IDS */
	uint32_t		*idlines;
	size_t			 nids;
	struct recproblem	*probs;		/* the first RECORDS_LIST_PROBLEMS */
	size_t			 nprobs, probs_total;
	/* a stream: the "rev" its records are sealed with (lamport 0 before its first rows) */
	uint64_t		 lamport;
	int			 has_epoch;
	struct epoch		 epoch;		/* the newest then (has_epoch) */
	char			 time[32], summary[96];
	struct cbuf		 rev;		/* "rev":{...} */
	/* the checking threads' buffers, kept from message to message */
	struct cbuf		 arena[2], text[4];
};

int records_batch_problem(struct recbatch *, uint32_t line, const char *column,
    const char *problem);

#endif
