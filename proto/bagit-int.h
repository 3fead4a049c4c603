/* Helpers shared by the BagIt files in proto/ (not part of the public API). */
#ifndef CUSTODY_BAGIT_INT_H
#define CUSTODY_BAGIT_INT_H

#include <openssl/evp.h>

#include "custody/bagit.h"

#define BAGIT_FILE_DECL		"bagit.txt"
#define BAGIT_FILE_INFO		"bag-info.txt"
#define BAGIT_FILE_FETCH	"fetch.txt"

/* Feeds the lines of an in-memory tag file to a one-line parser. */
struct parse_ctx {
	int			(*fn)(void *, struct bagit_report *,
				    unsigned long, const char *, size_t);
	void			*obj;
	struct bagit_report	*r;
};

/* True when p[0..n) is well-formed UTF-8 without NUL. */
int bagit__utf8_valid(const uint8_t *p, size_t n);
/* Copy a line as a C string when clean UTF-8; else a finding and *out NULL. */
int bagit__line_dup(char **out, struct bagit_report *r, const char *file,
    unsigned long lineno, const char *line, size_t len);
/* Grow an array of size-byte elements to hold n + 1. */
int bagit__grow(void **arr, size_t *cap, size_t n, size_t size);
/* Split p into lines (BOM and long lines become findings) and parse each. */
int bagit__parse_all(struct parse_ctx *c, const char *file, const uint8_t *p,
    size_t n);
/* Decode %0A %0D %25 in place; 1 when a bare '%' was left. */
int bagit__path_decode(char *s);
/* Decimal digits to u64; -1 on overflow or a non-digit. */
int bagit__parse_u64(const char *s, size_t n, uint64_t *out);
/* Start an EVP digest for a BagIt algorithm name. */
int bagit__digest_init(EVP_MD_CTX **out, const char *alg);
/* Finish a digest as lower-case hex. */
int bagit__digest_final(char *hex, EVP_MD_CTX *ctx);

#endif
