/*
 * Fork evidence is bounded: a seized office that signs fork after fork, or a huge commit, cannot
 * fill another office's disk through forks/. Each fork is still reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "sync.h"

/* Files in DIR/forks other than its log. */
static int
count_kept(const char *dir)
{
	char path[4200];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/forks", dir);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".commit") != NULL;
	closedir(d);
	return n;
}

static void
test_fork_evidence_bounded(void **state)
{
	char dir[] = "/tmp/custody-forksXXXXXX", path[4200], hex[65], cmd[4300], *cause = NULL;
	char *line, commit[200];
	struct archive *a = NULL;
	static char huge[SYNC_FORK_MAX_BYTES + 1];
	int i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a", dir);
	assert_int_equal(archive_create(path, "unit-office", NULL, &cause), 0);
	assert_int_equal(archive_open(&a, path, NULL, 1, &cause), 0);
	memset(hex, 'b', 64);
	hex[64] = '\0';
	/* a commit larger than the bound: reported, not kept */
	memset(huge, 'x', sizeof huge);
	assert_int_equal(sync_record_fork(a, hex, 1, "ours", huge, sizeof huge, &line), 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "fork in feed"));
	free(line);
	assert_int_equal(count_kept(path), 0);
	/* fork after fork: the first SYNC_FORKS_PER_FEED kept, all reported */
	for (i = 0; i < SYNC_FORKS_PER_FEED + 8; i++) {
		snprintf(commit, sizeof commit, "tree 0000\nfork %d\n", i);
		assert_int_equal(sync_record_fork(a, hex, (uint64_t)i + 1, "ours", commit,
		    strlen(commit), &line), 0);
		assert_non_null(line);
		free(line);
	}
	assert_int_equal(count_kept(path), SYNC_FORKS_PER_FEED);
	/* another feed's forks have their own allowance */
	hex[0] = 'c';
	assert_int_equal(sync_record_fork(a, hex, 1, "ours", "tree 1\n", 7, &line), 0);
	free(line);
	assert_int_equal(count_kept(path), SYNC_FORKS_PER_FEED + 1);
	archive_close(a);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_evidence_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
