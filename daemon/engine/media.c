/*
 * Media type of evidence from its content, never from the client's file name: libmagic's
 * database, loaded at start into a small pool of handles that the worker threads share, each
 * under its own lock (a magic_t is not safe to use from two threads at once). One look costs
 * a millisecond or so of CPU, so two handles let two files be looked at at once; each holds
 * about 6 MiB of the database. When the database cannot be loaded, a short table of
 * signatures stands in, so that an ingest never fails for want of a media type.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <magic.h>

#include "media.h"

/*
 * Bytes libmagic looks at. Its cost grows with them (on bytes it does not recognise, 0.3 ms
 * plus 0.5 ms per 16 KiB here): 16 KiB hold the signatures of the evidence formats (images,
 * audio, video, documents, archives) but for disc images, whose volume descriptors start at
 * 32 KiB; those get MEDIA_DEEP_MAX.
 */
#define MEDIA_SNIFF_MAX (16u << 10)
#define MEDIA_DEEP_MAX (64u << 10)
#define MEDIA_VD_OFF 32769		/* ISO 9660 and UDF volume descriptor identifiers */
#define MEDIA_POOL 2			/* libmagic handles */
#define MEDIA_FLAGS (MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR)
/*
 * On binary bytes the text tests find nothing, yet they decode the whole window, twice, before
 * they give up: about a sixth of libmagic's work on 16 KiB of random bytes, the part that grows
 * with the window (the rest is its database, walked once per file whatever the size).
 */
#define MEDIA_FLAGS_BINARY (MEDIA_FLAGS | MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_ENCODING)
/*
 * No other MAGIC_NO_CHECK_* flag is worth its risk: on 16 KiB of unrecognised binary bytes
 * (libmagic 5.44, ~240 us a look here) all but MAGIC_NO_CHECK_SOFT together save nothing that
 * can be measured, and that one is the database walk itself (3,561 tests, strongest first, until
 * one matches), which gives every media type. Evidence is cheaper than random bytes because
 * the walk stops at its match: JPEG and PNG ~9 us, PDF ~23 us, MP4 ~72 us, WAV ~110 us.
 */

static pthread_once_t media_once = PTHREAD_ONCE_INIT;
static struct {
	pthread_mutex_t	 lock;
	magic_t		 cookie;
} media_pool[MEDIA_POOL];
static int media_loaded;
static atomic_uint media_next;
static char media_cause[256];

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
	{ "video/x-matroska", "mkv" }, { "audio/x-wav", "wav" },
	{ "video/3gpp", "3gp" }, { "audio/x-m4a", "m4a" }, { "image/bmp", "bmp" },
	{ "image/heif", "heif" }, { "text/html", "html" },
	{ "text/csv", "csv" }, { "application/json", "json" }, { "application/msword", "doc" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx" },
	{ "application/vnd.oasis.opendocument.text", "odt" },
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

/* Load libmagic's default database into every handle of the pool (once per process). */
static void
media_load(void)
{
	magic_t m;
	int i;

	for (i = 0; i < MEDIA_POOL; i++) {
		/* no looking inside compressed data: only these bytes */
		if ((m = magic_open(MEDIA_FLAGS)) == NULL) {
			snprintf(media_cause, sizeof media_cause, "libmagic: cannot start");
			break;
		}
		if (magic_load(m, NULL) != 0) {
			snprintf(media_cause, sizeof media_cause, "libmagic: cannot load its "
			    "database: %s", magic_error(m) != NULL ? magic_error(m) : "unknown error");
			magic_close(m);
			break;
		}
		pthread_mutex_init(&media_pool[i].lock, NULL);
		media_pool[i].cookie = m;
	}
	if (i == MEDIA_POOL) {
		media_loaded = 1;
		return;
	}
	while (i-- > 0) {
		magic_close(media_pool[i].cookie);
		media_pool[i].cookie = NULL;
	}
}

/* Load the media type database now; returns 0, or -1 with a reason in *cause (static). */
int
media_open(const char **cause)
{
	pthread_once(&media_once, media_load);
	if (!media_loaded) {
		*cause = media_cause;
		return -1;
	}
	return 0;
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

/* The stand-in when libmagic is missing: a few signatures, then text or bytes. */
static void
media_table(char *out, size_t outlen, const uint8_t *p, size_t n)
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

/* Whether s looks like a media type: type "/" subtype, printable, no spaces. */
static int
media_valid(const char *s, size_t outlen)
{
	size_t i, slash = 0;

	if (s == NULL || strlen(s) >= outlen)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ';')
			return 0;
		slash += s[i] == '/';
	}
	return slash == 1 && s[0] != '/' && s[i - 1] != '/';
}

/* How many of the first n bytes libmagic should look at. */
static size_t
media_window(const uint8_t *p, size_t n)
{
	if (n <= MEDIA_SNIFF_MAX)
		return n;
	if (n >= MEDIA_VD_OFF + 5 && (memcmp(p + MEDIA_VD_OFF, "CD001", 5) == 0 ||
	    memcmp(p + MEDIA_VD_OFF, "BEA01", 5) == 0))
		return n < MEDIA_DEEP_MAX ? n : MEDIA_DEEP_MAX;
	return MEDIA_SNIFF_MAX;
}

/*
 * Whether libmagic's text tests must fail on p[0..n): a NUL byte with something else after it
 * (it trims trailing NULs) is text in none of the encodings it tries, but for UTF-16 and
 * UTF-32, which it only takes with a byte order mark, and UTF-7, with its own mark; a file
 * starting so keeps the text tests.
 */
static int
media_is_binary(const uint8_t *p, size_t n)
{
	const uint8_t *z;

	if (n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff)))
		return 0;
	if (n >= 4 && memcmp(p, "\0\0\xfe\xff", 4) == 0)
		return 0;
	if (n >= 3 && (memcmp(p, "+/v", 3) == 0 || memcmp(p, "\xef\xbb\xbf", 3) == 0))
		return 0;
	if ((z = memchr(p, 0, n)) == NULL)
		return 0;
	for (z++; z < p + n; z++)
		if (*z != 0)
			return 1;
	return 0;
}

/* Guess the media type from the first n bytes of a file (n == 0: an empty file). */
void
media_sniff(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	const char *t, *cause;
	unsigned first, i, k;
	size_t w;
	int ok = 0, bin;

	if (n == 0) {
		snprintf(out, outlen, "application/octet-stream");
		return;
	}
	if (media_open(&cause) < 0) {
		media_table(out, outlen, p, n);
		return;
	}
	w = media_window(p, n);
	bin = media_is_binary(p, w);
	/* a free handle if there is one, else wait for the one whose turn it is */
	first = atomic_fetch_add(&media_next, 1) % MEDIA_POOL;
	for (k = 0; k < MEDIA_POOL; k++)
		if (pthread_mutex_trylock(&media_pool[(first + k) % MEDIA_POOL].lock) == 0)
			break;
	if (k == MEDIA_POOL) {
		k = 0;
		pthread_mutex_lock(&media_pool[first].lock);
	}
	i = (first + k) % MEDIA_POOL;
	if (bin)
		magic_setflags(media_pool[i].cookie, MEDIA_FLAGS_BINARY);
	t = magic_buffer(media_pool[i].cookie, p, w);
	if ((ok = media_valid(t, outlen)))
		snprintf(out, outlen, "%s", t);
	if (bin)
		magic_setflags(media_pool[i].cookie, MEDIA_FLAGS);
	pthread_mutex_unlock(&media_pool[i].lock);
	if (!ok)
		media_table(out, outlen, p, n);
}
