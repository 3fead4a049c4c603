/*
 * Signing-key rotation (daemon/engine/keys-rotate.c, daemon/engine/handover-feed.c): the handover commit is
 * signed by the old key and everything after by the new one, the feed keeps its name, the key
 * files are replaced and the rotation survives a reopen, a crash before the handover leaves
 * the old key, a crash after it finishes the rotation at the next open, and the handovers of a
 * feed are read back from git.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "handover.h"
#include "archive-fixture.h"

/* The index records_write_changed needs, on an archive just opened. */
static void
ready(struct archive *a)
{
	char *cause = NULL;

	assert_int_equal(index_open(a, &cause), 0);
}

/* One record in a's own feed; the commit's seq in *seq. */
static void
write_event(struct archive *a, const char *id, uint64_t *seq)
{
	struct records_written w;
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "event", "id", id, "action",
	    "get", "evidence", "0", "actor", "unit", "time", "2026-01-01T00:00:00Z");

	assert_non_null(doc);
	assert_int_equal(records_write_changed(a, &doc, 1, "event", 0, &w), 0);
	assert_true(w.committed);
	if (seq != NULL)
		*seq = w.commit.seq;
	json_decref(doc);
}

/* The head commit of a's own feed. */
static void
own_head(struct archive *a, git_oid *oid, uint64_t *seq)
{
	uint64_t lamport;

	assert_int_equal(feed_head(a, a->office_hex, oid, seq, &lamport), 0);
}

static int
exists(const char *dir, const char *rel)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

/* Run a shell command in the directory dir ($K in it names dir as well). */
static void
shell(const char *dir, const char *cmd)
{
	char line[1400];

	snprintf(line, sizeof line, "cd '%s' && K='%s' && %s", dir, dir, cmd);
	assert_int_equal(system(line), 0);
}

/* The handover is signed by the old key, later commits by the new one; the feed keeps its name. */
static void
test_rotate_signs_with_new_key(void **state)
{
	struct archive_fixture *f = *state;
	struct archive *a = f->a;
	uint8_t old[ED25519_PK_LEN], id[ED25519_PK_LEN];
	struct handover_feed *hf = malloc(sizeof *hf);
	char *cause = NULL, hex[65];
	uint64_t seq, hseq;
	git_oid head, hhead;

	assert_non_null(hf);
	ready(a);
	write_event(a, "ev-1", NULL);
	memcpy(old, a->sign_pk, sizeof old);
	memcpy(id, a->office_pk, sizeof id);
	memcpy(hex, a->office_hex, sizeof hex);
	assert_memory_equal(old, id, ED25519_PK_LEN);
	assert_int_equal(keys_rotate(a, &cause), 0);
	assert_null(cause);
	assert_memory_not_equal(a->sign_pk, old, ED25519_PK_LEN);
	assert_memory_equal(a->office_pk, id, ED25519_PK_LEN);
	assert_string_equal(a->office_hex, hex);
	own_head(a, &hhead, &hseq);
	assert_int_equal(feed_check_signature(archive_repo(a), &hhead, old), 0);
	assert_true(feed_check_signature(archive_repo(a), &hhead, a->sign_pk) < 0);

	write_event(a, "ev-2", &seq);
	own_head(a, &head, &seq);
	assert_int_equal(seq, hseq + 1);
	assert_int_equal(feed_check_signature(archive_repo(a), &head, a->sign_pk), 0);
	assert_true(feed_check_signature(archive_repo(a), &head, old) < 0);

	/* read back from git: one handover, at hseq, old -> new */
	assert_int_equal(handover_feed_read(a, archive_repo(a), a->office_hex, NULL, hf), 0);
	assert_int_equal(hf->ch.n, 1);
	assert_int_equal(hf->step[0].seq, hseq);
	assert_memory_equal(hf->step[0].from, old, ED25519_PK_LEN);
	assert_memory_equal(hf->step[0].to, a->sign_pk, ED25519_PK_LEN);
	assert_memory_equal(hf->ch.current, a->sign_pk, ED25519_PK_LEN);
	assert_ptr_equal(handover_key_at(hf, id, hseq), id);
	assert_memory_equal(handover_key_at(hf, id, hseq + 1), a->sign_pk, ED25519_PK_LEN);
	/* up to the handover's parent, none */
	{
		git_commit *c = NULL;

		assert_int_equal(git_commit_lookup(&c, archive_repo(a), &hhead), 0);
		assert_int_equal(handover_feed_read(a, archive_repo(a), a->office_hex,
		    git_commit_parent_id(c, 0), hf), 0);
		assert_int_equal(hf->ch.n, 0);
		git_commit_free(c);
	}
	assert_true(exists(f->path, "keys/identity"));
	assert_true(exists(f->path, "keys/office.key.prev"));
	assert_false(exists(f->path, "keys/office.key.next"));
	assert_false(exists(f->path, "keys/data.key.next"));
	free(hf);
}

/* After a reopen the office signs with the new key, its identity and data key unchanged. */
static void
test_rotate_reopen(void **state)
{
	struct archive_fixture *f = *state;
	uint8_t id[ED25519_PK_LEN], now[ED25519_PK_LEN];
	char *cause = NULL;
	json_t *doc = NULL;
	git_oid head;
	uint64_t seq;

	ready(f->a);
	write_event(f->a, "ev-1", NULL);
	memcpy(id, f->a->office_pk, sizeof id);
	assert_int_equal(keys_rotate(f->a, &cause), 0);
	memcpy(now, f->a->sign_pk, sizeof now);
	archive_close(f->a);
	assert_int_equal(archive_open(&f->a, f->path, NULL, 1, &cause), 0);
	ready(f->a);
	assert_memory_equal(f->a->sign_pk, now, ED25519_PK_LEN);
	assert_memory_equal(f->a->office_pk, id, ED25519_PK_LEN);
	assert_true(f->a->has_prev);
	assert_memory_equal(f->a->prev_sk + 32, id, ED25519_PK_LEN);
	assert_int_equal(feed_read_record(f->a, f->a->office_hex, "ev-1", &doc), 0);
	json_decref(doc);
	write_event(f->a, "ev-2", NULL);
	own_head(f->a, &head, &seq);
	assert_int_equal(feed_check_signature(archive_repo(f->a), &head, now), 0);
	/* a second rotation: the first key stays the identity */
	assert_int_equal(keys_rotate(f->a, &cause), 0);
	assert_memory_equal(f->a->office_pk, id, ED25519_PK_LEN);
	assert_memory_equal(f->a->prev_sk + 32, now, ED25519_PK_LEN);
}

/* A crash before the handover commit: the next open drops the new files, the old key signs. */
static void
test_crash_before_handover(void **state)
{
	struct archive_fixture *f = *state;
	uint8_t old[ED25519_PK_LEN], pk[ED25519_PK_LEN], sk[ED25519_SK_LEN], buf[256];
	char *cause = NULL, dir[400];
	size_t n;

	ready(f->a);
	write_event(f->a, "ev-1", NULL);
	memcpy(old, f->a->sign_pk, sizeof old);
	/* what step 1 leaves: a new key beside the old one, no handover */
	crypto_sign_keypair(pk, sk);
	snprintf(dir, sizeof dir, "%s/keys", f->path);
	assert_int_equal(keys_seal_again(f->a, sk, buf, sizeof buf, &n), 0);
	assert_int_equal(keys_replace_file(dir, "office.key.next", buf, n, &cause), 0);
	assert_int_equal(keys_reseal_data(f->a, "data.key.next", pk, &cause), 0);
	archive_close(f->a);
	/* custodyd passwd waits until the rotation is settled */
	assert_int_equal(passwd_open(&f->a, f->path, NULL, &cause), 0);
	assert_int_equal(passwd_reseal(f->a, "a long enough passphrase", &cause), CUSTODY_EPERM);
	assert_non_null(strstr(cause, "interrupted"));
	free(cause);
	cause = NULL;
	archive_close(f->a);
	assert_int_equal(archive_open(&f->a, f->path, NULL, 1, &cause), 0);
	ready(f->a);
	assert_memory_equal(f->a->sign_pk, old, ED25519_PK_LEN);
	assert_false(exists(f->path, "keys/office.key.next"));
	assert_false(exists(f->path, "keys/data.key.next"));
	write_event(f->a, "ev-2", NULL);
}

/* A crash after the handover commit, before the key files moved: the next open finishes it. */
static void
test_crash_after_handover(void **state)
{
	struct archive_fixture *f = *state;
	uint8_t now[ED25519_PK_LEN];
	char *cause = NULL, keys[400];
	json_t *doc = NULL;
	git_oid head;
	uint64_t seq;

	ready(f->a);
	write_event(f->a, "ev-1", NULL);
	snprintf(keys, sizeof keys, "%s/keys", f->path);
	shell(keys, "mkdir \"$K.old\" && cp -p office.key data.key \"$K.old/\"");
	assert_int_equal(keys_rotate(f->a, &cause), 0);
	memcpy(now, f->a->sign_pk, sizeof now);
	archive_close(f->a);
	f->a = NULL;
	/* the state between steps 2 and 3: the new files still beside the old ones */
	shell(keys, "mv office.key office.key.next && mv data.key data.key.next && "
	    "cp -p \"$K.old/office.key\" \"$K.old/data.key\" . && rm office.key.prev");
	assert_int_equal(archive_open(&f->a, f->path, NULL, 1, &cause), 0);
	ready(f->a);
	assert_memory_equal(f->a->sign_pk, now, ED25519_PK_LEN);
	assert_false(exists(f->path, "keys/office.key.next"));
	assert_false(exists(f->path, "keys/data.key.next"));
	assert_int_equal(feed_read_record(f->a, f->a->office_hex, "ev-1", &doc), 0);
	json_decref(doc);
	write_event(f->a, "ev-2", NULL);
	own_head(f->a, &head, &seq);
	assert_int_equal(feed_check_signature(archive_repo(f->a), &head, now), 0);
	/* and it stays so */
	archive_close(f->a);
	assert_int_equal(archive_open(&f->a, f->path, NULL, 1, &cause), 0);
	ready(f->a);
	assert_memory_equal(f->a->sign_pk, now, ED25519_PK_LEN);
}

/* A sealed office key: the new key is sealed with the same passphrase. */
static void
test_rotate_sealed(void **state)
{
	const char *pass = "a long enough passphrase";
	uint8_t now[ED25519_PK_LEN];
	struct archive *a = NULL;
	char dir[256], path[300], *cause = NULL;

	(void)state;
	archive_fixture_dir(dir, sizeof dir, "/tmp/custody-unit.XXXXXX");
	snprintf(path, sizeof path, "%s/arch", dir);
	assert_int_equal(archive_create(path, "sealed-office", pass, &cause), 0);
	assert_int_equal(archive_open(&a, path, pass, 1, &cause), 0);
	ready(a);
	write_event(a, "ev-1", NULL);
	assert_int_equal(keys_rotate(a, &cause), 0);
	memcpy(now, a->sign_pk, sizeof now);
	archive_close(a);
	a = NULL;
	assert_true(archive_open(&a, path, "not the passphrase", 1, &cause) < 0);
	free(cause);
	cause = NULL;
	assert_int_equal(archive_open(&a, path, pass, 1, &cause), 0);
	ready(a);
	assert_memory_equal(a->sign_pk, now, ED25519_PK_LEN);
	assert_true(a->has_prev);
	archive_close(a);
	a = NULL;
	/* a new passphrase: the previous key is resealed with it too */
	assert_int_equal(passwd_open(&a, path, pass, &cause), 0);
	assert_int_equal(passwd_reseal(a, "another long passphrase", &cause), 0);
	archive_close(a);
	a = NULL;
	assert_int_equal(archive_open(&a, path, "another long passphrase", 1, &cause), 0);
	assert_memory_equal(a->sign_pk, now, ED25519_PK_LEN);
	assert_true(a->has_prev);
	archive_close(a);
	archive_fixture_remove(dir);
}

/* handover_feed_step: from the current key, to a key never used, each recorded. */
static void
test_feed_step(void **state)
{
	uint8_t k0[32], k1[32], k2[32];
	struct handover_feed *hf = calloc(1, sizeof *hf);

	(void)state;
	assert_non_null(hf);
	randombytes_buf(k0, 32);
	randombytes_buf(k1, 32);
	randombytes_buf(k2, 32);
	handover_chain_init(&hf->ch, k0);
	assert_true(handover_feed_step(hf, 3, 100, k1, k2) < 0);	/* not from the current */
	assert_int_equal(hf->ch.n, 0);
	assert_int_equal(handover_feed_step(hf, 3, 100, k0, k1), 0);
	assert_int_equal(handover_feed_step(hf, 5, 200, k1, k2), 0);
	assert_true(handover_feed_step(hf, 7, 300, k2, k1) < 0);	/* back to a used key */
	assert_true(handover_feed_step(hf, 7, 300, k2, k0) < 0);
	assert_int_equal(hf->ch.n, 2);
	assert_int_equal(hf->step[1].seq, 5);
	assert_int_equal(hf->step[1].time, 200);
	assert_memory_equal(handover_key_at(hf, k0, 5), k1, 32);
	assert_memory_equal(handover_key_at(hf, k0, 6), k2, 32);
	assert_memory_equal(handover_key_at(hf, k0, 2), k0, 32);
	free(hf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotate_signs_with_new_key,
		    archive_fixture_setup, archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_reopen, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_handover, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_handover, archive_fixture_setup,
		    archive_fixture_teardown),
		cmocka_unit_test(test_rotate_sealed),
		cmocka_unit_test(test_feed_step),
	};

	if (sodium_init() < 0 || git_libgit2_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
