/* tar: our writer against GNU tar -x, GNU tar (pax, ustar) against our reader, refusals. */
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/tar.h"
#include "run.h"

#define MAX_ENTRIES 16

/* What the reader handed over. */
struct seen {
	size_t		n;
	char		*name[MAX_ENTRIES];
	uint64_t	size[MAX_ENTRIES];
	int		type[MAX_ENTRIES];
	uint32_t	mode[MAX_ENTRIES];
	struct cbuf	data[MAX_ENTRIES];
	size_t		ends;
};

static int
seen_entry(void *arg, const struct tar_entry *e)
{
	struct seen *s = arg;

	if (s->n == MAX_ENTRIES)
		return CUSTODY_ETOOBIG;
	assert_non_null(s->name[s->n] = strdup(e->name));
	s->size[s->n] = e->size;
	s->type[s->n] = e->type;
	s->mode[s->n] = e->mode;
	s->n++;
	return 0;
}

static int
seen_data(void *arg, const void *p, size_t n)
{
	struct seen *s = arg;

	assert_true(s->n > 0);
	return cbuf_put(&s->data[s->n - 1], p, n);
}

static int
seen_end(void *arg)
{
	struct seen *s = arg;

	s->ends++;
	assert_int_equal(s->ends, s->n);
	assert_int_equal(s->data[s->n - 1].len, s->size[s->n - 1]);
	return 0;
}

static const struct tar_reader_cb seen_cb = { seen_entry, seen_data, seen_end };

static void
seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; i < MAX_ENTRIES; i++) {
		free(s->name[i]);
		cbuf_free(&s->data[i]);
	}
	memset(s, 0, sizeof *s);
}

/* Read an archive in pieces of step bytes; returns the first error (feed or finish). */
static int
read_tar(struct seen *s, const uint8_t *p, size_t n, size_t step, uint64_t max)
{
	struct tar_reader *r;
	size_t i;
	int error = 0;

	memset(s, 0, sizeof *s);
	assert_int_equal(tar_reader_new(&r, &seen_cb, s, max), 0);
	for (i = 0; i < n && error == 0; i += step)
		error = tar_reader_feed(r, p + i, n - i < step ? n - i : step);
	if (error == 0)
		error = tar_reader_finish(r);
	tar_reader_free(r);
	return error;
}

static int
cbuf_write(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/* Deterministic test bytes. */
static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static char long_name[300];

/* The archive every writer test uses. */
static void
make_archive(struct cbuf *out, uint8_t *big, size_t bigsz)
{
	struct tar_writer w;
	size_t i;

	snprintf(long_name, sizeof long_name, "dossier-7/data/");
	for (i = strlen(long_name); i < 170; i++)
		long_name[i] = 'a' + (char)(i % 26);
	snprintf(long_name + 170, sizeof long_name - 170, "/evidence.bin");
	fill(big, bigsz, 7);
	tar_writer_init(&w, cbuf_write, out);
	assert_int_equal(tar_write_entry(&w, "dossier-7", TAR_DIR, 0, 0755, 1700000000), 0);
	assert_int_equal(tar_write_entry(&w, "dossier-7/bagit.txt", TAR_FILE, 5, 0644,
	    1700000000), 0);
	assert_int_equal(tar_write_data(&w, "Bag", 3), 0);
	assert_int_equal(tar_write_data(&w, "It", 2), 0);
	assert_int_equal(tar_write_entry(&w, "dossier-7/empty", TAR_FILE, 0, 0600, 0), 0);
	assert_int_equal(tar_write_entry(&w, long_name, TAR_FILE, bigsz, 0644,
	    1700000000), 0);
	for (i = 0; i < bigsz; i += 1000)
		assert_int_equal(tar_write_data(&w, big + i, bigsz - i < 1000 ?
		    bigsz - i : 1000), 0);
	assert_int_equal(tar_write_finish(&w), 0);
	assert_int_equal(out->len % TAR_BLOCK, 0);
}

/* Our writer, our reader, any piece size. */
static void
test_roundtrip(void **state)
{
	static const size_t steps[] = { 1, 7, 511, 512, 513, 4096, 1 << 20 };
	struct cbuf b = { 0 };
	struct seen s;
	uint8_t big[5000];
	size_t i;

	make_archive(&b, big, sizeof big);
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(read_tar(&s, b.data, b.len, steps[i], 0), 0);
		assert_int_equal(s.n, 4);
		assert_int_equal(s.ends, 4);
		assert_string_equal(s.name[0], "dossier-7");
		assert_int_equal(s.type[0], TAR_DIR);
		assert_int_equal(s.mode[0], 0755);
		assert_string_equal(s.name[1], "dossier-7/bagit.txt");
		assert_memory_equal(s.data[1].data, "BagIt", 5);
		assert_string_equal(s.name[2], "dossier-7/empty");
		assert_int_equal(s.size[2], 0);
		assert_string_equal(s.name[3], long_name);
		assert_int_equal(s.size[3], sizeof big);
		assert_memory_equal(s.data[3].data, big, sizeof big);
		seen_free(&s);
	}
	/* A size limit refuses the big entry. */
	assert_int_equal(read_tar(&s, b.data, b.len, 4096, 100), CUSTODY_ETOOBIG);
	seen_free(&s);
	cbuf_free(&b);
}

/* Writer misuse is refused. */
static void
test_writer_refusals(void **state)
{
	struct cbuf b = { 0 };
	struct tar_writer w;

	tar_writer_init(&w, cbuf_write, &b);
	assert_int_equal(tar_write_entry(&w, "../x", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "/x", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "a//x", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "a/./x", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "d", TAR_DIR, 5, 0755, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "f", TAR_FILE, 3, 0644, 0), 0);
	assert_int_equal(tar_write_data(&w, "abcd", 4), CUSTODY_EINVAL);
	assert_int_equal(tar_write_entry(&w, "g", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	assert_int_equal(tar_write_finish(&w), CUSTODY_EINVAL);
	assert_int_equal(tar_write_data(&w, "abc", 3), 0);
	assert_int_equal(tar_write_finish(&w), 0);
	assert_int_equal(tar_write_entry(&w, "h", TAR_FILE, 0, 0644, 0), CUSTODY_EINVAL);
	cbuf_free(&b);
}

/* Sizes of 8 GiB and more travel in a pax header. */
static void
test_huge_size_pax(void **state)
{
	struct cbuf b = { 0 };
	struct tar_writer w;
	struct seen s;
	const uint64_t huge = (8ULL << 30) + 1;

	tar_writer_init(&w, cbuf_write, &b);
	assert_int_equal(tar_write_entry(&w, "big", TAR_FILE, huge, 0644, 0), 0);
	assert_int_equal(b.len, 3 * TAR_BLOCK);	/* pax header, its data, header */
	assert_non_null(memmem(b.data, b.len, "19 size=8589934593\n", 19));
	/* The reader sees the pax size, then the archive is truncated. */
	assert_int_equal(read_tar(&s, b.data, b.len, 100, 0), CUSTODY_EINVAL);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.size[0], huge);
	seen_free(&s);
	cbuf_free(&b);
}

/* A private directory; skips the test when GNU tar is absent. */
static void
tool_dir(char dir[static 32])
{
	if (run("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) {
		print_message("GNU tar not installed: skipping interoperability test\n");
		skip();
	}
	snprintf(dir, 32, "/tmp/custody-tar-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void
file_put(const char *path, const void *p, size_t n)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(write_all(fd, p, n), 0);
	assert_int_equal(close(fd), 0);
}

/* The whole file at path (caller frees). */
static uint8_t *
file_get(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_non_null(p = malloc((size_t)st.st_size + 1));
	assert_int_equal(read_full(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

/* GNU tar -x extracts our archive exactly: names, sizes, contents. */
static void
test_gnu_tar_extracts_ours(void **state)
{
	char dir[32], path[1024];
	struct cbuf b = { 0 };
	uint8_t big[5000], *got;
	size_t len;

	tool_dir(dir);
	make_archive(&b, big, sizeof big);
	snprintf(path, sizeof path, "%s/ours.tar", dir);
	file_put(path, b.data, b.len);
	assert_int_equal(run("cd %s && mkdir out && tar -xf ours.tar -C out 2>err && "
	    "test ! -s err", dir), 0);
	assert_int_equal(run("cd %s/out && test \"$(find . | sort | wc -l)\" = 7", dir), 0);
	snprintf(path, sizeof path, "%s/out/dossier-7/bagit.txt", dir);
	got = file_get(path, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(got, "BagIt", 5);
	free(got);
	snprintf(path, sizeof path, "%s/out/dossier-7/empty", dir);
	got = file_get(path, &len);
	assert_int_equal(len, 0);
	free(got);
	snprintf(path, sizeof path, "%s/out/%s", dir, long_name);
	got = file_get(path, &len);
	assert_int_equal(len, sizeof big);
	assert_memory_equal(got, big, sizeof big);
	free(got);
	assert_int_equal(run("cd %s/out && test \"$(stat -c %%a dossier-7)\" = 755 && "
	    "test \"$(stat -c %%Y dossier-7/bagit.txt)\" = 1700000000", dir), 0);
	assert_int_equal(run("rm -rf %s", dir), 0);
	cbuf_free(&b);
}

/* Our reader reads what GNU tar writes in pax and ustar formats. */
static void
test_ours_reads_gnu_tar(void **state)
{
	static const char *const formats[] = { "pax", "ustar" };
	char dir[32], path[1024], sub[200];
	uint8_t big[70000], *tarb;
	struct seen s;
	size_t i, k, len;
	int found;

	tool_dir(dir);
	fill(big, sizeof big, 3);
	/* A 90-byte directory name: a path over 100 bytes, needing prefix (ustar) or pax. */
	memset(sub, 'd', 90);
	sub[90] = '\0';
	assert_int_equal(run("mkdir -p %s/src/dossier-1/data/%s", dir, sub), 0);
	snprintf(path, sizeof path, "%s/src/dossier-1/data/%s/file.bin", dir, sub);
	file_put(path, big, sizeof big);
	snprintf(path, sizeof path, "%s/src/dossier-1/bagit.txt", dir);
	file_put(path, "BagIt", 5);
	snprintf(path, sizeof path, "%s/src/dossier-1/empty", dir);
	file_put(path, "", 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(run("cd %s && tar --format=%s -cf gnu.tar -C src "
		    "dossier-1", dir, formats[k]), 0);
		snprintf(path, sizeof path, "%s/gnu.tar", dir);
		tarb = file_get(path, &len);
		assert_int_equal(read_tar(&s, tarb, len, 777, 0), 0);
		assert_int_equal(s.n, 6);	/* 3 dirs, 3 files */
		for (i = 0, found = 0; i < s.n; i++) {
			if (strcmp(s.name[i], "dossier-1/bagit.txt") == 0) {
				assert_int_equal(s.size[i], 5);
				assert_memory_equal(s.data[i].data, "BagIt", 5);
				found++;
			} else if (strcmp(s.name[i], "dossier-1/empty") == 0) {
				assert_int_equal(s.type[i], TAR_FILE);
				assert_int_equal(s.size[i], 0);
				found++;
			} else if (strstr(s.name[i], "/file.bin") != NULL) {
				assert_int_equal(strlen(s.name[i]),
				    strlen("dossier-1/data//file.bin") + 90);
				assert_int_equal(s.size[i], sizeof big);
				assert_memory_equal(s.data[i].data, big, sizeof big);
				found++;
			} else
				assert_int_equal(s.type[i], TAR_DIR);
		}
		assert_int_equal(found, 3);
		seen_free(&s);
		free(tarb);
	}
	/* Links are refused. */
	assert_int_equal(run("cd %s && ln -s /etc/passwd src/dossier-1/link && "
	    "tar --format=pax -cf link.tar -C src dossier-1", dir), 0);
	snprintf(path, sizeof path, "%s/link.tar", dir);
	tarb = file_get(path, &len);
	assert_int_equal(read_tar(&s, tarb, len, 512, 0), CUSTODY_EINVAL);
	seen_free(&s);
	free(tarb);
	assert_int_equal(run("rm -rf %s", dir), 0);
}

/* Recompute a header block's checksum after editing it. */
static void
rechecksum(uint8_t *h)
{
	unsigned sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* One small archive with a single file named name (len <= 100). */
static void
one_file(struct cbuf *b, const char *name)
{
	struct tar_writer w;

	b->len = 0;
	tar_writer_init(&w, cbuf_write, b);
	assert_int_equal(tar_write_entry(&w, "placeholder-name", TAR_FILE, 3, 0644, 0), 0);
	assert_int_equal(tar_write_data(&w, "abc", 3), 0);
	assert_int_equal(tar_write_finish(&w), 0);
	memset(b->data, 0, 100);
	memcpy(b->data, name, strlen(name));
	rechecksum(b->data);
}

/* Corrupted, truncated and hostile archives are refused, garbage never crashes. */
static void
test_reader_refusals(void **state)
{
	static const char *const bad_names[] = { "../evil", "/etc/evil", "a/../../evil",
	    "a//b", "./x" };
	struct cbuf b = { 0 };
	struct seen s;
	uint8_t big[5000], junk[4096];
	size_t i, cut;

	one_file(&b, "fine");
	assert_int_equal(read_tar(&s, b.data, b.len, 512, 0), 0);
	seen_free(&s);
	for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		one_file(&b, bad_names[i]);
		assert_int_equal(read_tar(&s, b.data, b.len, 512, 0), CUSTODY_EINVAL);
		assert_int_equal(s.n, 0);
		seen_free(&s);
	}
	/* Checksum. */
	one_file(&b, "fine");
	b.data[10] ^= 1;
	assert_int_equal(read_tar(&s, b.data, b.len, 512, 0), CUSTODY_EINVAL);
	seen_free(&s);
	/* Types: hard link, device, GNU long name, global pax header. */
	for (i = 0; i < 4; i++) {
		one_file(&b, "fine");
		b.data[156] = "13Lg"[i];
		rechecksum(b.data);
		assert_int_equal(read_tar(&s, b.data, b.len, 512, 0), CUSTODY_EINVAL);
		seen_free(&s);
	}
	/* Bad magic and bad octal. */
	one_file(&b, "fine");
	memcpy(b.data + 257, "xxxxx", 5);
	rechecksum(b.data);
	assert_int_equal(read_tar(&s, b.data, b.len, 512, 0), CUSTODY_EINVAL);
	seen_free(&s);
	one_file(&b, "fine");
	b.data[124] = '9';
	rechecksum(b.data);
	assert_int_equal(read_tar(&s, b.data, b.len, 512, 0), CUSTODY_EINVAL);
	seen_free(&s);
	/* Truncated anywhere: in a header, in data, in padding, before the end blocks. */
	cbuf_free(&b);
	make_archive(&b, big, sizeof big);
	for (cut = 0; cut < b.len; cut += 97) {
		assert_int_equal(read_tar(&s, b.data, cut, 64, 0), CUSTODY_EINVAL);
		seen_free(&s);
	}
	assert_int_equal(read_tar(&s, b.data, b.len - TAR_BLOCK, 64, 0), CUSTODY_EINVAL);
	seen_free(&s);
	/* Garbage and bit flips: an error or a clean read, never a crash. */
	for (i = 0; i < 200; i++) {
		fill(junk, sizeof junk, (unsigned)i);
		read_tar(&s, junk, sizeof junk, 333, 0);
		seen_free(&s);
		b.len = 0;
		make_archive(&b, big, sizeof big);
		b.data[(i * 7919) % b.len] ^= (uint8_t)(1 + i % 255);
		read_tar(&s, b.data, b.len, 1000, 0);
		seen_free(&s);
		b.len = 0;
	}
	cbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_writer_refusals),
		cmocka_unit_test(test_huge_size_pax),
		cmocka_unit_test(test_gnu_tar_extracts_ours),
		cmocka_unit_test(test_ours_reads_gnu_tar),
		cmocka_unit_test(test_reader_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
