/*
 * A small but real dossier for test_dossier.c and test_dossier_tamper.c: two offices' signed
 * feeds of raw git objects, sealed record objects, the bag and the exporter's signature, built
 * in a temporary directory by fx_setup; helpers to read, change and re-sign its files.
 */
#ifndef CUSTODY_DOSSIER_FIXTURE_H
#define CUSTODY_DOSSIER_FIXTURE_H

#include "run.h"

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

#endif
