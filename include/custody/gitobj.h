/* Git commit objects as peers and dossiers carry them: the signature split from what it signs. */
#ifndef CUSTODY_GITOBJ_H
#define CUSTODY_GITOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "custody/common.h"

/*
 * Split a raw commit object (without the "commit N\0" prefix) into the bytes its gpgsig header
 * signs (the object without that header) and the signature (continuation spaces removed, no
 * trailing newline), as git and libgit2 do. CUSTODY_ENOTFOUND when unsigned, CUSTODY_EINVAL when
 * malformed. Both buffers are appended to.
 */
int gitobj_commit_signature(struct cbuf *signed_data, struct cbuf *sig, const uint8_t *raw,
    size_t len);

#endif
