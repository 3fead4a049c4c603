/* CSV import: header rules, row problems with their lines, quoting, pieces, bounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/records.h"

#define MEMORY_BOUND (512 * 1024)

/* What the callback saw, one line per row: "LINE {json}" or "LINE ! col: problem; ...". */
struct transcript {
	struct cbuf	 b;
	int		 calls;
	int		 fail_at;	/* return CUSTODY_EPERM on this call (1-based), 0: never */
};

static int
transcript_cb(void *arg, unsigned long line, json_t *rec, const struct record_problems *probs)
{
	struct transcript *t = arg;
	size_t i;
	char *s;

	assert_non_null(probs);
	t->calls++;
	if (rec != NULL) {
		assert_int_equal(probs->n, 0);
		assert_non_null(s = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT));
		assert_int_equal(cbuf_printf(&t->b, "%lu %s\n", line, s), 0);
		free(s);
	} else {
		assert_true(probs->n > 0);
		assert_int_equal(cbuf_printf(&t->b, "%lu !", line), 0);
		for (i = 0; i < probs->n; i++)
			assert_int_equal(cbuf_printf(&t->b, " %s: %s;", probs->v[i].column,
			    probs->v[i].problem), 0);
		assert_int_equal(cbuf_puts(&t->b, "\n"), 0);
	}
	return t->calls == t->fail_at ? CUSTODY_EPERM : 0;
}

/* Import data in pieces of step bytes (0: all at once); the transcript in *out. */
static int
import_v(const char *kind, const struct vocab *v, const void *data, size_t len, size_t step,
    int fail_at, char **out)
{
	struct transcript t = { .fail_at = fail_at };
	struct csv_import *imp;
	const char *p = data;
	size_t off = 0, n;
	int rc = 0;

	assert_int_equal(csv_import_new(&imp, kind, v, transcript_cb, &t), 0);
	if (step == 0)
		step = len ? len : 1;
	while (off < len && rc == 0) {
		n = len - off < step ? len - off : step;
		rc = csv_import_feed(imp, p + off, n);
		off += n;
	}
	if (rc == 0)
		rc = csv_import_finish(imp);
	else
		assert_int_equal(csv_import_finish(imp), rc);	/* the error sticks */
	csv_import_free(imp);
	assert_int_equal(cbuf_reserve(&t.b, 1), 0);
	*out = cbuf_detach(&t.b);
	return rc;
}

static int
import(const char *kind, const char *data, size_t step, char **out)
{
	return import_v(kind, NULL, data, strlen(data), step, 0, out);
}

/* Assert importing data (whole, and byte by byte) gives rc and exactly the transcript. */
static void
check_import(const char *kind, const char *data, int rc, const char *expect)
{
	char *got;

	assert_int_equal(import(kind, data, 0, &got), rc);
	assert_string_equal(got, expect);
	free(got);
	assert_int_equal(import(kind, data, 1, &got), rc);
	assert_string_equal(got, expect);
	free(got);
}

/* A minimal victim; extra holds members that sort between "kind" and "sex" (name, notes, party). */
#define REC(extra) "{\"age_group\":\"unknown\",\"date_documented\":\"2024-12-05\"," \
	"\"id\":\"\",\"kind\":\"victim\"," extra "\"sex\":\"unknown\",\"status\":\"civilian\"}"

static void
test_basic(void **state)
{
	check_import("victim",
	    "name,date_documented,age\n"
	    "Ali,2024-12-05,9\n"
	    "Huda,2024-12-05,\n",
	    0,
	    "2 {\"age\":9,\"age_group\":\"child\",\"date_documented\":\"2024-12-05\",\"id\":\"\","
	    "\"kind\":\"victim\",\"name\":\"Ali\",\"sex\":\"unknown\",\"status\":\"civilian\"}\n"
	    "3 " REC("\"name\":\"Huda\",") "\n");
	/* any order, any case in the header, no final newline, header only */
	check_import("victim", "NOTES, Date_Documented\nx,2024-12-05", 0,
	    "2 " REC("\"notes\":\"x\",") "\n");
	check_import("victim", "date_documented\n", 0, "");
	check_import("incident", "title,id,date\nT,inc-1,2024-05\n,,\n", 0,
	    "2 {\"date\":\"2024-05\",\"date_precision\":\"month\",\"id\":\"inc-1\",\"kind\":"
	    "\"incident\",\"title\":\"T\"}\n"
	    "3 ! id: required;\n");
}

static void
test_header(void **state)
{
	char *got, wide[1024];
	size_t i, n;

	check_import("victim", "name,date_documented,colour\nAli,2024-12-05,red\n",
	    CUSTODY_EINVAL, "1 ! colour: unknown column;\n");
	assert_int_equal(import("victim", "name,colour\n", 0, &got), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "line 1"));
	assert_string_equal(got, "1 ! colour: unknown column; date_documented: missing "
	    "required column;\n");
	free(got);
	check_import("victim", "name,date_documented,Name\n", CUSTODY_EINVAL,
	    "1 ! name: duplicate column;\n");
	check_import("victim", "name,age\nAli,3\n", CUSTODY_EINVAL,
	    "1 ! date_documented: missing required column;\n");
	check_import("incident", "title\n", CUSTODY_EINVAL,
	    "1 ! id: missing required column;\n");
	check_import("victim", "name,,date_documented\n", CUSTODY_EINVAL,
	    "1 ! column 2: empty column name;\n");
	check_import("victim", "", CUSTODY_EINVAL, "1 ! header: no header row;\n");
	check_import("victim", "\n\n  \n", CUSTODY_EINVAL, "1 ! header: no header row;\n");
	/* a bad byte in a column name is shown escaped */
	check_import("victim", "date_documented,n\xff\n", CUSTODY_EINVAL,
	    "1 ! n\\xff: unknown column;\n");
	/* a long column name, too many columns */
	memset(wide, 'x', 300);
	strcpy(wide + 300, ",date_documented\n");
	check_import("victim", wide, CUSTODY_EINVAL, "1 ! column 1: name longer than 256 "
	    "bytes;\n");
	for (i = 0, n = 0; i < 70; i++)
		n += (size_t)sprintf(wide + n, "%sname", i ? "," : "date_documented,");
	strcpy(wide + n, "\n");
	assert_int_equal(import("victim", wide, 0, &got), CUSTODY_EINVAL);
	assert_non_null(strstr(got, "name: duplicate column; name: duplicate column;"));
	assert_memory_equal(got, "1 ! header: more than 64 columns; name: duplicate", 49);
	free(got);
	/* header problems are on line 1, even after blank lines */
	check_import("victim", "\n\nbogus\n", CUSTODY_EINVAL, "1 ! bogus: unknown column; "
	    "date_documented: missing required column;\n");
}

static void
test_row_problems(void **state)
{
	check_import("victim",
	    "name,date_documented,date_of_death,party,age,age_group,categories,sex\n"
	    "A,2024-12-05,2023-02-29,,,,,\n"
	    "B,2024-12-05,2024-13,russia,,,,\n"
	    "C,2024-12-05,,wagner,10,adult,,\n"
	    "D,2024-12-05,,,30,child,medical;bogus,\n"
	    "E,,2024-1-5,,-1,,,x\n"
	    "F,2024-12-05\n"
	    "G,2024-12-05,,,131,,,,,\n"
	    "H,2024-02-29,2024-02,,12a,,,\n",
	    0,
	    "2 ! date_of_death: no day 29 in 2023-02;\n"
	    "3 ! date_of_death: no month 13;\n"
	    "4 ! party: unknown party \"wagner\"; age_group: adult contradicts age 10;\n"
	    "5 ! categories: unknown category \"bogus\" (civil_defense, media, medical); "
	    "age_group: child contradicts age 30;\n"
	    "6 ! sex: not one of male, female, unknown; age: not an age (a whole number of "
	    "years, 0-130); date_of_death: not a date (YYYY-MM-DD, YYYY-MM or YYYY); "
	    "date_documented: required;\n"
	    "7 ! row: 2 fields where the header has 8;\n"
	    "8 ! row: 10 fields where the header has 8;\n"
	    "9 ! age: not an age (a whole number of years, 0-130);\n");
}

static void
test_bad_bytes(void **state)
{
	static const char nul[] = "name,date_documented\nA\0B,2024-12-05\nC,2024-12-05\n";
	char *got;

	check_import("victim", "name,date_documented\nA\xff,2024-12-05\n\"\xc3\",2024-12-05\n",
	    0, "2 ! name: invalid UTF-8 at byte 2;\n3 ! name: invalid UTF-8 at byte 1;\n");
	check_import("victim", "notes,date_documented\nok \x7f,2024-12-05\n", 0,
	    "2 ! notes: control character at byte 4;\n");
	assert_int_equal(import_v("victim", NULL, nul, sizeof nul - 1, 0, 0, &got), 0);
	assert_string_equal(got, "2 ! name: holds a NUL byte;\n3 " REC("\"name\":\"C\",")
	    "\n");
	free(got);
}

/* Feed a row whose one field is size bytes (quoted or not, then trailer) in 64 KiB pieces. */
static char *
import_big(const char *head, size_t size, unsigned char fill, const char *trailer,
    const char *tail)
{
	struct transcript t = { 0 };
	struct csv_import *imp;
	static char piece[65536];
	size_t n;

	memset(piece, fill, sizeof piece);
	assert_int_equal(csv_import_new(&imp, "victim", NULL, transcript_cb, &t), 0);
	assert_int_equal(csv_import_feed(imp, head, strlen(head)), 0);
	while (size > 0) {
		n = size < sizeof piece ? size : sizeof piece;
		assert_int_equal(csv_import_feed(imp, piece, n), 0);
		size -= n;
		if (csv_import_memory(imp) > MEMORY_BOUND)
			fail_msg("import holds %zu bytes", csv_import_memory(imp));
	}
	assert_int_equal(csv_import_feed(imp, trailer, strlen(trailer)), 0);
	assert_int_equal(csv_import_feed(imp, tail, strlen(tail)), 0);
	assert_int_equal(csv_import_finish(imp), 0);
	assert_true(csv_import_memory(imp) < MEMORY_BOUND);
	csv_import_free(imp);
	assert_int_equal(cbuf_reserve(&t.b, 1), 0);
	return cbuf_detach(&t.b);
}

static void
test_big_fields(void **state)
{
	const size_t ten = 10 * 1024 * 1024;
	char *got;

	/* 10 MB quoted, with a line break inside: a problem of its row, later lines right */
	got = import_big("notes,date_documented\nA,2024-12-05\n\"", ten, 'x',
	    "\ny\",2024-12-05\n", "B,2024-12-05\n");
	assert_string_equal(got, "2 " REC("\"notes\":\"A\",") "\n"
	    "3 ! notes: longer than 65536 bytes;\n"
	    "5 " REC("\"notes\":\"B\",") "\n");
	free(got);
	/* 10 MB unquoted, in a required column: not also "required" */
	got = import_big("name,date_documented\nA,", ten, '1', "\n", "B,2024-12-05\n");
	assert_string_equal(got, "2 ! date_documented: longer than 65536 bytes;\n"
	    "3 " REC("\"name\":\"B\",") "\n");
	free(got);
	/* 10 MB of trailing blanks: dropped, as libcsv drops them */
	got = import_big("name,date_documented\nA", ten, ' ', ",2024-12-05\n", "");
	assert_string_equal(got, "2 " REC("\"name\":\"A\",") "\n");
	free(got);
	/* 10 MB of blanks after a closing quote: dropped too */
	got = import_big("name,date_documented\n\"A\"", ten, ' ', ",2024-12-05\n", "");
	assert_string_equal(got, "2 " REC("\"name\":\"A\",") "\n");
	free(got);
	/* blanks and then more text: too long */
	got = import_big("name,date_documented\nA", ten, ' ', "B,2024-12-05\n", "");
	assert_string_equal(got, "2 ! name: longer than 65536 bytes;\n");
	free(got);
	/* exactly 64 KiB is fine, one byte more is not */
	got = import_big("name,date_documented\n", 65536, 'n', ",2024-12-05\n", "");
	assert_non_null(strstr(got, "2 {"));
	free(got);
	got = import_big("name,date_documented\n", 65537, 'n', ",2024-12-05\n", "");
	assert_string_equal(got, "2 ! name: longer than 65536 bytes;\n");
	free(got);
	got = import_big("name,date_documented\n\"", 65537, 'n', "\",2024-12-05\n", "");
	assert_string_equal(got, "2 ! name: longer than 65536 bytes;\n");
	free(got);
}

/* Append n copies of c. */
static void
put_run(struct cbuf *b, int c, size_t n)
{
	assert_int_equal(cbuf_reserve(b, n), 0);
	memset(b->data + b->len, c, n);
	b->len += n;
}

static void
test_big_fields_pieces(void **state)
{
	static const size_t steps[] = { 1, 7, 4096, 65536 };
	struct cbuf b = { 0 };
	char *whole, *got;
	size_t i;

	assert_int_equal(cbuf_puts(&b, "name,date_documented\n"), 0);
	put_run(&b, 'A', 1);
	put_run(&b, ' ', 140000);			/* dropped: fine */
	assert_int_equal(cbuf_puts(&b, ",2024-12-05\nB"), 0);
	put_run(&b, ' ', 140000);			/* then text: too long */
	assert_int_equal(cbuf_puts(&b, "B,2024-12-05\n\"C\""), 0);
	put_run(&b, '\t', 140000);			/* after the quote: fine */
	assert_int_equal(cbuf_puts(&b, ",2024-12-05\n"), 0);
	put_run(&b, 'D', 65536);			/* exactly the limit */
	put_run(&b, ' ', 5000);
	assert_int_equal(cbuf_puts(&b, ",2024-12-05\n\""), 0);
	put_run(&b, 'E', 65530);			/* 65540 with the quotes */
	assert_int_equal(cbuf_puts(&b, "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\",2024-12-05\n"
	    "F,2024-12-05\n"), 0);
	assert_int_equal(import_v("victim", NULL, b.data, b.len, 0, 0, &whole), 0);
	assert_memory_equal(whole, "2 " REC("\"name\":\"A\",") "\n3 ! name: longer than 65536 "
	    "bytes;\n4 " REC("\"name\":\"C\",") "\n5 {",
	    strlen("2 " REC("\"name\":\"A\",") "\n3 ! name: longer than 65536 bytes;\n4 "
	    REC("\"name\":\"C\",") "\n5 {"));
	assert_non_null(strstr(whole, "DDDD\",\"sex\""));
	assert_string_equal(strstr(whole, "\n6 "), "\n6 ! name: longer than 65536 bytes;\n"
	    "7 " REC("\"name\":\"F\",") "\n");
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(import_v("victim", NULL, b.data, b.len, steps[i], 0, &got), 0);
		assert_string_equal(got, whole);
		free(got);
	}
	free(whole);
	cbuf_free(&b);
}

static void
test_quoting(void **state)
{
	check_import("victim",
	    "notes,date_documented,name\n"
	    "\"a, b\n\"\"c\"\"\r\nd\",2024-12-05,\"Abu \"\"X\"\"\"\n"
	    "\"\",\"2024-12-05\",\"\"\n"
	    "  spaced  ,2024-12-05,  Ali  \n",
	    0,
	    "2 " REC("\"name\":\"Abu \\\"X\\\"\",\"notes\":\"a, b\\n\\\"c\\\"\\r\\nd\",") "\n"
	    "5 " REC("") "\n"
	    "6 " REC("\"name\":\"Ali\",\"notes\":\"spaced\",") "\n");
}

static void
test_line_endings(void **state)
{
	/* LF; CRLF with CRLF inside the quotes; bare CR: the same lines */
	check_import("victim", "name,date_documented,notes\nA,2024-12-05,\n"
	    "B,2024-12-05,\"x\ny\"\n", 0, "2 " REC("\"name\":\"A\",") "\n"
	    "3 " REC("\"name\":\"B\",\"notes\":\"x\\ny\",") "\n");
	check_import("victim", "name,date_documented,notes\r\nA,2024-12-05,\r\n"
	    "B,2024-12-05,\"x\r\ny\"\r\n", 0, "2 " REC("\"name\":\"A\",") "\n"
	    "3 " REC("\"name\":\"B\",\"notes\":\"x\\r\\ny\",") "\n");
	check_import("victim", "name,date_documented,notes\rA,2024-12-05,\r"
	    "B,2024-12-05,\"x\ry\"\r", 0, "2 " REC("\"name\":\"A\",") "\n"
	    "3 " REC("\"name\":\"B\",\"notes\":\"x\\ry\",") "\n");
	/* blank lines are skipped but counted; a name may not hold a line break */
	check_import("victim", "name,date_documented,notes\r\nA,2024-12-05,\r\n\r\n"
	    "\"B\nC\",2024-12-05,\"x\ny\"\n", 0,
	    "2 " REC("\"name\":\"A\",") "\n"
	    "4 ! name: line break not allowed at byte 2;\n");
	check_import("victim", "name,date_documented,notes\n\n   \nA,2024-12-05,\n\t\n"
	    "B,2024-12-05,\n", 0, "4 " REC("\"name\":\"A\",") "\n"
	    "6 " REC("\"name\":\"B\",") "\n");
}

static void
test_bom(void **state)
{
	check_import("victim", "\xef\xbb\xbfname,date_documented\nA,2024-12-05\n", 0,
	    "2 " REC("\"name\":\"A\",") "\n");
	/* only at the very start, and only whole */
	check_import("victim", "\xef\xbb" "name,date_documented\n", CUSTODY_EINVAL,
	    "1 ! \\xef\\xbbname: unknown column;\n");
	check_import("victim", "name,date_documented\n\xef\xbb\xbf" "A,2024-12-05\n", 0,
	    "2 " REC("\"name\":\"\xef\xbb\xbf" "A\",") "\n");
	check_import("victim", "\xef\xbb", CUSTODY_EINVAL,
	    "1 ! \\xef\\xbb: unknown column; date_documented: missing required column;\n");
}

static void
test_pieces(void **state)
{
	static const char data[] =
	    "\xef\xbb\xbfname,date_documented,notes,age,categories\r\n"
	    "\"Abu \"\"X\"\"\",2024-12-05,\"multi\r\nline, with comma\",7,media;medical\r\n"
	    "\r\n"
	    "B,2024-13-01,,,\r\n"
	    "C,2024-12-05,\"\",200,bogus\r\n"
	    "D\xff,2024-12-05,,,\r\n"
	    "E,2024-12-05\r\n"
	    "F,2024-12-05,last,,";
	static const size_t steps[] = { 1, 2, 3, 5, 7, 16, 64, 1000 };
	char *whole, *got;
	size_t i;

	assert_int_equal(import("victim", data, 0, &whole), 0);
	assert_non_null(strstr(whole, "\n9 "));		/* the last line, no final newline */
	assert_non_null(strstr(whole, "5 ! date_documented: no month 13;"));
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(import("victim", data, steps[i], &got), 0);
		assert_string_equal(got, whole);
		free(got);
	}
	/* importing the same file twice gives byte-identical records */
	assert_int_equal(import("victim", data, 0, &got), 0);
	assert_string_equal(got, whole);
	free(got);
	free(whole);
}

static void
test_malformed(void **state)
{
	char *got;

	assert_int_equal(import("victim", "name,date_documented\nA,2024-12-05\n"
	    "\"B\n,2024-12-05\n", 0, &got), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "line 3:"));
	assert_non_null(strstr(custody_error(), "not closed"));
	assert_string_equal(got, "2 " REC("\"name\":\"A\",") "\n");
	free(got);
	assert_int_equal(import("victim", "name,date_documented\nA,2024-12-05\n\nA\"B,x\n", 1,
	    &got), CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "line 4:"));
	assert_string_equal(got, "2 " REC("\"name\":\"A\",") "\n");
	free(got);
	assert_int_equal(import("victim", "name,date_documented\n\"A\"B,x\n", 0, &got),
	    CUSTODY_EINVAL);
	assert_non_null(strstr(custody_error(), "line 2:"));
	assert_string_equal(got, "");
	free(got);
}

static void
test_callback_stops(void **state)
{
	static const char data[] = "name,date_documented\nA,2024-12-05\nB,2024-12-05\n"
	    "C,2024-12-05\n";
	struct transcript t = { .fail_at = 2 };
	struct csv_import *imp;
	char *got;

	assert_int_equal(import_v("victim", NULL, data, strlen(data), 0, 2, &got),
	    CUSTODY_EPERM);
	assert_string_equal(got, "2 " REC("\"name\":\"A\",") "\n3 " REC("\"name\":\"B\",")
	    "\n");
	free(got);

	assert_int_equal(csv_import_new(&imp, "victim", NULL, transcript_cb, &t), 0);
	assert_int_equal(csv_import_feed(imp, data, strlen(data)), CUSTODY_EPERM);
	assert_int_equal(csv_import_feed(imp, "D,2024-12-05\n", 13), CUSTODY_EPERM);
	assert_int_equal(t.calls, 2);
	csv_import_free(imp);
	cbuf_free(&t.b);
	csv_import_free(NULL);

	assert_int_equal(csv_import_new(&imp, "evidence", NULL, transcript_cb, &t),
	    CUSTODY_EINVAL);
	assert_null(imp);
}

static void
test_vocab_import(void **state)
{
	static const char data[] = "party,date_documented\nBlue,2024-12-05\nrussia,2024-12-05\n";
	struct vocab v;
	char *got;

	assert_int_equal(vocab_default(&v), 0);
	assert_int_equal(vocab_set(&v, "party", "blue,green"), 0);
	assert_int_equal(import_v("victim", &v, data, strlen(data), 0, 0, &got), 0);
	assert_string_equal(got, "2 " REC("\"party\":\"blue\",") "\n"
	    "3 ! party: unknown party \"russia\";\n");
	free(got);
	vocab_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_row_problems),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_big_fields),
		cmocka_unit_test(test_big_fields_pieces),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_vocab_import),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
