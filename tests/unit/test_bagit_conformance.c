/* BagIt: the LoC conformance suite's bags, their reasons, and tag-file encodings. */
#include <sys/types.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "custody/bagit.h"
#include "bagit-report.h"

static const char *vectors;

/* Sorted names of the bags in VECTORS/bagit/conformance-suite/sub; returns the count. */
static size_t
suite_list(const char *sub, char names[][256], size_t max)
{
	char path[1024];
	struct dirent *de;
	DIR *d;
	size_t n = 0, i, j;
	char tmp[256];

	snprintf(path, sizeof path, "%s/bagit/conformance-suite/%s", vectors, sub);
	if ((d = opendir(path)) == NULL)
		fail_msg("no vector directory %s", path);
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], 256);
			memcpy(names[j], names[j - 1], 256);
			memcpy(names[j - 1], tmp, 256);
		}
	return n;
}

/* Validate one suite bag; returns bagit_validate's code and the report. */
static int
suite_validate(const char *sub, const char *name, struct bagit_report **r, int flags)
{
	char path[1024];
	int error;

	snprintf(path, sizeof path, "%s/bagit/conformance-suite/%s/%s", vectors,
	    sub, name);
	error = bagit_validate(r, path, flags);
	assert_non_null(*r);
	return error;
}

/*
 * The v0.97 suite's bags whose tag files declare ISO-8859-1 or UTF-16: we read tag files as
 * UTF-8 only, so these valid-by-the-suite bags are refused (test_conformance_encodings).
 */
static int
suite_other_encoding(const char *name)
{
	return strcmp(name, "ISO-8859-1-encoded-tag-files") == 0 ||
	    strcmp(name, "UTF-16-encoded-tag-files") == 0;
}

/*
 * Every bag in sub must validate (want 0) or fail (want EINVAL), but those of
 * suite_other_encoding; returns the count.
 */
static size_t
suite_expect(const char *sub, int want)
{
	char names[32][256];
	struct bagit_report *r;
	size_t n, i, ok = 0;
	int error;

	n = suite_list(sub, names, 32);
	for (i = 0; i < n; i++) {
		if (suite_other_encoding(names[i]))
			continue;	/* test_conformance_encodings */
		error = suite_validate(sub, names[i], &r, 0);
		if (error != want) {
			show(names[i], r);
			fail_msg("%s/%s: got %d, want %d", sub, names[i], error, want);
		}
		if (want == 0)
			assert_int_equal(r->problems, 0);
		else
			assert_true(r->problems > 0);
		bagit_report_free(r);
		ok++;
	}
	print_message("  %-22s %zu/%zu %s\n", sub, ok, n, want ? "rejected" : "accepted");
	return ok;
}

/* BagIt 1.0: every valid bag validates, every invalid one fails. */
static void
test_conformance_v1(void **state)
{
	assert_int_equal(suite_expect("v1.0/valid", 0), 1);
	assert_int_equal(suite_expect("v1.0/invalid", CUSTODY_EINVAL), 4);
}

/* The reasons the v1.0 invalid bags fail are the right ones. */
static void
test_conformance_v1_reasons(void **state)
{
	struct bagit_report *r;

	suite_validate("v1.0/invalid", "notAllManifestsListAllFiles", &r, 0);
	assert_true(has_finding(r, 0, "data/missingFromManifest.txt", "not listed"));
	bagit_report_free(r);
	suite_validate("v1.0/invalid", "bagit-with-invalid-whitespace", &r, 0);
	assert_true(has_finding(r, 0, "bagit.txt", "BagIt-Version"));
	assert_true(has_finding(r, 0, "bagit.txt", "Tag-File-Character-Encoding"));
	bagit_report_free(r);
	suite_validate("v1.0/invalid", "same-filename-listed-twice-with-the-same-hash",
	    &r, 0);
	assert_true(has_finding(r, 0, "manifest-sha256.txt", "more than once"));
	assert_false(has_finding(r, 0, "data/README", NULL));
	bagit_report_free(r);
	suite_validate("v1.0/invalid",
	    "same-filename-listed-twice-with-different-hashes", &r, 0);
	assert_true(has_finding(r, 0, "manifest-sha256.txt", "different checksums"));
	assert_true(has_finding(r, 0, "data/README", "checksum mismatch") ||
	    has_finding(r, 0, "manifest-sha256.txt", "different"));
	bagit_report_free(r);
	suite_validate("v1.0/valid", "basicBag", &r, 0);
	assert_int_equal(r->major, 1);
	assert_int_equal(r->minor, 0);
	assert_int_equal(r->manifests, 1);
	assert_int_equal(r->tagmanifests, 1);
	assert_int_equal(r->payload_files, 1);
	assert_int_equal(r->n, 0);
	bagit_report_free(r);
}

/* Older versions: valid accepted; invalid and OS-specific out-of-scope bags refused. */
static void
test_conformance_legacy(void **state)
{
	assert_int_equal(suite_expect("v0.93/valid", 0), 2);
	assert_int_equal(suite_expect("v0.94/valid", 0), 2);
	assert_int_equal(suite_expect("v0.95/valid", 0), 2);
	assert_int_equal(suite_expect("v0.96/valid", 0), 8);
	assert_int_equal(suite_expect("v0.97/valid", 0), 10);
	assert_int_equal(suite_expect("v0.97/invalid", CUSTODY_EINVAL), 11);
	assert_int_equal(suite_expect("v0.97/linux-only", CUSTODY_EINVAL), 6);
	assert_int_equal(suite_expect("v0.97/windows-only", CUSTODY_EINVAL), 6);
}

/*
 * v0.97 warning/: tolerated quirks give a warning (and fail under BAGIT_STRICT);
 * names that exist only under case folding or Unicode normalisation (or a
 * listed .DS_Store absent from the suite) are missing files for us: refused.
 */
static void
test_conformance_warnings(void **state)
{
	static const struct {
		const char	*name;
		int		 valid;
		const char	*what;
	} want[] = {
		{ "duplicate-file-with-different-case", 0, "data/HELLO.txt is missing" },
		{ "made-with-md5sum-tools", 1, "md5sum-style" },
		{ "relative-path", 1, "begins with \"./\"" },
		{ "same-filename-listed-twice-with-different-normalization", 0,
		    "is missing" },
		{ "same-filename-listed-twice-with-the-same-hash", 1, "more than once" },
		{ "special-system-files", 0, "data/.DS_Store is missing" },
	};
	char names[32][256];
	struct bagit_report *r;
	size_t i, n;

	n = suite_list("v0.97/warning", names, 32);
	assert_int_equal(n, sizeof want / sizeof want[0]);
	for (i = 0; i < n; i++) {
		assert_string_equal(names[i], want[i].name);
		if (want[i].valid) {
			assert_int_equal(suite_validate("v0.97/warning", names[i],
			    &r, 0), 0);
			assert_true(has_finding(r, 1, NULL, want[i].what));
			bagit_report_free(r);
			assert_int_equal(suite_validate("v0.97/warning", names[i],
			    &r, BAGIT_STRICT), CUSTODY_EINVAL);
		} else {
			assert_int_equal(suite_validate("v0.97/warning", names[i],
			    &r, 0), CUSTODY_EINVAL);
			if (!has_finding(r, 0, NULL, want[i].what)) {
				show(names[i], r);
				fail_msg("%s: no \"%s\"", names[i], want[i].what);
			}
		}
		bagit_report_free(r);
	}
}

/* Specific reasons in the v0.97 invalid bags. */
static void
test_conformance_legacy_reasons(void **state)
{
	struct bagit_report *r;

	suite_validate("v0.97/invalid", "bom-in-bagit.txt", &r, 0);
	assert_true(has_finding(r, 0, "bagit.txt", "byte order mark"));
	bagit_report_free(r);
	suite_validate("v0.97/invalid", "corrupt-data-file", &r, 0);
	assert_true(has_finding(r, 0, "data/", "md5 checksum mismatch"));
	bagit_report_free(r);
	suite_validate("v0.97/invalid", "corrupt-tag-file", &r, 0);
	assert_true(has_finding(r, 0, "bag-info.txt", "checksum mismatch"));
	bagit_report_free(r);
	suite_validate("v0.97/invalid", "extra-file-in-bag", &r, 0);
	assert_true(has_finding(r, 0, "data/bar", "not listed"));
	bagit_report_free(r);
	suite_validate("v0.97/invalid", "missing-baginfo", &r, 0);
	assert_true(has_finding(r, 0, "tagmanifest-md5.txt", "bag-info.txt is missing"));
	bagit_report_free(r);
	suite_validate("v0.97/invalid", "out-of-scope-file-paths-using-dot-notation",
	    &r, 0);
	assert_true(has_finding(r, 0, "manifest-md5.txt", "\"..\""));
	bagit_report_free(r);
	suite_validate("v0.97/linux-only", "out-of-scope-file-paths-using-absolute-path",
	    &r, 0);
	assert_true(has_finding(r, 0, "manifest-md5.txt", "absolute"));
	bagit_report_free(r);
}

/*
 * Tag files are UTF-8: the suite's two bags that declare ISO-8859-1 and UTF-16 are refused,
 * naming the declared encoding; nothing is recoded.
 */
static void
test_conformance_encodings(void **state)
{
	struct bagit_report *r;

	assert_int_equal(suite_validate("v0.97/valid", "UTF-16-encoded-tag-files", &r, 0),
	    CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "bagit.txt", "UTF-16: only UTF-8 is accepted"));
	bagit_report_free(r);
	assert_int_equal(suite_validate("v0.97/valid", "ISO-8859-1-encoded-tag-files", &r, 0),
	    CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "bagit.txt", "ISO-8859-1: only UTF-8 is accepted"));
	bagit_report_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conformance_v1),
		cmocka_unit_test(test_conformance_v1_reasons),
		cmocka_unit_test(test_conformance_legacy),
		cmocka_unit_test(test_conformance_warnings),
		cmocka_unit_test(test_conformance_legacy_reasons),
		cmocka_unit_test(test_conformance_encodings),
	};

	if ((vectors = getenv("VECTORS")) == NULL || *vectors == '\0') {
		fprintf(stderr, "test_bagit_conformance: VECTORS is not set; run through ctest or "
		    "set VECTORS=<source>/tests/vectors\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
