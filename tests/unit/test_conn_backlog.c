/*
 * An end that sends requests and never reads the answers, against a connection whose owner
 * answers each request with 64 KiB (as custodyd answers a query, or a peer's blob request):
 * the connection stops taking requests once a few MiB of answers wait unread, so that memory
 * stays bounded, and takes them again when the other end reads; an end that reads nothing at
 * all is dropped after the idle timeout, and so is one that reads nothing of what a closing
 * connection still has for it. Plain (local clients) and Noise (offices).
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sodium.h>

#include "custody/conn.h"

#define REPLY_LEN (64 * 1024)
#define FLOOD 1000
/* What may wait unread before the connection stops taking requests, with room for the
 * socket's own buffers: well under what FLOOD answers make (62.5 MiB). */
#define BOUND_MSGS 160

static struct event_base *base;
static char *reply_text;

/* The connection under test and its owner, who answers every request but a Hello. */
struct server {
	struct conn	*c;
	int		 nmsgs, lost;
	char		 why[256];
};

static void
server_dispatch(struct conn *c, Envelope *env, void *arg)
{
	struct server *s = arg;
	Envelope rep = CUSTODY__ENVELOPE__INIT;
	Custody__ShowReply sr = CUSTODY__SHOW_REPLY__INIT;

	if (env == NULL) {
		s->lost = 1;
		snprintf(s->why, sizeof s->why, "%s", conn_error(c));
		return;
	}
	if (env->body_case != CUSTODY__ENVELOPE__BODY_HELLO) {
		s->nmsgs++;
		sr.json = reply_text;
		rep.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REPLY;
		rep.show_reply = &sr;
		assert_int_equal(conn_send(c, &rep), 0);
	}
	wire_free(env);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

/* Run the loop for ms milliseconds, or until cond holds. */
#define RUN_FOR(ms, cond) do {						\
	struct timeval tv_ = { 0, 20000 };				\
	for (int i_ = 0; i_ < (ms) / 20 && !(cond); i_++) {		\
		event_base_once(base, -1, EV_TIMEOUT, stop_cb, NULL, &tv_); \
		event_base_dispatch(base);				\
	}								\
} while (0)

static int
setup(void **state)
{
	if (sodium_init() < 0 || (base = event_base_new()) == NULL ||
	    (reply_text = malloc(REPLY_LEN + 1)) == NULL)
		return -1;
	memset(reply_text, 'r', REPLY_LEN);
	reply_text[REPLY_LEN] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	free(reply_text);
	event_base_free(base);
	return 0;
}

static void
frames_of(struct cbuf *out, int body_case, uint32_t version)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__Hello h = CUSTODY__HELLO__INIT;
	Custody__StatusRequest sr = CUSTODY__STATUS_REQUEST__INIT;

	env.body_case = body_case;
	if (body_case == CUSTODY__ENVELOPE__BODY_HELLO) {
		h.version = version;
		env.hello = &h;
	} else
		env.status_request = &sr;
	assert_int_equal(wire_encode(out, &env), 0);
}

/* A plain connection on sv[1]; on sv[0] a Hello and FLOOD requests, sent and not read. */
static void
plain_flood(int sv[2], struct server *s)
{
	struct cbuf out = { 0 };
	size_t off = 0;
	ssize_t w;
	int i;

	memset(s, 0, sizeof *s);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(s->c = conn_new(base, sv[1], server_dispatch, s));
	frames_of(&out, CUSTODY__ENVELOPE__BODY_HELLO, CUSTODY_PROTOCOL_VERSION);
	for (i = 0; i < FLOOD; i++)
		frames_of(&out, CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, 0);
	/* the requests are small: the socket's buffer takes them all */
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	while (off < out.len) {
		w = write(sv[0], out.data + off, out.len - off);
		if (w < 0 && errno == EAGAIN) {
			RUN_FOR(20, 0);
			continue;
		}
		assert_true(w > 0);
		off += (size_t)w;
	}
	cbuf_free(&out);
}

/* Run what is ready, without waiting. */
static void
spin(void)
{
	int i;

	for (i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Read everything there is on fd now; the number of bytes. */
static size_t
drain(int fd)
{
	static uint8_t buf[1 << 16];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) > 0)
		n += (size_t)r;
	return n;
}

/* Requests and no reading: a bounded number answered; reading: every one answered. */
static void
test_plain_backlog(void **state)
{
	struct server s;
	struct cbuf one = { 0 };
	Envelope rep = CUSTODY__ENVELOPE__INIT;
	Custody__ShowReply sr = CUSTODY__SHOW_REPLY__INIT;
	size_t got = 0;
	int sv[2], i;

	sr.json = reply_text;
	rep.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REPLY;
	rep.show_reply = &sr;
	assert_int_equal(wire_encode(&one, &rep), 0);
	plain_flood(sv, &s);
	RUN_FOR(1000, 0);
	if (s.nmsgs >= BOUND_MSGS)
		fail_msg("%d requests answered (%d MiB) while nothing was read", s.nmsgs,
		    s.nmsgs / 16);
	assert_true(s.nmsgs > 0);
	assert_false(s.lost);
	/* the other end reads: the rest is taken and answered, every byte arrives */
	for (i = 0; i < 200000 && (s.nmsgs < FLOOD || got < (size_t)FLOOD * one.len); i++) {
		got += drain(sv[0]);
		spin();
	}
	got += drain(sv[0]);
	assert_int_equal(s.nmsgs, FLOOD);
	assert_int_equal(got, (size_t)FLOOD * one.len);
	assert_false(s.lost);
	cbuf_free(&one);
	close(sv[0]);
	RUN_FOR(200, s.lost);
	conn_free(s.c);
}

/* An end that reads nothing of the answers is dropped after the idle timeout. */
static void
test_plain_reads_nothing(void **state)
{
	struct server s;
	int sv[2];

	plain_flood(sv, &s);
	conn_set_timeout(s.c, 1);
	RUN_FOR(4000, s.lost);
	assert_true(s.lost);
	if (strstr(s.why, "reads nothing") == NULL)
		fail_msg("dropped because '%s'", s.why);
	close(sv[0]);
	conn_free(s.c);
}

/* Closing with answers left unread: the connection goes after the timeout, not never. */
static void
test_plain_close_unread(void **state)
{
	struct server s;
	int sv[2];

	plain_flood(sv, &s);
	conn_set_timeout(s.c, 1);
	RUN_FOR(300, 0);
	assert_false(s.lost);
	conn_send_error(s.c, CUSTODY_EPROTO, "go away");
	RUN_FOR(4000, s.lost);
	assert_true(s.lost);
	close(sv[0]);
	conn_free(s.c);
}

/* The same over Noise: a pinned office that sends requests and reads no answer. */
static const char *
office_authorize(struct conn *c, const uint8_t remote[static 32], void *arg)
{
	return "office";
}

struct asker {
	int	 nmsgs, lost;
};

static void
asker_dispatch(struct conn *c, Envelope *env, void *arg)
{
	struct asker *k = arg;

	if (env == NULL)
		k->lost = 1;
	else
		k->nmsgs++;
	wire_free(env);
}

static void
test_noise_backlog(void **state)
{
	uint8_t a_ed[64], b_ed[64], a_s[32], a_pub[32], b_s[32], b_pub[32];
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__StatusRequest sr = CUSTODY__STATUS_REQUEST__INIT;
	struct server s;
	struct asker k;
	struct conn *a;
	int sv[2], i;

	memset(&s, 0, sizeof s);
	memset(&k, 0, sizeof k);
	crypto_sign_keypair(a_ed + 32, a_ed);
	crypto_sign_keypair(b_ed + 32, b_ed);
	assert_int_equal(noise_static_from_ed25519(a_s, a_pub, a_ed), 0);
	assert_int_equal(noise_static_from_ed25519(b_s, b_pub, b_ed), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(a = conn_noise_new(base, sv[0], b_ed + 32, a_s, a_ed + 32,
	    office_authorize, asker_dispatch, &k));
	assert_non_null(s.c = conn_noise_new(base, sv[1], NULL, b_s, b_ed + 32,
	    office_authorize, server_dispatch, &s));
	env.body_case = CUSTODY__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &sr;
	for (i = 0; i < FLOOD; i++)
		assert_int_equal(conn_send(a, &env), 0);
	RUN_FOR(2000, conn_established(a) && k.nmsgs > 0);
	conn_pause(a);		/* from here on it reads nothing */
	RUN_FOR(1500, 0);
	if (s.nmsgs >= BOUND_MSGS + k.nmsgs)
		fail_msg("%d requests answered while %d answers were read", s.nmsgs, k.nmsgs);
	assert_false(s.lost);
	conn_resume(a);
	RUN_FOR(30000, k.nmsgs == FLOOD);
	assert_int_equal(s.nmsgs, FLOOD);
	assert_int_equal(k.nmsgs, FLOOD);
	assert_false(s.lost || k.lost);
	conn_free(a);
	RUN_FOR(200, s.lost);
	conn_free(s.c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_backlog),
		cmocka_unit_test(test_plain_reads_nothing),
		cmocka_unit_test(test_plain_close_unread),
		cmocka_unit_test(test_noise_backlog),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
