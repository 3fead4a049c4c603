/*
 * custody keys rotate: the office moves its feed to a new Ed25519 key (handover.h).
 *
 * The steps, in an order a crash cannot hurt:
 *  1. beside the key files, each new one: keys/office.key.next (the new key, sealed like
 *     office.key: the same salt, Argon2id limits and passphrase), keys/data.key.next and
 *     keys/epochs.key.next (the data key and every epoch key sealed to the new key: written
 *     here beside the old file, where epochs_reseal writes in place), and
 *     keys/identity (the office's original key, which names its feed), all durable;
 *  2. the handover commit, signed by the old key, naming the new key: the commit point;
 *  3. each .next file renamed over the old one, the directory synced; the new key signs.
 * A restart with office.key.next present (keys_rotate_settle) looks for the handover in the
 * office's own feed: there, it finishes step 3; absent, it removes the .next files and the
 * office goes on with its old key. The old key is not kept: the handover commit holds its
 * public half as evidence, and a copy of its secret half would let whoever reads this disk
 * speak for the office to peers that have not seen the handover yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "epochs.h"
#include "handover.h"
#include "log.h"

#define EP_MAGIC "CUSTEP01"	/* keys/epochs.key (epochs.c) */
#define EP_SEALED (crypto_box_SEALBYTES + 32)
#define EP_ENTRY (4 + 32 + EP_SEALED)
#define EP_FILE_MAX (8 + 4096 * EP_ENTRY)

static const char *const keys_rotate_files[] = { "office.key.prev", "office.key", "data.key",
    "epochs.key" };
#define KEYS_ROTATE_FILES 4

/* Does keys/name exist? */
static int
keys_rotate_exists(const struct archive *a, const char *name)
{
	char *path = archive_file(a, name);
	struct stat st;
	int r;

	r = path != NULL && lstat(path, &st) == 0;
	free(path);
	return r;
}

/*
 * keys/epochs.key.next: every epoch key of keys/epochs.key opened with the office's current
 * key and sealed to pk. A minimal reseal of the file as it is on disk (the caller holds the
 * write lock, so no epoch arrives meanwhile).
 */
static int
keys_rotate_epochs(struct archive *a, const uint8_t pk[static ED25519_PK_LEN], char **cause)
{
	uint8_t *buf = NULL, *xsk = NULL, key[32], oxpk[32], nxpk[32], *p;
	char *path = archive_file(a, "keys/epochs.key"), *dir = archive_file(a, "keys");
	size_t len = 0, i;
	FILE *f = NULL;
	int error = CUSTODY_ENOMEM;

	if (path == NULL || dir == NULL || (buf = malloc(EP_FILE_MAX + 1)) == NULL ||
	    (xsk = sodium_malloc(32)) == NULL)
		goto done;
	error = CUSTODY_EIO;
	if ((f = fopen(path, "rbe")) == NULL) {
		custody_cause(cause, "cannot open %s: %s", path, strerror(errno));
		goto done;
	}
	len = fread(buf, 1, EP_FILE_MAX + 1, f);
	if (len < 8 || len > EP_FILE_MAX || (len - 8) % EP_ENTRY != 0 ||
	    memcmp(buf, EP_MAGIC, 8) != 0) {
		custody_cause(cause, "%s is not a custody epoch key file", path);
		error = CUSTODY_EINVAL;
		goto done;
	}
	crypto_sign_ed25519_sk_to_curve25519(xsk, a->office_sk);
	crypto_scalarmult_base(oxpk, xsk);
	if (crypto_sign_ed25519_pk_to_curve25519(nxpk, pk) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "the new key has no X25519 form");
		goto done;
	}
	for (i = 0, p = buf + 8; i < (len - 8) / EP_ENTRY; i++, p += EP_ENTRY) {
		if (crypto_box_seal_open(key, p + 36, EP_SEALED, oxpk, xsk) != 0) {
			custody_cause(cause, "%s: an epoch key is not sealed to this office's key", path);
			error = CUSTODY_ECRYPTO;
			goto done;
		}
		crypto_box_seal(p + 36, key, 32, nxpk);
		sodium_memzero(key, sizeof key);
	}
	error = keys_replace_file(dir, "epochs.key.next", buf, len, cause);
done:
	if (f != NULL)
		fclose(f);
	if (buf != NULL)
		sodium_memzero(buf, EP_FILE_MAX + 1);
	free(buf);
	sodium_free(xsk);
	free(path);
	free(dir);
	return error;
}

/* Step 1: the new key files beside the old ones, and keys/identity. */
static int
keys_rotate_prepare(struct archive *a, const uint8_t *sk, const uint8_t pk[static 32],
    char **cause)
{
	uint8_t buf[256];
	char *dir = archive_file(a, "keys"), line[2 * ED25519_PK_LEN + 2];
	size_t n;
	int error;

	if (dir == NULL)
		return CUSTODY_ENOMEM;
	if ((error = keys_seal_again(a, a->office_sk, buf, sizeof buf, &n)) < 0 ||
	    (error = keys_replace_file(dir, "office.key.prev.next", buf, n, cause)) < 0 ||
	    (error = keys_seal_again(a, sk, buf, sizeof buf, &n)) < 0 ||
	    (error = keys_replace_file(dir, "office.key.next", buf, n, cause)) < 0 ||
	    (error = keys_reseal_data(a, "data.key.next", pk, cause)) < 0)
		goto done;
	if (keys_rotate_exists(a, "keys/epochs.key") &&
	    (error = keys_rotate_epochs(a, pk, cause)) < 0)
		goto done;
	if (!keys_rotate_exists(a, "keys/identity")) {
		hex_encode(line, a->office_pk, ED25519_PK_LEN);
		strcat(line, "\n");
		error = keys_replace_file(dir, "identity", line, strlen(line), cause);
	}
done:
	sodium_memzero(buf, sizeof buf);
	free(dir);
	return error;
}

/* Step 3: the .next files over the old ones, durably. */
static int
keys_rotate_install(struct archive *a, char **cause)
{
	char from[64], *src, *dst, *dir = archive_file(a, "keys");
	size_t i;
	int error = 0;

	for (i = 0; i < KEYS_ROTATE_FILES && error == 0 && dir != NULL; i++) {
		snprintf(from, sizeof from, "keys/%s.next", keys_rotate_files[i]);
		if (!keys_rotate_exists(a, from))
			continue;
		src = archive_file(a, from);
		snprintf(from, sizeof from, "keys/%s", keys_rotate_files[i]);
		dst = archive_file(a, from);
		if (src == NULL || dst == NULL)
			error = CUSTODY_ENOMEM;
		else if (rename(src, dst) != 0) {
			custody_cause(cause, "cannot replace %s: %s", dst, strerror(errno));
			error = CUSTODY_EIO;
		}
		free(src);
		free(dst);
	}
	if (dir == NULL)
		return CUSTODY_ENOMEM;
	if (error == 0 && fsync_dir(dir) < 0) {
		custody_cause(cause, "cannot sync %s: %s", dir, strerror(errno));
		error = CUSTODY_EIO;
	}
	free(dir);
	return error;
}

/* Remove the .next files of a rotation that never committed. */
static void
keys_rotate_discard(struct archive *a)
{
	char rel[64], *path;
	size_t i;

	for (i = 0; i < KEYS_ROTATE_FILES; i++) {
		snprintf(rel, sizeof rel, "keys/%s.next", keys_rotate_files[i]);
		if ((path = archive_file(a, rel)) != NULL && unlink(path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
		free(path);
	}
}

/* Make the new key this office's signing key in memory, the old one its previous key. */
static void
keys_rotate_switch(struct archive *a, const uint8_t *sk)
{
	if (a->prev_sk != NULL) {
		memcpy(a->prev_sk, a->office_sk, ED25519_SK_LEN);
		a->has_prev = 1;
	}
	memcpy(a->office_sk, sk, ED25519_SK_LEN);
	crypto_sign_ed25519_sk_to_pk(a->sign_pk, a->office_sk);
}

int
keys_rotate(struct archive *a, char **cause)
{
	uint8_t pk[ED25519_PK_LEN], *sk = sodium_malloc(ED25519_SK_LEN);
	char id[ID_MAX + 1], from[65], to[65], now[32];
	struct feed_commit fc;
	json_t *doc = NULL;
	int error;

	if (sk == NULL)
		return CUSTODY_ENOMEM;
	pthread_mutex_lock(&a->write_lock);
	crypto_sign_keypair(pk, sk);
	keys_rotate_discard(a);
	if ((error = keys_rotate_prepare(a, sk, pk, cause)) < 0)
		goto fail;
	handover_id(id, pk);
	hex_encode(from, a->sign_pk, ED25519_PK_LEN);
	hex_encode(to, pk, ED25519_PK_LEN);
	record_now(now);
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "handover", "id", id, "from", from,
	    "to", to, "time", now)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto fail;
	}
	/* the commit point: the old key signs the handover */
	if ((error = feed_append(a, &fc, "key handover", &doc, 1)) < 0)
		goto fail;
	if (index_apply_commit(a, &fc, &doc, 1) < 0)
		log_warn("index update failed (%s); it catches up at the next start",
		    custody_error());
	/* from here on only the new key may sign, whatever the files say */
	keys_rotate_switch(a, sk);
	if ((error = keys_rotate_install(a, cause)) < 0) {
		log_warn("the handover is committed but the key files are not in place (%s): "
		    "the next start finishes it", *cause ? *cause : custody_error());
		free(*cause);
		*cause = NULL;
		error = 0;
	} else
		log_info("the office key is rotated: its feed goes on under the new key "
		    "(handover at commit %llu)", (unsigned long long)fc.seq);
	/* an epoch taken in since step 1 is in memory only: the keyring again, under the new key */
	if (error == 0 && epochs_reseal(a, a->office_sk, cause) < 0) {
		log_warn("the data-key epochs are not resealed to the new key (%s): a reindex takes "
		    "them back", *cause ? *cause : custody_error());
		free(*cause);
		*cause = NULL;
	}
	goto done;
fail:
	keys_rotate_discard(a);
done:
	pthread_mutex_unlock(&a->write_lock);
	json_decref(doc);
	sodium_free(sk);
	return error;
}

/* keys/office.key.prev, if the office rotated: its previous key, for Noise only. */
static int
keys_rotate_prev(struct archive *a, const char *passphrase, char **cause)
{
	int error;

	if (!keys_rotate_exists(a, "keys/office.key.prev"))
		return 0;
	/* it only answers peers that have not seen the handover: an office starts without it */
	if ((error = keys_unseal_file(a, "keys/office.key.prev", passphrase, a->prev_sk,
	    cause)) < 0) {
		log_warn("the office's previous key does not open (%s): peers that have not seen "
		    "its handover cannot reach it", *cause ? *cause : custody_error());
		free(*cause);
		*cause = NULL;
		return 0;
	}
	a->has_prev = 1;
	return 0;
}

/* Is a key rotation interrupted (new key files beside the old ones, not settled yet)? */
int
keys_rotate_pending(const struct archive *a)
{
	return keys_rotate_exists(a, "keys/office.key.next");
}

/*
 * custodyd passwd, after office.key is sealed under the new passphrase: keys/office.key.prev
 * sealed the same way (a is open with the old passphrase, the office key only). One that does
 * not open is dropped: it only answers peers that have not seen the handover.
 */
int
keys_rotate_passwd(struct archive *a, const char *new_passphrase, char **cause)
{
	uint8_t *sk = NULL, *cur = NULL, buf[256];
	char *dir = NULL, *path = NULL;
	size_t n;
	int error = CUSTODY_ENOMEM;

	if (!keys_rotate_exists(a, "keys/office.key.prev"))
		return 0;
	if ((sk = sodium_malloc(ED25519_SK_LEN)) == NULL ||
	    (cur = sodium_malloc(ED25519_SK_LEN)) == NULL ||
	    (dir = archive_file(a, "keys")) == NULL || (path = archive_file(a,
	    "keys/office.key.prev")) == NULL)
		goto done;
	if (keys_unseal_file(a, "keys/office.key.prev", NULL, sk, cause) < 0) {
		log_warn("the office's previous key does not open (%s): removed", *cause ?
		    *cause : custody_error());
		free(*cause);
		*cause = NULL;
		error = unlink(path) == 0 ? 0 : custody_fail(CUSTODY_EIO, "cannot remove %s",
		    path);
		goto done;
	}
	/* the new office.key's sealing, to seal the previous key the same way */
	if ((error = keys_unseal_file(a, "keys/office.key", new_passphrase, cur, cause)) < 0 ||
	    (error = keys_seal_again(a, sk, buf, sizeof buf, &n)) < 0)
		goto done;
	error = keys_replace_file(dir, "office.key.prev", buf, n, cause);
	sodium_memzero(buf, sizeof buf);
done:
	sodium_free(sk);
	sodium_free(cur);
	free(dir);
	free(path);
	return error;
}

int
keys_rotate_settle(struct archive *a, const char *passphrase, char **cause)
{
	uint8_t pk[ED25519_PK_LEN], from[ED25519_PK_LEN], to[ED25519_PK_LEN], *sk;
	char id[ID_MAX + 1];
	json_t *doc = NULL;
	int error, done;

	if (a->prev_sk == NULL && (a->prev_sk = sodium_malloc(ED25519_SK_LEN)) == NULL)
		return CUSTODY_ENOMEM;
	if (!keys_rotate_exists(a, "keys/office.key.next")) {
		keys_rotate_discard(a);
		return keys_rotate_prev(a, passphrase, cause);
	}
	if ((sk = sodium_malloc(ED25519_SK_LEN)) == NULL)
		return CUSTODY_ENOMEM;
	if ((error = keys_unseal_file(a, "keys/office.key.next", passphrase, sk, cause)) < 0)
		goto out;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	handover_id(id, pk);
	error = feed_read_record(a, a->office_hex, id, &doc);
	if (error < 0 && error != CUSTODY_ENOTFOUND) {
		custody_cause(cause, "an interrupted key rotation: cannot read this office's feed: %s",
		    custody_error());
		goto out;
	}
	done = error == 0 && handover_parse(doc, from, to) == 0 &&
	    memcmp(to, pk, ED25519_PK_LEN) == 0;
	error = 0;
	if (!done) {
		log_info("a key rotation was interrupted before its handover: the office keeps "
		    "its key");
		keys_rotate_discard(a);
		error = keys_rotate_prev(a, passphrase, cause);
		goto out;
	}
	if ((error = keys_rotate_install(a, cause)) < 0)
		goto out;
	keys_rotate_switch(a, sk);
	log_info("a key rotation interrupted after its handover is finished: the office signs "
	    "with its new key");
out:
	json_decref(doc);
	sodium_free(sk);
	return error;
}

/*
 * After a recovery's first sync: recovery shares made since a rotation give back the new key,
 * which names no feed. When this office's own feed is not held and a feed held here was handed
 * over to this office's key, that feed is this office's: keys/identity is written to name it,
 * for the next start (after a reindex, which takes in the epochs sealed to this office under
 * that name). 1 when written, 0 when there is nothing to do, or an error.
 */
int
keys_rotate_identity(struct archive *a)
{
	git_reference_iterator *it = NULL;
	uint8_t pk[ED25519_PK_LEN], cur[ED25519_PK_LEN];
	const char *name;
	char *dir = NULL, *cause = NULL, *pub = NULL, *publine = NULL;
	char line[2 * ED25519_PK_LEN + 2];
	git_oid oid;
	int error = 0, found = 0;

	if (keys_rotate_exists(a, "keys/identity") ||
	    feed_head(a, a->office_hex, &oid, &(uint64_t){ 0 }, &(uint64_t){ 0 }) == 0)
		return 0;
	if (git_reference_iterator_glob_new(&it, archive_repo(a), FEEDFMT_REF_GLOB) < 0)
		return custody_fail(CUSTODY_EIO, "cannot list the feeds");
	while (!found && git_reference_next_name(&name, it) == 0) {
		if ((name = feedfmt_ref_office(name)) == NULL ||
		    hex_decode(pk, sizeof pk, name) < 0 ||
		    handover_current(a, pk, cur) < 0)
			continue;
		if (memcmp(pk, cur, ED25519_PK_LEN) != 0 &&
		    memcmp(cur, a->sign_pk, ED25519_PK_LEN) == 0) {
			snprintf(line, sizeof line, "%s\n", name);
			found = 1;
		}
	}
	git_reference_iterator_free(it);
	if (!found)
		return 0;
	if ((dir = archive_file(a, "keys")) == NULL)
		return CUSTODY_ENOMEM;
	error = keys_replace_file(dir, "identity", line, strlen(line), &cause);
	/* keys/office.pub names the office's identity too */
	if (error == 0 && sshkey_format_pub(&pub, pk, a->conf.office) == 0 &&
	    asprintf(&publine, "%s\n",
	    pub) > 0)
		error = keys_replace_file(dir, "office.pub", publine, strlen(publine), &cause);
	free(pub);
	free(publine);
	free(dir);
	if (error < 0) {
		error = custody_fail(error, "%s", cause ? cause : "cannot write keys/identity");
		free(cause);
		return error;
	}
	log_info("this office's key was handed over to in feed %.16s: that feed is this "
	    "office's; stop the daemon, run custodyd reindex (the data-key epochs sealed to it "
	    "are taken in then) and start it again", line);
	return 1;
}
