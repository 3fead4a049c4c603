/*
 * Protected fields by role: custody.conf's [roles] protected (default documenter and admin,
 * role names checked), and records as a client of each role receives them: a role not granted
 * protected fields gets "withheld" and its read never opens them (a field whose seal is broken
 * still reads "withheld" for it, and fails for a role that would open it).
 */
#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/recobj.h"
#include "feed-reader.h"
#include "server.h"
#include "archive-fixture.h"

/* Load text as custody.conf; the return of conf_load, its cause in *cause (or NULL). */
static int
load(struct conf *c, const char *text, char **cause)
{
	char path[] = "/tmp/custody-conf-XXXXXX";
	int fd = mkstemp(path), error;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	*cause = NULL;
	error = conf_load(c, path, cause);
	unlink(path);
	return error;
}

/* The roles a conf grants protected fields, as a string like "-ADM" (viewer first). */
static void
granted(const struct conf *c, char out[static 6])
{
	static const char letters[] = "VADM";
	int r;

	assert_false(conf_reads_protected(c, ROLE_NONE));
	for (r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
		out[r - 1] = conf_reads_protected(c, (enum role)r) ? letters[r - 1] : '-';
	out[4] = '\0';
}

static void
test_conf_protected(void **state)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		{ "", "--DM" },
		{ "protected = analyst\n", "-A--" },
		{ "protected = viewer,analyst , documenter\tadmin\n", "VADM" },
		{ "protected =\n", "----" },
		{ "protected = admin\nprotected = viewer\n", "V---" },
	};
	char text[256], got[6], *cause;
	struct conf c;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(text, sizeof text, "[office]\nname = alpha\n[roles]\nadmin = root\n%s",
		    cases[i].line);
		assert_int_equal(load(&c, text, &cause), 0);
		granted(&c, got);
		assert_string_equal(got, cases[i].want);
		conf_free(&c);
	}
	assert_int_equal(load(&c, "[office]\nname = alpha\n[roles]\nprotected = admin, Admin\n",
	    &cause), CUSTODY_EINVAL);
	assert_non_null(strstr(cause, "'Admin' is not a role"));
	free(cause);
	conf_free(&c);
	assert_int_equal(load(&c, "[office]\nname = alpha\n[roles]\nprotected = none\n", &cause),
	    CUSTODY_EINVAL);
	free(cause);
	conf_free(&c);
}

/* A fresh archive written to by the test, and a client of each role looking at it. */
struct fixture {
	char		 dir[256];
	struct archive	*a;
	struct server	 s;
	struct client	 c;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char path[300];

	archive_fixture_dir(f->dir, sizeof f->dir, "/tmp/custody-unit.XXXXXX");
	archive_fixture_open(&f->a, path, sizeof path, f->dir, "arch", "unit-office", 1);
	f->s.a = f->a;
	f->c.s = &f->s;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	return archive_fixture_close(f, f->a, f->dir);
}

/* Read record id as a client of role would receive it: alone, and as a list reads it. */
static int
view(struct fixture *f, enum role role, const char *id, json_t **doc)
{
	struct feed_reader *fr;
	char tok[TOKEN_HEX_LEN + 1];
	json_t *listed = NULL;
	int error;

	f->c.role = role;
	archive_token_hex(f->a, tok, id);
	error = records_view(&f->c, NULL, f->a->office_hex, tok, doc);
	assert_non_null(fr = feed_reader_new(f->a));
	assert_int_equal(records_view(&f->c, fr, f->a->office_hex, tok, &listed), error);
	if (error == 0)
		assert_true(json_equal(*doc, listed));
	json_decref(listed);
	feed_reader_free(fr);
	return error;
}

static const char *
field(const json_t *doc, const char *name)
{
	return json_string_value(json_object_get(doc, name));
}

static void
test_view_by_role(void **state)
{
	struct fixture *f = *state;
	struct feed_commit fc;
	json_t *docs[2], *doc;
	enum role r;
	char *s;

	docs[0] = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "source", "id", "src-1", "name",
	    "Rima Q", "contact", "+963 555 0100", "notes", "met at the bakery");
	docs[1] = json_pack("{s:s,s:s,s:s,s:s}", "kind", "victim", "id", "vic-1", "name",
	    "Ahmad K", "notes", "seen at the checkpoint");
	assert_int_equal(feed_append(f->a, &fc, "add", docs, 2), 0);
	json_decref(docs[0]);
	json_decref(docs[1]);

	for (r = ROLE_VIEWER; r <= ROLE_ADMIN; r++) {
		assert_int_equal(view(f, r, "src-1", &doc), 0);
		s = json_dumps(doc, JSON_COMPACT);
		if (r >= ROLE_DOCUMENTER) {
			assert_string_equal(field(doc, "name"), "Rima Q");
			assert_string_equal(field(doc, "contact"), "+963 555 0100");
			assert_string_equal(field(doc, "notes"), "met at the bakery");
		} else {
			assert_string_equal(field(doc, "name"), RECORD_WITHHELD);
			assert_string_equal(field(doc, "contact"), RECORD_WITHHELD);
			assert_string_equal(field(doc, "notes"), RECORD_WITHHELD);
			assert_null(strstr(s, "Rima"));
			assert_null(strstr(s, "bakery"));
			assert_null(strstr(s, "sealed"));
		}
		assert_string_equal(field(doc, "id"), "src-1");
		free(s);
		json_decref(doc);

		assert_int_equal(view(f, r, "vic-1", &doc), 0);
		assert_string_equal(field(doc, "name"), "Ahmad K");	/* not protected */
		assert_string_equal(field(doc, "notes"), r >= ROLE_DOCUMENTER ?
		    "seen at the checkpoint" : RECORD_WITHHELD);
		json_decref(doc);
	}

	/* custody.conf grants them to the analyst alone */
	f->a->conf.protected_roles = 1u << ROLE_ANALYST;
	for (r = ROLE_VIEWER; r <= ROLE_ADMIN; r++) {
		assert_int_equal(view(f, r, "src-1", &doc), 0);
		assert_string_equal(field(doc, "contact"), r == ROLE_ANALYST ? "+963 555 0100" :
		    RECORD_WITHHELD);
		json_decref(doc);
	}
}

static void
test_view_never_opens(void **state)
{
	struct fixture *f = *state;
	struct feed_commit fc;
	char tok[TOKEN_HEX_LEN + 1];
	json_t *doc;

	/* a source whose contact carries a seal that opens with no key (already "sealed") */
	doc = json_pack("{s:s,s:s,s:s,s:{s:s}}", "kind", "source", "id", "src-2", "name", "N",
	    "contact", "sealed", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(feed_append(f->a, &fc, "add", &doc, 1), 0);
	json_decref(doc);
	archive_token_hex(f->a, tok, "src-2");
	assert_int_equal(feed_read_token_flags(f->a, f->a->office_hex, tok, &doc,
	    RECORD_SEALED), 0);
	assert_true(recobj_is_sealed(json_object_get(doc, "contact")));
	assert_true(recobj_is_sealed(json_object_get(doc, "name")));
	json_decref(doc);

	f->a->conf.protected_roles = 1u << ROLE_DOCUMENTER | 1u << ROLE_ADMIN;
	assert_true(view(f, ROLE_ADMIN, "src-2", &doc) < 0);	/* it would open: it fails */
	assert_null(doc);
	assert_int_equal(view(f, ROLE_VIEWER, "src-2", &doc), 0);	/* never opened */
	assert_string_equal(field(doc, "contact"), RECORD_WITHHELD);
	assert_string_equal(field(doc, "name"), RECORD_WITHHELD);
	json_decref(doc);
}

static void
test_withhold(void **state)
{
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s}", "kind", "victim", "id", "v", "name", "A",
	    "notes", "n");
	json_t *ev = json_pack("{s:s,s:s,s:s}", "kind", "evidence", "id", "e", "notes", "n");

	assert_int_equal(record_withhold(doc), 0);
	assert_string_equal(field(doc, "notes"), RECORD_WITHHELD);
	assert_string_equal(field(doc, "name"), "A");
	assert_int_equal(record_withhold(ev), 0);	/* evidence has no protected field */
	assert_string_equal(field(ev, "notes"), "n");
	json_decref(doc);
	json_decref(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_protected),
		cmocka_unit_test(test_withhold),
		cmocka_unit_test_setup_teardown(test_view_by_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_never_opens, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
