/*
 * Media types from content (libmagic): MP4, M4A, PNG, PDF and JPEG headers give their types
 * whatever else follows, an empty file and random bytes give application/octet-stream, plain
 * text gives text/plain, and several threads sniffing at once all get the right answers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "media.h"

static const uint8_t mp4[] = "\0\0\0\x1c" "ftypisom\0\0\x02\0isomiso2mp41" "\0\0\0\x08mdat";
static const uint8_t m4a[] = "\0\0\0\x18" "ftypM4A \0\0\0\0M4A mp42" "\0\0\0\x08mdat";
static const uint8_t png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0"
    "\x3a\x7e\x9b\x55";
static const uint8_t pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n"
    "%%EOF\n";
static const uint8_t jpeg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";

static const struct {
	const uint8_t	*p;
	size_t		 n;
	const char	*type;
} samples[] = {
	{ mp4, sizeof mp4 - 1, "video/mp4" },
	{ m4a, sizeof m4a - 1, "audio/x-m4a" },
	{ png, sizeof png - 1, "image/png" },
	{ pdf, sizeof pdf - 1, "application/pdf" },
	{ jpeg, sizeof jpeg - 1, "image/jpeg" },
	{ (const uint8_t *)"a witness statement\n", 20, "text/plain" },
};

/*
 * Random bytes from a fixed seed: about one draw in a few thousand of fresh random bytes
 * looks to libmagic like a DOS program or a fax, which would make these tests fail by chance.
 */
static void
noise(uint8_t *p, size_t n, uint8_t seed)
{
	uint8_t s[randombytes_SEEDBYTES] = { seed };

	randombytes_buf_deterministic(p, n, s);
}

static void
test_types(void **state)
{
	char out[128];
	uint8_t rnd[4096];
	const char *cause = NULL;
	size_t i;

	if (media_open(&cause) < 0)
		fail_msg("%s", cause);
	for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		media_sniff(out, sizeof out, samples[i].p, samples[i].n);
		assert_string_equal(out, samples[i].type);
	}
	media_sniff(out, sizeof out, (const uint8_t *)"", 0);
	assert_string_equal(out, "application/octet-stream");
	noise(rnd, sizeof rnd, 0);
	rnd[0] = 0x00;	/* nothing starts so */
	rnd[1] = 0x01;
	media_sniff(out, sizeof out, rnd, sizeof rnd);
	assert_string_equal(out, "application/octet-stream");
}

/* Each thread sniffs every sample many times; returns arg (non-NULL) on a wrong answer. */
static void *
sniffer(void *arg)
{
	char out[128];
	size_t i, k;

	for (k = 0; k < 200; k++)
		for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
			media_sniff(out, sizeof out, samples[i].p, samples[i].n);
			if (strcmp(out, samples[i].type) != 0)
				return arg;
		}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[4];
	void *bad;
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sniffer, (void *)&samples), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

/*
 * libmagic looks at the first 16 KiB only, but for disc images: an ISO 9660 volume descriptor
 * at 32 KiB is still found behind 32 KiB of random bytes, as is a tar header at 257.
 */
static void
test_deep(void **state)
{
	static uint8_t buf[40000];
	char out[128];
	unsigned i, sum;

	noise(buf, sizeof buf, 1);
	buf[0] = 0x00;
	buf[1] = 0x01;
	memcpy(buf + 32768, "\x01" "CD001\x01", 7);
	media_sniff(out, sizeof out, buf, sizeof buf);
	assert_string_equal(out, "application/x-iso9660-image");
	buf[32769] = 'X';	/* the control: no descriptor, no type */
	media_sniff(out, sizeof out, buf, sizeof buf);
	assert_string_equal(out, "application/octet-stream");

	memset(buf, 0, 1024);
	memcpy(buf, "evidence.txt", 12);
	memcpy(buf + 100, "0000644", 7);
	memcpy(buf + 124, "00000000000", 11);
	buf[156] = '0';
	memcpy(buf + 257, "ustar\0" "00", 8);
	memset(buf + 148, ' ', 8);	/* the header checksum counts its own field as spaces */
	for (i = 0, sum = 0; i < 512; i++)
		sum += buf[i];
	snprintf((char *)buf + 148, 8, "%06o", sum);
	media_sniff(out, sizeof out, buf, sizeof buf);
	assert_string_equal(out, "application/x-tar");
}

/*
 * Bytes with a NUL inside skip libmagic's text tests, which cannot succeed on them; what
 * they still find must not change: text and CSV (none of that), UTF-16 text with its byte
 * order mark and text ending in NULs (NULs, but still text) keep their types, and random
 * bytes stay application/octet-stream.
 */
static void
test_binary(void **state)
{
	static const uint8_t csv[] = "date,place,witness\n2024-01-02,north,A\n2024-01-03,south,B\n"
	    "2024-01-04,east,C\n";
	static const uint8_t u16[] = "\xff\xfe" "s\0t\0a\0t\0e\0m\0e\0n\0t\0\n\0";
	static const uint8_t tail[] = "a witness statement\n\0\0\0\0";
	static uint8_t rnd[32768];
	char out[128];
	int i;

	media_sniff(out, sizeof out, (const uint8_t *)"a witness statement\n", 20);
	assert_string_equal(out, "text/plain");
	media_sniff(out, sizeof out, csv, sizeof csv - 1);
	assert_string_equal(out, "text/csv");
	media_sniff(out, sizeof out, u16, sizeof u16 - 1);
	assert_string_equal(out, "text/plain");
	media_sniff(out, sizeof out, tail, sizeof tail - 1);
	assert_string_equal(out, "text/plain");
	for (i = 0; i < 20; i++) {
		noise(rnd, sizeof rnd, 2 + i);
		rnd[0] = 0x00;	/* nothing starts so */
		rnd[1] = 0x01;
		media_sniff(out, sizeof out, rnd, sizeof rnd);
		assert_string_equal(out, "application/octet-stream");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_binary),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
