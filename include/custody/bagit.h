/* BagIt (RFC 8493): tag-file parsers, a bag validator and tag-file writers. */
#ifndef CUSTODY_BAGIT_H
#define CUSTODY_BAGIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "custody/common.h"

#define BAGIT_MAX_LINE		(64 * 1024)	/* longest tag-file line accepted */
#define BAGIT_MAX_MANIFESTS	8		/* payload manifests checked per bag */
#define BAGIT_MAX_DEPTH		64		/* deepest directory nesting walked */
#define BAGIT_MAX_DIGEST_HEX	128		/* sha512 */

/* Flags for bagit_validate. */
#define BAGIT_STRICT	0x1	/* warnings make the bag invalid too */

/*
 * One finding about a bag. A problem makes the bag invalid; a warning (e.g. a
 * leading "./" in a pre-1.0 manifest) does not, unless BAGIT_STRICT.
 */
struct bagit_finding {
	char		*file;		/* relative to the bag root; "" for the bag */
	unsigned long	 line;		/* 1-based; 0 when not about one line */
	char		*what;
	int		 warning;
};

/* Everything bagit_validate learned. Owned by the caller; bagit_report_free. */
struct bagit_report {
	struct bagit_finding	*items;
	size_t			 n;
	size_t			 cap;
	size_t			 problems;
	size_t			 warnings;
	int			 major;		/* BagIt-Version, -1 when unknown */
	int			 minor;
	uint64_t		 payload_octets;	/* found on disk under data/ */
	uint64_t		 payload_files;
	size_t			 manifests;	/* payload manifests read */
	size_t			 tagmanifests;	/* tag manifests read */
};

int bagit_report_new(struct bagit_report **out);
void bagit_report_free(struct bagit_report *r);
/* Record a finding; returns 0 or CUSTODY_ENOMEM. */
int bagit_report_add(struct bagit_report *r, int warning, const char *file,
    unsigned long line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Append one "file:line: problem|warning: what" line per finding. */
int bagit_report_format(struct cbuf *out, const struct bagit_report *r);

/*
 * Validate the bag in directory dir per RFC 8493: complete (required files,
 * every listed file present, every payload file listed) and valid (every
 * checksum verified). Payload files are read in chunks, never whole; symbolic
 * links and special files are refused. *out always receives the report when
 * it could be made. Returns 0 when valid, CUSTODY_EINVAL when not (the report
 * says why), or another negative code when the check itself failed.
 */
int bagit_validate(struct bagit_report **out, const char *dir, int flags);

/* Hex digest of everything readable from fd with a BagIt algorithm name
 * ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"); hex has room
 * for BAGIT_MAX_DIGEST_HEX + 1. */
int bagit_digest_fd(char *hex, const char *alg, int fd);
/* Length in hex digits of alg's digest, 0 when alg is not supported. */
size_t bagit_digest_hexlen(const char *alg);

/* ---- tag-file parsers: bytes in, findings into a report, never crash ---- */

/*
 * Splits a text tag file into lines ended by LF, CR or CRLF, fed in pieces.
 * The callback gets each line without its ending; a negative return stops.
 */
typedef int (*bagit_line_fn)(void *arg, unsigned long lineno, const char *line,
    size_t len);
struct bagit_lines {
	struct cbuf	 buf;
	unsigned long	 lineno;
	int		 after_cr;	/* last byte fed was a CR */
	int		 too_long;
	bagit_line_fn	 fn;
	void		*arg;
};
void bagit_lines_init(struct bagit_lines *l, bagit_line_fn fn, void *arg);
int bagit_lines_feed(struct bagit_lines *l, const uint8_t *p, size_t n);
/* Hands over an unterminated last line; CUSTODY_ETOOBIG when a line was too long. */
int bagit_lines_finish(struct bagit_lines *l);
void bagit_lines_free(struct bagit_lines *l);

/* The bag declaration (bagit.txt). */
struct bagit_decl {
	int	major;
	int	minor;
	char	encoding[64];
};
/* Parse bagit.txt's bytes; 0 when version and encoding could be read (even if
 * problems were found), CUSTODY_EINVAL when not. Tag files must be UTF-8: any other
 * declared encoding is a problem (encoding then holds what was declared; "UTF-8" for any
 * case of it). */
int bagit_parse_declaration(struct bagit_decl *out, struct bagit_report *r,
    const uint8_t *p, size_t n);

/* One line of a payload or tag manifest; path decoded (%0A %0D %25). */
struct bagit_manifest_entry {
	char		*path;
	char		*digest;	/* lower-case hex */
	unsigned long	 line;
};
struct bagit_manifest {
	char				 name[64];	/* file name, e.g. manifest-sha256.txt */
	char				 alg[16];
	int				 tag;		/* a tag manifest */
	int				 v1;		/* BagIt 1.0 rules */
	struct bagit_manifest_entry	*e;
	size_t				 n;
	size_t				 cap;
};
/* Set up m for the manifest file called name (manifest-ALG.txt or
 * tagmanifest-ALG.txt); CUSTODY_EINVAL when the name is not one. */
int bagit_manifest_init(struct bagit_manifest *m, const char *name, int v1);
void bagit_manifest_free(struct bagit_manifest *m);
/* Parse one line into m. Bad lines become findings, not errors. */
int bagit_manifest_line(struct bagit_manifest *m, struct bagit_report *r,
    unsigned long lineno, const char *line, size_t len);
/* Parse a whole manifest held in memory. */
int bagit_manifest_parse(struct bagit_manifest *m, struct bagit_report *r,
    const uint8_t *p, size_t n);

/* bag-info.txt: labelled values in file order; continuation lines joined with LF. */
struct bagit_info_entry {
	char		*label;
	char		*value;
	unsigned long	 line;
};
struct bagit_info {
	int			 v1;
	struct bagit_info_entry	*e;
	size_t			 n;
	size_t			 cap;
};
int bagit_info_line(struct bagit_info *bi, struct bagit_report *r,
    unsigned long lineno, const char *line, size_t len);
int bagit_info_parse(struct bagit_info *bi, struct bagit_report *r,
    const uint8_t *p, size_t n);
void bagit_info_free(struct bagit_info *bi);
/* Check Payload-Oxum (at most once, "octets.count"); *found tells whether present. */
int bagit_info_oxum(const struct bagit_info *bi, struct bagit_report *r,
    int *found, uint64_t *octets, uint64_t *files);

/* fetch.txt: "url length path" lines. length is -1 when "-". */
struct bagit_fetch_entry {
	char		*url;
	char		*path;
	int64_t		 length;
	unsigned long	 line;
};
struct bagit_fetch {
	int				 v1;
	struct bagit_fetch_entry	*e;
	size_t				 n;
	size_t				 cap;
};
int bagit_fetch_line(struct bagit_fetch *f, struct bagit_report *r,
    unsigned long lineno, const char *line, size_t len);
int bagit_fetch_parse(struct bagit_fetch *f, struct bagit_report *r,
    const uint8_t *p, size_t n);
void bagit_fetch_free(struct bagit_fetch *f);

/*
 * Check a decoded manifest or fetch path: relative, '/'-separated, no empty,
 * "." or ".." component, valid UTF-8, no NUL. payload: must lie under data/.
 * Returns NULL when fine, else a static reason.
 */
const char *bagit_path_check(const char *path, int payload);

/* ---- writers (proto/bagit-write.c) ---- */

/* A labelled value for bag-info.txt. */
struct bagit_tag {
	const char	*label;
	const char	*value;
};

/* Append "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n". */
int bagit_write_declaration(struct cbuf *out);
/* Append bag-info.txt: the tags in order (an LF in a value becomes a
 * continuation line), then "Payload-Oxum: octets.files". */
int bagit_write_info(struct cbuf *out, const struct bagit_tag *tags, size_t n,
    uint64_t octets, uint64_t files);
/* Append "hex  path\n" (two spaces, as sha256sum writes), path with CR, LF
 * and % percent-encoded. */
int bagit_write_manifest_line(struct cbuf *out, const char *hex, const char *path);
/* Append path with CR, LF and % percent-encoded. */
int bagit_write_path(struct cbuf *out, const char *path);

#endif
