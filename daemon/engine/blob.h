/* The blob file format, shared by the blob store's files. */
#ifndef CUSTODY_BLOB_H
#define CUSTODY_BLOB_H

#include "custody/blobfmt.h"

#define BLOB_MAGIC BLOBFMT_MAGIC
#define BLOB_MAGIC_LEN BLOBFMT_MAGIC_LEN
#define BLOB_HDR_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define BLOB_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define BLOB_READ (16 * BLOB_CHUNK)	/* bytes per read(2) of the evidence */

_Static_assert(BLOBFMT_CHUNK == BLOB_CHUNK && BLOBFMT_ABYTES == BLOB_ABYTES &&
    BLOBFMT_HEADER == BLOB_MAGIC_LEN + BLOB_HDR_LEN, "custody/blobfmt.h and the blob store agree");

int blob_io_error(const char *what);

#endif
