/*
 * Dossiers tampered with: the small but real dossier of dossier-fixture.h changed byte by byte,
 * file by file, record by record, signature and proof; each change refused with its reason.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "custody/age.h"
#include "custody/bagit.h"
#include "custody/dossier.h"
#include "custody/recobj.h"
#include "custody/sshsig.h"
#include "custody/tar.h"

#include "dossier-fixture.h"
#include "dossier-check.h"

/* True when report rep has a problem whose file and text contain file and what. */
static int
has_finding(const struct bagit_report *rep, const char *file, const char *what)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (!rep->items[i].warning && strstr(rep->items[i].file, file) != NULL &&
		    strstr(rep->items[i].what, what) != NULL)
			return 1;
	return 0;
}

/* ---- the tests ---- */

/* A changed payload byte: the bag names the file, the evidence item fails. */
static void
test_changed_byte(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	char rel[256], path[512];
	int fd, form;

	snprintf(rel, sizeof rel, "data/evidence/%s/photo.jpg", fx->ev_sha);
	snprintf(path, sizeof path, "%s/%s", fx->bag, rel);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 1000), 1);
	close(fd);
	for (form = 0; form < 2; form++) {
		assert_int_equal(form ? verify_age(&r, fx, &fx->id, 0, NULL) : verify_dir(&r,
		    fx, NULL), CUSTODY_EINVAL);
		assert_true(has_finding(r->bag, rel, "checksum mismatch"));
		assert_true(failed_with(r, "evidence", fx->ev_sha, "hashes to"));
		assert_int_equal(item(r, "victim", "victim-1")->verdict, DOSSIER_PROVEN);
		assert_false(r->ok);
		dossier_result_free(r);
	}
}

/* A removed file: the manifest line names it, its item fails. */
static void
test_removed_file(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	int form;

	assert_int_equal(run("rm '%s/data/records/victim/victim-1.json'", fx->bag), 0);
	for (form = 0; form < 2; form++) {
		assert_int_equal(form ? verify_age(&r, fx, &fx->id, 0, NULL) : verify_dir(&r,
		    fx, NULL), CUSTODY_EINVAL);
		assert_true(has_finding(r->bag, "manifest-sha256.txt",
		    "data/records/victim/victim-1.json is missing"));
		assert_true(failed_with(r, "victim", "victim-1", "is missing"));
		dossier_result_free(r);
	}
}

/* An added file: in the payload it is not listed; outside, the signature does not cover it. */
static void
test_added_file(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	char rel[256];
	int form;

	snprintf(rel, sizeof rel, "data/evidence/%s/planted.txt", fx->ev_sha);
	put_file(fx, rel, "planted\n", 8);
	put_file(fx, "README", "trust me\n", 9);
	for (form = 0; form < 2; form++) {
		assert_int_equal(form ? verify_age(&r, fx, &fx->id, 0, NULL) : verify_dir(&r,
		    fx, NULL), CUSTODY_EINVAL);
		assert_true(has_finding(r->bag, rel, "payload file not listed"));
		assert_true(has_finding(r->bag, "README", "not listed in tagmanifest"));
		assert_true(has_finding(r->problems, "README", "not a file a dossier has"));
		assert_true(has_finding(r->problems, rel, "no item names this evidence file"));
		dossier_result_free(r);
	}
}

/* Swapped records, manifests fixed and re-signed: the feed does not agree. */
static void
test_swapped_record(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	char from[256], to[256];

	assert_int_equal(run("cd '%s/data/records/victim' && mv victim-1.json t && "
	    "mv victim-2.json victim-1.json && mv t victim-2.json", fx->bag), 0);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_int_equal(r->bag->problems, 0);
	assert_true(r->sig_ok);
	assert_true(failed_with(r, "victim", "victim-1", "not about victim victim-1"));
	assert_true(failed_with(r, "victim", "victim-1", "field name differs from the feed"));
	assert_true(failed_with(r, "victim", "victim-2", "field age differs from the feed"));
	dossier_result_free(r);

	/* the record objects swapped instead: they no longer hash to their names */
	assert_int_equal(run("cd '%s/data/records/victim' && mv victim-1.json t && "
	    "mv victim-2.json victim-1.json && mv t victim-2.json", fx->bag), 0);
	snprintf(from, sizeof from, "custody/objects/%s.blob", fx->r[R_V1].blob);
	snprintf(to, sizeof to, "custody/objects/%s.blob", fx->r[R_V2].blob);
	assert_int_equal(run("cd '%s' && mv %s t && mv %s %s && mv t %s", fx->bag, from, to,
	    from, to), 0);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(has_finding(r->problems, from, "does not hash to its name"));
	assert_true(failed_with(r, "victim", "victim-1", "does not hash to its name"));
	assert_int_equal(item(r, "evidence", fx->ev_sha)->verdict, DOSSIER_PROVEN);
	dossier_result_free(r);
}

/* A tag manifest signed by another key; then one changed after it was signed. */
static void
test_forged_signature(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	int form;

	reseal(fx, &fx->forger);
	for (form = 0; form < 2; form++) {
		assert_int_equal(form ? verify_age(&r, fx, &fx->id, 0, NULL) : verify_dir(&r,
		    fx, NULL), CUSTODY_EINVAL);
		assert_false(r->sig_ok);
		assert_non_null(strstr(r->sig_why, "another key"));
		assert_string_equal(r->exporter, "alpha");
		assert_int_equal(r->bag->problems, 0);
		assert_false(r->ok);
		/* the feed still proves what it proves; nothing vouches for the rest */
		assert_int_equal(item(r, "victim", "victim-1")->verdict, DOSSIER_PROVEN);
		assert_true(failed_with(r, "incident", "inc-1", "nothing vouches for its content"));
		dossier_result_free(r);
	}
	reseal(fx, &fx->alpha);
	assert_int_equal(run("cd '%s' && echo >>tagmanifest-sha256.txt", fx->bag), 0);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_false(r->sig_ok);
	assert_non_null(strstr(r->sig_why, "does not verify"));
	dossier_result_free(r);
	/* or the exporter swapped for the forger in offices.json: allowed_signers disagrees */
	reseal(fx, &fx->alpha);
	{
		json_t *o = edit_begin(fx, "custody/offices.json");

		json_object_set_new(o, "exporter", json_string(fx->bravo.hex));
		put_json(fx, "custody/offices.json", o);
	}
	reseal(fx, &fx->bravo);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_false(r->sig_ok);
	assert_non_null(strstr(r->sig_why, "first key of allowed_signers"));
	dossier_result_free(r);
}

/* A proof from another feed: bravo's commit under alpha's name, or bravo's proof whole. */
static void
test_other_feed(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	json_t *it, *p, *wp;
	const char *rel = "custody/items/victim/victim-1.json";

	it = edit_begin(fx, rel);
	p = json_object_get(it, "proof");
	wp = json_object_get(json_array_get(json_object_get(it, "witnesses"), 0), "proof");
	json_object_set(p, "commit", json_object_get(wp, "commit"));
	json_object_set(p, "seq", json_object_get(wp, "seq"));
	put_json(fx, rel, it);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(r->sig_ok);
	assert_true(failed_with(r, "victim", "victim-1", "is not signed by the key of feed"));
	dossier_result_free(r);

	it = edit_begin(fx, rel);
	wp = json_object_get(json_array_get(json_object_get(it, "witnesses"), 0), "proof");
	json_object_set(it, "proof", wp);
	put_json(fx, rel, it);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-1", "of kind witness, not victim"));
	dossier_result_free(r);
}

/* A withheld field put back by hand, with or without taking it off the withheld lists. */
static void
test_withheld_put_back(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	const char *rec = "data/records/victim/victim-1.json";
	const char *itf = "custody/items/victim/victim-1.json";
	json_t *o;

	o = edit_begin(fx, rec);
	json_object_set_new(o, "notes", json_string("shrapnel wounds"));
	put_json(fx, rec, o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_int_equal(r->bag->problems, 0);
	assert_true(r->sig_ok);
	assert_true(failed_with(r, "victim", "victim-1",
	    "field notes: the dossier has a value the feed does not disclose"));
	dossier_result_free(r);

	o = edit_begin(fx, rec);
	json_object_del(o, "withheld");
	put_json(fx, rec, o);
	o = edit_begin(fx, itf);
	json_object_del(o, "withheld");
	put_json(fx, itf, o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-1",
	    "field notes: the dossier has a value the feed does not disclose"));
	assert_true(failed_with(r, "victim", "victim-1", "not disclosed, yet not withheld"));
	dossier_result_free(r);

	/* a source's disclosed name changed */
	o = edit_begin(fx, "data/records/source/src-1.json");
	json_object_set_new(o, "name", json_string("Someone Else"));
	put_json(fx, "data/records/source/src-1.json", o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "source", "src-1", "field name differs from the feed"));
	dossier_result_free(r);
}

/* A changed field; a record with an extra field; an evidence size that lies. */
static void
test_changed_fields(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	char rel[256];
	json_t *o;

	o = edit_begin(fx, "data/records/victim/victim-2.json");
	json_object_set_new(o, "age", json_integer(52));
	json_object_set_new(o, "status", json_string("combatant"));
	put_json(fx, "data/records/victim/victim-2.json", o);
	snprintf(rel, sizeof rel, "data/records/evidence/%s.json", fx->ev_sha);
	o = edit_begin(fx, rel);
	json_object_set_new(o, "size", json_integer(5));
	put_json(fx, rel, o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-2", "field age differs from the feed"));
	assert_true(failed_with(r, "victim", "victim-2",
	    "field status is not in the feed's record"));
	assert_true(failed_with(r, "evidence", fx->ev_sha, "field size differs from the feed"));
	assert_true(failed_with(r, "evidence", fx->ev_sha, "the record says otherwise"));
	dossier_result_free(r);
}

/* A commit of alpha's over a malformed tree: a reason, not a crash. */
static void
test_malformed_tree(void **state)
{
	static const char *const bad[] = {
		"100644 name",				/* no NUL, no oid */
		"0100644 x\0aaaaaaaaaaaaaaaaaaaa",	/* leading zero */
		"40000 records\0aaaaaaaaaaaaaaaaaaa",	/* short oid */
		"40000 zz\0aaaaaaaaaaaaaaaaaaaa40000 aa\0aaaaaaaaaaaaaaaaaaaa",	/* order */
		"40000 records\0aaaaaaaaaaaaaaaaaaaa",	/* a tree that is not there */
		"100644 records\0aaaaaaaaaaaaaaaaaaaa",	/* a file where a tree must be */
	};
	static const size_t len[] = { 11, 30, 33, 58, 34, 35 };
	struct fx *fx = *state;
	struct dossier_result *r;
	const char *itf = "custody/items/victim/victim-2.json";
	char tree[41], commit[41];
	json_t *o;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		git_put(fx, "tree", bad[i], len[i], tree);
		commit_put(fx, &fx->alpha, tree, fx->a3, 4, commit);
		o = edit_begin(fx, itf);
		json_object_set_new(json_object_get(o, "proof"), "commit", json_string(commit));
		json_object_set_new(json_object_get(o, "proof"), "seq", json_integer(4));
		json_object_set_new(o, "commits", json_pack("[s]", commit));
		json_object_set_new(o, "custody", json_array());
		put_json(fx, itf, o);
		reseal(fx, &fx->alpha);
		assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
		if (i < 4)
			assert_true(failed_with(r, "victim", "victim-2", "is malformed"));
		else if (i == 4)
			assert_true(failed_with(r, "victim", "victim-2", "is not in the dossier"));
		else
			assert_true(failed_with(r, "victim", "victim-2", "is not a directory"));
		assert_int_equal(item(r, "victim", "victim-1")->verdict, DOSSIER_PROVEN);
		dossier_result_free(r);
	}
}

/* A truncated age file fails as a whole, whether cut inside a chunk or at its boundary. */
static void
test_truncated_age(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct tfiles *fs = calloc(1, sizeof *fs);
	struct cbuf tar = { 0 };
	size_t last;

	assert_int_equal(verify_age(&r, fx, &fx->id, 100, NULL), CUSTODY_EINVAL);
	assert_non_null(r->fatal);
	assert_non_null(strstr(r->fatal, "truncated"));
	assert_int_equal(r->nitems, 0);
	assert_false(r->ok);
	dossier_result_free(r);

	/* exactly the final chunk cut off */
	assert_non_null(fs);
	load_dir(fs, fx->bag, "");
	tar_files(&tar, fs, fx->name);
	assert_true(tar.len > AGE_CHUNK_LEN);
	last = tar.len % AGE_CHUNK_LEN ? tar.len % AGE_CHUNK_LEN : AGE_CHUNK_LEN;
	assert_int_equal(verify_age(&r, fx, &fx->id, last + AGE_TAG_LEN, NULL), CUSTODY_EINVAL);
	assert_non_null(r->fatal);
	assert_non_null(strstr(r->fatal, "missing final chunk (truncated?)"));
	dossier_result_free(r);
	cbuf_free(&tar);
	tfiles_free(fs);
	free(fs);
}

/* Another identity opens nothing. */
static void
test_wrong_identity(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct age_identity other;

	assert_int_equal(age_keygen(&other), 0);
	assert_int_equal(verify_age(&r, fx, &other, 0, NULL), CUSTODY_EINVAL);
	assert_non_null(r->fatal);
	assert_non_null(strstr(r->fatal, "no identity given opens this file"));
	assert_int_equal(r->nitems, 0);
	dossier_result_free(r);
}

/* A symbolic link in the directory is a finding, never followed. */
static void
test_symlink(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;

	assert_int_equal(run("ln -s /etc/passwd '%s/data/link'", fx->bag), 0);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(has_finding(r->bag, "data/link", "link or special file"));
	dossier_result_free(r);
}

/* Flip one byte of any file, kept or streamed: a finding names the file; nothing crashes. */
static void
test_flip_every_file(void **state)
{
	struct fx *fx = *state;
	struct tfiles *fs = calloc(1, sizeof *fs);
	struct dossier_reader *rd;
	struct dossier_result *r;
	struct cbuf tar = { 0 };
	struct tfile *f;
	size_t i, pos, round;

	assert_non_null(fs);
	load_dir(fs, fx->bag, "");
	for (i = 0; i < fs->n; i++) {
		f = &fs->v[i];
		if (f->dir || f->data.len == 0 || strcmp(f->path, "tagmanifest-sha256.txt") == 0 ||
		    strcmp(f->path, "tagmanifest-sha256.txt.sig") == 0)
			continue;
		for (round = 0; round < 3; round++) {
			pos = (i * 131 + round * 977) % f->data.len;
			f->data.data[pos] ^= (uint8_t)(1u << (round + i) % 8);
			tar.len = 0;
			tar_files(&tar, fs, fx->name);
			assert_int_equal(dossier_reader_new(&rd, NULL, 0), 0);
			assert_int_equal(dossier_reader_feed(rd, tar.data, tar.len), 0);
			assert_int_equal(dossier_reader_finish(&r, rd, NULL), CUSTODY_EINVAL);
			if (!has_finding(r->bag, f->path, "checksum mismatch")) {
				show(r);
				fail_msg("flipping byte %zu of %s was not noticed", pos, f->path);
			}
			dossier_result_free(r);
			dossier_reader_free(rd);
			f->data.data[pos] ^= (uint8_t)(1u << (round + i) % 8);
		}
	}
	cbuf_free(&tar);
	tfiles_free(fs);
	free(fs);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_changed_byte),
		T(test_removed_file),
		T(test_added_file),
		T(test_swapped_record),
		T(test_forged_signature),
		T(test_other_feed),
		T(test_withheld_put_back),
		T(test_changed_fields),
		T(test_malformed_tree),
		T(test_truncated_age),
		T(test_wrong_identity),
		T(test_symlink),
		T(test_flip_every_file),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
