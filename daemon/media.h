/* Media type of evidence, from its first bytes. */
#ifndef CUSTODY_MEDIA_H
#define CUSTODY_MEDIA_H

#include <stddef.h>
#include <stdint.h>

void media_sniff(char *out, size_t outlen, const uint8_t *p, size_t n);
/* The usual file name extension (no dot) of a media type, or NULL when none is known. */
const char *media_extension(const char *type);

#endif
