/*
 * The office key at rest: passphrases shorter than 12 characters are refused, new keys are
 * sealed with Argon2id MODERATE limits stored in the key file, and a key sealed with the earlier
 * INTERACTIVE limits still opens.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"

#define PASS "correct horse battery"
#define SALT 16
#define HDR (8 + 1 + SALT + 8 + 8 + 24)	/* magic, mode, salt, ops, mem, nonce */

/*
 * The key file's big-endian header fields, read and written here on purpose rather than with
 * keys.c's own helpers: these tests check the bytes on disk and forge a key file the earlier
 * way, so a change to the daemon's encoding must fail them, not follow along.
 */
static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A scratch directory; path gets DIR/arch. */
static void
scratch(char dir[static 32], char path[static 64])
{
	snprintf(dir, 32, "/tmp/custody-keys.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, 64, "%s/arch", dir);
}

static void
unscratch(const char *dir)
{
	char cmd[100];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* 11 characters are refused with a clear message, before anything is created; 12 are not. */
static void
test_short_passphrase(void **state)
{
	char dir[32], path[64], *cause = NULL;
	struct stat st;

	(void)state;
	scratch(dir, path);
	assert_int_equal(archive_create(path, "office", "elevenchars", &cause), CUSTODY_EINVAL);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "11 characters"));
	assert_non_null(strstr(cause, "at least 12"));
	free(cause);
	cause = NULL;
	assert_true(stat(path, &st) != 0);	/* nothing made */
	/* characters, not bytes: 11 two-byte letters are still too short */
	assert_int_equal(archive_create(path, "office", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &cause), CUSTODY_EINVAL);
	free(cause);
	cause = NULL;
	assert_int_equal(keys_check_passphrase("twelve chars", &cause), 0);
	assert_int_equal(keys_check_passphrase("", &cause), CUSTODY_EINVAL);
	free(cause);
	unscratch(dir);
}

/* A new sealed key stores MODERATE (or stronger) limits, and opens with them. */
static void
test_stored_limits(void **state)
{
	char dir[32], path[64], key[100], *cause = NULL;
	uint8_t buf[HDR + 64 + 16];
	struct archive *a = NULL;
	int fd;

	(void)state;
	scratch(dir, path);
	assert_int_equal(archive_create(path, "office", PASS, &cause), 0);
	snprintf(key, sizeof key, "%s/keys/office.key", path);
	assert_true((fd = open(key, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);
	assert_memory_equal(buf, "CUSTKEY1\1", 9);
	assert_true(get64(buf + 9 + SALT) >= crypto_pwhash_OPSLIMIT_MODERATE);
	assert_true(get64(buf + 17 + SALT) >= crypto_pwhash_MEMLIMIT_MODERATE);
	assert_int_equal(get64(buf + 9 + SALT), crypto_pwhash_OPSLIMIT_MODERATE);
	assert_int_equal(get64(buf + 17 + SALT), crypto_pwhash_MEMLIMIT_MODERATE);
	assert_int_equal(archive_open(&a, path, PASS, 0, &cause), 0);
	archive_close(a);
	unscratch(dir);
}

/* A key sealed the earlier way (INTERACTIVE limits in its header) still opens. */
static void
test_old_key_opens(void **state)
{
	char dir[32], path[64], key[100], *cause = NULL;
	uint8_t sk[64], pk[32], kek[32], buf[HDR + 64 + 16];
	struct archive *a = NULL;
	int fd;

	(void)state;
	scratch(dir, path);
	assert_int_equal(archive_create(path, "office", PASS, &cause), 0);
	assert_int_equal(archive_open(&a, path, PASS, 0, &cause), 0);
	memcpy(sk, a->office_sk, sizeof sk);
	memcpy(pk, a->office_pk, sizeof pk);
	archive_close(a);

	memcpy(buf, "CUSTKEY1\1", 9);
	randombytes_buf(buf + 9, SALT);
	put64(buf + 9 + SALT, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	put64(buf + 17 + SALT, crypto_pwhash_MEMLIMIT_INTERACTIVE);
	randombytes_buf(buf + 25 + SALT, 24);
	assert_int_equal(crypto_pwhash(kek, sizeof kek, PASS, strlen(PASS), buf + 9,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13), 0);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + HDR, NULL, sk, sizeof sk, buf, HDR,
	    NULL, buf + 25 + SALT, kek);
	snprintf(key, sizeof key, "%s/keys/office.key", path);
	assert_int_equal(unlink(key), 0);
	assert_true((fd = open(key, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);

	assert_int_equal(archive_open(&a, path, PASS, 0, &cause), 0);
	assert_memory_equal(a->office_pk, pk, sizeof pk);
	archive_close(a);
	assert_int_equal(archive_open(&a, path, "correct horse battery!", 0, &cause),
	    CUSTODY_ECRYPTO);
	free(cause);
	sodium_memzero(sk, sizeof sk);
	unscratch(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_passphrase),
		cmocka_unit_test(test_stored_limits),
		cmocka_unit_test(test_old_key_opens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
