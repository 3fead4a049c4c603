/*
 * Recipients of dossiers: an age key and the fields it must not see. Each is a record
 * (kind "recipient", id "recipient:NAME") in the office's feed, signed like everything else.
 */
#include <stdlib.h>
#include <string.h>

#include "custody/age.h"
#include "custody/records.h"
#include "dossier.h"
#include "log.h"

/* What every dossier withholds unless a recipient's policy discloses it. */
static const char *const recipient_default[] = {
	"source.contact", "source.name", "source.notes", "victim.notes",
	"person.belongings", "person.build", "person.clothing", "person.dental", "person.eyes",
	"person.hair", "person.height_cm", "person.marks", "site.geometry", "site.lat",
	"site.lon", NULL
};

/* What every dossier withholds, whatever the policy: the people who reported, and notes. */
static const char *const recipient_always[] = {
	"person.notes", "person.reporter_contact", "person.reporter_name", "person_event.notes",
	NULL
};

/* Names that stand for several fields: "KIND.GROUP" -> "field field ...". */
static const struct {
	const char	*name;
	const char	*fields;
} recipient_groups[] = {
	{ "person.ante_mortem",
	    "belongings build clothing dental eyes hair height_cm marks" },
	{ "site.location", "geometry lat lon" },
};

static const char *const recipient_kinds[] = { "incident", "victim", "source", "evidence",
    "person", "person_event", "site", NULL };

/*
 * Evidence fields a policy may name. Never id, kind, rev, sha256 and size: the proofs need
 * them. Never acquired_at and office either: a dossier's proofs show them anyway, as the time
 * of the commit that recorded the file and the office whose feed holds it.
 */
static const char *const evidence_fields[] = {
	"name", "note", "acquired_by", "media_type", "incidents", "victims", "sources", "blob",
	"persons", "sites", NULL
};

static const char *const *
recipient_fields(const char *kind)
{
	return strcmp(kind, "evidence") == 0 ? evidence_fields : record_fields(kind);
}

/* A field a policy may name: one of the kind's, but never its id. */
static int
recipient_has_field(const char *kind, const char *field)
{
	const char *const *f = recipient_fields(kind);

	if (strcmp(field, "id") == 0)
		return 0;
	for (; f != NULL && *f != NULL; f++)
		if (strcmp(*f, field) == 0)
			return 1;
	return 0;
}

int
recipient_withholdable(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t i;

	if (dot == NULL)
		return 0;
	for (i = 0; recipient_kinds[i] != NULL; i++)
		if (strlen(recipient_kinds[i]) == (size_t)(dot - name) &&
		    strncmp(recipient_kinds[i], name, dot - name) == 0)
			return recipient_has_field(recipient_kinds[i], dot + 1);
	return 0;
}

/* True when "KIND.FIELD" is withheld from every dossier, whatever the policy. */
static int
recipient_is_always(const char *name)
{
	size_t i;

	for (i = 0; recipient_always[i] != NULL; i++)
		if (strcmp(recipient_always[i], name) == 0)
			return 1;
	return 0;
}

static int recipient_policy_apply(json_t *, const char *, int);

/* A group name ("person.ante_mortem"): each of its fields; 0 when spec is not one. */
static int
recipient_group_apply(json_t *set, const char *spec, int del, int *error)
{
	char buf[160], name[200], *f, *save = NULL;
	const char *dot = strchr(spec, '.');
	size_t i;

	for (i = 0; i < sizeof recipient_groups / sizeof recipient_groups[0]; i++) {
		if (strcmp(recipient_groups[i].name, spec) != 0)
			continue;
		snprintf(buf, sizeof buf, "%s", recipient_groups[i].fields);
		*error = 0;
		for (f = strtok_r(buf, " ", &save); f != NULL && *error == 0;
		    f = strtok_r(NULL, " ", &save)) {
			snprintf(name, sizeof name, "%.*s.%s", (int)(dot - spec), spec, f);
			*error = recipient_policy_apply(set, name, del);
		}
		return 1;
	}
	return 0;
}

/*
 * Add "KIND.FIELD" (or FIELD for every kind that has it, or a group such as
 * person.ante_mortem) to set, or take it out (del). What every dossier withholds cannot be
 * disclosed: named with its kind, it is refused; as a bare FIELD, its kind is passed over.
 */
static int
recipient_policy_apply(json_t *set, const char *spec, int del)
{
	const char *dot = strchr(spec, '.'), *field = dot != NULL ? dot + 1 : spec;
	char name[160];
	size_t i, found = 0;
	int error;

	if (recipient_group_apply(set, spec, del, &error))
		return error;
	if (del && dot != NULL && recipient_is_always(spec))
		return custody_fail(CUSTODY_EINVAL, "%s is withheld from every dossier: it "
		    "cannot be disclosed", spec);
	for (i = 0; recipient_kinds[i] != NULL; i++) {
		const char *k = recipient_kinds[i];

		if (dot != NULL && (strlen(k) != (size_t)(dot - spec) ||
		    strncmp(k, spec, dot - spec) != 0))
			continue;
		if (!recipient_has_field(k, field))
			continue;
		snprintf(name, sizeof name, "%s.%s", k, field);
		if (del && recipient_is_always(name))
			continue;
		if (del)
			json_object_del(set, name);
		else
			json_object_set_new(set, name, json_true());
		found++;
	}
	if (found == 0)
		return custody_fail(CUSTODY_EINVAL, "%s is not a field a dossier can withhold "
		    "(KIND.FIELD or FIELD; kinds: incident, victim, source, evidence, person, "
		    "person_event, site; groups: person.ante_mortem, site.location; id, kind, "
		    "sha256 and size are always kept, and so are evidence.acquired_at and "
		    "evidence.office, which a dossier's proofs show)", spec);
	return 0;
}

/* The policy: the defaults, minus disclose, plus withhold; a sorted array. */
static int
recipient_policy(json_t **out, char **withhold, size_t nw, char **disclose, size_t nd)
{
	json_t *set = json_object(), *v;
	const char *k;
	size_t i;
	int error = 0;

	*out = json_array();
	if (set == NULL || *out == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; recipient_default[i] != NULL; i++)
		json_object_set_new(set, recipient_default[i], json_true());
	for (i = 0; i < nd && error == 0; i++)
		error = recipient_policy_apply(set, disclose[i], 1);
	for (i = 0; i < nw && error == 0; i++)
		error = recipient_policy_apply(set, withhold[i], 0);
	for (i = 0; recipient_always[i] != NULL; i++)
		json_object_set_new(set, recipient_always[i], json_true());
	json_object_foreach(set, k, v)
		json_array_append_new(*out, json_string(k));
done:
	json_decref(set);
	if (error < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return error;
}

int
recipient_class_ok(const char *cls)
{
	size_t i;

	for (i = 0; record_consent_classes[i] != NULL; i++)
		if (strcmp(record_consent_classes[i], cls) == 0)
			return 1;
	return 0;
}

/*
 * What an extract for the recipient record r withholds on top of its stored policy: what every
 * dossier withholds and, for a recipient added before persons and sites had a policy (it has
 * no class), their default withheld fields.
 */
int
recipient_policy_extra(json_t *policy, const json_t *r)
{
	size_t i;

	for (i = 0; recipient_always[i] != NULL; i++)
		if (json_object_set_new(policy, recipient_always[i], json_true()) < 0)
			return CUSTODY_ENOMEM;
	if (json_object_get(r, "class") != NULL)
		return 0;
	for (i = 0; recipient_default[i] != NULL; i++)
		if ((strncmp(recipient_default[i], "person.", 7) == 0 ||
		    strncmp(recipient_default[i], "site.", 5) == 0) &&
		    json_object_set_new(policy, recipient_default[i], json_true()) < 0)
			return CUSTODY_ENOMEM;
	return 0;
}

/* The recipient record of NAME. */
int
recipient_load(struct archive *a, const char *name, json_t **doc)
{
	char id[OFFICE_NAME_MAX + 16], office[65];
	int error;

	*doc = NULL;
	if (archive_check_name(name) < 0)
		return custody_fail(CUSTODY_EINVAL, "'%s' is not a recipient name", name);
	snprintf(id, sizeof id, "recipient:%s", name);
	if ((error = index_record_office(a, id, office)) < 0 ||
	    (error = feed_read_record(a, office, id, doc)) < 0) {
		if (error == CUSTODY_ENOTFOUND)
			custody_fail(error, "no recipient called %s (custody recipient add)", name);
		return error;
	}
	if (strcmp(record_kind(*doc), "recipient") != 0) {
		json_decref(*doc);
		*doc = NULL;
		return custody_fail(CUSTODY_EINVAL, "%s is not a recipient record", id);
	}
	return 0;
}

/*
 * Write the recipient record of name: its age key and the fields withheld from it (the default
 * policy, changed by withhold and disclose). *out (the caller's) is the record as written.
 */
int
recipient_add(json_t **out, struct records_written *w, struct archive *a, const char *name,
    const char *key, const char *cls, char **withhold, size_t nw, char **disclose, size_t nd)
{
	struct age_recipient rcpt;
	char id[OFFICE_NAME_MAX + 16], list[160];
	json_t *doc = NULL, *policy = NULL;
	int error;

	*out = NULL;
	if (cls != NULL && cls[0] != '\0' && !recipient_class_ok(cls)) {
		list[0] = '\0';
		for (size_t i = 0; record_consent_classes[i] != NULL; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
			    i ? ", " : "", record_consent_classes[i]);
		return custody_fail(CUSTODY_EINVAL, "'%s' is not a consent class (one of %s)",
		    cls, list);
	}
	if (archive_check_name(name) < 0)
		return custody_fail(CUSTODY_EINVAL, "'%s' is not a recipient name (letters, digits,"
		    " '.', '_', '-'; at most %d)", name, OFFICE_NAME_MAX);
	if (age_recipient_parse(&rcpt, key, strlen(key)) < 0)
		return custody_fail(CUSTODY_EINVAL, "'%s' is not an age X25519 recipient "
		    "(age1..., as age-keygen -y prints)", key);
	if ((error = recipient_policy(&policy, withhold, nw, disclose, nd)) < 0)
		return error;
	snprintf(id, sizeof id, "recipient:%s", name);
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:O}", "kind", "recipient", "id", id, "name",
	    name, "key", key, "withhold", policy)) == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (cls != NULL && cls[0] != '\0' &&
	    json_object_set_new(doc, "class", json_string(cls)) < 0) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if ((error = records_write_changed(a, &doc, 1, "add recipient", 1, w)) < 0)
		goto done;
	*out = doc;
	doc = NULL;
done:
	json_decref(doc);
	json_decref(policy);
	return error;
}

/* Every recipient record, as a JSON array (the caller's). */
int
recipient_list(json_t **out, struct archive *a)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	char tok[TOKEN_HEX_LEN + 1];
	json_t *list = json_array(), *doc;
	int error = 0, rc;

	*out = NULL;
	if (db == NULL || list == NULL) {
		json_decref(list);
		return CUSTODY_EIO;
	}
	if ((st = index_stmt(db, "SELECT tok, " INDEX_OFFICE_KEY("office") " FROM records"
	    " WHERE kind='recipient'")) == NULL) {
		json_decref(list);
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	}
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN)
			continue;
		hex_encode(tok, sqlite3_column_blob(st, 0), TOKEN_LEN);
		if ((error = feed_read_token(a, (const char *)sqlite3_column_text(st, 1), tok,
		    &doc)) == 0)
			json_array_append_new(list, doc);
	}
	sqlite3_reset(st);
	if (error < 0) {
		json_decref(list);
		return error;
	}
	*out = list;
	return 0;
}
