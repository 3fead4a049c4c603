/*
 * The commit point, and the evidence of a fork, on a disk whose writes fail. The archive lies
 * on an ext4 in a loop device whose backing file is on a nearly full tmpfs: every write(2)
 * succeeds, the writeback of what a batch placed fails, and the disk works again once the tmpfs
 * has room. syncfs(2) reports such an error once to each open file, at its first sync after
 * it, so the sync that comes first takes it: another batch's, the flusher's, an admin's
 * `sync -f`. The batch whose blob was lost must fail all the same, and remove its blobs; a
 * batch begun once the disk works commits. Evidence is never kept in part.
 * Needs root (mount, losetup); skipped, with the reason, when they cannot run.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "archive.h"
#include "archive-fixture.h"
#include "ingest.h"
#include "run.h"
#include "sync-feeds.h"

#define DISK_ROOM (8u << 20)		/* left on the tmpfs: less than a batch places */
#define LOST_SIZE (24u << 20)		/* one file, less than a flusher's step */
enum { FLUSH_FILES = 48, FLUSH_SIZE = 1 << 20 };	/* 48 MiB: more than a step */

static struct {
	char	 dir[256];		/* the tmpfs is dir/t, the ext4 dir/e */
	char	 loop[64];
	int	 ntmpfs, nfs;		/* mounted */
} disk;

/* One archive on the failing disk, and the file its batches are placed from. */
struct fixture {
	char		 path[300];
	char		 src[300];
	char		 filler[300];
	struct archive	*a;
};

static int
disk_unmount(void)
{
	int bad = 0;

	/* lazily when a failed test left a file open on it */
	if (disk.nfs)
		bad |= run("umount '%s/e' || umount -l '%s/e'", disk.dir, disk.dir) != 0;
	if (disk.loop[0] != '\0')
		bad |= run("losetup -d %s", disk.loop) != 0;
	if (disk.ntmpfs)
		bad |= run("umount '%s/t' || umount -l '%s/t'", disk.dir, disk.dir) != 0;
	bad |= run("rm -rf '%s'", disk.dir) != 0;
	return bad ? -1 : 0;
}

/* The ext4 on a loop device over a file on a 64 MiB tmpfs; NULL, or why it cannot be made. */
static const char *
disk_mount(void)
{
	char cmd[400];
	FILE *p;

	if (geteuid() != 0)
		return "mount and losetup need root";
	snprintf(disk.dir, sizeof disk.dir, "/tmp/custody-disk.XXXXXX");
	if (mkdtemp(disk.dir) == NULL)
		return "cannot make a directory under /tmp";
	if (run("mkdir '%s/t' '%s/e' && mount -t tmpfs -o size=64m,mode=0700 tmpfs '%s/t'",
	    disk.dir, disk.dir, disk.dir) != 0)
		return "cannot mount a tmpfs";
	disk.ntmpfs = 1;
	/* no journal: an aborted journal would fail every later write, not only the lost ones */
	if (run("truncate -s 256m '%s/t/img' && mkfs.ext4 -q -F -O ^has_journal -e continue "
	    "'%s/t/img'", disk.dir, disk.dir) != 0)
		return "cannot make an ext4 (mkfs.ext4)";
	snprintf(cmd, sizeof cmd, "losetup -f --show '%s/t/img'", disk.dir);
	if ((p = popen(cmd, "r")) == NULL || fgets(disk.loop, sizeof disk.loop, p) == NULL) {
		if (p != NULL)
			pclose(p);
		disk.loop[0] = '\0';
		return "cannot attach a loop device";
	}
	disk.loop[strcspn(disk.loop, "\n")] = '\0';
	if (pclose(p) != 0 || disk.loop[0] != '/') {
		disk.loop[0] = '\0';
		return "cannot attach a loop device";
	}
	/*
	 * discard: what an archive removes leaves the tmpfs, so each test starts with room; no
	 * inode tables zeroed on a thread meanwhile, which would take the room a test leaves
	 */
	if (run("mount -o discard,noinit_itable %s '%s/e'", disk.loop, disk.dir) != 0)
		return "cannot mount the loop device";
	disk.nfs = 1;
	return NULL;
}

static int
setup(void **state)
{
	static unsigned n;
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL, leaf[16], fs[264];
	struct archive *a;

	assert_non_null(f);
	snprintf(leaf, sizeof leaf, "arch%u", n++);
	snprintf(fs, sizeof fs, "%s/e", disk.dir);
	archive_fixture_open(&f->a, f->path, sizeof f->path, fs, leaf, "unit-office", 1);
	a = f->a;
	assert_int_equal(index_open(a, &cause), 0);
	assert_int_equal(archive_sync(a), 0);
	snprintf(f->src, sizeof f->src, "%s/src", disk.dir);
	snprintf(f->filler, sizeof f->filler, "%s/t/filler", disk.dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->filler);
	archive_close(f->a);
	archive_fixture_remove(f->path);
	unlink(f->src);
	free(f);
	return 0;
}

/* Fill the tmpfs but for room bytes: the disk takes that much more, then fails its writes. */
static void
disk_fill(struct fixture *f, off_t room_left)
{
	struct statvfs sv;
	char tmpfs[300];
	off_t room;
	int fd;

	snprintf(tmpfs, sizeof tmpfs, "%s/t", disk.dir);
	assert_int_equal(statvfs(tmpfs, &sv), 0);
	room = (off_t)sv.f_bavail * (off_t)sv.f_frsize;
	assert_true(room > room_left);
	assert_true((fd = open(f->filler, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(posix_fallocate(fd, 0, room - room_left), 0);
	close(fd);
}

/* The disk works again (what it lost stays lost). */
static void
disk_free(struct fixture *f)
{
	assert_int_equal(unlink(f->filler), 0);
}

/* Place size random bytes as file index of batch b. */
static void
place(struct fixture *f, struct ingest_batch *b, struct ingest_file *file, uint32_t index,
    size_t size)
{
	uint8_t *buf;
	char name[64];
	int fd;

	assert_non_null(buf = malloc(size));
	randombytes_buf(buf, size);
	assert_true((fd = open(f->src, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write_all(fd, buf, size), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	free(buf);
	memset(file, 0, sizeof *file);
	file->index = index;
	snprintf(name, sizeof name, "scan/page-%03u.tif", index);
	assert_non_null(file->name = ingest_clean_name(name));
	assert_int_equal(ingest_file_place(f->a, file, fd), 0);
	close(fd);
	assert_int_equal(ingest_batch_put(b, file), 0);
	file->placed = 0;	/* the batch's now */
}

static int
commit(struct fixture *f, struct ingest_batch *b)
{
	struct feed_commit fc;
	uint32_t *dups = NULL;
	size_t ndups;
	char now[32];
	int error;

	record_now(now);
	error = ingest_commit(f->a, &fc, b, "alice@unit-office", now, "", NULL, &dups, &ndups);
	free(dups);
	return error;
}

/* The batch failed and left nothing: no commit, no evidence, none of its n blobs. */
static void
assert_nothing_left(struct fixture *f, struct ingest_batch *b, struct ingest_file *files,
    size_t n)
{
	uint64_t ev, rec, commits;
	size_t i;

	assert_int_equal(feed_head(f->a, f->a->office_hex, &(git_oid){ { 0 } },
	    &(uint64_t){ 0 }, &(uint64_t){ 0 }), CUSTODY_ENOTFOUND);
	assert_int_equal(index_counts(f->a, &ev, &rec, &commits), 0);
	assert_int_equal(ev, 0);
	ingest_batch_free(b);
	for (i = 0; i < n; i++) {
		assert_false(blob_exists(f->a, files[i].blob.name));
		free(files[i].name);
	}
}

/* Once the disk works again a new batch commits, and the archive verifies: no restart. */
static void
assert_commits_again(struct fixture *f)
{
	struct ingest_batch *b;
	struct ingest_file file;
	struct verify_result vr;

	assert_int_equal(ingest_batch_new(&b, f->a, 1), 0);
	place(f, b, &file, 0, 100000);
	assert_int_equal(commit(f, b), 0);
	ingest_batch_free(b);
	free(file.name);
	assert_int_equal(verify_archive(f->a, &vr), 0);
	assert_int_equal(vr.nproblems, 0);
	assert_int_equal(vr.blobs, 1);
	verify_result_free(&vr);
}

/*
 * A batch's blob is lost, and seen plays the sync that meets the error first. The disk works
 * again before the batch commits: the commit's own sync writes it well and finds nothing wrong.
 * The commit must fail all the same, with why.
 */
static void
lose_one(struct fixture *f, void (*seen)(struct fixture *), const char *why)
{
	struct ingest_batch *b;
	struct ingest_file file;

	assert_int_equal(ingest_batch_new(&b, f->a, 1), 0);
	disk_fill(f, DISK_ROOM);
	place(f, b, &file, 0, LOST_SIZE);
	seen(f);
	disk_free(f);
	assert_true(commit(f, b) < 0);
	assert_non_null(strstr(custody_error(), why));
	assert_nothing_left(f, b, &file, 1);
	assert_commits_again(f);
}

/* The daemon's next sync, another batch's commit point (which fails, rightly). */
static void
seen_by_another_batch(struct fixture *f)
{
	assert_true(archive_sync(f->a) < 0);
}

/* An admin's `sync -f` of the archive's file system. */
static void
seen_by_the_admin(struct fixture *f)
{
	assert_int_not_equal(run("sync -f '%s' 2>/dev/null", f->path), 0);
}

static void
test_lost_seen_by_another_batch(void **state)
{
	lose_one(*state, seen_by_another_batch, "a write to its disk failed since this batch "
	    "began");
}

static void
test_lost_seen_by_the_admin(void **state)
{
	lose_one(*state, seen_by_the_admin, "cannot sync the archive");
}

/*
 * A batch larger than a flusher's step: the flusher's sync meets the error while the files are
 * placed, and the commit fails on it before its commit point.
 */
static void
test_lost_seen_by_the_flusher(void **state)
{
	struct fixture *f = *state;
	struct ingest_file files[FLUSH_FILES];
	struct ingest_batch *b;
	size_t i;

	assert_int_equal(ingest_batch_new(&b, f->a, FLUSH_FILES), 0);
	disk_fill(f, DISK_ROOM);
	for (i = 0; i < FLUSH_FILES; i++)
		place(f, b, &files[i], (uint32_t)i, FLUSH_SIZE);
	/* a sync began (and met the error): waited for, the flusher is done and says so */
	for (i = 0; i < 500 && ingest_batch_flushes(b) == 0; i++)
		usleep(10000);
	assert_true(ingest_batch_flushed(b) < 0);
	disk_free(f);
	assert_true(commit(f, b) < 0);
	assert_non_null(strstr(custody_error(), "writing the batch's files"));
	assert_nothing_left(f, b, files, FLUSH_FILES);
	assert_commits_again(f);
}

/* The whole of file path, NUL-terminated (not counted in *len). */
static char *
slurp(const char *path, size_t *len)
{
	char *buf;
	FILE *fp;
	long n;

	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((n = ftell(fp)) >= 0);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The files of f's forks/ whose names end in suffix. */
static int
forks_kept(struct fixture *f, const char *suffix)
{
	char dir[400];
	struct dirent *de;
	size_t k = strlen(suffix), n;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/forks", f->path);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		count += (n = strlen(de->d_name)) > k && strcmp(de->d_name + n - k, suffix) == 0;
	closedir(d);
	return count;
}

/*
 * The evidence of a fork, met while the disk fails: no file is kept whose bytes the disk lost
 * (it would hold the evidence's name for good), and the next sync that meets the fork keeps it
 * whole, with its line in forks/log.
 */
static void
test_fork_evidence(void **state)
{
	struct fixture *f = *state;
	char hex[65], commit[16384], path[512], *line, *got, *log;
	size_t i, len, loglen;

	memset(hex, 'b', 64);
	hex[64] = '\0';
	for (i = 0; i < sizeof commit; i++)
		commit[i] = "tree of a fork\n"[i % 15];
	disk_fill(f, 0);
	assert_int_equal(sync_record_fork(f->a, hex, 3, "ours", commit, sizeof commit, &line), 0);
	assert_non_null(strstr(line, "fork in feed"));	/* reported all the same */
	free(line);
	assert_int_equal(forks_kept(f, ".commit"), 0);
	disk_free(f);
	assert_int_equal(sync_record_fork(f->a, hex, 3, "ours", commit, sizeof commit, &line), 0);
	free(line);
	assert_int_equal(forks_kept(f, ".commit"), 1);
	snprintf(path, sizeof path, "%s/forks/log", f->path);
	log = slurp(path, &loglen);
	assert_non_null(strstr(log, " 3 ours ours theirs "));
	assert_ptr_equal(strchr(log, '\n'), log + loglen - 1);	/* one line */
	snprintf(path, sizeof path, "%s/forks/%s-3-%.40s.commit", f->path, hex,
	    strstr(log, "theirs ") + 7);
	free(log);
	got = slurp(path, &len);
	assert_int_equal(len, sizeof commit);
	assert_memory_equal(got, commit, len);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lost_seen_by_another_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_seen_by_the_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_seen_by_the_flusher, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_evidence, setup, teardown),
	};
	const char *why;
	int failed;

	if (sodium_init() < 0)
		return 1;
	if ((why = disk_mount()) != NULL) {
		printf("SKIP: %s\n", why);
		disk_unmount();
		return 77;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (disk_unmount() < 0) {
		printf("cannot unmount the test's disk under %s\n", disk.dir);
		failed = 1;
	}
	return failed;
}
