/* Joining by invitation on real directories: the data key arrives, refusals change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/invite.h"
#include "offices.h"

struct fixture {
	char		 dir[256];
	char		 a_path[300], b_path[300];
	struct archive	*a;		/* the inviter, open */
	struct archive	*b;		/* the joining office, office key only */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/custody-join.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->a_path, sizeof f->a_path, "%s/a", f->dir);
	snprintf(f->b_path, sizeof f->b_path, "%s/b", f->dir);
	assert_int_equal(archive_create(f->a_path, "hq", NULL, &cause), 0);
	assert_int_equal(archive_open(&f->a, f->a_path, NULL, 0, &cause), 0);
	assert_int_equal(index_open(f->a, &cause), 0);
	assert_int_equal(archive_create_ext(f->b_path, "branch", "open sesame, please", 1, &cause), 0);
	assert_int_equal(archive_open_ext(&f->b, f->b_path, "open sesame, please", 0, 1, &cause), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[400];

	archive_close(f->a);
	archive_close(f->b);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Write text to dir/name. */
static char *
put_file(struct fixture *f, const char *name, const char *text)
{
	char *p;
	FILE *fp;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	assert_non_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
	return p;
}

/* The whole of a file ("" when missing). */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 65536);

	if (fp != NULL) {
		size_t n = fread(s, 1, 65535, fp);

		s[n] = '\0';
		fclose(fp);
	}
	return s;
}

static void
test_joining_archive_has_no_data_key(void **state)
{
	struct fixture *f = *state;
	struct archive *x = NULL;
	char *cause = NULL, *p;
	struct stat st;

	assert_true(asprintf(&p, "%s/keys/data.key", f->b_path) > 0);
	assert_int_equal(stat(p, &st), -1);
	free(p);
	assert_int_equal(archive_open(&x, f->b_path, "open sesame, please", 0, &cause), CUSTODY_ENOTFOUND);
	assert_non_null(strstr(cause, "has not joined yet"));
	assert_null(x);
	free(cause);
}

static void
test_join(void **state)
{
	struct fixture *f = *state;
	struct archive *x = NULL;
	struct office *list = NULL;
	char *text, *good, *bad, *other, *cause = NULL, *conf_before, *conf_after, *p;
	uint8_t c_pk[32], c_sk[64];
	struct stat st;
	size_t n, i;
	int found_hq = 0, found_branch = 0;

	assert_int_equal(invite_write(&text, "branch", f->b->office_pk, "hq", f->a->office_sk,
	    "hq.example:7400", f->a->data_key, NULL), 0);
	good = put_file(f, "inv", text);
	/* the same invitation, one field changed */
	text[strstr(text, "hq.example") - text] = 'H';
	bad = put_file(f, "inv-bad", text);
	free(text);
	crypto_sign_keypair(c_pk, c_sk);
	assert_int_equal(invite_write(&text, "branch", c_pk, "hq", f->a->office_sk, NULL,
	    f->a->data_key, NULL), 0);
	other = put_file(f, "inv-other", text);
	free(text);
	archive_close(f->b);	/* join takes the lock */
	f->b = NULL;

	assert_true(asprintf(&p, "%s/custody.conf", f->b_path) > 0);
	conf_before = slurp(p);
	assert_int_equal(join_archive(f->b_path, bad, "open sesame, please", &cause), CUSTODY_ECRYPTO);
	free(cause);
	cause = NULL;
	assert_int_equal(join_archive(f->b_path, other, "open sesame, please", &cause), CUSTODY_EPERM);
	free(cause);
	cause = NULL;
	assert_int_equal(join_archive(f->b_path, good, NULL, &cause), CUSTODY_EPERM);
	assert_non_null(strstr(cause, "give --passphrase-file"));
	free(cause);
	cause = NULL;
	assert_int_equal(join_archive(f->b_path, good, "wrong", &cause), CUSTODY_ECRYPTO);
	free(cause);
	cause = NULL;
	conf_after = slurp(p);
	assert_string_equal(conf_before, conf_after);
	free(conf_after);

	assert_int_equal(join_archive(f->b_path, good, "open sesame, please", &cause), 0);
	conf_after = slurp(p);
	assert_non_null(strstr(conf_after, "\n[peer hq]\naddress = hq.example:7400\nkey = "
	    "ssh-ed25519 "));
	free(conf_after);
	free(p);
	assert_int_equal(join_archive(f->b_path, good, "open sesame, please", &cause), CUSTODY_EEXIST);
	free(cause);
	cause = NULL;

	assert_true(asprintf(&p, "%s/keys/data.key", f->b_path) > 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(p);
	assert_int_equal(archive_open(&x, f->b_path, "open sesame, please", 0, &cause), 0);
	assert_memory_equal(x->data_key, f->a->data_key, DATA_KEY_LEN);
	assert_memory_equal(x->token_key, f->a->token_key, 32);
	assert_int_equal(index_open(x, &cause), 0);
	assert_int_equal(offices_list(x, &list, &n), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, "hq") == 0) {
			found_hq = memcmp(list[i].pk, f->a->office_pk, 32) == 0 &&
			    strcmp(list[i].address, "hq.example:7400") == 0;
		} else if (strcmp(list[i].name, "branch") == 0)
			found_branch = memcmp(list[i].pk, x->office_pk, 32) == 0;
	}
	assert_true(found_hq);
	assert_true(found_branch);
	free(list);
	archive_close(x);
	free(good);
	free(bad);
	free(other);
	free(conf_before);
}

/* offices_write leaves out unchanged records: a second identical write makes no commit. */
static void
test_offices_write_unchanged(void **state)
{
	struct fixture *f = *state;
	git_oid h1, h2;
	uint64_t seq1, seq2, l;
	json_t *doc;

	assert_int_equal(offices_record(&doc, "branch", f->b->office_pk, ""), 0);
	assert_string_equal(record_kind(doc), "office");
	assert_int_equal(strncmp(record_id(doc), "office-", 7), 0);
	assert_int_equal(offices_write(f->a, &doc, 1, "first"), 0);
	assert_int_equal(feed_head(f->a, f->a->office_hex, &h1, &seq1, &l), 0);
	assert_int_equal(offices_write(f->a, &doc, 1, "again"), 0);
	assert_int_equal(feed_head(f->a, f->a->office_hex, &h2, &seq2, &l), 0);
	assert_int_equal(seq1, seq2);
	assert_true(git_oid_equal(&h1, &h2));
	json_decref(doc);
	assert_int_equal(offices_record(&doc, "branch", f->b->office_pk, "b.example:1"), 0);
	assert_int_equal(offices_write(f->a, &doc, 1, "moved"), 0);
	assert_int_equal(feed_head(f->a, f->a->office_hex, &h2, &seq2, &l), 0);
	assert_int_equal(seq2, seq1 + 1);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_joining_archive_has_no_data_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offices_write_unchanged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
