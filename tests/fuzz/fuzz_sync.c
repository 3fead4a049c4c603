/*
 * libFuzzer harness: a feed arriving from a peer, as the puller receives it (daemon/
 * sync-verify.c): the git pack, then the check of every commit, signature, record and blob
 * name before any ref could move. Runs against a real archive made once in a temporary
 * directory; the peer is a fixed office key the archive does not own.
 *
 * Input: byte 0 = the claimed seq (1-8; bit 7: the pack arrives in pieces of 1 + byte 0 % 61
 * bytes, checked and indexed in the quarantine as each arrives), bytes 1-40 = the claimed head
 * (hex), the rest = the pack. Whatever the pack, nothing may be left in the archive's git/objects
 * or tmp/ once it is refused (checked after each input).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-archive.h"
#include "sync-verify.h"
#include "fuzz.h"

static struct archive *fuzz_archive;
static uint8_t fuzz_pk[ED25519_PK_LEN];
static char fuzz_hex[2 * ED25519_PK_LEN + 1];
static int fuzz_objects, fuzz_packs;	/* entries of git/objects and git/objects/pack at start */
static int fuzz_entries(const char *rel);

static void
fuzz_setup(void)
{
	uint8_t sk[ED25519_SK_LEN], seed[32] = { 9 };

	fuzz_archive = fuzz_archive_make("sync");
	crypto_sign_seed_keypair(fuzz_pk, sk, seed);
	hex_encode(fuzz_hex, fuzz_pk, sizeof fuzz_pk);
	fuzz_objects = fuzz_entries("git/objects");
	fuzz_packs = fuzz_entries("git/objects/pack");
}

/* Entries of a directory of the archive, besides ., .., info/ and pack/. */
static int
fuzz_entries(const char *rel)
{
	char path[4200];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/%s", fuzz_archive->path, rel);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "info") != 0 && strcmp(de->d_name, "pack") != 0;
	closedir(d);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_incoming in;
	char head[GIT_OID_HEXSZ + 1];

	if (fuzz_archive == NULL)
		fuzz_setup();
	if (size < 1 + GIT_OID_HEXSZ)
		return 0;
	memcpy(head, data + 1, GIT_OID_HEXSZ);
	head[GIT_OID_HEXSZ] = '\0';
	if (sync_incoming_begin(&in, fuzz_archive, fuzz_hex, fuzz_pk, 0, NULL) == 0) {
		const uint8_t *p = data + 1 + GIT_OID_HEXSZ;
		size_t left = size - 1 - GIT_OID_HEXSZ, step = data[0] & 0x80 ? 1 + data[0] % 61 :
		    left + 1, n;
		int error = 0;

		for (; left > 0 && error == 0; p += n, left -= n) {
			n = left < step ? left : step;
			error = sync_incoming_pack(&in, p, n);
		}
		if (error == 0)
			(void)sync_incoming_verify(&in, head, 1 + data[0] % 8);
	}
	sync_incoming_free(&in);
	/* nothing from a peer reaches the object store or stays in tmp/ unless it is taken */
	if (fuzz_entries("tmp") != 0 || fuzz_entries("git/objects") != fuzz_objects ||
	    fuzz_entries("git/objects/pack") != fuzz_packs)
		abort();
	return 0;
}
