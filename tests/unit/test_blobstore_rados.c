/*
 * The blob store's [blobs] settings (blobstore-conf.c), each bad value refused with a message
 * naming it, and, when built with librados, a RADOS store whose monitors do not answer: opening
 * it fails within its timeout saying Ceph is unreachable, instead of librados' default of
 * waiting five minutes (client_mount_timeout) or forever.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/common.h"
#include "blobstore.h"

/* set section name value: what blobstore_conf_set says, the message freed. */
static int
set(struct blobstore_conf *c, const char *name, const char *value, const char *want_bad)
{
	char *bad = NULL;
	int r = blobstore_conf_set(c, "blobs", name, value, &bad);

	if (want_bad != NULL) {
		assert_non_null(bad);
		if (strstr(bad, want_bad) == NULL)
			fail_msg("'%s' lacks '%s'", bad, want_bad);
	} else
		assert_null(bad);
	free(bad);
	return r;
}

static void
test_conf(void **state)
{
	struct blobstore_conf c;
	char *bad = NULL;

	(void)state;
	blobstore_conf_init(&c);
	assert_int_equal(c.kind, BLOBSTORE_LOCAL);
	assert_string_equal(c.pool, "custody");
	assert_string_equal(c.ceph_conf, "/etc/ceph/ceph.conf");
	assert_string_equal(c.client, "client.custody");
	assert_int_equal(c.timeout, 10);

	assert_int_equal(set(&c, "store", "rados", NULL), 1);
	assert_int_equal(c.kind, BLOBSTORE_RADOS);
	assert_int_equal(set(&c, "pool", "evidence", NULL), 1);
	assert_string_equal(c.pool, "evidence");
	assert_int_equal(set(&c, "ceph_conf", "/srv/ceph.conf", NULL), 1);
	assert_int_equal(set(&c, "client", "client.hq", NULL), 1);
	assert_string_equal(c.client, "client.hq");
	assert_int_equal(set(&c, "timeout", "3", NULL), 1);
	assert_int_equal(c.timeout, 3);

	assert_int_equal(set(&c, "store", "s3", "[blobs] store = s3: not local or rados"), -1);
	assert_int_equal(set(&c, "pool", "", "[blobs] pool = : empty"), -1);
	assert_int_equal(set(&c, "pool", "a b", "space"), -1);
	assert_int_equal(set(&c, "ceph_conf", "ceph.conf", "not an absolute path"), -1);
	assert_int_equal(set(&c, "client", "admin", "not a cephx client name"), -1);
	assert_int_equal(set(&c, "client", "client.", "not a cephx client name"), -1);
	assert_int_equal(set(&c, "timeout", "0", "not seconds"), -1);
	assert_int_equal(set(&c, "timeout", "3601", "not seconds"), -1);
	assert_int_equal(set(&c, "timeout", "-1", "not seconds"), -1);
	assert_int_equal(set(&c, "timeout", "5s", "not seconds"), -1);
	assert_int_equal(c.kind, BLOBSTORE_RADOS);	/* bad values change nothing */
	assert_string_equal(c.pool, "evidence");
	assert_int_equal(c.timeout, 3);

	assert_int_equal(blobstore_conf_set(&c, "index", "store", "x", &bad), 0);
	assert_int_equal(blobstore_conf_set(&c, "blobs", "colour", "x", &bad), 0);
	assert_null(bad);
#ifdef CUSTODY_RADOS
	assert_int_equal(blobstore_conf_check(&c, &bad), 0);
#else
	assert_int_equal(blobstore_conf_check(&c, &bad), -1);
	assert_non_null(strstr(bad, "built without librados"));
	free(bad);
#endif
	blobstore_conf_free(&c);
	blobstore_conf_free(&c);	/* twice is safe */
}

#ifdef CUSTODY_RADOS
/* A monitor address where a socket is bound but never accepts: connects hang, not fail. */
static void
test_unreachable(void **state)
{
	struct blobstore_conf c;
	struct blobstore *s = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	char dir[] = "/tmp/custody-rados-XXXXXX", conf[256], keyring[256], *cause = NULL;
	struct timespec t0, t1;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(keyring, sizeof keyring, "%s/keyring", dir);
	assert_non_null(f = fopen(keyring, "w"));
	fprintf(f, "[client.custody]\n\tkey = AQC+ohRr9b4zAhAA/XJIVIY82K/qqD0ncW7CDQ==\n");
	fclose(f);
	snprintf(conf, sizeof conf, "%s/ceph.conf", dir);
	assert_non_null(f = fopen(conf, "w"));
	fprintf(f, "[global]\nfsid = 7d7c3a57-2d1f-4f4e-9a37-6f0e4f6c1a11\nmon host = "
	    "v2:127.0.0.1:%u\nkeyring = %s\nlog file = /dev/null\n", ntohs(sa.sin_port),
	    keyring);
	fclose(f);

	blobstore_conf_init(&c);
	c.kind = BLOBSTORE_RADOS;
	c.timeout = 2;
	free(c.ceph_conf);
	c.ceph_conf = strdup(conf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(blobstore_open(&s, &c, dir, &cause) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(s);
	assert_non_null(cause);
	if (strstr(cause, "ceph unreachable: no monitor") == NULL)
		fail_msg("cause: %s", cause);
	if (t1.tv_sec - t0.tv_sec > 30)
		fail_msg("took %ld s for a 2 s timeout", (long)(t1.tv_sec - t0.tv_sec));
	free(cause);

	free(c.ceph_conf);
	c.ceph_conf = strdup("/nonexistent/ceph.conf");
	cause = NULL;
	assert_true(blobstore_open(&s, &c, dir, &cause) < 0);
	assert_non_null(strstr(cause, "ceph: cannot read /nonexistent/ceph.conf"));
	free(cause);
	blobstore_conf_free(&c);
	close(fd);
	unlink(keyring);
	unlink(conf);
	rmdir(dir);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
#ifdef CUSTODY_RADOS
		cmocka_unit_test(test_unreachable),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
