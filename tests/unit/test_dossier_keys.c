/*
 * Dossiers of an office that rotated its signing key: the small but real dossier of
 * dossier-fixture.h, its feed continued with a handover commit (signed by alpha's first key,
 * naming a new one) and a commit signed by the new key holding victim-2, exported under the new
 * key. It verifies; with the handover left out, signed by another key, malformed, or with a
 * commit or the tag manifest signed by the handed-over key, it is refused with the reason.
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

/* How the rotation is forged. */
struct rot {
	const struct office	*handover_signer;	/* signs the handover commit */
	const struct office	*after_signer;		/* signs the commit after it */
	const struct office	*exporter;		/* signs the tag manifest */
	const struct office	*to;			/* the key the handover names */
	const char		*rec_to;		/* the record's "to" (NULL: to's) */
};

/* The tree of tree2's records plus h: records/ab/cd/TOKEN, one record per ab. */
static void
keys_tree(struct fx *fx, const struct rec *h, char out[static 41])
{
	const struct rec *rs[6];
	struct cbuf top = { 0 }, recs = { 0 }, ab = { 0 }, cd = { 0 };
	char oid[41], name[3];
	size_t i, n = 0;
	int idx[] = { R_INC, R_EV, R_V1, R_V2, R_SRC };

	for (i = 0; i < 5; i++)
		rs[n++] = &fx->r[idx[i]];
	rs[n++] = h;
	for (i = 0; i < n; i++) {
		cd.len = ab.len = 0;
		tree_entry(&cd, "100644", rs[i]->token, rs[i]->blob);
		git_put(fx, "tree", cd.data, cd.len, oid);
		snprintf(name, sizeof name, "%.2s", rs[i]->token + 2);
		tree_entry(&ab, "40000", name, oid);
		git_put(fx, "tree", ab.data, ab.len, oid);
		snprintf(name, sizeof name, "%.2s", rs[i]->token);
		tree_entry(&recs, "40000", name, oid);
	}
	git_put(fx, "tree", recs.data, recs.len, oid);
	tree_entry(&top, "40000", "records", oid);
	git_put(fx, "tree", top.data, top.len, out);
	cbuf_free(&top);
	cbuf_free(&recs);
	cbuf_free(&ab);
	cbuf_free(&cd);
}

/* office o's key under alpha's name and feed, to sign alpha's commits with. */
static struct office
keys_as_alpha(const struct fx *fx, const struct office *o)
{
	struct office a = *o;

	a.name = fx->alpha.name;
	memcpy(a.hex, fx->alpha.hex, sizeof a.hex);
	return a;
}

/*
 * alpha's feed goes on: commit 4 holds the handover alpha -> rot->to, commit 5 (the same tree)
 * is victim-2's proof; offices.json lists the handover, allowed_signers the new key; resealed
 * by rot->exporter.
 */
static void
rotate(struct fx *fx, const struct rot *rot)
{
	struct rec h = { 0 };
	struct office hs = keys_as_alpha(fx, rot->handover_signer);
	struct office as = keys_as_alpha(fx, rot->after_signer);
	char tree[41], a4[41], a5[41], id[80], *pub;
	json_t *o, *p, *it;
	struct cbuf b = { 0 };

	snprintf(id, sizeof id, "handover-%s", rot->to->hex);
	rec_new(&h, "handover", id, 0x70, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "handover",
	    "id", id, "from", fx->alpha.hex, "to", rot->rec_to ? rot->rec_to : rot->to->hex,
	    "time", WITNESS_TIME));
	record_put(fx, &h);
	keys_tree(fx, &h, tree);
	commit_put(fx, &hs, tree, fx->a3, 4, a4);
	commit_put(fx, &as, tree, a4, 5, a5);

	o = edit_begin(fx, "custody/offices.json");
	p = proof(fx, &h, &fx->alpha, a4, 4, 1);
	json_object_set_new(p, "from", json_string(fx->alpha.hex));
	json_object_set_new(p, "to", json_string(rot->to->hex));
	json_object_set_new(json_array_get(json_object_get(o, "offices"), 0), "handovers",
	    json_pack("[o]", p));
	put_json(fx, "custody/offices.json", o);

	it = edit_begin(fx, "custody/items/victim/victim-2.json");
	json_object_set_new(it, "proof", proof(fx, &fx->r[R_V2], &fx->alpha, a5, 5, 1));
	json_object_set_new(it, "commits", json_pack("[s]", a5));
	json_object_set_new(json_array_get(json_object_get(it, "custody"), 0), "commit",
	    json_string(a5));
	json_object_set_new(json_array_get(json_object_get(it, "custody"), 0), "seq",
	    json_integer(5));
	put_json(fx, "custody/items/victim/victim-2.json", it);

	get_file(fx, "allowed_signers", &b);
	assert_int_equal(sshkey_format_pub(&pub, rot->to->pk, NULL), 0);
	assert_int_equal(cbuf_printf(&b, "alpha namespaces=\"custody-dossier,git\" %s\n", pub),
	    0);
	put_file(fx, "allowed_signers", b.data, b.len);
	free(pub);
	cbuf_free(&b);
	json_decref(h.doc);
	reseal(fx, rot->exporter);
}

/* True when the dossier has a problem about file saying what. */
static int
has_problem(const struct dossier_result *r, const char *file, const char *what)
{
	size_t i;

	for (i = 0; i < r->problems->n; i++)
		if (strstr(r->problems->items[i].file, file) != NULL &&
		    strstr(r->problems->items[i].what, what) != NULL)
			return 1;
	return 0;
}

/* alpha's new key */
static struct office next_key;

/* The honest rotation. */
static struct rot
honest(const struct fx *fx)
{
	office_new(&next_key, "alpha");
	return (struct rot){ &fx->alpha, &next_key, &next_key, &next_key, NULL };
}

static void
test_rotated(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);

	rotate(fx, &rot);
	if (verify_dir(&r, fx, NULL) != 0)
		show(r);
	assert_true(r->ok);
	assert_true(r->sig_ok);
	assert_int_equal(item(r, "victim", "victim-2")->verdict, DOSSIER_PROVEN);
	assert_non_null(r->signed_with);
	assert_int_equal(r->signed_since, 4);
	dossier_result_free(r);
	/* and as the recipient gets it, with the identity key's fingerprint to compare */
	assert_int_equal(verify_age(&r, fx, &fx->id, 0, NULL), 0);
	assert_true(r->ok);
	dossier_result_free(r);
}

static void
test_handover_removed(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);
	json_t *o;

	rotate(fx, &rot);
	o = edit_begin(fx, "custody/offices.json");
	json_object_del(json_array_get(json_object_get(o, "offices"), 0), "handovers");
	put_json(fx, "custody/offices.json", o);
	reseal(fx, &next_key);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(failed_with(r, "victim", "victim-2", "no handover in custody/offices.json "
	    "leads to its key"));
	assert_false(r->sig_ok);	/* the new key is no key of alpha's now */
	dossier_result_free(r);
}

static void
test_handover_wrong_signer(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);

	rot.handover_signer = &fx->forger;
	rotate(fx, &rot);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(has_problem(r, "custody/offices.json", "handovers[0]: commit"));
	assert_true(has_problem(r, "custody/offices.json", "(Custody-Seq 4) is not signed by a "
	    "key of feed"));
	assert_true(failed_with(r, "victim", "victim-2", "(Custody-Seq 5) is not signed by a key"));
	dossier_result_free(r);
}

static void
test_old_key_after_handover(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);

	rot.after_signer = &fx->alpha;
	rotate(fx, &rot);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(r->sig_ok);
	assert_true(failed_with(r, "victim", "victim-2", "(Custody-Seq 5) is signed by a key "
	    "alpha handed over at its commit 4: refused"));
	dossier_result_free(r);
}

static void
test_exported_with_old_key(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);

	rot.exporter = &fx->alpha;
	rotate(fx, &rot);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_false(r->sig_ok);
	assert_non_null(strstr(r->sig_why, "a key the exporter handed over at its commit 4"));
	dossier_result_free(r);
}

static void
test_handover_record_differs(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);

	rot.rec_to = fx->forger.hex;	/* the signed record names another key */
	rotate(fx, &rot);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(has_problem(r, "custody/offices.json", "handovers[0]"));
	assert_true(failed_with(r, "victim", "victim-2", "is not signed by a key"));
	dossier_result_free(r);
}

/* A handover back to the identity key, whose record and commit are otherwise right. */
static void
test_handover_to_used_key(void **state)
{
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = { &fx->alpha, &fx->alpha, &fx->alpha, &fx->alpha, NULL };

	rotate(fx, &rot);
	assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
	assert_true(has_problem(r, "custody/offices.json", "a handover to a key the feed "
	    "already used"));
	dossier_result_free(r);
}

/* Malformed handovers, each with the exporter's valid signature over it. */
static void
test_handover_malformed(void **state)
{
	static const char *const bad[][2] = {
		{ "\"handovers\": 7", "is not a list" },
		{ "from", "not a handover with from and to keys" },
		{ "feed", "its feed is not the office's" },
		{ "key", "no record_key" },
		{ "victim", "of kind victim, not handover" },
	};
	struct fx *fx = *state;
	struct dossier_result *r;
	struct rot rot = honest(fx);
	json_t *o, *h, *a;
	size_t i;

	rotate(fx, &rot);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o = edit_begin(fx, "custody/offices.json");
		a = json_array_get(json_object_get(o, "offices"), 0);
		h = json_array_get(json_object_get(a, "handovers"), 0);
		if (i == 0)
			json_object_set_new(a, "handovers", json_integer(7));
		else if (i == 1)
			json_object_set_new(h, "from", json_string("not hex"));
		else if (i == 2)
			json_object_set_new(h, "feed", json_string(fx->bravo.hex));
		else if (i == 3)
			json_object_del(h, "record_key");
		else if (i == 4) {
			json_t *v = get_json(fx, "custody/items/victim/victim-1.json");
			json_t *p = json_deep_copy(json_object_get(v, "proof"));

			json_object_set_new(p, "from", json_string(fx->alpha.hex));
			json_object_set_new(p, "to", json_string(fx->bravo.hex));
			json_array_set_new(json_object_get(a, "handovers"), 0, p);
			json_decref(v);
		}
		put_json(fx, "custody/offices.json", o);
		reseal(fx, &next_key);
		assert_int_equal(verify_dir(&r, fx, NULL), CUSTODY_EINVAL);
		if (!has_problem(r, "custody/offices.json", bad[i][1])) {
			show(r);
			fail_msg("case %zu: no problem saying %s", i, bad[i][1]);
		}
		dossier_result_free(r);
		rotate(fx, &rot);
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_rotated),
		T(test_handover_removed),
		T(test_handover_wrong_signer),
		T(test_old_key_after_handover),
		T(test_exported_with_old_key),
		T(test_handover_record_differs),
		T(test_handover_to_used_key),
		T(test_handover_malformed),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
