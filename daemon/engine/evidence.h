/* Evidence records: what the engine reads from them. */
#ifndef CUSTODY_EVIDENCE_H
#define CUSTODY_EVIDENCE_H

#include "archive.h"

/* Unwrap the file key held in an evidence record (doc). */
int evidence_file_key(struct archive *, json_t *doc, uint8_t key[static 32]);

#endif
