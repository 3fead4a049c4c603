/*
 * The office key and the archive data key.
 *
 * keys/office.key: "CUSTKEY1", a mode byte (0 plain, 1 sealed), then either the 64-byte
 * Ed25519 secret key or salt[16], opslimit u64, memlimit u64, nonce[24] and the key sealed with
 * XChaCha20-Poly1305 under an Argon2id key of the passphrase (the header is the AD). New keys
 * use libsodium's MODERATE limits (the key is unsealed once per start); a key is opened with
 * the limits stored in it, so keys sealed with the earlier INTERACTIVE limits still open.
 * keys/data.key: "CUSTDK01" and the data key sealed (crypto_box_seal) to the office key
 * converted to X25519; absent until a joining office has joined (daemon/engine/join.c).
 * keys/office.pub: the OpenSSH public key line of the office's identity (its first key).
 * keys/identity: that key in hex, once the office has rotated its key (keys-rotate.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"

#define KEY_MAGIC "CUSTKEY1"
#define DK_MAGIC "CUSTDK01"
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_HDR_LEN (8 + 1 + SALT_LEN + 8 + 8 + NONCE_LEN)
#define SEALED_KEY_LEN (KEY_HDR_LEN + ED25519_SK_LEN + TAG_LEN)
#define PLAIN_KEY_LEN (8 + 1 + ED25519_SK_LEN)
#define DK_FILE_LEN (8 + crypto_box_SEALBYTES + DATA_KEY_LEN)
#define KEY_OPSLIMIT crypto_pwhash_OPSLIMIT_MODERATE
#define KEY_MEMLIMIT crypto_pwhash_MEMLIMIT_MODERATE

/* Create a file that must not exist, mode 0600, and write it durably. */
static int
keys_write_file(const char *dir, const char *name, const void *p, size_t n, char **cause)
{
	char path[4096];
	int fd, error;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		custody_cause(cause, "cannot create %s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	if ((error = write_all(fd, p, n)) == 0 && fsync(fd) != 0)
		error = CUSTODY_EIO;
	if (close(fd) != 0 && error == 0)
		error = CUSTODY_EIO;
	if (error < 0)
		custody_cause(cause, "cannot write %s: %s", path, strerror(errno));
	return error;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Write keys/data.key: the data key sealed to the office key pk (the file must not exist). */
int
keys_write_data(const char *dir, const uint8_t pk[static ED25519_PK_LEN], const uint8_t *dk,
    char **cause)
{
	uint8_t dkf[DK_FILE_LEN], xpk[32];

	memcpy(dkf, DK_MAGIC, 8);
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0) {
		custody_cause(cause, "the office key cannot be converted to X25519");
		return CUSTODY_ECRYPTO;
	}
	crypto_box_seal(dkf + 8, dk, DATA_KEY_LEN, xpk);
	return keys_write_file(dir, "data.key", dkf, sizeof dkf, cause);
}

/* Replace keys/name with the data key sealed to the office key pk (a key rotation's). */
int
keys_reseal_data(struct archive *a, const char *name, const uint8_t pk[static ED25519_PK_LEN],
    char **cause)
{
	uint8_t dkf[DK_FILE_LEN], xpk[32];
	char *dir;
	int error;

	memcpy(dkf, DK_MAGIC, 8);
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0) {
		custody_cause(cause, "the new office key cannot be converted to X25519");
		return CUSTODY_ECRYPTO;
	}
	crypto_box_seal(dkf + 8, a->data_key, DATA_KEY_LEN, xpk);
	if ((dir = archive_file(a, "keys")) == NULL)
		return CUSTODY_ENOMEM;
	error = keys_replace_file(dir, name, dkf, sizeof dkf, cause);
	free(dir);
	return error;
}

/* Refuse a passphrase of fewer than KEYS_PASSPHRASE_MIN characters (UTF-8 code points). */
int
keys_check_passphrase(const char *passphrase, char **cause)
{
	size_t n = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)passphrase; *p != '\0'; p++)
		n += (*p & 0xc0) != 0x80;
	if (n >= KEYS_PASSPHRASE_MIN)
		return 0;
	custody_cause(cause, "the passphrase has %zu character%s: it needs at least %d, as it alone "
	    "protects the office key on a seized disk", n, n == 1 ? "" : "s",
	    KEYS_PASSPHRASE_MIN);
	return CUSTODY_EINVAL;
}

/*
 * The contents of keys/office.key for sk: sealed under passphrase with Argon2id MODERATE
 * (the limits stored in the header), or plain when passphrase is NULL.
 */
static int
keys_seal_office(uint8_t buf[static SEALED_KEY_LEN], size_t *n, const uint8_t *sk,
    const char *passphrase, char **cause)
{
	uint64_t ops = KEY_OPSLIMIT, mem = KEY_MEMLIMIT;
	uint8_t *kek;

	memcpy(buf, KEY_MAGIC, 8);
	if (passphrase == NULL) {
		buf[8] = 0;
		memcpy(buf + 9, sk, ED25519_SK_LEN);
		*n = PLAIN_KEY_LEN;
		return 0;
	}
	if ((kek = sodium_malloc(32)) == NULL)
		return CUSTODY_ENOMEM;
	buf[8] = 1;
	randombytes_buf(buf + 9, SALT_LEN);
	put_u64(buf + 9 + SALT_LEN, ops);
	put_u64(buf + 17 + SALT_LEN, mem);
	randombytes_buf(buf + 25 + SALT_LEN, NONCE_LEN);
	if (crypto_pwhash(kek, 32, passphrase, strlen(passphrase), buf + 9, ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		custody_cause(cause, "not enough memory to derive the passphrase key");
		sodium_free(kek);
		return CUSTODY_ENOMEM;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + KEY_HDR_LEN, NULL, sk, ED25519_SK_LEN,
	    buf, KEY_HDR_LEN, NULL, buf + 25 + SALT_LEN, kek);
	sodium_free(kek);
	*n = SEALED_KEY_LEN;
	return 0;
}

/*
 * Replace dir/name with p[0..n) atomically: a new file beside it, fsynced, renamed over the
 * old one, the directory fsynced. There is never a moment without one whole file.
 */
int
keys_replace_file(const char *dir, const char *name, const void *p, size_t n, char **cause)
{
	char tmp[256], path[4096];
	int error;

	snprintf(tmp, sizeof tmp, "%s.new", name);
	snprintf(path, sizeof path, "%s/%s", dir, tmp);
	if (unlink(path) != 0 && errno != ENOENT) {	/* left by an interrupted change */
		custody_cause(cause, "cannot remove %s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	if ((error = keys_write_file(dir, tmp, p, n, cause)) < 0) {
		unlink(path);
		return error;
	}
	snprintf(tmp, sizeof tmp, "%s/%s", dir, name);
	if (rename(path, tmp) != 0) {
		custody_cause(cause, "cannot replace %s: %s", tmp, strerror(errno));
		unlink(path);
		return CUSTODY_EIO;
	}
	if (fsync_dir(dir) < 0) {
		custody_cause(cause, "cannot sync %s: %s", dir, strerror(errno));
		return CUSTODY_EIO;
	}
	return 0;
}

/* Seal sk under passphrase (NULL: none) and put it in place of dir/name. */
static int
keys_replace_sealed(const char *dir, const char *name, const uint8_t *sk,
    const char *passphrase, char **cause)
{
	uint8_t buf[SEALED_KEY_LEN];
	size_t n;
	int error;

	if (passphrase != NULL && (error = keys_check_passphrase(passphrase, cause)) < 0)
		return error;
	if ((error = keys_seal_office(buf, &n, sk, passphrase, cause)) == 0)
		error = keys_replace_file(dir, name, buf, n, cause);
	sodium_memzero(buf, sizeof buf);
	return error;
}

/* Seal sk under passphrase (NULL: none) and put it in place of dir/office.key. */
int
keys_replace_office(const char *dir, const uint8_t *sk, const char *passphrase, char **cause)
{
	return keys_replace_sealed(dir, "office.key", sk, passphrase, cause);
}

/* Make the office key pair and (unless joining) the data key in dir (the archive's keys/). */
int
keys_create(const char *dir, const char *office, const char *passphrase, int joining,
    uint8_t pk[static ED25519_PK_LEN], char **cause)
{
	uint8_t *sk, *dk, buf[SEALED_KEY_LEN];
	char *line = NULL, *pubfile = NULL;
	size_t n;
	int error = CUSTODY_ENOMEM;

	if (passphrase != NULL && (error = keys_check_passphrase(passphrase, cause)) < 0)
		return error;
	error = CUSTODY_ENOMEM;

	sk = sodium_malloc(ED25519_SK_LEN);
	dk = sodium_malloc(DATA_KEY_LEN);
	if (sk == NULL || dk == NULL)
		goto done;
	crypto_sign_keypair(pk, sk);
	randombytes_buf(dk, DATA_KEY_LEN);

	if ((error = keys_seal_office(buf, &n, sk, passphrase, cause)) < 0)
		goto done;
	if ((error = keys_write_file(dir, "office.key", buf, n, cause)) < 0)
		goto done;

	if (!joining && (error = keys_write_data(dir, pk, dk, cause)) < 0)
		goto done;

	if ((error = sshkey_format_pub(&line, pk, office)) < 0)
		goto done;
	if ((pubfile = malloc(strlen(line) + 2)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	sprintf(pubfile, "%s\n", line);
	error = keys_write_file(dir, "office.pub", pubfile, strlen(pubfile), cause);
done:
	sodium_memzero(buf, sizeof buf);
	sodium_free(sk);
	sodium_free(dk);
	free(line);
	free(pubfile);
	return error;
}

/* Read a whole key file after checking it is private to its owner. */
static int
keys_read_file(const char *path, uint8_t *buf, size_t max, size_t *len, char **cause)
{
	struct stat st;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ELOOP)
			custody_cause(cause, "%s is a symbolic link; refusing to use it", path);
		else
			custody_cause(cause, "cannot open %s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		custody_cause(cause, "%s is not a regular file", path);
		close(fd);
		return CUSTODY_EINVAL;
	}
	if (st.st_mode & 077) {
		custody_cause(cause, "%s is readable or writable by group or others (mode %04o); "
		    "fix with: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return CUSTODY_EPERM;
	}
	r = read_full(fd, buf, max);
	close(fd);
	if (r < 0) {
		custody_cause(cause, "cannot read %s: %s", path, strerror(errno));
		return CUSTODY_EIO;
	}
	*len = (size_t)r;
	return 0;
}

/*
 * Unseal the office key file rel (keys/office.key, or a new one beside it) into sk, keeping its
 * header and passphrase key in a->key_seal so that a new key can be sealed the same way.
 */
int
keys_unseal_file(struct archive *a, const char *rel, const char *passphrase, uint8_t *sk,
    char **cause)
{
	uint8_t buf[SEALED_KEY_LEN + 1], *kek = NULL;
	char *path;
	size_t len;
	int error;

	path = archive_file(a, rel);
	error = keys_read_file(path, buf, sizeof buf, &len, cause);
	if (error < 0)
		goto done;
	error = CUSTODY_EINVAL;
	if (len < 9 || memcmp(buf, KEY_MAGIC, 8) != 0 ||
	    (buf[8] == 0 && len != PLAIN_KEY_LEN) || (buf[8] == 1 && len != SEALED_KEY_LEN) ||
	    buf[8] > 1) {
		custody_cause(cause, "%s is not a custody key file", path);
		goto done;
	}
	if ((kek = sodium_malloc(KEY_HDR_LEN + 32)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	memcpy(kek, buf, KEY_HDR_LEN);
	if (buf[8] == 0)
		memcpy(sk, buf + 9, ED25519_SK_LEN);
	else {
		uint64_t ops = get_u64(buf + 9 + SALT_LEN), mem = get_u64(buf + 17 + SALT_LEN);

		if (passphrase == NULL && (a->key_seal == NULL || a->key_seal[8] != 1 ||
		    memcmp(a->key_seal + 9, buf + 9, SALT_LEN + 16) != 0)) {
			custody_cause(cause, "the office key is sealed with a passphrase: "
			    "give --passphrase-file FILE");
			error = CUSTODY_EPERM;
			goto done;
		}
		if (ops > 64 || mem > (1ULL << 32)) {
			custody_cause(cause, "%s has unreasonable key derivation settings", path);
			goto done;
		}
		/* a file sealed like the one opened before (keys_seal_again): its key again */
		if (a->key_seal != NULL && a->key_seal[8] == 1 &&
		    memcmp(a->key_seal + 9, buf + 9, SALT_LEN + 16) == 0)
			memcpy(kek + KEY_HDR_LEN, a->key_seal + KEY_HDR_LEN, 32);
		else if (crypto_pwhash(kek + KEY_HDR_LEN, 32, passphrase, strlen(passphrase),
		    buf + 9, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			custody_cause(cause, "not enough memory to derive the passphrase key");
			goto done;
		}
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL,
		    buf + KEY_HDR_LEN, ED25519_SK_LEN + TAG_LEN, buf, KEY_HDR_LEN,
		    buf + 25 + SALT_LEN, kek + KEY_HDR_LEN) != 0) {
			custody_cause(cause, "wrong passphrase for %s", path);
			error = CUSTODY_ECRYPTO;
			goto done;
		}
	}
	sodium_free(a->key_seal);
	a->key_seal = kek;
	kek = NULL;
	error = 0;
done:
	sodium_memzero(buf, sizeof buf);
	sodium_free(kek);
	free(path);
	return error;
}

/*
 * Seal sk the way keys/office.key was sealed when it was opened: the same salt, Argon2id
 * limits and passphrase key, a fresh nonce (or plain, for an unattended office). buf holds
 * max bytes; *n is set to the file's length.
 */
int
keys_seal_again(const struct archive *a, const uint8_t *sk, uint8_t *buf, size_t max, size_t *n)
{
	if (a->key_seal == NULL || max < SEALED_KEY_LEN)
		return custody_fail(CUSTODY_EINVAL, "the office key's sealing is unknown");
	memcpy(buf, a->key_seal, KEY_HDR_LEN);
	if (buf[8] == 0) {
		memcpy(buf + 9, sk, ED25519_SK_LEN);
		*n = PLAIN_KEY_LEN;
		return 0;
	}
	randombytes_buf(buf + 25 + SALT_LEN, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + KEY_HDR_LEN, NULL, sk, ED25519_SK_LEN,
	    buf, KEY_HDR_LEN, NULL, buf + 25 + SALT_LEN, a->key_seal + KEY_HDR_LEN);
	*n = SEALED_KEY_LEN;
	return 0;
}

/*
 * keys/identity: after a rotation (keys-rotate.c), the office's original key in hex, which
 * names its feed and binds its name; absent before. Sets office_pk and office_hex.
 */
static int
keys_load_identity(struct archive *a, char **cause)
{
	uint8_t buf[2 * ED25519_PK_LEN + 2];
	struct stat st;
	char *path = archive_file(a, "keys/identity");
	size_t len;
	int error = 0;

	memcpy(a->office_pk, a->sign_pk, ED25519_PK_LEN);
	if (path == NULL)
		return CUSTODY_ENOMEM;
	if (lstat(path, &st) != 0 && errno == ENOENT)
		goto done;
	if ((error = keys_read_file(path, buf, sizeof buf, &len, cause)) < 0)
		goto done;
	if (len == sizeof buf - 1 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	if (len != sizeof buf - 1 || buf[len - 1] != '\0' ||
	    !hex_is_lower((const char *)buf, 2 * ED25519_PK_LEN) ||
	    hex_decode(a->office_pk, ED25519_PK_LEN, (const char *)buf) < 0) {
		custody_cause(cause, "%s is not a key in hex", path);
		error = CUSTODY_EINVAL;
	}
done:
	hex_encode(a->office_hex, a->office_pk, ED25519_PK_LEN);
	free(path);
	return error;
}

/* Load and unseal the office key (an archive that has not joined yet has only this). */
int
keys_load_office(struct archive *a, const char *passphrase, char **cause)
{
	int error;

	if ((error = keys_unseal_file(a, "keys/office.key", passphrase, a->office_sk,
	    cause)) < 0)
		return error;
	crypto_sign_ed25519_sk_to_pk(a->sign_pk, a->office_sk);
	return keys_load_identity(a, cause);
}

/* Set the data key, and the keys derived from it. */
void
keys_set_data(struct archive *a, const uint8_t *dk)
{
	memcpy(a->data_key, dk, DATA_KEY_LEN);
	crypto_kdf_derive_from_key(a->token_key, 32, 1, "tokenkey", a->data_key);
}

/* Load and unseal the office key, then open the data key. */
int
keys_load(struct archive *a, const char *passphrase, char **cause)
{
	uint8_t dkf[DK_FILE_LEN + 1], xpk[32], *xsk = NULL;
	struct stat st;
	char *path;
	size_t len;
	int error;

	if ((error = keys_load_office(a, passphrase, cause)) < 0)
		return error;
	path = archive_file(a, "keys/data.key");
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		custody_cause(cause, "this office has not joined yet: run custodyd join %s INVITATION",
		    a->path);
		error = CUSTODY_ENOTFOUND;
		goto done;
	}
	if ((error = keys_read_file(path, dkf, sizeof dkf, &len, cause)) < 0)
		goto done;
	error = CUSTODY_EINVAL;
	if (len != DK_FILE_LEN || memcmp(dkf, DK_MAGIC, 8) != 0) {
		custody_cause(cause, "%s is not a custody data key file", path);
		goto done;
	}
	if ((xsk = sodium_malloc(32)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	crypto_sign_ed25519_sk_to_curve25519(xsk, a->office_sk);
	crypto_scalarmult_base(xpk, xsk);
	if (crypto_box_seal_open(a->data_key, dkf + 8, DK_FILE_LEN - 8, xpk, xsk) != 0) {
		custody_cause(cause, "%s is not sealed to this office's key", path);
		error = CUSTODY_ECRYPTO;
		goto done;
	}
	crypto_kdf_derive_from_key(a->token_key, 32, 1, "tokenkey", a->data_key);
	error = 0;
done:
	sodium_free(xsk);
	free(path);
	return error;
}

/* Wrap a 32-byte key under the data key (nonce || ciphertext || tag). */
int
keys_wrap(uint8_t *out, const uint8_t *data_key, const uint8_t key[static 32], const char *ad)
{
	randombytes_buf(out, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_LEN, NULL, key, 32,
	    (const uint8_t *)ad, strlen(ad), NULL, out, data_key);
	return 0;
}

/* Unwrap a key made by keys_wrap with the same ad. */
int
keys_unwrap(uint8_t key[static 32], const uint8_t *data_key, const uint8_t *in, size_t len,
    const char *ad)
{
	if (len != WRAPPED_KEY_LEN)
		return custody_fail(CUSTODY_EINVAL, "wrapped key of %zu bytes", len);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, in + NONCE_LEN,
	    32 + TAG_LEN, (const uint8_t *)ad, strlen(ad), in, data_key) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "wrapped key does not open");
	return 0;
}
