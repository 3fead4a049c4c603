/*
 * custody-forge: a seized office's own tooling, for the end-to-end tests that play it. With the
 * office's real key it appends one signed commit to its own feed that edits a record as it
 * likes, with the clock it likes; custodyd would never write it. The archive's daemon must be
 * stopped (the archive is locked).
 *
 *	custody-forge ARCHIVE ID FIELD VALUE LAMPORT [REV_LAMPORT [REV_OFFICE]]
 *
 * ID is a record the archive holds (in any feed); FIELD gets the string VALUE. LAMPORT is the
 * commit's Custody-Lamport ("next": the clock custodyd would use); REV_LAMPORT and REV_OFFICE
 * (key hex) the record's revision stamp, by default (or "=") the commit's clock, and the office
 * itself.
 * Prints the new commit's id.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "custody/trailers.h"

static uint64_t
forge_number(const char *s)
{
	char *end;
	unsigned long long v;

	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		errx(2, "not a number: %s", s);
	return (uint64_t)v;
}

int
main(int argc, char **argv)
{
	struct archive *a = NULL;
	git_repository *repo;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_signature *who = NULL;
	git_reference *ref = NULL;
	git_tree_update upd = { 0 };
	git_oid head, tree_oid, oid;
	git_buf body = { 0 };
	struct cbuf rec = { 0 }, msg = { 0 };
	struct trailers t = { 0 };
	char *cause = NULL, *sig = NULL, *refname, office[65], tok[TOKEN_HEX_LEN + 1], now[32];
	char hex[GIT_OID_HEXSZ + 1];
	uint64_t seq, lamport, rev_lamport;
	json_t *doc = NULL;
	int have_head;

	if (argc < 6 || argc > 8)
		errx(2, "usage: custody-forge ARCHIVE ID FIELD VALUE LAMPORT [REV_LAMPORT "
		    "[REV_OFFICE]]");
	if (sodium_init() < 0 || archive_open(&a, argv[1], NULL, 1, &cause) < 0 ||
	    index_open(a, &cause) < 0 || index_catch_up(a, 0) < 0)
		errx(1, "%s: %s", argv[1], cause ? cause : custody_error());
	repo = archive_repo(a);
	if (index_record_office(a, argv[2], office) < 0 ||
	    feed_read_record(a, office, argv[2], &doc) < 0)
		errx(1, "%s: %s", argv[2], custody_error());
	have_head = feed_head(a, a->office_hex, &head, &seq, &lamport) == 0;
	if (strcmp(argv[5], "next") == 0) {
		if (feed_clock_next(a, &lamport) < 0)
			errx(1, "%s", custody_error());
	} else
		lamport = forge_number(argv[5]);
	rev_lamport = argc > 6 && strcmp(argv[6], "=") != 0 ? forge_number(argv[6]) : lamport;
	record_now(now);
	json_object_set_new(doc, argv[3], json_string(argv[4]));
	json_object_set_new(doc, "rev", json_pack("{s:I,s:s,s:s}", "lamport",
	    (json_int_t)rev_lamport, "office", argc > 7 ? argv[7] : a->office_hex, "time", now));

	/* the record, sealed like any other, at its place in this office's tree */
	archive_token_hex(a, tok, record_id(doc));
	if (record_seal(&rec, a, tok, doc) < 0)
		errx(1, "seal: %s", custody_error());
	if (git_blob_create_from_buffer(&upd.id, repo, rec.data, rec.len) < 0)
		errx(1, "blob: %s", git_error_last()->message);
	upd.action = GIT_TREE_UPDATE_UPSERT;
	upd.filemode = GIT_FILEMODE_BLOB;
	upd.path = feed_record_path(tok);
	if (have_head) {
		if (git_commit_lookup(&parent, repo, &head) < 0 || git_commit_tree(&base, parent) < 0)
			errx(1, "head: %s", git_error_last()->message);
	} else {
		git_treebuilder *tb;

		if (git_treebuilder_new(&tb, repo, NULL) < 0 ||
		    git_treebuilder_write(&tree_oid, tb) < 0 ||
		    git_tree_lookup(&base, repo, &tree_oid) < 0)
			errx(1, "empty tree: %s", git_error_last()->message);
		git_treebuilder_free(tb);
	}
	if (git_tree_create_updated(&tree_oid, repo, base, 1, &upd) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_oid) < 0)
		errx(1, "tree: %s", git_error_last()->message);

	/* the commit: the trailers it likes, signed with the office's real key */
	t.seq = have_head ? seq + 1 : 1;
	t.lamport = lamport;
	memcpy(t.office, a->office_hex, sizeof t.office);
	if (trailers_format(&msg, "edit 1 record", &t) < 0)
		errx(1, "message: %s", custody_error());
	if (git_signature_now(&who, a->conf.office, "forge@custody") < 0 ||
	    git_commit_create_buffer(&body, repo, who, who, NULL, (const char *)msg.data, tree,
	    have_head ? 1 : 0, (const git_commit **)&parent) < 0)
		errx(1, "commit: %s", git_error_last()->message);
	if (sshsig_sign(&sig, a->office_sk, "git", "sha512", body.ptr, body.size) < 0)
		errx(1, "sign: %s", custody_error());
	if (git_commit_create_with_signature(&oid, repo, body.ptr, sig, NULL) < 0)
		errx(1, "commit: %s", git_error_last()->message);
	refname = feed_refname(a->office_hex);
	if ((have_head ? git_reference_create_matching(&ref, repo, refname, &oid, 1, &head,
	    "forge") : git_reference_create(&ref, repo, refname, &oid, 0, "forge")) < 0)
		errx(1, "ref: %s", git_error_last()->message);
	git_oid_tostr(hex, sizeof hex, &oid);
	printf("%s\n", hex);

	free(refname);
	free((char *)upd.path);
	free(sig);
	cbuf_free(&rec);
	cbuf_free(&msg);
	git_buf_dispose(&body);
	git_reference_free(ref);
	git_signature_free(who);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	json_decref(doc);
	archive_close(a);
	return 0;
}
