/*
 * custodyd passwd ARCHIVE: seal the office key under a new passphrase (or none, for an
 * unattended office), after the old one opened it. keys/office.key is replaced by rename, so
 * an interrupted change leaves the old file or the new one, never neither.
 */
#include <stdio.h>
#include <stdlib.h>

#include "archive.h"
#include "log.h"

/* Open the office key with old; when replace, seal it again under new_passphrase. */
int
passwd_archive(const char *path, const char *old, const char *new_passphrase, int replace,
    char **cause)
{
	struct archive *a = NULL;
	char *dir = NULL;
	int error = 0;

	if (replace && new_passphrase != NULL &&
	    (error = keys_check_passphrase(new_passphrase, cause)) < 0)
		return error;
	if ((error = archive_open_ext(&a, path, old, 0, 1, cause)) < 0)
		return error;
	dir = archive_file(a, "keys");
	if (replace && (error = keys_replace_office(dir, a->office_sk, new_passphrase, cause)) == 0)
		log_info("the office key is now %s", new_passphrase != NULL ?
		    "sealed with the new passphrase" : "stored without a passphrase (unattended)");
	free(dir);
	archive_close(a);
	return error;
}
