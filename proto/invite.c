/* Invitations: writing, strict parsing and opening (see include/custody/invite.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "custody/common.h"
#include "custody/invite.h"
#include "custody/onion.h"
#include "custody/records.h"

#define INVITE_B64_LEN sodium_base64_ENCODED_LEN(INVITE_SEALED_LEN, \
    sodium_base64_VARIANT_ORIGINAL)
#define INVITE_LINE_MAX 512

/* A reader over the invitation's lines. */
struct invite_reader {
	const char	*p;
	size_t		 left;
};

/* The archive id of a data key. */
void
invite_archive_id(uint8_t out[static INVITE_ARCHIVE_ID_LEN],
    const uint8_t data_key[static INVITE_KEY_LEN])
{
	static const char what[] = "custody archive id";

	crypto_generichash(out, INVITE_ARCHIVE_ID_LEN, (const uint8_t *)what, sizeof what - 1,
	    data_key, INVITE_KEY_LEN);
}

/* Check an office name (domain/ids.c). */
int
invite_check_name(const char *s)
{
	return ids_office_name_ok(s, strlen(s)) ? 0 : CUSTODY_EINVAL;
}

/* Check an address: empty, or HOST:PORT with a port of 1-65535. */
int
invite_check_address(const char *s)
{
	const char *colon;
	size_t i, n = strlen(s);
	unsigned long port = 0;

	if (n == 0)
		return 0;
	if (n > INVITE_ADDRESS_MAX || (colon = strrchr(s, ':')) == NULL || colon == s ||
	    colon[1] == '\0' || strlen(colon + 1) > 5)
		return CUSTODY_EINVAL;
	for (i = 0; s + i < colon; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && strchr(".-_:[]", s[i]) == NULL)
			return CUSTODY_EINVAL;
	if (onion_is(s, (size_t)(colon - s)) && onion_check(s, (size_t)(colon - s)) < 0)
		return CUSTODY_EINVAL;
	for (i = 1; colon[i] != '\0'; i++) {
		if (colon[i] < '0' || colon[i] > '9')
			return CUSTODY_EINVAL;
		port = port * 10 + (unsigned long)(colon[i] - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : CUSTODY_EINVAL;
}

/* "YYYY-MM-DDTHH:MM:SSZ" in shape (digits where digits go). */
static int
invite_check_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (strlen(s) != sizeof shape - 1)
		return CUSTODY_EINVAL;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return CUSTODY_EINVAL;
	return 0;
}

int
invite_time(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, sec;

	if (invite_check_time(s) < 0)
		return CUSTODY_EINVAL;
	y = cdate_digits(s, 4);
	mo = cdate_digits(s + 5, 2);
	d = cdate_digits(s + 8, 2);
	h = cdate_digits(s + 11, 2);
	mi = cdate_digits(s + 14, 2);
	sec = cdate_digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return CUSTODY_EINVAL;
	if (d < 1 || d > cdate_mdays(y, mo))
		return CUSTODY_EINVAL;
	*out = cdate_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

void
invite_format_time(char out[static INVITE_TIME_LEN + 1], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, INVITE_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Take the next line "name:" or "name: VALUE" into value (NUL-terminated, at most max-1). */
static int
invite_field(struct invite_reader *r, const char *name, char *value, size_t max)
{
	const char *nl;
	size_t n, k = strlen(name);

	if ((nl = memchr(r->p, '\n', r->left)) == NULL)
		return custody_fail(CUSTODY_EINVAL, "invitation: cut short before %s", name);
	n = (size_t)(nl - r->p);
	if (n < k + 1 || memcmp(r->p, name, k) != 0 || r->p[k] != ':')
		return custody_fail(CUSTODY_EINVAL, "invitation: expected the %s line", name);
	if (n == k + 1)
		value[0] = '\0';
	else {
		if (r->p[k + 1] != ' ' || n == k + 2 || n - k - 2 >= max)
			return custody_fail(CUSTODY_EINVAL, "invitation: bad %s line", name);
		memcpy(value, r->p + k + 2, n - k - 2);
		value[n - k - 2] = '\0';
		if (strlen(value) != n - k - 2 || strpbrk(value, "\r\t") != NULL)
			return custody_fail(CUSTODY_EINVAL, "invitation: bad %s line", name);
	}
	r->p = nl + 1;
	r->left -= n + 1;
	return 0;
}

/* A key line without comment. */
static int
invite_key(uint8_t pk[static ED25519_PK_LEN], const char *line, const char *what)
{
	char *comment = NULL;

	if (sshkey_parse_pub(pk, &comment, line) < 0 || comment != NULL) {
		free(comment);
		return custody_fail(CUSTODY_EINVAL, "invitation: %s is not an ssh-ed25519 key",
		    what);
	}
	return 0;
}

/* Parse every line in order, then check the signature block's shape. */
int
invite_parse(struct invite *out, const char *text, size_t len)
{
	struct invite_reader r = { text, len };
	char line[INVITE_LINE_MAX];
	uint8_t *blob = NULL;
	struct sshsig sig;
	size_t blen;
	const char *end;
	int64_t created;
	int error;

	memset(out, 0, sizeof *out);
	if (len > INVITE_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "invitation: over %d bytes", INVITE_MAX);
	if (len < sizeof INVITE_MAGIC || memcmp(text, INVITE_MAGIC "\n", sizeof INVITE_MAGIC) != 0)
		return custody_fail(CUSTODY_EINVAL, "not a custody invitation (no %s line)",
		    INVITE_MAGIC);
	r.p += sizeof INVITE_MAGIC;
	r.left -= sizeof INVITE_MAGIC;

	if ((error = invite_field(&r, "office", out->office, sizeof out->office)) < 0)
		return error;
	if (invite_check_name(out->office) < 0)
		return custody_fail(CUSTODY_EINVAL, "invitation: bad office name");
	if ((error = invite_field(&r, "office-key", line, sizeof line)) < 0 ||
	    (error = invite_key(out->office_pk, line, "office-key")) < 0)
		return error;
	if ((error = invite_field(&r, "inviter", out->inviter, sizeof out->inviter)) < 0)
		return error;
	if (invite_check_name(out->inviter) < 0)
		return custody_fail(CUSTODY_EINVAL, "invitation: bad inviter name");
	if ((error = invite_field(&r, "inviter-key", line, sizeof line)) < 0 ||
	    (error = invite_key(out->inviter_pk, line, "inviter-key")) < 0)
		return error;
	if ((error = invite_field(&r, "inviter-address", out->address, sizeof out->address)) < 0)
		return error;
	if (invite_check_address(out->address) < 0)
		return custody_fail(CUSTODY_EINVAL, "invitation: bad inviter-address");
	if ((error = invite_field(&r, "archive", line, sizeof line)) < 0)
		return error;
	if (line[0] != '\0') {
		if (!hex_is_lower(line, 2 * INVITE_ARCHIVE_ID_LEN) ||
		    hex_decode(out->archive_id, INVITE_ARCHIVE_ID_LEN, line) < 0)
			return custody_fail(CUSTODY_EINVAL, "invitation: bad archive id");
		out->has_archive_id = 1;
	}
	if ((error = invite_field(&r, "data-key", line, sizeof line)) < 0)
		return error;
	if (strlen(line) != INVITE_B64_LEN - 1 || sodium_base642bin(out->sealed,
	    sizeof out->sealed, line, strlen(line), NULL, &blen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || blen != INVITE_SEALED_LEN || *end != '\0')
		return custody_fail(CUSTODY_EINVAL, "invitation: bad data-key");
	if ((error = invite_field(&r, "created", out->created, sizeof out->created)) < 0)
		return error;
	if (invite_time(&created, out->created) < 0)
		return custody_fail(CUSTODY_EINVAL, "invitation: bad created time");
	/* expires: optional (older invitations lack it: they expire INVITE_EXPIRES_DEFAULT on). */
	if (r.left >= 8 && memcmp(r.p, "expires:", 8) == 0) {
		if ((error = invite_field(&r, "expires", out->expires, sizeof out->expires)) < 0)
			return error;
		if (invite_time(&out->expires_at, out->expires) < 0)
			return custody_fail(CUSTODY_EINVAL, "invitation: bad expires time");
		if (out->expires_at <= created || out->expires_at - created > INVITE_EXPIRES_MAX)
			return custody_fail(CUSTODY_EINVAL, "invitation: expires is not within "
			    "%d days after created", INVITE_EXPIRES_MAX / 86400);
		out->has_expires = 1;
	} else {
		out->expires_at = created + INVITE_EXPIRES_DEFAULT;
		invite_format_time(out->expires, out->expires_at);
	}
	out->signed_len = len - r.left;

	/* The rest is exactly one armored signature (trailing whitespace allowed). */
	if ((error = sshsig_dearmor(&blob, &blen, r.p, r.left)) < 0 ||
	    (error = sshsig_parse(&sig, blob, blen)) < 0) {
		free(blob);
		return custody_fail(CUSTODY_EINVAL, "invitation: the signature is malformed");
	}
	if (sig.ns_len != strlen(INVITE_NAMESPACE) ||
	    memcmp(sig.ns, INVITE_NAMESPACE, sig.ns_len) != 0) {
		free(blob);
		return custody_fail(CUSTODY_EINVAL, "invitation: not signed as an invitation");
	}
	free(blob);
	return 0;
}

int
invite_write(char **out, const char *office, const uint8_t office_pk[static ED25519_PK_LEN],
    const char *inviter, const uint8_t inviter_sk[static ED25519_SK_LEN], const char *address,
    const uint8_t data_key[static INVITE_KEY_LEN], const char *created)
{
	return invite_write_expires(out, office, office_pk, inviter, inviter_sk, address, data_key,
	    created, NULL);
}

/* Seal the data key to the new office, write the fields, sign them. */
int
invite_write_expires(char **out, const char *office,
    const uint8_t office_pk[static ED25519_PK_LEN], const char *inviter,
    const uint8_t inviter_sk[static ED25519_SK_LEN], const char *address,
    const uint8_t data_key[static INVITE_KEY_LEN], const char *created, const char *expires)
{
	char until[INVITE_TIME_LEN + 1];
	int64_t tc, te;
	uint8_t sealed[INVITE_SEALED_LEN], xpk[32], id[INVITE_ARCHIVE_ID_LEN], ipk[32];
	char b64[INVITE_B64_LEN], idhex[2 * INVITE_ARCHIVE_ID_LEN + 1], now[32];
	char *okey = NULL, *ikey = NULL, *sig = NULL;
	struct cbuf b = { 0 };
	struct tm tm;
	time_t t;
	int error;

	*out = NULL;
	if (address == NULL)
		address = "";
	if (invite_check_name(office) < 0 || invite_check_name(inviter) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid office name");
	if (invite_check_address(address) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid address '%s' (use HOST:PORT)",
		    address);
	if (created == NULL) {
		t = time(NULL);
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
		created = now;
	}
	if (invite_time(&tc, created) < 0)
		return custody_fail(CUSTODY_EINVAL, "invalid creation time");
	if (expires == NULL) {
		invite_format_time(until, tc + INVITE_EXPIRES_DEFAULT);
		expires = until;
	}
	if (*expires != '\0' && (invite_time(&te, expires) < 0 || te <= tc ||
	    te - tc > INVITE_EXPIRES_MAX))
		return custody_fail(CUSTODY_EINVAL, "invalid expiry time (at most %d days after "
		    "the creation time)", INVITE_EXPIRES_MAX / 86400);
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, office_pk) != 0)
		return custody_fail(CUSTODY_EINVAL, "the new office's key is not a usable key");
	crypto_box_seal(sealed, data_key, INVITE_KEY_LEN, xpk);
	sodium_bin2base64(b64, sizeof b64, sealed, sizeof sealed, sodium_base64_VARIANT_ORIGINAL);
	invite_archive_id(id, data_key);
	hex_encode(idhex, id, sizeof id);
	crypto_sign_ed25519_sk_to_pk(ipk, inviter_sk);

	if ((error = sshkey_format_pub(&okey, office_pk, NULL)) < 0 ||
	    (error = sshkey_format_pub(&ikey, ipk, NULL)) < 0)
		goto done;
	if ((error = cbuf_printf(&b, "%s\noffice: %s\noffice-key: %s\ninviter: %s\n"
	    "inviter-key: %s\ninviter-address:%s%s\narchive: %s\ndata-key: %s\ncreated: %s\n"
	    "%s%s%s", INVITE_MAGIC, office, okey, inviter, ikey, *address ? " " : "", address,
	    idhex, b64, created, *expires ? "expires: " : "", expires, *expires ? "\n" : "")) < 0)
		goto done;
	if ((error = sshsig_sign(&sig, inviter_sk, INVITE_NAMESPACE, "sha512", b.data,
	    b.len)) < 0)
		goto done;
	if ((error = cbuf_printf(&b, "%s\n", sig)) < 0)
		goto done;
	*out = cbuf_detach(&b);
	error = *out != NULL ? 0 : CUSTODY_ENOMEM;
done:
	cbuf_free(&b);
	free(okey);
	free(ikey);
	free(sig);
	return error;
}

/* Parse, then check the signature is the inviter's. */
int
invite_verify(struct invite *out, const char *text, size_t len)
{
	uint8_t signer[ED25519_PK_LEN];
	int error;

	if ((error = invite_parse(out, text, len)) < 0)
		return error;
	if (sshsig_verify(signer, text + out->signed_len, len - out->signed_len,
	    INVITE_NAMESPACE, text, out->signed_len) < 0)
		return custody_fail(CUSTODY_ECRYPTO, "the invitation's signature does not verify: "
		    "it was changed or forged");
	if (sodium_memcmp(signer, out->inviter_pk, ED25519_PK_LEN) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "the invitation is not signed by the key of "
		    "the inviter it names");
	return 0;
}

/* Check recipient, signature and signer, then unseal the data key. */
int
invite_open(uint8_t data_key[static INVITE_KEY_LEN], struct invite *out, const char *text,
    size_t len, const uint8_t sk[static ED25519_SK_LEN])
{
	struct invite inv;
	uint8_t pk[ED25519_PK_LEN], xpk[32], id[INVITE_ARCHIVE_ID_LEN];
	uint8_t *xsk = NULL, *dk = NULL;
	int error;

	if ((error = invite_parse(&inv, text, len)) < 0)
		return error;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	if (sodium_memcmp(pk, inv.office_pk, ED25519_PK_LEN) != 0)
		return custody_fail(CUSTODY_EPERM, "this invitation is for another office's key "
		    "(it names office %s)", inv.office);
	if ((error = invite_verify(&inv, text, len)) < 0)
		return error;
	xsk = sodium_malloc(32);
	dk = sodium_malloc(INVITE_KEY_LEN);
	if (xsk == NULL || dk == NULL) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, sk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0 ||
	    crypto_box_seal_open(dk, inv.sealed, sizeof inv.sealed, xpk, xsk) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "the invitation's data key is not sealed "
		    "to this office's key");
		goto done;
	}
	invite_archive_id(id, dk);
	if (inv.has_archive_id && sodium_memcmp(id, inv.archive_id, sizeof id) != 0) {
		error = custody_fail(CUSTODY_ECRYPTO, "the invitation's data key does not match "
		    "its archive id");
		goto done;
	}
	memcpy(data_key, dk, INVITE_KEY_LEN);
	if (out != NULL)
		*out = inv;
	error = 0;
done:
	sodium_free(xsk);
	sodium_free(dk);
	sodium_memzero(&inv, sizeof inv);
	return error;
}
