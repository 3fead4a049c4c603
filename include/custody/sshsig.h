/* OpenSSH Ed25519 keys and SSHSIG signatures (PROTOCOL.sshsig), as git and ssh-keygen -Y use them. */
#ifndef CUSTODY_SSHSIG_H
#define CUSTODY_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

#define ED25519_PK_LEN 32
#define ED25519_SK_LEN 64	/* libsodium form: seed || public key */
#define ED25519_SIG_LEN 64

/* "ssh-ed25519 AAAA... COMMENT" (no newline); comment may be NULL or "". Caller frees *out. */
int sshkey_format_pub(char **out, const uint8_t pk[static ED25519_PK_LEN], const char *comment);
/* Parse an OpenSSH public key line; only ssh-ed25519. *comment (may be NULL) gets a copy or NULL. */
int sshkey_parse_pub(uint8_t pk[static ED25519_PK_LEN], char **comment, const char *line);
/* "SHA256:" + unpadded base64 of SHA-256(key blob), as ssh-keygen -l prints. Caller frees. */
int sshkey_fingerprint(char **out, const uint8_t pk[static ED25519_PK_LEN]);

/*
 * Sign msg with an Ed25519 key: the armored SSHSIG ("-----BEGIN SSH SIGNATURE-----" ...
 * "-----END SSH SIGNATURE-----", 70-column base64 lines, NO trailing newline, as git stores it in
 * gpgsig). hashalg is "sha512" or "sha256". Caller frees *out.
 */
int sshsig_sign(char **out, const uint8_t sk[static ED25519_SK_LEN], const char *ns,
    const char *hashalg, const void *msg, size_t len);
/*
 * Verify an armored SSHSIG (trailing whitespace allowed) over msg under namespace ns. On success
 * the signer's public key is copied to pk: the caller must check it is the key it expects.
 * Returns 0, CUSTODY_EINVAL (malformed), or CUSTODY_ECRYPTO (bad signature / wrong namespace).
 */
int sshsig_verify(uint8_t pk[static ED25519_PK_LEN], const char *armored, size_t armored_len,
    const char *ns, const void *msg, size_t len);

/* A decoded SSHSIG blob; fields point into the caller's buffer. */
struct sshsig {
	uint32_t	 version;
	uint8_t		 pk[ED25519_PK_LEN];
	const uint8_t	*ns;
	size_t		 ns_len;
	const uint8_t	*hashalg;
	size_t		 hashalg_len;
	uint8_t		 sig[ED25519_SIG_LEN];
};
/* Parse the binary (de-armored) SSHSIG blob; fuzzed. */
int sshsig_parse(struct sshsig *out, const uint8_t *blob, size_t len);
/*
 * De-armor into *blob (caller frees). Trailing whitespace is allowed, anything else around the
 * BEGIN/END lines is not; base64 lines may have any length. Over SSHSIG_ARMOR_MAX: ETOOBIG.
 */
int sshsig_dearmor(uint8_t **blob, size_t *len, const char *armored, size_t armored_len);
/* Armor a binary SSHSIG blob as ssh-keygen does, without the trailing newline. Caller frees. */
int sshsig_armor(char **out, const uint8_t *blob, size_t len);

#define SSHSIG_ARMOR_MAX 65536	/* an Ed25519 SSHSIG is ~300 bytes armored */

#endif
