/*
 * The archive's blob store, as custody.conf's [blobs] section names it (blobstore.h).
 *
 * A RADOS store that does not answer when the archive opens does not stop the daemon: records,
 * queries and reports need only the archive's own disk. The store stays closed and every use
 * of it (archive_blobs) tries to open it again, at most once every ARCHIVE_BLOBS_RETRY seconds,
 * failing meanwhile with the reason ("ceph unreachable: ..."). Once open, the store object
 * reconnects by itself (its contract).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "log.h"

#define ARCHIVE_BLOBS_RETRY 5		/* seconds between two attempts to open the store */

/* Whether a cause says the store did not answer, rather than that it is set up wrong. */
static int
archive_blobs_unreachable(const char *cause)
{
	return cause != NULL && strncmp(cause, "ceph unreachable: ", 18) == 0;
}

/* Open the store; an unreachable one is left for archive_blobs to open again. */
int
archive_blobs_open(struct archive *a, char **cause)
{
	struct blobstore *s = NULL;
	char *why = NULL;
	int error;

	a->blobs_tried = time(NULL);
	if ((error = blobstore_open(&s, &a->conf.blobs, a->path, &why)) == 0) {
		if (a->conf.blobs.kind != BLOBSTORE_LOCAL)
			log_info("blob store: %s pool %s", blobstore_kind(s), a->conf.blobs.pool);
		a->blobs = s;
		return 0;
	}
	if (archive_blobs_unreachable(why)) {
		log_warn("blob store: %s; evidence cannot be stored or read until it answers "
		    "(records, queries and reports work)", why);
		a->blobs_why = why;
		return 0;
	}
	custody_cause(cause, "blob store (custody.conf [blobs]): %s", why != NULL ? why :
	    custody_error());
	free(why);
	return error;
}

void
archive_blobs_close(struct archive *a)
{
	blobstore_close(a->blobs);
	a->blobs = NULL;
	free(a->blobs_why);
	a->blobs_why = NULL;
}

struct blobstore *
archive_blobs(struct archive *a)
{
	struct blobstore *s = __atomic_load_n(&a->blobs, __ATOMIC_ACQUIRE);
	char *why = NULL;
	time_t now;

	if (s != NULL)
		return s;
	pthread_mutex_lock(&a->blobs_lock);
	if ((s = a->blobs) == NULL) {
		now = time(NULL);
		if (now - a->blobs_tried >= ARCHIVE_BLOBS_RETRY || now < a->blobs_tried) {
			a->blobs_tried = now;
			if (blobstore_open(&s, &a->conf.blobs, a->path, &why) == 0) {
				log_info("blob store: %s is open again", blobstore_kind(s));
				__atomic_store_n(&a->blobs, s, __ATOMIC_RELEASE);
				free(a->blobs_why);
				a->blobs_why = NULL;
			} else if (why != NULL) {
				free(a->blobs_why);
				a->blobs_why = why;
			}
		}
		if (s == NULL)
			custody_fail(CUSTODY_EIO, "%s", a->blobs_why != NULL ? a->blobs_why :
			    "blob store: not open");
	}
	pthread_mutex_unlock(&a->blobs_lock);
	return s;
}
