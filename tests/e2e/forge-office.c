/*
 * forge-office: what a seized office's own tooling writes, signed with that office's real key,
 * for the end-to-end tests that play it. It links the engine and opens the archive directly
 * (the office's daemon must be stopped).
 *
 *	forge-office ARCHIVE office NAME KEYLINE
 *		an office record binding NAME to the key "ssh-ed25519 AAAA..." in ARCHIVE's feed
 *	forge-office ARCHIVE ghost NAME FEEDHEX
 *		invent an office: a fresh key, an office record for it (NAME) in ARCHIVE's feed, and
 *		the invented office's own feed (signed by its key) holding its office record and a
 *		witness record of the feed FEEDHEX at the head ARCHIVE holds; prints its key line
 *	forge-office ARCHIVE revoke KEYHEX FROM_SEQ [ID]
 *		a revocation record of the office KEYHEX after its commit FROM_SEQ in ARCHIVE's feed,
 *		with the id given (default: the one the daemon derives), bypassing every check
 *	forge-office ARCHIVE withdraw NAME KEYLINE
 *		a withdrawal of ARCHIVE's invitation of (NAME, key), whatever has happened since
 *	forge-office ARCHIVE handover TO_KEYFILE SIGN_KEYFILE
 *		a handover in ARCHIVE's feed from its current key to the key of TO_KEYFILE, signed by
 *		the key of SIGN_KEYFILE ("-": the office's own); key files are unsealed office.key
 *		files (an unattended office's, or one the adversary copied)
 *	forge-office ARCHIVE event SIGN_KEYFILE
 *		a custody event in ARCHIVE's feed signed by the key of SIGN_KEYFILE
 *	forge-office ARCHIVE sign SIGN_KEYFILE FILE
 *		FILE.sig: an armored SSHSIG of FILE under namespace custody-dossier by the key of
 *		SIGN_KEYFILE, as an exporting office signs a dossier's tag manifest
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handover.h"
#include "offices.h"
#include "revocations.h"

/* Commit docs in a's own feed, as its key signs them. */
static int
forge_write(struct archive *a, json_t **docs, size_t n, const char *summary)
{
	struct records_written w;
	int error;

	if ((error = records_write_changed(a, docs, n, summary, 1, &w)) < 0)
		fprintf(stderr, "forge-office: %s\n", custody_error());
	return error;
}

/* A revocation record in a's feed, as the daemon writes it but unchecked. */
static int
forge_revoke(struct archive *a, const char *hex, const char *seq, const char *idarg)
{
	uint8_t pk[ED25519_PK_LEN];
	char id[ID_MAX + 1], now[32];
	uint64_t from = strtoull(seq, NULL, 10);
	json_t *doc;
	int error;

	if (strlen(hex) != 64 || hex_decode(pk, sizeof pk, hex) < 0) {
		fprintf(stderr, "forge-office: not a key in hex: %s\n", hex);
		return CUSTODY_EINVAL;
	}
	revocations_id(id, pk, from);
	record_now(now);
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "kind", "revocation", "id",
	    idarg ? idarg : id, "office", hex, "name", "?", "from_seq", (json_int_t)from,
	    "reason", "forged", "time", now)) == NULL)
		return CUSTODY_ENOMEM;
	error = forge_write(a, &doc, 1, "revocation");
	json_decref(doc);
	return error;
}

/* The invented office: its record in a's feed, then its own feed witnessing feedhex. */
static int
forge_ghost(struct archive *a, const char *name, const char *feedhex)
{
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN], real_pk[ED25519_PK_LEN];
	uint8_t real_sk[ED25519_SK_LEN];
	char real_hex[2 * ED25519_PK_LEN + 1], id[200], now[32], head[GIT_OID_HEXSZ + 1];
	char *line = NULL;
	json_t *docs[2] = { NULL, NULL };
	git_oid oid;
	uint64_t seq, lamport;
	int error;

	crypto_sign_ed25519_keypair(pk, sk);
	if ((error = feed_head(a, feedhex, &oid, &seq, &lamport)) < 0) {
		fprintf(stderr, "forge-office: no feed %s here\n", feedhex);
		return error;
	}
	git_oid_tostr(head, sizeof head, &oid);
	if ((error = offices_record(&docs[0], name, pk, "")) < 0 ||
	    (error = forge_write(a, docs, 1, "office record")) < 0)
		goto done;
	json_decref(docs[0]);
	docs[0] = NULL;

	/* Become the invented office: its key signs its own feed. */
	memcpy(real_pk, a->office_pk, sizeof real_pk);
	memcpy(real_sk, a->office_sk, sizeof real_sk);
	memcpy(real_hex, a->office_hex, sizeof real_hex);
	memcpy(a->office_pk, pk, sizeof pk);
	memcpy(a->office_sk, sk, sizeof sk);
	hex_encode(a->office_hex, pk, ED25519_PK_LEN);
	record_now(now);
	snprintf(id, sizeof id, "witness:%.16s:%s:%llu", a->office_hex, feedhex,
	    (unsigned long long)seq);
	if ((error = offices_record(&docs[0], name, pk, "")) == 0 &&
	    (docs[1] = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "kind", "witness", "id", id, "feed",
	    feedhex, "seq", (json_int_t)seq, "head", head, "time", now)) == NULL)
		error = CUSTODY_ENOMEM;
	if (error == 0)
		error = forge_write(a, docs, 2, "witness");
	memcpy(a->office_pk, real_pk, sizeof real_pk);
	memcpy(a->office_sk, real_sk, sizeof real_sk);
	memcpy(a->office_hex, real_hex, sizeof real_hex);
	if (error == 0 && (error = sshkey_format_pub(&line, pk, NULL)) == 0)
		printf("%s\n", line);
done:
	json_decref(docs[0]);
	json_decref(docs[1]);
	free(line);
	return error;
}

/* The secret key of an unsealed office.key file ("-": keep a's own). */
static int
forge_keyfile(struct archive *a, const char *path, uint8_t sk[static ED25519_SK_LEN])
{
	uint8_t buf[8 + 1 + ED25519_SK_LEN + 1];
	size_t n;
	FILE *f;

	if (strcmp(path, "-") == 0) {
		memcpy(sk, a->office_sk, ED25519_SK_LEN);
		return 0;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "forge-office: cannot open %s\n", path);
		return CUSTODY_EIO;
	}
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (n != sizeof buf - 1 || memcmp(buf, "CUSTKEY1", 8) != 0 || buf[8] != 0) {
		fprintf(stderr, "forge-office: %s is not an unsealed office key file\n", path);
		return CUSTODY_EINVAL;
	}
	memcpy(sk, buf + 9, ED25519_SK_LEN);
	return 0;
}

/* Commit doc in a's feed signed by the key of signfile. */
static int
forge_signed(struct archive *a, json_t *doc, const char *signfile, const char *summary)
{
	uint8_t sk[ED25519_SK_LEN], real_sk[ED25519_SK_LEN];
	int error;

	if ((error = forge_keyfile(a, signfile, sk)) < 0)
		return error;
	memcpy(real_sk, a->office_sk, sizeof real_sk);
	memcpy(a->office_sk, sk, sizeof sk);
	error = forge_write(a, &doc, 1, summary);
	memcpy(a->office_sk, real_sk, sizeof real_sk);
	return error;
}

/* A handover from a's current key to tofile's, signed by signfile's; or a custody event. */
static int
forge_handover(struct archive *a, const char *tofile, const char *signfile)
{
	uint8_t sk[ED25519_SK_LEN];
	char id[ID_MAX + 1], from[65], to[65], now[32];
	json_t *doc;
	int error;

	record_now(now);
	if (tofile == NULL) {
		char *eid = record_random_id();

		doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "event", "id", eid ? eid : "x",
		    "action", "get", "evidence", "0", "actor", "forged", "time", now);
		free(eid);
		error = doc ? forge_signed(a, doc, signfile, "get evidence") : CUSTODY_ENOMEM;
		json_decref(doc);
		return error;
	}
	if ((error = forge_keyfile(a, tofile, sk)) < 0)
		return error;
	handover_id(id, sk + 32);
	hex_encode(from, a->sign_pk, ED25519_PK_LEN);
	hex_encode(to, sk + 32, ED25519_PK_LEN);
	if ((doc = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "handover", "id", id, "from", from,
	    "to", to, "time", now)) == NULL)
		return CUSTODY_ENOMEM;
	error = forge_signed(a, doc, signfile, "key handover");
	json_decref(doc);
	return error;
}

/* FILE.sig, as an exporter signs a dossier's tag manifest, by the key of signfile. */
static int
forge_sign(struct archive *a, const char *signfile, const char *path)
{
	uint8_t sk[ED25519_SK_LEN];
	struct cbuf in = { 0 };
	char buf[65536], *sig = NULL, *out = NULL;
	size_t n;
	FILE *f;
	int error;

	if ((error = forge_keyfile(a, signfile, sk)) < 0)
		return error;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "forge-office: cannot open %s\n", path);
		return CUSTODY_EIO;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0 && error == 0)
		error = cbuf_put(&in, buf, n);
	fclose(f);
	if (error == 0)
		error = sshsig_sign(&sig, sk, "custody-dossier", "sha512", in.data, in.len);
	sodium_memzero(sk, sizeof sk);
	if (error == 0 && (asprintf(&out, "%s.sig", path) < 0 || (f = fopen(out, "w")) == NULL))
		error = CUSTODY_EIO;
	if (error == 0) {
		fprintf(f, "%s\n", sig);
		error = fclose(f) == 0 ? 0 : CUSTODY_EIO;
	}
	if (error < 0)
		fprintf(stderr, "forge-office: cannot sign %s\n", path);
	free(out);
	free(sig);
	cbuf_free(&in);
	return error;
}

int
main(int argc, char **argv)
{
	struct archive *a = NULL;
	uint8_t pk[ED25519_PK_LEN];
	json_t *doc = NULL;
	char *cause = NULL;
	int error;

	if (argc == 4 && strcmp(argv[2], "event") == 0)
		;
	else if (argc < 5 || (argc != 5 && !(argc == 6 && strcmp(argv[2], "revoke") == 0)) ||
	    (strcmp(argv[2], "office") != 0 && strcmp(argv[2], "ghost") != 0 &&
	    strcmp(argv[2], "revoke") != 0 && strcmp(argv[2], "withdraw") != 0 &&
	    strcmp(argv[2], "handover") != 0 && strcmp(argv[2], "sign") != 0)) {
		fprintf(stderr, "usage: forge-office ARCHIVE office NAME KEYLINE\n"
		    "       forge-office ARCHIVE ghost NAME FEEDHEX\n"
		    "       forge-office ARCHIVE revoke KEYHEX FROM_SEQ [ID]\n"
		    "       forge-office ARCHIVE withdraw NAME KEYLINE\n"
		    "       forge-office ARCHIVE handover TO_KEYFILE SIGN_KEYFILE\n"
		    "       forge-office ARCHIVE event SIGN_KEYFILE\n"
		    "       forge-office ARCHIVE sign SIGN_KEYFILE FILE\n");
		return 2;
	}
	if (sodium_init() < 0 || git_libgit2_init() < 0)
		return 1;
	if (archive_open(&a, argv[1], NULL, 1, &cause) < 0 || index_open(a, &cause) < 0) {
		fprintf(stderr, "forge-office: %s: %s\n", argv[1], cause ? cause : custody_error());
		free(cause);
		archive_close(a);
		return 1;
	}
	if (strcmp(argv[2], "office") == 0 || strcmp(argv[2], "withdraw") == 0) {
		if (sshkey_parse_pub(pk, NULL, argv[4]) < 0) {
			fprintf(stderr, "forge-office: not an ssh-ed25519 key: %s\n", argv[4]);
			error = CUSTODY_EINVAL;
		} else if (strcmp(argv[2], "withdraw") == 0) {
			if ((error = offices_withdrawal_record(&doc, argv[3], pk)) == 0)
				error = forge_write(a, &doc, 1, "invite: withdrawn");
		} else if ((error = offices_record(&doc, argv[3], pk, "")) == 0)
			error = forge_write(a, &doc, 1, "office record");
		json_decref(doc);
	} else if (strcmp(argv[2], "handover") == 0)
		error = forge_handover(a, argv[3], argv[4]);
	else if (strcmp(argv[2], "sign") == 0)
		error = forge_sign(a, argv[3], argv[4]);
	else if (strcmp(argv[2], "event") == 0)
		error = forge_handover(a, NULL, argv[3]);
	else if (strcmp(argv[2], "revoke") == 0)
		error = forge_revoke(a, argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	else
		error = forge_ghost(a, argv[3], argv[4]);
	archive_close(a);
	return error < 0 ? 1 : 0;
}
