/* BagIt: tag-file parsers, writers, sha256sum interop, tampering, declared encodings. */
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "custody/bagit.h"
#include "bagit-report.h"
#include "run.h"

/* Parse bagit.txt bytes; returns the parser's code and the problem count. */
static int
decl(const char *text, struct bagit_decl *d, size_t *problems)
{
	struct bagit_report *r;
	int error;

	assert_int_equal(bagit_report_new(&r), 0);
	error = bagit_parse_declaration(d, r, (const uint8_t *)text, strlen(text));
	*problems = r->problems;
	bagit_report_free(r);
	return error;
}

/* bagit.txt: exact format, any line ending, BOM and whitespace refused. */
static void
test_declaration(void **state)
{
	struct bagit_decl d;
	size_t p;

	assert_int_equal(decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
	    &d, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(d.major, 1);
	assert_string_equal(d.encoding, "UTF-8");
	assert_int_equal(decl("BagIt-Version: 0.97\r\nTag-File-Character-Encoding: "
	    "ISO-8859-1", &d, &p), 0);
	assert_int_equal(p, 1);		/* only UTF-8 */
	assert_int_equal(d.minor, 97);
	assert_string_equal(d.encoding, "ISO-8859-1");
	assert_int_equal(decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: utf-8\n",
	    &d, &p), 0);
	assert_int_equal(p, 0);
	assert_string_equal(d.encoding, "UTF-8");
	decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-16\n", &d, &p);
	assert_int_equal(p, 1);
	decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\x01\n", &d, &p);
	assert_int_equal(p, 1);
	decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF8\n", &d, &p);
	assert_int_equal(p, 1);
	assert_int_equal(decl("BagIt-Version: 1.0\rTag-File-Character-Encoding: UTF-8\r",
	    &d, &p), 0);
	assert_int_equal(p, 0);
	decl("\xef\xbb\xbf" "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
	    &d, &p);
	assert_int_equal(p, 1);
	decl("BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n", &d, &p);
	assert_int_equal(p, 1);
	decl("BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n", &d, &p);
	assert_int_equal(p, 1);
	decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n\n", &d, &p);
	assert_int_equal(p, 1);
	decl("BagIt-Version: 1.0\n", &d, &p);
	assert_true(p >= 1);
	decl("BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n", &d, &p);
	assert_int_equal(p, 1);
	assert_int_equal(decl("BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n",
	    &d, &p), CUSTODY_EINVAL);
	assert_int_equal(decl("", &d, &p), CUSTODY_EINVAL);
	decl("Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n", &d, &p);
	assert_true(p >= 1);
}

/* Parse one manifest text; returns the manifest (caller frees) and the report. */
static void
manifest(struct bagit_manifest *m, struct bagit_report **r, const char *name,
    int v1, const char *text)
{
	assert_int_equal(bagit_report_new(r), 0);
	assert_int_equal(bagit_manifest_init(m, name, v1), 0);
	assert_int_equal(bagit_manifest_parse(m, *r, (const uint8_t *)text,
	    strlen(text)), 0);
}

#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Manifest lines: separators, case, percent-decoding, path rules. */
static void
test_manifest_parser(void **state)
{
	struct bagit_manifest m;
	struct bagit_report *r;

	manifest(&m, &r, "manifest-sha256.txt", 1,
	    H64 "  data/a b.txt\n"
	    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\tdata/x%0Ay%25z%0d\r\n"
	    H64 " data/last");
	assert_int_equal(r->n, 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.alg, "sha256");
	assert_string_equal(m.e[0].path, "data/a b.txt");
	assert_string_equal(m.e[1].path, "data/x\ny%z\r");
	assert_string_equal(m.e[1].digest, H64);
	assert_int_equal(m.e[2].line, 3);
	bagit_manifest_free(&m);
	bagit_report_free(r);

	manifest(&m, &r, "manifest-sha256.txt", 1,
	    H64 "  ../etc/passwd\n" H64 "  /etc/passwd\n" H64 "  data/../../x\n"
	    H64 "  bagit.txt\n" H64 "  data//x\n" "abc  data/short\n" "data/nohash\n"
	    H64 "  data/100%\n" H64 "  data/\xff\n" "\n");
	assert_int_equal(m.n, 1);	/* only data/100% survives, with a finding */
	assert_int_equal(r->problems, 10);
	assert_true(has_finding(r, 0, NULL, "outside the payload directory"));
	assert_true(has_finding(r, 0, NULL, "absolute"));
	assert_true(has_finding(r, 0, NULL, "hex digits"));
	assert_true(has_finding(r, 0, NULL, "unencoded"));
	assert_true(has_finding(r, 0, NULL, "UTF-8"));
	bagit_manifest_free(&m);
	bagit_report_free(r);

	/* Pre-1.0: "./", "*" and a bare % tolerated (the first two with warnings). */
	manifest(&m, &r, "manifest-md5.txt", 0,
	    "d41d8cd98f00b204e9800998ecf8427e ./data/a\n"
	    "d41d8cd98f00b204e9800998ecf8427e *data/b\n"
	    "d41d8cd98f00b204e9800998ecf8427e data/%7Ec\n");
	assert_int_equal(r->problems, 0);
	assert_int_equal(r->warnings, 2);
	assert_string_equal(m.e[0].path, "data/a");
	assert_string_equal(m.e[1].path, "data/b");
	assert_string_equal(m.e[2].path, "data/%7Ec");
	bagit_manifest_free(&m);
	bagit_report_free(r);

	manifest(&m, &r, "tagmanifest-sha256.txt", 1,
	    H64 "  data/x\n" H64 "  tagmanifest-sha512.txt\n" H64 "  meta/a.txt\n");
	assert_int_equal(m.n, 1);
	assert_int_equal(r->problems, 2);
	bagit_manifest_free(&m);
	bagit_report_free(r);

	assert_int_equal(bagit_manifest_init(&m, "manifest.txt", 1), CUSTODY_EINVAL);
	assert_int_equal(bagit_manifest_init(&m, "foo-sha256.txt", 1), CUSTODY_EINVAL);
}

/* bag-info.txt: order, continuations, Payload-Oxum, 1.0 whitespace rules. */
static void
test_info_parser(void **state)
{
	const char *text = "Source-Organization: Office\r\nExternal-Description: a\n"
	    "   b\n\tc\nPayload-Oxum: 123.4\nContact-Name: X\n";
	struct bagit_info bi = { .v1 = 1 };
	struct bagit_report *r;
	uint64_t octets, files;
	int found;

	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_info_parse(&bi, r, (const uint8_t *)text,
	    strlen(text)), 0);
	assert_int_equal(r->n, 0);
	assert_int_equal(bi.n, 4);
	assert_string_equal(bi.e[1].label, "External-Description");
	assert_string_equal(bi.e[1].value, "a\nb\nc");
	assert_int_equal(bagit_info_oxum(&bi, r, &found, &octets, &files), 0);
	assert_true(found);
	assert_int_equal(octets, 123);
	assert_int_equal(files, 4);
	bagit_info_free(&bi);
	bagit_report_free(r);

	text = "Payload-Oxum: 1.1\npayload-oxum: 1.1\nLabel : v\nNoColon\n  \nX:y\n";
	bi.v1 = 1;
	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_info_parse(&bi, r, (const uint8_t *)text,
	    strlen(text)), 0);
	assert_int_equal(bagit_info_oxum(&bi, r, &found, &octets, &files), 0);
	assert_true(has_finding(r, 0, "bag-info.txt", "repeated"));
	assert_true(has_finding(r, 0, "bag-info.txt", "before \":\""));
	assert_true(has_finding(r, 0, "bag-info.txt", "no \":\""));
	assert_true(has_finding(r, 0, "bag-info.txt", "no whitespace after"));
	bagit_info_free(&bi);
	bagit_report_free(r);

	text = "Payload-Oxum: 12x.1\n";
	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_info_parse(&bi, r, (const uint8_t *)text,
	    strlen(text)), 0);
	assert_int_equal(bagit_info_oxum(&bi, r, &found, &octets, &files), 0);
	assert_false(found);
	assert_int_equal(r->problems, 1);
	bagit_info_free(&bi);
	bagit_report_free(r);
}

/* fetch.txt lines. */
static void
test_fetch_parser(void **state)
{
	const char *text = "https://example.org/a%20b 12 data/a b\n"
	    "http://x/y - data/y\nnot-a-url 1 data/z\nhttp://x/ 1x data/z\n"
	    "http://x/ - ../z\nhttp://x/ -\n";
	struct bagit_fetch f = { .v1 = 1 };
	struct bagit_report *r;

	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_fetch_parse(&f, r, (const uint8_t *)text,
	    strlen(text)), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.e[0].path, "data/a b");
	assert_int_equal(f.e[0].length, 12);
	assert_int_equal(f.e[1].length, -1);
	assert_int_equal(r->problems, 4);
	bagit_fetch_free(&f);
	bagit_report_free(r);
}

struct lines_seen {
	char		text[256];
	size_t		len;
	unsigned long	last;
};

static int
lines_cb(void *arg, unsigned long lineno, const char *line, size_t len)
{
	struct lines_seen *s = arg;

	assert_int_equal(lineno, s->last + 1);
	s->last = lineno;
	assert_true(s->len + len + 1 < sizeof s->text);
	memcpy(s->text + s->len, line, len);
	s->len += len;
	s->text[s->len++] = '|';
	return 0;
}

/* Line splitting gives the same lines whatever the piece sizes; long lines refused. */
static void
test_lines(void **state)
{
	const char *in = "a\r\nb\rc\n\r\nd\r\re";
	struct bagit_lines l;
	struct lines_seen s;
	size_t i, step, len = strlen(in);
	char *big;

	for (step = 1; step <= len; step++) {
		memset(&s, 0, sizeof s);
		bagit_lines_init(&l, lines_cb, &s);
		for (i = 0; i < len; i += step)
			assert_int_equal(bagit_lines_feed(&l, (const uint8_t *)in + i,
			    len - i < step ? len - i : step), 0);
		assert_int_equal(bagit_lines_finish(&l), 0);
		bagit_lines_free(&l);
		s.text[s.len] = '\0';
		assert_string_equal(s.text, "a|b|c||d||e|");
	}
	assert_non_null(big = malloc(BAGIT_MAX_LINE + 2));
	memset(big, 'x', BAGIT_MAX_LINE + 1);
	memset(&s, 0, sizeof s);
	bagit_lines_init(&l, lines_cb, &s);
	assert_int_equal(bagit_lines_feed(&l, (uint8_t *)big, BAGIT_MAX_LINE + 1), 0);
	assert_int_equal(bagit_lines_finish(&l), CUSTODY_ETOOBIG);
	assert_int_equal(s.len, 0);
	bagit_lines_free(&l);
	free(big);
}

/* Writers: exact bytes, encodings, refusals; the parsers read them back. */
static void
test_writers(void **state)
{
	const struct bagit_tag tags[] = {
		{ "Source-Organization", "Documentation Office" },
		{ "External-Description", "line one\nline two" },
	};
	const struct bagit_tag bad1[] = { { "Bad:Label", "x" } };
	const struct bagit_tag bad2[] = { { " Lead", "x" } };
	const struct bagit_tag bad3[] = { { "Payload-Oxum", "1.1" } };
	const struct bagit_tag bad4[] = { { "L", "a\rb" } };
	struct bagit_manifest m;
	struct bagit_info bi = { .v1 = 1 };
	struct bagit_report *r;
	struct bagit_decl d;
	struct cbuf b = { 0 };
	uint64_t octets, files;
	int found;

	assert_int_equal(bagit_write_declaration(&b), 0);
	assert_int_equal(b.len, 54);
	assert_memory_equal(b.data, "BagIt-Version: 1.0\n"
	    "Tag-File-Character-Encoding: UTF-8\n", 54);
	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_parse_declaration(&d, r, b.data, b.len), 0);
	assert_int_equal(r->n, 0);
	bagit_report_free(r);
	cbuf_free(&b);

	assert_int_equal(bagit_write_info(&b, tags, 2, 1234, 5), 0);
	assert_int_equal(b.len, strlen("Source-Organization: Documentation Office\n"
	    "External-Description: line one\n  line two\nPayload-Oxum: 1234.5\n"));
	assert_memory_equal(b.data, "Source-Organization: Documentation Office\n"
	    "External-Description: line one\n  line two\nPayload-Oxum: 1234.5\n", b.len);
	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_info_parse(&bi, r, b.data, b.len), 0);
	assert_int_equal(bagit_info_oxum(&bi, r, &found, &octets, &files), 0);
	assert_int_equal(r->n, 0);
	assert_string_equal(bi.e[1].value, "line one\nline two");
	assert_int_equal(octets, 1234);
	assert_int_equal(files, 5);
	bagit_info_free(&bi);
	bagit_report_free(r);
	cbuf_free(&b);
	assert_int_equal(bagit_write_info(&b, bad1, 1, 0, 0), CUSTODY_EINVAL);
	assert_int_equal(bagit_write_info(&b, bad2, 1, 0, 0), CUSTODY_EINVAL);
	assert_int_equal(bagit_write_info(&b, bad3, 1, 0, 0), CUSTODY_EINVAL);
	assert_int_equal(bagit_write_info(&b, bad4, 1, 0, 0), CUSTODY_EINVAL);
	cbuf_free(&b);

	assert_int_equal(bagit_write_manifest_line(&b, H64, "data/a\nb%c\rd e"), 0);
	assert_memory_equal(b.data, H64 "  data/a%0Ab%25c%0Dd e\n", b.len);
	assert_int_equal(b.len, 64 + 2 + strlen("data/a%0Ab%25c%0Dd e") + 1);
	assert_int_equal(bagit_report_new(&r), 0);
	assert_int_equal(bagit_manifest_init(&m, "manifest-sha256.txt", 1), 0);
	assert_int_equal(bagit_manifest_parse(&m, r, b.data, b.len), 0);
	assert_int_equal(r->n, 0);
	assert_string_equal(m.e[0].path, "data/a\nb%c\rd e");
	bagit_manifest_free(&m);
	bagit_report_free(r);
	cbuf_free(&b);
	assert_int_equal(bagit_write_manifest_line(&b, H64, "data/../x"), CUSTODY_EINVAL);
	assert_int_equal(bagit_write_manifest_line(&b, H64, "/data/x"), CUSTODY_EINVAL);
	assert_int_equal(bagit_write_manifest_line(&b, "XYZ", "data/x"), CUSTODY_EINVAL);
	assert_int_equal(bagit_write_manifest_line(&b, "", "data/x"), CUSTODY_EINVAL);
	cbuf_free(&b);
}

/* ---- a bag made with the writers, checked by sha256sum and by us, then tampered ---- */

static void
put_file(const char *dir, const char *rel, const void *p, size_t n)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(write_all(fd, p, n), 0);
	assert_int_equal(close(fd), 0);
}

/* sha256 hex of dir/rel. */
static void
hash_file(char hex[static BAGIT_MAX_DIGEST_HEX + 1], const char *dir, const char *rel)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(bagit_digest_fd(hex, "sha256", fd), 0);
	close(fd);
}

/* Write dir's tagmanifest-sha256.txt over its bagit.txt, bag-info.txt and manifest-sha256.txt. */
static void
put_tagmanifest(const char *dir)
{
	static const char *const tagfiles[] = { "bagit.txt", "bag-info.txt",
	    "manifest-sha256.txt" };
	char hex[BAGIT_MAX_DIGEST_HEX + 1];
	struct cbuf b = { 0 };
	size_t i;

	for (i = 0; i < 3; i++) {
		hash_file(hex, dir, tagfiles[i]);
		assert_int_equal(bagit_write_manifest_line(&b, hex, tagfiles[i]), 0);
	}
	put_file(dir, "tagmanifest-sha256.txt", b.data, b.len);
	cbuf_free(&b);
}

/* Build a bag in dir with payload files names (content: the name, or nothing for "empty"). */
static void
build_bag(const char *dir, const char *const *names, size_t n)
{
	const struct bagit_tag tags[] = {
		{ "Source-Organization", "Test office" },
		{ "Bagging-Date", "2024-01-01" },
	};
	struct cbuf b = { 0 };
	char hex[BAGIT_MAX_DIGEST_HEX + 1];
	const char *content;
	uint64_t octets = 0;
	size_t i;

	assert_int_equal(run("mkdir -p '%s/data/sub dir'", dir), 0);
	for (i = 0; i < n; i++) {
		content = strstr(names[i], "empty") ? "" : names[i];
		put_file(dir, names[i], content, strlen(content));
		octets += strlen(content);
		hash_file(hex, dir, names[i]);
		assert_int_equal(bagit_write_manifest_line(&b, hex, names[i]), 0);
	}
	put_file(dir, "manifest-sha256.txt", b.data, b.len);
	cbuf_free(&b);
	assert_int_equal(bagit_write_declaration(&b), 0);
	put_file(dir, "bagit.txt", b.data, b.len);
	cbuf_free(&b);
	assert_int_equal(bagit_write_info(&b, tags, 2, octets, n), 0);
	put_file(dir, "bag-info.txt", b.data, b.len);
	cbuf_free(&b);
	put_tagmanifest(dir);
}

/* Validate dir; returns the code, keeps the report in *r. */
static int
check(const char *dir, struct bagit_report **r)
{
	int error = bagit_validate(r, dir, BAGIT_STRICT);

	assert_non_null(*r);
	return error;
}

/* sha256sum -c accepts our manifests, we accept the bag; each tampering is reported. */
static void
test_interop_sha256sum_and_tamper(void **state)
{
	static const char *const names[] = { "data/evidence.jpg", "data/empty",
	    "data/sub dir/statement (1).txt" };
	struct bagit_report *r;
	char dir[] = "/tmp/custody-bagit-XXXXXX";

	assert_non_null(mkdtemp(dir));
	build_bag(dir, names, 3);
	if (run("command -v sha256sum >/dev/null 2>&1") != 0) {
		print_message("sha256sum not installed: skipping the sha256sum check\n");
	} else {
		assert_int_equal(run("cd '%s' && sha256sum -c --strict --quiet "
		    "manifest-sha256.txt && sha256sum -c --strict --quiet "
		    "tagmanifest-sha256.txt", dir), 0);
	}
	assert_int_equal(check(dir, &r), 0);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->payload_files, 3);
	bagit_report_free(r);

	/* One payload byte flipped. */
	assert_int_equal(run("cd '%s' && printf X | dd of=data/evidence.jpg bs=1 seek=2 conv=notrunc "
	    "status=none", dir), 0);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "data/evidence.jpg", "sha256 checksum mismatch"));
	assert_int_equal(r->problems, 1);
	bagit_report_free(r);
	if (run("command -v sha256sum >/dev/null 2>&1") == 0)
		assert_int_not_equal(run("cd '%s' && sha256sum -c --quiet "
		    "manifest-sha256.txt >/dev/null 2>&1", dir), 0);
	assert_int_equal(run("rm -rf '%s'/*", dir), 0);
	build_bag(dir, names, 3);

	/* A payload file removed. */
	assert_int_equal(run("rm '%s/data/sub dir/statement (1).txt'", dir), 0);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "manifest-sha256.txt",
	    "data/sub dir/statement (1).txt is missing"));
	assert_true(has_finding(r, 0, "bag-info.txt", "Payload-Oxum"));
	bagit_report_free(r);
	build_bag(dir, names, 3);

	/* A payload file added. */
	put_file(dir, "data/smuggled", "x", 1);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "data/smuggled", "not listed"));
	assert_true(has_finding(r, 0, "bag-info.txt", "Payload-Oxum"));
	bagit_report_free(r);
	assert_int_equal(run("rm '%s/data/smuggled'", dir), 0);

	/* A tag file edited. */
	assert_int_equal(run("printf 'Contact-Name: Eve\\n' >> '%s/bag-info.txt'", dir), 0);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "bag-info.txt", "checksum mismatch"));
	bagit_report_free(r);
	build_bag(dir, names, 3);

	/* A symbolic link in the payload, pointing out of the bag. */
	assert_int_equal(run("ln -s /etc/passwd '%s/data/link'", dir), 0);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "data/link", "link"));
	bagit_report_free(r);
	assert_int_equal(run("rm '%s/data/link'", dir), 0);

	/* fetch.txt naming a listed file that is absent: incomplete. */
	put_file(dir, "fetch.txt", "https://example.org/e - data/evidence.jpg\n", 42);
	assert_int_equal(run("rm '%s/data/evidence.jpg'", dir), 0);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "manifest-sha256.txt", "incomplete"));
	bagit_report_free(r);

	/* No bagit.txt, no data/. */
	assert_int_equal(run("rm -rf '%s'/*", dir), 0);
	assert_int_equal(check(dir, &r), CUSTODY_EINVAL);
	assert_true(has_finding(r, 0, "bagit.txt", "missing"));
	assert_true(has_finding(r, 0, "data", "payload directory missing"));
	assert_true(has_finding(r, 0, "", "no payload manifest"));
	bagit_report_free(r);
	assert_int_equal(run("rm -rf '%s'", dir), 0);
	assert_int_equal(bagit_validate(&r, "/nonexistent/bag", 0), CUSTODY_ENOTFOUND);
	assert_null(r);
}

/* Rewrite dir's bagit.txt to declare encoding, and its tag manifest to match. */
static void
declare_encoding(const char *dir, const char *encoding)
{
	struct cbuf b = { 0 };

	assert_int_equal(cbuf_printf(&b, "BagIt-Version: 1.0\n"
	    "Tag-File-Character-Encoding: %s\n", encoding), 0);
	put_file(dir, "bagit.txt", b.data, b.len);
	cbuf_free(&b);
	put_tagmanifest(dir);
}

/*
 * A bag that declares another encoding for its tag files (here plain ASCII, so that any
 * converter would read them) is refused, naming what it declared: the name never reaches a
 * converter. "utf-8" in lower case is UTF-8.
 */
static void
test_other_encoding_refused(void **state)
{
	static const char *const names[] = { "data/a.txt" };
	static const char *const other[] = { "ISO-8859-1", "UTF-16", "IBM037",
	    "../../../tmp/gconv-module" };
	struct bagit_report *r;
	char dir[] = "/tmp/custody-bagit-XXXXXX", want[128];
	size_t i;

	assert_non_null(mkdtemp(dir));
	build_bag(dir, names, 1);
	for (i = 0; i < sizeof other / sizeof other[0]; i++) {
		declare_encoding(dir, other[i]);
		assert_int_equal(bagit_validate(&r, dir, 0), CUSTODY_EINVAL);
		snprintf(want, sizeof want, "Tag-File-Character-Encoding is %s: only UTF-8 "
		    "is accepted", other[i]);
		if (!has_finding(r, 0, "bagit.txt", want)) {
			show(other[i], r);
			fail_msg("%s: no \"%s\"", other[i], want);
		}
		bagit_report_free(r);
	}
	declare_encoding(dir, "utf-8");
	assert_int_equal(bagit_validate(&r, dir, 0), 0);
	assert_int_equal(r->problems, 0);
	bagit_report_free(r);
	assert_int_equal(run("rm -rf '%s'", dir), 0);
}

/* File names with CR, LF and % survive percent-encoding through the validator. */
static void
test_odd_names(void **state)
{
	static const char *const names[] = { "data/100%", "data/line\nbreak",
	    "data/cr\rname", "data/\xd9\x86\xd8\xb5.txt" };
	struct bagit_report *r;
	char dir[] = "/tmp/custody-bagit-XXXXXX";

	assert_non_null(mkdtemp(dir));
	build_bag(dir, names, 4);
	assert_int_equal(check(dir, &r), 0);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->payload_files, 4);
	bagit_report_free(r);
	assert_int_equal(run("rm -rf '%s'", dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_encoding_refused),
		cmocka_unit_test(test_declaration),
		cmocka_unit_test(test_manifest_parser),
		cmocka_unit_test(test_info_parser),
		cmocka_unit_test(test_fetch_parser),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_writers),
		cmocka_unit_test(test_interop_sha256sum_and_tamper),
		cmocka_unit_test(test_odd_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
