/* Offices known through signed office records, invitations and joining. */
#ifndef CUSTODY_OFFICES_H
#define CUSTODY_OFFICES_H

#include "archive.h"

/* One office known through an office record. */
struct office {
	char	 name[OFFICE_NAME_MAX + 1];
	uint8_t	 pk[ED25519_PK_LEN];
	char	 address[256];		/* "" when unknown */
	int64_t	 invite_expires;	/* when the invitation that admitted it expires; 0: never */
};

/* offices.c */
/* The office record of (name, pk, address): kind "office", id "office-<key hex>". */
int offices_record(json_t **out, const char *name, const uint8_t pk[static ED25519_PK_LEN],
    const char *address);
/*
 * The invite record admitting office (name, pk): kind "invite", id "invite-<key hex>". The
 * inviter writes it in its own feed with invitation NULL; the invited office keeps a copy in
 * its own feed with the signed invitation text that admitted it.
 */
int offices_invite_record(json_t **out, const char *name,
    const uint8_t pk[static ED25519_PK_LEN], const char *invitation);
/*
 * The withdrawal record of the invitation of office (name, pk): kind "withdrawal", id
 * "withdrawal-<key hex>", written by the inviter in its own feed; see offices-admit.c.
 */
int offices_withdrawal_record(json_t **out, const char *name,
    const uint8_t pk[static ED25519_PK_LEN]);
/* Write office records as one commit, leaving out unchanged ones; docs stay the caller's. */
int offices_write(struct archive *, json_t **docs, size_t n, const char *summary);
/* Fill o from an office record's fields; EINVAL when it is not one. */
int offices_parse(struct office *o, json_t *doc);

/*
 * offices-admit.c: who is an office. A key is admitted only by an invitation (an invite record
 * in the inviter's feed, or the invited office's copy of its signed invitation), from an
 * admitted office, starting at the founder: the office reached by following each office's
 * own invitation up from this one. Names are unique: invitations are taken in (lamport,
 * inviter key, key) order and the first to bind a name or a key wins. An office record counts
 * only in its own office's feed and only for its address; anything else is refused.
 */
/* The admitted offices, founder first, this office included; caller frees *out. */
int offices_list(struct archive *, struct office **out, size_t *n);
/* 1 when pk is an admitted office, else 0. */
int offices_admitted(struct archive *, const uint8_t pk[static ED25519_PK_LEN]);
/*
 * The office and invite records refused, one line each naming the keys' fingerprints
 * ("office record in feed SHA256:... renames SHA256:... to 'x'"); caller frees with
 * offices_refused_free. Each line is also logged once by this process.
 */
int offices_refused(struct archive *, char ***lines, size_t *n);
void offices_refused_free(char **lines, size_t n);

/* join.c: custodyd join ARCHIVE INVITATION */
int join_archive(const char *path, const char *invitation, const char *passphrase,
    char **cause);

#endif
