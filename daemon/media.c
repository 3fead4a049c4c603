/* Media type of evidence from its magic bytes; never from the client's file name. */
#include <stdio.h>
#include <string.h>

#include "media.h"

static const struct {
	size_t		 off;
	const char	*magic;
	size_t		 len;
	const char	*type;
} media_magic[] = {
	{ 0, "\xff\xd8\xff", 3, "image/jpeg" },
	{ 0, "\x89PNG\r\n\x1a\n", 8, "image/png" },
	{ 0, "GIF87a", 6, "image/gif" },
	{ 0, "GIF89a", 6, "image/gif" },
	{ 0, "II*\0", 4, "image/tiff" },
	{ 0, "MM\0*", 4, "image/tiff" },
	{ 8, "WEBP", 4, "image/webp" },
	{ 4, "ftypheic", 8, "image/heic" },
	{ 4, "ftypqt", 6, "video/quicktime" },
	{ 4, "ftyp", 4, "video/mp4" },
	{ 0, "\x1a\x45\xdf\xa3", 4, "video/webm" },
	{ 8, "AVI ", 4, "video/x-msvideo" },
	{ 8, "WAVE", 4, "audio/wav" },
	{ 0, "OggS", 4, "audio/ogg" },
	{ 0, "ID3", 3, "audio/mpeg" },
	{ 0, "fLaC", 4, "audio/flac" },
	{ 0, "%PDF-", 5, "application/pdf" },
	{ 0, "PK\x03\x04", 4, "application/zip" },
	{ 0, "\x1f\x8b", 2, "application/gzip" },
};

/* The usual file name extension of each media type media_sniff gives. */
static const struct {
	const char	*type;
	const char	*ext;
} media_ext[] = {
	{ "image/jpeg", "jpg" }, { "image/png", "png" }, { "image/gif", "gif" },
	{ "image/tiff", "tif" }, { "image/webp", "webp" }, { "image/heic", "heic" },
	{ "video/quicktime", "mov" }, { "video/mp4", "mp4" }, { "video/webm", "webm" },
	{ "video/x-msvideo", "avi" }, { "audio/wav", "wav" }, { "audio/ogg", "ogg" },
	{ "audio/mpeg", "mp3" }, { "audio/flac", "flac" }, { "application/pdf", "pdf" },
	{ "application/zip", "zip" }, { "application/gzip", "gz" }, { "text/plain", "txt" },
};

const char *
media_extension(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < sizeof media_ext / sizeof media_ext[0]; i++)
		if (strcmp(type, media_ext[i].type) == 0)
			return media_ext[i].ext;
	return NULL;
}

/* Whether p[0..n) is valid UTF-8 text without NUL or most control bytes. */
static int
media_is_text(const uint8_t *p, size_t n)
{
	size_t i = 0, k, need;

	while (i < n) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
				return 0;
			i++;
			continue;
		}
		need = (p[i] & 0xe0) == 0xc0 ? 1 : (p[i] & 0xf0) == 0xe0 ? 2 :
		    (p[i] & 0xf8) == 0xf0 ? 3 : 0;
		if (need == 0)
			return 0;
		for (k = 1; k <= need; k++)
			if (i + k < n && (p[i + k] & 0xc0) != 0x80)
				return 0;
		i += need + 1;
	}
	return 1;
}

/* Guess the media type from the first n bytes. */
void
media_sniff(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof media_magic / sizeof media_magic[0]; i++)
		if (n >= media_magic[i].off + media_magic[i].len &&
		    memcmp(p + media_magic[i].off, media_magic[i].magic, media_magic[i].len) == 0) {
			snprintf(out, outlen, "%s", media_magic[i].type);
			return;
		}
	if (n > 0 && media_is_text(p, n < 4096 ? n : 4096))
		snprintf(out, outlen, "text/plain");
	else
		snprintf(out, outlen, "application/octet-stream");
}
