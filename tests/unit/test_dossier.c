/*
 * Dossiers: a small but real dossier built here (two offices' signed feeds of raw git objects,
 * sealed record objects, the bag, the exporter's signature), verified as a directory and as
 * age(tar), by us and by stock tools. Each tamper is in test_dossier_tamper.c.
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

/* Every item proven but the incident (attested); nothing found. */
static void
assert_good(const struct fx *fx, const struct dossier_result *r)
{
	const struct dossier_item *v1;
	char *fp;

	if (!r->ok)
		show(r);
	assert_true(r->ok);
	assert_null(r->fatal);
	assert_int_equal(r->bag->n, 0);
	assert_int_equal(r->problems->n, 0);
	assert_true(r->sig_ok);
	assert_string_equal(r->exporter, "alpha");
	assert_int_equal(sshkey_fingerprint(&fp, fx->alpha.pk), 0);
	assert_string_equal(r->fingerprint, fp);
	free(fp);
	assert_string_equal(r->name, fx->name);
	assert_int_equal(r->payload_files, 6);
	assert_int_equal(r->nitems, 5);
	assert_int_equal(item(r, "incident", "inc-1")->verdict, DOSSIER_ATTESTED);
	assert_int_equal(item(r, "evidence", fx->ev_sha)->verdict, DOSSIER_PROVEN);
	assert_int_equal(item(r, "victim", "victim-2")->verdict, DOSSIER_PROVEN);
	assert_int_equal(item(r, "source", "src-1")->verdict, DOSSIER_PROVEN);
	v1 = item(r, "victim", "victim-1");
	assert_int_equal(v1->verdict, DOSSIER_PROVEN);
	assert_string_equal(v1->summary, "recorded by alpha at seq 2 on 2026-11-28; witnessed "
	    "by bravo " WITNESS_TIME);
	assert_string_equal(item(r, "victim", "victim-2")->summary, "recorded by alpha at seq "
	    "2 on 2026-11-28; no witness");
	assert_non_null(strstr(item(r, "incident", "inc-1")->summary, "exporter alone"));
}

/* ---- the tests ---- */

/* The dossier holds as a directory; --expect with its fingerprint too, not with another. */
static void
test_good_dir(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	char *fp;
	int error;

	error = verify_dir(&r, fx, NULL);
	assert_good(fx, r);
	assert_int_equal(error, 0);
	assert_int_equal(r->expect, 0);
	dossier_result_free(r);

	assert_int_equal(sshkey_fingerprint(&fp, fx->alpha.pk), 0);
	assert_int_equal(verify_dir(&r, fx, fp), 0);
	assert_int_equal(r->expect, 1);
	dossier_result_free(r);
	free(fp);
	assert_int_equal(sshkey_fingerprint(&fp, fx->bravo.pk), 0);
	assert_int_equal(verify_dir(&r, fx, fp), CUSTODY_EINVAL);
	assert_int_equal(r->expect, -1);
	assert_false(r->ok);
	assert_true(r->sig_ok);
	dossier_result_free(r);
	free(fp);
	r = (void *)1;
	assert_int_equal(dossier_verify_dir(&r, "/nonexistent/dossier", NULL), CUSTODY_ENOTFOUND);
	assert_null(r);
}

/* Stock tools agree with the fixture: sha256sum, ssh-keygen -Y verify, git. */
static void
test_stock_tools(void **state)
{
	struct fx *fx = *state;

	if (run("command -v sha256sum >/dev/null && command -v ssh-keygen >/dev/null && "
	    "command -v git >/dev/null") != 0)
		skip();
	assert_int_equal(run("cd '%s' && sha256sum -c --quiet manifest-sha256.txt && "
	    "sha256sum -c --quiet tagmanifest-sha256.txt", fx->bag), 0);
	assert_int_equal(run("cd '%s' && ssh-keygen -Y verify -f allowed_signers -I alpha "
	    "-n custody-dossier -s tagmanifest-sha256.txt.sig <tagmanifest-sha256.txt "
	    ">/dev/null 2>&1", fx->bag), 0);
	/* every object gets its name from git; git verifies the commit signatures */
	assert_int_equal(run("cd '%s' && git init -q --bare ../git && for f in "
	    "custody/objects/*; do n=${f##*/}; o=$(git --git-dir=../git hash-object -w "
	    "--literally -t ${n#*.} $f) && [ $o = ${n%%.*} ] || exit 1; done", fx->bag), 0);
	assert_int_equal(run("cd '%s' && git --git-dir=../git -c gpg.format=ssh -c "
	    "gpg.ssh.allowedSignersFile=allowed_signers verify-commit %s %s %s %s "
	    ">/dev/null 2>&1 && git --git-dir=../git ls-tree -r %s | grep -q %s", fx->bag,
	    fx->a1, fx->a2, fx->a3, fx->b1, fx->a3, fx->r[R_V1].blob), 0);
}

/* The dossier holds as age(tar), read whole or in odd pieces; a plain tar too. */
static void
test_good_age(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct dossier_reader *rd;
	struct tfiles *fs = calloc(1, sizeof *fs);
	struct cbuf tar = { 0 }, enc = { 0 };
	size_t off, step;

	assert_int_equal(verify_age(&r, fx, &fx->id, 0, NULL), 0);
	assert_good(fx, r);
	dossier_result_free(r);

	assert_non_null(fs);
	load_dir(fs, fx->bag, "");
	tar_files(&tar, fs, fx->name);
	age_encrypt(&enc, fx, &tar);
	assert_int_equal(dossier_reader_new(&rd, &fx->id, 1), 0);
	for (off = 0, step = 1; off < enc.len; off += step, step = step * 3 % 1021 + 1)
		assert_int_equal(dossier_reader_feed(rd, enc.data + off, off + step > enc.len ?
		    enc.len - off : step), 0);
	assert_int_equal(dossier_reader_finish(&r, rd, NULL), 0);
	assert_good(fx, r);
	dossier_result_free(r);
	dossier_reader_free(rd);

	assert_int_equal(dossier_reader_new(&rd, NULL, 0), 0);
	assert_int_equal(dossier_reader_feed(rd, tar.data, tar.len), 0);
	assert_int_equal(dossier_reader_finish(&r, rd, NULL), 0);
	assert_good(fx, r);
	dossier_result_free(r);
	dossier_reader_free(rd);
	cbuf_free(&tar);
	cbuf_free(&enc);
	tfiles_free(fs);
	free(fs);
}

/* The chain of commits and the witness must hold together. */
static void
test_chain_and_witness(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	const char *itf = "custody/items/victim/victim-1.json";
	json_t *o, *w;

	o = edit_begin(fx, itf);
	json_object_set_new(o, "commits", json_pack("[s,s]", fx->a3, fx->a1));
	put_json(fx, itf, o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-1", "commits does not end at the proof's"));
	dossier_result_free(r);

	o = edit_begin(fx, itf);
	json_object_set_new(o, "commits", json_pack("[s,s,s]", fx->a3, fx->a1, fx->a2));
	put_json(fx, itf, o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-1", "is not the parent of"));
	dossier_result_free(r);

	/* the witness claims another head than its signed record says */
	o = edit_begin(fx, itf);
	json_object_set_new(o, "commits", json_pack("[s,s]", fx->a3, fx->a2));
	w = json_array_get(json_object_get(o, "witnesses"), 0);
	json_object_set_new(w, "commit", json_string(fx->a2));
	json_object_set_new(w, "seq", json_integer(2));
	put_json(fx, itf, o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-1", "witness bravo: the witness record says "
	    "another seq"));
	assert_true(failed_with(r, "victim", "victim-1", "commits does not start at a commit a "
	    "witness names"));
	dossier_result_free(r);

	/* a witness added to an item whose commits stop at the proof */
	w = json_pack("[{s:s,s:i,s:s,s:s,s:o}]", "office", fx->bravo.hex, "seq", 3, "commit",
	    fx->a3, "time", WITNESS_TIME, "proof", proof(fx, &fx->r[R_WIT], &fx->bravo, fx->b1,
	    1, 1));
	o = edit_begin(fx, "custody/items/victim/victim-2.json");
	json_object_set_new(o, "witnesses", w);
	put_json(fx, "custody/items/victim/victim-2.json", o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-2", "is not in commits"));
	dossier_result_free(r);
}

/* The chain of custody must tell what the proofs show. */
static void
test_custody_events(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	const char *itf = "custody/items/victim/victim-1.json";
	json_t *o, *events;

	o = edit_begin(fx, itf);
	events = json_object_get(o, "custody");
	json_array_remove(events, 1);
	put_json(fx, itf, o);
	o = edit_begin(fx, "custody/items/victim/victim-2.json");
	events = json_object_get(o, "custody");
	json_object_set_new(json_array_get(events, 0), "seq", json_integer(1));
	put_json(fx, "custody/items/victim/victim-2.json", o);
	o = edit_begin(fx, "custody/items/source/src-1.json");
	json_array_append_new(json_object_get(o, "custody"), json_integer(7));
	put_json(fx, "custody/items/source/src-1.json", o);
	reseal(fx, &fx->alpha);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-1", "witness bravo has no witnessed event"));
	assert_true(failed_with(r, "victim", "victim-2", "the recorded event is not the proof's"));
	assert_true(failed_with(r, "source", "src-1", "custody[1] is not an event"));
	assert_int_equal(item(r, "incident", "inc-1")->verdict, DOSSIER_ATTESTED);
	dossier_result_free(r);
}

/* Tars that are not one dossier-ID/ directory, names twice, a file too large to keep. */
static void
test_tar_layout(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct dossier_reader *rd;
	struct tar_writer w;
	struct cbuf tar = { 0 };
	char name[128];
	int k;

	for (k = 0; k < 4; k++) {
		tar.len = 0;
		tar_writer_init(&w, cbuf_sink, &tar);
		if (k == 0) {
			assert_int_equal(tar_write_entry(&w, "evil", TAR_DIR, 0, 0755, 0), 0);
		} else {
			assert_int_equal(tar_write_entry(&w, fx->name, TAR_DIR, 0, 0755, 0), 0);
			snprintf(name, sizeof name, k == 1 ? "other/bagit.txt" : "%s/bagit.txt",
			    fx->name);
			assert_int_equal(tar_write_entry(&w, name, TAR_FILE, k == 3 ?
			    DOSSIER_FILE_MAX + 1 : 1, 0644, 0), 0);
			if (k != 3)
				assert_int_equal(tar_write_data(&w, "x", 1), 0);
			if (k == 2) {
				assert_int_equal(tar_write_entry(&w, name, TAR_FILE, 1, 0644, 0),
				    0);
				assert_int_equal(tar_write_data(&w, "y", 1), 0);
			}
		}
		if (k != 3)
			assert_int_equal(tar_write_finish(&w), 0);
		assert_int_equal(dossier_reader_new(&rd, NULL, 0), 0);
		dossier_reader_feed(rd, tar.data, tar.len);
		assert_int_equal(dossier_reader_finish(&r, rd, NULL), CUSTODY_EINVAL);
		assert_non_null(r->fatal);
		assert_non_null(strstr(r->fatal, k == 0 ? "not under a dossier-ID/" : k == 1 ?
		    "is outside" : k == 2 ? "appears twice" : "larger than 64 MiB"));
		dossier_result_free(r);
		dossier_reader_free(rd);
	}
	cbuf_free(&tar);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_good_dir),
		T(test_stock_tools),
		T(test_good_age),
		T(test_chain_and_witness),
		T(test_custody_events),
		T(test_tar_layout),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
