/*
 * custody-keyprobe: what an office's keys open, for the end-to-end tests of data-key epochs.
 * ARCHIVE is any archive directory: its keys/ (perhaps a revoked office's kept keys) are used
 * on its git/ and blobs/ (perhaps copied from another office). Read-only, except forge-epoch.
 *
 *	custody-keyprobe ARCHIVE epochs				held epochs: "N CREATORHEX"
 *	custody-keyprobe ARCHIVE record OFFICEHEX ID		the record, as JSON
 *	custody-keyprobe ARCHIVE blob NAME WRAPPED SHA256 OUT	a file key unwrapped, blob decrypted
 *	custody-keyprobe ARCHIVE forge-epoch CREATORHEX NUM	a signed commit of an epoch record
 *				numbered NUM, naming CREATORHEX as its creator (daemon stopped)
 *
 * Exits 0 when it opens, 1 when it does not (the reason on stderr), 2 on misuse.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "epochs.h"
#include "offices.h"

/* Print every epoch the keyring holds. */
static int
keyprobe_epochs(struct archive *a)
{
	char hex[65];
	size_t i;

	for (i = 0; a->epochs != NULL && i < a->epochs->n; i++) {
		hex_encode(hex, a->epochs->v[i].creator, 32);
		printf("%u %s\n", a->epochs->v[i].num, hex);
	}
	return 0;
}

/* Open record id of feed office and print it. */
static int
keyprobe_record(struct archive *a, const char *office, const char *id)
{
	json_t *doc = NULL;
	char *s;

	if (feed_read_record(a, office, id, &doc) < 0) {
		fprintf(stderr, "record %s does not open: %s\n", id, custody_error());
		return 1;
	}
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s ? s : "");
	free(s);
	json_decref(doc);
	return 0;
}

/* Unwrap a file key (base64, as in an evidence record) and decrypt blob name into out. */
static int
keyprobe_blob(struct archive *a, const char *name, const char *b64, const char *sha,
    const char *out)
{
	uint8_t raw[WRAPPED_KEY_LEN + 4], key[32], sum[SHA256_LEN];
	char ad[96], hex[SHA256_HEX_LEN + 1];
	uint64_t size;
	size_t len;
	int fd, error;

	snprintf(ad, sizeof ad, "custody blob key %s", sha);
	if (sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		errx(2, "the wrapped key is not base64");
	if (epochs_unwrap(a, key, raw, len, ad) < 0) {
		fprintf(stderr, "file key does not open: %s\n", custody_error());
		return 1;
	}
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		err(2, "%s", out);
	error = blob_decrypt(a, name, key, fd, sum, &size, NULL);
	close(fd);
	sodium_memzero(key, sizeof key);
	hex_encode(hex, sum, SHA256_LEN);
	if (error < 0 || strcmp(hex, sha) != 0) {
		fprintf(stderr, "blob %s does not decrypt to %s: %s\n", name, sha,
		    error < 0 ? custody_error() : hex);
		return 1;
	}
	return 0;
}

/* Append a commit holding epoch num, naming creator, sealed to every office. */
static int
keyprobe_forge_epoch(struct archive *a, const char *creator, const char *num)
{
	struct feed_commit fc;
	struct office *list = NULL;
	uint8_t (*to)[32];
	json_t *doc = NULL;
	size_t n = 0, i;

	if (offices_list(a, &list, &n) < 0 || (to = calloc(n + 1, sizeof *to)) == NULL)
		errx(1, "offices: %s", custody_error());
	for (i = 0; i < n; i++) {
		memcpy(to[i], list[i].pk, 32);
		epochs_retire(a, list[i].pk);	/* any number may follow */
	}
	if (epochs_rotate(a, (const uint8_t (*)[32])to, n, &doc) < 0)
		errx(1, "rotate: %s", custody_error());
	json_object_set_new(doc, "creator", json_string(creator));
	json_object_set_new(doc, "epoch", json_integer(strtoll(num, NULL, 10)));
	json_object_set_new(doc, "id", json_sprintf("epoch-%s-%s", num, creator));
	if (feed_append(a, &fc, "data-key epoch", &doc, 1) < 0)
		errx(1, "append: %s", custody_error());
	printf("%llu\n", (unsigned long long)fc.seq);
	json_decref(doc);
	free(to);
	free(list);
	return 0;
}

int
main(int argc, char **argv)
{
	struct archive *a = NULL;
	char *cause = NULL;
	int forge, rc = 2;

	if (argc < 3)
		errx(2, "usage: custody-keyprobe ARCHIVE epochs|record|blob|forge-epoch ...");
	forge = strcmp(argv[2], "forge-epoch") == 0;
	if (sodium_init() < 0 || archive_open(&a, argv[1], NULL, forge, &cause) < 0)
		errx(2, "%s: %s", argv[1], cause ? cause : custody_error());
	if (forge && (index_open(a, &cause) < 0 || index_catch_up(a, 0) < 0))
		errx(2, "%s: index: %s", argv[1], cause ? cause : custody_error());
	if (strcmp(argv[2], "epochs") == 0 && argc == 3)
		rc = keyprobe_epochs(a);
	else if (strcmp(argv[2], "record") == 0 && argc == 5)
		rc = keyprobe_record(a, argv[3], argv[4]);
	else if (strcmp(argv[2], "blob") == 0 && argc == 7)
		rc = keyprobe_blob(a, argv[3], argv[4], argv[5], argv[6]);
	else if (forge && argc == 5)
		rc = keyprobe_forge_epoch(a, argv[3], argv[4]);
	else
		errx(2, "usage: custody-keyprobe ARCHIVE epochs|record|blob|forge-epoch ...");
	archive_close(a);
	return rc;
}
