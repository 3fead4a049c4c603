/* The blob file format, shared by the blob store's files. */
#ifndef CUSTODY_BLOB_H
#define CUSTODY_BLOB_H

#define BLOB_MAGIC "CUSTBLB1"
#define BLOB_MAGIC_LEN 8
#define BLOB_HDR_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define BLOB_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define BLOB_READ (16 * BLOB_CHUNK)	/* bytes per read(2) of the evidence */

int blob_io_error(const char *what);

/*
 * Room left for padding blob files to hide their exact size (Padmé adds at most 12%), on top
 * of the format's own overhead: blob_stored_max allows BLOB_PAD_PERCENT percent more, plus
 * BLOB_PAD_SLACK bytes.
 */
#define BLOB_PAD_PERCENT 12
#define BLOB_PAD_SLACK 4096
uint64_t blob_stored_max(uint64_t size);

#endif
