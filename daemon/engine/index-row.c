/*
 * Victim, incident, person and person event rows of the index (index-row.h), packed as: kind
 * ('v', 'i', 'p' or 'e'), a byte of flags (age, incident or person, name or site or a
 * person's age duplicate, and duplicate tokens present), the age and three small integers
 * (victims and persons), the
 * tokens present, then each string as a 16-bit length (0xffff: NULL) and its bytes with a NUL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/persons.h"
#include "index-row.h"

#define CAT_MEDICAL 1
#define CAT_CIVIL_DEFENSE 2
#define CAT_MEDIA 4

#define ROW_AGE 1
#define ROW_ITOK 2
#define ROW_NTOK 4
#define ROW_DTOK 8
#define ROW_NULL 0xffff

static const char *
field(const json_t *doc, const char *name)
{
	return json_string_value(json_object_get(doc, name));
}

/* The categories array as a bitmask. */
static int64_t
index_row_categories(const json_t *doc)
{
	json_t *v;
	size_t i;
	int64_t bits = 0;

	json_array_foreach(json_object_get(doc, "categories"), i, v) {
		if (json_string_value(v) == NULL)
			continue;
		if (strcmp(json_string_value(v), "medical") == 0)
			bits |= CAT_MEDICAL;
		else if (strcmp(json_string_value(v), "civil_defense") == 0)
			bits |= CAT_CIVIL_DEFENSE;
		else if (strcmp(json_string_value(v), "media") == 0)
			bits |= CAT_MEDIA;
	}
	return bits;
}

static int
index_row_str(struct cbuf *out, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	uint8_t len[2];
	int error;

	if (n >= ROW_NULL)
		return custody_fail(CUSTODY_ETOOBIG, "index: a field of %zu bytes", n);
	len[0] = (uint8_t)((s != NULL ? n : ROW_NULL) & 0xff);
	len[1] = (uint8_t)((s != NULL ? n : ROW_NULL) >> 8);
	if ((error = cbuf_put(out, len, 2)) < 0 || s == NULL)
		return error;
	return cbuf_put(out, s, n + 1);
}

static int
index_row_i64(struct cbuf *out, int64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)v >> (8 * i));
	return cbuf_put(out, b, 8);
}

/* The tokens of a victim's name and of its name, death and governorate (duplicates). */
static void
index_row_name(struct archive *a, const json_t *doc, const char *death, uint8_t *flags,
    uint8_t ntok[static TOKEN_LEN], uint8_t dtok[static TOKEN_LEN])
{
	const char *name = field(doc, "name"), *gov = field(doc, "governorate");
	crypto_generichash_state h;
	char *norm;

	if (name == NULL || (norm = name_normalize(name)) == NULL)
		return;
	if (norm[0] != '\0') {
		record_name_token(a, "name", norm, ntok);
		*flags |= ROW_NTOK;
		if (death != NULL && gov != NULL) {
			/* NULs separate the parts, as one buffer */
			crypto_generichash_init(&h, a->token_key, 32, TOKEN_LEN);
			crypto_generichash_update(&h, (const uint8_t *)"dup", 4);
			crypto_generichash_update(&h, (const uint8_t *)norm, strlen(norm) + 1);
			crypto_generichash_update(&h, (const uint8_t *)death, strlen(death) + 1);
			crypto_generichash_update(&h, (const uint8_t *)gov, strlen(gov));
			crypto_generichash_final(&h, dtok, TOKEN_LEN);
			*flags |= ROW_DTOK;
		}
	}
	sodium_memzero(norm, strlen(norm));
	free(norm);
}

static int
index_row_victim(struct archive *a, const json_t *doc, struct cbuf *out)
{
	const char *sex = field(doc, "sex") ?: "unknown", *group = field(doc, "age_group") ?:
	    "unknown", *death = field(doc, "date_of_death");
	json_t *age = json_object_get(doc, "age");
	uint8_t flags = 0, itok[TOKEN_LEN], ntok[TOKEN_LEN], dtok[TOKEN_LEN], head[2];
	struct cdate d = { 0 };
	int have_death = death != NULL && cdate_parse(&d, death) == 0, child, woman, error;

	child = (json_is_integer(age) && json_integer_value(age) < 18) ||
	    strcmp(group, "child") == 0;
	woman = !child && strcmp(sex, "female") == 0 && strcmp(group, "adult") == 0;
	if (json_is_integer(age))
		flags |= ROW_AGE;
	if (field(doc, "incident_id") != NULL) {
		archive_token(a, itok, field(doc, "incident_id"));
		flags |= ROW_ITOK;
	}
	index_row_name(a, doc, have_death ? death : NULL, &flags, ntok, dtok);
	head[0] = 'v';
	head[1] = flags;
	if ((error = cbuf_put(out, head, 2)) < 0 ||
	    (error = index_row_i64(out, json_integer_value(age))) < 0 ||
	    (error = index_row_i64(out, child)) < 0 ||
	    (error = index_row_i64(out, woman)) < 0 ||
	    (error = index_row_i64(out, index_row_categories(doc))) < 0 ||
	    ((flags & ROW_ITOK) && (error = cbuf_put(out, itok, TOKEN_LEN)) < 0) ||
	    ((flags & ROW_NTOK) && (error = cbuf_put(out, ntok, TOKEN_LEN)) < 0) ||
	    ((flags & ROW_DTOK) && (error = cbuf_put(out, dtok, TOKEN_LEN)) < 0) ||
	    (error = index_row_str(out, field(doc, "date_documented") ?: "")) < 0 ||
	    (error = index_row_str(out, have_death ? death : NULL)) < 0 ||
	    (error = index_row_str(out, have_death ? d.first : NULL)) < 0 ||
	    (error = index_row_str(out, have_death ? d.last : NULL)) < 0 ||
	    (error = index_row_str(out, sex)) < 0 ||
	    (error = index_row_str(out, group)) < 0 ||
	    (error = index_row_str(out, field(doc, "status") ?: "civilian")) < 0 ||
	    (error = index_row_str(out, field(doc, "governorate"))) < 0 ||
	    (error = index_row_str(out, field(doc, "party"))) < 0)
		return error;
	return index_row_str(out, field(doc, "cause"));
}

static int
index_row_incident(const json_t *doc, struct cbuf *out)
{
	static const uint8_t head[2] = { 'i', 0 };
	int error;

	if ((error = cbuf_put(out, head, 2)) < 0 ||
	    (error = index_row_str(out, field(doc, "date"))) < 0 ||
	    (error = index_row_str(out, field(doc, "governorate"))) < 0 ||
	    (error = index_row_str(out, field(doc, "party"))) < 0)
		return error;
	return index_row_str(out, field(doc, "type"));
}

/* The consent array of a person as a bitmask of record_consent_classes. */
static int64_t
index_row_consent(const json_t *doc)
{
	json_t *v;
	size_t i, k;
	int64_t bits = 0;

	json_array_foreach(json_object_get(doc, "consent"), i, v)
		for (k = 0; json_string_value(v) != NULL && record_consent_classes[k] != NULL; k++)
			if (strcmp(json_string_value(v), record_consent_classes[k]) == 0)
				bits |= (int64_t)1 << k;
	return bits;
}

/* The keyed token of a person's normalised name, what (an age or a birth year) and gov. */
static void
index_row_person_dup(struct archive *a, uint8_t tok[static TOKEN_LEN], const char *domain,
    const char *norm, long long what, const char *gov)
{
	crypto_generichash_state h;
	char num[24];

	snprintf(num, sizeof num, "%lld", what);
	/* NULs separate the parts, as one buffer */
	crypto_generichash_init(&h, a->token_key, 32, TOKEN_LEN);
	crypto_generichash_update(&h, (const uint8_t *)domain, strlen(domain) + 1);
	crypto_generichash_update(&h, (const uint8_t *)norm, strlen(norm) + 1);
	crypto_generichash_update(&h, (const uint8_t *)num, strlen(num) + 1);
	crypto_generichash_update(&h, (const uint8_t *)gov, strlen(gov));
	crypto_generichash_final(&h, tok, TOKEN_LEN);
	sodium_memzero(&h, sizeof h);
}

/*
 * A person's duplicate tokens: its normalised name, age and governorate (atok, ROW_NTOK) and
 * its normalised name, birth year and governorate (btok, ROW_DTOK), each when all three are
 * known.
 */
static void
index_row_person_dups(struct archive *a, const json_t *doc, int age, uint8_t *flags,
    uint8_t atok[static TOKEN_LEN], uint8_t btok[static TOKEN_LEN])
{
	const char *name = field(doc, "name"), *gov = field(doc, "governorate");
	json_t *by = json_object_get(doc, "birth_year");
	char *norm;

	if (name == NULL || gov == NULL || (norm = name_normalize(name)) == NULL)
		return;
	if (norm[0] != '\0' && age >= 0) {
		index_row_person_dup(a, atok, "dup-person-age", norm, age, gov);
		*flags |= ROW_NTOK;
	}
	if (norm[0] != '\0' && json_is_integer(by)) {
		index_row_person_dup(a, btok, "dup-person-birth", norm,
		    (long long)json_integer_value(by), gov);
		*flags |= ROW_DTOK;
	}
	sodium_memzero(norm, strlen(norm));
	free(norm);
}

/*
 * A person: sex, age, age group, child and woman, governorate, consent, and the keyed tokens
 * duplicates are found by; never a name.
 */
static int
index_row_person(struct archive *a, const json_t *doc, struct cbuf *out)
{
	const char *sex = field(doc, "sex") ?: "unknown", *group = field(doc, "age_group") ?:
	    "unknown";
	int age = person_json_age(doc), child, woman, error;
	uint8_t head[2] = { 'p', age >= 0 ? ROW_AGE : 0 }, atok[TOKEN_LEN], btok[TOKEN_LEN];

	person_child_woman(&child, &woman, sex, age, group);
	index_row_person_dups(a, doc, age, &head[1], atok, btok);
	if ((error = cbuf_put(out, head, 2)) < 0 ||
	    (error = index_row_i64(out, age >= 0 ? age : 0)) < 0 ||
	    (error = index_row_i64(out, child)) < 0 ||
	    (error = index_row_i64(out, woman)) < 0 ||
	    (error = index_row_i64(out, index_row_consent(doc))) < 0 ||
	    ((head[1] & ROW_NTOK) && (error = cbuf_put(out, atok, TOKEN_LEN)) < 0) ||
	    ((head[1] & ROW_DTOK) && (error = cbuf_put(out, btok, TOKEN_LEN)) < 0) ||
	    (error = index_row_str(out, sex)) < 0 ||
	    (error = index_row_str(out, group)) < 0)
		return error;
	return index_row_str(out, field(doc, "governorate"));
}

/*
 * A person event: its person's and site's tokens, type, date as given with its first and
 * last day and precision, party, governorate; never an area, a source or notes. An event
 * whose type or date does not parse (not a canonical record) gets no row.
 */
static int
index_row_person_event(struct archive *a, const json_t *doc, struct cbuf *out)
{
	uint8_t head[2] = { 'e', 0 }, ptok[TOKEN_LEN], stok[TOKEN_LEN];
	struct person_event e;
	int error;

	if (person_json_event(&e, doc) < 0 || field(doc, "person_id") == NULL)
		return 0;
	archive_token(a, ptok, field(doc, "person_id"));
	head[1] |= ROW_ITOK;
	if (field(doc, "site_id") != NULL) {
		archive_token(a, stok, field(doc, "site_id"));
		head[1] |= ROW_NTOK;
	}
	if ((error = cbuf_put(out, head, 2)) < 0 ||
	    (error = cbuf_put(out, ptok, TOKEN_LEN)) < 0 ||
	    ((head[1] & ROW_NTOK) && (error = cbuf_put(out, stok, TOKEN_LEN)) < 0) ||
	    (error = index_row_str(out, person_event_type_name(e.type))) < 0 ||
	    (error = index_row_str(out, field(doc, "date"))) < 0 ||
	    (error = index_row_str(out, e.date.first)) < 0 ||
	    (error = index_row_str(out, e.date.last)) < 0 ||
	    (error = index_row_str(out, cdate_precision_name(e.date.precision))) < 0 ||
	    (error = index_row_str(out, e.party)) < 0)
		return error;
	return index_row_str(out, e.governorate);
}

/* Append the packed row of doc to out: a victim's, an incident's, a person's or a person
 * event's, else nothing. */
int
index_row_pack(struct archive *a, const json_t *doc, struct cbuf *out)
{
	if (strcmp(record_kind(doc), "person") == 0)
		return index_row_person(a, doc, out);
	if (strcmp(record_kind(doc), "person_event") == 0)
		return index_row_person_event(a, doc, out);
	if (strcmp(record_kind(doc), "victim") == 0)
		return index_row_victim(a, doc, out);
	if (strcmp(record_kind(doc), "incident") == 0)
		return index_row_incident(doc, out);
	return 0;
}

/* Unpack bytes of index_row_pack (none: no row); row's strings point into p. */
int
index_row_unpack(struct index_row *row, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	uint8_t flags;
	size_t i, len, nstr;
	uint64_t v;
	int k;

	memset(row, 0, sizeof *row);
	if (n == 0)
		return 0;
	if (n < 2 || (p[0] != 'v' && p[0] != 'i' && p[0] != 'p' && p[0] != 'e'))
		goto bad;
	row->kind = (char)p[0];
	flags = p[1];
	p += 2;
	nstr = row->kind == 'v' ? 10 : row->kind == 'p' ? 3 : row->kind == 'e' ? 7 : 4;
	if (row->kind == 'v' || row->kind == 'p') {
		if (end - p < 32)
			goto bad;
		for (i = 0; i < 4; i++, p += 8) {
			for (v = 0, k = 7; k >= 0; k--)
				v = v << 8 | p[k];
			*(i == 0 ? &row->age : i == 1 ? &row->child : i == 2 ? &row->woman :
			    &row->categories) = (int64_t)v;
		}
		row->has_age = (flags & ROW_AGE) != 0;
		if (end - p < TOKEN_LEN * (!!(flags & ROW_ITOK) + !!(flags & ROW_NTOK) +
		    !!(flags & ROW_DTOK)))
			goto bad;
		if (flags & ROW_ITOK)
			row->itok = p, p += TOKEN_LEN;
		if (flags & ROW_NTOK)
			row->ntok = p, p += TOKEN_LEN;
		if (flags & ROW_DTOK)
			row->dtok = p, p += TOKEN_LEN;
	}
	if (row->kind == 'e') {
		if (!(flags & ROW_ITOK) || end - p < TOKEN_LEN * (1 + !!(flags & ROW_NTOK)))
			goto bad;
		row->itok = p, p += TOKEN_LEN;
		if (flags & ROW_NTOK)
			row->ntok = p, p += TOKEN_LEN;
	}
	for (i = 0; i < nstr; i++) {
		if (end - p < 2)
			goto bad;
		len = (size_t)p[0] | (size_t)p[1] << 8;
		p += 2;
		if (len == ROW_NULL)
			continue;
		if ((size_t)(end - p) < len + 1 || p[len] != '\0')
			goto bad;
		row->s[i] = (const char *)p;
		p += len + 1;
	}
	if (p == end)
		return 0;
bad:
	return custody_fail(CUSTODY_EIO, "index: a packed row does not parse");
}

/*
 * The condition under which an upsert into table t replaces its row: the new revision's clock
 * is later, or the same and its office key (not its id: ids follow arrival) not lower.
 */
#define INDEX_ROW_NEWER(t) " WHERE excluded.lamport > " t ".lamport OR (excluded.lamport = " \
	t ".lamport AND " INDEX_OFFICE_KEY("excluded.office") " >= " \
	INDEX_OFFICE_KEY(t ".office") ")"

/* Write a victim's, incident's, person's or person event's row, if the revision is the
 * current one. */
int
index_row_put(sqlite3 *db, const uint8_t tok[static TOKEN_LEN], int64_t office,
    int64_t lamport, const struct index_row *r)
{
	if (r->kind == 'p')
		return index_exec(db, "INSERT INTO persons VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"
		    " ON CONFLICT(tok) DO UPDATE SET office=excluded.office,"
		    " lamport=excluded.lamport, sex=excluded.sex, age=excluded.age,"
		    " age_group=excluded.age_group, child=excluded.child, woman=excluded.woman,"
		    " governorate=excluded.governorate, consent=excluded.consent,"
		    " dup_age=excluded.dup_age, dup_birth=excluded.dup_birth"
		    INDEX_ROW_NEWER("persons"),
		    "biitItiiTiBB", tok, office, lamport, r->s[0], r->has_age ? &r->age : NULL,
		    r->s[1], r->child, r->woman, r->s[2], r->categories, r->ntok, r->dtok);
	if (r->kind == 'e')
		return index_exec(db, "INSERT INTO person_events VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"
		    " ON CONFLICT(tok) DO UPDATE SET office=excluded.office,"
		    " lamport=excluded.lamport, person=excluded.person, type=excluded.type,"
		    " date=excluded.date, date_from=excluded.date_from, date_to=excluded.date_to,"
		    " precision=excluded.precision, party=excluded.party,"
		    " governorate=excluded.governorate, site=excluded.site"
		    INDEX_ROW_NEWER("person_events"),
		    "biibtttttTTB", tok, office, lamport, r->itok, r->s[0], r->s[1], r->s[2],
		    r->s[3], r->s[4], r->s[5], r->s[6], r->ntok);
	if (r->kind == 'i')
		return index_exec(db, "INSERT INTO incidents VALUES(?,?,?,?,?,?,?)"
		    " ON CONFLICT(tok) DO UPDATE SET office=excluded.office,"
		    " lamport=excluded.lamport, date=excluded.date,"
		    " governorate=excluded.governorate, party=excluded.party, type=excluded.type"
		    INDEX_ROW_NEWER("incidents"),
		    "biiTTTT", tok, office, lamport, r->s[0], r->s[1], r->s[2], r->s[3]);
	if (r->kind != 'v')
		return 0;
	return index_exec(db, "INSERT INTO victims VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT(tok) DO UPDATE SET office=excluded.office, lamport=excluded.lamport,"
	    " documented=excluded.documented, death=excluded.death,"
	    " death_from=excluded.death_from, death_to=excluded.death_to, sex=excluded.sex,"
	    " age=excluded.age, age_group=excluded.age_group, status=excluded.status,"
	    " child=excluded.child, woman=excluded.woman, categories=excluded.categories,"
	    " governorate=excluded.governorate, party=excluded.party, cause=excluded.cause,"
	    " incident=excluded.incident, name_tok=excluded.name_tok, dup_tok=excluded.dup_tok"
	    INDEX_ROW_NEWER("victims"),
	    "biitTTTtIttiiiTTTBBB", tok, office, lamport, r->s[0], r->s[1], r->s[2], r->s[3],
	    r->s[4], r->has_age ? &r->age : NULL, r->s[5], r->s[6], r->child, r->woman,
	    r->categories, r->s[7], r->s[8], r->s[9], r->itok, r->ntok, r->dtok);
}
