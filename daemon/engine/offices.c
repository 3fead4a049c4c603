/* Office records: how offices learn each other's names, keys and addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Build an invite record, with the signed invitation in the invited office's copy. */
int
offices_invite_record(json_t **out, const char *name, const uint8_t pk[static ED25519_PK_LEN],
    const char *invitation)
{
	char hex[2 * ED25519_PK_LEN + 1], id[16 + 2 * ED25519_PK_LEN], *line = NULL;
	int error;

	*out = NULL;
	if ((error = sshkey_format_pub(&line, pk, NULL)) < 0)
		return error;
	hex_encode(hex, pk, ED25519_PK_LEN);
	snprintf(id, sizeof id, "invite-%s", hex);
	*out = json_pack("{s:s,s:s,s:s,s:s}", "kind", "invite", "id", id, "name", name, "key",
	    line);
	free(line);
	if (*out != NULL && invitation != NULL &&
	    json_object_set_new(*out, "invitation", json_string(invitation)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
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
int
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

/* Build a withdrawal record: the inviter takes back its invitation of (name, pk). */
int
offices_withdrawal_record(json_t **out, const char *name,
    const uint8_t pk[static ED25519_PK_LEN])
{
	char hex[2 * ED25519_PK_LEN + 1], id[16 + 2 * ED25519_PK_LEN], *line = NULL;
	int error;

	*out = NULL;
	if ((error = sshkey_format_pub(&line, pk, NULL)) < 0)
		return error;
	hex_encode(hex, pk, ED25519_PK_LEN);
	snprintf(id, sizeof id, "withdrawal-%s", hex);
	*out = json_pack("{s:s,s:s,s:s,s:s}", "kind", "withdrawal", "id", id, "name", name,
	    "key", line);
	free(line);
	return *out != NULL ? 0 : CUSTODY_ENOMEM;
}
