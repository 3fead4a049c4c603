/*
 * libFuzzer harness: a feed arriving from a peer, as the puller receives it (daemon/
 * sync-verify.c): the git pack, then the check of every commit, signature, record and blob
 * name before any ref could move. Runs against a real archive made once in a temporary
 * directory; the peer is a fixed office key the archive does not own.
 *
 * Input: byte 0 = the claimed seq (1-8), bytes 1-40 = the claimed head (hex), the rest = the pack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-archive.h"
#include "sync-verify.h"

static struct archive *fuzz_archive;
static uint8_t fuzz_pk[ED25519_PK_LEN];
static char fuzz_hex[2 * ED25519_PK_LEN + 1];

static void
fuzz_setup(void)
{
	uint8_t sk[ED25519_SK_LEN], seed[32] = { 9 };

	fuzz_archive = fuzz_archive_make("sync");
	crypto_sign_seed_keypair(fuzz_pk, sk, seed);
	hex_encode(fuzz_hex, fuzz_pk, sizeof fuzz_pk);
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
	if (sync_incoming_begin(&in, fuzz_archive, fuzz_hex, fuzz_pk, 0, NULL) == 0 &&
	    sync_incoming_pack(&in, data + 1 + GIT_OID_HEXSZ, size - 1 - GIT_OID_HEXSZ) == 0)
		(void)sync_incoming_verify(&in, head, 1 + data[0] % 8);
	sync_incoming_free(&in);
	return 0;
}
