/*
 * Fork evidence is bounded: a seized office that signs fork after fork, or a huge commit, cannot
 * fill another office's disk through forks/. Each fork is still reported. A commit kept by a
 * sync that stopped before writing its line in forks/log gets its line from the next.
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

/* A new archive at dir/a (path, 4200 bytes), and the feed key hex of 64 times c. */
static struct archive *
open_archive(char *dir, char *path, char hex[static 65], char c)
{
	struct archive *a = NULL;
	char *cause = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, 4200, "%s/a", dir);
	assert_int_equal(archive_create(path, "unit-office", NULL, &cause), 0);
	assert_int_equal(archive_open(&a, path, NULL, 1, &cause), 0);
	memset(hex, c, 64);
	hex[64] = '\0';
	return a;
}

static void
close_archive(struct archive *a, const char *dir)
{
	char cmd[4300];

	archive_close(a);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_fork_evidence_bounded(void **state)
{
	char dir[] = "/tmp/custody-forksXXXXXX", path[4200], hex[65];
	char *line, commit[200];
	struct archive *a = open_archive(dir, path, hex, 'b');
	static char huge[SYNC_FORK_MAX_BYTES + 1];
	int i;

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
	close_archive(a, dir);
}

/* The lines of DIR/forks/log naming what (all of them: NULL). */
static int
count_lines(const char *dir, const char *what)
{
	char path[4200], buf[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/forks/log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof buf, f) != NULL)
		n += what == NULL || strstr(buf, what) != NULL;
	fclose(f);
	return n;
}

static void
test_fork_line_after_crash(void **state)
{
	char dir[] = "/tmp/custody-forksXXXXXX", path[4200], log[4300], hex[65], *line;
	const char *commit = "tree 0000\nfork after a crash\n";
	struct archive *a = open_archive(dir, path, hex, 'd');
	int i;

	(void)state;
	assert_int_equal(sync_record_fork(a, hex, 3, "ours", commit, strlen(commit), &line), 0);
	free(line);
	assert_int_equal(count_kept(path), 1);
	assert_int_equal(count_lines(path, NULL), 1);
	/* the commit was kept, then the sync stopped before its line: the log lacks it */
	snprintf(log, sizeof log, "%s/forks/log", path);
	assert_int_equal(truncate(log, 0), 0);
	for (i = 0; i < 3; i++) {	/* the next syncs that meet it write it, once */
		assert_int_equal(sync_record_fork(a, hex, 3, "ours", commit, strlen(commit),
		    &line), 0);
		free(line);
		assert_int_equal(count_kept(path), 1);
		assert_int_equal(count_lines(path, NULL), 1);
		assert_int_equal(count_lines(path, " 3 ours ours theirs "), 1);
	}
	close_archive(a, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_evidence_bounded),
		cmocka_unit_test(test_fork_line_after_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
