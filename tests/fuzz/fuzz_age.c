/*
 * libFuzzer harness for the age decryptor (header parser and STREAM reader) and the key parsers.
 * The input is fed to a reader holding the testkit identity (so seeds from the testkit reach
 * the payload) in two pieces split at a point taken from the first byte; it is also parsed as an
 * identity file and as a recipient string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/age.h"
#include "custody/common.h"
#include "fuzz.h"

#define FUZZ_IDENTITY \
	"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

static size_t released;

/* Plaintext sink: only counts, and checks the chunk bound. */
static int
fuzz_sink(void *arg, const void *buf, size_t len)
{
	if (len == 0 || len > AGE_CHUNK_LEN)
		abort();
	released += len;
	return 0;
}

/* Decrypt data in two pieces; a success must not release more than the input holds. */
static void
fuzz_decrypt(const struct age_identity *id, const uint8_t *data, size_t size)
{
	struct age_reader *r;
	size_t cut = size > 0 ? (size_t)data[0] * size / 256 : 0;
	int error;

	if (age_reader_new(&r, id, 1, fuzz_sink, NULL) < 0)
		return;
	released = 0;
	error = age_reader_feed(r, data, cut);
	if (error == 0)
		error = age_reader_feed(r, data + cut, size - cut);
	if (error == 0)
		error = age_reader_finish(r);
	if (error == 0 && (age_reader_stage(r) != AGE_STAGE_DONE || released > size))
		abort();
	if (error < 0 && age_reader_finish(r) != error)
		abort();	/* errors are sticky */
	age_reader_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identity id;
	static int ready;
	struct age_identity *ids;
	struct age_recipient rcpt;
	size_t n;

	if (!ready) {
		if (sodium_init() < 0 ||
		    age_identity_parse(&id, FUZZ_IDENTITY, strlen(FUZZ_IDENTITY)) < 0)
			abort();
		ready = 1;
	}
	fuzz_decrypt(&id, data, size);
	if (age_identity_file_parse(&ids, &n, (const char *)data, size) == 0) {
		if (n == 0)
			abort();
		age_identity_file_free(ids);
	}
	(void)age_recipient_parse(&rcpt, (const char *)data, size);
	return 0;
}
