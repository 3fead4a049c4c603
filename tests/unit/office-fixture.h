/*
 * Offices played by key pairs in one real archive: "hq" founds it, the others are fresh keys
 * whose records are forged as a seized office would write them (its own feed, signed with its
 * real key). Shared by the office and invitation tests; include after <cmocka.h> and "offices.h".
 */
#ifndef CUSTODY_OFFICE_FIXTURE_H
#define CUSTODY_OFFICE_FIXTURE_H

#include "archive-fixture.h"

/* A key pair that plays an office. */
struct who {
	uint8_t	pk[ED25519_PK_LEN];
	uint8_t	sk[ED25519_SK_LEN];
};

struct fixture {
	char		 dir[256];
	struct archive	*a;		/* "hq", the founder */
	struct who	 hq, bravo, charlie, ghost, x, y;
};

static inline int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL, path[300];

	archive_fixture_dir(f->dir, sizeof f->dir, "/tmp/custody-offices.XXXXXX");
	archive_fixture_open(&f->a, path, sizeof path, f->dir, "a", "hq", 0);
	assert_int_equal(index_open(f->a, &cause), 0);
	memcpy(f->hq.pk, f->a->office_pk, ED25519_PK_LEN);
	memcpy(f->hq.sk, f->a->office_sk, ED25519_SK_LEN);
	crypto_sign_keypair(f->bravo.pk, f->bravo.sk);
	crypto_sign_keypair(f->charlie.pk, f->charlie.sk);
	crypto_sign_keypair(f->ghost.pk, f->ghost.sk);
	crypto_sign_keypair(f->x.pk, f->x.sk);
	crypto_sign_keypair(f->y.pk, f->y.sk);
	*state = f;
	return 0;
}

static inline int
teardown(void **state)
{
	struct fixture *f = *state;

	return archive_fixture_close(f, f->a, f->dir);
}

/* Be office w for a while: our key signs w's own feed. */
static inline void
become(struct archive *a, const struct who *w)
{
	memcpy(a->office_pk, w->pk, ED25519_PK_LEN);
	memcpy(a->office_sk, w->sk, ED25519_SK_LEN);
	hex_encode(a->office_hex, w->pk, ED25519_PK_LEN);
}

/* Commit doc (taken) in w's own feed, signed by w. */
static inline void
write_as(struct fixture *f, const struct who *w, json_t *doc)
{
	struct records_written rw;

	assert_non_null(doc);
	become(f->a, w);
	assert_int_equal(records_write_changed(f->a, &doc, 1, "forged", 1, &rw), 0);
	become(f->a, &f->hq);
	json_decref(doc);
}

static inline json_t *
invite_doc(const char *name, const struct who *w, const char *invitation)
{
	json_t *doc = NULL;

	assert_int_equal(offices_invite_record(&doc, name, w->pk, invitation), 0);
	return doc;
}

/* The name pk is admitted with, or NULL. */
static inline const char *
name_of(const struct office *v, size_t n, const struct who *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(v[i].pk, w->pk, ED25519_PK_LEN) == 0)
			return v[i].name;
	return NULL;
}

/* How many refusal lines hold needle. */
static inline size_t
refused_with(struct archive *a, const char *needle)
{
	char **lines = NULL;
	size_t n = 0, i, k = 0;

	assert_int_equal(offices_refused(a, &lines, &n), 0);
	for (i = 0; i < n; i++)
		k += strstr(lines[i], needle) != NULL;
	offices_refused_free(lines, n);
	return k;
}

#endif
