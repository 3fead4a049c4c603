/*
 * custodyd passwd ARCHIVE: seal the office key under a new passphrase (or none, for an
 * unattended office), after the old one opened it. keys/office.key is replaced by rename, so
 * an interrupted change leaves the old file or the new one, never neither.
 */
#include <stdio.h>
#include <stdlib.h>

#include "archive.h"
#include "log.h"

/* Open the office key of the archive at path with the current passphrase old (or none). */
int
passwd_open(struct archive **a, const char *path, const char *old, char **cause)
{
	return archive_open_ext(a, path, old, 0, 1, cause);
}

/* Seal the open office key under new_passphrase (NULL: none) in place of the old file. */
int
passwd_reseal(struct archive *a, const char *new_passphrase, char **cause)
{
	char *dir;
	int error;

	if (new_passphrase != NULL && (error = keys_check_passphrase(new_passphrase, cause)) < 0)
		return error;
	if (keys_rotate_pending(a)) {
		custody_cause(cause, "a key rotation was interrupted: start the office once (custodyd "
		    "run) to settle it, then change the passphrase");
		return CUSTODY_EPERM;
	}
	dir = archive_file(a, "keys");
	if ((error = keys_replace_office(dir, a->office_sk, new_passphrase, cause)) == 0 &&
	    (error = keys_rotate_passwd(a, new_passphrase, cause)) == 0)
		log_info("the office key is now %s", new_passphrase != NULL ?
		    "sealed with the new passphrase" : "stored without a passphrase (unattended)");
	free(dir);
	return error;
}
