/*
 * Data-key epochs: after a rotation that leaves an office out, its keys (the office key and the
 * epoch 0 data key) open every record and file key written before and nothing written after;
 * the offices included open both, also after a restart. Two offices rotating at once agree on
 * the newest epoch. Epoch records with no copy for us, a forged copy, or a creator other than
 * the signer are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "epochs.h"
#include "archive-fixture.h"

enum { ALPHA, BRAVO, CHARLIE, NOFF };
static const char *const names[NOFF] = { "alpha", "bravo", "charlie" };

struct fixture {
	char		 dir[64];
	char		 path[NOFF][128];
	struct archive	*a[NOFF];
};

/* Three offices sharing alpha's data key (epoch 0), as after joining. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	uint8_t dk[DATA_KEY_LEN];
	char *cause = NULL, keys[160];
	int i;

	archive_fixture_dir(f->dir, sizeof f->dir, "/tmp/custody-epochs.XXXXXX");
	for (i = 0; i < NOFF; i++)
		archive_fixture_open(&f->a[i], f->path[i], sizeof f->path[i], f->dir, names[i],
		    names[i], 0);
	memcpy(dk, f->a[ALPHA]->data_key, DATA_KEY_LEN);
	for (i = BRAVO; i < NOFF; i++) {
		snprintf(keys, sizeof keys, "%s/keys", f->path[i]);
		assert_int_equal(chdir(keys), 0);
		assert_int_equal(unlink("data.key"), 0);
		assert_int_equal(keys_write_data(keys, f->a[i]->office_pk, dk, &cause), 0);
		archive_close(f->a[i]);
		assert_int_equal(archive_open(&f->a[i], f->path[i], NULL, 0, &cause), 0);
		assert_memory_equal(f->a[i]->data_key, dk, DATA_KEY_LEN);
	}
	assert_int_equal(chdir("/"), 0);
	sodium_memzero(dk, sizeof dk);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < NOFF; i++)
		archive_close(f->a[i]);
	archive_fixture_remove(f->dir);
	free(f);
	return 0;
}

/* Seal a victim record with id at its token; tok receives the token. */
static void
seal(struct archive *a, struct cbuf *obj, char tok[static TOKEN_HEX_LEN + 1], const char *id)
{
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s}", "kind", "victim", "id", id, "name", id,
	    "notes", "protected");

	archive_token_hex(a, tok, id);
	assert_int_equal(record_seal(obj, a, tok, doc), 0);
	json_decref(doc);
}

/* Assert a opens obj at tok and finds the record id. */
static void
opens(struct archive *a, const struct cbuf *obj, const char *tok, const char *id)
{
	json_t *back = NULL;

	assert_int_equal(record_open(&back, a, tok, obj->data, obj->len, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(back, "id")), id);
	assert_string_equal(json_string_value(json_object_get(back, "notes")), "protected");
	json_decref(back);
}

/* A rotation to alpha and bravo cuts charlie off from what is written after it, only that. */
static void
test_rotation_cuts_off(void **state)
{
	struct fixture *f = *state;
	struct cbuf before = { 0 }, after = { 0 };
	char tb[TOKEN_HEX_LEN + 1], ta[TOKEN_HEX_LEN + 1], tc[TOKEN_HEX_LEN + 1];
	uint8_t to[2][32], fk[32], wrapped[WRAPPED_KEY_LEN], back[32];
	const char *ad = "custody blob key 00";
	json_t *rec = NULL, *r2 = NULL;
	struct epoch ep;

	seal(f->a[ALPHA], &before, tb, "before");
	memcpy(to[0], f->a[ALPHA]->office_pk, 32);
	memcpy(to[1], f->a[BRAVO]->office_pk, 32);
	assert_int_equal(epochs_rotate(f->a[ALPHA], (const uint8_t (*)[32])to, 2, &rec), 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "epoch")), 1);
	assert_int_equal(json_array_size(json_object_get(rec, "copies")), 2);
	/* not held until its record is taken in, as from the feed */
	assert_int_equal(epochs_newest(f->a[ALPHA], &ep), 0);
	assert_int_equal(epochs_accept(f->a[ALPHA], rec, f->a[ALPHA]->office_pk), 0);
	assert_int_equal(epochs_accept(f->a[BRAVO], rec, f->a[ALPHA]->office_pk), 0);
	/* no copy addressed to charlie: refused, and charlie still writes under epoch 0 */
	assert_int_equal(epochs_accept(f->a[CHARLIE], rec, f->a[ALPHA]->office_pk),
	    CUSTODY_ENOTFOUND);
	assert_int_equal(epochs_newest(f->a[CHARLIE], &ep), 0);
	/* the record says alpha made it: signed by anyone else it is refused */
	assert_int_equal(epochs_accept(f->a[CHARLIE], rec, f->a[CHARLIE]->office_pk),
	    CUSTODY_EPERM);

	seal(f->a[ALPHA], &after, ta, "after");
	crypto_aead_xchacha20poly1305_ietf_keygen(fk);
	epochs_wrap(f->a[ALPHA], wrapped, fk, ad);

	/* charlie, holding only epoch 0: the old record yes, the new record and file key no */
	opens(f->a[CHARLIE], &before, tb, "before");
	json_t *out = NULL;
	assert_int_equal(record_open(&out, f->a[CHARLIE], ta, after.data, after.len, NULL),
	    CUSTODY_ECRYPTO);
	assert_null(out);
	assert_non_null(strstr(custody_error(), "epoch 1"));
	assert_int_equal(epochs_unwrap(f->a[CHARLIE], back, wrapped, sizeof wrapped, ad),
	    CUSTODY_ECRYPTO);
	/* epoch 0 tokens: charlie's token of an id is still alpha's */
	archive_token_hex(f->a[CHARLIE], tc, "after");
	assert_string_equal(tc, ta);

	/* bravo opens both, also after a restart (its keyring is on disk) */
	opens(f->a[BRAVO], &before, tb, "before");
	opens(f->a[BRAVO], &after, ta, "after");
	archive_close(f->a[BRAVO]);
	char *cause = NULL;
	assert_int_equal(archive_open(&f->a[BRAVO], f->path[BRAVO], NULL, 0, &cause), 0);
	opens(f->a[BRAVO], &after, ta, "after");
	assert_int_equal(epochs_unwrap(f->a[BRAVO], back, wrapped, sizeof wrapped, ad), 0);
	assert_memory_equal(back, fk, 32);

	/* a forged copy for bravo (another key sealed in its place) does not open */
	r2 = json_deep_copy(rec);
	json_t *c0 = json_array_get(json_object_get(r2, "copies"), 1);
	json_object_set(c0, "sealed", json_object_get(json_array_get(json_object_get(r2,
	    "copies"), 0), "sealed"));
	json_object_set_new(r2, "epoch", json_integer(2));
	/* named for another epoch than it announces: refused before its copy is tried */
	assert_int_equal(epochs_accept(f->a[BRAVO], r2, f->a[ALPHA]->office_pk),
	    CUSTODY_EINVAL);
	json_object_set_new(r2, "id", json_sprintf("epoch-2-%s", f->a[ALPHA]->office_hex));
	assert_int_equal(epochs_accept(f->a[BRAVO], r2, f->a[ALPHA]->office_pk),
	    CUSTODY_ECRYPTO);
	json_object_set_new(r2, "epoch", json_string("2"));
	assert_int_equal(epochs_accept(f->a[BRAVO], r2, f->a[ALPHA]->office_pk),
	    CUSTODY_EINVAL);
	assert_int_equal(epochs_newest(f->a[BRAVO], &ep), 1);
	assert_int_equal(ep.num, 1);

	json_decref(r2);
	json_decref(rec);
	cbuf_free(&before);
	cbuf_free(&after);
}

/* Alpha and bravo rotate at once: both epochs 1 coexist and both pick the same newest. */
static void
test_concurrent_rotation(void **state)
{
	struct fixture *f = *state;
	struct cbuf oa = { 0 }, ob = { 0 };
	char ta[TOKEN_HEX_LEN + 1], tb[TOKEN_HEX_LEN + 1];
	uint8_t to[2][32];
	json_t *ra = NULL, *rb = NULL;
	struct epoch na, nb;

	memcpy(to[0], f->a[ALPHA]->office_pk, 32);
	memcpy(to[1], f->a[BRAVO]->office_pk, 32);
	assert_int_equal(epochs_rotate(f->a[ALPHA], (const uint8_t (*)[32])to, 2, &ra), 0);
	assert_int_equal(epochs_rotate(f->a[BRAVO], (const uint8_t (*)[32])to, 2, &rb), 0);
	assert_int_equal(epochs_accept(f->a[ALPHA], ra, f->a[ALPHA]->office_pk), 0);
	assert_int_equal(epochs_accept(f->a[BRAVO], rb, f->a[BRAVO]->office_pk), 0);
	seal(f->a[ALPHA], &oa, ta, "by-alpha");		/* before it has bravo's epoch */
	assert_int_equal(epochs_accept(f->a[ALPHA], rb, f->a[BRAVO]->office_pk), 0);
	assert_int_equal(epochs_accept(f->a[BRAVO], ra, f->a[ALPHA]->office_pk), 0);
	assert_int_equal(epochs_accept(f->a[BRAVO], ra, f->a[ALPHA]->office_pk), 0); /* again */
	assert_int_equal(epochs_newest(f->a[ALPHA], &na), 1);
	assert_int_equal(epochs_newest(f->a[BRAVO], &nb), 1);
	assert_int_equal(na.num, 1);
	assert_int_equal(nb.num, 1);
	assert_memory_equal(na.creator, nb.creator, 32);
	assert_int_equal(f->a[BRAVO]->epochs->n, 2);
	seal(f->a[BRAVO], &ob, tb, "by-bravo");
	opens(f->a[BRAVO], &oa, ta, "by-alpha");
	opens(f->a[ALPHA], &ob, tb, "by-bravo");
	json_t *out = NULL;
	assert_int_equal(record_open(&out, f->a[CHARLIE], ta, oa.data, oa.len, NULL),
	    CUSTODY_ECRYPTO);
	assert_int_equal(record_open(&out, f->a[CHARLIE], tb, ob.data, ob.len, NULL),
	    CUSTODY_ECRYPTO);
	json_decref(ra);
	json_decref(rb);
	cbuf_free(&oa);
	cbuf_free(&ob);
}

/*
 * A revoked office's epochs stay readable but are retired: charlie's epoch 7 (a seized office
 * rotating far ahead just before its revocation) is newest until charlie is retired; after
 * that alpha wraps under its own epoch again, and its next rotation is number 2, not 8.
 */
static void
test_retired_creator(void **state)
{
	struct fixture *f = *state;
	uint8_t to[3][32], fk[32], wrapped[WRAPPED_KEY_LEN], back[32];
	const char *ad = "custody blob key 01";
	json_t *ra = NULL, *rc = NULL, *r2 = NULL;
	struct epoch ep;

	memcpy(to[0], f->a[ALPHA]->office_pk, 32);
	memcpy(to[1], f->a[BRAVO]->office_pk, 32);
	memcpy(to[2], f->a[CHARLIE]->office_pk, 32);
	assert_int_equal(epochs_rotate(f->a[ALPHA], (const uint8_t (*)[32])to, 3, &ra), 0);
	assert_int_equal(epochs_accept(f->a[ALPHA], ra, f->a[ALPHA]->office_pk), 0);
	assert_int_equal(epochs_rotate(f->a[CHARLIE], (const uint8_t (*)[32])to, 3, &rc), 0);
	json_object_set_new(rc, "epoch", json_integer(7));
	json_object_set_new(rc, "id", json_sprintf("epoch-7-%s", f->a[CHARLIE]->office_hex));
	assert_int_equal(epochs_accept(f->a[ALPHA], rc, f->a[CHARLIE]->office_pk), 0);
	assert_int_equal(epochs_newest(f->a[ALPHA], &ep), 1);
	assert_int_equal(ep.num, 7);

	assert_int_equal(epochs_retire(f->a[ALPHA], f->a[CHARLIE]->office_pk), 0);
	assert_int_equal(epochs_newest(f->a[ALPHA], &ep), 1);
	assert_int_equal(ep.num, 1);
	assert_memory_equal(ep.creator, f->a[ALPHA]->office_pk, 32);
	crypto_aead_xchacha20poly1305_ietf_keygen(fk);
	epochs_wrap(f->a[ALPHA], wrapped, fk, ad);
	assert_int_equal(wrapped[7], 1);	/* "CEP1", then the number 1 */
	/* charlie, who holds only its own epoch 7 (and epoch 0), cannot open it */
	assert_int_equal(epochs_unwrap(f->a[CHARLIE], back, wrapped, sizeof wrapped, ad),
	    CUSTODY_ECRYPTO);
	assert_int_equal(epochs_rotate(f->a[ALPHA], (const uint8_t (*)[32])to, 2, &r2), 0);
	assert_int_equal(json_integer_value(json_object_get(r2, "epoch")), 2);
	json_decref(ra);
	json_decref(rc);
	json_decref(r2);
}

/*
 * After the office key is replaced (keys rotate), epochs_reseal seals the keyring to the new
 * key: the archive opens with it and still reads what was written under the epoch. Without
 * the reseal the keyring does not open with the new key.
 */
static void
test_reseal(void **state)
{
	struct fixture *f = *state;
	struct cbuf obj = { 0 };
	char tok[TOKEN_HEX_LEN + 1], keys[200], *cause = NULL;
	uint8_t to[1][32], pk[32], *sk = sodium_malloc(ED25519_SK_LEN);
	json_t *rec = NULL;
	struct archive *b = NULL;

	memcpy(to[0], f->a[ALPHA]->office_pk, 32);
	assert_int_equal(epochs_rotate(f->a[ALPHA], (const uint8_t (*)[32])to, 1, &rec), 0);
	assert_int_equal(epochs_accept(f->a[ALPHA], rec, f->a[ALPHA]->office_pk), 0);
	seal(f->a[ALPHA], &obj, tok, "sealed-under-1");
	crypto_sign_keypair(pk, sk);
	snprintf(keys, sizeof keys, "%s/keys", f->path[ALPHA]);
	assert_int_equal(keys_replace_office(keys, sk, NULL, &cause), 0);
	assert_int_equal(chdir(keys), 0);
	assert_int_equal(unlink("data.key"), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(keys_write_data(keys, pk, f->a[ALPHA]->data_key, &cause), 0);
	/* the keyring is still sealed to the old key: the archive does not open */
	assert_int_not_equal(archive_open(&b, f->path[ALPHA], NULL, 0, &cause), 0);
	assert_non_null(strstr(cause, "not sealed to this office's key"));
	free(cause);
	cause = NULL;
	assert_int_equal(epochs_reseal(f->a[ALPHA], sk, &cause), 0);
	archive_close(f->a[ALPHA]);
	assert_int_equal(archive_open(&f->a[ALPHA], f->path[ALPHA], NULL, 0, &cause), 0);
	assert_memory_equal(f->a[ALPHA]->office_pk, pk, 32);
	opens(f->a[ALPHA], &obj, tok, "sealed-under-1");
	sodium_free(sk);
	json_decref(rec);
	cbuf_free(&obj);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation_cuts_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retired_creator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reseal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
