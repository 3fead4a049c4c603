/*
 * libFuzzer harness for the Noise handshake and transport readers: a responder fed arbitrary
 * first and third messages, an initiator fed an arbitrary second message, then arbitrary
 * transport messages. Keys and payloads are those of the cacophony vectors, so the seeds in
 * tests/fuzz/corpus/noise (vector messages) drive complete handshakes.
 *
 * Input: byte 0 = mode (bits 0-1) and pattern (bits 2-4, modulo 5: NK, KK, IK, XX, XK; XK is
 * what offices speak); bytes 1-2 = length of part 1 (big-endian, clipped); then part 1; the rest
 * is part 2.
 *   mode 0: responder reads part 1 as message 1, writes message 2, reads part 2 as message 3
 *           (XX, XK) or as its first transport message;
 *   mode 1: initiator writes message 1, reads part 1 as message 2, (XX, XK: writes message 3),
 *           reads part 2 as transport;
 *   mode 2: genuine messages 1 and 2, then the responder reads part 1 as message 3 (XX, XK) or
 *           as transport, and part 2 as transport;
 *   mode 3: a genuine handshake, then the initiator reads parts 1 and 2 as transport.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "custody/common.h"
#include "custody/noise.h"
#include "fuzz.h"

static const char *const fz_patterns[] = { "NK", "KK", "IK", "XX", "XK" };
static const char *const fz_payloads[] = { "Ludwig von Mises", "Murray Rothbard",
	"F. A. Hayek" };
static uint8_t fz_is[32], fz_rs[32], fz_ie[32], fz_re[32], fz_is_pub[32], fz_rs_pub[32];
static const uint8_t fz_prologue[] = "John Galt";

/* Crash (so the fuzzer reports it) when an invariant breaks. */
static void
fz_check(bool ok)
{
	if (!ok)
		abort();
}

/* One-time keys from the cacophony vectors. */
static void
fz_init(void)
{
	static bool done;

	if (done)
		return;
	fz_check(hex_decode(fz_is, 32,
	    "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1") == 0);
	fz_check(hex_decode(fz_rs, 32,
	    "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893") == 0);
	fz_check(hex_decode(fz_ie, 32,
	    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a") == 0);
	fz_check(hex_decode(fz_re, 32,
	    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b") == 0);
	fz_check(noise_public_key(fz_is_pub, fz_is) == 0);
	fz_check(noise_public_key(fz_rs_pub, fz_rs) == 0);
	done = true;
}

/* A handshake side for pattern p, with the vector keys. */
static struct noise_hs *
fz_side(unsigned p, bool initiator)
{
	struct noise_hs *hs;
	const uint8_t *s, *rs = NULL;

	if (initiator) {
		s = p == 0 ? NULL : fz_is;
		rs = p == 3 ? NULL : fz_rs_pub;
	} else {
		s = fz_rs;
		rs = p == 1 ? fz_is_pub : NULL;
	}
	fz_check(noise_hs_new(&hs, fz_patterns[p], initiator, s, rs, fz_prologue,
	    sizeof fz_prologue - 1) == 0);
	fz_check(noise_hs_set_ephemeral(hs, initiator ? fz_ie : fz_re) == 0);
	return hs;
}

/* Read msg; a failure must release nothing and leave the handshake dead. */
static int
fz_read(struct noise_hs *hs, const uint8_t *msg, size_t len)
{
	struct cbuf pay = { 0 };
	int error;

	error = noise_hs_read(hs, &pay, msg, len);
	if (error < 0) {
		fz_check(pay.len == 0);
		fz_check(!noise_hs_done(hs) && !noise_hs_want_write(hs));
	} else
		fz_check(pay.len + NOISE_KEY_LEN <= len);	/* every message carries a key */
	cbuf_free(&pay);
	return error;
}

/* Write the next message with the vector payload k into out (replacing its contents). */
static int
fz_write(struct noise_hs *hs, struct cbuf *out, unsigned k)
{
	out->len = 0;
	return noise_hs_write(hs, out, fz_payloads[k], strlen(fz_payloads[k]));
}

/* Decrypt arbitrary bytes as transport; release nothing on failure. */
static void
fz_transport(struct noise_cipher *c, const uint8_t *ct, size_t len)
{
	struct cbuf pt = { 0 };

	if (noise_decrypt(c, &pt, ct, len) < 0)
		fz_check(pt.len == 0);
	else
		fz_check(pt.len + NOISE_TAG_LEN == len);
	cbuf_free(&pt);
}

/* Split a finished handshake and feed ct to its receiving cipher. */
static void
fz_split_read(struct noise_hs *hs, const uint8_t *ct, size_t len)
{
	struct noise_cipher *send, *recv;

	if (!noise_hs_done(hs))
		return;
	fz_check(noise_hs_split(hs, &send, &recv) == 0);
	fz_transport(recv, ct, len);
	noise_cipher_free(send);
	noise_cipher_free(recv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct noise_hs *ini = NULL, *rsp = NULL;
	struct noise_cipher *send, *recv;
	struct cbuf m = { 0 };
	const uint8_t *p1, *p2;
	size_t n1, n2;
	unsigned mode, p;
	bool three;		/* a three-message pattern: XX or XK */

	fz_init();
	if (size < 3)
		return 0;
	mode = data[0] & 3;
	p = ((data[0] >> 2) & 7) % 5;
	three = p >= 3;
	n1 = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	if (n1 > size)
		n1 = size;
	p1 = data;
	p2 = data + n1;
	n2 = size - n1;

	switch (mode) {
	case 0:
		rsp = fz_side(p, false);
		if (fz_read(rsp, p1, n1) < 0 || fz_write(rsp, &m, 1) < 0)
			break;
		if (three)
			(void)fz_read(rsp, p2, n2);
		else
			fz_split_read(rsp, p2, n2);
		break;
	case 1:
		ini = fz_side(p, true);
		fz_check(fz_write(ini, &m, 0) == 0);
		if (fz_read(ini, p1, n1) < 0)
			break;
		if (three)
			fz_check(fz_write(ini, &m, 2) == 0);
		fz_split_read(ini, p2, n2);
		break;
	case 2:
	case 3:
		ini = fz_side(p, true);
		rsp = fz_side(p, false);
		fz_check(fz_write(ini, &m, 0) == 0);
		fz_check(fz_read(rsp, m.data, m.len) == 0);
		fz_check(fz_write(rsp, &m, 1) == 0);
		fz_check(fz_read(ini, m.data, m.len) == 0);
		if (mode == 2 && three) {
			if (fz_read(rsp, p1, n1) == 0)
				fz_split_read(rsp, p2, n2);
			break;
		}
		if (three) {
			fz_check(fz_write(ini, &m, 2) == 0);
			fz_check(fz_read(rsp, m.data, m.len) == 0);
		}
		fz_check(noise_hs_split(mode == 2 ? rsp : ini, &send, &recv) == 0);
		fz_transport(recv, p1, n1);
		fz_transport(recv, p2, n2);
		noise_cipher_free(send);
		noise_cipher_free(recv);
		break;
	}
	noise_hs_free(ini);
	noise_hs_free(rsp);
	cbuf_free(&m);
	return 0;
}
