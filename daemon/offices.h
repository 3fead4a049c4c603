/* Offices known through signed office records, invitations and joining. */
#ifndef CUSTODY_OFFICES_H
#define CUSTODY_OFFICES_H

#include "archive.h"

/* One office known through an office record. */
struct office {
	char	 name[OFFICE_NAME_MAX + 1];
	uint8_t	 pk[ED25519_PK_LEN];
	char	 address[256];		/* "" when unknown */
};

/* offices.c */
/* The office record of (name, pk, address): kind "office", id "office-<key hex>". */
int offices_record(json_t **out, const char *name, const uint8_t pk[static ED25519_PK_LEN],
    const char *address);
/* Write office records as one commit, leaving out unchanged ones; docs stay the caller's. */
int offices_write(struct archive *, json_t **docs, size_t n, const char *summary);
/* Every office known through office records in any feed (one per key); caller frees *out. */
int offices_list(struct archive *, struct office **out, size_t *n);

/* join.c: custodyd join ARCHIVE INVITATION */
int join_archive(const char *path, const char *invitation, const char *passphrase,
    char **cause);

#endif
