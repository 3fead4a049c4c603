/*
 * The checkpoint of an import's transaction, off the path of its reply. An import of 250,000
 * records leaves about 190 MiB of pages in the index's WAL; SQLite's automatic checkpoint would
 * copy them into index.sqlite inside the COMMIT, on the importing thread, before the client
 * hears that its records are written (0.5 to 1 s of the import's time). The import turns the
 * automatic checkpoint off while it runs (index-import.c), and a thread of its own, with its
 * own connection, copies the pages afterwards. A passive checkpoint never blocks readers or
 * writers; the index is derived from git, so its pages being in the WAL rather than in the
 * file changes nothing a crash could lose.
 */
#include <pthread.h>

#include <sqlite3.h>

#include "custody/lockmem.h"

#include "archive.h"
#include "log.h"

/* The thread: checkpoint until no more imports asked for one meanwhile. */
static void *
index_checkpoint_run(void *arg)
{
	struct archive *a = arg;
	sqlite3 *db;
	int again;

	do {
		if ((db = archive_db(a)) != NULL && sqlite3_wal_checkpoint_v2(db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) != SQLITE_OK)
			log_warn("index: checkpoint: %s", sqlite3_errmsg(db));
		pthread_mutex_lock(&a->ckpt_lock);
		again = a->ckpt_again;
		a->ckpt_again = 0;
		a->ckpt_running = again;
		pthread_mutex_unlock(&a->ckpt_lock);
	} while (again);
	archive_thread_done();
	return NULL;
}

/*
 * Copy the index's WAL into index.sqlite on a thread of its own, soon; at once on the calling
 * thread's connection if no thread can be started.
 */
void
index_checkpoint_later(struct archive *a)
{
	sqlite3 *db;

	if (a->conf.index_memory)
		return;		/* no WAL */
	pthread_mutex_lock(&a->ckpt_lock);
	if (a->ckpt_running) {
		a->ckpt_again = 1;
		pthread_mutex_unlock(&a->ckpt_lock);
		return;
	}
	if (a->ckpt_joinable) {		/* finished: its last steps are quick */
		pthread_join(a->ckpt_thread, NULL);
		a->ckpt_joinable = 0;
	}
	if (lockmem_thread_create(&a->ckpt_thread, index_checkpoint_run, a) == 0) {
		a->ckpt_running = a->ckpt_joinable = 1;
		pthread_mutex_unlock(&a->ckpt_lock);
		return;
	}
	pthread_mutex_unlock(&a->ckpt_lock);
	if ((db = archive_db(a)) != NULL)
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

/* Wait for the checkpoint thread to finish (before the archive closes). */
void
index_checkpoint_wait(struct archive *a)
{
	pthread_t t;
	int joinable;

	pthread_mutex_lock(&a->ckpt_lock);
	joinable = a->ckpt_joinable;
	t = a->ckpt_thread;
	a->ckpt_joinable = 0;
	pthread_mutex_unlock(&a->ckpt_lock);
	if (joinable)
		pthread_join(t, NULL);
}
