/* BagIt (RFC 8493) parsing: findings, line splitting, bagit.txt, manifest lines, paths. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "custody/bagit.h"
#include "bagit-int.h"

/* Make an empty report. */
int
bagit_report_new(struct bagit_report **out)
{
	struct bagit_report *r;

	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	r->major = r->minor = -1;
	*out = r;
	return 0;
}

/* Free a report and its findings. */
void
bagit_report_free(struct bagit_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].what);
	}
	free(r->items);
	free(r);
}

/* Record one finding. */
int
bagit_report_add(struct bagit_report *r, int warning, const char *file,
    unsigned long line, const char *fmt, ...)
{
	struct bagit_finding *f, *items;
	va_list ap;
	size_t cap;
	int len;

	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 16;
		if ((items = reallocarray(r->items, cap, sizeof *items)) == NULL)
			return CUSTODY_ENOMEM;
		r->items = items;
		r->cap = cap;
	}
	f = &r->items[r->n];
	memset(f, 0, sizeof *f);
	va_start(ap, fmt);
	len = vasprintf(&f->what, fmt, ap);
	va_end(ap);
	if (len < 0)
		return CUSTODY_ENOMEM;
	if ((f->file = strdup(file ? file : "")) == NULL) {
		free(f->what);
		return CUSTODY_ENOMEM;
	}
	f->line = line;
	f->warning = warning;
	r->n++;
	if (warning)
		r->warnings++;
	else
		r->problems++;
	return 0;
}

/* One line per finding, with non-printable bytes of names escaped. */
int
bagit_report_format(struct cbuf *out, const struct bagit_report *r)
{
	const struct bagit_finding *f;
	const unsigned char *s;
	size_t i;
	int error;

	for (i = 0; i < r->n; i++) {
		f = &r->items[i];
		for (s = (const unsigned char *)f->file; *s != '\0'; s++) {
			if (*s < 0x20 || *s == 0x7f || *s == '\\')
				error = cbuf_printf(out, "\\x%02x", *s);
			else
				error = cbuf_put_u8(out, *s);
			if (error < 0)
				return error;
		}
		if (f->line != 0 && (error = cbuf_printf(out, ":%lu", f->line)) < 0)
			return error;
		if ((error = cbuf_printf(out, ": %s: %s\n",
		    f->warning ? "warning" : "problem", f->what)) < 0)
			return error;
	}
	return 0;
}

/* True when p[0..n) is well-formed UTF-8 without NUL, overlongs or surrogates. */
int
bagit__utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			need = 1; cp = p[i] & 0x1f; min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			need = 2; cp = p[i] & 0x0f; min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			need = 3; cp = p[i] & 0x07; min = 0x10000;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* Set up a line splitter. */
void
bagit_lines_init(struct bagit_lines *l, bagit_line_fn fn, void *arg)
{
	memset(l, 0, sizeof *l);
	l->fn = fn;
	l->arg = arg;
}

/* Hand the buffered line to the callback. */
static int
lines_emit(struct bagit_lines *l)
{
	int error = 0;

	l->lineno++;
	if (!l->too_long)
		error = l->fn(l->arg, l->lineno, (const char *)(l->buf.data ?
		    l->buf.data : (const uint8_t *)""), l->buf.len);
	l->buf.len = 0;
	return error;
}

/* Feed bytes; complete lines go to the callback. */
int
bagit_lines_feed(struct bagit_lines *l, const uint8_t *p, size_t n)
{
	size_t i, start = 0;
	int error;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r') {
			l->after_cr = 0;
			continue;
		}
		if (p[i] == '\n' && l->after_cr && i == start &&
		    l->buf.len == 0) {
			/* The LF of a CRLF. */
			l->after_cr = 0;
			start = i + 1;
			continue;
		}
		if (!l->too_long && l->buf.len + (i - start) > BAGIT_MAX_LINE)
			l->too_long = 1;
		if (!l->too_long && (error = cbuf_put(&l->buf, p + start,
		    i - start)) < 0)
			return error;
		if ((error = lines_emit(l)) < 0)
			return error;
		l->after_cr = p[i] == '\r';
		start = i + 1;
	}
	if (start < n) {
		if (!l->too_long && l->buf.len + (n - start) > BAGIT_MAX_LINE)
			l->too_long = 1;
		if (!l->too_long &&
		    (error = cbuf_put(&l->buf, p + start, n - start)) < 0)
			return error;
	}
	return 0;
}

/* Flush an unterminated last line. */
int
bagit_lines_finish(struct bagit_lines *l)
{
	int error;

	if (l->buf.len > 0 && (error = lines_emit(l)) < 0)
		return error;
	return l->too_long ? CUSTODY_ETOOBIG : 0;
}

/* Release a line splitter's buffer. */
void
bagit_lines_free(struct bagit_lines *l)
{
	cbuf_free(&l->buf);
}

/* Parse "M.N" exactly; 0 or -1. */
static int
parse_version(const char *s, size_t n, int *major, int *minor)
{
	size_t i = 0;
	long v[2] = { 0, 0 };
	int k, digits;

	for (k = 0; k < 2; k++) {
		for (digits = 0; i < n && isdigit((unsigned char)s[i]); i++) {
			if (++digits > 4)
				return -1;
			v[k] = v[k] * 10 + (s[i] - '0');
		}
		if (digits == 0)
			return -1;
		if (k == 0 && (i >= n || s[i++] != '.'))
			return -1;
	}
	if (i != n)
		return -1;
	*major = (int)v[0];
	*minor = (int)v[1];
	return 0;
}

/* Collects bagit.txt's lines. */
struct decl_state {
	char	line[2][128];
	size_t	len[2];
	size_t	count;
	int	bad;
};

static int
decl_line(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct decl_state *st = arg;

	if (st->count < 2) {
		if (len >= sizeof st->line[0]) {
			st->bad = 1;
			len = sizeof st->line[0] - 1;
		}
		memcpy(st->line[st->count], line, len);
		st->line[st->count][len] = '\0';
		st->len[st->count] = len;
	}
	st->count++;
	return 0;
}

/* Parse bagit.txt: exactly two lines in order, UTF-8, no BOM. */
int
bagit_parse_declaration(struct bagit_decl *out, struct bagit_report *r,
    const uint8_t *p, size_t n)
{
	static const char vkey[] = "BagIt-Version: ";
	static const char ekey[] = "Tag-File-Character-Encoding: ";
	struct decl_state st;
	struct bagit_lines lines;
	const char *colon, *v;
	size_t vlen;
	int error;

	memset(out, 0, sizeof *out);
	out->major = out->minor = -1;
	strcpy(out->encoding, "UTF-8");
	memset(&st, 0, sizeof st);
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_DECL, 1,
		    "begins with a byte order mark")) < 0)
			return error;
		p += 3;
		n -= 3;
	}
	if (!bagit__utf8_valid(p, n) && (error = bagit_report_add(r, 0,
	    BAGIT_FILE_DECL, 0, "not valid UTF-8")) < 0)
		return error;
	bagit_lines_init(&lines, decl_line, &st);
	if ((error = bagit_lines_feed(&lines, p, n)) == 0)
		error = bagit_lines_finish(&lines);
	bagit_lines_free(&lines);
	if (error < 0 && error != CUSTODY_ETOOBIG)
		return error;
	if ((st.bad || error == CUSTODY_ETOOBIG) && (error = bagit_report_add(r,
	    0, BAGIT_FILE_DECL, 0, "line too long")) < 0)
		return error;
	if (st.count != 2 && (error = bagit_report_add(r, 0, BAGIT_FILE_DECL,
	    0, "has %zu lines, must have exactly 2", st.count)) < 0)
		return error;
	if (st.count < 1)
		return CUSTODY_EINVAL;

	/* Line 1: the version, strictly; else leniently, to go on checking. */
	if (strncmp(st.line[0], vkey, sizeof vkey - 1) == 0 &&
	    parse_version(st.line[0] + sizeof vkey - 1,
	    st.len[0] - (sizeof vkey - 1), &out->major, &out->minor) == 0) {
		/* exact */
	} else {
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_DECL, 1,
		    "not \"BagIt-Version: M.N\"")) < 0)
			return error;
		if (strncasecmp(st.line[0], "BagIt-Version", 13) != 0 ||
		    (colon = strchr(st.line[0], ':')) == NULL)
			return CUSTODY_EINVAL;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (vlen = strlen(v); vlen > 0 && (v[vlen - 1] == ' ' ||
		    v[vlen - 1] == '\t'); vlen--)
			;
		if (parse_version(v, vlen, &out->major, &out->minor) < 0)
			return CUSTODY_EINVAL;
	}
	if (!((out->major == 1 && out->minor == 0) ||
	    (out->major == 0 && out->minor >= 93 && out->minor <= 97))) {
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_DECL, 1,
		    "unsupported BagIt version %d.%d", out->major,
		    out->minor)) < 0)
			return error;
	}

	/* Line 2: the encoding of the other tag files. */
	if (st.count < 2 || strncmp(st.line[1], ekey, sizeof ekey - 1) != 0 ||
	    st.len[1] == sizeof ekey - 1) {
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_DECL, 2,
		    "no \"Tag-File-Character-Encoding: ENCODING\" line")) < 0)
			return error;
		return 0;
	}
	v = st.line[1] + sizeof ekey - 1;
	if (strlen(v) >= sizeof out->encoding || strpbrk(v, " \t") != NULL) {
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_DECL, 2,
		    "bad encoding name")) < 0)
			return error;
		return 0;
	}
	/*
	 * Tag files are read as UTF-8 and nothing else: a declared encoding is never handed
	 * to a converter (iconv would load whatever charset module the bag names).
	 */
	if (strcasecmp(v, "UTF-8") != 0) {
		for (vlen = 0; v[vlen] > 0x20 && v[vlen] < 0x7f; vlen++)
			;
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_DECL, 2,
		    "Tag-File-Character-Encoding is %s: only UTF-8 is accepted",
		    v[vlen] == '\0' ? v : "not a plain name")) < 0)
			return error;
		strcpy(out->encoding, v);
		return 0;
	}
	strcpy(out->encoding, "UTF-8");
	return 0;
}

/* Decode %0A %0D %25 (either case) in place; 1 when a bare % was seen. */
int
bagit__path_decode(char *s)
{
	char *w = s;
	int bare = 0;

	for (; *s != '\0'; s++) {
		if (*s == '%' && s[1] == '2' && s[2] == '5') {
			*w++ = '%';
			s += 2;
		} else if (*s == '%' && s[1] == '0' && (s[2] == 'a' || s[2] == 'A')) {
			*w++ = '\n';
			s += 2;
		} else if (*s == '%' && s[1] == '0' && (s[2] == 'd' || s[2] == 'D')) {
			*w++ = '\r';
			s += 2;
		} else {
			if (*s == '%')
				bare = 1;
			*w++ = *s;
		}
	}
	*w = '\0';
	return bare;
}

/* Reason why path may not name a file in a bag, or NULL. */
const char *
bagit_path_check(const char *path, int payload)
{
	const char *c, *e;
	size_t len;

	if (*path == '\0')
		return "empty path";
	if (*path == '/')
		return "absolute path";
	if (!bagit__utf8_valid((const uint8_t *)path, strlen(path)))
		return "path is not valid UTF-8";
	for (c = path; ; c = e + 1) {
		if ((e = strchr(c, '/')) == NULL)
			e = c + strlen(c);
		len = (size_t)(e - c);
		if (len == 0)
			return "empty path component";
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' &&
		    c[1] == '.'))
			return "\".\" or \"..\" path component";
		if (*e == '\0')
			break;
	}
	if (payload && strncmp(path, "data/", 5) != 0)
		return "outside the payload directory data/";
	if (!payload && strncmp(path, "data/", 5) == 0)
		return "a payload file in a tag manifest";
	return NULL;
}

/* Copy a line into a NUL-terminated string when it is clean UTF-8. */
int
bagit__line_dup(char **out, struct bagit_report *r, const char *file,
    unsigned long lineno, const char *line, size_t len)
{
	*out = NULL;
	if (!bagit__utf8_valid((const uint8_t *)line, len))
		return bagit_report_add(r, 0, file, lineno,
		    "not valid UTF-8 (or contains NUL)");
	if ((*out = strndup(line, len)) == NULL)
		return CUSTODY_ENOMEM;
	return 0;
}

/* Set up a manifest for file name. */
int
bagit_manifest_init(struct bagit_manifest *m, const char *name, int v1)
{
	const char *alg;
	size_t len;

	memset(m, 0, sizeof *m);
	if (strncmp(name, "manifest-", 9) == 0)
		alg = name + 9;
	else if (strncmp(name, "tagmanifest-", 12) == 0) {
		alg = name + 12;
		m->tag = 1;
	} else
		return CUSTODY_EINVAL;
	len = strlen(alg);
	if (len <= 4 || len - 4 >= sizeof m->alg || strcmp(alg + len - 4, ".txt"))
		return CUSTODY_EINVAL;
	memcpy(m->alg, alg, len - 4);
	m->alg[len - 4] = '\0';
	snprintf(m->name, sizeof m->name, "%s", name);
	m->v1 = v1;
	return 0;
}

/* Free a manifest's entries. */
void
bagit_manifest_free(struct bagit_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->e[i].path);
		free(m->e[i].digest);
	}
	free(m->e);
	m->e = NULL;
	m->n = m->cap = 0;
}

/* Grow an entry array by one slot. */
int
bagit__grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if ((p = reallocarray(*arr, c, size)) == NULL)
		return CUSTODY_ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* Parse "checksum WSP+ filepath". */
int
bagit_manifest_line(struct bagit_manifest *m, struct bagit_report *r,
    unsigned long lineno, const char *line, size_t len)
{
	struct bagit_manifest_entry *e;
	char *s = NULL, *path, *d;
	const char *why;
	size_t hexlen, want;
	int error = 0;
	char sep;

	if (len == 0)
		return bagit_report_add(r, !m->v1, m->name, lineno, "empty line");
	if ((error = bagit__line_dup(&s, r, m->name, lineno, line, len)) < 0 || s == NULL)
		return error;
	for (hexlen = 0; isxdigit((unsigned char)s[hexlen]); hexlen++)
		s[hexlen] = (char)tolower((unsigned char)s[hexlen]);
	if (hexlen == 0 || (s[hexlen] != ' ' && s[hexlen] != '\t')) {
		error = bagit_report_add(r, 0, m->name, lineno,
		    "not \"checksum filepath\"");
		goto done;
	}
	sep = s[hexlen];
	s[hexlen] = '\0';
	path = s + hexlen + 1;
	if (sep == ' ' && path[0] == '*') {
		/* md5sum's binary-mode marker. */
		if ((error = bagit_report_add(r, 1, m->name, lineno,
		    "md5sum-style \"*\" before the path")) < 0)
			goto done;
		path++;
	}
	while (*path == ' ' || *path == '\t')
		path++;
	want = bagit_digest_hexlen(m->alg);
	if (want != 0 && hexlen != want) {
		error = bagit_report_add(r, 0, m->name, lineno,
		    "checksum has %zu hex digits, %s needs %zu", hexlen,
		    m->alg, want);
		goto done;
	}
	if (bagit__path_decode(path) && m->v1 && (error = bagit_report_add(r, 0,
	    m->name, lineno, "unencoded \"%%\" in path")) < 0)
		goto done;
	if (strncmp(path, "./", 2) == 0) {
		if ((error = bagit_report_add(r, 1, m->name, lineno,
		    "path begins with \"./\"")) < 0)
			goto done;
		path += 2;
	}
	if ((why = bagit_path_check(path, !m->tag)) != NULL) {
		error = bagit_report_add(r, 0, m->name, lineno, "%s", why);
		goto done;
	}
	if (m->tag && strncmp(path, "tagmanifest-", 12) == 0 &&
	    strchr(path, '/') == NULL) {
		error = bagit_report_add(r, 0, m->name, lineno,
		    "a tag manifest lists a tag manifest");
		goto done;
	}
	if ((error = bagit__grow((void **)&m->e, &m->cap, m->n, sizeof *m->e)) < 0)
		goto done;
	e = &m->e[m->n];
	if ((e->path = strdup(path)) == NULL || (d = strdup(s)) == NULL) {
		free(e->path);
		error = CUSTODY_ENOMEM;
		goto done;
	}
	e->digest = d;
	e->line = lineno;
	m->n++;
done:
	free(s);
	return error;
}

static int
parse_line_cb(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct parse_ctx *c = arg;

	return c->fn(c->obj, c->r, lineno, line, len);
}

/* Split p into lines and parse each; a line too long becomes a finding. */
int
bagit__parse_all(struct parse_ctx *c, const char *file, const uint8_t *p, size_t n)
{
	struct bagit_lines l;
	int error;

	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		if ((error = bagit_report_add(c->r, 0, file, 1,
		    "begins with a byte order mark")) < 0)
			return error;
		p += 3;
		n -= 3;
	}
	bagit_lines_init(&l, parse_line_cb, c);
	if ((error = bagit_lines_feed(&l, p, n)) == 0)
		error = bagit_lines_finish(&l);
	bagit_lines_free(&l);
	if (error == CUSTODY_ETOOBIG)
		error = bagit_report_add(c->r, 0, file, 0, "a line is too long");
	return error;
}

static int
manifest_line_cb(void *obj, struct bagit_report *r, unsigned long lineno,
    const char *line, size_t len)
{
	return bagit_manifest_line(obj, r, lineno, line, len);
}

/* Parse a whole manifest in memory. */
int
bagit_manifest_parse(struct bagit_manifest *m, struct bagit_report *r,
    const uint8_t *p, size_t n)
{
	struct parse_ctx c = { manifest_line_cb, m, r };

	return bagit__parse_all(&c, m->name, p, n);
}

/* Decimal digits to u64; -1 on overflow or a non-digit. */
int
bagit__parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}
