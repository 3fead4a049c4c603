/*
 * Writeback ahead of a commit point (archive.h): while a batch of files is placed, a thread of
 * its own syncs the archive's file system every ARCHIVE_FLUSH_STEP bytes placed, and once more
 * when the commit is being built, so that the disk writes the blobs while the rest of the work
 * goes on, instead of all at once at the commit point (the kernel would hold them back: on a
 * machine with gigabytes of memory it starts writeback only at a tenth of it, or after 30 s).
 * The commit point still syncs, and durability rests on that sync as before: a write error
 * that the flusher's sync met fails it (archive_sync_since). The flusher also keeps its error,
 * and archive_flusher_stop gives it to the batch, which then fails before building its commit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "archive.h"
#include "custody/lockmem.h"

struct archive_flusher {
	struct archive	*a;
	int		(*sync)(struct archive *);
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	int		 running;	/* the thread was started */
	uint64_t	 pending;	/* bytes placed since the last sync began */
	int		 now, stop;
	unsigned	 syncs;		/* begun */
	int		 error;
	char		 msg[256];
};

static void *
archive_flusher_run(void *arg)
{
	struct archive_flusher *f = arg;
	int r;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && !f->now && f->pending < ARCHIVE_FLUSH_STEP)
			pthread_cond_wait(&f->cond, &f->lock);
		if (f->stop)
			break;
		f->pending = 0;
		f->now = 0;
		f->syncs++;
		pthread_mutex_unlock(&f->lock);
		r = f->sync(f->a);
		pthread_mutex_lock(&f->lock);
		if (r < 0 && f->error == 0) {
			f->error = r;
			snprintf(f->msg, sizeof f->msg, "%s", custody_error());
		}
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* A flusher for a's file system, its thread started at the first step; sync is archive_sync's. */
int
archive_flusher_new(struct archive_flusher **out, struct archive *a,
    int (*sync)(struct archive *))
{
	struct archive_flusher *f;

	*out = NULL;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return CUSTODY_ENOMEM;
	f->a = a;
	f->sync = sync != NULL ? sync : archive_sync;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	*out = f;
	return 0;
}

/*
 * n more bytes were placed (from any thread): a sync begins once ARCHIVE_FLUSH_STEP of them
 * wait and none is running. Without a thread (it could not be started) the commit point's
 * sync does it all, as it would without a flusher.
 */
void
archive_flusher_note(struct archive_flusher *f, uint64_t n)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->pending += n;
	if (!f->running && !f->stop && f->pending >= ARCHIVE_FLUSH_STEP)
		f->running = lockmem_thread_create(&f->thread, archive_flusher_run, f) == 0 ?
		    1 : -1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* The commit is being built: one more sync now, for what was placed since the last one. */
void
archive_flusher_kick(struct archive_flusher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->running == 1 && f->pending > 0) {
		f->now = 1;
		pthread_cond_signal(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
}

/*
 * Wait for the sync under way, if any, and stop: 0, or the error a sync of the flusher met
 * (then nothing placed so far is known to be on the disk). Later calls give the same.
 */
int
archive_flusher_stop(struct archive_flusher *f)
{
	int error, join;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	join = f->running == 1;
	f->running = 0;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (join)
		pthread_join(f->thread, NULL);
	if ((error = f->error) < 0)
		return custody_fail(error, "writing the batch's files: %s", f->msg);
	return 0;
}

/* Syncs the flusher began (for tests). */
unsigned
archive_flusher_syncs(struct archive_flusher *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->syncs;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void
archive_flusher_free(struct archive_flusher *f)
{
	if (f == NULL)
		return;
	(void)archive_flusher_stop(f);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
