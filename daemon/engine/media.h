/* Media type of evidence, from its first bytes (libmagic). */
#ifndef CUSTODY_MEDIA_H
#define CUSTODY_MEDIA_H

#include <stddef.h>
#include <stdint.h>

/*
 * Load the media type database (libmagic's), once per process; later calls only report. Call
 * it at startup, before anything could restrict the file system. Returns 0, or -1 with a
 * static reason in *cause: media_sniff then falls back to a short table of signatures.
 */
int media_open(const char **cause);
/* The media type ("video/mp4") of a file whose first n bytes are p; thread-safe. */
void media_sniff(char *out, size_t outlen, const uint8_t *p, size_t n);
/* The usual file name extension (no dot) of a media type, or NULL when none is known. */
const char *media_extension(const char *type);

#endif
