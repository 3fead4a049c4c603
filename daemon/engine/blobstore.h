/*
 * Where the blobs' bytes live: an interface with one implementation per kind of store, chosen by
 * custody.conf's [blobs] section (blobstore-conf.c). The store knows nothing of encryption or
 * records: it keeps immutable byte strings, each under its final name, the lowercase hex SHA-256
 * of its bytes (SHA256_HEX_LEN characters), and hands them back whole or from an offset.
 *
 * The contract every implementation keeps:
 * - A name is visible (stat, read, list) only once its object is complete and durable: a writer
 *   puts bytes under a temporary name, and blobstore_commit makes them final in one atomic step,
 *   after the store acknowledged them (fsync, or Ceph's write completion). A crash leaves only
 *   temporaries, which blobstore_sweep finds and removes.
 * - Committing a name that exists keeps the existing object (same name, same bytes).
 * - The store does not check that a name is the hash of the bytes: readers hash what they read
 *   (verify, get, sync) and name the blob that fails.
 * - Every call returns 0 or a negative CUSTODY_E* code with custody_fail's message; none waits
 *   forever: an unreachable store fails with a message starting "ceph unreachable: " (or the
 *   local store's "blob ...: ..."), and the same store object works again once it is back.
 * - A store may be used from several threads; a writer or a reader by one thread at a time.
 *
 * How the local directory (blob.c, blob-ingest.c) maps onto it, unchanged:
 *   begin    mkostemp(ARCHIVE/tmp/ingest-XXXXXX)          (blob_info.tmp)
 *   write    write_all to that file, sync_file_range hints
 *   commit   mkdir blobs/ab, rename(tmp, blobs/ab/NAME); durable after the batch's
 *            archive_sync, which stays the caller's (the local commit does not fsync)
 *   abort    unlink the tmp file                          (blob_discard)
 *   read_open/read   open(blobs/ab/NAME) + pread/read_full  (blob_decrypt_cb, serve_blob)
 *   stat     lstat(blobs/ab/NAME)                         (blob_exists)
 *   remove   unlink(blobs/ab/NAME)                        (blob_unplace)
 *   list     readdir of the 256 blobs/ab directories     (index_sweep_orphans)
 *   sweep    unlink what ARCHIVE/tmp holds               (archive_sweep_tmp, at startup)
 *   health   access(blobs/, W_OK)
 */
#ifndef CUSTODY_BLOBSTORE_H
#define CUSTODY_BLOBSTORE_H

#include <stddef.h>
#include <stdint.h>

enum blobstore_kind {
	BLOBSTORE_LOCAL,		/* ARCHIVE/blobs/ (the default) */
	BLOBSTORE_RADOS,		/* a Ceph RADOS pool through librados */
};

/* custody.conf's [blobs] section; strings owned (blobstore_conf_free). */
struct blobstore_conf {
	enum blobstore_kind	 kind;
	char			*pool;		/* rados: the pool ("custody") */
	char			*ceph_conf;	/* rados: "/etc/ceph/ceph.conf" */
	char			*client;	/* rados: the cephx name ("client.custody") */
	unsigned		 timeout;	/* rados: seconds before an op fails (10) */
};

struct blobstore;
struct blobstore_writer;
struct blobstore_reader;

/* What blobstore_list hands its callback. */
typedef int (*blobstore_list_cb)(void *arg, const char *name);

/*
 * One kind of store. A concrete store is a struct whose first member is a struct blobstore;
 * writers and readers likewise begin with struct blobstore_writer / struct blobstore_reader.
 */
struct blobstore_ops {
	const char	*kind;			/* "local", "rados" */
	int	(*open)(struct blobstore **out, const struct blobstore_conf *, const char *archive,
		    char **cause);
	void	(*close)(struct blobstore *);
	int	(*begin)(struct blobstore *, struct blobstore_writer **out);
	int	(*write)(struct blobstore_writer *, const void *p, size_t n);
	int	(*commit)(struct blobstore_writer *, const char *name);
	void	(*abort)(struct blobstore_writer *);
	int	(*read_open)(struct blobstore *, const char *name, uint64_t offset,
		    struct blobstore_reader **out, uint64_t *size);
	int	(*read)(struct blobstore_reader *, void *p, size_t n, size_t *got);
	void	(*read_close)(struct blobstore_reader *);
	int	(*stat)(struct blobstore *, const char *name, uint64_t *size);
	int	(*remove)(struct blobstore *, const char *name);
	int	(*list)(struct blobstore *, blobstore_list_cb, void *arg);
	int	(*sweep)(struct blobstore *, unsigned *removed);
	int	(*health)(struct blobstore *, char **why);
	/* Optional: make the file at path final under name by moving it (the local store). */
	int	(*adopt)(struct blobstore *, const char *path, const char *name);
};

struct blobstore {
	const struct blobstore_ops *ops;
};
struct blobstore_writer {
	struct blobstore	*store;
	uint64_t		 written;	/* bytes written so far */
};
struct blobstore_reader {
	struct blobstore	*store;
};

/* blobstore-conf.c */
/* Defaults: the local store; rados settings "custody", "/etc/ceph/ceph.conf", "client.custody". */
void blobstore_conf_init(struct blobstore_conf *);
/*
 * One setting of the [blobs] section (inih's section/name/value): 1 when taken, 0 when the
 * section or name is not ours, -1 with *bad set (caller frees) when the value is wrong.
 */
int blobstore_conf_set(struct blobstore_conf *, const char *section, const char *name,
    const char *value, char **bad);
/* Whether the settings fit together; -1 with *bad (caller frees) when not. */
int blobstore_conf_check(const struct blobstore_conf *, char **bad);
void blobstore_conf_free(struct blobstore_conf *);
/* The ops of a kind, NULL when this build lacks it (rados without librados). */
const struct blobstore_ops *blobstore_ops_for(enum blobstore_kind);

/* blobstore.c: the calls, dispatched through the store's ops. */
/* Open the store the conf names for the archive at path; *cause says why not (caller frees). */
int blobstore_open(struct blobstore **out, const struct blobstore_conf *, const char *archive,
    char **cause);
void blobstore_close(struct blobstore *);
/* A new object under a temporary name; write it in pieces of any size. */
int blobstore_begin(struct blobstore *, struct blobstore_writer **out);
int blobstore_write(struct blobstore_writer *, const void *p, size_t n);
/*
 * Make the written bytes final under name once the store acknowledged them all; frees w,
 * whatever the outcome (a failed commit leaves at most temporaries, for the sweep).
 */
int blobstore_commit(struct blobstore_writer *w, const char *name);
/*
 * Make the file at path (under ARCHIVE/tmp) final under name and remove the file: a rename
 * for the local store (durable after the caller's archive_sync), a copy through a writer,
 * acknowledged by the store, for the others. On failure the file stays.
 */
int blobstore_commit_file(struct blobstore *, const char *path, const char *name);
/* Drop an uncommitted object; frees w; NULL is safe. */
void blobstore_abort(struct blobstore_writer *w);
/* Read name from offset (at most its size); *size gets its whole size. */
int blobstore_read_open(struct blobstore *, const char *name, uint64_t offset,
    struct blobstore_reader **out, uint64_t *size);
/* Up to n bytes into p; *got 0 at the end. */
int blobstore_read(struct blobstore_reader *, void *p, size_t n, size_t *got);
void blobstore_read_close(struct blobstore_reader *);
/* The size of name: CUSTODY_ENOTFOUND (no message set) when there is none. */
int blobstore_stat(struct blobstore *, const char *name, uint64_t *size);
/* Remove name and every piece of it; CUSTODY_ENOTFOUND when there is none. */
int blobstore_remove(struct blobstore *, const char *name);
/* Every final name, in no order; a callback's negative return stops the walk and is returned. */
int blobstore_list(struct blobstore *, blobstore_list_cb, void *arg);
/*
 * Remove what interrupted writes left (temporaries no final name refers to); *removed gets how
 * many objects went. Only when no writer is active on the store (at startup, like the orphan
 * sweep).
 */
int blobstore_sweep(struct blobstore *, unsigned *removed);
/* 0 when the store answers; else why not in *why (caller frees), "ceph unreachable: ...". */
int blobstore_health(struct blobstore *, char **why);
/* "local" or "rados". */
const char *blobstore_kind(const struct blobstore *);

/* blobstore-local.c */
extern const struct blobstore_ops blobstore_local_ops;

#ifdef CUSTODY_RADOS
/* blobstore-rados.c */
extern const struct blobstore_ops blobstore_rados_ops;
#endif

#endif
