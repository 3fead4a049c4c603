/* Creating and opening an archive directory; per-thread git and SQLite handles. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "epochs.h"
#include "log.h"

static pthread_once_t archive_once = PTHREAD_ONCE_INIT;
static uint64_t archive_serial;

#define ARCHIVE_GIT_CACHE (16 << 20)	/* bytes of parsed git objects libgit2 keeps */
#define ARCHIVE_GIT_TREE (64 << 10)	/* the largest tree it keeps */
#define ARCHIVE_GIT_WINDOW (8 << 20)	/* bytes of a pack mapped at once */
#define ARCHIVE_GIT_MAPPED (64 << 20)	/* bytes of packs mapped in all */

/* One git repository and one SQLite connection per thread and archive. */
static _Thread_local struct {
	uint64_t	 serial;
	git_repository	*repo;
	uint64_t	 packs_gen;	/* archive_packs_gen when repo was opened */
	sqlite3		*db;
} handles;
/*
 * One more at each merge of git packs (archive-packs.c). A repository handle keeps every pack
 * it has listed open, removed or not, for as long as it lives: a handle older than a merge is
 * closed between two jobs (archive_thread_settle), so that the packs merged away leave the disk.
 */
static _Atomic uint64_t archive_packs_gen;


static void
archive_global_init(void)
{
	git_libgit2_init();
	/* Durability comes from archive_sync() at the commit point, not a sync per object. */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	/*
	 * No statistics of SQLite's allocations (nothing reads them): they take one process-wide
	 * mutex on every allocation of every connection, an import's hundreds of thousands of
	 * rows and the queries of other threads alike. Before any connection, or not at all.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/*
	 * Bounded memory whatever the size of the feeds: libgit2 keeps the trees and commits it
	 * parsed in a cache of 256 MiB by default, and maps up to 8 GiB of packs in 1 GiB windows
	 * (resident as they are read); a first sync of a large feed reads every tree of it.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)ARCHIVE_GIT_CACHE);
	/*
	 * The upper trees of a feed's fan-out hold 256 entries, 7 KiB or more: past libgit2's
	 * 4 KiB limit for a cached tree, so each was inflated and parsed again for every record
	 * read through it (a list of 60,000 victims took 15 s, 6 s with them cached).
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)ARCHIVE_GIT_TREE);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)ARCHIVE_GIT_WINDOW);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)ARCHIVE_GIT_MAPPED);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
}

/* ARCHIVE/rel, allocated. */
char *
archive_file(const struct archive *a, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", a->path, rel) < 0)
		fatal("out of memory");
	return p;
}

/* An unnamed file under tmp/. */
int
archive_tmpfile(const struct archive *a, const char *prefix)
{
	char *dir = archive_file(a, "tmp"), path[4200];
	int fd;

	if (dir == NULL)
		return -1;
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		snprintf(path, sizeof path, "%s/%s-XXXXXX", dir, prefix);
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	free(dir);
	return fd;
}

/* An office name (domain/ids.c): 0 or CUSTODY_EINVAL. */
int
archive_check_name(const char *s)
{
	return ids_office_name_ok(s, strlen(s)) ? 0 : CUSTODY_EINVAL;
}

/* A record id (domain/ids.c): 0 or CUSTODY_EINVAL with the rule in custody_error(). */
int
archive_check_id(const char *s)
{
	if (!ids_record_ok(s, strlen(s)))
		return custody_fail(CUSTODY_EINVAL, "invalid id (use 1-128 letters, digits, . _ : -)");
	return 0;
}

/* The keyed token of an id: what the index and the tree paths show instead of the id. */
void
archive_token(const struct archive *a, uint8_t tok[static TOKEN_LEN], const char *id)
{
	crypto_generichash(tok, TOKEN_LEN, (const uint8_t *)id, strlen(id), a->token_key, 32);
}

void
archive_token_hex(const struct archive *a, char hex[static TOKEN_HEX_LEN + 1], const char *id)
{
	uint8_t tok[TOKEN_LEN];

	archive_token(a, tok, id);
	hex_encode(hex, tok, TOKEN_LEN);
}

/* fsync a directory, so that a rename or create in it is durable. */
int
fsync_dir(const char *path)
{
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return CUSTODY_EIO;
	if (fsync(fd) != 0)
		error = CUSTODY_EIO;
	close(fd);
	return error;
}

/* mkdir -p, private: parents a user asks for (~/.local/share) are made too. */
static int
archive_mkdirs(const char *path)
{
	char *copy, *p;
	int r;

	if ((copy = strdup(path)) == NULL)
		return -1;
	for (p = copy + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			free(copy);
			return -1;
		}
		*p = '/';
	}
	r = mkdir(copy, 0700);
	free(copy);
	return r;
}

/*
 * Make everything written to the archive's file system so far durable: one syncfs(2) instead
 * of an fsync per blob, object and directory, which a batch of thousands of files cannot afford.
 *
 * syncfs reports a write error once to each open file of the file system, at its first sync
 * after the error. A directory opened anew for each sync therefore misses an error that another
 * sync saw first (another batch's, the flusher's, an admin's `sync -f`), and a batch whose blob
 * never reached the disk would be acknowledged. So every sync goes through the one descriptor
 * opened with the archive, which sees each error of its file system once, and counts it: a batch
 * takes a mark before its first write, and its commit point fails if the count moved since.
 * Once the disk works again, a batch begun after the error commits; nothing needs a restart.
 */
uint64_t
archive_sync_mark(struct archive *a)
{
	uint64_t mark;

	pthread_mutex_lock(&a->sync_lock);
	mark = a->sync_failed;
	pthread_mutex_unlock(&a->sync_lock);
	return mark;
}

int
archive_sync_since(struct archive *a, uint64_t mark)
{
	uint64_t failed;
	int own = 0, e;

	pthread_mutex_lock(&a->sync_lock);
	if (syncfs(a->sync_fd) != 0) {
		a->sync_failed++;
		a->sync_errno = errno;
		own = 1;
	}
	failed = a->sync_failed;
	e = a->sync_errno;
	pthread_mutex_unlock(&a->sync_lock);
	if (own)
		return custody_fail(e == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
		    "cannot sync the archive: %s", strerror(e));
	if (failed != mark)
		return custody_fail(e == ENOSPC ? CUSTODY_ENOSPC : CUSTODY_EIO,
		    "cannot sync the archive: a write to its disk failed since this batch "
		    "began (%s)", strerror(e));
	return 0;
}

/* archive_sync_since for what the caller wrote since it last synced. */
int
archive_sync(struct archive *a)
{
	return archive_sync_since(a, archive_sync_mark(a));
}

/* Create a new archive directory: conf, keys, bare git repository, blobs/ and tmp/. */
int
archive_create(const char *path, const char *office, const char *passphrase, char **cause)
{
	return archive_create_ext(path, office, passphrase, 0, cause);
}

/* archive_create; a joining archive gets no data key until custodyd join. */
int
archive_create_ext(const char *path, const char *office, const char *passphrase, int joining,
    char **cause)
{
	static const char *dirs[] = { "keys", "blobs", "tmp" };
	uint8_t pk[ED25519_PK_LEN];
	git_repository *repo = NULL;
	git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	struct passwd *pw;
	char sub[4096];
	struct dirent *de;
	DIR *d;
	size_t i;
	int error;

	pthread_once(&archive_once, archive_global_init);
	if (archive_check_name(office) < 0) {
		custody_cause(cause, "invalid office name '%s' (use 1-64 letters, digits, . _ -)", office);
		return CUSTODY_EINVAL;
	}
	if (passphrase != NULL && (error = keys_check_passphrase(passphrase, cause)) < 0)
		return error;	/* before anything is created */
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
				closedir(d);
				custody_cause(cause, "%s exists and is not empty; refusing to touch it",
				    path);
				return CUSTODY_EEXIST;
			}
		closedir(d);
		if (chmod(path, 0700) != 0) {
			custody_cause(cause, "cannot chmod %s: %s", path, strerror(errno));
			return CUSTODY_EIO;
		}
	} else if (errno != ENOENT || archive_mkdirs(path) != 0) {
		custody_cause(cause, "cannot create %s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(sub, sizeof sub, "%s/%s", path, dirs[i]);
		if (mkdir(sub, 0700) != 0) {
			custody_cause(cause, "cannot create %s: %s", sub, strerror(errno));
			return CUSTODY_EIO;
		}
	}
	snprintf(sub, sizeof sub, "%s/git", path);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
	    GIT_REPOSITORY_INIT_NO_REINIT;
	opts.mode = GIT_REPOSITORY_INIT_SHARED_UMASK;
	if (git_repository_init_ext(&repo, sub, &opts) < 0) {
		custody_cause(cause, "cannot create the git repository: %s", git_error_last()->message);
		return CUSTODY_EIO;
	}
	git_repository_free(repo);

	pw = getpwuid(getuid());
	snprintf(sub, sizeof sub, "%s/custody.conf", path);
	if (conf_write_default(sub, office, pw != NULL ? pw->pw_name : "root") < 0) {
		custody_cause(cause, "cannot write %s: %s", sub, strerror(errno));
		return CUSTODY_EIO;
	}
	snprintf(sub, sizeof sub, "%s/keys", path);
	if ((error = keys_create(sub, office, passphrase, joining, pk, cause)) < 0)
		return error;
	if (fsync_dir(sub) < 0 || fsync_dir(path) < 0) {
		custody_cause(cause, "cannot sync %s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	return 0;
}

/* Refuse an archive directory or keys/ that others may write, or links where none belong. */
static int
archive_check_perms(const char *path, char **cause)
{
	static const char *subs[] = { "", "/keys", "/git", "/blobs", "/tmp" };
	char p[4096];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, subs[i]);
		if (lstat(p, &st) != 0) {
			custody_cause(cause, "%s: %s (is this a custody archive?)", p, strerror(errno));
			return CUSTODY_EIO;
		}
		if (S_ISLNK(st.st_mode) && i > 0) {
			custody_cause(cause, "%s is a symbolic link; refusing to use it", p);
			return CUSTODY_EPERM;
		}
		if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode)) {
			custody_cause(cause, "%s is not a directory", p);
			return CUSTODY_EINVAL;
		}
		if (!S_ISLNK(st.st_mode) && (st.st_mode & 022)) {
			custody_cause(cause, "%s is writable by group or others (mode %04o); "
			    "fix with: chmod go-w %s", p, (unsigned)(st.st_mode & 07777), p);
			return CUSTODY_EPERM;
		}
	}
	return 0;
}

/* The vocabularies: the defaults, with the lists custody.conf sets. */
static int
archive_vocab(struct archive *a, char **cause)
{
	static const char *lists[] = { "party", "governorate", "cause" };
	int i;

	if (vocab_default(&a->vocab) < 0)
		return CUSTODY_ENOMEM;
	for (i = 0; i < 3; i++) {
		if (a->conf.vocab[i] == NULL)
			continue;
		if (vocab_set(&a->vocab, lists[i], a->conf.vocab[i]) < 0) {
			custody_cause(cause, "custody.conf: [vocabulary] %s: %s", lists[i],
			    custody_error());
			return CUSTODY_EINVAL;
		}
	}
	return 0;
}

/* Take the single-daemon lock of the archive at path: *fd holds it until closed; CUSTODY_EEXIST
 * when another process holds it. */
int
archive_lock(const char *path, int *fd, char **cause)
{
	char file[4096];

	snprintf(file, sizeof file, "%s/custodyd.lock", path);
	*fd = open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0 || flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int held = *fd >= 0 && errno == EWOULDBLOCK;

		if (held)
			custody_cause(cause, "another custodyd is already running on %s", path);
		else
			custody_cause(cause, "cannot lock %s: %s", file, strerror(errno));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return held ? CUSTODY_EEXIST : CUSTODY_EIO;
	}
	if (ftruncate(*fd, 0) == 0)
		dprintf(*fd, "%ld\n", (long)getpid());
	return 0;
}

/* Open an archive: conf, keys, optionally the single-daemon lock. */
int
archive_open(struct archive **out, const char *path, const char *passphrase, int lock,
    char **cause)
{
	return archive_open_ext(out, path, passphrase, lock, 0, cause);
}

/* archive_open; with office_only, only the office key is loaded (data_key stays zero). */
int
archive_open_ext(struct archive **out, const char *path, const char *passphrase, int lock,
    int office_only, char **cause)
{
	struct archive *a;
	char *file = NULL;
	int error = CUSTODY_ENOMEM;

	*out = NULL;
	pthread_once(&archive_once, archive_global_init);
	if ((error = archive_check_perms(path, cause)) < 0)
		return error;
	if ((a = calloc(1, sizeof *a)) == NULL)
		return CUSTODY_ENOMEM;
	a->lockfd = -1;
	a->sync_fd = -1;
	a->sync_failed = 1;
	a->started = time(NULL);
	pthread_mutex_init(&a->write_lock, NULL);
	pthread_mutex_init(&a->blobs_lock, NULL);
	pthread_mutex_init(&a->ckpt_lock, NULL);
	pthread_mutex_init(&a->packs_lock, NULL);
	pthread_mutex_init(&a->sync_lock, NULL);
	if ((a->path = realpath(path, NULL)) == NULL ||
	    (a->sync_fd = open(a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		custody_cause(cause, "%s: %s", path, strerror(errno));
		error = CUSTODY_EIO;
		goto fail;
	}
	a->office_sk = sodium_malloc(ED25519_SK_LEN);
	a->data_key = sodium_malloc(DATA_KEY_LEN);
	a->token_key = sodium_malloc(32);
	if (a->office_sk == NULL || a->data_key == NULL || a->token_key == NULL)
		goto fail;
	if (lock && (error = archive_lock(a->path, &a->lockfd, cause)) < 0)
		goto fail;
	file = archive_file(a, "custody.conf");
	if ((error = conf_load(&a->conf, file, cause)) < 0)
		goto fail;
	error = office_only ? keys_load_office(a, passphrase, cause) :
	    keys_load(a, passphrase, cause);
	if (error == 0 && !office_only)
		error = epochs_load(a, cause);
	if (error == 0 && !office_only)	/* a key rotation a crash interrupted */
		error = keys_rotate_settle(a, passphrase, cause);
	if (error < 0)
		goto fail;
	if ((error = archive_vocab(a, cause)) < 0)
		goto fail;
	if ((error = sshkey_format_pub(&a->public_line, a->office_pk, a->conf.office)) < 0 ||
	    (error = sshkey_fingerprint(&a->fingerprint, a->office_pk)) < 0) {
		custody_cause(cause, "cannot format the office key");
		goto fail;
	}
	if (!office_only && (error = archive_blobs_open(a, cause)) < 0)
		goto fail;
	a->serial = __atomic_add_fetch(&archive_serial, 1, __ATOMIC_SEQ_CST);
	free(file);
	*out = a;
	return 0;
fail:
	free(file);
	archive_close(a);
	return error;
}

/* Close the calling thread's handles on the archive it last used. */
void
archive_thread_done(void)
{
	if (handles.repo != NULL)
		git_repository_free(handles.repo);
	if (handles.db != NULL) {
		sqlite3_stmt *st;

		while ((st = sqlite3_next_stmt(handles.db, NULL)) != NULL)
			sqlite3_finalize(st);
		sqlite3_close(handles.db);
	}
	memset(&handles, 0, sizeof handles);
}

/* Packs were merged away: repository handles opened before are to be closed. */
void
archive_packs_merged(void)
{
	archive_packs_gen++;
}

/*
 * Between two jobs: close the thread's repository handle if packs were merged since it was
 * opened (the next archive_repo opens another). Nothing keeps git objects from one job to the
 * next.
 */
void
archive_thread_settle(void)
{
	if (handles.repo != NULL && handles.packs_gen != archive_packs_gen) {
		git_repository_free(handles.repo);
		handles.repo = NULL;
	}
}

/* Point the thread's handles at archive a. */
static void
archive_thread_use(struct archive *a)
{
	if (handles.serial != a->serial) {
		archive_thread_done();
		handles.serial = a->serial;
	}
}

/* The calling thread's repository handle (NULL with the reason in custody_error()). */
git_repository *
archive_repo(struct archive *a)
{
	char *p;

	archive_thread_use(a);
	if (handles.repo == NULL) {
		p = archive_file(a, "git");
		handles.packs_gen = archive_packs_gen;	/* before: a merge meanwhile counts */
		if (git_repository_open_bare(&handles.repo, p) < 0) {
			custody_fail(CUSTODY_EIO, "cannot open %s: %s", p, git_error_last()->message);
			handles.repo = NULL;
		}
		free(p);
	}
	return handles.repo;
}

/*
 * A connection to the index: ARCHIVE/index.sqlite, or with [index] store = memory a database in
 * this process's memory that every connection of the archive shares (SQLite's memdb, named by
 * the archive's serial). NULL with the reason.
 */
static sqlite3 *
archive_db_open(struct archive *a)
{
	sqlite3 *db = NULL;
	char *p;

	if (a->conf.index_memory) {
		if (asprintf(&p, "file:/custody-index-%llu?vfs=memdb",
		    (unsigned long long)a->serial) < 0)
			p = NULL;
	} else
		p = archive_file(a, "index.sqlite");
	if (p == NULL) {
		custody_fail(CUSTODY_ENOMEM, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		custody_fail(CUSTODY_EIO, "cannot open the index %s: %s", a->conf.index_memory ?
		    "in memory" : p, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		db = NULL;
	} else {
		sqlite3_busy_timeout(db, 30000);
		/* the WAL an import grew (190 MiB for 250,000 victims) shrinks once copied */
		sqlite3_exec(db, a->conf.index_memory ? "PRAGMA cache_size=-65536;" :
		    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
		    " PRAGMA journal_size_limit=67108864;",
		    NULL, NULL, NULL);
		sqlite3_exec(db, "PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
	}
	free(p);
	return db;
}

/*
 * With [index] store = memory: open the connection that keeps the in-memory index alive while
 * the archive is open, and remove an index file an earlier setting left on disk.
 */
int
archive_index_memory(struct archive *a, char **cause)
{
	static const char *const files[] = { "index.sqlite", "index.sqlite-wal",
	    "index.sqlite-shm", "index.sqlite-journal" };
	char *p;
	size_t i;

	if (!a->conf.index_memory || a->index_keep != NULL)
		return 0;
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if ((p = archive_file(a, files[i])) == NULL)
			return CUSTODY_ENOMEM;
		if (unlink(p) == 0)
			log_info("[index] store = memory: removed %s", files[i]);
		else if (errno != ENOENT) {
			custody_cause(cause, "cannot remove %s: %s", p, strerror(errno));
			free(p);
			return CUSTODY_EIO;
		}
		free(p);
	}
	if ((a->index_keep = archive_db_open(a)) == NULL) {
		custody_cause(cause, "%s", custody_error());
		return CUSTODY_EIO;
	}
	return 0;
}

/* The calling thread's SQLite connection to the index (NULL with the reason). */
sqlite3 *
archive_db(struct archive *a)
{
	archive_thread_use(a);
	if (handles.db == NULL)
		handles.db = archive_db_open(a);
	return handles.db;
}

/* Close an archive and wipe its secrets; NULL is fine. */
void
archive_close(struct archive *a)
{
	if (a == NULL)
		return;
	index_checkpoint_wait(a);
	if (handles.serial == a->serial)
		archive_thread_done();
	sqlite3_close(a->index_keep);
	sodium_free(a->office_sk);
	sodium_free(a->key_seal);
	sodium_free(a->prev_sk);
	sodium_free(a->data_key);
	sodium_free(a->token_key);
	epochs_free(a->epochs);
	archive_blobs_close(a);
	conf_free(&a->conf);
	vocab_free(&a->vocab);
	free(a->public_line);
	free(a->fingerprint);
	free(a->path);
	if (a->lockfd >= 0)
		close(a->lockfd);
	if (a->sync_fd >= 0)
		close(a->sync_fd);
	pthread_mutex_destroy(&a->sync_lock);
	pthread_mutex_destroy(&a->write_lock);
	pthread_mutex_destroy(&a->blobs_lock);
	pthread_mutex_destroy(&a->ckpt_lock);
	pthread_mutex_destroy(&a->packs_lock);
	free(a);
}

/* Remove a directory of files left in tmp/ (a peer's pack in quarantine). */
static int
archive_sweep_dir(const char *dir)
{
	char path[4400];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(dir);
}

/* Remove partial writes left in tmp/ and in the blob store by an interrupted daemon. */
int
archive_sweep_tmp(struct archive *a)
{
	char *dir = archive_file(a, "tmp"), path[4096];
	struct blobstore *s = archive_blobs(a);
	struct dirent *de;
	unsigned removed;
	int n = 0;
	DIR *d;

	if (s == NULL)
		log_warn("blob store not swept: %s", custody_error());
	else if (blobstore_sweep(s, &removed) < 0)
		log_warn("blob store not swept: %s", custody_error());
	else if (removed > 0)
		log_info("swept %u partial blob%s from the %s blob store", removed,
		    removed == 1 ? "" : "s", blobstore_kind(s));

	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return CUSTODY_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, "sync-", 5) == 0)
			continue;	/* a blob a peer was sending: resumed by the next sync */
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (unlink(path) == 0 || (errno == EISDIR && archive_sweep_dir(path) == 0))
			n++;
	}
	closedir(d);
	if (n > 0)
		log_info("swept %d partial file%s from tmp/", n, n == 1 ? "" : "s");
	free(dir);
	return 0;
}
