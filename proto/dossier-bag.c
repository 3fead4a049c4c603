/*
 * Checks 1 and 2 of a dossier over its files in memory: the bag complete and valid (RFC 8493)
 * with the bagit.h parsers, every tag file covered by the signed tag manifest, and every file
 * standing where DOSSIER.md puts one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/ids.h"
#include "dossier-int.h"

#define BAG_MANIFEST	"manifest-sha256.txt"
#define BAG_TAGMANIFEST	"tagmanifest-sha256.txt"
#define BAG_SIGNATURE	"tagmanifest-sha256.txt.sig"

static const char *const bag_top_files[] = { "bagit.txt", "bag-info.txt", BAG_MANIFEST,
    BAG_TAGMANIFEST, BAG_SIGNATURE, "allowed_signers", NULL };
static const char *const bag_kinds[] = { "evidence", "incident", "person", "person_event",
    "site", "source", "victim", NULL };

/* The bytes of a kept file. */
const uint8_t *
dossier_bytes(const struct dfile *f)
{
	return f->data.data != NULL ? f->data.data : (const uint8_t *)"";
}

/* True for a record kind a dossier carries. */
int
dossier_kind_ok(const char *s)
{
	const char *const *k;

	for (k = bag_kinds; *k != NULL; k++)
		if (strcmp(s, *k) == 0)
			return 1;
	return 0;
}

/* Split "KIND/ID.json". */
int
dossier_kind_id(const char *rest, char kind[static 16], char id[static 129])
{
	const char *slash = strchr(rest, '/');
	size_t klen, ilen;

	if (slash == NULL || (klen = (size_t)(slash - rest)) >= 16)
		return CUSTODY_EINVAL;
	memcpy(kind, rest, klen);
	kind[klen] = '\0';
	ilen = strlen(slash + 1);
	if (ilen <= 5 || ilen - 5 > 128 || strcmp(slash + 1 + ilen - 5, ".json") != 0)
		return CUSTODY_EINVAL;
	memcpy(id, slash + 1, ilen - 5);
	id[ilen - 5] = '\0';
	return dossier_kind_ok(kind) && ids_record_ok(id, strlen(id)) ? 0 : CUSTODY_EINVAL;
}

/* True when s is exactly n lower-case hex digits followed by end. */
static int
bag_hex(const char *s, size_t n, char end)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == end;
}

/* Why a file may not stand at path in a dossier, or NULL. */
static const char *
bag_layout(const char *path)
{
	const char *const *t, *name, *p;
	char kind[16], id[129];

	for (t = bag_top_files; *t != NULL; t++)
		if (strcmp(path, *t) == 0)
			return NULL;
	if (strncmp(path, "data/evidence/", 14) == 0) {
		if (!bag_hex(path + 14, SHA256_HEX_LEN, '/'))
			return "not data/evidence/SHA256/NAME";
		name = path + 14 + SHA256_HEX_LEN + 1;
		if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL)
			return "not data/evidence/SHA256/NAME (NAME one component, no leading .)";
		for (p = name; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return "evidence file name has a control character";
		return NULL;
	}
	if (strncmp(path, "data/records/", 13) == 0)
		return dossier_kind_id(path + 13, kind, id) < 0 ?
		    "not data/records/KIND/ID.json" : NULL;
	if (strcmp(path, "custody/export.json") == 0 || strcmp(path, "custody/offices.json") == 0)
		return NULL;
	if (strncmp(path, "custody/items/", 14) == 0)
		return dossier_kind_id(path + 14, kind, id) < 0 ?
		    "not custody/items/KIND/ID.json" : NULL;
	if (strncmp(path, "custody/objects/", 16) == 0) {
		p = path + 16;
		if (!bag_hex(p, DOSSIER_OID_HEX, '.') || (strcmp(p + 41, "commit") != 0 &&
		    strcmp(p + 41, "tree") != 0 && strcmp(p + 41, "blob") != 0))
			return "not custody/objects/OID.TYPE";
		return NULL;
	}
	return "not a file a dossier has";
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct bagit_manifest_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->path, y->path)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
entry_path_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const struct bagit_manifest_entry *)e)->path);
}

/* The entry of m for path, or NULL (m sorted). */
static const struct bagit_manifest_entry *
bag_entry(const struct bagit_manifest *m, const char *path)
{
	if (m->n == 0)
		return NULL;
	return bsearch(path, m->e, m->n, sizeof *m->e, entry_path_cmp);
}

/* The manifest's digest of a payload path, or NULL. */
const char *
dossier_bag_listed(const struct dcheck *c, const char *path)
{
	const struct bagit_manifest_entry *e;

	if (!c->have_man || (e = bag_entry(&c->man, path)) == NULL)
		return NULL;
	return e->digest;
}

/* Sort m and report a path listed twice. */
static int
bag_sort(struct bagit_report *bag, struct bagit_manifest *m)
{
	size_t i;
	int error;

	if (m->n > 1)
		qsort(m->e, m->n, sizeof *m->e, entry_cmp);
	for (i = 1; i < m->n; i++)
		if (strcmp(m->e[i - 1].path, m->e[i].path) == 0 &&
		    (error = bagit_report_add(bag, 0, m->name, m->e[i].line,
		    "%s listed more than once", m->e[i].path)) < 0)
			return error;
	return 0;
}

/* bagit.txt: BagIt 1.0, UTF-8. */
static int
bag_declaration(struct dcheck *c)
{
	struct bagit_report *bag = c->res->bag;
	const struct dfile *f;
	struct bagit_decl decl;
	int error;

	if ((f = dossier_set_file(c->set, "bagit.txt")) == NULL)
		return bagit_report_add(bag, 0, "bagit.txt", 0, "missing: not a bag");
	error = bagit_parse_declaration(&decl, bag, dossier_bytes(f), f->data.len);
	if (error == CUSTODY_EINVAL)
		return 0;	/* the parser said why */
	if (error < 0)
		return error;
	bag->major = decl.major;
	bag->minor = decl.minor;
	if ((decl.major != 1 || decl.minor != 0) && (error = bagit_report_add(bag, 0,
	    "bagit.txt", 1, "BagIt-Version is %d.%d: a dossier is a BagIt 1.0 bag", decl.major,
	    decl.minor)) < 0)
		return error;
	/* a declared encoding other than UTF-8 is a problem the parser reported */
	return 0;
}

/* manifest-sha256.txt against the payload: every file listed, every listed file right. */
static int
bag_payload(struct dcheck *c)
{
	struct bagit_report *bag = c->res->bag;
	const struct bagit_manifest_entry *e;
	const struct dfile *f;
	uint8_t *listed = NULL;
	size_t i;
	int error;

	if ((f = dossier_set_file(c->set, BAG_MANIFEST)) == NULL)
		return bagit_report_add(bag, 0, "", 0, "no payload manifest (" BAG_MANIFEST ")");
	if ((error = bagit_manifest_init(&c->man, BAG_MANIFEST, 1)) < 0)
		return error;
	c->have_man = 1;
	if ((error = bagit_manifest_parse(&c->man, bag, dossier_bytes(f), f->data.len)) < 0 ||
	    (error = bag_sort(bag, &c->man)) < 0)
		return error;
	if ((listed = calloc(c->set->n ? c->set->n : 1, 1)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < c->man.n; i++) {
		e = &c->man.e[i];
		if ((f = dossier_set_file(c->set, e->path)) == NULL) {
			if ((error = bagit_report_add(bag, 0, BAG_MANIFEST, e->line,
			    "%s is missing", e->path)) < 0)
				goto done;
			continue;
		}
		listed[f - c->set->f] = 1;
		if (strcmp(e->digest, f->sha256) != 0 && (error = bagit_report_add(bag, 0,
		    f->path, 0, "sha256 checksum mismatch (" BAG_MANIFEST " lists %s, file has "
		    "%s)", e->digest, f->sha256)) < 0)
			goto done;
	}
	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (f->dir || strncmp(f->path, "data/", 5) != 0 || listed[i])
			continue;
		if ((error = bagit_report_add(bag, 0, f->path, 0,
		    "payload file not listed in " BAG_MANIFEST)) < 0)
			goto done;
	}
	error = 0;
done:
	free(listed);
	return error;
}

/* tagmanifest-sha256.txt: its lines right, and (check 2) every tag file in it. */
static int
bag_tags(struct dcheck *c)
{
	struct bagit_report *bag = c->res->bag;
	struct bagit_manifest tm;
	const struct bagit_manifest_entry *e;
	const struct dfile *f;
	size_t i;
	int error;

	if ((f = dossier_set_file(c->set, BAG_TAGMANIFEST)) == NULL)
		return bagit_report_add(bag, 0, "", 0, "no tag manifest (" BAG_TAGMANIFEST
		    "): nothing is signed");
	if ((error = bagit_manifest_init(&tm, BAG_TAGMANIFEST, 1)) < 0)
		return error;
	if ((error = bagit_manifest_parse(&tm, bag, dossier_bytes(f), f->data.len)) < 0 ||
	    (error = bag_sort(bag, &tm)) < 0)
		goto done;
	for (i = 0; i < tm.n; i++) {
		e = &tm.e[i];
		if ((f = dossier_set_file(c->set, e->path)) == NULL) {
			if ((error = bagit_report_add(bag, 0, BAG_TAGMANIFEST, e->line,
			    "%s is missing", e->path)) < 0)
				goto done;
			continue;
		}
		if (strcmp(e->digest, f->sha256) != 0 && (error = bagit_report_add(bag, 0,
		    f->path, 0, "sha256 checksum mismatch (" BAG_TAGMANIFEST " lists %s, file "
		    "has %s)", e->digest, f->sha256)) < 0)
			goto done;
	}
	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (f->dir || strncmp(f->path, "data/", 5) == 0 ||
		    strcmp(f->path, BAG_TAGMANIFEST) == 0 || strcmp(f->path, BAG_SIGNATURE) == 0)
			continue;
		if (bag_entry(&tm, f->path) == NULL && (error = bagit_report_add(bag, 0, f->path,
		    0, "not listed in " BAG_TAGMANIFEST ": the signature does not cover it")) < 0)
			goto done;
	}
	error = 0;
done:
	bagit_manifest_free(&tm);
	return error;
}

/* bag-info.txt: parsed for later, Payload-Oxum checked against the payload. */
static int
bag_info(struct dcheck *c)
{
	struct bagit_report *bag = c->res->bag;
	const struct dfile *f;
	uint64_t octets, files;
	int error, found;

	c->info.v1 = 1;
	if ((f = dossier_set_file(c->set, "bag-info.txt")) == NULL)
		return bagit_report_add(bag, 0, "bag-info.txt", 0, "missing");
	if ((error = bagit_info_parse(&c->info, bag, dossier_bytes(f), f->data.len)) < 0 ||
	    (error = bagit_info_oxum(&c->info, bag, &found, &octets, &files)) < 0)
		return error;
	if (!found)
		return bagit_report_add(bag, 0, "bag-info.txt", 0, "no Payload-Oxum");
	if (octets != c->res->payload_octets || files != c->res->payload_files)
		return bagit_report_add(bag, 0, "bag-info.txt", 0, "Payload-Oxum %llu.%llu but "
		    "the payload has %llu.%llu", (unsigned long long)octets,
		    (unsigned long long)files, (unsigned long long)c->res->payload_octets,
		    (unsigned long long)c->res->payload_files);
	return 0;
}

/* Checks 1 and 2, and every file where a dossier has one. */
int
dossier_bag_check(struct dcheck *c)
{
	const struct dfile *f, *data;
	const char *why;
	size_t i;
	int error;

	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (f->dir || strncmp(f->path, "data/", 5) != 0)
			continue;
		c->res->payload_files++;
		c->res->payload_octets += f->size;
	}
	data = dossier_set_find(c->set, "data");
	if ((data == NULL || !data->dir) && c->res->payload_files == 0 &&
	    (error = bagit_report_add(c->res->bag, 0, "data", 0,
	    "payload directory missing")) < 0)
		return error;
	if ((error = bag_declaration(c)) < 0 || (error = bag_payload(c)) < 0 ||
	    (error = bag_tags(c)) < 0 || (error = bag_info(c)) < 0)
		return error;
	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (!f->dir && (why = bag_layout(f->path)) != NULL &&
		    (error = dossier_problem(c, f->path, "%s", why)) < 0)
			return error;
	}
	return 0;
}
