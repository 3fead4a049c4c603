/*
 * custody verify compares each commit's tree with its parent's and checks what changed. These
 * tests play a seized office that signs, with its real key, later commits which tamper with a
 * record written earlier: a byte flipped, an older revision put back, a record sealed again
 * with an earlier stamp, a record moved to another record's place or out of its directory, an
 * entry where none may stand. Each must fail verification; an honest history must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "archive.h"
#include "archive-fixture.h"

/* Append one honest commit of incident id with title, indexed like the daemon does. */
static void
honest(struct archive_fixture *f, const char *id, const char *title)
{
	struct feed_commit c;
	json_t *doc = json_pack("{s:s,s:s,s:s}", "kind", "incident", "id", id, "title", title);

	assert_int_equal(feed_append(f->a, &c, "honest", &doc, 1), 0);
	assert_int_equal(index_apply_commit(f->a, &c, &doc, 1), 0);
	json_decref(doc);
}

/* The object and the path of record id in the head of this office's feed. */
static void
place_of(struct archive_fixture *f, const char *id, git_oid *obj, char **path)
{
	git_commit *c;
	git_oid head;
	uint64_t seq, lamport;
	char tok[TOKEN_HEX_LEN + 1];
	json_t *doc = NULL;

	archive_token_hex(f->a, tok, id);
	assert_int_equal(feed_head(f->a, f->a->office_hex, &head, &seq, &lamport), 0);
	assert_int_equal(git_commit_lookup(&c, archive_repo(f->a), &head), 0);
	assert_int_equal(feed_read_at(f->a, c, tok, &doc, obj), 0);
	assert_non_null(*path = feed_record_path(tok));
	json_decref(doc);
	git_commit_free(c);
}

/* Sign and write, with the office's real key, the head's tree changed by upd: the forgery. */
static void
forge(struct archive_fixture *f, const git_tree_update *upd, size_t n)
{
	git_repository *repo = archive_repo(f->a);
	struct feed_commit out;
	git_commit *parent;
	git_tree *base, *tree;
	git_oid head, t;
	uint64_t seq, lamport;

	assert_int_equal(feed_head(f->a, f->a->office_hex, &head, &seq, &lamport), 0);
	assert_int_equal(git_commit_lookup(&parent, repo, &head), 0);
	assert_int_equal(git_commit_tree(&base, parent), 0);
	assert_int_equal(git_tree_create_updated(&t, repo, base, n, upd), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &t), 0);
	out.seq = seq + 1;
	out.lamport = lamport + 1;
	assert_int_equal(feed_commit_tree(f->a, repo, &out, tree, parent, NULL, NULL, 0), 0);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
}

/* Whether verify reports a problem whose item or text holds what ("": any problem). */
static int
verify_says(struct archive_fixture *f, const char *what)
{
	struct verify_result vr;
	size_t i;
	int found = 0;

	assert_int_equal(verify_archive(f->a, &vr), 0);
	for (i = 0; i < vr.nproblems; i++)
		if (strstr(vr.problems[i].problem, what) != NULL ||
		    strstr(vr.problems[i].item, what) != NULL)
			found = 1;
	if (!found)
		for (i = 0; i < vr.nproblems; i++)
			print_message("problem: %s: %s\n", vr.problems[i].item,
			    vr.problems[i].problem);
	verify_result_free(&vr);
	return found;
}

/* Three commits, one an edit: clean, every record revision counted once. */
static void
test_honest_history(void **state)
{
	struct archive_fixture *f = *state;
	struct verify_result vr;

	honest(f, "inc-1", "a");
	honest(f, "inc-2", "b");
	honest(f, "inc-1", "c");
	assert_int_equal(verify_archive(f->a, &vr), 0);
	assert_int_equal(vr.nproblems, 0);
	assert_int_equal(vr.commits, 3);
	assert_int_equal(vr.records, 3);
	verify_result_free(&vr);
}

/* A later commit holds the record's ciphertext with one byte flipped. */
static void
test_flipped_byte(void **state)
{
	struct archive_fixture *f = *state;
	git_tree_update upd = { .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB };
	git_blob *b;
	git_oid obj;
	char *path;
	uint8_t *bytes;
	size_t len;

	honest(f, "inc-1", "a");
	honest(f, "inc-2", "b");
	place_of(f, "inc-1", &obj, &path);
	assert_int_equal(git_blob_lookup(&b, archive_repo(f->a), &obj), 0);
	len = (size_t)git_blob_rawsize(b);
	assert_non_null(bytes = malloc(len));
	memcpy(bytes, git_blob_rawcontent(b), len);
	bytes[len / 2] ^= 1;
	git_blob_free(b);
	assert_int_equal(git_blob_create_from_buffer(&upd.id, archive_repo(f->a), bytes, len), 0);
	upd.path = path;
	forge(f, &upd, 1);
	assert_true(verify_says(f, path));	/* the record at its path fails to open */
	free(bytes);
	free(path);
}

/* A later commit puts back the record's first revision over its second. */
static void
test_old_revision_put_back(void **state)
{
	struct archive_fixture *f = *state;
	git_tree_update upd = { .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB };
	git_oid first, second;
	char *path;

	honest(f, "inc-1", "a");
	place_of(f, "inc-1", &first, &path);
	free(path);
	honest(f, "inc-1", "b");
	place_of(f, "inc-1", &second, &path);
	assert_false(git_oid_equal(&first, &second));
	assert_true(verify_says(f, "") == 0);	/* clean so far */
	upd.id = first;
	upd.path = path;
	forge(f, &upd, 1);
	assert_true(verify_says(f, "revision stamp"));
	free(path);
}

/* A later commit holds the record sealed again, stamped with the first commit's clock. */
static void
test_rewritten_backdated(void **state)
{
	struct archive_fixture *f = *state;
	git_tree_update upd = { .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB };
	struct cbuf rec = { 0 };
	git_oid obj;
	json_t *doc = NULL;
	char *path, tok[TOKEN_HEX_LEN + 1];

	honest(f, "inc-1", "a");
	honest(f, "inc-2", "b");
	assert_int_equal(feed_read_record(f->a, f->a->office_hex, "inc-1", &doc), 0);
	json_object_set_new(doc, "title", json_string("rewritten"));	/* rev kept: commit 1's */
	archive_token_hex(f->a, tok, "inc-1");
	assert_int_equal(record_seal(&rec, f->a, tok, doc), 0);
	assert_int_equal(git_blob_create_from_buffer(&upd.id, archive_repo(f->a), rec.data,
	    rec.len), 0);
	place_of(f, "inc-1", &obj, &path);
	upd.path = path;
	forge(f, &upd, 1);
	assert_true(verify_says(f, "revision stamp"));
	cbuf_free(&rec);
	json_decref(doc);
	free(path);
}

/* A later commit swaps two records' places. */
static void
test_records_swapped(void **state)
{
	struct archive_fixture *f = *state;
	git_tree_update upd[2] = {
		{ .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB },
		{ .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB },
	};
	git_oid one, two;
	char *p1, *p2;

	honest(f, "inc-1", "a");
	honest(f, "inc-2", "b");
	honest(f, "inc-3", "c");
	place_of(f, "inc-1", &one, &p1);
	place_of(f, "inc-2", &two, &p2);
	upd[0].id = two;
	upd[0].path = p1;
	upd[1].id = one;
	upd[1].path = p2;
	forge(f, upd, 2);
	/* the record key is bound to the path: each, at the other's place, does not open */
	assert_true(verify_says(f, "moved from another path"));
	assert_true(verify_says(f, p1 + 14));
	assert_true(verify_says(f, p2 + 14));
	free(p1);
	free(p2);
}

/* A later commit moves a record out of its directory, and adds an entry at the root. */
static void
test_record_moved_out(void **state)
{
	struct archive_fixture *f = *state;
	git_tree_update upd[3] = {
		{ .action = GIT_TREE_UPDATE_REMOVE },
		{ .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB },
	};
	git_oid obj;
	char *path, moved[128];

	honest(f, "inc-1", "a");
	honest(f, "inc-2", "b");
	place_of(f, "inc-1", &obj, &path);
	upd[0].path = path;
	/* same leaf name, another directory: records/XX/YY must be the token's first digits */
	snprintf(moved, sizeof moved, "records/%c%c/%s", path[8] == '0' ? '1' : '0', path[9],
	    path + 11);
	upd[1].id = obj;
	upd[1].path = moved;
	forge(f, upd, 2);
	assert_true(verify_says(f, "unexpected entry"));
	free(path);
}

/* A later commit adds a blob beside records/: nothing but records/ may stand at the root. */
static void
test_entry_at_root(void **state)
{
	struct archive_fixture *f = *state;
	git_tree_update upd = { .action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB,
	    .path = "notes" };
	char *path;
	git_oid obj;

	honest(f, "inc-1", "a");
	place_of(f, "inc-1", &obj, &path);
	upd.id = obj;
	forge(f, &upd, 1);
	assert_true(verify_says(f, "unexpected entry"));
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_honest_history, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_old_revision_put_back,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_backdated,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_records_swapped, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_record_moved_out,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_entry_at_root, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
