/*
 * custodyd recover: rebuild a lost office on a fresh machine from K of its recovery shares.
 * The shares give back the office key and the data key (checked against the key the shares
 * carry); the archive is created around them with the peer pinned, and marked "recovering"
 * (ARCHIVE/recovering) until its own feed is back (recover_settle, after each sync):
 * meanwhile the office takes its own feed from its peers (verified by its own key,
 * fast-forward only) and writes nothing of its own, so that its next commit extends the feed
 * where the others saw it end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "log.h"
#include "peers.h"
#include "revocations.h"

#define RECOVER_MARK "recovering"

/* Read and check one share file. */
static int
recover_read_share(struct share *s, const char *file, char **cause)
{
	char buf[SHARE_TEXT_MAX + 1];
	struct stat st;
	ssize_t r;
	int fd;

	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		custody_cause(cause, "cannot open share %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		custody_cause(cause, "share %s is not a regular file", file);
		return CUSTODY_EINVAL;
	}
	r = read_full(fd, buf, sizeof buf);
	close(fd);
	if (r < 0) {
		custody_cause(cause, "cannot read share %s: %s", file, strerror(errno));
		return CUSTODY_EIO;
	}
	if ((size_t)r > SHARE_TEXT_MAX || share_parse(s, buf, (size_t)r) < 0) {
		custody_cause(cause, "share %s is refused: %s", file, (size_t)r > SHARE_TEXT_MAX ?
		    "damaged share (too long)" : custody_error());
		sodium_memzero(buf, sizeof buf);
		return CUSTODY_EINVAL;
	}
	sodium_memzero(buf, sizeof buf);
	return 0;
}

/* Put the recovered keys in place of the ones archive creation made. */
static int
recover_keys(const char *path, const char *office, const uint8_t *sk, const uint8_t *dk,
    const char *passphrase, char **cause)
{
	char dir[4096], *line = NULL, *pub = NULL;
	uint8_t pk[ED25519_PK_LEN];
	int error;

	snprintf(dir, sizeof dir, "%s/keys", path);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	if ((error = keys_replace_office(dir, sk, passphrase, cause)) < 0)
		return error;
	if ((error = sshkey_format_pub(&line, pk, office)) < 0 ||
	    asprintf(&pub, "%s\n", line) < 0) {
		free(line);
		return error < 0 ? error : CUSTODY_ENOMEM;
	}
	if ((error = keys_replace_file(dir, "office.pub", pub, strlen(pub), cause)) == 0 &&
	    (error = keys_write_data(dir, pk, dk, cause)) == 0 && fsync_dir(dir) < 0) {
		custody_cause(cause, "cannot sync %s", dir);
		error = CUSTODY_EIO;
	}
	free(line);
	free(pub);
	return error;
}

/* The --peer words, checked before anything is written. */
static int
recover_check_peer(const char *name, const char *address, const char *key, char **cause)
{
	uint8_t pk[ED25519_PK_LEN];
	char host[256], port[8], *comment = NULL;

	if (archive_check_name(name) < 0) {
		custody_cause(cause, "--peer: '%s' is not a valid office name", name);
		return CUSTODY_EINVAL;
	}
	if (peers_split_address(host, sizeof host, port, sizeof port, address) < 0) {
		custody_cause(cause, "--peer %s: %s", name, custody_error());
		return CUSTODY_EINVAL;
	}
	if (sshkey_parse_pub(pk, &comment, key) < 0) {
		custody_cause(cause, "--peer %s: '%s' is not an ssh-ed25519 public key", name, key);
		return CUSTODY_EINVAL;
	}
	free(comment);
	return 0;
}

/* Pin the peer to take the feeds from. */
static int
recover_peer(struct archive *a, const char *name, const char *address, const char *key,
    char **cause)
{
	uint8_t pk[ED25519_PK_LEN];
	char *comment = NULL;
	int error;

	if ((error = sshkey_parse_pub(pk, &comment, key)) < 0) {
		custody_cause(cause, "--peer %s: '%s' is not an ssh-ed25519 public key", name, key);
		return error;
	}
	free(comment);
	if ((error = peers_init(a)) < 0 || (error = peers_add(a, name, address, pk)) < 0)
		custody_cause(cause, "--peer %s: %s", name, custody_error());
	peers_shutdown();
	return error;
}

int
recover_archive(const char *path, const char *office, const char *const *files,
    size_t nfiles, const char *passphrase, const char *peer_name, const char *peer_address,
    const char *peer_key, char **cause)
{
	struct share *s = NULL;
	struct archive *a = NULL;
	uint8_t *sk = NULL, *dk = NULL;
	char lk[LOG_KEY_LEN];
	size_t i;
	int error = CUSTODY_ENOMEM;

	if (nfiles == 0 || nfiles > 255) {
		custody_cause(cause, "give the shares with --share FILE (up to 255)");
		return CUSTODY_EINVAL;
	}
	if (passphrase != NULL && (error = keys_check_passphrase(passphrase, cause)) < 0)
		return error;
	if (peer_name != NULL && (error = recover_check_peer(peer_name, peer_address, peer_key,
	    cause)) < 0)
		return error;	/* before anything is created */
	if ((s = sodium_allocarray(nfiles, sizeof *s)) == NULL ||
	    (sk = sodium_malloc(ED25519_SK_LEN)) == NULL ||
	    (dk = sodium_malloc(DATA_KEY_LEN)) == NULL)
		goto done;
	for (i = 0; i < nfiles; i++)
		if ((error = recover_read_share(&s[i], files[i], cause)) < 0)
			goto done;
	if ((error = keys_share_join(s, files, nfiles, office, sk, dk, cause)) < 0)
		goto done;
	/* every check has passed: only now is anything written */
	if ((error = archive_create_ext(path, office, passphrase, 1, cause)) < 0 ||
	    (error = keys_replace_file(path, RECOVER_MARK, "recovering\n", 11, cause)) < 0 ||
	    (error = recover_keys(path, office, sk, dk, passphrase, cause)) < 0)
		goto done;
	if ((error = archive_open(&a, path, passphrase, 1, cause)) < 0)
		goto done;
	if (peer_name != NULL &&
	    (error = recover_peer(a, peer_name, peer_address, peer_key, cause)) < 0)
		goto done;
	log_info("office %s recovered (key %s) from %zu shares: run the daemon and sync with a "
	    "peer to bring back the feeds and evidence", office, log_key(lk, s[0].pk), nfiles);
	error = 0;
done:
	if (a != NULL)
		archive_close(a);
	sodium_free(s);
	sodium_free(sk);
	sodium_free(dk);
	return error;
}

/* Whether the office is still waiting for its own feed from a peer. */
int
recover_pending(const struct archive *a)
{
	char *file = archive_file(a, RECOVER_MARK);
	int pending = access(file, F_OK) == 0;

	free(file);
	return pending;
}

/* The office's own feed is back: it writes its own feed again. */
static int
recover_done(struct archive *a)
{
	char *file = archive_file(a, RECOVER_MARK);
	int error = 0;

	if (unlink(file) != 0 && errno != ENOENT)
		error = custody_fail(CUSTODY_EIO, "cannot remove %s: %s", file, strerror(errno));
	else if (fsync_dir(a->path) < 0)
		error = custody_fail(CUSTODY_EIO, "cannot sync %s", a->path);
	free(file);
	return error;
}

/*
 * After a sync while recovering: the marker is removed once the office's own feed is back,
 * that is once this archive holds it at least as far as any other office witnessed it (its
 * next commit then extends the feed where the others saw it end, never starts it again at
 * seq 1). Until then *why says what is missing (caller frees) and nothing is written.
 */
int
recover_settle(struct archive *a, const char *peer, char **why)
{
	uint64_t seq = 0, lamport, seen = 0;
	char lk[LOG_KEY_LEN];
	git_oid head;
	int error, have;

	*why = NULL;
	if (!recover_pending(a))
		return 0;
	if ((error = feed_head(a, a->office_hex, &head, &seq, &lamport)) < 0 &&
	    error != CUSTODY_ENOTFOUND)
		return error;
	have = error == 0;
	if ((error = revocations_default_seq(a, a->office_pk, &seen)) < 0)
		return error;
	if (!have) {
		if (asprintf(why, "still recovering: %s holds none of this office's own feed; sync "
		    "with a peer that does, before this office writes anything", peer) < 0)
			*why = NULL;
		return 0;
	}
	if (seq < seen) {
		if (asprintf(why, "still recovering: this office's own feed is back up to its "
		    "commit %" PRIu64 ", but other offices witnessed it up to %" PRIu64 "; sync "
		    "with a peer that holds the rest, before this office writes anything", seq,
		    seen) < 0)
			*why = NULL;
		return 0;
	}
	if ((error = recover_done(a)) < 0)
		return error;
	log_info("office %s recovered: its own feed is back up to its commit %" PRIu64
	    ", where it goes on", log_key(lk, a->office_pk), seq);
	return 0;
}
