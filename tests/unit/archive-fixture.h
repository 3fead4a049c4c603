/*
 * A real archive in a private temporary directory, made and removed the same way by every
 * unit test that needs one. Include after <cmocka.h> and "archive.h".
 */
#ifndef CUSTODY_ARCHIVE_FIXTURE_H
#define CUSTODY_ARCHIVE_FIXTURE_H

/* Make dir (n bytes) a new private directory named after template tmpl. */
static inline void
archive_fixture_dir(char *dir, size_t n, const char *tmpl)
{
	snprintf(dir, n, "%s", tmpl);
	assert_non_null(mkdtemp(dir));
}

/* Create the archive of office at path = dir/leaf (n bytes) and open it into *a. */
static inline void
archive_fixture_open(struct archive **a, char *path, size_t n, const char *dir,
    const char *leaf, const char *office, int lock)
{
	char *cause = NULL;

	snprintf(path, n, "%s/%s", dir, leaf);
	assert_int_equal(archive_create(path, office, NULL, &cause), 0);
	assert_int_equal(archive_open(a, path, NULL, lock, &cause), 0);
}

/* Remove dir and everything under it. */
static inline void
archive_fixture_remove(const char *dir)
{
	char cmd[400];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The whole of a teardown: close a, remove dir and free the fixture f that holds them. */
static inline int
archive_fixture_close(void *f, struct archive *a, const char *dir)
{
	archive_close(a);
	archive_fixture_remove(dir);
	free(f);
	return 0;
}

/* The plain fixture: one archive of unit-office, locked, in its own directory. */
struct archive_fixture {
	char		 dir[256];
	char		 path[300];
	struct archive	*a;
};

/* A cmocka setup making a struct archive_fixture into *state. */
static inline int
archive_fixture_setup(void **state)
{
	struct archive_fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	archive_fixture_dir(f->dir, sizeof f->dir, "/tmp/custody-unit.XXXXXX");
	archive_fixture_open(&f->a, f->path, sizeof f->path, f->dir, "arch", "unit-office", 1);
	*state = f;
	return 0;
}

/* archive_fixture_setup with the archive's index open. */
static inline int
archive_fixture_setup_indexed(void **state)
{
	struct archive_fixture *f;
	char *cause = NULL;

	archive_fixture_setup(state);
	f = *state;
	assert_int_equal(index_open(f->a, &cause), 0);
	return 0;
}

/* The cmocka teardown of archive_fixture_setup. */
static inline int
archive_fixture_teardown(void **state)
{
	struct archive_fixture *f = *state;

	return archive_fixture_close(f, f->a, f->dir);
}

#endif
