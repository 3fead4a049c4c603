/*
 * Records encoded as they are sealed and hashed (RECORD_CONTENT_JSON: compact, keys sorted,
 * ASCII only) by jansson's encoder, straight into a buffer the caller reuses: json_dumps
 * would allocate, copy and free a string for every record of an import.
 */
#ifndef CUSTODY_RECORD_JSON_H
#define CUSTODY_RECORD_JSON_H

#include <jansson.h>

#include "custody/common.h"

/*
 * Append doc (an object) to out, NUL-terminated, byte for byte as
 * json_dumps(doc, RECORD_CONTENT_JSON) gives it; CUSTODY_EINVAL when jansson would not
 * encode it either.
 */
int record_json(struct cbuf *out, const json_t *doc);

#endif
