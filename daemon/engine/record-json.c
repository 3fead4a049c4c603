/*
 * Records encoded as they are sealed and hashed (record-json.h), by jansson's own encoder
 * through its callback, straight into the caller's buffer: no string of its own to allocate,
 * copy and free for every record of an import.
 */
#include <sodium.h>

#include "archive.h"
#include "record-json.h"

static int
record_json_put(const char *p, size_t n, void *arg)
{
	return cbuf_put(arg, p, n) < 0 ? -1 : 0;
}

int
record_json(struct cbuf *out, const json_t *doc)
{
	size_t at = out->len;

	if (!json_is_object(doc) || json_dump_callback(doc, record_json_put, out,
	    RECORD_CONTENT_JSON) != 0 || cbuf_put(out, "", 1) < 0) {
		if (out->len > at)
			sodium_memzero(out->data + at, out->len - at);
		out->len = at;
		return custody_fail(CUSTODY_EINVAL, "a record cannot be encoded as JSON");
	}
	out->len--;	/* the NUL stays after the text, outside its length */
	return 0;
}
