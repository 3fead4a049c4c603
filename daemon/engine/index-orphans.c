/* Blobs no evidence record names, moved aside at startup (never deleted). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "log.h"

/*
 * Move blobs no evidence record names to ARCHIVE/orphans/: left by an ingest that a crash
 * interrupted before its commit, or named by commits that are no longer there (a feed cut back
 * by an old backup). Never deleted: evidence is not ours to destroy on a guess; an admin may
 * remove orphans/ once `custody verify` is clean. Only at startup, before any client, and
 * only after the index caught up with every feed, so that "not in the index" means "in no
 * feed".
 */
int
index_sweep_orphans(struct archive *a)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st = NULL;
	char *top = archive_file(a, "blobs"), *orphans = archive_file(a, "orphans");
	char sub[4096], path[4400], to[4400];
	struct dirent *de, *fe;
	DIR *d = NULL, *fd;
	int n = 0, rc, error = 0;

	if (db == NULL || sqlite3_prepare_v2(db, "SELECT 1 FROM blobs WHERE name=?", -1, &st,
	    NULL) != SQLITE_OK || (d = opendir(top)) == NULL) {
		error = custody_fail(CUSTODY_EIO, "cannot sweep blobs/");
		goto done;
	}
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 2 || !hex_is_lower(de->d_name, 2))
			continue;
		snprintf(sub, sizeof sub, "%s/%s", top, de->d_name);
		if ((fd = opendir(sub)) == NULL)
			continue;
		while ((fe = readdir(fd)) != NULL) {
			if (strlen(fe->d_name) != SHA256_HEX_LEN ||
			    !hex_is_lower(fe->d_name, SHA256_HEX_LEN))
				continue;
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, fe->d_name, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			if (rc == SQLITE_DONE) {
				snprintf(path, sizeof path, "%s/%s", sub, fe->d_name);
				snprintf(to, sizeof to, "%s/%s", orphans, fe->d_name);
				if ((mkdir(orphans, 0700) == 0 || errno == EEXIST) &&
				    rename(path, to) == 0)
					n++;
			} else if (rc != SQLITE_ROW) {
				error = custody_fail(CUSTODY_EIO, "index: sweep: %s", sqlite3_errmsg(db));
				break;
			}
		}
		closedir(fd);
	}
	if (n > 0)
		log_warn("moved %d blob%s that no commit names to orphans/ (an ingest a crash "
		    "cut short, or a feed cut back)", n, n == 1 ? "" : "s");
done:
	if (d != NULL)
		closedir(d);
	sqlite3_finalize(st);
	free(top);
	free(orphans);
	return error;
}
