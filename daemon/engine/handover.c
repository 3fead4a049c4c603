/* Signing-key handovers: which key signs each commit of a feed (see handover.h). */
#include <stdio.h>
#include <string.h>

#include "handover.h"

void
handover_chain_init(struct handover_chain *ch, const uint8_t original[static ED25519_PK_LEN])
{
	memset(ch, 0, sizeof *ch);
	memcpy(ch->original, original, ED25519_PK_LEN);
	memcpy(ch->current, original, ED25519_PK_LEN);
}

int
handover_chain_step(struct handover_chain *ch, uint64_t seq, const uint8_t *next)
{
	if (next == NULL)
		return 0;
	if (ch->n >= HANDOVER_MAX)
		return custody_fail(CUSTODY_EPROTO, "commit %llu: a handover past the %d a feed "
		    "may make", (unsigned long long)seq, HANDOVER_MAX);
	/* a key the feed already used would let a commit signed before be read as after */
	if (memcmp(next, ch->current, ED25519_PK_LEN) == 0 ||
	    memcmp(next, ch->original, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EPROTO, "commit %llu: a handover to a key this feed "
		    "already used", (unsigned long long)seq);
	memcpy(ch->current, next, ED25519_PK_LEN);
	ch->seq = seq;
	ch->n++;
	return 0;
}

void
handover_id(char id[static ID_MAX + 1], const uint8_t next[static ED25519_PK_LEN])
{
	char hex[2 * ED25519_PK_LEN + 1];

	hex_encode(hex, next, ED25519_PK_LEN);
	snprintf(id, ID_MAX + 1, "handover-%s", hex);
}

/* A 64 lower-case hex key field of doc. */
static int
handover_key(const json_t *doc, const char *field, uint8_t pk[static ED25519_PK_LEN])
{
	const char *s = json_string_value(json_object_get(doc, field));

	if (s == NULL || strlen(s) != 2 * ED25519_PK_LEN || !hex_is_lower(s, 2 * ED25519_PK_LEN) ||
	    hex_decode(pk, ED25519_PK_LEN, s) < 0)
		return custody_fail(CUSTODY_EPROTO, "handover record: \"%s\" is not a key in hex",
		    field);
	return 0;
}

int
handover_parse(const json_t *doc, uint8_t from[static ED25519_PK_LEN],
    uint8_t to[static ED25519_PK_LEN])
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *id = json_string_value(json_object_get(doc, "id"));
	char want[ID_MAX + 1];
	int error;

	if (kind == NULL || strcmp(kind, "handover") != 0)
		return custody_fail(CUSTODY_EPROTO, "not a handover record");
	if ((error = handover_key(doc, "from", from)) < 0 ||
	    (error = handover_key(doc, "to", to)) < 0)
		return error;
	if (memcmp(from, to, ED25519_PK_LEN) == 0)
		return custody_fail(CUSTODY_EPROTO, "handover record: it hands the key to itself");
	handover_id(want, to);
	if (id == NULL || strcmp(id, want) != 0)
		return custody_fail(CUSTODY_EPROTO, "handover record: its id is not %s", want);
	return 0;
}
