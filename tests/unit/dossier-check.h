/*
 * How the dossier tests check a dossier: its age form (tar, then age), verification of the
 * directory and of the age file, and lookups in the verifier's result.
 */
#ifndef CUSTODY_DOSSIER_CHECK_H
#define CUSTODY_DOSSIER_CHECK_H

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

#endif
