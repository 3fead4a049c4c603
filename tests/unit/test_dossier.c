/*
 * Dossiers: a small but real dossier built here (two offices' signed feeds of raw git objects,
 * sealed record objects, the bag, the exporter's signature), verified as a directory and as
 * age(tar); then each tamper refused with its reason.
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

/* ---- the age form ---- */

static int
cbuf_sink(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/* The files as a tar under the top directory top (entries in order, as the exporter writes). */
static void
tar_files(struct cbuf *out, const struct tfiles *fs, const char *top)
{
	struct tar_writer w;
	char name[1024];
	size_t i;

	tar_writer_init(&w, cbuf_sink, out);
	assert_int_equal(tar_write_entry(&w, top, TAR_DIR, 0, 0755, 1795867200), 0);
	for (i = 0; i < fs->n; i++) {
		snprintf(name, sizeof name, "%s/%s", top, fs->v[i].path);
		assert_int_equal(tar_write_entry(&w, name, fs->v[i].dir ? TAR_DIR : TAR_FILE,
		    fs->v[i].dir ? 0 : fs->v[i].data.len, 0644, 1795867200), 0);
		if (!fs->v[i].dir && fs->v[i].data.len > 0)
			assert_int_equal(tar_write_data(&w, fs->v[i].data.data,
			    fs->v[i].data.len), 0);
	}
	assert_int_equal(tar_write_finish(&w), 0);
}

/* Encrypt plain to the fixture's identity. */
static void
age_encrypt(struct cbuf *out, const struct fx *fx, const struct cbuf *plain)
{
	struct age_recipient rcpt;
	struct age_writer *w;

	age_identity_recipient(&rcpt, &fx->id);
	assert_int_equal(age_writer_new(&w, &rcpt, 1, cbuf_sink, out), 0);
	assert_int_equal(age_writer_write(w, plain->data, plain->len), 0);
	assert_int_equal(age_writer_finish(w), 0);
	age_writer_free(w);
}

/* The bag as root/dossier.age (len bytes of it when len != 0); returns its path. */
static const char *
make_age(const struct fx *fx, size_t cut)
{
	static char path[128];
	struct tfiles *fs = calloc(1, sizeof *fs);
	struct cbuf tar = { 0 }, enc = { 0 };
	int fd;

	assert_non_null(fs);
	load_dir(fs, fx->bag, "");
	tar_files(&tar, fs, fx->name);
	age_encrypt(&enc, fx, &tar);
	assert_true(cut < enc.len);
	snprintf(path, sizeof path, "%s/dossier.age", fx->root);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write_all(fd, enc.data, enc.len - cut), 0);
	close(fd);
	cbuf_free(&tar);
	cbuf_free(&enc);
	tfiles_free(fs);
	free(fs);
	return path;
}

/* Verify root/dossier.age with identity id. */
static int
verify_age(struct dossier_result **res, const struct fx *fx, const struct age_identity *id,
    size_t cut, const char *expect)
{
	const char *path = make_age(fx, cut);
	int fd, error;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	error = dossier_verify_age(res, fd, id, 1, expect);
	close(fd);
	assert_non_null(*res);
	return error;
}

/* ---- looking at results ---- */

/* Print what the verifier found (cmocka shows it when a test fails). */
static void
show(const struct dossier_result *r)
{
	struct cbuf b = { 0 };
	size_t i, j;

	if (r->fatal != NULL)
		print_message("fatal: %s\n", r->fatal);
	bagit_report_format(&b, r->bag);
	bagit_report_format(&b, r->problems);
	print_message("%ssignature %s %s\n", b.data ? (char *)b.data : "", r->sig_ok ? "good" :
	    "BAD", r->sig_why ? r->sig_why : "");
	for (i = 0; i < r->nitems; i++) {
		print_message("%s %s %s: %s\n", dossier_verdict_name(r->items[i].verdict),
		    r->items[i].kind, r->items[i].id, r->items[i].summary ? r->items[i].summary :
		    "");
		for (j = 0; j < r->items[i].nreasons; j++)
			print_message("    %s\n", r->items[i].reasons[j]);
	}
	cbuf_free(&b);
}

/* The item kind/id, or a test failure. */
static const struct dossier_item *
item(const struct dossier_result *r, const char *kind, const char *id)
{
	size_t i;

	for (i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].kind, kind) == 0 && strcmp(r->items[i].id, id) == 0)
			return &r->items[i];
	show(r);
	fail_msg("no item %s %s", kind, id);
	return NULL;
}

/* True when item kind/id failed with a reason containing what. */
static int
failed_with(const struct dossier_result *r, const char *kind, const char *id, const char *what)
{
	const struct dossier_item *it = item(r, kind, id);
	size_t i;

	if (it->verdict != DOSSIER_FAILED)
		return 0;
	for (i = 0; i < it->nreasons; i++)
		if (strstr(it->reasons[i], what) != NULL)
			return 1;
	return 0;
}

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

/* Verify the directory: returns the code, keeps the result. */
static int
verify_dir(struct dossier_result **r, const struct fx *fx, const char *expect)
{
	int error = dossier_verify_dir(r, fx->bag, expect);

	assert_non_null(*r);
	return error;
}

/* Edit a JSON file of the bag in place. */
static json_t *
edit_begin(const struct fx *fx, const char *rel)
{
	return get_json(fx, rel);
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
		T(test_good_dir),
		T(test_stock_tools),
		T(test_good_age),
		T(test_changed_byte),
		T(test_removed_file),
		T(test_added_file),
		T(test_swapped_record),
		T(test_forged_signature),
		T(test_other_feed),
		T(test_withheld_put_back),
		T(test_changed_fields),
		T(test_chain_and_witness),
		T(test_custody_events),
		T(test_malformed_tree),
		T(test_truncated_age),
		T(test_wrong_identity),
		T(test_tar_layout),
		T(test_symlink),
		T(test_flip_every_file),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
