/* The archive engine: keys, blob store, records, feeds and the index. */
#ifndef CUSTODY_ARCHIVE_H
#define CUSTODY_ARCHIVE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <git2.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "custody/common.h"
#include "custody/feedfmt.h"
#include "custody/ids.h"
#include "custody/records.h"
#include "custody/share.h"
#include "custody/sshsig.h"

#include "blobstore.h"

#define DATA_KEY_LEN 32
#define TOKEN_LEN 16			/* keyed BLAKE2b of an id: index and tree paths */
#define TOKEN_HEX_LEN (2 * TOKEN_LEN)
#define BLOB_CHUNK 65536		/* plaintext bytes per secretstream chunk */
#define OFFICE_NAME_MAX IDS_OFFICE_NAME_MAX
#define ID_MAX IDS_RECORD_MAX

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_ANALYST, ROLE_DOCUMENTER, ROLE_ADMIN };

/* custody.conf, parsed with libinih. */
struct conf {
	char	*office;
	char	*socket;		/* relative to the archive unless absolute */
	char	*roles[ROLE_ADMIN + 1];	/* comma-separated user names or uids per role */
	char	*vocab[3];		/* [vocabulary] party, governorate, cause (NULL: default) */
	int	 massacre_threshold;	/* [report] massacre_threshold, default 5 */
	int	 disappeared_after_days;	/* [persons] disappeared_after_days, default 90 */
	int	 sync_interval;		/* [sync] interval, seconds between syncs; 0 never */
	char	*listen;		/* [daemon] listen = HOST:PORT for peers, or NULL */
	int	 idle_timeout;		/* [daemon] idle_timeout, seconds; default 600 */
	int	 index_memory;		/* [index] store = memory: no index file on disk */
	struct conf_peer {		/* [peer NAME] sections: offices we sync with */
		char	*name;
		char	*address;	/* HOST:PORT, or NULL */
		uint8_t	 pk[32];	/* the office's Ed25519 key */
		int	 has_key;
		uint64_t rate;		/* rate, bytes per second (0: none) */
		int	 has_rate;	/* rate given: it overrides [sync] rate */
		char	*proxy;		/* proxy = socks5h://HOST:PORT, "" for none (NULL: [sync]
					   proxy) */
	}	*peers;
	size_t	 npeers;
	unsigned protected_roles;	/* [roles] protected: bit 1 << role per role shown them */
	int	 revoke_quorum;		/* [trust] revoke_quorum; 0: more than half the others */
	uint64_t sync_rate;		/* [sync] rate, bytes per second per peer; 0: no limit */
	char	*sync_proxy;		/* [sync] proxy = socks5h://HOST:PORT; NULL or "": none */
	struct blobstore_conf blobs;	/* [blobs]: where the blobs' bytes live (blobstore.h) */
};

/* An open archive. Secrets are sodium_malloc'd and wiped on close. */
struct archive {
	char		*path;
	struct conf	 conf;
	int		 lockfd;

	uint8_t		*office_sk;		/* ED25519_SK_LEN, sodium_malloc */
	uint8_t		 office_pk[ED25519_PK_LEN];
	char		 office_hex[2 * ED25519_PK_LEN + 1];
	char		*public_line;		/* "ssh-ed25519 AAAA... NAME" */
	char		*fingerprint;		/* "SHA256:..." */
	uint8_t		*data_key;		/* DATA_KEY_LEN, sodium_malloc */
	uint8_t		*token_key;		/* derived from the data key */

	struct vocab	 vocab;			/* defaults, or as custody.conf sets them */

	pthread_mutex_t	 write_lock;		/* one feed append at a time */
	uint64_t	 serial;		/* tells per-thread handles apart */
	time_t		 started;
	sqlite3		*index_keep;		/* holds an in-memory index alive, or NULL */
	struct epochs	*epochs;		/* later data-key epochs (epochs.h) */
	uint8_t		 sign_pk[ED25519_PK_LEN];	/* office_sk's public key: office_pk (the
						   office's identity, its feed's name) until the
						   office rotates its key (keys-rotate.c) */
	uint8_t		*key_seal;		/* keys/office.key's header and passphrase key,
						   sodium_malloc: a new key is sealed the same way */
	uint8_t		*prev_sk;		/* the key before the last rotation, answering only
						   Noise handshakes dialled to it (keys-rotate.c) */
	int		 has_prev;
	struct blobstore *blobs;		/* the blob store; NULL while an unreachable one is
						   not yet open (archive_blobs opens it again) */
	pthread_mutex_t	 blobs_lock;		/* opening it again */
	time_t		 blobs_tried;		/* when it was last tried */
	char		*blobs_why;		/* why it is not open */
	pthread_mutex_t	 packs_lock;		/* one merge of git packs at a time (archive-packs.c) */
	pthread_mutex_t	 ckpt_lock;		/* the index's checkpoint thread (index-checkpoint.c) */
	pthread_t	 ckpt_thread;
	int		 ckpt_running, ckpt_again, ckpt_joinable;
	int		 sync_fd;		/* the archive's directory, open since the archive is:
						   every archive_sync's syncfs (archive.c) */
	pthread_mutex_t	 sync_lock;		/* one syncfs at a time, and the two below */
	uint64_t	 sync_failed;		/* 1 + the write errors its syncs reported */
	int		 sync_errno;		/* the last of them */
};

/* archive.c */
int archive_create(const char *path, const char *office, const char *passphrase, char **cause);
int archive_open(struct archive **out, const char *path, const char *passphrase, int lock,
    char **cause);
int archive_create_ext(const char *path, const char *office, const char *passphrase, int joining,
    char **cause);
int archive_open_ext(struct archive **out, const char *path, const char *passphrase, int lock,
    int office_only, char **cause);
int archive_index_memory(struct archive *, char **cause);
void archive_close(struct archive *);
char *archive_file(const struct archive *, const char *rel);
/* A new file under tmp/ with no name (O_TMPFILE, else unlinked at once): nothing of it stays on
 * disk whatever happens. The descriptor, or -1. */
int archive_tmpfile(const struct archive *, const char *prefix);
int archive_check_name(const char *office);
int archive_check_id(const char *id);
void archive_token(const struct archive *, uint8_t tok[static TOKEN_LEN], const char *id);
void archive_token_hex(const struct archive *, char hex[static TOKEN_HEX_LEN + 1], const char *id);
git_repository *archive_repo(struct archive *);
sqlite3 *archive_db(struct archive *);
void archive_thread_done(void);
int fsync_dir(const char *path);
int archive_sync(struct archive *);
/*
 * A mark taken before a batch's first write (never 0); archive_sync_since fails if any sync
 * met a write error since, whoever's sync it was.
 */
uint64_t archive_sync_mark(struct archive *);
int archive_sync_since(struct archive *, uint64_t mark);
/*
 * archive-flush.c: the file system synced every ARCHIVE_FLUSH_STEP bytes placed, on a thread
 * of its own, ahead of a batch's commit point; archive_flusher_stop gives the error a sync met.
 */
#define ARCHIVE_FLUSH_STEP (32u << 20)
struct archive_flusher;
int archive_flusher_new(struct archive_flusher **, struct archive *,
    int (*sync)(struct archive *));
void archive_flusher_note(struct archive_flusher *, uint64_t n);
void archive_flusher_kick(struct archive_flusher *);
int archive_flusher_stop(struct archive_flusher *);
unsigned archive_flusher_syncs(struct archive_flusher *);
void archive_flusher_free(struct archive_flusher *);
/*
 * archive-packs.c: past ARCHIVE_PACKS_MAX packs in git/objects/pack the small ones are merged
 * into one (after each commit and sync); a pack or index left alone by a crash goes at start.
 */
#define ARCHIVE_PACKS_MAX 32
int archive_packs_tidy(struct archive *, size_t max, size_t *merged);
void archive_packs_after(struct archive *);
int archive_packs_sweep(struct archive *, unsigned *removed);
int archive_pack_tmpfile(const char *tmpdir, const char *what, char **path);
int archive_pack_place(const char *packdir, int pack_fd, int idx_fd, char **pack_tmp,
    char **idx_tmp, const uint8_t sum[static 20]);
void archive_pack_discard(int pack_fd, int idx_fd, char *pack_tmp, char *idx_tmp);
void archive_packs_merged(void);
void archive_thread_settle(void);
/* Take the single-daemon lock of the archive at path (custodyd.lock): held while *fd is open;
 * CUSTODY_EEXIST when another process holds it. */
int archive_lock(const char *path, int *fd, char **cause);
int archive_sweep_tmp(struct archive *);
/* archive-blobs.c: the archive's blob store, as custody.conf's [blobs] names it. */
int archive_blobs_open(struct archive *, char **cause);
void archive_blobs_close(struct archive *);
/* The open store, opening it again if it was unreachable; NULL with custody_fail's message. */
struct blobstore *archive_blobs(struct archive *);

/* conf.c */
int conf_load(struct conf *, const char *file, char **cause);
int conf_write_default(const char *file, const char *office, const char *admin_user);
void conf_free(struct conf *);
enum role conf_role(const struct conf *, uid_t uid, uid_t daemon_uid);
const char *role_name(enum role);
int conf_reads_protected(const struct conf *, enum role);
/* conf-rewrite.c: set one key of one section of an INI file, or all of it, replaced atomically. */
int conf_rewrite_set(const char *file, const char *section, const char *key, const char *value,
    char **cause);
int conf_rewrite_all(const char *file, const void *p, size_t n);

/* keys.c */
int keys_create(const char *dir, const char *office, const char *passphrase, int joining,
    uint8_t pk[static ED25519_PK_LEN], char **cause);
int keys_write_data(const char *dir, const uint8_t pk[static ED25519_PK_LEN], const uint8_t *dk,
    char **cause);
int keys_reseal_data(struct archive *, const char *name, const uint8_t pk[static ED25519_PK_LEN],
    char **cause);
int keys_load_office(struct archive *, const char *passphrase, char **cause);
#define KEYS_PASSPHRASE_MIN 12	/* characters */
int keys_check_passphrase(const char *passphrase, char **cause);
int keys_load(struct archive *, const char *passphrase, char **cause);
void keys_set_data(struct archive *, const uint8_t *dk);
int keys_wrap(uint8_t *out, const uint8_t *data_key, const uint8_t key[static 32],
    const char *ad);
int keys_unwrap(uint8_t key[static 32], const uint8_t *data_key, const uint8_t *in, size_t len,
    const char *ad);
#define WRAPPED_KEY_LEN (24 + 32 + 16)
int keys_replace_file(const char *dir, const char *name, const void *p, size_t n, char **cause);
int keys_replace_office(const char *dir, const uint8_t *sk, const char *passphrase,
    char **cause);
int keys_seal_again(const struct archive *, const uint8_t *sk, uint8_t *buf, size_t max,
    size_t *n);
int keys_unseal_file(struct archive *, const char *rel, const char *passphrase, uint8_t *sk,
    char **cause);
/* keys-rotate.c: custody keys rotate, and finishing one a crash interrupted. */
int keys_rotate(struct archive *, char **cause);
int keys_rotate_settle(struct archive *, const char *passphrase, char **cause);
int keys_rotate_passwd(struct archive *, const char *new_passphrase, char **cause);
int keys_rotate_pending(const struct archive *);
int keys_rotate_identity(struct archive *);
/* keys-share.c: recovery shares of the office key and data key (libgfshare). */

int keys_share_split(struct archive *, unsigned count, unsigned threshold,
    uint8_t (*out)[SHARE_MAX], size_t *lens);
int keys_share_join(const struct share *, const char *const *names, size_t n,
    const char *office, uint8_t sk[static 64], uint8_t dk[static DATA_KEY_LEN], char **cause);
/* recover.c: custodyd recover; passwd.c: custodyd passwd. */
int recover_archive(const char *path, const char *office, const char *const *shares,
    size_t nshares, const char *passphrase, const char *peer_name, const char *peer_address,
    const char *peer_key, char **cause);
int recover_pending(const struct archive *);
int recover_settle(struct archive *, const char *peer, char **why);
int passwd_open(struct archive **, const char *path, const char *old, char **cause);
int passwd_reseal(struct archive *, const char *new_passphrase, char **cause);

/* blob.c: encrypted evidence files, named by the SHA-256 of their bytes. */
struct blob_info {
	uint8_t		sha256[SHA256_LEN];	/* of the plaintext: the evidence id */
	char		name[SHA256_HEX_LEN + 1];	/* SHA-256 of the stored bytes */
	uint64_t	size;
	uint8_t		key[32];		/* the per-file key (wipe after use) */
	char		tmp[96];		/* a staged file under ARCHIVE/tmp (sync, bundles) */
	struct blobstore_writer *w;		/* or the store's writer (ingest) until committed */
	char		media_type[128];
};
int blob_ingest(struct archive *, struct blob_info *out, int fd);
int blob_commit(struct archive *, struct blob_info *);
void blob_unplace(struct archive *, const struct blob_info *);
void blob_discard(struct archive *, struct blob_info *);
char *blob_path(const struct archive *, const char *name);
int blob_decrypt(struct archive *, const char *name, const uint8_t key[static 32], int outfd,
    uint8_t sha256[static SHA256_LEN], uint64_t *size, uint8_t cipher_sha256[SHA256_LEN]);
int blob_decrypt_cb(struct archive *, const char *name, const uint8_t key[static 32],
    int (*out)(void *, const void *, size_t), void *arg, uint8_t sha256[SHA256_LEN],
    uint64_t *size, uint8_t cipher_sha256[SHA256_LEN]);
/*
 * blob_decrypt_cb with decryption and hashing on two threads of their own: out gets the
 * plaintext in 1 MiB pieces on the caller's thread. size is what the record says; a longer
 * blob fails. sha256 and *got are set on success: compare them with the record.
 */
int blob_stream(struct archive *, const char *name, const uint8_t key[static 32], uint64_t size,
    int (*out)(void *, const void *, size_t), void *arg, uint8_t sha256[static SHA256_LEN],
    uint64_t *got);
int blob_exists(struct archive *, const char *name);

/* record.c: records are JSON, encrypted under a per-record key wrapped by the data key. */
int record_seal_fields(struct archive *, const char *token_hex, json_t *doc);
int record_seal(struct cbuf *out, struct archive *, const char *token_hex, json_t *doc);
int record_seal_text(struct cbuf *out, struct archive *, const char *token_hex,
    const char *kind, const char *json, size_t len);
/* record-rev.c: the "rev" of a commit put into records already encoded */
int record_rev_member(struct cbuf *out, uint64_t lamport, const char *office_hex,
    const char *time, const char *summary);
int record_rev_splice(struct cbuf *out, const char *json, size_t len,
    const struct cbuf *member);
int record_rev_reseal(struct cbuf *out, struct archive *, const char *token_hex,
    const uint8_t *obj, size_t len, uint64_t lamport, const char *time, const char *summary);
void record_content_hash(const struct archive *, const json_t *doc,
    uint8_t out[static TOKEN_LEN]);
#define RECORD_CONTENT_JSON (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
void record_content_hash_json(const struct archive *, const char *json,
    uint8_t out[static TOKEN_LEN]);
void record_name_token(const struct archive *, const char *domain, const char *value,
    uint8_t out[static TOKEN_LEN]);
int record_open(json_t **out, struct archive *, const char *token_hex, const void *obj,
    size_t len, uint8_t *record_key);
void record_field_key(const struct archive *, const char *token_hex, const char *field,
    uint8_t key[static 32]);
#define RECORD_SEALED 0x1		/* record_open_flags: leave protected fields sealed */
#define RECORD_WITHHELD "withheld"	/* what a reader not granted a protected field sees */
int record_open_flags(json_t **out, struct archive *, const char *token_hex, const void *obj,
    size_t len, uint8_t *record_key, unsigned flags);
int record_withhold(json_t *doc);
const char *record_kind(const json_t *doc);
const char *record_id(const json_t *doc);
void record_now(char buf[static 32]);
char *record_random_id(void);

/* feed.c: one signed linear chain of commits per office. */
struct feed_commit {
	git_oid		 oid;
	char		 parent[GIT_OID_HEXSZ + 1];	/* "" for the first commit */
	uint64_t	 seq;
	uint64_t	 lamport;
};
int feed_append(struct archive *, struct feed_commit *out, const char *summary,
    json_t **docs, size_t ndocs);
/*
 * The records of one commit: docs[0..n) held by the caller or, when make is set, each made
 * when it is needed and dropped after, so that a commit of many records never holds them all
 * (record i as a new reference, or NULL when out of memory; make may run on two threads at
 * once, and gives the same record each time it is asked).
 */
struct feed_docs {
	json_t		**docs;
	json_t		*(*make)(void *arg, size_t i);
	void		 *arg;
	size_t		  n;
	uint64_t	  since;	/* or 0: archive_sync_mark() from before what the caller
					   wrote for the commit to make durable (its blobs) */
};
json_t *feed_docs_get(const struct feed_docs *, size_t i);	/* a reference to drop */
int feed_append_docs(struct archive *, struct feed_commit *out, const char *summary,
    const struct feed_docs *);
int feed_head(struct archive *, const char *office_hex, git_oid *oid, uint64_t *seq,
    uint64_t *lamport);
int feed_commit_tree(struct archive *, git_repository *, struct feed_commit *out, git_tree *,
    git_commit *parent, int (*before)(git_repository *, git_odb_backend *), git_odb_backend *,
    uint64_t since);

/*
 * feed-import.c: one commit written as a stream of records in the order of their tokens.
 * written takes the records in the order next gave them, at most FEED_STREAM_AHEAD behind;
 * a record is packed while next gives up to FEED_STREAM_AHEAD more.
 */
#define FEED_STREAM_AHEAD 512
struct feed_stream {
	/*
	 * The next record to write: its object, sealed with its "rev" (kept by next until
	 * 2 * FEED_STREAM_AHEAD more were given), and its token in hex; 1 when none is left
	 * (and next is not called again).
	 */
	int	(*next)(void *arg, const uint8_t **obj, size_t *len,
		    char tok_hex[static TOKEN_HEX_LEN + 1]);
	/*
	 * Whether the objects next gives were sealed for a commit at clock lamport (their
	 * "rev", the newest epoch); if not (or NULL), each is opened and sealed again with
	 * the commit's "rev" (record_rev_reseal). Asked once, before next.
	 */
	int	(*sealed_for)(void *arg, uint64_t lamport);
	/* the record stamped for the commit out (written before its commit point) */
	int	(*written)(void *arg, const struct feed_commit *out, const char *tok_hex);
	void	*arg;
	/* or NULL: called once every record is written, before the pack is completed */
	void	(*done)(void *arg);
	/* or NULL: called last before the commit point; an error stops the commit there */
	int	(*ready)(void *arg);
	uint64_t since;		/* as feed_docs's */
};
int feed_append_sorted(struct archive *, struct feed_commit *out, const char *summary,
    const struct feed_stream *, size_t *written);
int feed_parse_message(const char *msg, uint64_t *seq, uint64_t *lamport, char office_hex[65]);
int feed_check_signature(git_repository *, const git_oid *, const uint8_t pk[static 32]);
int feed_read_record(struct archive *, const char *office_hex, const char *id, json_t **out);
int feed_read_token(struct archive *, const char *office_hex, const char *tok, json_t **out);
int feed_read_at(struct archive *, git_commit *, const char *tok, json_t **out, git_oid *object);
int feed_read_at_flags(struct archive *, git_commit *, const char *tok, json_t **out,
    git_oid *object, unsigned flags);
int feed_cut_back(struct archive *, const char *office_hex, git_commit **c, uint64_t seq);
int feed_current_commit(struct archive *, git_repository *, const char *office_hex,
    git_commit **);
int feed_read_token_flags(struct archive *, const char *office_hex, const char *tok,
    json_t **out, unsigned flags);
int feed_check_token(struct archive *, const char *tok, json_t **out);
int feed_git_fail(int code, const char *what);
char *feed_record_path(const char *token_hex);
char *feed_refname(const char *office_hex);
typedef int (*feed_change_cb)(const char *path, const git_oid *id, int is_tree, void *arg);
/*
 * The objects commit c of a feed brings: the commit and its root tree unless its parent's is
 * the same (path NULL for both), then only the trees and records it changed (a diff against
 * its parent skips unchanged subtrees), so the work follows what changed, not the size of the
 * feed; cb is called for each (never for a removed entry). 0, or an error naming the feed.
 */
int feed_commit_objects(git_repository *, git_commit *c, feed_change_cb cb, void *arg);
/* The pack type (enum packwrite_type) of a feed's object; an error for any other kind. */
int feed_object_packtype(const git_odb_object *, const git_oid *id, int *type);
int feed_tree_changes(git_repository *, git_tree *old, git_tree *new, const char *prefix,
    feed_change_cb, void *arg);
/* feed-clock.c: the highest Lamport clock held, and the next one this office may use. */
int feed_clock_seen(struct archive *, uint64_t *out);
int feed_clock_next(struct archive *, uint64_t *out);
/* feed-summary.c: the opaque subject and author of every feed commit, and its real summary. */
#define FEED_EMAIL	"custody"	/* the author's name is the key fingerprint */
int feed_summary(struct archive *, git_commit *, char **out);

/* records-write.c: commit records that changed (the caller keeps docs). */
struct records_written {
	size_t			written, unchanged;
	int			committed;
	struct feed_commit	commit;
};
int records_write_changed(struct archive *, json_t **docs, size_t n, const char *summary,
    int own, struct records_written *);

/* index.c: the derived SQLite index. */
int index_exec(sqlite3 *, const char *sql, const char *types, ...);
sqlite3_stmt *index_stmt(sqlite3 *, const char *sql);
/*
 * The index names offices by small ids (its offices table): SQL for the key (hex) of the
 * office in column col, and for the id of a key bound as text. Order offices by their keys.
 */
#define INDEX_OFFICE_KEY(col) "(SELECT key FROM offices WHERE id=" col ")"
#define INDEX_OFFICE_ID "(SELECT id FROM offices WHERE key=?)"
int index_put_casualty(struct archive *, sqlite3 *, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, json_t *doc);
int index_witnesses(struct archive *, const char *id, json_t **out);
int index_current_chash(struct archive *, const uint8_t tok[static TOKEN_LEN],
    uint8_t chash[static TOKEN_LEN], char office_hex[65], char kind[16]);
struct index_scan;
int index_scan_new(struct archive *, struct index_scan **);
int index_scan_current(struct index_scan *, const uint8_t tok[static TOKEN_LEN],
    uint8_t chash[static TOKEN_LEN], char office_hex[65], char kind[16]);
void index_scan_pause(struct index_scan *);
void index_scan_free(struct index_scan *);
void index_lookup_cache(struct archive *, int bounded);
int index_sites_counts(struct archive *, const char *const *ids, size_t n, uint64_t *evidence,
    uint64_t *persons);
int index_open(struct archive *, char **cause);
int index_catch_up(struct archive *, int rebuild);
int index_sweep_orphans(struct archive *);
int index_apply_commit(struct archive *, const struct feed_commit *, json_t **docs, size_t n);
int index_apply_docs(struct archive *, const struct feed_commit *, const struct feed_docs *);
/*
 * index_apply_docs in steps, for a commit written as a stream (feed_append_sorted): begin once
 * fc has its seq and parent (at its first record), put each record, end once the commit is
 * made (committed: its rows go in, or the index catches up from git if it was behind) or
 * failed (nothing goes in). Every call returns the first error; end's is the one to report.
 */
struct index_commit {
	struct archive			*a;
	sqlite3				*db;
	const struct feed_commit	*fc;
	int64_t				 office;
	uint64_t			 cut;
	int				 open, behind, settle, error;
};
int index_commit_begin(struct index_commit *, struct archive *, const struct feed_commit *);
int index_commit_put(struct index_commit *, json_t *doc);
int index_commit_end(struct index_commit *, int committed);
int index_import_begin(struct archive *, const struct feed_commit *, size_t n);
int index_import_put_row(struct archive *, const struct feed_commit *,
    const uint8_t tok[static TOKEN_LEN], const char *kind, const uint8_t *row, size_t len,
    const uint8_t chash[static TOKEN_LEN]);
int index_import_end(struct archive *, const struct feed_commit *, int open, int committed);
int index_import_build(sqlite3 *);
void index_checkpoint_later(struct archive *);
void index_checkpoint_wait(struct archive *);
int index_has_evidence(struct archive *, const char *id, int *found);
int index_counts(struct archive *, uint64_t *evidence, uint64_t *records, uint64_t *commits);
int index_record_office(struct archive *, const char *id, char office_hex[65]);
/* index-cuts.c: revoked offices' commits past their cut, left out of the index. */
int index_cuts_of(sqlite3 *, const char *office, uint64_t *seq);
int index_cuts_settle(struct archive *);
/* index-events.c: custody events in causal order, and the items each names. */
#define INDEX_EVENT_TIME_LEN 40
struct index_event_at {		/* a place in that order; all zero: before the first */
	int64_t		lamport;
	char		time[INDEX_EVENT_TIME_LEN];
	uint8_t		tok[TOKEN_LEN];
};
int index_events_put(struct archive *, sqlite3 *, const uint8_t tok[static TOKEN_LEN],
    int64_t office, int64_t lamport, json_t *doc);
int index_events_page(struct archive *, const char *id, struct index_event_at *, size_t max,
    int (*fn)(void *, const char *office, const char *tok), void *arg, int *more);
/* index-counts.c: status's figures, kept by the index. */
int index_blob_bytes(struct archive *, uint64_t *bytes);

/* verify.c */
struct verify_problem {
	char	*item;
	char	*problem;
};
struct verify_result {
	struct verify_problem	*problems;
	size_t			 nproblems;
	uint64_t		 commits, records, blobs;
};
int verify_archive(struct archive *, struct verify_result *);
void verify_result_free(struct verify_result *);

#endif
