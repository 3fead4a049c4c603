/*
 * Channels between offices: two ends over a socketpair in one event loop. The handshake and
 * encrypted messages both ways (one over 64 KiB); pinned keys refused before anything is
 * dispatched; a relay in the middle that flips a byte of each handshake message, truncates one,
 * injects garbage or replays a transport frame; oversized and malformed frames before the
 * handshake; a stranger who does not know the responder's key gets no byte back; batches of
 * frames encoded elsewhere, large and small, arrive whole and in order. Every refusal:
 * the channel is lost, nothing dispatched.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sodium.h>

#include "custody/conn.h"

/* Office identities (Ed25519) and the X25519 static keys derived from them. */
static uint8_t a_ed[64], b_ed[64], m_ed[64];
static uint8_t a_s[32], a_pub[32], b_s[32], b_pub[32], m_s[32], m_pub[32];

/* One end under test: what it saw. */
struct end {
	struct conn	*ch;
	const uint8_t	*pin;		/* the only key it accepts */
	int		 authorized;	/* times authorize was asked */
	int		 lost;
	Envelope	*msgs[8];
	int		 nmsgs;
	char		 why[256];
};

/* The relay between a and b: copies bytes, optionally damaging one. */
struct relay {
	int		 fd[2];		/* [0] faces a, [1] faces b */
	struct event	*ev[2];
	size_t		 seen[2];	/* bytes passed per direction (0: a to b) */
	int		 dir;		/* direction to damage, -1 none */
	size_t		 pos;		/* stream offset of the byte to flip */
	size_t		 cut;		/* if nonzero: close after passing this many bytes */
	uint8_t		 first_noise[128];	/* the first transport frame a sent */
	size_t		 first_noise_len;
};

static struct event_base *base;

static const char *
end_authorize(struct conn *ch, const uint8_t remote[static NOISE_KEY_LEN], void *arg)
{
	struct end *e = arg;

	e->authorized++;
	return sodium_memcmp(remote, e->pin, 32) == 0 ? "office" : NULL;	/* Ed25519 */
}

static void
end_dispatch(struct conn *ch, Envelope *env, void *arg)
{
	struct end *e = arg;

	if (env == NULL) {
		e->lost = 1;
		snprintf(e->why, sizeof e->why, "%s", conn_error(ch));
		return;
	}
	if (e->nmsgs < 8)
		e->msgs[e->nmsgs++] = env;
	else
		wire_free(env);
}

static void
end_clear(struct end *e)
{
	int i;

	for (i = 0; i < e->nmsgs; i++)
		wire_free(e->msgs[i]);
	conn_free(e->ch);
	memset(e, 0, sizeof *e);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

/* Run the loop until cond holds or a second passes. */
#define RUN_UNTIL(cond) do {						\
	struct timeval tv_ = { 0, 20000 };				\
	for (int i_ = 0; i_ < 100 && !(cond); i_++) {			\
		event_base_once(base, -1, EV_TIMEOUT, stop_cb, NULL, &tv_); \
		event_base_dispatch(base);				\
	}								\
} while (0)

static int
setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(a_ed + 32, a_ed);
	crypto_sign_keypair(b_ed + 32, b_ed);
	crypto_sign_keypair(m_ed + 32, m_ed);
	if (noise_static_from_ed25519(a_s, a_pub, a_ed) < 0 ||
	    noise_static_from_ed25519(b_s, b_pub, b_ed) < 0 ||
	    noise_static_from_ed25519(m_s, m_pub, m_ed) < 0)
		return -1;
	base = event_base_new();
	return base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	event_base_free(base);
	return 0;
}

/* a (initiator, dialling apin) on fa and b (responder, accepting bpin) on fb. */
static void
ends_new(struct end *a, struct end *b, int fa, int fb, const uint8_t *apin, const uint8_t *bpin)
{
	memset(a, 0, sizeof *a);
	memset(b, 0, sizeof *b);
	a->pin = apin;
	b->pin = bpin;
	a->ch = conn_noise_new(base, fa, apin, a_s, a_ed + 32, end_authorize, end_dispatch, a);
	b->ch = conn_noise_new(base, fb, NULL, b_s, b_ed + 32, end_authorize, end_dispatch, b);
	assert_non_null(a->ch);
	assert_non_null(b->ch);
}

static void
send_hello(struct conn *ch, uint32_t version)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__Hello h = CUSTODY__HELLO__INIT;

	h.version = version;
	env.body_case = CUSTODY__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	assert_int_equal(conn_send(ch, &env), 0);
}

/* The handshake, then messages both ways; one is 200 KiB (four transport messages). */
static void
test_roundtrip(void **state)
{
	struct end a, b;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__ShowReply sr = CUSTODY__SHOW_REPLY__INIT;
	char *big;
	uint8_t k[32];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ends_new(&a, &b, sv[0], sv[1], b_ed + 32, a_ed + 32);
	send_hello(a.ch, 7);		/* queued before the handshake: sent after it */
	RUN_UNTIL(b.nmsgs == 1);
	assert_true(conn_established(a.ch));
	assert_true(conn_established(b.ch));
	assert_int_equal(a.authorized, 1);
	assert_int_equal(b.authorized, 1);
	assert_string_equal(conn_office(b.ch), "office");
	assert_int_equal(conn_remote_key(b.ch, k), 0);
	assert_memory_equal(k, a_ed + 32, 32);
	assert_int_equal(b.msgs[0]->body_case, CUSTODY__ENVELOPE__BODY_HELLO);
	assert_int_equal(b.msgs[0]->hello->version, 7);

	big = malloc(200 * 1024 + 1);
	memset(big, 'x', 200 * 1024);
	big[200 * 1024] = '\0';
	big[12345] = 'y';
	sr.json = big;
	env.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REPLY;
	env.show_reply = &sr;
	assert_int_equal(conn_send(b.ch, &env), 0);
	send_hello(b.ch, 9);
	send_hello(a.ch, 8);
	RUN_UNTIL(a.nmsgs == 2 && b.nmsgs == 2);
	assert_int_equal(a.nmsgs, 2);
	assert_int_equal(a.msgs[0]->body_case, CUSTODY__ENVELOPE__BODY_SHOW_REPLY);
	assert_string_equal(a.msgs[0]->show_reply->json, big);
	assert_int_equal(a.msgs[1]->hello->version, 9);
	assert_int_equal(b.nmsgs, 2);
	assert_int_equal(b.msgs[1]->hello->version, 8);
	assert_false(a.lost || b.lost);
	free(big);
	end_clear(&a);
	end_clear(&b);
}

/* Each side refuses a peer whose key it has not pinned, before dispatching anything. */
static void
test_wrong_pin(void **state)
{
	struct end a, b;
	int sv[2];

	/* the responder pins another key: refused after message 3 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ends_new(&a, &b, sv[0], sv[1], b_ed + 32, m_ed + 32);
	send_hello(a.ch, 1);
	RUN_UNTIL(a.lost && b.lost);
	assert_true(b.lost);
	assert_int_equal(b.authorized, 1);
	assert_int_equal(b.nmsgs, 0);
	assert_false(conn_established(b.ch));
	assert_non_null(strstr(b.why, "not authorized"));
	assert_true(a.lost);
	assert_non_null(strstr(a.why, "closed"));
	end_clear(&a);
	end_clear(&b);

	/* the initiator dials another key: b cannot read message 1 and hangs up in silence */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ends_new(&a, &b, sv[0], sv[1], m_ed + 32, a_ed + 32);
	send_hello(a.ch, 1);
	RUN_UNTIL(a.lost && b.lost);
	assert_true(a.lost);
	assert_non_null(strstr(a.why, "not hold the key we dialled"));
	assert_int_equal(a.authorized, 0);
	assert_true(b.lost);
	assert_int_equal(b.authorized, 0);
	assert_int_equal(b.nmsgs, 0);
	end_clear(&a);
	end_clear(&b);

	/* an impostor claims a's identity with its own static key: refused, never authorized */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.pin = b_ed + 32;
	b.pin = a_ed + 32;
	a.ch = conn_noise_new(base, sv[0], b_ed + 32, m_s, a_ed + 32, end_authorize, end_dispatch,
	    &a);
	b.ch = conn_noise_new(base, sv[1], NULL, b_s, b_ed + 32, end_authorize, end_dispatch, &b);
	send_hello(a.ch, 1);
	RUN_UNTIL(a.lost && b.lost);
	assert_true(a.lost && b.lost);
	assert_int_equal(b.authorized, 0);
	assert_int_equal(b.nmsgs, 0);
	assert_non_null(strstr(b.why, "identity key does not match"));
	end_clear(&a);
	end_clear(&b);
}

/*
 * A responder that rotated its key (now b's, before m's) answers a dial to either, the new key
 * first; a dial to a key it never held still fails in silence.
 */
static void
test_fallback(void **state)
{
	const uint8_t *dial[3] = { b_ed + 32, m_ed + 32, a_ed + 32 };
	struct end a, b;
	int sv[2], i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		ends_new(&a, &b, sv[0], sv[1], dial[i], a_ed + 32);
		assert_int_equal(conn_noise_set_fallback(b.ch, m_s), 0);
		assert_true(conn_noise_set_fallback(a.ch, m_s) < 0);	/* a responder's only */
		send_hello(a.ch, 3);
		RUN_UNTIL((a.lost && b.lost) || b.nmsgs == 1);
		if (i < 2) {
			assert_int_equal(b.nmsgs, 1);
			assert_true(conn_established(a.ch) && conn_established(b.ch));
			assert_int_equal(a.authorized, 1);
		} else {
			assert_true(a.lost && b.lost);
			assert_int_equal(b.authorized, 0);
			assert_int_equal(b.nmsgs, 0);
		}
		end_clear(&a);
		end_clear(&b);
	}
}

static void
relay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	int d = fd == r->fd[0] ? 0 : 1;
	uint8_t buf[65536];
	ssize_t n;
	size_t i, keep;

	if ((n = read(fd, buf, sizeof buf)) <= 0) {
		shutdown(r->fd[1 - d], SHUT_WR);
		event_del(r->ev[d]);
		return;
	}
	for (i = 0; i < (size_t)n; i++)
		if (d == r->dir && r->seen[d] + i == r->pos && r->cut == 0)
			buf[i] ^= 0x01;
	keep = (size_t)n;
	if (d == r->dir && r->cut > 0 && r->seen[d] + keep > r->cut)
		keep = r->cut > r->seen[d] ? r->cut - r->seen[d] : 0;
	/* a's first transport frame starts after messages 1 and 3 (53 + 101 bytes) */
	if (d == 0 && r->first_noise_len == 0 && r->seen[0] + (size_t)n > 154 &&
	    r->seen[0] <= 154 && (size_t)n - (154 - r->seen[0]) <= sizeof r->first_noise) {
		r->first_noise_len = (size_t)n - (154 - r->seen[0]);
		memcpy(r->first_noise, buf + (154 - r->seen[0]), r->first_noise_len);
	}
	assert_int_equal(write(r->fd[1 - d], buf, keep), (ssize_t)keep);
	r->seen[d] += (size_t)n;
	if (keep < (size_t)n) {
		shutdown(r->fd[0], SHUT_RDWR);
		shutdown(r->fd[1], SHUT_RDWR);
		event_del(r->ev[0]);
		event_del(r->ev[1]);
	}
}

/* a and b with a relay between them. */
static void
relay_new(struct relay *r, struct end *a, struct end *b, int dir, size_t pos, size_t cut)
{
	int sa[2], sb[2];

	memset(r, 0, sizeof *r);
	r->dir = dir;
	r->pos = pos;
	r->cut = cut;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sb), 0);
	r->fd[0] = sa[1];
	r->fd[1] = sb[1];
	r->ev[0] = event_new(base, r->fd[0], EV_READ | EV_PERSIST, relay_cb, r);
	r->ev[1] = event_new(base, r->fd[1], EV_READ | EV_PERSIST, relay_cb, r);
	event_add(r->ev[0], NULL);
	event_add(r->ev[1], NULL);
	ends_new(a, b, sa[0], sb[0], b_ed + 32, a_ed + 32);
}

static void
relay_free(struct relay *r)
{
	event_free(r->ev[0]);
	event_free(r->ev[1]);
	close(r->fd[0]);
	close(r->fd[1]);
}

/*
 * A flipped byte in any handshake message ends both sides: in the body, the type, or the top
 * of the length (a flipped low length byte only stalls the reader until the 10 s timeout).
 */
static void
test_flipped_handshake(void **state)
{
	/* message 1: a to b, bytes 0-52; message 2: b to a, 0-52; message 3: a to b, 53-153 */
	static const struct { int dir; size_t pos; } cases[] = {
		{ 0, 0 }, { 0, 4 }, { 0, 5 }, { 0, 36 }, { 0, 40 }, { 0, 52 }, { 1, 0 }, { 1, 4 },
		{ 1, 5 }, { 1, 20 }, { 1, 40 }, { 1, 52 }, { 0, 53 }, { 0, 57 }, { 0, 58 },
		{ 0, 80 }, { 0, 110 }, { 0, 137 }, { 0, 153 },
	};
	struct relay r;
	struct end a, b;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		relay_new(&r, &a, &b, cases[i].dir, cases[i].pos, 0);
		send_hello(a.ch, 1);
		RUN_UNTIL(a.lost && b.lost);
		if (!a.lost || !b.lost)
			print_error("case %zu: a lost %d, b lost %d\n", i, a.lost, b.lost);
		assert_true(a.lost && b.lost);
		assert_int_equal(a.nmsgs + b.nmsgs, 0);
		assert_false(conn_established(b.ch));
		end_clear(&a);
		end_clear(&b);
		relay_free(&r);
	}
}

/* A handshake cut short (mid-message 1, 2 or 3) ends both sides with nothing dispatched. */
static void
test_truncated_handshake(void **state)
{
	static const struct { int dir; size_t cut; } cases[] = {
		{ 0, 3 }, { 0, 20 }, { 0, 52 }, { 1, 30 }, { 1, 52 }, { 0, 70 }, { 0, 153 },
	};
	struct relay r;
	struct end a, b;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		relay_new(&r, &a, &b, cases[i].dir, 0, cases[i].cut);
		send_hello(a.ch, 1);
		RUN_UNTIL(a.lost && b.lost);
		assert_true(a.lost && b.lost);
		assert_int_equal(a.nmsgs + b.nmsgs, 0);
		assert_false(conn_established(b.ch));
		end_clear(&a);
		end_clear(&b);
		relay_free(&r);
	}
}

/* After the handshake: a garbage transport frame, or a replayed one, ends the channel. */
static void
test_garbage_and_replay(void **state)
{
	uint8_t junk[5 + 40] = { 0, 0, 0, 40, FRAME_NOISE };
	struct relay r;
	struct end a, b;

	relay_new(&r, &a, &b, -1, 0, 0);
	send_hello(a.ch, 1);
	RUN_UNTIL(b.nmsgs == 1);
	assert_int_equal(b.nmsgs, 1);
	randombytes_buf(junk + 5, 40);
	assert_int_equal(write(r.fd[1], junk, sizeof junk), (ssize_t)sizeof junk);
	RUN_UNTIL(b.lost);
	assert_true(b.lost);
	assert_int_equal(b.nmsgs, 1);
	end_clear(&a);
	end_clear(&b);
	relay_free(&r);

	relay_new(&r, &a, &b, -1, 0, 0);
	send_hello(a.ch, 1);
	RUN_UNTIL(b.nmsgs == 1);
	assert_int_equal(b.nmsgs, 1);
	assert_true(r.first_noise_len > 5);
	assert_int_equal(write(r.fd[1], r.first_noise, r.first_noise_len),
	    (ssize_t)r.first_noise_len);
	RUN_UNTIL(b.lost);
	assert_true(b.lost);
	assert_int_equal(b.nmsgs, 1);
	end_clear(&a);
	end_clear(&b);
	relay_free(&r);

	/* a handshake frame after the handshake */
	relay_new(&r, &a, &b, -1, 0, 0);
	send_hello(a.ch, 1);
	RUN_UNTIL(b.nmsgs == 1);
	junk[4] = FRAME_HANDSHAKE;
	assert_int_equal(write(r.fd[1], junk, sizeof junk), (ssize_t)sizeof junk);
	RUN_UNTIL(b.lost);
	assert_true(b.lost);
	end_clear(&a);
	end_clear(&b);
	relay_free(&r);
}

/* Raw bytes at a responder: refused, nothing dispatched, authorize never asked. */
static void
raw_refused(const uint8_t *bytes, size_t len, int close_after, const char *why)
{
	struct end b = { .pin = a_ed + 32 };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	b.ch = conn_noise_new(base, sv[1], NULL, b_s, b_ed + 32, end_authorize, end_dispatch, &b);
	assert_non_null(b.ch);
	assert_int_equal(write(sv[0], bytes, len), (ssize_t)len);
	if (close_after)
		shutdown(sv[0], SHUT_WR);
	RUN_UNTIL(b.lost);
	assert_true(b.lost);
	assert_int_equal(b.nmsgs, 0);
	assert_int_equal(b.authorized, 0);
	if (why != NULL && strstr(b.why, why) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", why, b.why);
	close(sv[0]);
	end_clear(&b);
}

/* Oversized, mistyped, empty, truncated, replayed and garbage frames before the handshake. */
static void
test_preauth(void **state)
{
	uint8_t buf[2048] = { 0 };
	struct noise_hs *hs;
	struct cbuf m1 = { 0 };

	/* a 1025-byte handshake frame: refused from its header alone */
	memcpy(buf, "\0\0\x04\x01\x04", 5);
	raw_refused(buf, 5, 0, "over the limit");
	/* a message frame, a transport frame, an unknown type before the handshake */
	memcpy(buf, "\0\0\0\x20\x01", 5);
	raw_refused(buf, 37, 0, "unexpected frame type 1");
	memcpy(buf, "\0\0\0\x20\x05", 5);
	raw_refused(buf, 37, 0, "unexpected frame type 5");
	memcpy(buf, "\0\0\0\x20\x09", 5);
	raw_refused(buf, 37, 0, NULL);
	/* an empty handshake frame; a too-short handshake message */
	memcpy(buf, "\0\0\0\0\x04", 5);
	raw_refused(buf, 5, 0, NULL);
	memcpy(buf, "\0\0\0\x10\x04", 5);
	raw_refused(buf, 21, 0, NULL);
	/* half a frame, then the connection closes */
	memcpy(buf, "\0\0\0\x20\x04", 5);
	raw_refused(buf, 20, 1, "during the handshake");
	/* garbage */
	randombytes_buf(buf, sizeof buf);
	buf[0] = 0;
	raw_refused(buf, sizeof buf, 0, NULL);
	/* a real message 1 replayed, then message 3 forged: refused before authorize */
	assert_int_equal(noise_hs_new(&hs, "XK", true, m_s, b_pub, CONN_PROLOGUE,
	    strlen(CONN_PROLOGUE)), 0);
	assert_int_equal(frame_put_header(&m1, FRAME_HANDSHAKE, 48), 0);
	assert_int_equal(noise_hs_write(hs, &m1, NULL, 0), 0);
	memcpy(buf, m1.data, m1.len);
	memcpy(buf + m1.len, "\0\0\0\x60\x04", 5);
	randombytes_buf(buf + m1.len + 5, 96);
	raw_refused(buf, m1.len + 101, 0, NULL);
	/* message 1 twice in a row: the second is no message 3 */
	memcpy(buf + m1.len, m1.data, m1.len);
	raw_refused(buf, 2 * m1.len, 0, NULL);
	noise_hs_free(hs);
	cbuf_free(&m1);
}

/*
 * A stranger's bytes at a responder: what b sent back (into got, at most cap bytes; -1 when the
 * connection is still open after b dropped it, which never happens) once b hung up.
 */
static ssize_t
stranger_probe(const uint8_t *bytes, size_t len, uint8_t *got, size_t cap, int *lost)
{
	struct end b = { .pin = a_ed + 32 };
	size_t have = 0;
	ssize_t n;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	b.ch = conn_noise_new(base, sv[1], NULL, b_s, b_ed + 32, end_authorize, end_dispatch, &b);
	assert_non_null(b.ch);
	assert_int_equal(write(sv[0], bytes, len), (ssize_t)len);
	RUN_UNTIL(b.lost);
	*lost = b.lost;
	assert_int_equal(b.authorized, 0);
	assert_int_equal(b.nmsgs, 0);
	/* whatever b wrote is in the socket buffer by now; then EOF if b hung up */
	while (have < cap && (n = recv(sv[0], got + have, cap - have, MSG_DONTWAIT)) > 0)
		have += (size_t)n;
	if (have > 0)
		print_error("the responder answered a stranger's %zu bytes with %zu bytes\n", len,
		    have);
	n = recv(sv[0], got + have, cap - have, MSG_DONTWAIT);
	close(sv[0]);
	end_clear(&b);
	return n == 0 ? (ssize_t)have : -1;
}

/* A message 1 (framed) from a fresh XK initiator that believes the responder's key is rs. */
static void
stranger_m1(struct cbuf *out, const uint8_t rs[static 32], const char *prologue, size_t plen)
{
	struct noise_hs *hs;
	uint8_t s[32], pub[32];

	assert_int_equal(noise_keypair(pub, s), 0);
	assert_int_equal(noise_hs_new(&hs, "XK", true, s, rs, prologue, strlen(prologue)), 0);
	out->len = 0;
	assert_int_equal(frame_put_header(out, FRAME_HANDSHAKE, 48 + plen), 0);
	assert_int_equal(noise_hs_write(hs, out, "probe payload of some bytes", plen), 0);
	noise_hs_free(hs);
}

/*
 * A stranger who does not know b's key, probing b's port: a well-formed message 1 made for
 * another office's key (with and without a payload), one for b's key but another protocol
 * version, random bytes shaped like an XK message 1, and an XX message 1 (an ephemeral key
 * alone, which an XX responder answers with its static key). Each time b sends not one byte
 * and hangs up. The control: a message 1 made for b's key gets message 2.
 */
static void
test_stranger(void **state)
{
	uint8_t got[512], rnd[5 + 100];
	struct cbuf m1 = { 0 };
	ssize_t n;
	int lost;

	stranger_m1(&m1, m_pub, CONN_PROLOGUE, 0);
	assert_int_equal(m1.len, 5 + 48);
	n = stranger_probe(m1.data, m1.len, got, sizeof got, &lost);
	assert_int_equal(n, 0);
	assert_true(lost);

	stranger_m1(&m1, m_pub, CONN_PROLOGUE, 20);
	assert_int_equal(stranger_probe(m1.data, m1.len, got, sizeof got, &lost), 0);
	assert_true(lost);

	stranger_m1(&m1, b_pub, "custody/1", 0);
	assert_int_equal(stranger_probe(m1.data, m1.len, got, sizeof got, &lost), 0);
	assert_true(lost);

	memcpy(rnd, "\0\0\0\x30\x04", 5);
	randombytes_buf(rnd + 5, 48);
	assert_int_equal(stranger_probe(rnd, 5 + 48, got, sizeof got, &lost), 0);
	assert_true(lost);

	memcpy(rnd, "\0\0\0\x20\x04", 5);
	assert_int_equal(noise_keypair(rnd + 5, got), 0);
	assert_int_equal(stranger_probe(rnd, 5 + 32, got, sizeof got, &lost), 0);
	assert_true(lost);

	memcpy(rnd, "\0\0\0\x64\x04", 5);
	randombytes_buf(rnd + 5, 100);
	assert_int_equal(stranger_probe(rnd, sizeof rnd, got, sizeof got, &lost), 0);
	assert_true(lost);

	/* the control: the same probe made for b's own key is answered with message 2 */
	stranger_m1(&m1, b_pub, CONN_PROLOGUE, 0);
	{
		struct end b = { .pin = a_ed + 32 };
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		b.ch = conn_noise_new(base, sv[1], NULL, b_s, b_ed + 32, end_authorize,
		    end_dispatch, &b);
		assert_int_equal(write(sv[0], m1.data, m1.len), (ssize_t)m1.len);
		RUN_UNTIL(0);
		assert_false(b.lost);
		n = recv(sv[0], got, sizeof got, MSG_DONTWAIT);
		assert_int_equal(n, 5 + 48);
		assert_int_equal(got[4], FRAME_HANDSHAKE);
		close(sv[0]);
		end_clear(&b);
	}
	cbuf_free(&m1);
}

/* Fill n bytes with a pattern of seed. */
static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed + (i >> 16));
}

/* Whether a message is the BlobData of size bytes filled by fill(seed). */
static int
is_blob(const Envelope *m, size_t size, unsigned seed)
{
	uint8_t *want;
	int ok;

	if (m->body_case != CUSTODY__ENVELOPE__BODY_BLOB_DATA || m->blob_data->size != size ||
	    m->blob_data->data.len != size)
		return 0;
	want = malloc(size + 1);
	fill(want, size, seed);
	ok = memcmp(want, m->blob_data->data.data, size) == 0;
	free(want);
	return ok;
}

/*
 * Frames encoded elsewhere (conn_send_frames) in batches large and small: a megabyte answer
 * and others after it, sealed into a room queued by reference, twice (the room kept from the
 * first), between messages sent one by one; every one arrives whole and in order, frames cut
 * across transport messages included.
 */
static void
test_send_frames(void **state)
{
	static const size_t sizes[3] = { 1u << 20, 700 * 1024 + 3, 100 };
	struct end a, b;
	struct cbuf out = { 0 };
	uint8_t *data;
	int sv[2], round, i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ends_new(&a, &b, sv[0], sv[1], b_ed + 32, a_ed + 32);
	send_hello(a.ch, 1);
	RUN_UNTIL(b.nmsgs == 1);
	assert_true(conn_established(b.ch));
	for (round = 0; round < 2; round++) {
		out.len = 0;
		for (i = 0; i < 3; i++) {
			assert_int_equal(wire_encode_blob_data(&out, sizes[i], sizes[i], &data), 0);
			fill(data, sizes[i], (unsigned)(round * 3 + i));
		}
		assert_int_equal(conn_send_frames(b.ch, &out), 0);
		send_hello(b.ch, 10 + round);
	}
	RUN_UNTIL(a.nmsgs == 8 || a.lost);
	assert_false(a.lost || b.lost);
	assert_int_equal(a.nmsgs, 8);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++)
			assert_true(is_blob(a.msgs[round * 4 + i], sizes[i],
			    (unsigned)(round * 3 + i)));
		assert_int_equal(a.msgs[round * 4 + 3]->body_case, CUSTODY__ENVELOPE__BODY_HELLO);
		assert_int_equal(a.msgs[round * 4 + 3]->hello->version, 10 + round);
	}
	cbuf_free(&out);
	end_clear(&a);
	end_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_flipped_handshake),
		cmocka_unit_test(test_truncated_handshake),
		cmocka_unit_test(test_garbage_and_replay),
		cmocka_unit_test(test_preauth),
		cmocka_unit_test(test_stranger),
		cmocka_unit_test(test_send_frames),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
