/*
 * Records encoded as json_dumps(doc, RECORD_CONTENT_JSON) encodes them (record-json.h), with no
 * allocation of its own: strings with '"', '\\' and the control characters escaped (\b \f \n
 * \r \t, others as \u00XX), every character past ASCII as \uXXXX in upper-case hex (a
 * surrogate pair past the BMP), DEL and '/' as they are; an object's keys in byte order, a
 * shorter key before the longer ones it begins; integers in decimal. A real, or an object of
 * more than RECORD_JSON_KEYS keys, is left to jansson (records hold neither). What jansson
 * would refuse (a string that is not UTF-8) is refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "record-json.h"

#define RECORD_JSON_KEYS	64	/* keys sorted on the stack */
#define RECORD_JSON_DEPTH	32	/* jansson's own limit is far beyond what records nest */
#define RECORD_JSON_JANSSON	1	/* not encoded here: left to jansson */

struct record_json_key {
	const char	*key;
	size_t		 len;
	json_t		*value;
};

static const char record_json_hex[] = "0123456789ABCDEF";

/* The code point of the UTF-8 sequence at s (n bytes left) and its length; 0 when invalid. */
static size_t
record_json_utf8(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	c = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and what lies past U+10FFFF are not UTF-8 */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static void
record_json_u(uint8_t *p, uint32_t c)
{
	p[0] = '\\';
	p[1] = 'u';
	p[2] = (uint8_t)record_json_hex[(c >> 12) & 0xf];
	p[3] = (uint8_t)record_json_hex[(c >> 8) & 0xf];
	p[4] = (uint8_t)record_json_hex[(c >> 4) & 0xf];
	p[5] = (uint8_t)record_json_hex[c & 0xf];
}

/* A string (n bytes, UTF-8), quoted and escaped. */
static int
record_json_string(struct cbuf *out, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	uint8_t *p;
	uint32_t c;
	size_t i = 0, k;
	int error;

	/* at most 12 bytes out for each 4 in (a surrogate pair), 6 for each 1 */
	if (n > SIZE_MAX / 6 - 2 || (error = cbuf_reserve(out, 6 * n + 2)) < 0)
		return CUSTODY_ENOMEM;
	p = out->data + out->len;
	*p++ = '"';
	while (i < n) {
		c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*p++ = (uint8_t)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*p++ = '\\';
			switch (c) {
			case '"': *p++ = '"'; break;
			case '\\': *p++ = '\\'; break;
			case '\b': *p++ = 'b'; break;
			case '\f': *p++ = 'f'; break;
			case '\n': *p++ = 'n'; break;
			case '\r': *p++ = 'r'; break;
			case '\t': *p++ = 't'; break;
			default:
				p--;
				record_json_u(p, c);
				p += 6;
			}
			i++;
			continue;
		}
		if ((k = record_json_utf8(s + i, n - i, &c)) == 0)
			return custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON: "
			    "a string is not UTF-8");
		if (c < 0x10000) {
			record_json_u(p, c);
			p += 6;
		} else {
			c -= 0x10000;
			record_json_u(p, 0xd800 | (c >> 10));
			record_json_u(p + 6, 0xdc00 | (c & 0x3ff));
			p += 12;
		}
		i += k;
	}
	*p++ = '"';
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
	return 0;
}

static int
record_json_key_cmp(const struct record_json_key *x, const struct record_json_key *y)
{
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : x->len < y->len ? -1 : x->len > y->len;
}

static int record_json_value(struct cbuf *, const json_t *, int depth);

/* The values below: 0, an error, or RECORD_JSON_JANSSON. */

/* An object, its keys sorted (insertion: records have a few dozen at most). */
static int
record_json_object(struct cbuf *out, const json_t *obj, int depth)
{
	struct record_json_key keys[RECORD_JSON_KEYS], k;
	size_t n = 0, i, j;
	void *it;
	int error;

	if (json_object_size(obj) > RECORD_JSON_KEYS)
		return RECORD_JSON_JANSSON;
	for (it = json_object_iter((json_t *)obj); it != NULL;
	    it = json_object_iter_next((json_t *)obj, it)) {
		k.key = json_object_iter_key(it);
		k.len = json_object_iter_key_len(it);
		k.value = json_object_iter_value(it);
		for (j = n; j > 0 && record_json_key_cmp(&keys[j - 1], &k) > 0; j--)
			keys[j] = keys[j - 1];
		keys[j] = k;
		n++;
	}
	if ((error = cbuf_put(out, "{", 1)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		if ((i > 0 && (error = cbuf_put(out, ",", 1)) < 0) ||
		    (error = record_json_string(out, keys[i].key, keys[i].len)) < 0 ||
		    (error = cbuf_put(out, ":", 1)) < 0 ||
		    (error = record_json_value(out, keys[i].value, depth + 1)) != 0)
			return error;
	}
	return cbuf_put(out, "}", 1);
}

static int
record_json_value(struct cbuf *out, const json_t *v, int depth)
{
	char num[24];
	size_t i;
	int error;

	if (depth > RECORD_JSON_DEPTH)
		return RECORD_JSON_JANSSON;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return record_json_object(out, v, depth);
	case JSON_ARRAY:
		if ((error = cbuf_put(out, "[", 1)) < 0)
			return error;
		for (i = 0; i < json_array_size(v); i++)
			if ((i > 0 && (error = cbuf_put(out, ",", 1)) < 0) ||
			    (error = record_json_value(out, json_array_get(v, i), depth + 1)) != 0)
				return error;
		return cbuf_put(out, "]", 1);
	case JSON_STRING:
		return record_json_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return cbuf_puts(out, num);
	case JSON_TRUE:
		return cbuf_puts(out, "true");
	case JSON_FALSE:
		return cbuf_puts(out, "false");
	case JSON_NULL:
		return cbuf_puts(out, "null");
	default:
		return RECORD_JSON_JANSSON;	/* a real: jansson's */
	}
}

static int
record_json_put(const char *buf, size_t size, void *arg)
{
	return cbuf_put(arg, buf, size) < 0 ? -1 : 0;
}

int
record_json(struct cbuf *out, const json_t *doc)
{
	size_t at = out->len;
	int error;

	if (!json_is_object(doc))
		return custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON");
	if ((error = record_json_value(out, doc, 0)) != RECORD_JSON_JANSSON)
		return error;
	sodium_memzero(out->data + at, out->len - at);
	out->len = at;
	if (json_dump_callback(doc, record_json_put, out, RECORD_CONTENT_JSON) != 0 ||
	    out->len == at)
		return custody_fail(CUSTODY_EINVAL, "record cannot be encoded as JSON");
	return 0;
}
