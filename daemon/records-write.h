/* Shared by records-write.c and records-import.c (the record requests). */
#ifndef CUSTODY_RECORDS_WRITE_H
#define CUSTODY_RECORDS_WRITE_H

#include "server.h"

#define RECORDS_LIST_IDS 10000		/* RecordDone lists ids up to this many */
#define RECORDS_LIST_PROBLEMS 1000

struct recproblem {
	uint32_t	 line;
	char		*column;
	char		*problem;
};

int records_kind_ok(const char *kind);
void records_derive_id(struct archive *, json_t *doc);
int records_write(struct archive *, json_t **docs, size_t n, const char *summary,
    Custody__RecordDone *, char oid[GIT_OID_HEXSZ + 1]);
int records_reply(struct request *, Custody__RecordDone *, char **ids, size_t n,
    struct recproblem *, size_t nprobs, size_t total, char *oid);

#endif
