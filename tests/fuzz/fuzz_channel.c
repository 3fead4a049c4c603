/*
 * Bytes from an unknown peer at a channel's responder end: framing, the size limits, the
 * handshake reader and the identity check. Must never crash or leak, and never dispatch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "custody/channel.h"

static struct event_base *base;
static uint8_t ed[64], x_priv[32], x_pub[32];

static const char *
fuzz_authorize(struct channel *ch, const uint8_t remote[static 32], void *arg)
{
	return "office";
}

static void
fuzz_dispatch(struct channel *ch, Envelope *env, void *arg)
{
	if (env != NULL)
		abort();	/* nobody can finish a handshake from random bytes */
	*(int *)arg = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct channel *ch;
	int sv[2], lost = 0, i;
	size_t off = 0;
	ssize_t n;

	if (base == NULL) {
		if (sodium_init() < 0 || (base = event_base_new()) == NULL)
			abort();
		crypto_sign_keypair(ed + 32, ed);
		if (noise_static_from_ed25519(x_priv, x_pub, ed) < 0)
			abort();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return 0;
	if ((ch = channel_new(base, sv[1], false, x_priv, ed + 32, fuzz_authorize,
	    fuzz_dispatch, &lost)) == NULL) {
		close(sv[0]);
		return 0;
	}
	for (i = 0; i < 64 && off < size && !lost; i++) {
		if ((n = write(sv[0], data + off, size - off)) > 0)
			off += (size_t)n;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	shutdown(sv[0], SHUT_WR);
	for (i = 0; i < 16 && !lost; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	channel_free(ch);
	close(sv[0]);
	return 0;
}
