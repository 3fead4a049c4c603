/*
 * Ingest in the engine: each file of a batch hashed and encrypted into tmp/, and moved to blobs/
 * unless the archive already holds its bytes, then kept by the batch (ingest-batch.c) until
 * the commit (ingest-commit.c). A batch that is not committed leaves nothing behind once it is
 * freed (a crash may leave unreferenced blobs, which nothing reads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "ingest.h"

char *
ingest_clean_text(const char *s, size_t max)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s), n;
	utf8proc_int32_t cp;
	struct cbuf b = { 0 };
	uint8_t enc[4];

	while (len > 0 && b.len < max) {
		if ((n = utf8proc_iterate(p, len, &cp)) < 0) {
			cp = 0xfffd;
			n = 1;
		}
		p += n;
		len -= n;
		if (cp < 0x20 || cp == 0x7f)
			continue;
		if (cbuf_put(&b, enc, (size_t)utf8proc_encode_char(cp, enc)) < 0) {
			free(b.data);
			return NULL;
		}
	}
	return cbuf_detach(&b);
}

/*
 * The client's name made a clean relative path (invalid UTF-8 replaced, control characters
 * dropped, empty, "." and ".." components and leading slashes removed), "unnamed" when nothing
 * is left.
 */
char *
ingest_clean_name(const char *name)
{
	char *s, *out, *comp, *save = NULL;
	size_t len = 0, n;

	if ((s = ingest_clean_text(name, INGEST_NAME_MAX)) == NULL ||
	    (out = malloc(strlen(s) + sizeof "unnamed")) == NULL) {
		free(s);
		return NULL;
	}
	for (comp = strtok_r(s, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			continue;
		if (len > 0)
			out[len++] = '/';
		n = strlen(comp);
		memcpy(out + len, comp, n);
		len += n;
	}
	if (len == 0)
		len = (size_t)sprintf(out, "unnamed");
	out[len] = '\0';
	free(s);
	return out;
}

int
ingest_file_place(struct archive *a, struct ingest_file *f, int fd)
{
	char hex[SHA256_HEX_LEN + 1];
	int error, found;

	if ((error = blob_ingest(a, &f->blob, fd)) < 0)
		return custody_fail(error, "%s: %s", f->name, custody_error());
	hex_encode(hex, f->blob.sha256, SHA256_LEN);
	if ((error = index_has_evidence(a, hex, &found)) < 0) {
		blob_discard(a, &f->blob);
		return error;
	}
	if (found) {
		f->duplicate = 1;
		blob_discard(a, &f->blob);
		return 0;
	}
	/*
	 * Into its place now, so that tmp/ never holds a whole batch (a directory of thousands
	 * of entries slows every create in it). Nothing refers to it until the commit; a batch
	 * that is not committed removes it again.
	 */
	if ((error = blob_commit(a, &f->blob)) < 0) {
		blob_discard(a, &f->blob);
		return custody_fail(error, "%s: %s", f->name, custody_error());
	}
	f->blob.tmp[0] = '\0';
	f->placed = 1;
	return 0;
}

void
ingest_file_drop(struct archive *a, struct ingest_file *f)
{
	if (f->placed)
		blob_unplace(a, &f->blob);
	blob_discard(a, &f->blob);
	f->placed = 0;
}
