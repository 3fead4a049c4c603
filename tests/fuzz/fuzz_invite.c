/* libFuzzer harness: invitation parsing, verifying and opening (signature, key unsealing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/common.h"
#include "custody/invite.h"
#include "fuzz.h"

/* Parse the input, then try to open it with a fixed office key. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t sk[ED25519_SK_LEN];
	static int ready;
	uint8_t seed[32] = { 1 }, pk[ED25519_PK_LEN], dk[INVITE_KEY_LEN];
	struct invite inv;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk, seed);
		ready = 1;
	}
	if (invite_parse(&inv, (const char *)data, size) == 0 && inv.signed_len > size)
		abort();
	(void)invite_verify(&inv, (const char *)data, size);	/* a copy kept in a feed */
	(void)invite_open(dk, NULL, (const char *)data, size, sk);
	return 0;
}
