/* The harnesses that need one: a real archive, made once in a temporary directory. */
#ifndef CUSTODY_FUZZ_ARCHIVE_H
#define CUSTODY_FUZZ_ARCHIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"

/* A new archive of office "fuzz-office", with its index, in a new /tmp/custody-fuzz-NAME.* */
static struct archive *
fuzz_archive_make(const char *name)
{
	static char path[96];
	struct archive *a = NULL;
	char *cause = NULL;

	snprintf(path, sizeof path, "/tmp/custody-fuzz-%s.XXXXXX", name);
	if (sodium_init() < 0 || mkdtemp(path) == NULL)
		abort();
	strcat(path, "/a");
	if (archive_create(path, "fuzz-office", NULL, &cause) < 0 ||
	    archive_open(&a, path, NULL, 1, &cause) < 0 || index_open(a, &cause) < 0) {
		fprintf(stderr, "fuzz_%s: %s\n", name, cause ? cause : "cannot make an archive");
		abort();
	}
	return a;
}

#endif
