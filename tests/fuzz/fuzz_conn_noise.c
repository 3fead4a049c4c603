/*
 * A channel's responder end (Noise XK) under arbitrary bytes. Must never crash or leak.
 *
 * Input: byte 0 picks the mode (bit 0), the rest is the data.
 *   mode 0: the data comes from an unknown peer, as raw bytes on the socket: framing, the size
 *           limits, the handshake reader and the identity check. The responder's key is fixed,
 *           so seeds can hold a genuine message 1 for it (tests/fuzz/corpus/conn_noise); nobody can
 *           finish the handshake (the responder's ephemeral key is fresh), so nothing may ever
 *           be dispatched.
 *   mode 1: the harness completes a genuine XK handshake as a pinned office, then sends the data
 *           as the decrypted inner stream (cut into transport messages of up to 4000 bytes):
 *           the inner framing and message decoding after authentication.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "custody/conn.h"
#include "fuzz.h"

#define FZ_CHUNK 4000

static struct event_base *base;
static uint8_t r_ed[64], r_x[32], r_xpub[32];	/* the responder: fixed */
static uint8_t i_ed[64], i_x[32], i_xpub[32];	/* the pinned initiator: fixed */

struct fz_state {
	int	lost, msgs, mode;
};

static void
fz_check(bool ok)
{
	if (!ok)
		abort();
}

static const char *
fuzz_authorize(struct conn *ch, const uint8_t remote[static 32], void *arg)
{
	return memcmp(remote, i_ed + 32, 32) == 0 ? "office" : NULL;
}

static void
fuzz_dispatch(struct conn *ch, Envelope *env, void *arg)
{
	struct fz_state *st = arg;

	if (env == NULL) {
		st->lost = 1;
		return;
	}
	if (st->mode == 0)
		abort();	/* nobody can finish a handshake from raw bytes */
	st->msgs++;
	wire_free(env);
}

/* Fixed keys from fixed seeds. */
static void
fz_init(void)
{
	uint8_t seed[32];

	fz_check(sodium_init() >= 0 && (base = event_base_new()) != NULL);
	memset(seed, 'r', sizeof seed);
	crypto_sign_seed_keypair(r_ed + 32, r_ed, seed);
	memset(seed, 'i', sizeof seed);
	crypto_sign_seed_keypair(i_ed + 32, i_ed, seed);
	fz_check(noise_static_from_ed25519(r_x, r_xpub, r_ed) == 0);
	fz_check(noise_static_from_ed25519(i_x, i_xpub, i_ed) == 0);
}

/* Write len bytes to fd, running the loop while the socket is full. */
static void
fz_send(int fd, const uint8_t *p, size_t len, struct fz_state *st)
{
	size_t off = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 4096 && off < len && !st->lost; i++) {
		if ((n = write(fd, p + off, len - off)) > 0)
			off += (size_t)n;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
}

/* Frame one handshake or transport message into out (replacing its contents). */
static void
fz_frame(struct cbuf *out, uint8_t type, const struct cbuf *body)
{
	out->len = 0;
	fz_check(frame_put_header(out, type, body->len) == 0);
	fz_check(cbuf_put(out, body->data, body->len) == 0);
}

/* Mode 1: a genuine handshake from the pinned office, then data as the inner stream. */
static void
fz_genuine(int fd, const uint8_t *data, size_t size, struct fz_state *st)
{
	struct noise_hs *hs;
	struct noise_cipher *tx = NULL, *rx = NULL;
	struct cbuf m = { 0 }, f = { 0 }, pay = { 0 };
	uint8_t in[5 + 48];
	size_t have = 0, off, n;
	ssize_t r;
	int i;

	fz_check(noise_hs_new(&hs, "XK", true, i_x, r_xpub, CONN_PROLOGUE,
	    strlen(CONN_PROLOGUE)) == 0);
	fz_check(noise_hs_write(hs, &m, NULL, 0) == 0);
	fz_frame(&f, FRAME_HANDSHAKE, &m);
	fz_send(fd, f.data, f.len, st);
	for (i = 0; i < 64 && have < sizeof in; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if ((r = recv(fd, in + have, sizeof in - have, MSG_DONTWAIT)) > 0)
			have += (size_t)r;
	}
	fz_check(have == sizeof in && in[4] == FRAME_HANDSHAKE);
	fz_check(noise_hs_read(hs, &pay, in + 5, 48) == 0);
	m.len = 0;
	fz_check(noise_hs_write(hs, &m, i_ed + 32, 32) == 0);
	fz_frame(&f, FRAME_HANDSHAKE, &m);
	fz_send(fd, f.data, f.len, st);
	fz_check(noise_hs_split(hs, &tx, &rx) == 0);
	for (off = 0; off < size && !st->lost; off += n) {
		n = size - off < FZ_CHUNK ? size - off : FZ_CHUNK;
		m.len = 0;
		fz_check(noise_encrypt(tx, &m, data + off, n) == 0);
		fz_frame(&f, FRAME_NOISE, &m);
		fz_send(fd, f.data, f.len, st);
	}
	noise_hs_free(hs);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
	cbuf_free(&m);
	cbuf_free(&f);
	cbuf_free(&pay);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state st = { 0 };
	struct conn *ch;
	int sv[2], i;

	if (base == NULL)
		fz_init();
	if (size < 1)
		return 0;
	st.mode = data[0] & 1;
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return 0;
	if ((ch = conn_noise_new(base, sv[1], NULL, r_x, r_ed + 32, fuzz_authorize,
	    fuzz_dispatch, &st)) == NULL) {
		close(sv[0]);
		return 0;
	}
	if (st.mode == 0)
		fz_send(sv[0], data, size, &st);
	else
		fz_genuine(sv[0], data, size, &st);
	shutdown(sv[0], SHUT_WR);
	for (i = 0; i < 16 && !st.lost; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	conn_free(ch);
	close(sv[0]);
	return 0;
}
