/* SSHSIG and OpenSSH Ed25519 keys: upstream and generated vectors, forgeries, ssh-keygen interop. */
#include <sys/types.h>
#include <sys/stat.h>
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
#include "custody/sshsig.h"
#include "run.h"

static const char *vectors;

/* The whole of dir/rel, NUL-terminated; fails the test if it cannot be read. */
static char *
file_read(const char *dir, const char *rel, size_t *len)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open vector %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* The whole of VECTORS/rel. */
static char *
vec_read(const char *rel, size_t *len)
{
	return file_read(vectors, rel, len);
}

/* Length of s without trailing newlines. */
static size_t
chomp_len(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	return len;
}

/*
 * Test-only reader of an unencrypted "openssh-key-v1" Ed25519 private key file, to recover the
 * libsodium secret key (seed || pk). Checks the key against its seed.
 */
static void
openssh_privkey_load(uint8_t sk[static ED25519_SK_LEN], const char *text)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	const char *b64, *end;
	uint8_t raw[1024], pk2[ED25519_PK_LEN], sk2[ED25519_SK_LEN];
	const uint8_t *p, *priv, *type, *pk, *skp;
	size_t raw_len, n, priv_len, type_len, pk_len, sk_len;
	struct cursor c, pc;
	uint32_t nkeys, check1, check2;

	assert_memory_equal(text, begin, sizeof begin - 1);
	b64 = text + sizeof begin - 1;
	assert_non_null(end = strstr(b64, "-----END OPENSSH PRIVATE KEY-----"));
	assert_int_equal(sodium_base642bin(raw, sizeof raw, b64, (size_t)(end - b64), "\n",
	    &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	c = (struct cursor){ raw, raw_len };
	assert_int_equal(cursor_get(&c, NULL, 15), 0);
	assert_memory_equal(raw, "openssh-key-v1\0", 15);
	assert_int_equal(cursor_get_sshstr(&c, &p, &n), 0);	/* cipher */
	assert_true(n == 4 && memcmp(p, "none", 4) == 0);
	assert_int_equal(cursor_get_sshstr(&c, &p, &n), 0);	/* kdf */
	assert_true(n == 4 && memcmp(p, "none", 4) == 0);
	assert_int_equal(cursor_get_sshstr(&c, &p, &n), 0);	/* kdf options */
	assert_int_equal(cursor_get_u32be(&c, &nkeys), 0);
	assert_int_equal(nkeys, 1);
	assert_int_equal(cursor_get_sshstr(&c, &p, &n), 0);	/* public key blob */
	assert_int_equal(cursor_get_sshstr(&c, &priv, &priv_len), 0);
	pc = (struct cursor){ priv, priv_len };
	assert_int_equal(cursor_get_u32be(&pc, &check1), 0);
	assert_int_equal(cursor_get_u32be(&pc, &check2), 0);
	assert_int_equal(check1, check2);
	assert_int_equal(cursor_get_sshstr(&pc, &type, &type_len), 0);
	assert_true(type_len == 11 && memcmp(type, "ssh-ed25519", 11) == 0);
	assert_int_equal(cursor_get_sshstr(&pc, &pk, &pk_len), 0);
	assert_int_equal(pk_len, ED25519_PK_LEN);
	assert_int_equal(cursor_get_sshstr(&pc, &skp, &sk_len), 0);
	assert_int_equal(sk_len, ED25519_SK_LEN);
	assert_memory_equal(skp + 32, pk, ED25519_PK_LEN);
	assert_int_equal(crypto_sign_seed_keypair(pk2, sk2, skp), 0);
	assert_memory_equal(sk2, skp, ED25519_SK_LEN);
	memcpy(sk, skp, ED25519_SK_LEN);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(sk2, sizeof sk2);
}

/* Parse the public key file VECTORS/rel. */
static void
pub_load(uint8_t pk[static ED25519_PK_LEN], const char *rel)
{
	char *line = vec_read(rel, NULL);

	assert_int_equal(sshkey_parse_pub(pk, NULL, line), 0);
	free(line);
}

/* Public key files parse and format back to the same line, comment included. */
static void
test_pub_roundtrip(void **state)
{
	static const struct { const char *file, *comment; } v[] = {
		{ "sshsig/openssh-regress-testdata/ed25519.pub", "ED25519 test key" },
		{ "sshsig/generated/key.pub", "vector-test@example" },
		{ "git-ssh-signing/example/signing_key.pub", "alice@example.com" },
	};
	uint8_t pk[ED25519_PK_LEN];
	char *text, *comment, *line;
	size_t i, len;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		text = vec_read(v[i].file, &len);
		assert_int_equal(sshkey_parse_pub(pk, &comment, text), 0);
		assert_string_equal(comment, v[i].comment);
		assert_int_equal(sshkey_format_pub(&line, pk, comment), 0);
		assert_int_equal(strlen(line), chomp_len(text, len));
		assert_memory_equal(line, text, strlen(line));
		free(line);
		/* Without a comment: the first two fields only. */
		assert_int_equal(sshkey_format_pub(&line, pk, NULL), 0);
		assert_int_equal(strlen(line), 80);
		assert_memory_equal(line, text, 80);
		free(line);
		free(comment);
		free(text);
	}
}

/* Malformed or foreign key lines are refused; harmless whitespace is not. */
static void
test_pub_negative(void **state)
{
	static const char good[] =
	    "AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e";
	static const char *bad[] = {
		"",
		"ssh-ed25519",
		"ssh-ed25519 ",
		"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e",
		"ssh-ed25519AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e",
		/* one character short, bad character, truncated blob */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2!",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGU",
		/* blob type ssh-ed25518 */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE4AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e",
		/* 31-byte key: length 0x1f */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHxcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e",
		/* blob with one trailing byte */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2eAA==",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e a\nb",
	};
	uint8_t pk[ED25519_PK_LEN], ref[ED25519_PK_LEN];
	char line[256], *comment;
	size_t i;

	snprintf(line, sizeof line, "ssh-ed25519 %s", good);
	assert_int_equal(sshkey_parse_pub(ref, &comment, line), 0);
	assert_null(comment);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		comment = (char *)1;
		if (sshkey_parse_pub(pk, &comment, bad[i]) != CUSTODY_EINVAL)
			fail_msg("accepted bad key line %zu: %s", i, bad[i]);
		assert_null(comment);
	}
	snprintf(line, sizeof line, "  ssh-ed25519\t%s   two words \r\n", good);
	assert_int_equal(sshkey_parse_pub(pk, &comment, line), 0);
	assert_memory_equal(pk, ref, sizeof pk);
	assert_string_equal(comment, "two words");
	free(comment);
	assert_int_equal(sshkey_format_pub(&comment, pk, "a\nb"), CUSTODY_EINVAL);
	assert_null(comment);
}

/* The first "SHA256:..." token in VECTORS/rel. */
static char *
fingerprint_from_doc(const char *rel)
{
	char *text = vec_read(rel, NULL), *p, *fp;

	assert_non_null(p = strstr(text, "SHA256:"));
	assert_non_null(fp = strndup(p, strcspn(p, " \t\n,")));
	free(text);
	return fp;
}

/* Fingerprints equal what ssh-keygen -l printed for the vector keys. */
static void
test_fingerprint(void **state)
{
	static const struct { const char *pub, *doc; } v[] = {
		{ "sshsig/generated/key.pub", "sshsig/generated/COMMANDS.md" },
		{ "git-ssh-signing/example/signing_key.pub", "git-ssh-signing/example/COMMANDS.md" },
	};
	uint8_t pk[ED25519_PK_LEN];
	char *fp, *want;
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		pub_load(pk, v[i].pub);
		want = fingerprint_from_doc(v[i].doc);
		assert_int_equal(strlen(want), 7 + 43);
		assert_int_equal(sshkey_fingerprint(&fp, pk), 0);
		assert_string_equal(fp, want);
		free(fp);
		free(want);
	}
	pub_load(pk, "git-ssh-signing/example/signing_key.pub");
	assert_int_equal(sshkey_fingerprint(&fp, pk), 0);
	assert_string_equal(fp, "SHA256:9E3Pd492AHw2iytJx4eI0djXZVN0dCY4zQ/VbbX+pyQ");
	free(fp);
}

/* Verify VECTORS/sigfile over VECTORS/msgfile and check the signer is VECTORS/pubfile. */
static void
verify_vector(const char *sigfile, const char *msgfile, const char *ns, const char *pubfile)
{
	uint8_t pk[ED25519_PK_LEN], want[ED25519_PK_LEN];
	char *sig, *msg;
	size_t sig_len, msg_len;
	int error;

	sig = vec_read(sigfile, &sig_len);
	msg = vec_read(msgfile, &msg_len);
	pub_load(want, pubfile);
	if ((error = sshsig_verify(pk, sig, sig_len, ns, msg, msg_len)) != 0)
		fail_msg("%s: %s (%s)", sigfile, custody_strerror(error), custody_error());
	assert_memory_equal(pk, want, sizeof pk);
	/* The same signature under another namespace must fail. */
	assert_int_equal(sshsig_verify(pk, sig, sig_len, "file", msg, msg_len), CUSTODY_ECRYPTO);
	free(sig);
	free(msg);
}

/* The OpenSSH regress Ed25519 signature, the generated one, and the git commit signature verify. */
static void
test_verify_vectors(void **state)
{
	char *ns;

	ns = vec_read("sshsig/openssh-regress-testdata/namespace", NULL);
	assert_string_equal(ns, "unittest");
	verify_vector("sshsig/openssh-regress-testdata/ed25519.sig",
	    "sshsig/openssh-regress-testdata/signed-data", ns,
	    "sshsig/openssh-regress-testdata/ed25519.pub");
	free(ns);
	verify_vector("sshsig/generated/message.txt.sig", "sshsig/generated/message.txt", "git",
	    "sshsig/generated/key.pub");
	verify_vector("git-ssh-signing/example/gpgsig-extracted.sshsig",
	    "git-ssh-signing/example/signed-payload.raw", "git",
	    "git-ssh-signing/example/signing_key.pub");
}

/* Signing with the vector keys reproduces ssh-keygen's signatures byte for byte. */
static void
test_sign_matches_ssh_keygen(void **state)
{
	static const struct { const char *key, *msg, *ns, *sig; } v[] = {
		{ "sshsig/openssh-regress-testdata/ed25519",
		  "sshsig/openssh-regress-testdata/signed-data", "unittest",
		  "sshsig/openssh-regress-testdata/ed25519.sig" },
		{ "sshsig/generated/key", "sshsig/generated/message.txt", "git",
		  "sshsig/generated/message.txt.sig" },
		{ "git-ssh-signing/example/signing_key",
		  "git-ssh-signing/example/signed-payload.raw", "git",
		  "git-ssh-signing/example/gpgsig-extracted.sshsig" },
	};
	uint8_t sk[ED25519_SK_LEN];
	char *key, *msg, *want, *sig;
	size_t i, msg_len, want_len;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		key = vec_read(v[i].key, NULL);
		openssh_privkey_load(sk, key);
		msg = vec_read(v[i].msg, &msg_len);
		want = vec_read(v[i].sig, &want_len);
		assert_int_equal(sshsig_sign(&sig, sk, v[i].ns, "sha512", msg, msg_len), 0);
		/* ssh-keygen's .sig files end in "\n"; git's gpgsig value does not. */
		if (i == 2)
			assert_int_equal(want[want_len - 1], '-');
		assert_int_equal(strlen(sig), chomp_len(want, want_len));
		assert_memory_equal(sig, want, strlen(sig));
		sodium_memzero(sk, sizeof sk);
		free(key);
		free(msg);
		free(want);
		free(sig);
	}
}

/* Fresh keys, both hashes, the empty message and a long one: sign then verify. */
static void
test_sign_verify_roundtrip(void **state)
{
	static const char *alg[] = { "sha512", "sha256" };
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN], got[ED25519_PK_LEN], *big, *blob;
	struct sshsig s;
	size_t i, blob_len, big_len = 200000;
	char *sig;

	assert_non_null(big = malloc(big_len));
	randombytes_buf(big, big_len);
	crypto_sign_keypair(pk, sk);
	for (i = 0; i < 2; i++) {
		assert_int_equal(sshsig_sign(&sig, sk, "custody-dossier", alg[i], big, big_len), 0);
		assert_int_equal(sshsig_verify(got, sig, strlen(sig), "custody-dossier", big,
		    big_len), 0);
		assert_memory_equal(got, pk, sizeof pk);
		assert_int_equal(sshsig_dearmor(&blob, &blob_len, sig, strlen(sig)), 0);
		assert_int_equal(sshsig_parse(&s, blob, blob_len), 0);
		assert_int_equal(s.version, 1);
		assert_true(s.hashalg_len == 6 && memcmp(s.hashalg, alg[i], 6) == 0);
		assert_true(s.ns_len == 15 && memcmp(s.ns, "custody-dossier", 15) == 0);
		free(blob);
		free(sig);
		assert_int_equal(sshsig_sign(&sig, sk, "git", alg[i], NULL, 0), 0);
		assert_int_equal(sshsig_verify(got, sig, strlen(sig), "git", "", 0), 0);
		assert_int_equal(sshsig_verify(got, sig, strlen(sig), "git", "x", 1),
		    CUSTODY_ECRYPTO);
		free(sig);
	}
	assert_int_equal(sshsig_sign(&sig, sk, "git", "sha1", "x", 1), CUSTODY_EINVAL);
	assert_null(sig);
	assert_int_equal(sshsig_sign(&sig, sk, "", "sha512", "x", 1), CUSTODY_EINVAL);
	/* A secret key whose public half does not belong to its seed is refused. */
	sk[40] ^= 1;
	assert_int_equal(sshsig_sign(&sig, sk, "git", "sha512", "x", 1), CUSTODY_EINVAL);
	assert_null(sig);
	sodium_memzero(sk, sizeof sk);
	free(big);
}

/* A test fixture: the git example signature as a blob, and its message. */
struct fixture {
	uint8_t	*blob;
	size_t	 blob_len;
	char	*msg;
	size_t	 msg_len;
	char	*armored;
	size_t	 armored_len;
};

static void
fixture_load(struct fixture *f)
{
	f->armored = vec_read("git-ssh-signing/example/gpgsig-extracted.sshsig", &f->armored_len);
	f->msg = vec_read("git-ssh-signing/example/signed-payload.raw", &f->msg_len);
	assert_int_equal(sshsig_dearmor(&f->blob, &f->blob_len, f->armored, f->armored_len), 0);
	assert_int_equal(f->blob_len, 173);
}

static void
fixture_free(struct fixture *f)
{
	free(f->blob);
	free(f->msg);
	free(f->armored);
}

/* Armor blob and run sshsig_verify on it with the fixture's message under "git". */
static int
verify_blob(const struct fixture *f, const uint8_t *blob, size_t len)
{
	uint8_t pk[ED25519_PK_LEN], zero[ED25519_PK_LEN] = { 0 };
	char *armored;
	int error;

	assert_int_equal(sshsig_armor(&armored, blob, len), 0);
	error = sshsig_verify(pk, armored, strlen(armored), "git", f->msg, f->msg_len);
	if (error != 0)
		assert_memory_equal(pk, zero, sizeof pk);
	free(armored);
	return error;
}

/* Forged signatures, messages and namespaces fail signature checking (ECRYPTO). */
static void
test_forgeries(void **state)
{
	struct fixture f = { 0 };
	uint8_t pk[ED25519_PK_LEN], *b;

	fixture_load(&f);
	assert_int_equal(verify_blob(&f, f.blob, f.blob_len), 0);
	assert_int_equal(sshsig_verify(pk, f.armored, f.armored_len, "gi", f.msg, f.msg_len),
	    CUSTODY_ECRYPTO);
	assert_int_equal(sshsig_verify(pk, f.armored, f.armored_len, "gitt", f.msg, f.msg_len),
	    CUSTODY_ECRYPTO);
	f.msg[10] ^= 1;
	assert_int_equal(sshsig_verify(pk, f.armored, f.armored_len, "git", f.msg, f.msg_len),
	    CUSTODY_ECRYPTO);
	f.msg[10] ^= 1;
	assert_int_equal(sshsig_verify(pk, f.armored, f.armored_len, "git", f.msg, f.msg_len - 1),
	    CUSTODY_ECRYPTO);

	assert_non_null(b = malloc(f.blob_len));
	/* Flip a bit in the signature, the public key, and the hash name (sha512 -> sha256). */
	memcpy(b, f.blob, f.blob_len);
	b[f.blob_len - 1] ^= 0x01;
	assert_int_equal(verify_blob(&f, b, f.blob_len), CUSTODY_ECRYPTO);
	memcpy(b, f.blob, f.blob_len);
	b[f.blob_len - 64] ^= 0x01;
	assert_int_equal(verify_blob(&f, b, f.blob_len), CUSTODY_ECRYPTO);
	memcpy(b, f.blob, f.blob_len);
	b[10 + 4 + 4 + 11 + 4 + 5] ^= 0x01;
	assert_int_equal(verify_blob(&f, b, f.blob_len), CUSTODY_ECRYPTO);
	memcpy(b, f.blob, f.blob_len);
	/* magic 6, version 4, key 4+51, namespace 4+3, reserved 4, hash length 4 */
	assert_memory_equal(b + 80, "sha512", 6);
	memcpy(b + 80, "sha256", 6);
	assert_int_equal(verify_blob(&f, b, f.blob_len), CUSTODY_ECRYPTO);
	free(b);
	fixture_free(&f);
}

/* An SSHSIG blob from parts, for building malformed ones. */
static void
blob_build(struct cbuf *b, const char *magic, uint32_t version, const char *keytype,
    size_t pk_len, const char *ns, const char *reserved, const char *hashalg,
    const char *sigtype, size_t sig_len)
{
	struct cbuf key = { 0 }, sig = { 0 };
	uint8_t zero[80] = { 1 };

	assert_int_equal(cbuf_put_sshstr(&key, keytype, strlen(keytype)), 0);
	assert_int_equal(cbuf_put_sshstr(&key, zero, pk_len), 0);
	assert_int_equal(cbuf_put_sshstr(&sig, sigtype, strlen(sigtype)), 0);
	assert_int_equal(cbuf_put_sshstr(&sig, zero, sig_len), 0);
	assert_int_equal(cbuf_put(b, magic, 6), 0);
	assert_int_equal(cbuf_put_u32be(b, version), 0);
	assert_int_equal(cbuf_put_sshstr(b, key.data, key.len), 0);
	assert_int_equal(cbuf_put_sshstr(b, ns, strlen(ns)), 0);
	assert_int_equal(cbuf_put_sshstr(b, reserved, strlen(reserved)), 0);
	assert_int_equal(cbuf_put_sshstr(b, hashalg, strlen(hashalg)), 0);
	assert_int_equal(cbuf_put_sshstr(b, sig.data, sig.len), 0);
	cbuf_free(&key);
	cbuf_free(&sig);
}

/* Malformed blobs are refused by the parser and by verify as EINVAL. */
static void
test_malformed_blobs(void **state)
{
	static const struct {
		const char *magic; uint32_t version; const char *keytype; size_t pk_len;
		const char *ns, *reserved, *hashalg, *sigtype; size_t sig_len;
	} v[] = {
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIH", 1, "ssh-ed25519", 32, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 2, "ssh-ed25519", 32, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 0, "ssh-ed25519", 32, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25518", 32, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-rsa", 32, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 31, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 33, "git", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "", "", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "x", "sha512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "", "sha1", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "", "SHA512", "ssh-ed25519", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "", "sha512", "rsa-sha2-512", 64 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "", "sha512", "ssh-ed25519", 63 },
		{ "SSHSIG", 1, "ssh-ed25519", 32, "git", "", "sha512", "ssh-ed25519", 65 },
	};
	struct fixture f = { 0 };
	struct sshsig s;
	struct cbuf b = { 0 };
	uint8_t *t;
	size_t i, n;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		blob_build(&b, v[i].magic, v[i].version, v[i].keytype, v[i].pk_len, v[i].ns,
		    v[i].reserved, v[i].hashalg, v[i].sigtype, v[i].sig_len);
		if (i == 0) {
			/* The well-formed template parses (and fails only the signature). */
			assert_int_equal(sshsig_parse(&s, b.data, b.len), 0);
		} else if (sshsig_parse(&s, b.data, b.len) != CUSTODY_EINVAL)
			fail_msg("blob variant %zu parsed", i);
		cbuf_free(&b);
	}

	fixture_load(&f);
	assert_int_equal(sshsig_parse(&s, f.blob, f.blob_len), 0);
	/* Every truncation fails, as does every trailing byte. */
	for (n = 0; n < f.blob_len; n++)
		if (sshsig_parse(&s, f.blob, n) != CUSTODY_EINVAL)
			fail_msg("truncation to %zu parsed", n);
	assert_int_equal(verify_blob(&f, f.blob, f.blob_len - 1), CUSTODY_EINVAL);
	assert_non_null(t = calloc(1, f.blob_len + 1));
	memcpy(t, f.blob, f.blob_len);
	assert_int_equal(sshsig_parse(&s, t, f.blob_len + 1), CUSTODY_EINVAL);
	assert_int_equal(verify_blob(&f, t, f.blob_len + 1), CUSTODY_EINVAL);
	/* Key type and signature type ssh-ed25518 in the real blob. */
	memcpy(t, f.blob, f.blob_len);
	t[10 + 4 + 4 + 10] = '8';
	assert_int_equal(verify_blob(&f, t, f.blob_len), CUSTODY_EINVAL);
	memcpy(t, f.blob, f.blob_len);
	t[f.blob_len - 64 - 4 - 1] = '8';
	assert_int_equal(verify_blob(&f, t, f.blob_len), CUSTODY_EINVAL);
	free(t);
	fixture_free(&f);
}

/* Armor variants: whitespace at the end, CRLF and other line lengths pass; garbage does not. */
static void
test_armor(void **state)
{
	static const char *suffix_ok[] = { "", "\n", "\r\n", " \n\t\n\n" };
	static const char *suffix_bad[] = { "x", "\nx", "-", "\n-----END SSH SIGNATURE-----" };
	struct fixture f = { 0 };
	uint8_t pk[ED25519_PK_LEN], *blob;
	struct cbuf b = { 0 };
	char *s, *big;
	size_t i, len, body;

	fixture_load(&f);
	for (i = 0; i < sizeof suffix_ok / sizeof suffix_ok[0]; i++) {
		assert_int_equal(cbuf_put(&b, f.armored, f.armored_len), 0);
		assert_int_equal(cbuf_puts(&b, suffix_ok[i]), 0);
		assert_int_equal(sshsig_verify(pk, (char *)b.data, b.len, "git", f.msg, f.msg_len),
		    0);
		cbuf_free(&b);
	}
	for (i = 0; i < sizeof suffix_bad / sizeof suffix_bad[0]; i++) {
		assert_int_equal(cbuf_put(&b, f.armored, f.armored_len), 0);
		assert_int_equal(cbuf_puts(&b, suffix_bad[i]), 0);
		assert_int_equal(sshsig_dearmor(&blob, &len, (char *)b.data, b.len), CUSTODY_EINVAL);
		assert_null(blob);
		assert_int_equal(sshsig_verify(pk, (char *)b.data, b.len, "git", f.msg, f.msg_len),
		    CUSTODY_EINVAL);
		cbuf_free(&b);
	}

	/* Leading garbage or whitespace, a damaged BEGIN line, no END line. */
	assert_int_equal(cbuf_puts(&b, " "), 0);
	assert_int_equal(cbuf_put(&b, f.armored, f.armored_len), 0);
	assert_int_equal(sshsig_dearmor(&blob, &len, (char *)b.data, b.len), CUSTODY_EINVAL);
	cbuf_free(&b);
	assert_non_null(s = strndup(f.armored, f.armored_len));
	s[6] = 'b';
	assert_int_equal(sshsig_dearmor(&blob, &len, s, f.armored_len), CUSTODY_EINVAL);
	s[6] = 'E';
	assert_int_equal(sshsig_dearmor(&blob, &len, s, f.armored_len - 1), CUSTODY_EINVAL);
	assert_int_equal(sshsig_dearmor(&blob, &len, s, 29), CUSTODY_EINVAL);
	assert_int_equal(sshsig_dearmor(&blob, &len, s, 0), CUSTODY_EINVAL);
	/* A bad base64 character, a NUL, an inserted space inside the body. */
	body = strlen("-----BEGIN SSH SIGNATURE-----\n") + 5;
	s[body] = '*';
	assert_int_equal(sshsig_dearmor(&blob, &len, s, f.armored_len), CUSTODY_EINVAL);
	s[body] = '\0';
	assert_int_equal(sshsig_dearmor(&blob, &len, s, f.armored_len), CUSTODY_EINVAL);
	free(s);
	assert_int_equal(cbuf_put(&b, f.armored, body), 0);
	assert_int_equal(cbuf_puts(&b, " "), 0);
	assert_int_equal(cbuf_put(&b, f.armored + body, f.armored_len - body), 0);
	assert_int_equal(sshsig_dearmor(&blob, &len, (char *)b.data, b.len), CUSTODY_EINVAL);
	cbuf_free(&b);
	/* Padding removed. */
	assert_non_null(s = strdup(f.armored));
	assert_non_null(strstr(s, "=\n-----END"));
	memmove(strstr(s, "=\n-----END"), strstr(s, "=\n-----END") + 1,
	    strlen(strstr(s, "=\n-----END")));
	assert_int_equal(sshsig_dearmor(&blob, &len, s, strlen(s)), CUSTODY_EINVAL);
	free(s);
	/* Empty body, too large input. */
	s = "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----";
	assert_int_equal(sshsig_dearmor(&blob, &len, s, strlen(s)), CUSTODY_EINVAL);
	s = "-----BEGIN SSH SIGNATURE-----\n\n-----END SSH SIGNATURE-----";
	assert_int_equal(sshsig_dearmor(&blob, &len, s, strlen(s)), CUSTODY_EINVAL);
	s = "-----BEGIN SSH SIGNATURE-----U1NI\n-----END SSH SIGNATURE-----";
	assert_int_equal(sshsig_dearmor(&blob, &len, s, strlen(s)), CUSTODY_EINVAL);
	assert_non_null(big = malloc(SSHSIG_ARMOR_MAX + 1));
	memset(big, '\n', SSHSIG_ARMOR_MAX + 1);
	memcpy(big, f.armored, f.armored_len);
	assert_int_equal(sshsig_dearmor(&blob, &len, big, SSHSIG_ARMOR_MAX), 0);
	free(blob);
	assert_int_equal(sshsig_dearmor(&blob, &len, big, SSHSIG_ARMOR_MAX + 1), CUSTODY_ETOOBIG);
	free(big);

	/* CRLF line ends, one long base64 line, 76-column lines. */
	for (i = 0; f.armored[i] != '\0'; i++) {
		if (f.armored[i] == '\n')
			assert_int_equal(cbuf_put_u8(&b, '\r'), 0);
		assert_int_equal(cbuf_put_u8(&b, (uint8_t)f.armored[i]), 0);
	}
	assert_int_equal(sshsig_verify(pk, (char *)b.data, b.len, "git", f.msg, f.msg_len), 0);
	cbuf_free(&b);
	assert_int_equal(cbuf_puts(&b, "-----BEGIN SSH SIGNATURE-----\n"), 0);
	for (i = body - 5; strncmp(f.armored + i, "-----END", 8) != 0; i++)
		if (f.armored[i] != '\n')
			assert_int_equal(cbuf_put_u8(&b, (uint8_t)f.armored[i]), 0);
	len = b.len;
	assert_int_equal(cbuf_puts(&b, "\n-----END SSH SIGNATURE-----\n"), 0);
	assert_int_equal(sshsig_verify(pk, (char *)b.data, b.len, "git", f.msg, f.msg_len), 0);
	b.len = len;
	assert_int_equal(cbuf_puts(&b, "-----END SSH SIGNATURE-----\n"), 0);
	assert_int_equal(sshsig_verify(pk, (char *)b.data, b.len, "git", f.msg, f.msg_len),
	    CUSTODY_EINVAL);
	cbuf_free(&b);
	fixture_free(&f);
}

/* A fresh private directory for running ssh-keygen; skips when ssh-keygen is absent. */
static void
tool_dir(char dir[static 64])
{
	if (system("command -v ssh-keygen >/dev/null 2>&1") != 0) {
		print_message("ssh-keygen not installed: skipping interoperability test\n");
		skip();
	}
	snprintf(dir, 64, "%s", "/tmp/custody-sshsig-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void
tool_dir_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
file_write(const char *dir, const char *name, const void *p, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Stock ssh-keygen -Y verify accepts our signatures (as git stores them) and rejects tampering. */
static void
test_interop_ssh_keygen_verifies_ours(void **state)
{
	static const char *alg[] = { "sha512", "sha256" };
	static const char msg[] = "bag-info.txt tagmanifest-sha256.txt\n";
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	char dir[64], *line, *sig, *allowed;
	size_t i;

	tool_dir(dir);
	crypto_sign_keypair(pk, sk);
	assert_int_equal(sshkey_format_pub(&line, pk, NULL), 0);
	assert_true(asprintf(&allowed, "office@custody namespaces=\"custody-dossier\" %s\n",
	    line) > 0);
	file_write(dir, "allowed_signers", allowed, strlen(allowed));
	file_write(dir, "msg", msg, sizeof msg - 1);
	file_write(dir, "bad", msg, sizeof msg - 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(sshsig_sign(&sig, sk, "custody-dossier", alg[i], msg,
		    sizeof msg - 1), 0);
		file_write(dir, "file.sig", sig, strlen(sig));
		assert_int_equal(run("ssh-keygen -Y verify -f %s/allowed_signers -I office@custody "
		    "-n custody-dossier -s %s/file.sig < %s/msg >/dev/null 2>&1", dir, dir, dir), 0);
		assert_int_not_equal(run("ssh-keygen -Y verify -f %s/allowed_signers "
		    "-I office@custody -n custody-dossier -s %s/file.sig < %s/bad >/dev/null 2>&1",
		    dir, dir, dir), 0);
		assert_int_not_equal(run("ssh-keygen -Y verify -f %s/allowed_signers "
		    "-I office@custody -n git -s %s/file.sig < %s/msg >/dev/null 2>&1",
		    dir, dir, dir), 0);
		free(sig);
	}
	sodium_memzero(sk, sizeof sk);
	free(allowed);
	free(line);
	tool_dir_remove(dir);
}

/* We verify ssh-keygen's signatures, match its fingerprint, and re-create its signatures. */
static void
test_interop_ours_verifies_ssh_keygen(void **state)
{
	static const char msg[] = "evidence manifest\n";
	static const char *opt[] = { "", "-O hashalg=sha256" };
	uint8_t pk[ED25519_PK_LEN], want[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	char dir[64], path[128], out[256], *text, *sig, *fp, *mine;
	size_t i, len;
	FILE *p;

	tool_dir(dir);
	file_write(dir, "msg", msg, sizeof msg - 1);
	assert_int_equal(run("ssh-keygen -q -t ed25519 -N '' -C 'interop key' -f %s/k", dir), 0);
	text = file_read(dir, "k.pub", NULL);
	assert_int_equal(sshkey_parse_pub(want, NULL, text), 0);
	free(text);
	text = file_read(dir, "k", NULL);
	openssh_privkey_load(sk, text);
	free(text);
	assert_memory_equal(sk + 32, want, sizeof want);

	snprintf(path, sizeof path, "ssh-keygen -l -f %s/k.pub", dir);
	assert_non_null(p = popen(path, "r"));
	assert_non_null(fgets(out, sizeof out, p));
	assert_int_equal(pclose(p), 0);
	assert_int_equal(sshkey_fingerprint(&fp, want), 0);
	assert_int_equal(strncmp(out, "256 ", 4), 0);
	assert_int_equal(strncmp(out + 4, fp, strlen(fp)), 0);
	assert_int_equal(out[4 + strlen(fp)], ' ');
	free(fp);

	for (i = 0; i < 2; i++) {
		assert_int_equal(run("ssh-keygen -Y sign -q -f %s/k -n custody-dossier %s < %s/msg "
		    "> %s/msg.sig 2>/dev/null", dir, opt[i], dir, dir), 0);
		sig = file_read(dir, "msg.sig", &len);
		assert_int_equal(sshsig_verify(pk, sig, len, "custody-dossier", msg,
		    sizeof msg - 1), 0);
		assert_memory_equal(pk, want, sizeof pk);
		assert_int_equal(sshsig_verify(pk, sig, len, "custody-dossier", msg,
		    sizeof msg - 2), CUSTODY_ECRYPTO);
		assert_int_equal(sshsig_sign(&mine, sk, "custody-dossier", i ? "sha256" : "sha512",
		    msg, sizeof msg - 1), 0);
		assert_int_equal(strlen(mine), chomp_len(sig, len));
		assert_memory_equal(mine, sig, strlen(mine));
		free(mine);
		free(sig);
	}
	sodium_memzero(sk, sizeof sk);
	tool_dir_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pub_roundtrip),
		cmocka_unit_test(test_pub_negative),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_verify_vectors),
		cmocka_unit_test(test_sign_matches_ssh_keygen),
		cmocka_unit_test(test_sign_verify_roundtrip),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_malformed_blobs),
		cmocka_unit_test(test_armor),
		cmocka_unit_test(test_interop_ssh_keygen_verifies_ours),
		cmocka_unit_test(test_interop_ours_verifies_ssh_keygen),
	};

	if ((vectors = getenv("VECTORS")) == NULL || *vectors == '\0') {
		fprintf(stderr, "test_sshsig: VECTORS is not set; run through ctest or set "
		    "VECTORS=<source>/tests/vectors\n");
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
