/* age X25519 keys: generation, Bech32 strings, identity files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "age-internal.h"

#define AGE_RECIPIENT_HRP "age"
#define AGE_IDENTITY_HRP "AGE-SECRET-KEY-"
#define AGE_IDENTITY_FILE_MAX (64 * 1024)

/* The identity for secret key sk. */
int
age_identity_from_secret(struct age_identity *id, const uint8_t sk[static AGE_KEY_LEN])
{
	memmove(id->sk, sk, AGE_KEY_LEN);
	if (crypto_scalarmult_base(id->pk, id->sk) != 0) {
		sodium_memzero(id, sizeof *id);
		return custody_fail(CUSTODY_EINVAL, "age: unusable X25519 secret key");
	}
	return 0;
}

/* A fresh random identity. */
int
age_keygen(struct age_identity *id)
{
	uint8_t sk[AGE_KEY_LEN];
	int error;

	randombytes_buf(sk, sizeof sk);
	error = age_identity_from_secret(id, sk);
	sodium_memzero(sk, sizeof sk);
	return error;
}

/* Parse "AGE-SECRET-KEY-1..." (upper case only, as age-keygen writes it). */
int
age_identity_parse(struct age_identity *id, const char *s, size_t len)
{
	char hrp[32];
	uint8_t sk[AGE_KEY_LEN + 1];
	size_t n = sizeof sk;
	int error;

	if ((error = bech32_decode(hrp, sizeof hrp, sk, &n, s, len)) < 0)
		goto done;
	if (strcmp(hrp, "AGE-SECRET-KEY-PQ-") == 0) {
		error = custody_fail(CUSTODY_EINVAL,
		    "age: post-quantum (hybrid) identities are not supported");
		goto done;
	}
	if (strcmp(hrp, AGE_IDENTITY_HRP) != 0 || n != AGE_KEY_LEN) {
		error = custody_fail(CUSTODY_EINVAL, "age: not an AGE-SECRET-KEY-1 identity");
		goto done;
	}
	error = age_identity_from_secret(id, sk);
done:
	sodium_memzero(sk, sizeof sk);
	return error;
}

/* "AGE-SECRET-KEY-1..." in upper case. */
void
age_identity_format(char out[static AGE_IDENTITY_STR_LEN + 1], const struct age_identity *id)
{
	size_t i;

	(void)bech32_encode(out, AGE_IDENTITY_STR_LEN + 1, "age-secret-key-", id->sk, AGE_KEY_LEN);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 'a' + 'A');
}

/* The recipient (public key) of an identity. */
void
age_identity_recipient(struct age_recipient *r, const struct age_identity *id)
{
	memcpy(r->pk, id->pk, AGE_KEY_LEN);
}

/* Parse "age1..." (lower case). */
int
age_recipient_parse(struct age_recipient *r, const char *s, size_t len)
{
	char hrp[16];
	uint8_t pk[AGE_KEY_LEN + 1];
	size_t n = sizeof pk;
	int error;

	if ((error = bech32_decode(hrp, sizeof hrp, pk, &n, s, len)) < 0)
		return error;
	if (strcmp(hrp, AGE_RECIPIENT_HRP) != 0 || n != AGE_KEY_LEN)
		return custody_fail(CUSTODY_EINVAL, "age: not an age1 X25519 recipient");
	memcpy(r->pk, pk, AGE_KEY_LEN);
	return 0;
}

/* "age1..." for a recipient. */
void
age_recipient_format(char out[static AGE_RECIPIENT_STR_LEN + 1], const struct age_recipient *r)
{
	(void)bech32_encode(out, AGE_RECIPIENT_STR_LEN + 1, AGE_RECIPIENT_HRP, r->pk, AGE_KEY_LEN);
}

/* Next line of text from *pos: its start and length without LF or a final CR. */
static int
age_next_line(const char **line, size_t *n, const char *text, size_t len, size_t *pos)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl != NULL);
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/* True for a line to skip: empty, blank, or a '#' comment. */
static int
age_line_ignored(const char *line, size_t n)
{
	size_t i;

	if (n > 0 && line[0] == '#')
		return 1;
	for (i = 0; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return 1;
}

/* Parse every identity of an identity file into a sodium_malloc'd array. */
int
age_identity_file_parse(struct age_identity **out, size_t *n, const char *text, size_t len)
{
	struct age_identity *ids = NULL;
	const char *line;
	size_t pos = 0, count = 0, ln;
	int error = 0;

	*out = NULL;
	*n = 0;
	while (age_next_line(&line, &ln, text, len, &pos))
		count += !age_line_ignored(line, ln);
	if (count == 0)
		return custody_fail(CUSTODY_EINVAL, "age: no identity in identity file");
	if (sodium_init() < 0)
		return custody_fail(CUSTODY_EIO, "libsodium failed to initialise");
	if ((ids = sodium_allocarray(count, sizeof *ids)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "age: out of memory");
	for (pos = 0, count = 0; age_next_line(&line, &ln, text, len, &pos);) {
		if (age_line_ignored(line, ln))
			continue;
		if ((error = age_identity_parse(&ids[count++], line, ln)) < 0)
			goto done;
	}
	*out = ids;
	*n = count;
	ids = NULL;
done:
	age_identity_file_free(ids);
	return error;
}

/* Read a small file whole into a sodium_malloc'd buffer. */
static int
age_read_small(char **out, size_t *len, int fd)
{
	char *buf;
	ssize_t r;

	/* sodium_malloc needs the library set up; a caller that only parses keys may not have */
	if (sodium_init() < 0)
		return custody_fail(CUSTODY_EIO, "libsodium failed to initialise");
	if ((buf = sodium_malloc(AGE_IDENTITY_FILE_MAX + 1)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "age: out of memory");
	if ((r = read_full(fd, buf, AGE_IDENTITY_FILE_MAX + 1)) < 0) {
		sodium_free(buf);
		return custody_fail(CUSTODY_EIO, "age: reading identity file: %s", strerror(errno));
	}
	if (r > AGE_IDENTITY_FILE_MAX) {
		sodium_free(buf);
		return custody_fail(CUSTODY_ETOOBIG, "age: identity file too large");
	}
	*out = buf;
	*len = (size_t)r;
	return 0;
}

/* Load an identity file from path. */
int
age_identity_file_load(struct age_identity **out, size_t *n, const char *path)
{
	char *text = NULL, why[256];
	size_t len = 0;
	int fd, error;

	*out = NULL;
	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return custody_fail(errno == ENOENT ? CUSTODY_ENOTFOUND : CUSTODY_EIO,
		    "age: %s: %s", path, strerror(errno));
	error = age_read_small(&text, &len, fd);
	close(fd);
	if (error < 0)
		return error;
	if ((error = age_identity_file_parse(out, n, text, len)) < 0) {
		snprintf(why, sizeof why, "%s", custody_error());
		custody_fail(error, "%s: %s", path, why);
	}
	sodium_free(text);
	return error;
}

/* Wipe and free an identity array. */
void
age_identity_file_free(struct age_identity *ids)
{
	if (ids != NULL)
		sodium_free(ids);
}
