/* Padmé and the padded blob sizes of custody/blobfmt.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "custody/blobfmt.h"
#include "custody/common.h"

/* Known values, from the definition: E = floor(log2 L), S = floor(log2 E) + 1, the low E - S
 * bits rounded up. */
static void
test_padme_known(void **state)
{
	static const uint64_t v[][2] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 7, 7 }, { 8, 8 }, { 9, 10 }, { 15, 16 },
		{ 33, 36 }, { 65, 72 }, { 100, 104 }, { 129, 144 }, { 255, 256 }, { 257, 272 },
		{ 1000, 1024 }, { 1025, 1088 }, { 65536, 65536 }, { 65537, 67584 },
		{ 1000000, 1015808 }, { 1000000000, 1006632960 },
		{ ((uint64_t)1 << 40) + 1, 1116691496960 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		assert_int_equal(padme(v[i][0]), v[i][1]);
}

/* Padmé never shrinks, is idempotent, and adds at most 12%. */
static void
test_padme_bounds(void **state)
{
	uint64_t l, p;

	(void)state;
	for (l = 1; l < 300000; l += l < 5000 ? 1 : 97) {
		p = padme(l);
		assert_true(p >= l);
		assert_int_equal(padme(p), p);
		assert_true(p * 100 <= l * 112);
	}
}

/* The size of a stream of payload bytes: full chunks, then a last one of 1 to 65536 bytes (0 when
 * the payload is empty). */
static uint64_t
stored_by_hand(uint64_t payload)
{
	uint64_t n = payload == 0 ? 1 : (payload - 1) / 65536 + 1;

	return 8 + 24 + payload + n * 17;
}

/*
 * For evidence of any size (around chunk boundaries too): the padded payload holds the
 * evidence and the mark, the stored size is a Padmé length, at most 12% above the unpadded
 * blob, and the bound for a peer's blob covers it and an unpadded (old) blob alike.
 */
static void
test_blob_sizes(void **state)
{
	static const uint64_t around[] = { 0, 1, 2, 14, 15, 16, 17, 18, 100, 2000, 65535, 65536 };
	uint64_t size, p, s, base;
	size_t i, k;

	(void)state;
	assert_int_equal(blobfmt_stored(0), 8 + 24 + 17);
	assert_int_equal(blobfmt_stored(BLOBFMT_CHUNK), 8 + 24 + BLOBFMT_CHUNK + 17);
	assert_int_equal(blobfmt_stored(BLOBFMT_CHUNK + 1), 8 + 24 + BLOBFMT_CHUNK + 1 + 34);
	for (k = 0; k < 40; k++)
		for (i = 0; i < sizeof around / sizeof around[0]; i++) {
			size = k * (k < 20 ? BLOBFMT_CHUNK : 977 * BLOBFMT_CHUNK) + around[i];
			p = blobfmt_payload(size);
			s = blobfmt_stored(p);
			base = stored_by_hand(size + 1);
			assert_true(p >= size + 1);
			assert_int_equal(s, stored_by_hand(p));
			assert_int_equal(padme(s), s);
			assert_true(s >= base);
			assert_true(s * 100 <= base * 112);
			assert_int_equal(blobfmt_max_stored(size), s);
			assert_true(blobfmt_max_stored(size) >= stored_by_hand(size));
		}
	/* the one Padmé length below 2^62 that no chunking reaches: the next one is taken */
	s = 4251398048237748224u;
	assert_true((s - 32) % (65536 + 17) >= 1 && (s - 32) % (65536 + 17) <= 17);
	size = s - ((uint64_t)1 << 51);
	assert_int_equal(padme(stored_by_hand(size + 1)), s);
	p = blobfmt_payload(size);
	assert_int_equal(blobfmt_stored(p), s + ((uint64_t)1 << 55));
	assert_int_equal(padme(blobfmt_stored(p)), blobfmt_stored(p));
	assert_int_equal(blobfmt_payload((uint64_t)1 << 63), 0);
	assert_int_equal(blobfmt_max_stored((uint64_t)1 << 63), 0);
}

static int
collect(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/*
 * What the evidence of a padded plaintext is, by the definition: everything before its last
 * 0x80 byte that only zeros follow; -1 when there is none.
 */
static long
unpad_by_hand(const uint8_t *p, size_t n)
{
	size_t i = n;

	while (i > 0 && p[i - 1] == 0)
		i--;
	return i > 0 && p[i - 1] == BLOBFMT_MARK ? (long)i - 1 : -1;
}

/* Plaintexts made of 0x80, zeros and other bytes, fed in pieces of every size: the evidence
 * comes out as the definition says, or the end says there is no mark. */
static void
test_unpad(void **state)
{
	static const uint8_t alphabet[] = { 0, 0, 0, BLOBFMT_MARK, BLOBFMT_MARK, 1, 0x7f };
	uint8_t p[300];
	struct blobfmt_unpad u;
	struct cbuf got = { 0 };
	size_t n, off, step, i;
	long want;
	int round, error;

	(void)state;
	for (round = 0; round < 20000; round++) {
		n = randombytes_uniform(sizeof p + 1);
		for (i = 0; i < n; i++)
			p[i] = alphabet[randombytes_uniform(sizeof alphabet)];
		step = 1 + randombytes_uniform(40);
		got.len = 0;
		blobfmt_unpad_init(&u, collect, &got);
		for (off = 0; off < n; off += step)
			assert_int_equal(blobfmt_unpad_feed(&u, p + off, n - off < step ? n - off :
			    step), 0);
		error = blobfmt_unpad_finish(&u);
		want = unpad_by_hand(p, n);
		if (want < 0) {
			assert_int_equal(error, CUSTODY_EINVAL);
			continue;
		}
		assert_int_equal(error, 0);
		assert_int_equal(got.len, (size_t)want);
		if (want > 0)
			assert_memory_equal(got.data, p, (size_t)want);
	}
	cbuf_free(&got);
}

/* A header written is read back as padded; the old magic reads as unpadded; others are refused. */
static void
test_header(void **state)
{
	crypto_secretstream_xchacha20poly1305_state push, pull;
	uint8_t hdr[BLOBFMT_HEADER], key[BLOBFMT_KEY_LEN], msg[4] = "evid", ct[4 + BLOBFMT_ABYTES];
	uint8_t pt[4], tag;
	unsigned long long n;
	int padded = -1;

	(void)state;
	randombytes_buf(key, sizeof key);
	blobfmt_header_write(hdr, &push, key);
	assert_memory_equal(hdr, "CUSTBLB2", 8);
	assert_int_equal(blobfmt_header_read(&pull, &padded, hdr, key), 0);
	assert_int_equal(padded, 1);
	crypto_secretstream_xchacha20poly1305_push(&push, ct, NULL, msg, sizeof msg, NULL, 0,
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_pull(&pull, pt, &n, &tag, ct,
	    sizeof ct, NULL, 0), 0);
	assert_memory_equal(pt, msg, sizeof msg);
	memcpy(hdr, "CUSTBLB1", 8);
	assert_int_equal(blobfmt_header_read(&pull, &padded, hdr, key), 0);
	assert_int_equal(padded, 0);
	memcpy(hdr, "CUSTBLB3", 8);
	assert_int_equal(blobfmt_header_read(&pull, &padded, hdr, key), CUSTODY_EINVAL);
	memcpy(hdr, "custblb2", 8);
	assert_int_equal(blobfmt_header_read(&pull, &padded, hdr, key), CUSTODY_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_padme_known),
		cmocka_unit_test(test_padme_bounds),
		cmocka_unit_test(test_blob_sizes),
		cmocka_unit_test(test_unpad),
		cmocka_unit_test(test_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
