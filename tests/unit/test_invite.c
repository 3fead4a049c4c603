/* Invitations: round trip, ssh-keygen verifies the signature, tampering, wrong keys, garbage. */
#include <sys/types.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "custody/common.h"
#include "custody/invite.h"
#include "custody/sshsig.h"

struct keys {
	uint8_t	 a_pk[32], a_sk[64];	/* inviter */
	uint8_t	 b_pk[32], b_sk[64];	/* new office */
	uint8_t	 c_pk[32], c_sk[64];	/* someone else */
	uint8_t	 dk[INVITE_KEY_LEN];
	char	*text;			/* A's invitation for B */
};

static int
setup(void **state)
{
	struct keys *k = calloc(1, sizeof *k);

	if (k == NULL || sodium_init() < 0)
		return -1;
	crypto_sign_keypair(k->a_pk, k->a_sk);
	crypto_sign_keypair(k->b_pk, k->b_sk);
	crypto_sign_keypair(k->c_pk, k->c_sk);
	randombytes_buf(k->dk, sizeof k->dk);
	if (invite_write(&k->text, "branch-b", k->b_pk, "hq", k->a_sk, "hq.example.org:7400",
	    k->dk, "2026-11-28T12:00:00Z") < 0)
		return -1;
	*state = k;
	return 0;
}

static int
teardown(void **state)
{
	struct keys *k = *state;

	free(k->text);
	free(k);
	return 0;
}

/* Replace the first occurrence of from with to in text (a new string). */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) > 0);
	return out;
}

static void
test_round_trip(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	uint8_t dk[INVITE_KEY_LEN], id[INVITE_ARCHIVE_ID_LEN];

	assert_int_equal(invite_parse(&inv, k->text, strlen(k->text)), 0);
	assert_string_equal(inv.office, "branch-b");
	assert_string_equal(inv.inviter, "hq");
	assert_string_equal(inv.address, "hq.example.org:7400");
	assert_string_equal(inv.created, "2026-11-28T12:00:00Z");
	assert_memory_equal(inv.office_pk, k->b_pk, 32);
	assert_memory_equal(inv.inviter_pk, k->a_pk, 32);
	assert_true(inv.has_archive_id);
	invite_archive_id(id, k->dk);
	assert_memory_equal(inv.archive_id, id, sizeof id);
	assert_true(strncmp(k->text, INVITE_MAGIC "\n", sizeof INVITE_MAGIC) == 0);

	memset(dk, 0, sizeof dk);
	memset(&inv, 0, sizeof inv);
	assert_int_equal(invite_open(dk, &inv, k->text, strlen(k->text), k->b_sk), 0);
	assert_memory_equal(dk, k->dk, sizeof dk);
	assert_string_equal(inv.inviter, "hq");

	/* No address, default time: still round trips. */
	{
		char *t;

		assert_int_equal(invite_write(&t, "b", k->b_pk, "a", k->a_sk, NULL, k->dk, NULL),
		    0);
		assert_non_null(strstr(t, "\ninviter-address:\n"));
		assert_int_equal(invite_open(dk, &inv, t, strlen(t), k->b_sk), 0);
		assert_string_equal(inv.address, "");
		assert_memory_equal(dk, k->dk, sizeof dk);
		free(t);
	}
	/* A different data key gives a different archive id. */
	{
		uint8_t other[INVITE_KEY_LEN], id2[INVITE_ARCHIVE_ID_LEN];

		memcpy(other, k->dk, sizeof other);
		other[0] ^= 1;
		invite_archive_id(id2, other);
		assert_memory_not_equal(id, id2, sizeof id);
	}
}

static void
test_write_refuses_bad_input(void **state)
{
	struct keys *k = *state;
	char *t = NULL;

	assert_int_equal(invite_write(&t, "-b", k->b_pk, "a", k->a_sk, "", k->dk, NULL),
	    CUSTODY_EINVAL);
	assert_int_equal(invite_write(&t, "b", k->b_pk, "a b", k->a_sk, "", k->dk, NULL),
	    CUSTODY_EINVAL);
	assert_int_equal(invite_write(&t, "b", k->b_pk, "a", k->a_sk, "host", k->dk, NULL),
	    CUSTODY_EINVAL);
	assert_int_equal(invite_write(&t, "b", k->b_pk, "a", k->a_sk, "host:0", k->dk, NULL),
	    CUSTODY_EINVAL);
	assert_int_equal(invite_write(&t, "b", k->b_pk, "a", k->a_sk, "h st:1", k->dk, NULL),
	    CUSTODY_EINVAL);
	assert_int_equal(invite_write(&t, "b", k->b_pk, "a", k->a_sk, "h:1", k->dk, "yesterday"),
	    CUSTODY_EINVAL);
	assert_null(t);
	assert_int_equal(invite_check_address("[::1]:7400"), 0);
	assert_int_equal(invite_check_address("10.0.0.1:65535"), 0);
	assert_int_equal(invite_check_address("10.0.0.1:65536"), CUSTODY_EINVAL);
	assert_int_equal(invite_check_address(":80"), CUSTODY_EINVAL);
}

/* ssh-keygen -Y verify accepts the inviter's signature over the signed part. */
static void
test_interop_ssh_keygen(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	char dir[] = "/tmp/test_invite.XXXXXX", cmd[1024], path[512], *line;
	FILE *f;
	int rc;

	if (system("command -v ssh-keygen >/dev/null 2>&1") != 0) {
		fprintf(stderr, "ssh-keygen not installed: skipping interop\n");
		skip();
	}
	assert_int_equal(invite_parse(&inv, k->text, strlen(k->text)), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/msg", dir);
	assert_non_null(f = fopen(path, "w"));
	fwrite(k->text, 1, inv.signed_len, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/sig", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(k->text + inv.signed_len, f);
	fclose(f);
	assert_int_equal(sshkey_format_pub(&line, k->a_pk, NULL), 0);
	snprintf(path, sizeof path, "%s/allowed", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "hq namespaces=\"custody-invite\" %s\n", line);
	fclose(f);
	free(line);
	snprintf(cmd, sizeof cmd, "ssh-keygen -Y verify -f %s/allowed -I hq -n custody-invite "
	    "-s %s/sig < %s/msg >/dev/null 2>&1", dir, dir, dir);
	rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	/* and refuses it over a changed message */
	snprintf(cmd, sizeof cmd, "sed -i 's/branch-b/branch-x/' %s/msg && ssh-keygen -Y verify "
	    "-f %s/allowed -I hq -n custody-invite -s %s/sig < %s/msg >/dev/null 2>&1", dir, dir,
	    dir, dir);
	rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) != 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_wrong_recipient(void **state)
{
	struct keys *k = *state;
	uint8_t dk[INVITE_KEY_LEN] = { 0 };

	assert_int_equal(invite_open(dk, NULL, k->text, strlen(k->text), k->c_sk), CUSTODY_EPERM);
	assert_int_equal(invite_open(dk, NULL, k->text, strlen(k->text), k->a_sk), CUSTODY_EPERM);
	assert_true(sodium_is_zero(dk, sizeof dk));
}

/* Every single-byte change of the signed part is refused, and the key is never released. */
static void
test_every_byte_tampered(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	uint8_t dk[INVITE_KEY_LEN] = { 0 };
	size_t i, n = strlen(k->text), refused = 0;
	char *t = strdup(k->text);

	assert_int_equal(invite_parse(&inv, k->text, n), 0);
	for (i = 0; i < inv.signed_len; i++) {
		char was = t[i];

		/* a change that keeps the shape where it can: digit for digit, letter for letter */
		t[i] = was >= '0' && was <= '8' ? was + 1 : was == '9' ? '0' : was >= 'a' &&
		    was < 'z' ? was + 1 : was >= 'A' && was < 'Z' ? was + 1 : was == 'z' ? 'a' :
		    was == 'Z' ? 'A' : was == '\n' ? ' ' : 'x';
		if (invite_open(dk, NULL, t, n, k->b_sk) < 0)
			refused++;
		t[i] = was;
	}
	assert_int_equal(refused, inv.signed_len);
	assert_true(sodium_is_zero(dk, sizeof dk));
	/* and the untouched copy still opens */
	assert_int_equal(invite_open(dk, NULL, t, n, k->b_sk), 0);
	free(t);
}

/* Re-addressing, re-signing and swapping the sealed key are caught for what they are. */
static void
test_field_tampers(void **state)
{
	struct keys *k = *state;
	uint8_t dk[INVITE_KEY_LEN], other[INVITE_KEY_LEN], xpk[32], sealed[INVITE_SEALED_LEN];
	char *b_line, *c_line, *t, *t2, *sig, b64[200], *at;
	struct invite inv;

	assert_int_equal(sshkey_format_pub(&b_line, k->b_pk, NULL), 0);
	assert_int_equal(sshkey_format_pub(&c_line, k->c_pk, NULL), 0);

	/* Re-addressed to C: C's key matches, the signature does not. */
	t = replace(k->text, b_line, c_line);
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->c_sk), CUSTODY_ECRYPTO);
	free(t);

	/* Renamed office, changed address, later date: signature. */
	t = replace(k->text, "office: branch-b", "office: branch-c");
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->b_sk), CUSTODY_ECRYPTO);
	free(t);
	t = replace(k->text, "hq.example.org:7400", "evil.example.org:7400");
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->b_sk), CUSTODY_ECRYPTO);
	free(t);
	t = replace(k->text, "created: 2026-11-28", "created: 2026-11-29");
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->b_sk), CUSTODY_ECRYPTO);
	free(t);

	/* Another data key sealed to B: signature. */
	randombytes_buf(other, sizeof other);
	assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(xpk, k->b_pk), 0);
	crypto_box_seal(sealed, other, sizeof other, xpk);
	sodium_bin2base64(b64, sizeof b64, sealed, sizeof sealed, sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(at = strstr(k->text, "data-key: "));
	assert_true(asprintf(&t, "%.*sdata-key: %s%s", (int)(at - k->text), k->text, b64,
	    strchr(at, '\n')) > 0);
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->b_sk), CUSTODY_ECRYPTO);

	/* ... and re-signed by C while still naming A as the inviter: wrong signer. */
	assert_int_equal(invite_parse(&inv, t, strlen(t)), 0);
	assert_int_equal(sshsig_sign(&sig, k->c_sk, INVITE_NAMESPACE, "sha512", t,
	    inv.signed_len), 0);
	assert_true(asprintf(&t2, "%.*s%s\n", (int)inv.signed_len, t, sig) > 0);
	assert_int_equal(invite_open(dk, NULL, t2, strlen(t2), k->b_sk), CUSTODY_ECRYPTO);
	free(t2);
	free(sig);

	/* ... and re-signed by A itself (a valid signature) over a key that is not its archive's:
	 * the archive id catches the mismatch. */
	assert_int_equal(sshsig_sign(&sig, k->a_sk, INVITE_NAMESPACE, "sha512", t,
	    inv.signed_len), 0);
	assert_true(asprintf(&t2, "%.*s%s\n", (int)inv.signed_len, t, sig) > 0);
	assert_int_equal(invite_open(dk, NULL, t2, strlen(t2), k->b_sk), CUSTODY_ECRYPTO);
	free(t2);
	free(sig);
	free(t);

	/* Signed under another namespace (a git commit signature reused): malformed. */
	assert_int_equal(invite_parse(&inv, k->text, strlen(k->text)), 0);
	assert_int_equal(sshsig_sign(&sig, k->a_sk, "git", "sha512", k->text, inv.signed_len), 0);
	assert_true(asprintf(&t, "%.*s%s\n", (int)inv.signed_len, k->text, sig) > 0);
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->b_sk), CUSTODY_EINVAL);
	free(t);
	free(sig);

	/* Something after the signature. */
	assert_true(asprintf(&t, "%sdata-key: x\n", k->text) > 0);
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	free(b_line);
	free(c_line);
}

/* Strict shape: CRLF, comments on keys, extra or missing fields, bad values. */
static void
test_strict(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	char *t, *crlf, *p;
	size_t i, n = strlen(k->text);

	/* CRLF line endings */
	assert_non_null(crlf = malloc(2 * n + 1));
	for (i = 0, p = crlf; i < n; i++) {
		if (k->text[i] == '\n')
			*p++ = '\r';
		*p++ = k->text[i];
	}
	*p = '\0';
	assert_int_equal(invite_parse(&inv, crlf, strlen(crlf)), CUSTODY_EINVAL);
	free(crlf);

	t = replace(k->text, "\ninviter: hq\n", "\nextra: 1\ninviter: hq\n");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\ninviter: hq\n", "\n");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\ninviter: hq\n", "\ninviter:  hq\n");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\ninviter: hq\n", "\ninviter: ..hq\n");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\ninviter-address:", "\ninviter-address: nohost\nx:");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\narchive: ", "\narchive: A");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\ncreated: 2026", "\ncreated: 026");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	t = replace(k->text, "\ndata-key: ", "\ndata-key: AAAA");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	/* a key line with a comment */
	p = strstr(k->text, "\ninviter: ");
	assert_non_null(p);
	t = malloc(n + 8);
	memcpy(t, k->text, (size_t)(p - k->text));
	strcpy(t + (p - k->text), " bob");
	strcat(t, p);
	assert_int_equal(invite_parse(&inv, t, strlen(t)), CUSTODY_EINVAL);
	free(t);
	/* a NUL inside a value */
	t = strdup(k->text);
	t[strstr(t, "branch-b") - t + 3] = '\0';
	assert_int_equal(invite_parse(&inv, t, n), CUSTODY_EINVAL);
	free(t);
}

/* Every prefix of a good invitation is refused; no crash. */
static void
test_truncated(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	uint8_t dk[INVITE_KEY_LEN];
	size_t n = strlen(k->text), i;
	char *t;

	for (i = 0; i < n - 1; i++) {
		/* a private copy of exactly i bytes, so ASan sees any overread */
		assert_non_null(t = malloc(i ? i : 1));
		memcpy(t, k->text, i);
		assert_true(invite_parse(&inv, t, i) < 0);
		assert_true(invite_open(dk, NULL, t, i, k->b_sk) < 0);
		free(t);
	}
	/* the final newline is optional (trailing whitespace) */
	assert_int_equal(invite_parse(&inv, k->text, n - 1), 0);
}

static void
test_garbage(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	uint8_t buf[INVITE_MAX + 10], dk[INVITE_KEY_LEN];
	int i;

	assert_int_equal(invite_parse(&inv, "", 0), CUSTODY_EINVAL);
	assert_int_equal(invite_parse(&inv, INVITE_MAGIC, strlen(INVITE_MAGIC)), CUSTODY_EINVAL);
	assert_int_equal(invite_parse(&inv, INVITE_MAGIC "\n", strlen(INVITE_MAGIC) + 1),
	    CUSTODY_EINVAL);
	assert_int_equal(invite_parse(&inv, "custody-invitation-v2\n", 22), CUSTODY_EINVAL);
	memset(buf, 'a', sizeof buf);
	assert_int_equal(invite_parse(&inv, (char *)buf, sizeof buf), CUSTODY_ETOOBIG);
	for (i = 0; i < 2000; i++) {
		size_t n = randombytes_uniform(600);

		randombytes_buf(buf, n);
		if (i % 2)
			memcpy(buf, INVITE_MAGIC "\noffice: ", n < 30 ? n : 30);
		assert_true(invite_parse(&inv, (char *)buf, n) < 0);
		assert_true(invite_open(dk, NULL, (char *)buf, n, k->b_sk) < 0);
	}
}

/* The expiry line: written by default, parsed strictly, older invitations without it. */
static void
test_expires(void **state)
{
	struct keys *k = *state;
	struct invite inv;
	uint8_t dk[INVITE_KEY_LEN];
	char *t, *t2;
	int64_t at;
	size_t i;
	static const char *bad[] = {
		"expires: 2026-13-01T00:00:00Z\n",	/* no such month */
		"expires: 2026-11-31T00:00:00Z\n",	/* no such day */
		"expires: 2026-12-01T24:00:00Z\n",
		"expires: 2026-12-01T00:00:60Z\n",
		"expires: 2026-11-28T12:00:00Z\n",	/* not after created */
		"expires: 2026-11-28T11:59:59Z\n",	/* before created */
		"expires: 2027-11-30T12:00:00Z\n",	/* over 366 days */
		"expires: 2026-12-05T12:00:00Z \n",	/* trailing space */
		"expires: 2026-12-05 12:00:00Z\n",
		"expires: 2026-12-05T12:00:00+00:00\n",
		"expires:\n",
		"expires:  2026-12-05T12:00:00Z\n",
		"expires: 2026-12-05T12:00:00Z\nexpires: 2026-12-05T12:00:00Z\n",	/* twice */
		"expiry: 2026-12-05T12:00:00Z\n",	/* not a field */
	};

	/* Written by default: 7 days after created, and signed. */
	assert_int_equal(invite_parse(&inv, k->text, strlen(k->text)), 0);
	assert_true(inv.has_expires);
	assert_string_equal(inv.expires, "2026-12-05T12:00:00Z");
	assert_int_equal(invite_time(&at, "2026-12-05T12:00:00Z"), 0);
	assert_true(inv.expires_at == at);
	assert_non_null(strstr(k->text, "\ncreated: 2026-11-28T12:00:00Z\nexpires: "
	    "2026-12-05T12:00:00Z\n-----BEGIN SSH SIGNATURE-----"));
	t = replace(k->text, "expires: 2026-12-05", "expires: 2026-12-25");
	assert_int_equal(invite_parse(&inv, t, strlen(t)), 0);
	assert_int_equal(invite_open(dk, NULL, t, strlen(t), k->b_sk), CUSTODY_ECRYPTO);
	free(t);

	/* Given: any time after created, up to 366 days. */
	assert_int_equal(invite_write_expires(&t, "b", k->b_pk, "a", k->a_sk, "", k->dk,
	    "2026-11-28T12:00:00Z", "2026-11-28T12:00:01Z"), 0);
	assert_int_equal(invite_open(dk, &inv, t, strlen(t), k->b_sk), 0);
	assert_string_equal(inv.expires, "2026-11-28T12:00:01Z");
	free(t);
	assert_int_equal(invite_write_expires(&t, "b", k->b_pk, "a", k->a_sk, "", k->dk,
	    "2026-11-28T12:00:00Z", "2026-11-28T12:00:00Z"), CUSTODY_EINVAL);
	assert_null(t);
	assert_int_equal(invite_write_expires(&t, "b", k->b_pk, "a", k->a_sk, "", k->dk,
	    "2026-11-28T12:00:00Z", "2027-11-30T12:00:00Z"), CUSTODY_EINVAL);
	assert_int_equal(invite_write_expires(&t, "b", k->b_pk, "a", k->a_sk, "", k->dk,
	    "2026-11-28T12:00:00Z", "soon"), CUSTODY_EINVAL);

	/* An older invitation has no expires line: it opens, and expires 7 days on. */
	assert_int_equal(invite_write_expires(&t, "b", k->b_pk, "a", k->a_sk, "", k->dk,
	    "2028-02-25T08:30:00Z", ""), 0);
	assert_null(strstr(t, "expires"));
	assert_int_equal(invite_open(dk, &inv, t, strlen(t), k->b_sk), 0);
	assert_false(inv.has_expires);
	assert_string_equal(inv.expires, "2028-03-03T08:30:00Z");	/* over a leap day */

	/* Every malformed expires line, put where it goes, is refused by the parser. */
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_non_null(strstr(t, "-----BEGIN"));
		assert_true(asprintf(&t2, "%.*s%s%s", (int)(strstr(t, "-----BEGIN") - t), t,
		    bad[i], strstr(t, "-----BEGIN")) > 0);
		assert_int_equal(invite_parse(&inv, t2, strlen(t2)), CUSTODY_EINVAL);
		free(t2);
	}
	/* ... and so is one before the created line. */
	t2 = replace(t, "created: ", "expires: 2028-03-01T08:30:00Z\ncreated: ");
	assert_int_equal(invite_parse(&inv, t2, strlen(t2)), CUSTODY_EINVAL);
	free(t2);
	free(t);
}

/* Calendar times: real dates only, from 1970, to the second. */
static void
test_times(void **state)
{
	char out[INVITE_TIME_LEN + 1];
	int64_t t;

	(void)state;
	assert_int_equal(invite_time(&t, "1970-01-01T00:00:00Z"), 0);
	assert_true(t == 0);
	assert_int_equal(invite_time(&t, "2000-03-01T00:00:00Z"), 0);
	assert_true(t == 951868800);
	assert_int_equal(invite_time(&t, "2028-02-29T23:59:59Z"), 0);
	invite_format_time(out, t);
	assert_string_equal(out, "2028-02-29T23:59:59Z");
	assert_int_equal(invite_time(&t, "2027-02-29T00:00:00Z"), CUSTODY_EINVAL);
	assert_int_equal(invite_time(&t, "2100-02-29T00:00:00Z"), CUSTODY_EINVAL);
	assert_int_equal(invite_time(&t, "2000-02-29T00:00:00Z"), 0);
	assert_int_equal(invite_time(&t, "1969-12-31T23:59:59Z"), CUSTODY_EINVAL);
	assert_int_equal(invite_time(&t, "2026-00-10T00:00:00Z"), CUSTODY_EINVAL);
	assert_int_equal(invite_time(&t, "2026-01-00T00:00:00Z"), CUSTODY_EINVAL);
	assert_int_equal(invite_time(&t, "2026-01-01T00:00:00"), CUSTODY_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_write_refuses_bad_input),
		cmocka_unit_test(test_interop_ssh_keygen),
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_every_byte_tampered),
		cmocka_unit_test(test_field_tampers),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
