/*
 * custody.conf for peers: [daemon] listen and [peer NAME] sections (unknown settings in them
 * tolerated, bad keys and names refused), and the HOST:PORT addresses peers use.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "peers.h"

static const char *key_line =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

/* Load text as custody.conf; the return of conf_load, cause freed. */
static int
load(struct conf *c, const char *text)
{
	char path[] = "/tmp/custody-conf-XXXXXX", *cause = NULL;
	int fd = mkstemp(path), error;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	error = conf_load(c, path, &cause);
	unlink(path);
	free(cause);
	return error;
}

static void
test_peer_sections(void **state)
{
	struct conf c;
	char text[1024];
	uint8_t pk[32];

	assert_int_equal(sshkey_parse_pub(pk, NULL, key_line), 0);
	snprintf(text, sizeof text, "[office]\nname = alpha\n[daemon]\nlisten = 0.0.0.0:7000\n"
	    "[peer beta]\naddress = 10.0.0.2:7000\nkey = %s beta\ninvited = 2026-01-01\n"
	    "[peer gamma]\nnote = no key yet\n", key_line);
	assert_int_equal(load(&c, text), 0);
	assert_string_equal(c.listen, "0.0.0.0:7000");
	assert_int_equal(c.npeers, 2);
	assert_string_equal(c.peers[0].name, "beta");
	assert_string_equal(c.peers[0].address, "10.0.0.2:7000");
	assert_true(c.peers[0].has_key);
	assert_memory_equal(c.peers[0].pk, pk, 32);
	assert_string_equal(c.peers[1].name, "gamma");
	assert_false(c.peers[1].has_key);
	conf_free(&c);

	assert_int_equal(load(&c, "[office]\nname = alpha\n[peer beta]\nkey = ssh-rsa AAAA\n"),
	    CUSTODY_EINVAL);
	conf_free(&c);
	assert_int_equal(load(&c, "[office]\nname = alpha\n[peer no/such]\naddress = a:1\n"),
	    CUSTODY_EINVAL);
	conf_free(&c);
}

static void
test_addresses(void **state)
{
	static const char *good[][3] = {
		{ "127.0.0.1:7000", "127.0.0.1", "7000" },
		{ "office.example.org:1", "office.example.org", "1" },
		{ "[::1]:65535", "::1", "65535" },
	};
	static const char *bad[] = {
		"nowhere", ":7000", "host:", "host:0", "host:65536", "host:12x", "ho st:1",
		"[::1:7000", "host:-1", "a\nb:1", "[]:1",
	};
	char host[256], port[8];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(peers_split_address(host, sizeof host, port, sizeof port,
		    good[i][0]), 0);
		assert_string_equal(host, good[i][1]);
		assert_string_equal(port, good[i][2]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (peers_split_address(host, sizeof host, port, sizeof port, bad[i]) == 0)
			fail_msg("accepted %s", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_sections),
		cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
