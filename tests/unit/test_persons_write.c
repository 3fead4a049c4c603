/*
 * Persons, person events and sites as custodyd writes them, whatever a client sends: raw record
 * batches that skip the client's checks (an arrest with no party, a polygon not closed, an
 * event naming a person the archive lacks, or naming a site as its person) are refused with the
 * problem of their line and nothing is written; an edit cannot move an event to an unknown
 * person; the protected fields of persons, events and sites are sealed in the feed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/recobj.h"
#include "archive.h"
#include "records-write.h"
#include "archive-fixture.h"

/* Send records (JSON texts) of kind as one batch; the problems' "LINE column: problem". */
static void
batch(struct archive *a, const char *kind, const char **json, size_t n, char *problems,
    size_t len, uint32_t *written)
{
	Custody__RecordBatch m = CUSTODY__RECORD_BATCH__INIT;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	char oid[GIT_OID_HEXSZ + 1], **ids;
	struct recproblem *probs;
	struct recbatch *b;
	size_t nids, nprobs, total, i, off = 0;

	assert_int_equal(records_batch_new(&b, kind, (uint32_t)n, 0), 0);
	m.n_json = n;
	m.json = (char **)json;
	assert_int_equal(records_batch_add(a, b, &m), 0);
	assert_int_equal(records_batch_commit(a, b, &d, oid), 0);
	records_batch_outcome(b, &ids, &nids, &probs, &nprobs, &total);
	problems[0] = '\0';
	for (i = 0; i < nprobs && off < len; i++)
		off += (size_t)snprintf(problems + off, len - off, "%u %s: %s\n", probs[i].line,
		    probs[i].column, probs[i].problem);
	*written = d.written;
	records_batch_free(b);
}

static void
test_refused(void **state)
{
	struct archive_fixture *f = *state;
	const char *arrest[] = { "{\"person_id\":\"p1\",\"type\":\"arrest\",\"date\":\"2024\","
	    "\"party\":\"sdf\"}", "{\"person_id\":\"p1\",\"type\":\"abduction\",\"date\":\"2024\"}" };
	const char *open_ring[] = { "{\"type\":\"mass_grave\",\"geometry\":\"{\\\"type\\\":"
	    "\\\"Polygon\\\",\\\"coordinates\\\":[[[0,0],[1,0],[1,1],[0,1]]]}\"}" };
	const char *far[] = { "{\"type\":\"mass_grave\",\"lat\":\"33\",\"lon\":\"-180.5\"}" };
	const char *person[] = { "{\"id\":\"p1\",\"name\":\"N\",\"reporter_contact\":\"+963 1\","
	    "\"marks\":\"scar\"}" };
	const char *site[] = { "{\"id\":\"s1\",\"type\":\"mass_grave\",\"lat\":\"33.51\","
	    "\"lon\":\"36.27\",\"name\":\"grave\"}" };
	const char *site_as_person[] = { "{\"person_id\":\"s1\",\"type\":\"release\","
	    "\"date\":\"2024\"}" };
	uint32_t written;
	char p[1024];

	batch(f->a, "person_event", arrest, 2, p, sizeof p, &written);
	assert_int_equal(written, 0);
	assert_non_null(strstr(p, "2 party: required for an abduction event"));
	assert_non_null(strstr(p, "1 person_id: no person p1 in the archive"));
	batch(f->a, "site", open_ring, 1, p, sizeof p, &written);
	assert_int_equal(written, 0);
	assert_non_null(strstr(p, "1 geometry: ring 1 is not closed"));
	batch(f->a, "site", far, 1, p, sizeof p, &written);
	assert_int_equal(written, 0);
	assert_non_null(strstr(p, "1 lon: -180.5 is not between -180 and 180"));

	batch(f->a, "person", person, 1, p, sizeof p, &written);
	assert_int_equal(written, 1);
	batch(f->a, "site", site, 1, p, sizeof p, &written);
	assert_int_equal(written, 1);
	batch(f->a, "person_event", site_as_person, 1, p, sizeof p, &written);
	assert_int_equal(written, 0);
	assert_non_null(strstr(p, "person_id: no person s1 in the archive (the id is another kind"));
	batch(f->a, "person_event", arrest, 1, p, sizeof p, &written);
	assert_int_equal(written, 1);
	assert_string_equal(p, "");
	batch(f->a, "person_event", arrest, 1, p, sizeof p, &written);
	assert_int_equal(written, 0);	/* the same event, the same derived id: nothing new */
}

static void
test_edit_and_sealed(void **state)
{
	struct archive_fixture *f = *state;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	const char *person[] = { "{\"id\":\"p1\",\"name\":\"N\",\"reporter_contact\":\"+963 1\","
	    "\"reporter_name\":\"R\",\"height_cm\":\"170\",\"notes\":\"n\",\"consent\":\"icmp\"}" };
	const char *event[] = { "{\"id\":\"e1\",\"person_id\":\"p1\",\"type\":\"release\","
	    "\"date\":\"2024\",\"notes\":\"secret\"}" };
	const char *site[] = { "{\"id\":\"s1\",\"type\":\"mass_grave\",\"lat\":\"33.51\","
	    "\"lon\":\"36.27\",\"geometry\":\"{\\\"type\\\":\\\"Polygon\\\",\\\"coordinates\\\":"
	    "[[[0,0],[1,0],[1,1],[0,0]]]}\"}" };
	const char *sealed[][6] = {
		{ "p1", "reporter_contact", "reporter_name", "height_cm", "notes", NULL },
		{ "e1", "notes", NULL },
		{ "s1", "lat", "lon", "geometry", NULL },
	};
	char oid[GIT_OID_HEXSZ + 1], tok[TOKEN_HEX_LEN + 1], p[512], *id = NULL;
	char *unset[] = { NULL };
	uint32_t written;
	json_t *doc;
	size_t i, j;

	batch(f->a, "person", person, 1, p, sizeof p, &written);
	batch(f->a, "person_event", event, 1, p, sizeof p, &written);
	batch(f->a, "site", site, 1, p, sizeof p, &written);
	assert_int_equal(written, 1);
	for (i = 0; i < 3; i++) {
		archive_token_hex(f->a, tok, sealed[i][0]);
		assert_int_equal(feed_read_token_flags(f->a, f->a->office_hex, tok, &doc,
		    RECORD_SEALED), 0);
		for (j = 1; sealed[i][j] != NULL; j++)
			if (!recobj_is_sealed(json_object_get(doc, sealed[i][j])))
				fail_msg("%s's %s is not sealed", sealed[i][0], sealed[i][j]);
		if (i == 0) {
			assert_false(recobj_is_sealed(json_object_get(doc, "name")));
			assert_false(recobj_is_sealed(json_object_get(doc, "consent")));
		}
		json_decref(doc);
	}

	assert_int_equal(records_edit(&id, f->a, "person_event", "e1",
	    "{\"person_id\":\"p404\"}", unset, 0, &d, oid), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "no person p404"));
	free(id);
	id = NULL;
	assert_int_equal(records_edit(&id, f->a, "site", "s1", "{\"status\":\"disturbed\"}",
	    unset, 0, &d, oid), 0);
	assert_int_equal(d.written, 1);
	free(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refused, archive_fixture_setup_indexed,
		    archive_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_edit_and_sealed,
		    archive_fixture_setup_indexed, archive_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
