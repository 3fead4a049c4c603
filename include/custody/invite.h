/*
 * Invitations: how an office hands the archive data key to a new office.
 *
 * One text file, every line "field: value" in this exact order, then the inviter's SSHSIG
 * (namespace "custody-invite") over every byte before it:
 *
 *	custody-invitation-v1
 *	office: NAME			the new office
 *	office-key: ssh-ed25519 AAAA...
 *	inviter: NAME
 *	inviter-key: ssh-ed25519 AAAA...
 *	inviter-address: HOST:PORT	or empty
 *	archive: HEX			invite_archive_id() of the data key, or empty
 *	data-key: BASE64		the data key crypto_box_seal'd to the new office (X25519)
 *	created: YYYY-MM-DDTHH:MM:SSZ
 *	expires: YYYY-MM-DDTHH:MM:SSZ	after created, at most INVITE_EXPIRES_MAX later; older
 *					invitations lack the line and expire 7 days after created
 *	-----BEGIN SSH SIGNATURE-----
 *	...
 *	-----END SSH SIGNATURE-----
 */
#ifndef CUSTODY_INVITE_H
#define CUSTODY_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "custody/ids.h"
#include "custody/sshsig.h"

#define INVITE_MAGIC "custody-invitation-v1"
#define INVITE_NAMESPACE "custody-invite"
#define INVITE_MAX 8192			/* a whole invitation file, in bytes */
#define INVITE_NAME_MAX IDS_OFFICE_NAME_MAX	/* as an office name */
#define INVITE_ADDRESS_MAX 255
#define INVITE_KEY_LEN 32		/* the archive data key */
#define INVITE_ARCHIVE_ID_LEN 32
#define INVITE_SEALED_LEN (48 + INVITE_KEY_LEN)	/* crypto_box_SEALBYTES + key */
#define INVITE_TIME_LEN 20		/* "YYYY-MM-DDTHH:MM:SSZ" */
#define INVITE_EXPIRES_DEFAULT (7 * 86400)	/* seconds from created */
#define INVITE_EXPIRES_MAX (366 * 86400)

/* A parsed invitation; no pointers, nothing to free. */
struct invite {
	char	 office[INVITE_NAME_MAX + 1];
	uint8_t	 office_pk[ED25519_PK_LEN];
	char	 inviter[INVITE_NAME_MAX + 1];
	uint8_t	 inviter_pk[ED25519_PK_LEN];
	char	 address[INVITE_ADDRESS_MAX + 1];	/* "" when none */
	int	 has_archive_id;
	uint8_t	 archive_id[INVITE_ARCHIVE_ID_LEN];
	uint8_t	 sealed[INVITE_SEALED_LEN];
	char	 created[INVITE_TIME_LEN + 1];
	char	 expires[INVITE_TIME_LEN + 1];	/* as written, or created + 7 days when absent */
	int	 has_expires;			/* the expires line is there */
	int64_t	 expires_at;			/* expires in seconds since 1970 (UTC) */
	size_t	 signed_len;	/* bytes of the text the signature covers */
};

/* The archive id: BLAKE2b keyed by the data key over "custody archive id". */
void invite_archive_id(uint8_t out[static INVITE_ARCHIVE_ID_LEN],
    const uint8_t data_key[static INVITE_KEY_LEN]);
/* An office name: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'. 0 or EINVAL. */
int invite_check_name(const char *name);
/* An address: "" or HOST:PORT (letters, digits, . - _ : [ ], port 1-65535). 0 or EINVAL. */
int invite_check_address(const char *address);

/* "YYYY-MM-DDTHH:MM:SSZ", a real UTC calendar time from 1970 on, to seconds. 0 or EINVAL. */
int invite_time(int64_t *out, const char *s);
/* Seconds since 1970 as "YYYY-MM-DDTHH:MM:SSZ". */
void invite_format_time(char out[static INVITE_TIME_LEN + 1], int64_t t);

/*
 * Write an invitation for office (name, pk) from inviter (name, its secret key), sealing
 * data_key to the office's key; created is "YYYY-MM-DDTHH:MM:SSZ" (NULL: now). The archive id
 * is derived from data_key. Caller frees *out (NUL-terminated, ends with a newline).
 */
int invite_write(char **out, const char *office, const uint8_t office_pk[static ED25519_PK_LEN],
    const char *inviter, const uint8_t inviter_sk[static ED25519_SK_LEN], const char *address,
    const uint8_t data_key[static INVITE_KEY_LEN], const char *created);
/*
 * The same with an expiry: expires is "YYYY-MM-DDTHH:MM:SSZ" after created and at most
 * INVITE_EXPIRES_MAX later; NULL: created + INVITE_EXPIRES_DEFAULT; "" writes no expires line
 * (the older format, for tests).
 */
int invite_write_expires(char **out, const char *office,
    const uint8_t office_pk[static ED25519_PK_LEN], const char *inviter,
    const uint8_t inviter_sk[static ED25519_SK_LEN], const char *address,
    const uint8_t data_key[static INVITE_KEY_LEN], const char *created, const char *expires);
/* Parse an invitation strictly; checks no signature. 0, EINVAL or ETOOBIG. Fuzzed. */
int invite_parse(struct invite *out, const char *text, size_t len);
/*
 * Parse and check the signature is by the inviter-key it names (ECRYPTO otherwise); opens
 * nothing. What a copy of an invitation kept in a feed proves: who admitted which key and name.
 */
int invite_verify(struct invite *out, const char *text, size_t len);
/*
 * Parse, check it is addressed to the office whose secret key is sk (EPERM otherwise), verify
 * the inviter's signature over it (ECRYPTO), open the data key and check the archive id
 * (ECRYPTO). Only then is data_key written; out may be NULL.
 */
int invite_open(uint8_t data_key[static INVITE_KEY_LEN], struct invite *out, const char *text,
    size_t len, const uint8_t sk[static ED25519_SK_LEN]);

#endif
