/* BagIt (RFC 8493) tag-file writers (bagit.txt, bag-info.txt, manifest lines) and digests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "custody/bagit.h"
#include "bagit-int.h"

#define BAGIT_CHUNK	(64 * 1024)

static const struct {
	const char	*name;
	size_t		 hexlen;
} bagit_algs[] = {
	{ "md5", 32 }, { "sha1", 40 }, { "sha224", 56 }, { "sha256", 64 },
	{ "sha384", 96 }, { "sha512", 128 },
};

/* Hex length of a supported algorithm's digest, else 0. */
size_t
bagit_digest_hexlen(const char *alg)
{
	size_t i;

	for (i = 0; i < sizeof bagit_algs / sizeof bagit_algs[0]; i++)
		if (strcmp(alg, bagit_algs[i].name) == 0)
			return bagit_algs[i].hexlen;
	return 0;
}

/* Start an EVP digest for a BagIt algorithm name. */
int
bagit__digest_init(EVP_MD_CTX **out, const char *alg)
{
	const EVP_MD *md;

	*out = NULL;
	if (bagit_digest_hexlen(alg) == 0 ||
	    (md = EVP_get_digestbyname(alg)) == NULL)
		return custody_fail(CUSTODY_EINVAL, "unsupported algorithm %s", alg);
	if ((*out = EVP_MD_CTX_new()) == NULL)
		return CUSTODY_ENOMEM;
	if (EVP_DigestInit_ex(*out, md, NULL) != 1) {
		EVP_MD_CTX_free(*out);
		*out = NULL;
		return custody_fail(CUSTODY_ERR, "cannot start %s", alg);
	}
	return 0;
}

/* Finish a digest as lower-case hex. */
int
bagit__digest_final(char *hex, EVP_MD_CTX *ctx)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len;

	if (EVP_DigestFinal_ex(ctx, md, &len) != 1)
		return CUSTODY_ERR;
	hex_encode(hex, md, len);
	return 0;
}

/* Digest everything readable from fd. */
int
bagit_digest_fd(char *hex, const char *alg, int fd)
{
	EVP_MD_CTX *ctx;
	uint8_t *buf = NULL;
	ssize_t got;
	int error;

	if ((error = bagit__digest_init(&ctx, alg)) < 0)
		return error;
	if ((buf = malloc(BAGIT_CHUNK)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	while ((got = read_full(fd, buf, BAGIT_CHUNK)) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	if (got < 0) {
		error = custody_fail(CUSTODY_EIO, "read: %s", strerror(errno));
		goto done;
	}
	error = bagit__digest_final(hex, ctx);
done:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return error;
}

/* Append the BagIt 1.0 declaration. */
int
bagit_write_declaration(struct cbuf *out)
{
	return cbuf_puts(out, "BagIt-Version: 1.0\n"
	    "Tag-File-Character-Encoding: UTF-8\n");
}

/* A label must be non-empty, without ':', CR or LF, not start or end with blanks. */
static int
label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || strpbrk(s, ":\r\n") != NULL)
		return 0;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return 0;
	return 1;
}

/* Append one "Label: value" element, LFs in value as continuation lines. */
static int
write_element(struct cbuf *out, const char *label, const char *value)
{
	const char *p;
	int error;

	if (!label_ok(label))
		return custody_fail(CUSTODY_EINVAL, "bag-info label \"%s\" "
		    "is not allowed", label);
	if (strchr(value, '\r') != NULL)
		return custody_fail(CUSTODY_EINVAL, "bag-info value of %s "
		    "contains CR", label);
	if ((error = cbuf_printf(out, "%s: ", label)) < 0)
		return error;
	for (p = value; *p != '\0'; p++) {
		if (*p == '\n')
			error = cbuf_puts(out, "\n  ");
		else
			error = cbuf_put_u8(out, (uint8_t)*p);
		if (error < 0)
			return error;
	}
	return cbuf_put_u8(out, '\n');
}

/* Append bag-info.txt: the tags, then Payload-Oxum. */
int
bagit_write_info(struct cbuf *out, const struct bagit_tag *tags, size_t n,
    uint64_t octets, uint64_t files)
{
	char oxum[48];
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		if (strcasecmp(tags[i].label, "Payload-Oxum") == 0)
			return custody_fail(CUSTODY_EINVAL,
			    "Payload-Oxum is computed, not given");
		if ((error = write_element(out, tags[i].label,
		    tags[i].value)) < 0)
			return error;
	}
	snprintf(oxum, sizeof oxum, "%llu.%llu", (unsigned long long)octets,
	    (unsigned long long)files);
	return write_element(out, "Payload-Oxum", oxum);
}

/* Append path with CR, LF and % (and only those) percent-encoded. */
int
bagit_write_path(struct cbuf *out, const char *path)
{
	const char *p;
	int error;

	for (p = path; *p != '\0'; p++) {
		switch (*p) {
		case '\r':
			error = cbuf_puts(out, "%0D");
			break;
		case '\n':
			error = cbuf_puts(out, "%0A");
			break;
		case '%':
			error = cbuf_puts(out, "%25");
			break;
		default:
			error = cbuf_put_u8(out, (uint8_t)*p);
		}
		if (error < 0)
			return error;
	}
	return 0;
}

/* Append "hex  path\n" for a manifest. */
int
bagit_write_manifest_line(struct cbuf *out, const char *hex, const char *path)
{
	const char *why, *h;
	int error;

	for (h = hex; (*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f'); h++)
		;
	if (h == hex || *h != '\0')
		return custody_fail(CUSTODY_EINVAL, "checksum is not lower-case hex");
	if ((why = bagit_path_check(path, strncmp(path, "data/", 5) == 0)) != NULL)
		return custody_fail(CUSTODY_EINVAL, "manifest path: %s", why);
	if ((error = cbuf_puts(out, hex)) < 0 || (error = cbuf_puts(out, "  ")) < 0 ||
	    (error = bagit_write_path(out, path)) < 0)
		return error;
	return cbuf_put_u8(out, '\n');
}
