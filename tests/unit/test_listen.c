/*
 * The peer port's budgets, on a real listener (daemon/service/listen.c) over loopback TCP, in one event
 * loop. Strangers (connections that never send a byte of the handshake) are held to 4 per
 * address, the oldest from that address closed when a fifth comes, and to 32 in all, the oldest
 * of the busiest address closed to make room; the listener never stops accepting. A pinned
 * office gets in while 64 strangers knock (it counts in the peers' budget, which strangers never
 * touch), and holds at most 4 connections: its fifth closes its oldest idle one. Out of
 * descriptors, the listener closes the oldest stranger and accepts the newcomer.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sodium.h>

#include "custody/conn.h"
#include "peers.h"
#include "server.h"

/* as in daemon/service/listen.c */
#define MAX_STRANGERS 32
#define MAX_PER_ADDR 4
#define MAX_PER_OFFICE 4

static char dir[64];
static struct archive *a;
static struct server srv;
static uint8_t b_pk[32], *b_sk, b_x[NOISE_KEY_LEN], b_xpub[NOISE_KEY_LEN];

/* One connection from the pinned office b. */
struct office_conn {
	struct conn	*ch;
	int		 welcomed;
	int		 lost;
};

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(srv.base);
}

/* Run the loop until cond holds or two seconds pass. */
#define RUN_UNTIL(cond) do {						\
	struct timeval tv_ = { 0, 20000 };				\
	for (int i_ = 0; i_ < 100 && !(cond); i_++) {			\
		event_base_once(srv.base, -1, EV_TIMEOUT, stop_cb, NULL, &tv_); \
		event_base_dispatch(srv.base);				\
	}								\
} while (0)

/* Run the loop for a moment (the listener accepts what is waiting). */
static void
run_a_little(void)
{
	struct timeval tv = { 0, 5000 };

	event_base_once(srv.base, -1, EV_TIMEOUT, stop_cb, NULL, &tv);
	event_base_dispatch(srv.base);
}

static int
setup(void **state)
{
	char *cause = NULL;

	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof dir, "/tmp/custody-listen.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	strcat(dir, "/a");
	if (archive_create(dir, "hq", NULL, &cause) < 0 ||
	    archive_open(&a, dir, NULL, 0, &cause) < 0 || peers_init(a) < 0) {
		fprintf(stderr, "%s\n", cause != NULL ? cause : custody_error());
		return -1;
	}
	b_sk = sodium_malloc(ED25519_SK_LEN);
	crypto_sign_keypair(b_pk, b_sk);
	if (noise_static_from_ed25519(b_x, b_xpub, b_sk) < 0 ||
	    peers_add(a, "branch", "127.0.0.1:9", b_pk) < 0)
		return -1;
	srv.a = a;
	srv.listen_fd = -1;
	srv.base = event_base_new();
	return srv.base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	peers_shutdown();
	archive_close(a);
	event_base_free(srv.base);
	sodium_free(b_sk);
	dir[strlen(dir) - 2] = '\0';
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A listener on a free loopback port; its port in *port. */
static struct listen *
listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	struct listen *l = NULL;
	char addr[64], *cause = NULL;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	*port = ntohs(sin.sin_port);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", *port);
	assert_int_equal(listen_start(&l, &srv, addr, &cause), 0);
	return l;
}

/* An idle TCP connection to port from source address 127.0.0.src, accepted by the loop. */
static int
stranger(int port, int src)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	sin.sin_addr.s_addr = htonl(0x7f000000 | (uint32_t)src);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	run_a_little();
	return fd;
}

/* Did the daemon close fd? (It never sends a stranger anything before message 1.) */
static int
closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	run_a_little();
	if (poll(&p, 1, 0) == 0)
		return 0;
	return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static const char *
office_authorize(struct conn *ch, const uint8_t remote[static 32], void *arg)
{
	return sodium_memcmp(remote, a->office_pk, 32) == 0 ? "hq" : NULL;
}

static void
office_dispatch(struct conn *ch, Envelope *env, void *arg)
{
	struct office_conn *c = arg;

	if (env == NULL)
		c->lost = 1;
	else if (env->body_case == CUSTODY__ENVELOPE__BODY_PEER_WELCOME)
		c->welcomed = 1;
	wire_free(env);
}

/* The pinned office connects, says hello and waits for the welcome (or the end). */
static void
office_connect(struct office_conn *c, int port)
{
	Custody__PeerHello h = CUSTODY__PEER_HELLO__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	int fd = stranger(port, 1);

	memset(c, 0, sizeof *c);
	c->ch = conn_noise_new(srv.base, fd, a->office_pk, b_x, b_pk, office_authorize, office_dispatch, c);
	assert_non_null(c->ch);
	h.office = (char *)"branch";
	h.version = CUSTODY_PROTOCOL_VERSION;
	env.body_case = CUSTODY__ENVELOPE__BODY_PEER_HELLO;
	env.peer_hello = &h;
	assert_int_equal(conn_send(c->ch, &env), 0);
	RUN_UNTIL(c->welcomed || c->lost);
}

/* A fifth idle connection from one address closes the oldest from that address only. */
static void
test_per_address(void **state)
{
	struct listen *l;
	int port, fd[MAX_PER_ADDR + 2], other, i;

	l = listener(&port);
	other = stranger(port, 3);
	for (i = 0; i < MAX_PER_ADDR + 2; i++)
		fd[i] = stranger(port, 2);
	assert_true(closed(fd[0]));
	assert_true(closed(fd[1]));
	for (i = 2; i < MAX_PER_ADDR + 2; i++)
		assert_false(closed(fd[i]));
	assert_false(closed(other));
	for (i = 0; i < MAX_PER_ADDR + 2; i++)
		close(fd[i]);
	close(other);
	listen_stop(l);
}

/* With the budget full, a newcomer closes the oldest connection of the busiest address. */
static void
test_budget(void **state)
{
	struct listen *l;
	int port, fd[MAX_STRANGERS], one, late, i;

	l = listener(&port);
	one = stranger(port, 40);		/* the oldest of all, alone at its address */
	for (i = 0; i < MAX_STRANGERS - 1; i++)	/* 31 from 8 addresses, 4 at most each */
		fd[i] = stranger(port, 10 + i / MAX_PER_ADDR);
	for (i = 0; i < MAX_STRANGERS - 1; i++)
		assert_false(closed(fd[i]));
	late = stranger(port, 50);
	assert_false(closed(late));
	assert_false(closed(one));		/* not the busiest address */
	assert_true(closed(fd[0]));		/* the oldest of a busiest one */
	for (i = 1; i < MAX_STRANGERS - 1; i++)
		assert_false(closed(fd[i]));
	for (i = 0; i < MAX_STRANGERS - 1; i++)
		close(fd[i]);
	close(one);
	close(late);
	listen_stop(l);
}

/* 64 strangers from 16 addresses, then the pinned office: it gets in, and stays. */
static void
test_office_among_strangers(void **state)
{
	struct listen *l;
	struct office_conn c;
	int port, fd[64], more[40], i;

	l = listener(&port);
	for (i = 0; i < 64; i++)
		fd[i] = stranger(port, 100 + i / MAX_PER_ADDR);
	office_connect(&c, port);
	assert_false(c.lost);
	assert_true(c.welcomed);
	for (i = 0; i < 40; i++)		/* strangers evict strangers, never the office */
		more[i] = stranger(port, 150 + i);
	RUN_UNTIL(c.lost);
	assert_false(c.lost);
	for (i = 0; i < 64; i++)
		close(fd[i]);
	for (i = 0; i < 40; i++)
		close(more[i]);
	conn_free(c.ch);
	listen_stop(l);
}

/* The office's fifth connection closes its oldest idle one. */
static void
test_per_office(void **state)
{
	struct listen *l;
	struct office_conn c[MAX_PER_OFFICE + 1];
	int port, i;

	l = listener(&port);
	for (i = 0; i < MAX_PER_OFFICE + 1; i++) {
		office_connect(&c[i], port);
		assert_true(c[i].welcomed);
	}
	RUN_UNTIL(c[0].lost);
	assert_true(c[0].lost);
	for (i = 1; i < MAX_PER_OFFICE + 1; i++)
		assert_false(c[i].lost);
	for (i = 0; i < MAX_PER_OFFICE + 1; i++)
		conn_free(c[i].ch);
	listen_stop(l);
}

/* Out of descriptors: the oldest stranger makes room for the newcomer. */
static void
test_out_of_descriptors(void **state)
{
	struct listen *l;
	struct rlimit old, rl;
	int port, fd[2], late, f;

	l = listener(&port);
	fd[0] = stranger(port, 60);
	fd[1] = stranger(port, 61);
	/* only the lowest free descriptor may be opened: the newcomer's end takes it */
	assert_true((f = dup(0)) >= 0);
	close(f);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)f + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	late = stranger(port, 62);
	assert_true(closed(fd[0]));
	assert_false(closed(fd[1]));
	assert_false(closed(late));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	close(fd[0]);
	close(fd[1]);
	close(late);
	listen_stop(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_address),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_office_among_strangers),
		cmocka_unit_test(test_per_office),
		cmocka_unit_test(test_out_of_descriptors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
