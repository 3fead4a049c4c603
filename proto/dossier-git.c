/*
 * Raw git objects as a dossier carries them (custody/objects/OID.TYPE, the body without git's
 * header): each hashed to its name, trees followed entry by entry, commits taken apart and
 * their SSHSIG checked. A malformed object is a reason, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/gitobj.h"
#include "custody/trailers.h"
#include "dossier-int.h"

#define GIT_MODE_TREE	0040000
#define GIT_MODE_BLOB	0100644
#define GIT_RAW_OID	20
#define GIT_TIME_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */

/* One entry of a tree object. */
struct tentry {
	uint32_t	 mode;
	const uint8_t	*name;
	size_t		 namelen;
	const uint8_t	*oid;		/* GIT_RAW_OID bytes */
};

/* SHA-1 of "TYPE SIZE\0" and the body, as git names objects. */
static int
git_hash(char hex[static DOSSIER_OID_HEX + 1], const char *type, const uint8_t *p, size_t n)
{
	uint8_t md[GIT_RAW_OID];
	char hdr[64];
	unsigned int len;
	EVP_MD_CTX *ctx;
	int hlen, ok;

	hlen = snprintf(hdr, sizeof hdr, "%s %zu", type, n);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return CUSTODY_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, hdr, (size_t)hlen + 1) == 1 &&
	    EVP_DigestUpdate(ctx, p, n) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == GIT_RAW_OID;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return custody_fail(CUSTODY_ERR, "SHA-1 failed");
	hex_encode(hex, md, GIT_RAW_OID);
	return 0;
}

/* The object custody/objects/OID.TYPE, hashing to its name. */
int
dossier_git_object(struct dcheck *c, const struct dfile **out, const char *oid,
    const char *type, char *why, size_t whylen)
{
	char path[96], hex[DOSSIER_OID_HEX + 1];
	struct dfile *f;
	int error;

	*out = NULL;
	if (!hex_is_lower(oid, DOSSIER_OID_HEX)) {
		snprintf(why, whylen, "\"%.80s\" is not a git object id", oid);
		return CUSTODY_EINVAL;
	}
	snprintf(path, sizeof path, "custody/objects/%s.%s", oid, type);
	if ((f = dossier_set_file(c->set, path)) == NULL || !f->kept) {
		snprintf(why, whylen, "%s %s is not in the dossier (%s)", type, oid, path);
		return CUSTODY_EINVAL;
	}
	if (f->git == 0) {
		if ((error = git_hash(hex, type, dossier_bytes(f), f->data.len)) < 0)
			return error;
		f->git = strcmp(hex, oid) == 0 ? 1 : -1;
	}
	if (f->git < 0) {
		snprintf(why, whylen, "%s does not hash to its name", path);
		return CUSTODY_EINVAL;
	}
	*out = f;
	return 0;
}

/* The entry of a tree at *pos; CUSTODY_EINVAL when malformed. */
static int
tree_next(const uint8_t *p, size_t n, size_t *pos, struct tentry *e)
{
	size_t i = *pos, start;
	int digits = 0;

	e->mode = 0;
	if (i < n && p[i] == '0')
		return CUSTODY_EINVAL;	/* git writes no leading zero */
	for (; i < n && p[i] != ' '; i++) {
		if (p[i] < '0' || p[i] > '7' || ++digits > 6)
			return CUSTODY_EINVAL;
		e->mode = e->mode << 3 | (uint32_t)(p[i] - '0');
	}
	if (i >= n || digits == 0)
		return CUSTODY_EINVAL;
	start = ++i;
	while (i < n && p[i] != '\0')
		i++;
	if (i >= n || i == start)
		return CUSTODY_EINVAL;
	e->name = p + start;
	e->namelen = i - start;
	if (memchr(e->name, '/', e->namelen) != NULL || (e->namelen == 1 && e->name[0] == '.') ||
	    (e->namelen == 2 && e->name[0] == '.' && e->name[1] == '.'))
		return CUSTODY_EINVAL;
	i++;
	if (n - i < GIT_RAW_OID)
		return CUSTODY_EINVAL;
	e->oid = p + i;
	*pos = i + GIT_RAW_OID;
	return 0;
}

/* Git's order of tree entries (a tree's name compares as if it ended in '/'). */
static int
tree_order(const struct tentry *a, const struct tentry *b)
{
	size_t len = a->namelen < b->namelen ? a->namelen : b->namelen;
	int c1, c2, c;

	if ((c = memcmp(a->name, b->name, len)) != 0)
		return c;
	c1 = len < a->namelen ? a->name[len] : a->mode == GIT_MODE_TREE ? '/' : '\0';
	c2 = len < b->namelen ? b->name[len] : b->mode == GIT_MODE_TREE ? '/' : '\0';
	return c1 - c2;
}

/* Find name in the tree object f: every entry well-formed and in order, name there once. */
static int
tree_find(struct tentry *out, const struct dfile *f, const char *oid, const char *name,
    char *why, size_t whylen)
{
	const uint8_t *p = dossier_bytes(f);
	struct tentry e, prev = { 0 };
	size_t pos = 0, count = 0, len = strlen(name), k = 0;

	while (pos < f->data.len) {
		k++;
		if (tree_next(p, f->data.len, &pos, &e) < 0) {
			snprintf(why, whylen, "tree %s is malformed (entry %zu)", oid, k);
			return CUSTODY_EINVAL;
		}
		if (k > 1 && tree_order(&prev, &e) >= 0) {
			snprintf(why, whylen, "tree %s is malformed (entry %zu out of order)", oid,
			    k);
			return CUSTODY_EINVAL;
		}
		if (e.namelen == len && memcmp(e.name, name, len) == 0) {
			*out = e;
			count++;
		}
		prev = e;
	}
	if (count == 0) {
		snprintf(why, whylen, "tree %s has no entry %.80s", oid, name);
		return CUSTODY_EINVAL;
	}
	if (count > 1) {
		snprintf(why, whylen, "tree %s has two entries %.80s", oid, name);
		return CUSTODY_EINVAL;
	}
	return 0;
}

/* Follow path from tree through tree objects to a blob entry. */
int
dossier_git_path(struct dcheck *c, char blob[static DOSSIER_OID_HEX + 1], const char *tree,
    const char *path, char *why, size_t whylen)
{
	char cur[DOSSIER_OID_HEX + 1], comp[256];
	const struct dfile *f;
	const char *p = path, *slash;
	struct tentry e;
	size_t len;
	int error, last;

	snprintf(cur, sizeof cur, "%s", tree);
	for (;;) {
		slash = strchr(p, '/');
		last = slash == NULL;
		len = last ? strlen(p) : (size_t)(slash - p);
		if (len == 0 || len >= sizeof comp) {
			snprintf(why, whylen, "path %.120s is malformed", path);
			return CUSTODY_EINVAL;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if ((error = dossier_git_object(c, &f, cur, "tree", why, whylen)) < 0 ||
		    (error = tree_find(&e, f, cur, comp, why, whylen)) < 0)
			return error;
		if (last && e.mode != GIT_MODE_BLOB) {
			snprintf(why, whylen, "%.120s is not a file in the commit's tree", path);
			return CUSTODY_EINVAL;
		}
		if (!last && e.mode != GIT_MODE_TREE) {
			snprintf(why, whylen, "%.*s is not a directory in the commit's tree",
			    (int)(slash - path), path);
			return CUSTODY_EINVAL;
		}
		hex_encode(last ? blob : cur, e.oid, GIT_RAW_OID);
		if (last)
			return 0;
		p = slash + 1;
	}
}

/* Parse decimal digits (no sign, no leading zero) into *out; -1 when not that. */
static int
git_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "committer NAME <EMAIL> EPOCH TZ": the epoch. */
static int
commit_time(struct dcommit *cm, const char *line, size_t len)
{
	const char *gt = NULL, *p, *sp, *end = line + len;
	uint64_t t;

	for (p = line; p < end; p++)
		if (*p == '>')
			gt = p;
	if (gt == NULL || end - gt < 4 || gt[1] != ' ')
		return -1;
	p = gt + 2;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    git_decimal(p, (size_t)(sp - p), &t) < 0 || t > GIT_TIME_MAX)
		return -1;
	sp++;
	if (end - sp != 5 || (sp[0] != '+' && sp[0] != '-') || strspn(sp + 1, "0123456789") < 4)
		return -1;
	cm->time = (int64_t)t;
	return 0;
}

/* The Custody-Seq and Custody-Office trailers of the message (proto/trailers.c). */
static int
commit_trailers(struct dcommit *cm, const char *msg, size_t len, char *why, size_t whylen)
{
	struct trailers t;
	int error;

	if ((error = trailers_parse(&t, msg, len)) < 0) {
		snprintf(why, whylen, "%s", custody_error());
		return error;
	}
	cm->seq = t.seq;
	memcpy(cm->office, t.office, sizeof cm->office);
	return 0;
}

/* The headers (tree, at most one parent, committer) and trailers of what the commit signs. */
static int
commit_fields(struct dcommit *cm, const char *p, size_t n, char *why, size_t whylen)
{
	const char *end = p + n, *nl;
	int line = 0, parents = 0, committer = 0;

	for (; p < end && *p != '\n'; p = nl + 1, line++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (line == 0) {
			if (nl - p != 5 + DOSSIER_OID_HEX || memcmp(p, "tree ", 5) != 0 ||
			    strspn(p + 5, "0123456789abcdef") < DOSSIER_OID_HEX) {
				snprintf(why, whylen, "the first header is not \"tree OID\"");
				return CUSTODY_EINVAL;
			}
			memcpy(cm->tree, p + 5, DOSSIER_OID_HEX);
		} else if ((size_t)(nl - p) >= 7 && memcmp(p, "parent ", 7) == 0) {
			if (parents++ || line != 1 || nl - p != 7 + DOSSIER_OID_HEX ||
			    strspn(p + 7, "0123456789abcdef") < DOSSIER_OID_HEX) {
				snprintf(why, whylen, "%s", parents > 1 ? "more than one parent" :
				    "a malformed parent header");
				return CUSTODY_EINVAL;
			}
			memcpy(cm->parent, p + 7, DOSSIER_OID_HEX);
		} else if ((size_t)(nl - p) >= 10 && memcmp(p, "committer ", 10) == 0) {
			if (committer++ || commit_time(cm, p, (size_t)(nl - p)) < 0) {
				snprintf(why, whylen, "%s", committer > 1 ?
				    "two committer headers" : "a malformed committer header");
				return CUSTODY_EINVAL;
			}
		}
	}
	if (line == 0 || p >= end || *p != '\n') {
		snprintf(why, whylen, "its headers do not end");
		return CUSTODY_EINVAL;
	}
	if (!committer) {
		snprintf(why, whylen, "no committer header");
		return CUSTODY_EINVAL;
	}
	p++;
	return commit_trailers(cm, p, (size_t)(end - p), why, whylen);
}

/* Take a commit object apart: *out always gets a commit, with why when it does not hold. */
static int
commit_parse(struct dcommit **out, const struct dfile *f, const char *oid)
{
	struct cbuf data = { 0 }, sig = { 0 };
	struct dcommit *cm;
	char why[DOSSIER_WHY_LEN] = "", inner[256];
	int error;

	*out = NULL;
	if ((cm = calloc(1, sizeof *cm)) == NULL)
		return CUSTODY_ENOMEM;
	error = gitobj_commit_signature(&data, &sig, dossier_bytes(f), f->data.len);
	if (error == CUSTODY_ENOTFOUND)
		snprintf(why, sizeof why, "commit %s is not signed", oid);
	else if (error == CUSTODY_EINVAL)
		snprintf(why, sizeof why, "commit %s is malformed: %s", oid, custody_error());
	else if (error < 0)
		goto done;
	else if (sshsig_verify(cm->signer, (const char *)sig.data, sig.len, "git", data.data,
	    data.len) < 0)
		snprintf(why, sizeof why, "commit %s: its signature does not verify (%s)", oid,
		    custody_error());
	else if (commit_fields(cm, (const char *)data.data, data.len, inner, sizeof inner) < 0)
		snprintf(why, sizeof why, "commit %s is malformed: %s", oid, inner);
	error = 0;
	if (why[0] != '\0' && (cm->why = strdup(why)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	cbuf_free(&data);
	cbuf_free(&sig);
	if (error < 0) {
		dossier_git_commit_free(cm);
		return error;
	}
	*out = cm;
	return 0;
}

/* The commit oid, parsed once and kept with its file. */
int
dossier_git_commit(struct dcheck *c, const struct dcommit **out, const char *oid, char *why,
    size_t whylen)
{
	const struct dfile *cf;
	struct dfile *f;
	int error;

	*out = NULL;
	if ((error = dossier_git_object(c, &cf, oid, "commit", why, whylen)) < 0)
		return error;
	f = (struct dfile *)cf;
	if (f->commit == NULL && (error = commit_parse(&f->commit, f, oid)) < 0)
		return error;
	if (f->commit->why != NULL) {
		snprintf(why, whylen, "%s", f->commit->why);
		return CUSTODY_EINVAL;
	}
	*out = f->commit;
	return 0;
}

/* Every object in custody/objects/ must hash to its name. */
int
dossier_git_objects(struct dcheck *c)
{
	const struct dfile *f, *g;
	char oid[DOSSIER_OID_HEX + 1], why[DOSSIER_WHY_LEN];
	const char *type;
	size_t i;
	int error;

	for (i = 0; i < c->set->n; i++) {
		f = &c->set->f[i];
		if (f->dir || strncmp(f->path, "custody/objects/", 16) != 0 ||
		    strlen(f->path) < 16 + DOSSIER_OID_HEX + 2 ||
		    f->path[16 + DOSSIER_OID_HEX] != '.')
			continue;
		memcpy(oid, f->path + 16, DOSSIER_OID_HEX);
		oid[DOSSIER_OID_HEX] = '\0';
		if (!hex_is_lower(oid, DOSSIER_OID_HEX))
			continue;
		type = f->path + 16 + DOSSIER_OID_HEX + 1;
		if (strcmp(type, "commit") != 0 && strcmp(type, "tree") != 0 &&
		    strcmp(type, "blob") != 0)
			continue;	/* the layout check said so */
		error = dossier_git_object(c, &g, oid, type, why, sizeof why);
		if (error == CUSTODY_EINVAL)
			error = dossier_problem(c, f->path, "%s", why);
		if (error < 0)
			return error;
	}
	return 0;
}

/* Free a parsed commit; NULL is fine. */
void
dossier_git_commit_free(struct dcommit *cm)
{
	if (cm == NULL)
		return;
	free(cm->why);
	free(cm);
}
