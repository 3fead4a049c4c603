/*
 * The archive's git packs kept few (archive-packs.c). Forty commits of a pack each leave at
 * most ARCHIVE_PACKS_MAX packs, every record still reads, and stock git finds the repository
 * whole (`git fsck --strict`, `git verify-pack` of each pack). A repository handle that listed
 * the packs before they were merged away still reads every object they held; a thread's own
 * handle lets go of them between jobs (archive_thread_settle), so that no descriptor keeps a
 * removed pack's space. Objects in two packs (a copy of everything, as `git pack-objects`
 * makes it) are merged into one pack once.
 * A pack without its index and an index without its pack, as a crash leaves them, go at start.
 */
#include <sys/types.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "archive-fixture.h"
#include "run.h"

#define COMMITS 40
#define PER_COMMIT 64	/* FEED_PACK_MIN: from this many records a commit is one pack */

/* The packs in the archive's git/objects/pack (files ending in .pack). */
static size_t
count_packs(const struct archive_fixture *f)
{
	char path[400];
	struct dirent *de;
	size_t n = 0, len;
	DIR *d;

	snprintf(path, sizeof path, "%s/git/objects/pack", f->path);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if ((len = strlen(de->d_name)) > 5 && strcmp(de->d_name + len - 5, ".pack") == 0)
			n++;
	closedir(d);
	return n;
}

/* One commit of PER_COMMIT victims c-I-0, c-I-1, ... */
static void
write_commit(struct archive *a, int c)
{
	struct feed_commit fc;
	json_t *docs[PER_COMMIT];
	char id[32], name[32];
	size_t i;

	for (i = 0; i < PER_COMMIT; i++) {
		snprintf(id, sizeof id, "c-%d-%zu", c, i);
		snprintf(name, sizeof name, "Name %d %zu", c, i);
		docs[i] = json_pack("{s:s,s:s,s:s}", "kind", "victim", "id", id, "name", name);
	}
	assert_int_equal(feed_append(a, &fc, "add", docs, PER_COMMIT), 0);
	for (i = 0; i < PER_COMMIT; i++)
		json_decref(docs[i]);
}

/* Every record of the first n commits reads back with its name. */
static void
read_all(struct archive *a, int n)
{
	char tok[TOKEN_HEX_LEN + 1], id[32], name[32];
	json_t *doc;
	size_t i;
	int c;

	for (c = 0; c < n; c++)
		for (i = 0; i < PER_COMMIT; i++) {
			snprintf(id, sizeof id, "c-%d-%zu", c, i);
			snprintf(name, sizeof name, "Name %d %zu", c, i);
			archive_token_hex(a, tok, id);
			assert_int_equal(feed_read_token_flags(a, a->office_hex, tok, &doc, 0), 0);
			assert_string_equal(json_string_value(json_object_get(doc, "name")), name);
			json_decref(doc);
		}
}

/* Stock git: the repository whole, and each pack right. */
static void
git_checks(const struct archive_fixture *f)
{
	assert_int_equal(run("git -C %s/git fsck --strict >/dev/null 2>&1", f->path), 0);
	assert_int_equal(run("for i in %s/git/objects/pack/*.idx; do "
	    "git verify-pack $i >/dev/null || exit 1; done", f->path), 0);
}

static void
test_bounded(void **state)
{
	struct archive_fixture *f = *state;
	size_t most = 0, n;
	int c;

	for (c = 0; c < COMMITS; c++) {
		write_commit(f->a, c);
		n = count_packs(f);
		most = n > most ? n : most;
		assert_true(n <= ARCHIVE_PACKS_MAX);
	}
	/* the packs were merged when there were more than ARCHIVE_PACKS_MAX, not before */
	assert_int_equal(most, ARCHIVE_PACKS_MAX);
	assert_true(count_packs(f) <= COMMITS - ARCHIVE_PACKS_MAX);
	read_all(f->a, COMMITS);
	git_checks(f);
}

/* The ids of every object of the repository; *n gets how many. */
struct ids {
	git_oid	*v;
	size_t	 n, cap;
};

static int
note_id(const git_oid *id, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 256;
		assert_non_null(ids->v = realloc(ids->v, ids->cap * sizeof *ids->v));
	}
	ids->v[ids->n++] = *id;
	return 0;
}

static void
test_old_handle(void **state)
{
	struct archive_fixture *f = *state;
	struct ids ids = { 0 };
	git_repository *old, *fresh;
	git_odb *odb, *fresh_odb;
	git_odb_object *o;
	char git[400];
	size_t merged, i;
	git_oid none;
	int c;

	for (c = 0; c < 10; c++)
		write_commit(f->a, c);
	assert_int_equal(count_packs(f), 10);
	/* a handle that has listed the packs and read nothing from them */
	snprintf(git, sizeof git, "%s/git", f->path);
	assert_int_equal(git_repository_open_bare(&old, git), 0);
	assert_int_equal(git_repository_odb(&odb, old), 0);
	memset(&none, 0xab, sizeof none);
	assert_false(git_odb_exists(odb, &none));
	assert_int_equal(git_odb_foreach(odb, note_id, &ids), 0);
	assert_true(ids.n >= 10 * PER_COMMIT);

	assert_int_equal(archive_packs_tidy(f->a, 1, &merged), 0);
	assert_int_equal(merged, 10);
	assert_int_equal(count_packs(f), 1);
	assert_int_equal(git_repository_open_bare(&fresh, git), 0);
	assert_int_equal(git_repository_odb(&fresh_odb, fresh), 0);
	for (i = 0; i < ids.n; i++) {
		assert_int_equal(git_odb_read(&o, odb, &ids.v[i]), 0);
		git_odb_object_free(o);
		assert_int_equal(git_odb_read(&o, fresh_odb, &ids.v[i]), 0);
		git_odb_object_free(o);
	}
	git_odb_free(fresh_odb);
	git_repository_free(fresh);
	git_odb_free(odb);
	git_repository_free(old);
	free(ids.v);
	read_all(f->a, 10);
	git_checks(f);
}

/* Descriptors of this process open on a pack file that is gone. */
static int
removed_packs_open(void)
{
	char path[300], target[512];
	struct dirent *de;
	ssize_t len;
	int n = 0;
	DIR *d;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		if ((len = readlink(path, target, sizeof target - 1)) < 0)
			continue;
		target[len] = '\0';
		n += strstr(target, ".pack (deleted)") != NULL;
	}
	closedir(d);
	return n;
}

static void
test_settle(void **state)
{
	struct archive_fixture *f = *state;
	size_t merged;
	int c;

	for (c = 0; c < 5; c++)
		write_commit(f->a, c);
	read_all(f->a, 5);	/* through this thread's handle: every pack open */
	assert_int_equal(archive_packs_tidy(f->a, 1, &merged), 0);
	assert_int_equal(merged, 5);
	/* the handle keeps the packs merged away open, and their space with them */
	assert_int_equal(removed_packs_open(), 5);
	read_all(f->a, 5);
	archive_thread_settle();
	assert_int_equal(removed_packs_open(), 0);
	read_all(f->a, 5);	/* through a new handle, from the merged pack */
	assert_int_equal(removed_packs_open(), 0);
	archive_thread_settle();	/* nothing merged since: the handle stays */
	git_checks(f);
}

static void
test_twice(void **state)
{
	struct archive_fixture *f = *state;
	size_t merged;
	int c;

	for (c = 0; c < 3; c++)
		write_commit(f->a, c);
	/* every object again, in a pack of git's own making (deltas and all) */
	assert_int_equal(run("cd %s/git && git rev-list --objects --all | "
	    "git pack-objects -q objects/pack/pack >/dev/null", f->path), 0);
	assert_int_equal(count_packs(f), 4);
	assert_int_equal(run("cd %s/git/objects/pack && for i in *.idx; do git show-index <$i; "
	    "done | cut -d' ' -f2 | sort -u >../../ids", f->path), 0);
	assert_int_equal(archive_packs_tidy(f->a, 1, &merged), 0);
	assert_int_equal(merged, 4);
	assert_int_equal(count_packs(f), 1);
	/* each object of the four packs, once */
	assert_int_equal(run("cd %s/git && cat objects/pack/*.idx | git show-index | cut -d' ' -f2 | "
	    "sort | cmp -s - ids", f->path), 0);
	read_all(f->a, 3);
	git_checks(f);
	/* one pack: nothing to merge */
	assert_int_equal(archive_packs_tidy(f->a, 0, &merged), 0);
	assert_int_equal(merged, 0);
}

static void
test_sweep(void **state)
{
	struct archive_fixture *f = *state;
	unsigned removed;
	const char *fake = "pack-0123456789012345678901234567890123456789";

	write_commit(f->a, 0);
	assert_int_equal(run("cd %s/git/objects/pack && cp pack-*.pack %s.pack && "
	    "cp pack-*.idx %s-x.idx && echo other > other", f->path, fake, fake), 0);
	assert_int_equal(count_packs(f), 2);
	assert_int_equal(archive_packs_sweep(f->a, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(count_packs(f), 1);
	assert_int_equal(run("test -e %s/git/objects/pack/other", f->path), 0);
	read_all(f->a, 1);
	git_checks(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bounded, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_old_handle, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_settle, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_twice, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_sweep, archive_fixture_setup,
		    archive_fixture_teardown),
	};

	if (run("git --version >/dev/null 2>&1") != 0) {
		printf("SKIP: git is not installed\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
