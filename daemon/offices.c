/* Office records: how offices learn each other's names, keys and addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "offices.h"

/* Build an office record. */
int
offices_record(json_t **out, const char *name, const uint8_t pk[static ED25519_PK_LEN],
    const char *address)
{
	char hex[2 * ED25519_PK_LEN + 1], id[16 + 2 * ED25519_PK_LEN], *line = NULL;
	int error;

	*out = NULL;
	if ((error = sshkey_format_pub(&line, pk, NULL)) < 0)
		return error;
	hex_encode(hex, pk, ED25519_PK_LEN);
	snprintf(id, sizeof id, "office-%s", hex);
	*out = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "office", "id", id, "name", name,
	    "key", line, "address", address != NULL ? address : "");
	free(line);
	return *out != NULL ? 0 : CUSTODY_ENOMEM;
}

/* Commit the office records that differ from their current revision in our feed. */
int
offices_write(struct archive *a, json_t **docs, size_t n, const char *summary)
{
	struct records_written w;

	return records_write_changed(a, docs, n, summary, 1, &w);
}

/* Fill o from an office record; EINVAL when it is not one. */
static int
offices_parse(struct office *o, json_t *doc)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *key = json_string_value(json_object_get(doc, "key"));
	const char *addr = json_string_value(json_object_get(doc, "address"));

	if (name == NULL || key == NULL || archive_check_name(name) < 0 ||
	    sshkey_parse_pub(o->pk, NULL, key) < 0)
		return CUSTODY_EINVAL;
	snprintf(o->name, sizeof o->name, "%s", name);
	snprintf(o->address, sizeof o->address, "%s", addr != NULL ? addr : "");
	return 0;
}

/* Every office named by an office record, newest revision first, one per key. */
int
offices_list(struct archive *a, struct office **out, size_t *n)
{
	sqlite3 *db = archive_db(a);
	sqlite3_stmt *st;
	struct office o, *list = NULL, *grown;
	char hex[TOKEN_HEX_LEN + 1];
	json_t *doc;
	size_t i;
	int rc = SQLITE_DONE, error = 0;

	*out = NULL;
	*n = 0;
	if (db == NULL)
		return CUSTODY_EIO;
	if (sqlite3_prepare_v2(db, "SELECT tok, office FROM records WHERE kind='office'"
	    " ORDER BY lamport DESC, office DESC", -1, &st, NULL) != SQLITE_OK)
		return custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TOKEN_LEN)
			continue;
		hex_encode(hex, sqlite3_column_blob(st, 0), TOKEN_LEN);
		doc = NULL;
		if (feed_read_token(a, (const char *)sqlite3_column_text(st, 1), hex, &doc) < 0 ||
		    offices_parse(&o, doc) < 0) {
			log_warn("office record %s unreadable: %s", hex, custody_error());
			json_decref(doc);
			continue;
		}
		json_decref(doc);
		for (i = 0; i < *n; i++)
			if (memcmp(list[i].pk, o.pk, ED25519_PK_LEN) == 0)
				break;
		if (i < *n)
			continue;	/* an older revision, or another office's copy */
		if ((grown = reallocarray(list, *n + 1, sizeof *list)) == NULL) {
			error = CUSTODY_ENOMEM;
			break;
		}
		list = grown;
		list[(*n)++] = o;
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = custody_fail(CUSTODY_EIO, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (error < 0) {
		free(list);
		*n = 0;
		return error;
	}
	*out = list;
	return 0;
}
