/* Git commit objects from peers: the gpgsig header taken apart, strictly. */
#include <string.h>

#include "custody/gitobj.h"

/* Split the signature from what it signs. */
int
gitobj_commit_signature(struct cbuf *signed_data, struct cbuf *sig, const uint8_t *raw,
    size_t len)
{
	const uint8_t *p = raw, *end = raw + len, *nl, *hdr = NULL, *hend = NULL;
	int error;

	if (len == 0 || memchr(raw, '\0', len) != NULL)
		return custody_fail(CUSTODY_EINVAL, "not a commit object");
	/* headers run until the first empty line */
	while (p < end && *p != '\n') {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return custody_fail(CUSTODY_EINVAL, "commit headers do not end");
		if ((size_t)(end - p) > 7 && memcmp(p, "gpgsig ", 7) == 0) {
			if (hdr != NULL)
				return custody_fail(CUSTODY_EINVAL, "two signatures in a commit");
			hdr = p;
			while (nl + 1 < end && nl[1] == ' ') {
				const uint8_t *next = memchr(nl + 1, '\n', (size_t)(end - nl - 1));

				if (next == NULL)
					return custody_fail(CUSTODY_EINVAL, "signature does not end");
				nl = next;
			}
			hend = nl + 1;
		}
		p = nl + 1;
	}
	if (p >= end)
		return custody_fail(CUSTODY_EINVAL, "commit has no message");
	if (hdr == NULL)
		return custody_fail(CUSTODY_ENOTFOUND, "commit is not signed");
	if ((error = cbuf_put(signed_data, raw, (size_t)(hdr - raw))) < 0 ||
	    (error = cbuf_put(signed_data, hend, (size_t)(end - hend))) < 0)
		return error;
	/* the value: first line after "gpgsig ", then continuation lines without their space */
	for (p = hdr + 7; p < hend; ) {
		nl = memchr(p, '\n', (size_t)(hend - p));
		if ((error = cbuf_put(sig, p, (size_t)(nl - p))) < 0)
			return error;
		p = nl + 1;
		if (p < hend) {
			if ((error = cbuf_put(sig, "\n", 1)) < 0)
				return error;
			p++;	/* the continuation space */
		}
	}
	return 0;
}
