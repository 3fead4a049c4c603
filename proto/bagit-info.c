/* BagIt (RFC 8493) bag-info.txt and fetch.txt parsers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "custody/bagit.h"
#include "bagit-int.h"

/* Parse one bag-info.txt line: "Label: value" or a continuation. */
int
bagit_info_line(struct bagit_info *bi, struct bagit_report *r,
    unsigned long lineno, const char *line, size_t len)
{
	struct bagit_info_entry *e;
	char *s = NULL, *colon, *label, *value, *end, *joined;
	int error;

	if (len == 0)
		return bagit_report_add(r, 1, BAGIT_FILE_INFO, lineno,
		    "empty line");
	if ((error = bagit__line_dup(&s, r, BAGIT_FILE_INFO, lineno, line, len)) < 0 ||
	    s == NULL)
		return error;
	if (s[0] == ' ' || s[0] == '\t') {
		if (bi->n == 0) {
			error = bagit_report_add(r, 0, BAGIT_FILE_INFO, lineno,
			    "continuation line before any element");
			goto done;
		}
		e = &bi->e[bi->n - 1];
		for (value = s; *value == ' ' || *value == '\t'; value++)
			;
		if (asprintf(&joined, "%s\n%s", e->value, value) < 0) {
			error = CUSTODY_ENOMEM;
			goto done;
		}
		free(e->value);
		e->value = joined;
		goto done;
	}
	if ((colon = strchr(s, ':')) == NULL) {
		error = bagit_report_add(r, 0, BAGIT_FILE_INFO, lineno,
		    "no \":\" in element");
		goto done;
	}
	*colon = '\0';
	label = s;
	value = colon + 1;
	end = colon;
	if (bi->v1) {
		if (end > label && (end[-1] == ' ' || end[-1] == '\t') &&
		    (error = bagit_report_add(r, 0, BAGIT_FILE_INFO, lineno,
		    "whitespace before \":\"")) < 0)
			goto done;
		if (*value != ' ' && *value != '\t') {
			if ((error = bagit_report_add(r, *value == '\0',
			    BAGIT_FILE_INFO, lineno,
			    "no whitespace after \":\"")) < 0)
				goto done;
		} else
			value++;
	} else {
		while (*value == ' ' || *value == '\t')
			value++;
	}
	while (end > label && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*label == '\0') {
		error = bagit_report_add(r, 0, BAGIT_FILE_INFO, lineno,
		    "empty label");
		goto done;
	}
	if ((error = bagit__grow((void **)&bi->e, &bi->cap, bi->n, sizeof *bi->e)) < 0)
		goto done;
	e = &bi->e[bi->n];
	if ((e->label = strdup(label)) == NULL ||
	    (e->value = strdup(value)) == NULL) {
		free(e->label);
		error = CUSTODY_ENOMEM;
		goto done;
	}
	e->line = lineno;
	bi->n++;
done:
	free(s);
	return error;
}

static int
info_line_cb(void *obj, struct bagit_report *r, unsigned long lineno,
    const char *line, size_t len)
{
	return bagit_info_line(obj, r, lineno, line, len);
}

/* Parse a whole bag-info.txt in memory. */
int
bagit_info_parse(struct bagit_info *bi, struct bagit_report *r,
    const uint8_t *p, size_t n)
{
	struct parse_ctx c = { info_line_cb, bi, r };

	return bagit__parse_all(&c, BAGIT_FILE_INFO, p, n);
}

/* Free bag-info entries. */
void
bagit_info_free(struct bagit_info *bi)
{
	size_t i;

	if (bi == NULL)
		return;
	for (i = 0; i < bi->n; i++) {
		free(bi->e[i].label);
		free(bi->e[i].value);
	}
	free(bi->e);
	bi->e = NULL;
	bi->n = bi->cap = 0;
}


/* Find and check Payload-Oxum. */
int
bagit_info_oxum(const struct bagit_info *bi, struct bagit_report *r,
    int *found, uint64_t *octets, uint64_t *files)
{
	const struct bagit_info_entry *e = NULL;
	const char *dot;
	size_t i;
	int error;

	*found = 0;
	for (i = 0; i < bi->n; i++) {
		if (strcasecmp(bi->e[i].label, "Payload-Oxum") != 0)
			continue;
		if (e != NULL)
			return bagit_report_add(r, 0, BAGIT_FILE_INFO,
			    bi->e[i].line, "Payload-Oxum repeated");
		e = &bi->e[i];
	}
	if (e == NULL)
		return 0;
	if ((dot = strchr(e->value, '.')) == NULL ||
	    bagit__parse_u64(e->value, (size_t)(dot - e->value), octets) < 0 ||
	    bagit__parse_u64(dot + 1, strlen(dot + 1), files) < 0) {
		if ((error = bagit_report_add(r, 0, BAGIT_FILE_INFO, e->line,
		    "Payload-Oxum is not \"octets.count\"")) < 0)
			return error;
		return 0;
	}
	*found = 1;
	return 0;
}

/* Parse "url WSP+ length WSP+ filepath". */
int
bagit_fetch_line(struct bagit_fetch *f, struct bagit_report *r,
    unsigned long lineno, const char *line, size_t len)
{
	struct bagit_fetch_entry *e;
	char *s = NULL, *url, *lenp, *path, *p;
	const char *why;
	uint64_t length = 0;
	int error;

	if (len == 0)
		return bagit_report_add(r, !f->v1, BAGIT_FILE_FETCH, lineno,
		    "empty line");
	if ((error = bagit__line_dup(&s, r, BAGIT_FILE_FETCH, lineno, line, len)) < 0 ||
	    s == NULL)
		return error;
	url = s;
	p = url + strcspn(url, " \t");
	if (*p == '\0')
		goto bad;
	*p++ = '\0';
	p += strspn(p, " \t");
	lenp = p;
	p += strcspn(p, " \t");
	if (*p == '\0')
		goto bad;
	*p++ = '\0';
	path = p + strspn(p, " \t");
	/* An absolute URI starts with a scheme and a colon. */
	for (p = url; isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.'; p++)
		;
	if (p == url || !isalpha((unsigned char)*url) || *p != ':') {
		error = bagit_report_add(r, 0, BAGIT_FILE_FETCH, lineno,
		    "url is not an absolute URI");
		goto done;
	}
	if (strcmp(lenp, "-") != 0 && (bagit__parse_u64(lenp, strlen(lenp),
	    &length) < 0 || length > INT64_MAX)) {
		error = bagit_report_add(r, 0, BAGIT_FILE_FETCH, lineno,
		    "length is neither a number nor \"-\"");
		goto done;
	}
	if (bagit__path_decode(path) && f->v1 && (error = bagit_report_add(r, 0,
	    BAGIT_FILE_FETCH, lineno, "unencoded \"%%\" in path")) < 0)
		goto done;
	if ((why = bagit_path_check(path, 1)) != NULL) {
		error = bagit_report_add(r, 0, BAGIT_FILE_FETCH, lineno, "%s",
		    why);
		goto done;
	}
	if ((error = bagit__grow((void **)&f->e, &f->cap, f->n, sizeof *f->e)) < 0)
		goto done;
	e = &f->e[f->n];
	if ((e->url = strdup(url)) == NULL || (e->path = strdup(path)) == NULL) {
		free(e->url);
		error = CUSTODY_ENOMEM;
		goto done;
	}
	e->length = strcmp(lenp, "-") == 0 ? -1 : (int64_t)length;
	e->line = lineno;
	f->n++;
	goto done;
bad:
	error = bagit_report_add(r, 0, BAGIT_FILE_FETCH, lineno,
	    "not \"url length filepath\"");
done:
	free(s);
	return error;
}

static int
fetch_line_cb(void *obj, struct bagit_report *r, unsigned long lineno,
    const char *line, size_t len)
{
	return bagit_fetch_line(obj, r, lineno, line, len);
}

/* Parse a whole fetch.txt in memory. */
int
bagit_fetch_parse(struct bagit_fetch *f, struct bagit_report *r,
    const uint8_t *p, size_t n)
{
	struct parse_ctx c = { fetch_line_cb, f, r };

	return bagit__parse_all(&c, BAGIT_FILE_FETCH, p, n);
}

/* Free fetch entries. */
void
bagit_fetch_free(struct bagit_fetch *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->e[i].url);
		free(f->e[i].path);
	}
	free(f->e);
	f->e = NULL;
	f->n = f->cap = 0;
}
