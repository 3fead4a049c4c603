/*
 * The offline dossier verifier (DOSSIER.md, "Verification"): runs checks 1-8 over a dossier's
 * files, whichever front end gathered them, and decides. Here: the offices, allowed_signers,
 * the exporter's signature over the tag manifest (check 3), export.json and bag-info.txt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "custody/ids.h"
#include "dossier-int.h"

#define VERIFY_TAGMANIFEST	"tagmanifest-sha256.txt"
#define VERIFY_SIGNATURE	"tagmanifest-sha256.txt.sig"
#define VERIFY_OFFICES		"custody/offices.json"
#define VERIFY_EXPORT		"custody/export.json"

/* An empty result. */
int
dossier_result_new(struct dossier_result **out)
{
	struct dossier_result *r;

	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return CUSTODY_ENOMEM;
	if (bagit_report_new(&r->bag) < 0 || bagit_report_new(&r->problems) < 0) {
		dossier_result_free(r);
		return CUSTODY_ENOMEM;
	}
	*out = r;
	return 0;
}

/* Free a result; NULL is fine. */
void
dossier_result_free(struct dossier_result *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nitems; i++) {
		free(r->items[i].kind);
		free(r->items[i].id);
		for (j = 0; j < r->items[i].nreasons; j++)
			free(r->items[i].reasons[j]);
		free(r->items[i].reasons);
		free(r->items[i].summary);
	}
	free(r->items);
	bagit_report_free(r->bag);
	bagit_report_free(r->problems);
	free(r->fatal);
	free(r->name);
	free(r->sig_why);
	free(r->exporter);
	free(r->fingerprint);
	free(r->signed_with);
	free(r->expected);
	free(r);
}

/* The word for a verdict. */
const char *
dossier_verdict_name(int verdict)
{
	switch (verdict) {
	case DOSSIER_PROVEN:	return "proven";
	case DOSSIER_ATTESTED:	return "attested";
	default:		return "FAILED";
	}
}

/* Why nothing could be checked. */
int
dossier_fatal(struct dossier_result *res, int code, const char *fmt, ...)
{
	va_list ap;

	if (res->fatal == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&res->fatal, fmt, ap) < 0)
			res->fatal = NULL;
		va_end(ap);
		if (res->fatal == NULL)
			return CUSTODY_ENOMEM;
	}
	return code;
}

/* Add one reason. */
int
dossier_reason(struct dreasons *rs, const char *fmt, ...)
{
	va_list ap;
	char **v, *s;
	int len;

	if (rs->n == rs->cap) {
		if ((v = reallocarray(rs->v, rs->cap ? rs->cap * 2 : 4, sizeof *v)) == NULL)
			return CUSTODY_ENOMEM;
		rs->v = v;
		rs->cap = rs->cap ? rs->cap * 2 : 4;
	}
	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return CUSTODY_ENOMEM;
	rs->v[rs->n++] = s;
	return 0;
}

/* Free reasons. */
void
dossier_reasons_free(struct dreasons *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

/* A finding about the dossier. */
int
dossier_problem(struct dcheck *c, const char *file, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int len, error;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return CUSTODY_ENOMEM;
	error = bagit_report_add(c->res->problems, 0, file, 0, "%s", s);
	free(s);
	return error;
}

static int
office_cmp(const void *a, const void *b)
{
	return strcmp(((const struct doffice *)a)->hex, ((const struct doffice *)b)->hex);
}

/* The office whose key is hex, or NULL (the offices sorted). */
const struct doffice *
dossier_office(const struct dcheck *c, const char *hex)
{
	struct doffice key;

	if (hex == NULL || c->noffices == 0 || strlen(hex) != DOSSIER_OFFICE_HEX)
		return NULL;
	memcpy(key.hex, hex, sizeof key.hex);
	return bsearch(&key, c->offices, c->noffices, sizeof key, office_cmp);
}

/* A kept file as a JSON object. */
json_t *
dossier_json_file(const struct dfile *f, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *o;

	if (!f->kept) {
		snprintf(why, whylen, "not kept in memory");
		return NULL;
	}
	if ((o = json_loadb((const char *)dossier_bytes(f), f->data.len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, whylen, "not JSON (line %d: %s)", jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(why, whylen, "not a JSON object");
		return NULL;
	}
	return o;
}

/* A string member of o, or NULL. */
static const char *
verify_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* One entry of offices.json. */
static int
verify_office(struct dcheck *c, const json_t *e, size_t i)
{
	const char *key = verify_str(e, "key"), *name = verify_str(e, "name");
	const char *pub = verify_str(e, "public_key"), *fp = verify_str(e, "fingerprint");
	uint8_t pk[ED25519_PK_LEN];
	struct doffice *o;
	char *mine = NULL;
	int error;

	if (key == NULL || !hex_is_lower(key, DOSSIER_OFFICE_HEX))
		return dossier_problem(c, VERIFY_OFFICES, "offices[%zu]: key is not 64 hex "
		    "digits", i);
	if (name == NULL || *name == '\0')
		return dossier_problem(c, VERIFY_OFFICES, "offices[%zu]: no name", i);
	hex_decode(pk, sizeof pk, key);
	if ((error = sshkey_fingerprint(&mine, pk)) < 0)
		return error;
	if (fp == NULL || strcmp(fp, mine) != 0)
		error = dossier_problem(c, VERIFY_OFFICES, "offices[%zu] (%.80s): fingerprint "
		    "is not its key's %s", i, name, mine);
	free(mine);
	if (error < 0)
		return error;
	if (pub == NULL || strncmp(pub, "ssh-ed25519 ", 12) != 0) {
		if ((error = dossier_problem(c, VERIFY_OFFICES, "offices[%zu] (%.80s): no "
		    "ssh-ed25519 public_key", i, name)) < 0)
			return error;
	} else {
		uint8_t other[ED25519_PK_LEN];

		if ((sshkey_parse_pub(other, NULL, pub) < 0 || memcmp(other, pk, sizeof pk) != 0) &&
		    (error = dossier_problem(c, VERIFY_OFFICES, "offices[%zu] (%.80s): "
		    "public_key is not its key", i, name)) < 0)
			return error;
	}
	o = &c->offices[c->noffices];
	memcpy(o->pk, pk, sizeof pk);
	memcpy(o->hex, key, sizeof o->hex);
	if ((o->name = strdup(name)) == NULL)
		return CUSTODY_ENOMEM;
	o->handovers = json_incref(json_object_get(e, "handovers"));
	c->noffices++;
	return 0;
}

static int
office_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct doffice *const *)a)->name,
	    (*(const struct doffice *const *)b)->name);
}

/* Sort the offices by key; no key and no name twice. */
static int
verify_offices_unique(struct dcheck *c)
{
	const struct doffice **byname;
	size_t i;
	int error = 0;

	if (c->noffices > 1)
		qsort(c->offices, c->noffices, sizeof *c->offices, office_cmp);
	if ((byname = calloc(c->noffices + 1, sizeof *byname)) == NULL)
		return CUSTODY_ENOMEM;
	for (i = 0; i < c->noffices; i++)
		byname[i] = &c->offices[i];
	if (c->noffices > 1)
		qsort(byname, c->noffices, sizeof *byname, office_name_cmp);
	for (i = 1; i < c->noffices && error == 0; i++) {
		if (strcmp(c->offices[i - 1].hex, c->offices[i].hex) == 0)
			error = dossier_problem(c, VERIFY_OFFICES, "%s is listed twice",
			    c->offices[i].hex);
		else if (strcmp(byname[i - 1]->name, byname[i]->name) == 0)
			error = dossier_problem(c, VERIFY_OFFICES, "two offices are called %.80s",
			    byname[i]->name);
	}
	free(byname);
	return error;
}

/* custody/offices.json: the offices and the exporter. */
static int
verify_offices(struct dcheck *c)
{
	const struct dfile *f = dossier_set_file(c->set, VERIFY_OFFICES);
	const json_t *list, *e;
	char why[DOSSIER_WHY_LEN];
	json_t *o;
	size_t i;
	int error = 0;

	if (f == NULL)
		return dossier_problem(c, VERIFY_OFFICES, "missing");
	if ((o = dossier_json_file(f, why, sizeof why)) == NULL)
		return dossier_problem(c, VERIFY_OFFICES, "%s", why);
	if (!json_is_array(list = json_object_get(o, "offices"))) {
		error = dossier_problem(c, VERIFY_OFFICES, "offices is not a list");
		goto done;
	}
	if ((c->offices = calloc(json_array_size(list) + 1, sizeof *c->offices)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	json_array_foreach(list, i, e)
		if ((error = verify_office(c, e, i)) < 0)
			goto done;
	if ((error = verify_offices_unique(c)) < 0)
		goto done;
	if ((c->exporter = dossier_office(c, verify_str(o, "exporter"))) == NULL)
		error = dossier_problem(c, VERIFY_OFFICES, "exporter is not one of the offices");
done:
	json_decref(o);
	return error;
}

/* One line of allowed_signers: "NAME [OPTIONS] ssh-ed25519 KEY [COMMENT]". */
static int
verify_signer(struct dcheck *c, char *line, unsigned long lineno, uint8_t *seen)
{
	const struct doffice *o;
	char *p = line, *principal, *opts = NULL, hex[DOSSIER_OFFICE_HEX + 1];
	uint8_t pk[ED25519_PK_LEN];
	int quoted;

	principal = p;
	if (*p == '"') {
		principal = ++p;
		if ((p = strchr(p, '"')) == NULL)
			goto bad;
		*p++ = '\0';
	} else {
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	p += strspn(p, " \t");
	if (strncmp(p, "ssh-", 4) != 0) {
		opts = p;
		for (quoted = 0; *p != '\0' && (quoted || (*p != ' ' && *p != '\t')); p++)
			if (*p == '"')
				quoted = !quoted;
		if (*p != '\0')
			*p++ = '\0';
		p += strspn(p, " \t");
	}
	if (*principal == '\0' || sshkey_parse_pub(pk, NULL, p) < 0)
		goto bad;
	hex_encode(hex, pk, sizeof pk);
	if (!c->have_first_signer) {
		memcpy(c->first_signer, pk, sizeof pk);
		c->have_first_signer = 1;
	}
	if (opts != NULL && strstr(opts, "namespaces=") != NULL &&
	    (strstr(opts, "custody-dossier") == NULL || strstr(opts, "git") == NULL))
		return dossier_problem(c, "allowed_signers", "line %lu: its namespaces do not "
		    "allow custody-dossier and git", lineno);
	if ((o = dossier_office(c, hex)) == NULL && (o = dossier_key_office(c, pk)) == NULL)
		return dossier_problem(c, "allowed_signers", "line %lu: the key of %.80s is not "
		    "in " VERIFY_OFFICES ", nor one an office handed over to", lineno, principal);
	seen[o - c->offices] = 1;
	if (strcmp(o->name, principal) != 0)
		return dossier_problem(c, "allowed_signers", "line %lu: the key of %.80s is "
		    "listed as %.80s", lineno, o->name, principal);
	return 0;
bad:
	return dossier_problem(c, "allowed_signers", "line %lu: not \"NAME OPTIONS ssh-ed25519 "
	    "KEY\"", lineno);
}

/* allowed_signers: every office, each under its name, the exporter first. */
static int
verify_allowed_signers(struct dcheck *c)
{
	const struct dfile *f = dossier_set_file(c->set, "allowed_signers");
	char *text = NULL, *line, *next;
	uint8_t *seen = NULL;
	unsigned long lineno = 0;
	size_t i;
	int error = 0;

	if (f == NULL)
		return dossier_problem(c, "allowed_signers", "missing");
	if ((text = strndup((const char *)dossier_bytes(f), f->data.len)) == NULL ||
	    (seen = calloc(c->noffices + 1, 1)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (strlen(text) != f->data.len) {
		error = dossier_problem(c, "allowed_signers", "contains a NUL byte");
		goto done;
	}
	for (line = text; line != NULL && *line != '\0' && error == 0; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		error = verify_signer(c, line, lineno, seen);
	}
	for (i = 0; i < c->noffices && error == 0; i++)
		if (!seen[i])
			error = dossier_problem(c, "allowed_signers", "does not list %.80s",
			    c->offices[i].name);
done:
	free(text);
	free(seen);
	return error;
}

/* Check 3: the exporter signed the tag manifest; its fingerprint, as expected if given. */
static int
verify_signature(struct dcheck *c, const char *expect)
{
	struct dossier_result *res = c->res;
	const struct dfile *tm, *sig;
	uint8_t signer[ED25519_PK_LEN];
	char *other = NULL;
	int error = 0;

	if (expect != NULL && (res->expected = strdup(expect)) == NULL)
		return CUSTODY_ENOMEM;
	if (c->exporter == NULL) {
		res->sig_why = strdup("no exporter key: " VERIFY_OFFICES " does not name one");
		goto expect;
	}
	if ((res->exporter = strdup(c->exporter->name)) == NULL ||
	    (error = sshkey_fingerprint(&res->fingerprint, c->exporter->pk)) < 0)
		return error < 0 ? error : CUSTODY_ENOMEM;
	tm = dossier_set_file(c->set, VERIFY_TAGMANIFEST);
	sig = dossier_set_file(c->set, VERIFY_SIGNATURE);
	if (c->have_first_signer && memcmp(c->first_signer, c->exporter->pk,
	    ED25519_PK_LEN) != 0)
		res->sig_why = strdup("the first key of allowed_signers is not the exporter's");
	else if (tm == NULL || sig == NULL)
		res->sig_why = strdup("no " VERIFY_TAGMANIFEST " or no " VERIFY_SIGNATURE);
	else if (sshsig_verify(signer, (const char *)dossier_bytes(sig), sig->data.len,
	    "custody-dossier", dossier_bytes(tm), tm->data.len) < 0) {
		if (asprintf(&res->sig_why, "the signature does not verify: %s",
		    custody_error()) < 0)
			res->sig_why = NULL;
	} else if (sodium_memcmp(signer, dossier_key_current(c->exporter),
	    ED25519_PK_LEN) != 0) {
		const struct dhandover *h = dossier_key_handed(c->exporter, signer);

		if ((error = sshkey_fingerprint(&other, signer)) < 0)
			return error;
		if (h != NULL && asprintf(&res->sig_why, "signed by %s, a key the exporter "
		    "handed over at its commit %llu, not by the key it signs with now", other,
		    (unsigned long long)h->seq) < 0)
			res->sig_why = NULL;
		else if (h == NULL && asprintf(&res->sig_why, "signed by another key (%s), not "
		    "the exporter's", other) < 0)
			res->sig_why = NULL;
		free(other);
	} else {
		res->sig_ok = 1;
		if (c->exporter->nhand > 0) {
			res->signed_since = c->exporter->hand[c->exporter->nhand - 1].seq;
			if ((error = sshkey_fingerprint(&res->signed_with, signer)) < 0)
				return error;
		}
	}
expect:
	if (!res->sig_ok && res->sig_why == NULL)
		return CUSTODY_ENOMEM;
	if (expect != NULL)
		res->expect = res->fingerprint != NULL && strcmp(res->fingerprint, expect) == 0 ?
		    1 : -1;
	return 0;
}

/* True when s is "dossier-" and 32 lower-case hex digits. */
static int
verify_name_ok(const char *s)
{
	return s != NULL && strlen(s) == DOSSIER_NAME_LEN && strncmp(s, "dossier-", 8) == 0 &&
	    hex_is_lower(s + 8, DOSSIER_NAME_LEN - 8);
}

/* custody/export.json: this dossier, by the exporter, every item it lists present. */
static int
verify_export(struct dcheck *c)
{
	const struct dfile *f = dossier_set_file(c->set, VERIFY_EXPORT);
	const char *name, *kind, *id;
	const json_t *items, *e;
	char why[DOSSIER_WHY_LEN], path[300];
	json_t *o;
	size_t i;
	int error = 0;

	if (f == NULL)
		return dossier_problem(c, VERIFY_EXPORT, "missing");
	if ((o = c->export = dossier_json_file(f, why, sizeof why)) == NULL)
		return dossier_problem(c, VERIFY_EXPORT, "%s", why);
	name = verify_str(o, "dossier");
	if (!verify_name_ok(name))
		error = dossier_problem(c, VERIFY_EXPORT, "dossier is not \"dossier-ID\"");
	else if (c->set->top != NULL && strcmp(name, c->set->top) != 0)
		error = dossier_problem(c, VERIFY_EXPORT, "dossier is %s, but the tar holds %s",
		    name, c->set->top);
	else if (c->res->name == NULL && (c->res->name = strdup(name)) == NULL)
		error = CUSTODY_ENOMEM;
	if (error < 0)
		return error;
	if (c->exporter != NULL && (verify_str(o, "office") == NULL ||
	    strcmp(verify_str(o, "office"), c->exporter->hex) != 0 ||
	    verify_str(o, "office_name") == NULL ||
	    strcmp(verify_str(o, "office_name"), c->exporter->name) != 0) &&
	    (error = dossier_problem(c, VERIFY_EXPORT, "office is not the exporter of "
	    VERIFY_OFFICES)) < 0)
		return error;
	if (!json_is_array(items = json_object_get(o, "items")))
		return dossier_problem(c, VERIFY_EXPORT, "items is not a list");
	json_array_foreach(items, i, e) {
		kind = verify_str(e, "kind");
		id = verify_str(e, "id");
		if (kind == NULL || id == NULL || !dossier_kind_ok(kind) ||
		    !ids_record_ok(id, strlen(id)))
			error = dossier_problem(c, VERIFY_EXPORT, "items[%zu] is not {kind, id}",
			    i);
		else {
			snprintf(path, sizeof path, "custody/items/%s/%s.json", kind, id);
			if (dossier_set_file(c->set, path) == NULL)
				error = dossier_problem(c, VERIFY_EXPORT, "%s %s is exported but "
				    "not in the dossier", kind, id);
		}
		if (error < 0)
			return error;
	}
	return 0;
}

/* The value of a bag-info.txt label, or NULL. */
static const char *
verify_info_get(const struct dcheck *c, const char *label)
{
	size_t i;

	for (i = 0; i < c->info.n; i++)
		if (strcasecmp(c->info.e[i].label, label) == 0)
			return c->info.e[i].value;
	return NULL;
}

/* bag-info.txt names the exporter, its fingerprint and this dossier. */
static int
verify_info(struct dcheck *c)
{
	static const char *const labels[] = { "Source-Organization", "Bagging-Date",
	    "External-Identifier", "Custody-Office-Fingerprint", "Custody-Recipient", NULL };
	const char *const *l, *v;
	int error;

	if (dossier_set_file(c->set, "bag-info.txt") == NULL)
		return 0;	/* the bag check said so */
	for (l = labels; *l != NULL; l++)
		if (verify_info_get(c, *l) == NULL &&
		    (error = dossier_problem(c, "bag-info.txt", "no %s", *l)) < 0)
			return error;
	if (c->exporter != NULL && (v = verify_info_get(c, "Source-Organization")) != NULL &&
	    strcmp(v, c->exporter->name) != 0 && (error = dossier_problem(c, "bag-info.txt",
	    "Source-Organization is not the exporter %.80s", c->exporter->name)) < 0)
		return error;
	if (c->res->name != NULL && (v = verify_info_get(c, "External-Identifier")) != NULL &&
	    strcmp(v, c->res->name) != 0 && (error = dossier_problem(c, "bag-info.txt",
	    "External-Identifier is not %s", c->res->name)) < 0)
		return error;
	if (c->res->fingerprint != NULL &&
	    (v = verify_info_get(c, "Custody-Office-Fingerprint")) != NULL &&
	    strcmp(v, c->res->fingerprint) != 0 && (error = dossier_problem(c, "bag-info.txt",
	    "Custody-Office-Fingerprint is not the exporter's %s", c->res->fingerprint)) < 0)
		return error;
	if ((v = verify_info_get(c, "Bagging-Date")) != NULL && (strlen(v) != 10 ||
	    strspn(v, "0123456789-") != 10 || v[4] != '-' || v[7] != '-') &&
	    (error = dossier_problem(c, "bag-info.txt", "Bagging-Date is not YYYY-MM-DD")) < 0)
		return error;
	return 0;
}

/* Copy the problems of the reference validator's report into the bag's. */
static int
verify_extra(struct bagit_report *bag, const struct bagit_report *extra)
{
	size_t i;
	int error;

	for (i = 0; i < extra->n; i++)
		if (!extra->items[i].warning && (error = bagit_report_add(bag, 0,
		    extra->items[i].file, extra->items[i].line, "%s", extra->items[i].what)) < 0)
			return error;
	return 0;
}

/*
 * An attested item rests on the exporter's signature over a valid bag: without them nothing
 * vouches for its content, and it fails.
 */
static int
verify_unvouched(struct dossier_result *res)
{
	struct dossier_item *it;
	char **v;
	size_t i;

	if (res->sig_ok && res->expect >= 0 && res->bag->problems == 0)
		return 0;
	for (i = 0; i < res->nitems; i++) {
		it = &res->items[i];
		if (it->verdict != DOSSIER_ATTESTED)
			continue;
		if ((v = reallocarray(it->reasons, it->nreasons + 1, sizeof *v)) == NULL)
			return CUSTODY_ENOMEM;
		it->reasons = v;
		if ((v[it->nreasons] = strdup("no record key, and the exporter's signature over "
		    "a valid bag does not hold: nothing vouches for its content")) == NULL)
			return CUSTODY_ENOMEM;
		it->nreasons++;
		it->verdict = DOSSIER_FAILED;
	}
	return 0;
}

/* Run checks 1-8 and decide. */
int
dossier_check(struct dossier_result *res, struct dset *set, const char *expect,
    const struct bagit_report *extra)
{
	struct dcheck c = { .set = set, .res = res };
	size_t i;
	int error;

	if ((error = dossier_set_seal(set)) == CUSTODY_EINVAL) {
		error = dossier_fatal(res, CUSTODY_EINVAL, "%s", custody_error());
		goto done;
	}
	if (error < 0 || (error = dossier_bag_check(&c)) < 0)
		goto done;
	/* the reference validator sees what the in-memory check does not look for */
	if (extra != NULL && res->bag->problems == 0 && (error = verify_extra(res->bag,
	    extra)) < 0)
		goto done;
	if ((error = verify_offices(&c)) < 0 || (error = dossier_keys_check(&c)) < 0 ||
	    (error = verify_allowed_signers(&c)) < 0 ||
	    (error = verify_signature(&c, expect)) < 0 || (error = verify_export(&c)) < 0 ||
	    (error = verify_info(&c)) < 0 || (error = dossier_git_objects(&c)) < 0 ||
	    (error = dossier_items_check(&c)) < 0 || (error = verify_unvouched(res)) < 0)
		goto done;
	res->ok = res->bag->problems == 0 && res->problems->problems == 0 && res->sig_ok &&
	    res->expect >= 0 && res->nitems > 0;
	for (i = 0; i < res->nitems; i++)
		if (res->items[i].verdict == DOSSIER_FAILED)
			res->ok = 0;
	error = res->ok ? 0 : CUSTODY_EINVAL;
done:
	for (i = 0; i < c.noffices; i++) {
		free(c.offices[i].name);
		dossier_keys_free(&c.offices[i]);
	}
	free(c.offices);
	if (c.have_man)
		bagit_manifest_free(&c.man);
	bagit_info_free(&c.info);
	json_decref(c.export);
	return error;
}
