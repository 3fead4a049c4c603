/*
 * libFuzzer harness: a SOCKS5 proxy's answers (proto/socks5.c), fed in pieces whose sizes the
 * first byte chooses; the parser never takes more than it asked for, never reads past the end
 * of the reply, and an accepted reply is one of the lengths RFC 1928 allows. The rest of the
 * input, as text, is also parsed as a proxy URL and checked as an onion address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "custody/onion.h"
#include "custody/socks5.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_reply r;
	struct socks5_proxy px;
	size_t step, off = 1, used, need, total = 0, n;
	char *text;
	int st = SOCKS5_METHOD;

	if (size < 1)
		return 0;
	step = (size_t)(data[0] % 16) + 1;
	socks5_reply_init(&r);
	while (off < size && (st == SOCKS5_METHOD || st == SOCKS5_REPLY)) {
		need = socks5_reply_need(&r);
		if (need == 0 || need > SOCKS5_REPLY_MAX)
			abort();
		n = size - off < step ? size - off : step;
		st = socks5_reply_feed(&r, data + off, n, &used);
		if (used > n)
			abort();
		off += used;
		total += used;
		if (st >= 0 && used == 0 && n > 0)
			abort();	/* it asked for bytes and took none */
		if (st == SOCKS5_REPLY && r.have == 0 && total != 2)
			abort();	/* the method choice is two bytes, no more */
	}
	if (st == SOCKS5_DONE) {
		size_t reply = total - 2;

		if (socks5_reply_need(&r) != 0 || socks5_reply_finish(&r) != 0 || r.code != 0)
			abort();
		if (reply != 10 && reply != 22 && (reply < 8 || reply > 4 + 1 + 255 + 2 ||
		    reply != 7 + (size_t)r.buf[4]))
			abort();
	} else if (st >= 0 && socks5_reply_finish(&r) == 0)
		abort();
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (socks5_url_parse(&px, text) == 0 && (px.port == 0 || px.host[0] == '\0'))
		abort();
	if (onion_check(text, strlen(text)) == 0 && strlen(text) != ONION_V3_LEN + 6)
		abort();
	free(text);
	return 0;
}
