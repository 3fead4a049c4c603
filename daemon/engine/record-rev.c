/*
 * The "rev" member of the records of one commit, put into records already encoded. An import
 * fixes its commit's "rev" when its first rows arrive (the clock feed_clock_next gives then,
 * the time, and a summary known from the start: the kind and the rows sent), so each record
 * is encoded once as the content hash sees it (compact, sorted keys, ASCII, no "rev"),
 * record_rev_splice puts that "rev" in its sorted place, giving the bytes record_seal's
 * encoding of the record stamped with "rev" gives, and the record is sealed once, on the
 * checking threads. When the clock has moved by the commit (another write of this office
 * committed in between, or a newer data-key epoch came), record_rev_reseal opens each record
 * and seals it again with the commit's own "rev".
 */
#include <string.h>

#include "archive.h"

/* "rev":{...} of a commit, encoded as record_seal encodes it, into out. */
int
record_rev_member(struct cbuf *out, uint64_t lamport, const char *office_hex,
    const char *time, const char *summary)
{
	json_t *rev;
	char *s = NULL;
	int error;

	if ((rev = json_pack("{s:I,s:s,s:s,s:s}", "lamport", (json_int_t)lamport, "office",
	    office_hex, "time", time, "summary", summary)) == NULL ||
	    (s = json_dumps(rev, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) == NULL) {
		json_decref(rev);
		return CUSTODY_ENOMEM;
	}
	out->len = 0;
	if ((error = cbuf_puts(out, "\"rev\":")) == 0)
		error = cbuf_puts(out, s);
	free(s);
	json_decref(rev);
	return error;
}

/* The end of the JSON value starting at p (before end), or NULL. */
static const char *
record_rev_skip(const char *p, const char *end)
{
	int depth = 0, str = 0;

	for (; p < end; p++) {
		if (str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				str = 0;
			continue;
		}
		if (*p == '"')
			str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && depth-- == 0)
			return p;
		else if (*p == ',' && depth == 0)
			return p;
	}
	return NULL;
}

/*
 * json (len bytes: an object, compact, sorted keys, no "rev") with member put before the
 * first key that sorts after "rev", into out.
 */
int
record_rev_splice(struct cbuf *out, const char *json, size_t len, const struct cbuf *member)
{
	const char *end = json + len, *p = json + 1, *k, *q;
	size_t at = len - 1;	/* before the closing brace by default */
	int c, error;

	if (len < 2 || json[0] != '{' || json[len - 1] != '}')
		return custody_fail(CUSTODY_EINVAL, "import: a record is not a JSON object");
	while (p < end - 1) {
		if (*p != '"')
			goto bad;
		k = ++p;
		while (p < end && *p != '"' && *p != '\\')
			p++;
		if (p >= end || *p != '"')	/* keys of records need no escapes */
			goto bad;
		c = strncmp(k, "rev", (size_t)(p - k));
		if (c == 0 && p - k == 3)
			return custody_fail(CUSTODY_EINVAL, "import: a record has a rev already");
		if (c > 0 || (c == 0 && p - k > 3)) {
			at = (size_t)(k - 1 - json);
			break;
		}
		if (p + 1 >= end || p[1] != ':' || (q = record_rev_skip(p + 2, end)) == NULL)
			goto bad;
		p = *q == ',' ? q + 1 : q;
	}
	out->len = 0;
	if ((error = cbuf_reserve(out, len + member->len + 2)) < 0)
		return error;
	memcpy(out->data, json, at);
	out->len = at;
	if (at > 1 && json[at - 1] != ',')
		out->data[out->len++] = ',';
	memcpy(out->data + out->len, member->data, member->len);
	out->len += member->len;
	if (json[at] == '"')
		out->data[out->len++] = ',';
	memcpy(out->data + out->len, json + at, len - at);
	out->len += len - at;
	return 0;
bad:
	return custody_fail(CUSTODY_EINVAL, "import: a record's JSON does not parse");
}

/*
 * The record object obj (len bytes) at token_hex sealed again into out, its "rev" replaced by
 * the one of a commit at clock lamport (under a new record key and the newest epoch).
 */
int
record_rev_reseal(struct cbuf *out, struct archive *a, const char *token_hex,
    const uint8_t *obj, size_t len, uint64_t lamport, const char *time, const char *summary)
{
	json_t *doc = NULL, *rev;
	int error;

	if ((error = record_open_flags(&doc, a, token_hex, obj, len, NULL, RECORD_SEALED)) < 0)
		return error;
	if ((rev = json_pack("{s:I,s:s,s:s,s:s}", "lamport", (json_int_t)lamport, "office",
	    a->office_hex, "time", time, "summary", summary)) == NULL ||
	    json_object_set_new(doc, "rev", rev) < 0) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	out->len = 0;
	error = record_seal(out, a, token_hex, doc);
done:
	json_decref(doc);
	return error;
}
