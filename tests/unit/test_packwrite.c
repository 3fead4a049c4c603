/*
 * The pack writer (proto/packwrite.c): stock git must accept what it writes. A pack of blobs
 * (empty, small, larger than one stored deflate block), a tree and a commit naming them is
 * checked with `git verify-pack -v` and `git fsck --strict`, and each object reads back through
 * `git cat-file` with the id the writer gave it. The pack check (proto/pack-check.c) accepts it
 * too, and the writer refuses the same object twice. With a scratch file (more objects than
 * its entries in memory), the index it writes is byte for byte the one `git index-pack` makes
 * of the same pack, and an object added twice in different runs is still refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/common.h"
#include "custody/pack-check.h"
#include "custody/packwrite.h"
#include "run.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/custody-packwrite.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return run("git init -q --bare %s/repo", dir) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	if (getenv("CUSTODY_KEEP") == NULL)
		run("rm -rf %s", dir);
	return 0;
}

static void
hex(char out[41], const uint8_t oid[20])
{
	hex_encode(out, oid, 20);
}

/* Whether git cat-file gives back the object's bytes. */
static int
cat_file_is(const char *type, const uint8_t oid[20], const void *want, size_t n)
{
	char h[41], path[128];
	uint8_t *got = malloc(n + 1);
	ssize_t k;
	int fd, ok;

	hex(h, oid);
	snprintf(path, sizeof path, "%s/out", dir);
	if (run("git -C %s/repo cat-file %s %s >%s", dir, type, h, path) != 0)
		return 0;
	fd = open(path, O_RDONLY);
	k = read_full(fd, got, n + 1);
	close(fd);
	ok = k == (ssize_t)n && memcmp(got, want, n) == 0;
	free(got);
	return ok;
}

static void
test_packwrite_git_accepts(void **state)
{
	struct packwrite *pw;
	struct pack_check *pc;
	struct pack_limits lim = { 1 << 24, 16, 1 << 20, 1 << 22 };
	struct cbuf tree = { 0 }, commit = { 0 }, raw = { 0 };
	uint8_t empty[20], small[20], big[20], t[20], c[20], sum[20], again[20];
	char sumhex[41], th[41], ch[41], pack[160], idx[160];
	uint8_t *large;
	size_t i;
	int fd, ifd;

	(void)state;
	large = malloc(200000);
	for (i = 0; i < 200000; i++)
		large[i] = (uint8_t)(i * 7 + (i >> 9));
	snprintf(pack, sizeof pack, "%s/tmp.pack", dir);
	snprintf(idx, sizeof idx, "%s/tmp.idx", dir);
	fd = open(pack, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ifd = open(idx, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && ifd >= 0);
	assert_int_equal(packwrite_new(&pw, fd), 0);
	assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, "", 0, empty), 0);
	assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, "hello\n", 6, small), 0);
	assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, large, 200000, big), 0);
	/* git's id of "hello\n" as a blob */
	hex(th, small);
	assert_string_equal(th, "ce013625030ba8dba906f756967f9e9ca394464a");
	assert_int_equal(packwrite_tree_entry(&tree, "100644", "a", empty), 0);
	assert_int_equal(packwrite_tree_entry(&tree, "100644", "b", small), 0);
	assert_int_equal(packwrite_tree_entry(&tree, "100644", "c", big), 0);
	assert_int_equal(packwrite_add(pw, PACKWRITE_TREE, tree.data, tree.len, t), 0);
	hex(th, t);
	cbuf_printf(&commit, "tree %s\nauthor A <a@example.org> 1700000000 +0000\n"
	    "committer A <a@example.org> 1700000000 +0000\n\nimport\n", th);
	assert_int_equal(packwrite_add(pw, PACKWRITE_COMMIT, commit.data, commit.len, c), 0);
	assert_int_equal(packwrite_count(pw), 5);
	assert_int_equal(packwrite_finish(pw, ifd, sum), 0);
	packwrite_free(pw);

	/* the pack check accepts it as a peer's pack */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(cbuf_reserve(&raw, 1 << 20), 0);
	raw.len = (size_t)read_full(fd, raw.data, 1 << 20);
	assert_int_equal(pack_check_new(&pc, &lim), 0);
	assert_int_equal(pack_check_feed(pc, raw.data, raw.len), 0);
	assert_int_equal(pack_check_finish(pc), 0);
	pack_check_free(pc);
	close(fd);
	close(ifd);

	hex(sumhex, sum);
	hex(ch, c);
	assert_int_equal(run("mv %s %s/repo/objects/pack/pack-%s.pack && mv %s "
	    "%s/repo/objects/pack/pack-%s.idx", pack, dir, sumhex, idx, dir, sumhex), 0);
	assert_int_equal(run("git -C %s/repo verify-pack -v objects/pack/pack-%s.idx >/dev/null",
	    dir, sumhex), 0);
	assert_int_equal(run("git -C %s/repo update-ref HEAD %s", dir, ch), 0);
	assert_int_equal(run("git -C %s/repo fsck --strict --no-dangling 2>&1 | "
	    "grep -q . && exit 1; git -C %s/repo fsck --strict", dir, dir), 0);
	assert_true(cat_file_is("blob", empty, "", 0));
	assert_true(cat_file_is("blob", small, "hello\n", 6));
	assert_true(cat_file_is("blob", big, large, 200000));
	assert_true(cat_file_is("commit", c, commit.data, commit.len));
	/* a damaged pack is refused by verify-pack: the test can fail */
	assert_int_equal(run("cp %s/repo/objects/pack/pack-%s.pack %s/bad.pack && "
	    "printf 'X' | dd of=%s/bad.pack bs=1 seek=40 conv=notrunc 2>/dev/null && "
	    "cp %s/repo/objects/pack/pack-%s.idx %s/bad.idx && "
	    "git verify-pack %s/bad.idx >/dev/null 2>&1", dir, sumhex, dir, dir, dir, sumhex, dir,
	    dir) != 0, 1);

	/* the same object twice is refused */
	fd = open(pack, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ifd = open(idx, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(packwrite_new(&pw, fd), 0);
	assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, "x", 1, again), 0);
	assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, "x", 1, again), 0);
	assert_int_equal(packwrite_finish(pw, ifd, sum), CUSTODY_EINVAL);
	packwrite_free(pw);
	close(fd);
	close(ifd);
	cbuf_free(&tree);
	cbuf_free(&commit);
	cbuf_free(&raw);
	free(large);
}

/* Pack n small blobs (the blob "x" again as the last one when twice) with a scratch file. */
static int
pack_many(const char *pack, const char *idx, size_t n, int twice, uint8_t sum[20])
{
	struct packwrite *pw;
	uint8_t oid[20];
	char body[32];
	FILE *f = tmpfile();
	size_t i;
	int fd, ifd, error;

	assert_non_null(f);
	fd = open(pack, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ifd = open(idx, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && ifd >= 0);
	assert_int_equal(packwrite_new(&pw, fd), 0);
	assert_int_equal(packwrite_scratch(pw, dup(fileno(f))), 0);
	fclose(f);
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof body, "%zu", i == n - 1 && twice ? (size_t)0 : i);
		assert_int_equal(packwrite_add(pw, PACKWRITE_BLOB, body, strlen(body), oid), 0);
	}
	assert_int_equal(packwrite_scratch(pw, dup(fd)), CUSTODY_EINVAL);	/* too late */
	error = packwrite_finish(pw, ifd, sum);
	packwrite_free(pw);
	close(fd);
	close(ifd);
	return error;
}

/* Pack n small blobs into DIR/NAME.pack: its index must be the one `git index-pack` makes. */
static void
pack_like_git(const char *name, size_t n)
{
	char pack[160], idx[160];
	uint8_t sum[20];

	snprintf(pack, sizeof pack, "%s/%s.pack", dir, name);
	snprintf(idx, sizeof idx, "%s/%s.idx", dir, name);
	assert_int_equal(pack_many(pack, idx, n, 0, sum), 0);
	assert_int_equal(run("git index-pack -o %s/%s-git.idx %s >/dev/null", dir, name, pack), 0);
	assert_int_equal(run("cmp %s %s/%s-git.idx", idx, dir, name), 0);
}

static void
test_packwrite_scratch_index(void **state)
{
	char pack[160], idx[160];
	uint8_t sum[20];

	(void)state;
	pack_like_git("many", 3 * 65536 + 99);
	snprintf(pack, sizeof pack, "%s/many.pack", dir);
	snprintf(idx, sizeof idx, "%s/many.idx", dir);
	assert_int_equal(run("git verify-pack %s >/dev/null", idx), 0);
	/* "0" once in the first run and once in the last: refused */
	assert_int_equal(pack_many(pack, idx, 2 * 65536 + 10, 1, sum), CUSTODY_EINVAL);
}

/*
 * The index of 18,686 objects fills the writer's 256 KiB buffer to within 20 bytes of its end
 * before its own checksum: the checksum must go out after the buffer, not past its end (it did,
 * seen by AddressSanitizer as a heap overflow in an import whose pack had that many objects).
 */
static void
test_packwrite_index_fills_buffer(void **state)
{
	(void)state;
	pack_like_git("full", 18686);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packwrite_git_accepts),
		cmocka_unit_test(test_packwrite_scratch_index),
		cmocka_unit_test(test_packwrite_index_fills_buffer),
	};

	if (run("git --version >/dev/null 2>&1") != 0) {
		printf("SKIP: git is not installed\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
