/* OpenSSH Ed25519 keys and SSHSIG signatures (PROTOCOL.sshsig), as git and ssh-keygen -Y use them. */
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "custody/common.h"
#include "custody/sshsig.h"

#define SSHSIG_MAGIC		"SSHSIG"
#define SSHSIG_MAGIC_LEN	6
#define SSHSIG_VERSION		1
#define SSHSIG_KEYTYPE		"ssh-ed25519"
#define SSHSIG_KEYTYPE_LEN	11
#define SSHSIG_BEGIN		"-----BEGIN SSH SIGNATURE-----"
#define SSHSIG_END		"-----END SSH SIGNATURE-----"
#define SSHSIG_LINE		70	/* ssh-keygen's armor line length */
#define SSHKEY_BLOB_LEN		(4 + SSHSIG_KEYTYPE_LEN + 4 + ED25519_PK_LEN)
#define SSHKEY_B64_MAX		128	/* the 51-byte blob is 68 base64 characters */

/* True when the n bytes at p are exactly the C string s. */
static int
sshsig_eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && (n == 0 || memcmp(p, s, n) == 0);
}

/* True for the whitespace tolerated around keys and armor. */
static int
sshsig_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Hash msg with "sha256" or "sha512" into md; *md_len gets the digest length. */
static int
sshsig_hash(uint8_t md[static 64], size_t *md_len, const uint8_t *alg, size_t alg_len,
    const void *msg, size_t len)
{
	const EVP_MD *type;
	unsigned int n;

	if (sshsig_eq(alg, alg_len, "sha512"))
		type = EVP_sha512();
	else if (sshsig_eq(alg, alg_len, "sha256"))
		type = EVP_sha256();
	else
		return custody_fail(CUSTODY_EINVAL, "sshsig: unsupported hash algorithm");
	if (msg == NULL)
		msg = "";
	if (EVP_Digest(msg, len, md, &n, type, NULL) != 1)
		return custody_fail(CUSTODY_ERR, "sshsig: EVP_Digest failed");
	*md_len = n;
	return 0;
}

/* The key blob: string "ssh-ed25519", string pk. */
static int
sshkey_put_blob(struct cbuf *b, const uint8_t pk[static ED25519_PK_LEN])
{
	int error;

	if ((error = cbuf_put_sshstr(b, SSHSIG_KEYTYPE, SSHSIG_KEYTYPE_LEN)) < 0)
		return error;
	return cbuf_put_sshstr(b, pk, ED25519_PK_LEN);
}

/* Parse a key blob (exactly string "ssh-ed25519", string 32-byte pk). */
static int
sshkey_parse_blob(uint8_t pk[static ED25519_PK_LEN], const uint8_t *blob, size_t len)
{
	struct cursor c = { blob, len };
	const uint8_t *type, *key;
	size_t type_len, key_len;

	if (cursor_get_sshstr(&c, &type, &type_len) < 0 ||
	    cursor_get_sshstr(&c, &key, &key_len) < 0)
		return custody_fail(CUSTODY_EINVAL, "ssh key: truncated key blob");
	if (!sshsig_eq(type, type_len, SSHSIG_KEYTYPE))
		return custody_fail(CUSTODY_EINVAL, "ssh key: key type is not ssh-ed25519");
	if (key_len != ED25519_PK_LEN)
		return custody_fail(CUSTODY_EINVAL, "ssh key: Ed25519 key of %zu bytes", key_len);
	if (c.left != 0)
		return custody_fail(CUSTODY_EINVAL, "ssh key: trailing bytes in key blob");
	memcpy(pk, key, ED25519_PK_LEN);
	return 0;
}

/* Standard base64 of len bytes, padded or not, appended to b. */
static int
sshsig_put_base64(struct cbuf *b, const uint8_t *p, size_t len, int variant)
{
	size_t n = sodium_base64_encoded_len(len, variant);
	int error;

	if ((error = cbuf_reserve(b, n)) < 0)
		return error;
	sodium_bin2base64((char *)b->data + b->len, n, p, len, variant);
	b->len += n - 1;
	return 0;
}

/* "ssh-ed25519 BASE64 [comment]". */
int
sshkey_format_pub(char **out, const uint8_t pk[static ED25519_PK_LEN], const char *comment)
{
	struct cbuf blob = { 0 }, line = { 0 };
	int error;

	*out = NULL;
	if (comment != NULL && strpbrk(comment, "\r\n") != NULL) {
		error = custody_fail(CUSTODY_EINVAL, "ssh key: comment has a line break");
		goto done;
	}
	if ((error = sshkey_put_blob(&blob, pk)) < 0 ||
	    (error = cbuf_puts(&line, SSHSIG_KEYTYPE " ")) < 0 ||
	    (error = sshsig_put_base64(&line, blob.data, blob.len,
	    sodium_base64_VARIANT_ORIGINAL)) < 0)
		goto done;
	if (comment != NULL && *comment != '\0' &&
	    (error = cbuf_printf(&line, " %s", comment)) < 0)
		goto done;
	if ((*out = cbuf_detach(&line)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	cbuf_free(&blob);
	cbuf_free(&line);
	return error;
}

/* Parse "ssh-ed25519 BASE64 [comment]" with optional surrounding whitespace. */
int
sshkey_parse_pub(uint8_t pk[static ED25519_PK_LEN], char **comment, const char *line)
{
	uint8_t blob[SSHKEY_B64_MAX];
	const char *p = line, *tok, *end;
	size_t tok_len, blob_len;
	int error;

	if (comment != NULL)
		*comment = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	for (tok = p; *p != '\0' && !sshsig_isspace(*p); p++)
		;
	if (!sshsig_eq((const uint8_t *)tok, (size_t)(p - tok), SSHSIG_KEYTYPE))
		return custody_fail(CUSTODY_EINVAL, "ssh key: not an ssh-ed25519 key line");
	if (*p != ' ' && *p != '\t')
		return custody_fail(CUSTODY_EINVAL, "ssh key: no key after the key type");
	while (*p == ' ' || *p == '\t')
		p++;
	for (tok = p; *p != '\0' && !sshsig_isspace(*p); p++)
		;
	tok_len = (size_t)(p - tok);
	if (tok_len == 0 || tok_len > SSHKEY_B64_MAX ||
	    sodium_base642bin(blob, sizeof blob, tok, tok_len, NULL, &blob_len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return custody_fail(CUSTODY_EINVAL, "ssh key: bad base64 key");
	if ((error = sshkey_parse_blob(pk, blob, blob_len)) < 0)
		return error;

	/* The rest of the line, trimmed, is the comment; it may not span lines. */
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && sshsig_isspace(end[-1]))
		end--;
	if (memchr(p, '\n', (size_t)(end - p)) != NULL || memchr(p, '\r', (size_t)(end - p)) != NULL)
		return custody_fail(CUSTODY_EINVAL, "ssh key: more than one line");
	if (comment != NULL && end > p && (*comment = strndup(p, (size_t)(end - p))) == NULL)
		return CUSTODY_ENOMEM;
	return 0;
}

/* "SHA256:" + unpadded base64 of SHA-256 of the key blob. */
int
sshkey_fingerprint(char **out, const uint8_t pk[static ED25519_PK_LEN])
{
	struct cbuf blob = { 0 }, fp = { 0 };
	uint8_t md[64];
	size_t md_len;
	int error;

	*out = NULL;
	if ((error = sshkey_put_blob(&blob, pk)) < 0 ||
	    (error = sshsig_hash(md, &md_len, (const uint8_t *)"sha256", 6, blob.data,
	    blob.len)) < 0 ||
	    (error = cbuf_puts(&fp, "SHA256:")) < 0 ||
	    (error = sshsig_put_base64(&fp, md, md_len,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)) < 0)
		goto done;
	if ((*out = cbuf_detach(&fp)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	cbuf_free(&blob);
	cbuf_free(&fp);
	return error;
}

/* The bytes Ed25519 signs: "SSHSIG", string ns, string "", string hashalg, string H(msg). */
static int
sshsig_signed_data(struct cbuf *b, const uint8_t *ns, size_t ns_len, const uint8_t *alg,
    size_t alg_len, const void *msg, size_t len)
{
	uint8_t md[64];
	size_t md_len;
	int error;

	if ((error = sshsig_hash(md, &md_len, alg, alg_len, msg, len)) < 0)
		return error;
	if ((error = cbuf_put(b, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) < 0 ||
	    (error = cbuf_put_sshstr(b, ns, ns_len)) < 0 ||
	    (error = cbuf_put_sshstr(b, NULL, 0)) < 0 ||
	    (error = cbuf_put_sshstr(b, alg, alg_len)) < 0 ||
	    (error = cbuf_put_sshstr(b, md, md_len)) < 0)
		return error;
	return 0;
}

/* Armor a blob: BEGIN line, 70-column base64 lines, END line without a final newline. */
int
sshsig_armor(char **out, const uint8_t *blob, size_t len)
{
	struct cbuf b64 = { 0 }, armor = { 0 };
	size_t off, n;
	int error;

	*out = NULL;
	if ((error = sshsig_put_base64(&b64, blob, len, sodium_base64_VARIANT_ORIGINAL)) < 0 ||
	    (error = cbuf_puts(&armor, SSHSIG_BEGIN "\n")) < 0)
		goto done;
	for (off = 0; off < b64.len; off += n) {
		n = b64.len - off < SSHSIG_LINE ? b64.len - off : SSHSIG_LINE;
		if ((error = cbuf_put(&armor, b64.data + off, n)) < 0 ||
		    (error = cbuf_put_u8(&armor, '\n')) < 0)
			goto done;
	}
	if ((error = cbuf_puts(&armor, SSHSIG_END)) < 0)
		goto done;
	if ((*out = cbuf_detach(&armor)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	cbuf_free(&b64);
	cbuf_free(&armor);
	return error;
}

/* Sign msg under namespace ns and return the armored SSHSIG. */
int
sshsig_sign(char **out, const uint8_t sk[static ED25519_SK_LEN], const char *ns,
    const char *hashalg, const void *msg, size_t len)
{
	struct cbuf data = { 0 }, sigstr = { 0 }, blob = { 0 };
	const uint8_t *pk = sk + ED25519_SK_LEN - ED25519_PK_LEN;
	uint8_t sig[ED25519_SIG_LEN], seed_pk[ED25519_PK_LEN], seed_sk[ED25519_SK_LEN];
	size_t ns_len, alg_len;
	int error, bad;

	*out = NULL;
	if (ns == NULL || (ns_len = strlen(ns)) == 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: empty namespace");
	if (hashalg == NULL)
		return custody_fail(CUSTODY_EINVAL, "sshsig: no hash algorithm");
	alg_len = strlen(hashalg);
	if (sodium_init() < 0)
		return custody_fail(CUSTODY_ERR, "sshsig: sodium_init failed");

	/* A damaged key file would otherwise give signatures that nothing verifies. */
	crypto_sign_seed_keypair(seed_pk, seed_sk, sk);
	bad = sodium_memcmp(seed_pk, pk, ED25519_PK_LEN) != 0;
	sodium_memzero(seed_sk, sizeof seed_sk);
	if (bad)
		return custody_fail(CUSTODY_EINVAL, "sshsig: public half does not match the seed");
	if ((error = sshsig_signed_data(&data, (const uint8_t *)ns, ns_len,
	    (const uint8_t *)hashalg, alg_len, msg, len)) < 0)
		goto done;
	if (crypto_sign_detached(sig, NULL, data.data, data.len, sk) != 0) {
		error = custody_fail(CUSTODY_ERR, "sshsig: Ed25519 signing failed");
		goto done;
	}
	if ((error = cbuf_put_sshstr(&sigstr, SSHSIG_KEYTYPE, SSHSIG_KEYTYPE_LEN)) < 0 ||
	    (error = cbuf_put_sshstr(&sigstr, sig, sizeof sig)) < 0)
		goto done;
	if ((error = cbuf_put(&blob, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) < 0 ||
	    (error = cbuf_put_u32be(&blob, SSHSIG_VERSION)) < 0 ||
	    (error = cbuf_put_u32be(&blob, SSHKEY_BLOB_LEN)) < 0 ||
	    (error = sshkey_put_blob(&blob, pk)) < 0 ||
	    (error = cbuf_put_sshstr(&blob, ns, ns_len)) < 0 ||
	    (error = cbuf_put_sshstr(&blob, NULL, 0)) < 0 ||
	    (error = cbuf_put_sshstr(&blob, hashalg, alg_len)) < 0 ||
	    (error = cbuf_put_sshstr(&blob, sigstr.data, sigstr.len)) < 0)
		goto done;
	error = sshsig_armor(out, blob.data, blob.len);
done:
	cbuf_free(&data);
	cbuf_free(&sigstr);
	cbuf_free(&blob);
	return error;
}

/* Parse the signature field: exactly string "ssh-ed25519", string 64-byte signature. */
static int
sshsig_parse_sigfield(uint8_t sig[static ED25519_SIG_LEN], const uint8_t *p, size_t len)
{
	struct cursor c = { p, len };
	const uint8_t *type, *s;
	size_t type_len, s_len;

	if (cursor_get_sshstr(&c, &type, &type_len) < 0 ||
	    cursor_get_sshstr(&c, &s, &s_len) < 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: truncated signature field");
	if (!sshsig_eq(type, type_len, SSHSIG_KEYTYPE))
		return custody_fail(CUSTODY_EINVAL, "sshsig: signature type is not ssh-ed25519");
	if (s_len != ED25519_SIG_LEN)
		return custody_fail(CUSTODY_EINVAL, "sshsig: Ed25519 signature of %zu bytes",
		    s_len);
	if (c.left != 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: trailing bytes in signature field");
	memcpy(sig, s, ED25519_SIG_LEN);
	return 0;
}

/*
 * Parse a binary SSHSIG blob. Stricter than the spec: the reserved field must be empty (OpenSSH
 * never signs it, so a non-empty one would make the blob malleable), and the hash must be one
 * we know.
 */
int
sshsig_parse(struct sshsig *out, const uint8_t *blob, size_t len)
{
	struct cursor c = { blob, len };
	const uint8_t *key, *reserved, *sigfield;
	size_t key_len, reserved_len, sigfield_len;
	uint8_t magic[SSHSIG_MAGIC_LEN];
	int error;

	memset(out, 0, sizeof *out);
	if (cursor_get(&c, magic, sizeof magic) < 0 ||
	    memcmp(magic, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: no SSHSIG magic");
	if (cursor_get_u32be(&c, &out->version) < 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: truncated");
	if (out->version != SSHSIG_VERSION)
		return custody_fail(CUSTODY_EINVAL, "sshsig: unsupported version %u",
		    out->version);
	if (cursor_get_sshstr(&c, &key, &key_len) < 0 ||
	    cursor_get_sshstr(&c, &out->ns, &out->ns_len) < 0 ||
	    cursor_get_sshstr(&c, &reserved, &reserved_len) < 0 ||
	    cursor_get_sshstr(&c, &out->hashalg, &out->hashalg_len) < 0 ||
	    cursor_get_sshstr(&c, &sigfield, &sigfield_len) < 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: truncated");
	if (c.left != 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: %zu trailing bytes", c.left);
	if ((error = sshkey_parse_blob(out->pk, key, key_len)) < 0)
		return error;
	if (out->ns_len == 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: empty namespace");
	if (reserved_len != 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: reserved field is not empty");
	if (!sshsig_eq(out->hashalg, out->hashalg_len, "sha512") &&
	    !sshsig_eq(out->hashalg, out->hashalg_len, "sha256"))
		return custody_fail(CUSTODY_EINVAL, "sshsig: unsupported hash algorithm");
	return sshsig_parse_sigfield(out->sig, sigfield, sigfield_len);
}

/* Strip the armor and decode the base64 between the BEGIN and END lines. */
int
sshsig_dearmor(uint8_t **blob, size_t *len, const char *armored, size_t armored_len)
{
	const size_t begin_len = sizeof SSHSIG_BEGIN - 1, end_len = sizeof SSHSIG_END - 1;
	size_t body, tail, end = armored_len, cap;
	uint8_t *out;

	*blob = NULL;
	*len = 0;
	if (armored_len > SSHSIG_ARMOR_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "sshsig: armored signature too large");
	while (end > 0 && sshsig_isspace(armored[end - 1]))
		end--;
	if (end < begin_len || memcmp(armored, SSHSIG_BEGIN, begin_len) != 0)
		return custody_fail(CUSTODY_EINVAL, "sshsig: no BEGIN SSH SIGNATURE line");
	body = begin_len;
	if (body < end && armored[body] == '\r')
		body++;
	if (body >= end || armored[body] != '\n')
		return custody_fail(CUSTODY_EINVAL, "sshsig: garbage after the BEGIN line");
	body++;
	if (end - body < end_len + 1 || memcmp(armored + end - end_len, SSHSIG_END, end_len) != 0 ||
	    armored[end - end_len - 1] != '\n')
		return custody_fail(CUSTODY_EINVAL, "sshsig: no END SSH SIGNATURE line");
	tail = end - end_len - 1;
	if (tail == body)
		return custody_fail(CUSTODY_EINVAL, "sshsig: empty signature");

	cap = (tail - body) / 4 * 3 + 3;
	if ((out = malloc(cap)) == NULL)
		return CUSTODY_ENOMEM;
	if (sodium_base642bin(out, cap, armored + body, tail - body, "\r\n", len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *len == 0) {
		free(out);
		*len = 0;
		return custody_fail(CUSTODY_EINVAL, "sshsig: bad base64 in signature");
	}
	*blob = out;
	return 0;
}

/* Verify an armored SSHSIG over msg under namespace ns; the signer's key goes to pk. */
int
sshsig_verify(uint8_t pk[static ED25519_PK_LEN], const char *armored, size_t armored_len,
    const char *ns, const void *msg, size_t len)
{
	struct cbuf data = { 0 };
	struct sshsig sig;
	uint8_t *blob = NULL;
	size_t blob_len;
	int error;

	memset(pk, 0, ED25519_PK_LEN);
	if (ns == NULL || *ns == '\0')
		return custody_fail(CUSTODY_EINVAL, "sshsig: empty namespace");
	if (sodium_init() < 0)
		return custody_fail(CUSTODY_ERR, "sshsig: sodium_init failed");
	if ((error = sshsig_dearmor(&blob, &blob_len, armored, armored_len)) < 0 ||
	    (error = sshsig_parse(&sig, blob, blob_len)) < 0)
		goto done;
	if (!sshsig_eq(sig.ns, sig.ns_len, ns)) {
		error = custody_fail(CUSTODY_ECRYPTO, "sshsig: namespace does not match \"%s\"",
		    ns);
		goto done;
	}
	if ((error = sshsig_signed_data(&data, (const uint8_t *)ns, strlen(ns), sig.hashalg,
	    sig.hashalg_len, msg, len)) < 0)
		goto done;
	if (crypto_sign_verify_detached(sig.sig, data.data, data.len, sig.pk) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "sshsig: incorrect signature");
		goto done;
	}
	memcpy(pk, sig.pk, ED25519_PK_LEN);
	error = 0;
done:
	cbuf_free(&data);
	free(blob);
	return error;
}
