/*
 * A plain connection, as custodyd's server makes one for a local client, over a socketpair in
 * one event loop: the Hello first (anything else, or a frame over the limit before it, is
 * answered with an Error and closed, nothing dispatched); descriptors passed with a frame,
 * taken in order; a paused connection dispatches nothing until resumed; the calls that only a
 * Noise connection answers.
 */
#include <sys/types.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "custody/conn.h"

static struct event_base *base;

/* The owner of the connection under test: what it saw. */
struct owner {
	struct conn	*c;
	int		 lost, nmsgs, pause_on;
	int		 kinds[8];
};

static void
owner_dispatch(struct conn *c, Envelope *env, void *arg)
{
	struct owner *o = arg;

	if (env == NULL) {
		o->lost = 1;
		return;
	}
	if (o->nmsgs < 8)
		o->kinds[o->nmsgs] = env->body_case;
	o->nmsgs++;
	if (o->nmsgs == o->pause_on)
		conn_pause(c);
	wire_free(env);
}

/* Run the loop a little. */
static void
spin(void)
{
	int i;

	for (i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
send_msg(int fd, int body_case, const int *fds, size_t nfds)
{
	Custody__Hello h = CUSTODY__HELLO__INIT;
	Custody__StatusRequest sr = CUSTODY__STATUS_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;

	env.body_case = body_case;
	if (body_case == CUSTODY__ENVELOPE__BODY_HELLO) {
		h.version = CUSTODY_PROTOCOL_VERSION;
		env.hello = &h;
	} else
		env.status_request = &sr;
	assert_int_equal(wire_send(fd, &env, fds, nfds), 0);
}

/* The Error the connection sent back: its message contains want. */
static void
expect_error(int fd, const char *want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	Envelope *env;

	spin();
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(wire_recv(fd, &env), 0);
	assert_int_equal(env->body_case, CUSTODY__ENVELOPE__BODY_ERROR);
	if (strstr(env->error->message, want) == NULL)
		fail_msg("error '%s' does not say '%s'", env->error->message, want);
	wire_free(env);
}

static void
open_pair(int sv[2], struct owner *o)
{
	memset(o, 0, sizeof *o);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(o->c = conn_new(base, sv[1], owner_dispatch, o));
}

static void
close_pair(int sv[2], struct owner *o)
{
	close(sv[0]);
	spin();
	conn_free(o->c);
}

static void
test_hello_first(void **state)
{
	struct owner o;
	int sv[2];

	open_pair(sv, &o);
	assert_false(conn_established(o.c));
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_HELLO, NULL, 0);
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, NULL, 0);
	spin();
	assert_true(conn_established(o.c));
	assert_int_equal(o.nmsgs, 2);
	assert_int_equal(o.kinds[0], CUSTODY__ENVELOPE__BODY_HELLO);
	assert_int_equal(o.kinds[1], CUSTODY__ENVELOPE__BODY_STATUS_REQUEST);
	close_pair(sv, &o);
	assert_true(o.lost);
}

static void
test_before_hello(void **state)
{
	struct owner o;
	uint8_t big[5] = { 0, 0, 0x13, 0x88, FRAME_MSG };	/* 5000 bytes */
	int sv[2];

	open_pair(sv, &o);
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, NULL, 0);
	expect_error(sv[0], "expected hello");
	assert_int_equal(o.nmsgs, 0);
	close_pair(sv, &o);
	assert_true(o.lost);

	open_pair(sv, &o);
	assert_int_equal(write(sv[0], big, sizeof big), (ssize_t)sizeof big);
	expect_error(sv[0], "over the limit of 4096");
	assert_int_equal(o.nmsgs, 0);
	close_pair(sv, &o);
	assert_true(o.lost);
}

static void
test_descriptors(void **state)
{
	struct owner o;
	struct stat a, b, got;
	int sv[2], fds[2], p[2], fd;

	assert_int_equal(pipe(p), 0);
	close(p[1]);
	fds[0] = p[0];
	assert_true((fds[1] = open("/dev/null", O_RDONLY)) >= 0);
	open_pair(sv, &o);
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_HELLO, fds, 2);
	spin();
	assert_int_equal(o.nmsgs, 1);
	assert_int_equal(fstat(fds[0], &a), 0);
	assert_int_equal(fstat(fds[1], &b), 0);
	assert_true((fd = conn_take_fd(o.c)) >= 0);
	assert_int_equal(fstat(fd, &got), 0);
	assert_true(got.st_ino == a.st_ino);
	close(fd);
	assert_true((fd = conn_take_fd(o.c)) >= 0);
	assert_int_equal(fstat(fd, &got), 0);
	assert_true(got.st_ino == b.st_ino);
	close(fd);
	assert_int_equal(conn_take_fd(o.c), -1);
	close(fds[0]);
	close(fds[1]);
	close_pair(sv, &o);
}

static void
test_pause(void **state)
{
	struct owner o;
	int sv[2];

	open_pair(sv, &o);
	o.pause_on = 2;
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_HELLO, NULL, 0);
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, NULL, 0);
	send_msg(sv[0], CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, NULL, 0);
	spin();
	assert_int_equal(o.nmsgs, 2);		/* paused after the second */
	conn_resume(o.c);
	spin();
	assert_int_equal(o.nmsgs, 3);		/* the third, already buffered */
	close_pair(sv, &o);
}

static void
test_noise_only(void **state)
{
	struct owner o;
	uint8_t k[32] = { 0 };
	int sv[2];

	open_pair(sv, &o);
	assert_null(conn_office(o.c));
	assert_int_equal(conn_remote_key(o.c, k), CUSTODY_ENOTFOUND);
	assert_int_equal(conn_noise_set_fallback(o.c, k), CUSTODY_EINVAL);
	assert_string_equal(conn_error(o.c), "");
	close(sv[0]);
	spin();
	assert_true(o.lost);
	assert_string_equal(conn_error(o.c), "connection closed by the peer");
	conn_free(o.c);
}

static int
setup(void **state)
{
	return (base = event_base_new()) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	event_base_free(base);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_first),
		cmocka_unit_test(test_before_hello),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_pause),
		cmocka_unit_test(test_noise_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
