/*
 * Writing casualty records (records-write.c: edits and links; records-import.c: batches). The
 * requests that ask for them are in service-records.c.
 */
#ifndef CUSTODY_RECORDS_WRITE_H
#define CUSTODY_RECORDS_WRITE_H

#include "archive.h"
#include "custody.pb-c.h"

#define RECORDS_LIST_IDS 10000		/* RecordDone lists ids up to this many */
#define RECORDS_LIST_PROBLEMS 1000

struct recproblem {
	uint32_t	 line;
	char		*column;
	char		*problem;
};

int records_kind_ok(const char *kind);
/* Check that the records doc names exist (a person event's person); problems to probs. */
int records_check_refs(struct archive *, const json_t *doc, struct record_problems *probs);
void records_derive_id(struct archive *, json_t *doc);
int records_write(struct archive *, json_t **docs, size_t n, const char *summary,
    Custody__RecordDone *, char oid[GIT_OID_HEXSZ + 1]);
/*
 * Set the fields of the JSON object set and remove those of unset in the current record id of
 * kind, then write it validated like a new one. *idp (the caller's to free) names the record.
 */
int records_edit(char **idp, struct archive *, const char *kind, const char *id,
    const char *set, char *const *unset, size_t nunset, Custody__RecordDone *,
    char oid[GIT_OID_HEXSZ + 1]);
/* Link evidence to the record target of kind, listed in the evidence's field; *idp likewise. */
int records_link(char **idp, struct archive *, const char *evidence, const char *target,
    const char *kind, const char *field, Custody__RecordDone *, char oid[GIT_OID_HEXSZ + 1]);

/*
 * records-import.c: a batch of records of one kind, checked as its parts arrive and written as
 * one commit (an import, or one add).
 */
struct recbatch;
/* Open a batch of count records of kind; CUSTODY_EINVAL (with custody_error) when refused. */
int records_batch_new(struct recbatch **out, const char *kind, uint32_t count,
    int skip_invalid);
/*
 * RecordBegin's columns (records_batch_new done): the batch takes rows under them, checked
 * like a CSV header's; CUSTODY_EINVAL with "ORIGIN:1: column: problem" when refused.
 */
int records_batch_columns(struct recbatch *, const char *origin, const ProtobufCBinaryData *,
    size_t n);
/* Check and keep the records of one RecordBatch message (on a worker). */
int records_batch_add(struct archive *, struct recbatch *, Custody__RecordBatch *);
/*
 * Write the batch as one commit, or nothing when a record is invalid and the batch does not
 * skip invalid ones; d and oid say what was written.
 */
int records_batch_commit(struct archive *, struct recbatch *, Custody__RecordDone *d,
    char oid[GIT_OID_HEXSZ + 1]);
/* What the reply lists: the ids (when few), the first problems, and how many there were. */
void records_batch_outcome(const struct recbatch *, char ***ids, size_t *nids,
    struct recproblem **probs, size_t *nprobs, size_t *total);
void records_batch_free(struct recbatch *);

#endif
