/*
 * conf_rewrite_set (daemon/engine/conf-rewrite.c), as custodyd blobs migrate uses it on
 * custody.conf's [blobs] store: the admin's other lines, comments and blanks kept byte for
 * byte, the key set in its section only (not [index] store, not a commented-out line), added
 * under the section's header or with a new section, the file's mode kept, no temporary left
 * beside it, and the result read back by conf_load as the new store.
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"

static char dir[] = "/tmp/custody-confrw-XXXXXX";
static char file[64];

/* Write text as the conf file with mode, rewrite [blobs] store = value, return the result. */
static char *
rewrite(const char *text, mode_t mode, const char *value)
{
	char *cause = NULL, *out;
	FILE *f;
	long n;

	f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(file, mode), 0);
	assert_int_equal(conf_rewrite_set(file, "blobs", "store", value, &cause), 0);
	assert_null(cause);
	f = fopen(file, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

/* Only the conf file is in the directory: the temporary was renamed, none left. */
static void
alone(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, 1);
}

static const char *head =
    "# custody archive configuration\n"
    "[office]\n"
    "name = alpha\n"
    "\n"
    "[index]\n"
    "store = file\n"
    "\n";

static void
test_replaces_in_place(void **state)
{
	char text[2048], want[2048], *out;
	struct conf c;
	char *cause = NULL;
	struct stat st;

	(void)state;
	snprintf(text, sizeof text, "%s"
	    "; where the evidence lives\n"
	    "[blobs]\n"
	    "; store = rados\n"
	    "  store  =  local   \n"
	    "pool = custody\n"
	    "ceph_conf = /etc/ceph/ceph.conf\n"
	    "\n"
	    "[sync]\n"
	    "interval = 300", head);
	snprintf(want, sizeof want, "%s"
	    "; where the evidence lives\n"
	    "[blobs]\n"
	    "; store = rados\n"
	    "  store = rados\n"
	    "pool = custody\n"
	    "ceph_conf = /etc/ceph/ceph.conf\n"
	    "\n"
	    "[sync]\n"
	    "interval = 300\n", head);
	out = rewrite(text, 0640, "rados");
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	alone();
	assert_int_equal(conf_load(&c, file, &cause), 0);
	assert_int_equal(c.blobs.kind, BLOBSTORE_RADOS);
	assert_string_equal(c.blobs.pool, "custody");
	conf_free(&c);

	/* and back: the same file with local */
	out = rewrite(want, 0600, "local");
	assert_non_null(strstr(out, "\n  store = local\n"));
	assert_non_null(strstr(out, "[index]\nstore = file\n"));
	assert_non_null(strstr(out, "; store = rados\n"));
	free(out);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_adds_under_header(void **state)
{
	char text[1024], want[1024], *out;

	(void)state;
	snprintf(text, sizeof text, "%s[ blobs ]\npool = evidence\n[sync]\nstore: x\n", head);
	snprintf(want, sizeof want, "%s[ blobs ]\nstore = rados\npool = evidence\n[sync]\n"
	    "store: x\n", head);
	out = rewrite(text, 0640, "rados");
	assert_string_equal(out, want);
	free(out);

	/* "store: local" (inih's other separator) is replaced, "storey = 1" is another key */
	out = rewrite("[blobs]\nstorey = 1\nstore: local\n", 0640, "rados");
	assert_string_equal(out, "[blobs]\nstorey = 1\nstore = rados\n");
	free(out);
	alone();
}

static void
test_adds_section(void **state)
{
	char want[1024], *out;

	(void)state;
	snprintf(want, sizeof want, "%s\n[blobs]\nstore = rados\n", head);
	out = rewrite(head, 0640, "rados");
	assert_string_equal(out, want);
	free(out);
	/* a last line without its newline gets one */
	out = rewrite("[office]\nname = alpha", 0640, "local");
	assert_string_equal(out, "[office]\nname = alpha\n\n[blobs]\nstore = local\n");
	free(out);
	alone();
}

static void
test_refuses(void **state)
{
	char *cause = NULL, missing[96];

	(void)state;
	assert_int_equal(conf_rewrite_set(file, "blobs", "store", "rados\n[office]", &cause),
	    CUSTODY_EINVAL);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	snprintf(missing, sizeof missing, "%s/none.conf", dir);
	assert_true(conf_rewrite_set(missing, "blobs", "store", "rados", &cause) < 0);
	assert_non_null(strstr(cause, "none.conf"));
	free(cause);
	alone();
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof file, "%s/custody.conf", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(file);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replaces_in_place),
		cmocka_unit_test(test_adds_under_header),
		cmocka_unit_test(test_adds_section),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
