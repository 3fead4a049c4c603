/* Frames and envelopes: limits, partial input, malformed bodies, descriptor passing. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/wire.h"

/* Whole frames parse; partial ones ask for more; limits and types are enforced. */
static void
test_frame_parse(void **state)
{
	uint8_t buf[16] = { 0, 0, 0, 3, FRAME_MSG, 'a', 'b', 'c', 0xff };
	struct frame f;
	size_t used, n;

	for (n = 0; n < 8; n++) {
		assert_int_equal(frame_parse(&f, &used, buf, n, 100), 0);
		assert_int_equal(used, 0);
	}
	assert_int_equal(frame_parse(&f, &used, buf, 9, 100), 0);
	assert_int_equal(used, 8);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.body, "abc", 3);
	assert_int_equal(frame_parse(&f, &used, buf, 9, 2), CUSTODY_ETOOBIG);
	buf[4] = 9;
	assert_int_equal(frame_parse(&f, &used, buf, 9, 100), CUSTODY_EPROTO);
	memcpy(buf, "\x7f\xff\xff\xff\x01", 5);
	assert_int_equal(frame_parse(&f, &used, buf, 5, FRAME_MAX), CUSTODY_ETOOBIG);
	memcpy(buf, "\0\0\0\0\x01", 5);
	assert_int_equal(frame_parse(&f, &used, buf, 5, FRAME_MAX), CUSTODY_EPROTO);
	buf[4] = FRAME_DATA_END;
	assert_int_equal(frame_parse(&f, &used, buf, 5, FRAME_MAX), 0);
	assert_int_equal(used, 5);
}

/* An envelope survives encode/decode; garbage and empty envelopes do not decode. */
static void
test_envelope(void **state)
{
	Custody__GetRequest g = CUSTODY__GET_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *back = NULL;
	struct cbuf b = { 0 };
	struct frame f;
	size_t used;
	static const uint8_t garbage[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2 };
	static const uint8_t unknown[] = { 0xf8, 0x3e, 0x01 };	/* field 999, varint 1 */

	g.id = "abc";
	env.body_case = CUSTODY__ENVELOPE__BODY_GET_REQUEST;
	env.get_request = &g;
	assert_int_equal(wire_encode(&b, &env), 0);
	assert_int_equal(frame_parse(&f, &used, b.data, b.len, FRAME_MAX), 0);
	assert_int_equal(used, b.len);
	assert_int_equal(wire_decode(&back, f.body, f.len), 0);
	assert_int_equal(back->body_case, CUSTODY__ENVELOPE__BODY_GET_REQUEST);
	assert_string_equal(back->get_request->id, "abc");
	assert_string_equal(wire_name(back), "get_request");
	wire_free(back);
	cbuf_free(&b);
	assert_int_equal(wire_decode(&back, garbage, sizeof garbage), CUSTODY_EPROTO);
	assert_null(back);
	assert_int_equal(wire_decode(&back, unknown, sizeof unknown), CUSTODY_EPROTO);
	assert_null(back);
}

/* A descriptor sent with a frame arrives with it. */
static void
test_send_fd(void **state)
{
	Custody__Hello h = CUSTODY__HELLO__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT, *back = NULL;
	int sv[2], fd = open("/dev/null", O_RDONLY), got = -1;
	char cbufm[CMSG_SPACE(sizeof(int))];
	uint8_t data[256];
	struct iovec iov = { data, sizeof data };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbufm,
	    .msg_controllen = sizeof cbufm };
	struct cmsghdr *c;
	struct frame f;
	size_t used;
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h.version = CUSTODY_PROTOCOL_VERSION;
	env.body_case = CUSTODY__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	assert_int_equal(wire_send(sv[0], &env, &fd, 1), 0);
	n = recvmsg(sv[1], &mh, 0);
	assert_true(n > 0);
	c = CMSG_FIRSTHDR(&mh);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(c), sizeof got);
	assert_true(got >= 0);
	assert_int_equal(frame_parse(&f, &used, data, (size_t)n, FRAME_MAX_HELLO), 0);
	assert_int_equal(wire_decode(&back, f.body, f.len), 0);
	assert_int_equal(back->hello->version, CUSTODY_PROTOCOL_VERSION);
	wire_free(back);
	close(got);
	close(fd);
	/* a closed peer is an error, not a hang */
	close(sv[1]);
	assert_true(wire_recv(sv[0], &back) < 0);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_parse),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_send_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
