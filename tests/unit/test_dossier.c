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

#define MAX_FILES	256
#define COMMIT_TIME	"1795867200 +0000"	/* 2026-11-28T12:00:00Z */
#define WITNESS_TIME	"2026-11-28T21:00:00Z"
#define EVIDENCE_LEN	(200 * 1024)		/* the tar spans several age chunks */

/* An office and its Ed25519 key. */
struct office {
	const char	*name;
	uint8_t		 pk[ED25519_PK_LEN];
	uint8_t		 sk[ED25519_SK_LEN];
	char		 hex[65];
};

/* A record as its feed holds it. */
struct rec {
	const char	*kind;
	const char	*id;
	char		 token[RECOBJ_TOKEN_HEX_LEN + 1];
	uint8_t		 key[RECOBJ_KEY_LEN];
	char		 blob[41];
	json_t		*doc;		/* the plaintext, sealed fields sealed */
};

enum { R_INC, R_EV, R_V1, R_V2, R_SRC, R_WIT, NREC };

/* The dossier under test. */
struct fx {
	char		 root[64];
	char		 name[41];		/* dossier-ID */
	char		 bag[128];		/* root/dossier-ID */
	struct office	 alpha, bravo, forger;
	struct age_identity id;
	struct rec	 r[NREC];
	uint8_t		 source_name_key[RECOBJ_KEY_LEN];
	char		 ev_sha[SHA256_HEX_LEN + 1];
	char		 a1[41], a2[41], a3[41], b1[41];
	char		 tree2[41];
};

/* A file of the bag in memory. */
struct tfile {
	char		*path;		/* relative to the bag */
	int		 dir;
	struct cbuf	 data;
};
struct tfiles {
	struct tfile	 v[MAX_FILES];
	size_t		 n;
};

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command formatted like printf; returns its exit status. */
static int
run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Write bag/rel (parents made). */
static void
put_file(const struct fx *fx, const char *rel, const void *p, size_t n)
{
	char path[1024], *slash;
	int fd;

	snprintf(path, sizeof path, "%s/%s", fx->bag, rel);
	for (slash = strchr(path + strlen(fx->bag) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(write_all(fd, p, n), 0);
	assert_int_equal(close(fd), 0);
}

/* The whole of bag/rel. */
static void
get_file(const struct fx *fx, const char *rel, struct cbuf *out)
{
	char path[1024], buf[4096];
	ssize_t got;
	int fd;

	snprintf(path, sizeof path, "%s/%s", fx->bag, rel);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	while ((got = read(fd, buf, sizeof buf)) > 0)
		assert_int_equal(cbuf_put(out, buf, (size_t)got), 0);
	assert_true(got == 0);
	close(fd);
}

/* JSON as DOSSIER.md writes it: sorted keys, two-space indent, a final newline. */
static void
put_json(const struct fx *fx, const char *rel, json_t *o)
{
	struct cbuf b = { 0 };
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);

	assert_non_null(s);
	assert_int_equal(cbuf_printf(&b, "%s\n", s), 0);
	put_file(fx, rel, b.data, b.len);
	cbuf_free(&b);
	free(s);
	json_decref(o);
}

/* The JSON object in bag/rel (caller decrefs). */
static json_t *
get_json(const struct fx *fx, const char *rel)
{
	struct cbuf b = { 0 };
	json_t *o;

	get_file(fx, rel, &b);
	assert_non_null(o = json_loadb((const char *)b.data, b.len, 0, NULL));
	cbuf_free(&b);
	return o;
}

/* SHA-256 hex of bytes. */
static void
sha256_hex(char hex[static SHA256_HEX_LEN + 1], const void *p, size_t n)
{
	uint8_t md[SHA256_LEN];

	assert_int_equal(EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL), 1);
	hex_encode(hex, md, SHA256_LEN);
}

/* Standard base64 of a key, as a JSON string. */
static json_t *
b64(const uint8_t *p, size_t n)
{
	char s[128];

	sodium_bin2base64(s, sizeof s, p, n, sodium_base64_VARIANT_ORIGINAL);
	return json_string(s);
}

/* Store a raw git object as custody/objects/OID.TYPE; oid gets its name. */
static void
git_put(const struct fx *fx, const char *type, const void *body, size_t n, char oid[static 41])
{
	uint8_t md[20];
	char hdr[64], rel[128];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int hlen = snprintf(hdr, sizeof hdr, "%s %zu", type, n);

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha1(), NULL), 1);
	EVP_DigestUpdate(ctx, hdr, (size_t)hlen + 1);
	EVP_DigestUpdate(ctx, body, n);
	assert_int_equal(EVP_DigestFinal_ex(ctx, md, NULL), 1);
	EVP_MD_CTX_free(ctx);
	hex_encode(oid, md, 20);
	snprintf(rel, sizeof rel, "custody/objects/%s.%s", oid, type);
	put_file(fx, rel, body, n);
}

/* Append one tree entry "MODE NAME\0" + the raw oid. */
static void
tree_entry(struct cbuf *t, const char *mode, const char *name, const char *oid)
{
	uint8_t raw[20];

	assert_int_equal(hex_decode(raw, sizeof raw, oid), 0);
	assert_int_equal(cbuf_printf(t, "%s %s", mode, name), 0);
	assert_int_equal(cbuf_put(t, "", 1), 0);
	assert_int_equal(cbuf_put(t, raw, sizeof raw), 0);
}

/* The tree records/ab/cd/TOKEN of records idx[0..n) (tokens differ in their first two digits). */
static void
record_tree(const struct fx *fx, const int *idx, size_t n, char out[static 41])
{
	struct cbuf top = { 0 }, recs = { 0 }, ab = { 0 }, cd = { 0 };
	char oid[41], name[3];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct rec *r = &fx->r[idx[i]];

		cd.len = ab.len = 0;
		tree_entry(&cd, "100644", r->token, r->blob);
		git_put(fx, "tree", cd.data, cd.len, oid);
		snprintf(name, sizeof name, "%.2s", r->token + 2);
		tree_entry(&ab, "40000", name, oid);
		git_put(fx, "tree", ab.data, ab.len, oid);
		snprintf(name, sizeof name, "%.2s", r->token);
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

/* A feed commit signed in its gpgsig header as git commit -S does; out gets its name. */
static void
commit_put(const struct fx *fx, const struct office *o, const char *tree, const char *parent,
    int seq, char out[static 41])
{
	struct cbuf body = { 0 }, raw = { 0 };
	char *sig, *p, *committer_end;

	assert_int_equal(cbuf_printf(&body, "tree %s\n", tree), 0);
	if (parent != NULL)
		assert_int_equal(cbuf_printf(&body, "parent %s\n", parent), 0);
	assert_int_equal(cbuf_printf(&body, "author %s <%.16s@custody> " COMMIT_TIME "\n"
	    "committer %s <%.16s@custody> " COMMIT_TIME "\n\nrecord %d\n\nCustody-Seq: %d\n"
	    "Custody-Lamport: %d\nCustody-Office: %s\n", o->name, o->hex, o->name, o->hex, seq,
	    seq, seq, o->hex), 0);
	assert_int_equal(sshsig_sign(&sig, o->sk, "git", "sha512", body.data, body.len), 0);
	committer_end = strstr((char *)body.data, "\n\n") + 1;
	assert_int_equal(cbuf_put(&raw, body.data, (size_t)(committer_end - (char *)body.data)),
	    0);
	assert_int_equal(cbuf_puts(&raw, "gpgsig "), 0);
	for (p = sig; *p != '\0'; p++) {
		assert_int_equal(cbuf_put_u8(&raw, (uint8_t)*p), 0);
		if (*p == '\n')
			assert_int_equal(cbuf_put_u8(&raw, ' '), 0);
	}
	assert_int_equal(cbuf_puts(&raw, "\n"), 0);
	assert_int_equal(cbuf_puts(&raw, committer_end), 0);
	git_put(fx, "commit", raw.data, raw.len, out);
	free(sig);
	cbuf_free(&body);
	cbuf_free(&raw);
}

/* Seal record r's document as a record object (blob) under its key and token. */
static void
record_put(struct fx *fx, struct rec *r)
{
	uint8_t wrapped[RECOBJ_WRAPPED_LEN];
	struct cbuf obj = { 0 };
	char *s;

	memset(wrapped, 0x5a, sizeof wrapped);
	assert_non_null(s = json_dumps(r->doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII));
	assert_int_equal(recobj_seal(&obj, wrapped, r->key, r->token, s, strlen(s)), 0);
	git_put(fx, "blob", obj.data, obj.len, r->blob);
	free(s);
	cbuf_free(&obj);
}

/* Seal field of r's document with key. */
static void
seal_field(struct rec *r, const char *field, const uint8_t *key)
{
	json_t *sealed;

	assert_int_equal(recobj_field_seal(&sealed, key, r->token, field,
	    json_object_get(r->doc, field)), 0);
	assert_int_equal(json_object_set_new(r->doc, field, sealed), 0);
}

/* The record file: the plaintext minus withheld fields plus "withheld". */
static void
record_file(struct fx *fx, const struct rec *r, json_t *plain, const char *const *withheld)
{
	char rel[256];
	json_t *list = json_array();

	for (; withheld != NULL && *withheld != NULL; withheld++) {
		json_object_del(plain, *withheld);
		json_array_append_new(list, json_string(*withheld));
	}
	if (json_array_size(list) > 0)
		json_object_set(plain, "withheld", list);
	json_decref(list);
	snprintf(rel, sizeof rel, "data/records/%s/%s.json", r->kind, r->id);
	put_json(fx, rel, plain);
}

/* A PROOF of r at commit (seq) in office o's feed; keyed says whether to disclose the key. */
static json_t *
proof(const struct fx *fx, const struct rec *r, const struct office *o, const char *commit,
    int seq, int keyed)
{
	char path[64];
	json_t *p;

	snprintf(path, sizeof path, "records/%.2s/%.2s/%s", r->token, r->token + 2, r->token);
	p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "feed", o->hex, "commit", commit, "seq", seq,
	    "path", path, "object", r->blob);
	assert_non_null(p);
	if (keyed)
		json_object_set_new(p, "record_key", b64(r->key, RECOBJ_KEY_LEN));
	return p;
}

/* The item file of r. */
static void
item_file(struct fx *fx, const struct rec *r, json_t *prf, json_t *commits, json_t *witnesses,
    const char *const *withheld)
{
	char rel[256];
	json_t *it, *w = json_array(), *custody;

	for (; withheld != NULL && *withheld != NULL; withheld++)
		json_array_append_new(w, json_string(*withheld));
	custody = json_pack("[{s:s,s:s,s:I,s:O,s:s}]", "event", "recorded", "office",
	    fx->alpha.hex, "seq", json_integer_value(json_object_get(prf, "seq")), "commit",
	    json_object_get(prf, "commit"), "time", "2026-11-28T12:00:00Z");
	assert_non_null(custody);
	snprintf(rel, sizeof rel, "data/records/%s/%s.json", r->kind, r->id);
	it = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "kind", r->kind, "id", r->id, "record",
	    rel, "proof", prf, "commits", commits, "witnesses", witnesses, "custody", custody);
	assert_non_null(it);
	if (json_array_size(w) > 0)
		json_object_set(it, "withheld", w);
	json_decref(w);
	if (strcmp(r->kind, "evidence") == 0) {
		snprintf(rel, sizeof rel, "data/evidence/%s/photo.jpg", fx->ev_sha);
		json_object_set_new(it, "evidence", json_string(rel));
	}
	snprintf(rel, sizeof rel, "custody/items/%s/%s.json", r->kind, r->id);
	put_json(fx, rel, it);
}

/* Load the bag directory into memory, sorted, directories too. */
static void
load_dir(struct tfiles *fs, const char *dir, const char *pre)
{
	struct dirent **de;
	struct tfile *f;
	char path[2200], rel[1024];
	struct stat st;
	int i, n;

	snprintf(path, sizeof path, "%s/%s", dir, pre);
	assert_true((n = scandir(path, &de, NULL, alphasort)) >= 0);
	for (i = 0; i < n; i++) {
		if (de[i]->d_name[0] == '.') {
			free(de[i]);
			continue;
		}
		snprintf(rel, sizeof rel, "%s%s", pre, de[i]->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, rel);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(fs->n < MAX_FILES);
		f = &fs->v[fs->n++];
		memset(f, 0, sizeof *f);
		assert_non_null(f->path = strdup(rel));
		f->dir = S_ISDIR(st.st_mode);
		if (f->dir) {
			strcat(rel, "/");
			load_dir(fs, dir, rel);
		} else {
			char buf[4096];
			ssize_t got;
			int fd;

			assert_true((fd = open(path, O_RDONLY)) >= 0);
			while ((got = read(fd, buf, sizeof buf)) > 0)
				assert_int_equal(cbuf_put(&f->data, buf, (size_t)got), 0);
			close(fd);
		}
		free(de[i]);
	}
	free(de);
}

static void
tfiles_free(struct tfiles *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].path);
		cbuf_free(&fs->v[i].data);
	}
	fs->n = 0;
}

/* Recompute manifests, bag-info and the tag manifest; sign it with office o's key. */
static void
reseal(struct fx *fx, const struct office *o)
{
	struct tfiles *fs = calloc(1, sizeof *fs);
	struct cbuf man = { 0 }, tag = { 0 }, info = { 0 }, tm = { 0 };
	char hex[SHA256_HEX_LEN + 1], *fp, *sig;
	const char *tagfiles[] = { "bagit.txt", "bag-info.txt", "manifest-sha256.txt",
	    "allowed_signers" };
	uint64_t octets = 0, files = 0;
	size_t i;

	assert_non_null(fs);
	load_dir(fs, fx->bag, "");
	for (i = 0; i < fs->n; i++) {
		if (fs->v[i].dir || strncmp(fs->v[i].path, "data/", 5) != 0)
			continue;
		sha256_hex(hex, fs->v[i].data.data, fs->v[i].data.len);
		assert_int_equal(bagit_write_manifest_line(&man, hex, fs->v[i].path), 0);
		octets += fs->v[i].data.len;
		files++;
	}
	put_file(fx, "manifest-sha256.txt", man.data, man.len);
	assert_int_equal(sshkey_fingerprint(&fp, fx->alpha.pk), 0);
	{
		const struct bagit_tag tags[] = {
			{ "Source-Organization", "alpha" },
			{ "Bagging-Date", "2026-11-28" },
			{ "External-Identifier", fx->name },
			{ "Custody-Office-Fingerprint", fp },
			{ "Custody-Recipient", "un-iim" },
		};

		assert_int_equal(bagit_write_info(&info, tags, 5, octets, files), 0);
	}
	free(fp);
	put_file(fx, "bag-info.txt", info.data, info.len);
	for (i = 0; i < 4; i++) {
		struct cbuf b = { 0 };

		get_file(fx, tagfiles[i], &b);
		sha256_hex(hex, b.data, b.len);
		assert_int_equal(bagit_write_manifest_line(&tag, hex, tagfiles[i]), 0);
		cbuf_free(&b);
	}
	for (i = 0; i < fs->n; i++) {
		if (fs->v[i].dir || strncmp(fs->v[i].path, "custody/", 8) != 0)
			continue;
		sha256_hex(hex, fs->v[i].data.data, fs->v[i].data.len);
		assert_int_equal(bagit_write_manifest_line(&tag, hex, fs->v[i].path), 0);
	}
	put_file(fx, "tagmanifest-sha256.txt", tag.data, tag.len);
	assert_int_equal(sshsig_sign(&sig, o->sk, "custody-dossier", "sha512", tag.data,
	    tag.len), 0);
	assert_int_equal(cbuf_printf(&tm, "%s\n", sig), 0);
	put_file(fx, "tagmanifest-sha256.txt.sig", tm.data, tm.len);
	free(sig);
	cbuf_free(&man);
	cbuf_free(&tag);
	cbuf_free(&info);
	cbuf_free(&tm);
	tfiles_free(fs);
	free(fs);
}

/* An office with a fresh key. */
static void
office_new(struct office *o, const char *name)
{
	o->name = name;
	assert_int_equal(crypto_sign_keypair(o->pk, o->sk), 0);
	hex_encode(o->hex, o->pk, sizeof o->pk);
}

/* A record with a token whose first two digits are lead. */
static void
rec_new(struct rec *r, const char *kind, const char *id, int lead, json_t *doc)
{
	uint8_t t[16];

	r->kind = kind;
	r->id = id;
	randombytes_buf(t, sizeof t);
	t[0] = (uint8_t)lead;
	hex_encode(r->token, t, sizeof t);
	randombytes_buf(r->key, sizeof r->key);
	assert_non_null(r->doc = doc);
}

/* offices.json, export.json, allowed_signers and bagit.txt. */
static void
fx_custody(struct fx *fx)
{
	const struct office *os[2] = { &fx->alpha, &fx->bravo };
	struct cbuf as = { 0 };
	json_t *list = json_array();
	char *pub, *fp;
	size_t i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(sshkey_format_pub(&pub, os[i]->pk, NULL), 0);
		assert_int_equal(sshkey_fingerprint(&fp, os[i]->pk), 0);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "key", os[i]->hex,
		    "name", os[i]->name, "public_key", pub, "fingerprint", fp));
		assert_int_equal(cbuf_printf(&as, "%s namespaces=\"custody-dossier,git\" %s\n",
		    os[i]->name, pub), 0);
		free(pub);
		free(fp);
	}
	put_json(fx, "custody/offices.json", json_pack("{s:s,s:o}", "exporter", fx->alpha.hex,
	    "offices", list));
	put_file(fx, "allowed_signers", as.data, as.len);
	cbuf_free(&as);
	put_json(fx, "custody/export.json", json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},"
	    "s:[s,s],s:[{s:s,s:s},{s:s,s:s}]}", "dossier", fx->name, "office", fx->alpha.hex,
	    "office_name", "alpha", "exported_at", WITNESS_TIME, "exported_by", "user@alpha",
	    "recipient", "name", "un-iim", "key", "age1...", "withhold", "source.contact",
	    "victim.notes", "items", "kind", "incident", "id", "inc-1", "kind", "victim", "id",
	    "victim-1"));
	put_file(fx, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", 54);
}

/* Build the whole dossier. */
static int
fx_setup(void **state)
{
	static const char *const v1_withheld[] = { "notes", NULL };
	static const char *const inc_withheld[] = { "description", NULL };
	static const char *const src_withheld[] = { "contact", "notes", NULL };
	struct fx *fx = calloc(1, sizeof *fx);
	uint8_t rnd[16], k1[RECOBJ_KEY_LEN], k2[RECOBJ_KEY_LEN], *ev;
	int tree1_recs[] = { R_INC, R_EV }, tree2_recs[] = { R_INC, R_EV, R_V1, R_V2, R_SRC };
	int treeb_recs[] = { R_WIT };
	char tree1[41], treeb[41], rel[256];
	json_t *plain;
	size_t i;

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	snprintf(fx->root, sizeof fx->root, "/tmp/custody-dossier-XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	randombytes_buf(rnd, sizeof rnd);
	memcpy(fx->name, "dossier-", 8);
	hex_encode(fx->name + 8, rnd, sizeof rnd);
	snprintf(fx->bag, sizeof fx->bag, "%s/%s", fx->root, fx->name);
	assert_int_equal(mkdir(fx->bag, 0755), 0);
	office_new(&fx->alpha, "alpha");
	office_new(&fx->bravo, "bravo");
	office_new(&fx->forger, "forger");
	assert_int_equal(age_keygen(&fx->id), 0);

	/* the evidence */
	assert_non_null(ev = malloc(EVIDENCE_LEN));
	for (i = 0; i < EVIDENCE_LEN; i++)
		ev[i] = (uint8_t)(i * 7 + i / 251);
	sha256_hex(fx->ev_sha, ev, EVIDENCE_LEN);
	snprintf(rel, sizeof rel, "data/evidence/%s/photo.jpg", fx->ev_sha);
	put_file(fx, rel, ev, EVIDENCE_LEN);
	free(ev);

	/* the records, as alpha's and bravo's feeds hold them */
	rec_new(&fx->r[R_INC], "incident", "inc-1", 0x10, json_pack("{s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s}", "kind", "incident", "id", "inc-1", "date", "2024-12-05",
	    "date_precision", "day", "governorate", "aleppo", "title", "market",
	    "description", "shelling at dawn"));
	rec_new(&fx->r[R_EV], "evidence", fx->ev_sha, 0x20, json_pack("{s:s,s:s,s:s,s:i,s:s,"
	    "s:s,s:s}", "kind", "evidence", "id", fx->ev_sha, "sha256", fx->ev_sha, "size",
	    EVIDENCE_LEN, "name", "photo.jpg", "media_type", "image/jpeg", "office", "alpha"));
	rec_new(&fx->r[R_V1], "victim", "victim-1", 0x30, json_pack("{s:s,s:s,s:s,s:i,s:s,"
	    "s:s}", "kind", "victim", "id", "victim-1", "name", "Omar Khalil", "age", 34,
	    "date_documented", "2024-12-06", "notes", "shrapnel wounds"));
	rec_new(&fx->r[R_V2], "victim", "victim-2", 0x40, json_pack("{s:s,s:s,s:s,s:i,s:s}",
	    "kind", "victim", "id", "victim-2", "name", "Other Person", "age", 51,
	    "date_documented", "2024-12-08"));
	rec_new(&fx->r[R_SRC], "source", "src-1", 0x50, json_pack("{s:s,s:s,s:s,s:s,s:s}",
	    "kind", "source", "id", "src-1", "name", "Samira Haddad", "contact", "+963 555 0101",
	    "notes", "lives by the mill"));
	randombytes_buf(k1, sizeof k1);
	randombytes_buf(k2, sizeof k2);
	randombytes_buf(fx->source_name_key, sizeof fx->source_name_key);
	/* the record files hold the plaintext minus withheld fields */
	record_file(fx, &fx->r[R_INC], json_deep_copy(fx->r[R_INC].doc), inc_withheld);
	record_file(fx, &fx->r[R_EV], json_deep_copy(fx->r[R_EV].doc), NULL);
	record_file(fx, &fx->r[R_V1], json_deep_copy(fx->r[R_V1].doc), v1_withheld);
	record_file(fx, &fx->r[R_V2], json_deep_copy(fx->r[R_V2].doc), NULL);
	record_file(fx, &fx->r[R_SRC], json_deep_copy(fx->r[R_SRC].doc), src_withheld);
	seal_field(&fx->r[R_V1], "notes", k1);
	seal_field(&fx->r[R_SRC], "name", fx->source_name_key);
	seal_field(&fx->r[R_SRC], "contact", k2);
	seal_field(&fx->r[R_SRC], "notes", k1);
	for (i = 0; i < R_WIT; i++)
		record_put(fx, &fx->r[i]);
	record_tree(fx, tree1_recs, 2, tree1);
	commit_put(fx, &fx->alpha, tree1, NULL, 1, fx->a1);
	record_tree(fx, tree2_recs, 5, fx->tree2);
	commit_put(fx, &fx->alpha, fx->tree2, fx->a1, 2, fx->a2);
	commit_put(fx, &fx->alpha, fx->tree2, fx->a2, 3, fx->a3);
	rec_new(&fx->r[R_WIT], "witness", "witness:bravo:alpha:3", 0x60, json_pack("{s:s,s:s,"
	    "s:s,s:i,s:s,s:s}", "kind", "witness", "id", "witness:bravo:alpha:3", "feed",
	    fx->alpha.hex, "seq", 3, "head", fx->a3, "time", WITNESS_TIME));
	record_put(fx, &fx->r[R_WIT]);
	record_tree(fx, treeb_recs, 1, treeb);
	commit_put(fx, &fx->bravo, treeb, NULL, 1, fx->b1);

	/* the items */
	item_file(fx, &fx->r[R_INC], proof(fx, &fx->r[R_INC], &fx->alpha, fx->a1, 1, 0),
	    json_pack("[s]", fx->a1), json_array(), inc_withheld);
	item_file(fx, &fx->r[R_EV], proof(fx, &fx->r[R_EV], &fx->alpha, fx->a1, 1, 1),
	    json_pack("[s]", fx->a1), json_array(), NULL);
	item_file(fx, &fx->r[R_V1], proof(fx, &fx->r[R_V1], &fx->alpha, fx->a2, 2, 1),
	    json_pack("[s,s]", fx->a3, fx->a2), json_pack("[{s:s,s:i,s:s,s:s,s:o}]", "office",
	    fx->bravo.hex, "seq", 3, "commit", fx->a3, "time", WITNESS_TIME, "proof",
	    proof(fx, &fx->r[R_WIT], &fx->bravo, fx->b1, 1, 1)), v1_withheld);
	item_file(fx, &fx->r[R_V2], proof(fx, &fx->r[R_V2], &fx->alpha, fx->a2, 2, 1),
	    json_pack("[s]", fx->a2), json_array(), NULL);
	plain = proof(fx, &fx->r[R_SRC], &fx->alpha, fx->a2, 2, 1);
	json_object_set_new(plain, "field_keys", json_pack("{s:o}", "name",
	    b64(fx->source_name_key, RECOBJ_KEY_LEN)));
	item_file(fx, &fx->r[R_SRC], plain, json_pack("[s]", fx->a2), json_array(),
	    src_withheld);
	/* the witnessed event in victim-1's chain of custody */
	plain = get_json(fx, "custody/items/victim/victim-1.json");
	json_array_append_new(json_object_get(plain, "custody"), json_pack("{s:s,s:s,s:i,s:s}",
	    "event", "witnessed", "office", fx->bravo.hex, "seq", 3, "time", WITNESS_TIME));
	put_json(fx, "custody/items/victim/victim-1.json", plain);

	fx_custody(fx);
	reseal(fx, &fx->alpha);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	*state = fx;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;
	size_t i;

	/* KEEP=1 keeps the dossier for a look (as the end-to-end tests do) */
	if (getenv("KEEP") != NULL)
		fprintf(stderr, "kept %s\n", fx->root);
	else
		assert_int_equal(run("rm -rf '%s'", fx->root), 0);
	for (i = 0; i < NREC; i++)
		json_decref(fx->r[i].doc);
	free(fx);
	return 0;
}

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
