/*
 * The feed format: where an office's feed and its records stand in the git repository, written
 * and parsed here once for the daemon (feeds, sync, verify, index, extract) and the dossier
 * verifier. The commit messages of a feed are custody/trailers.h.
 *
 *	refs/feeds/HEX		an office's feed; HEX its Ed25519 key, 64 lower-case hex digits
 *	records/XX/YY/TOKEN	a record in a commit's tree; TOKEN 32 lower-case hex digits (the
 *				keyed hash of the record id), XX and YY its first two pairs
 *
 * A feed commit's tree holds the one tree "records" and nothing else; "records" and its
 * subtrees XX hold only trees named by two lower-case hex digits; records/XX/YY holds only
 * records whose TOKEN starts with XXYY. Every commit's subject is FEEDFMT_SUBJECT.
 */
#ifndef CUSTODY_FEEDFMT_H
#define CUSTODY_FEEDFMT_H

#include <stddef.h>

#define FEEDFMT_REF_PREFIX	"refs/feeds/"
#define FEEDFMT_REF_GLOB	FEEDFMT_REF_PREFIX "*"
#define FEEDFMT_OFFICE_HEX	64
#define FEEDFMT_REF_LEN		(sizeof FEEDFMT_REF_PREFIX - 1 + FEEDFMT_OFFICE_HEX)
#define FEEDFMT_ROOT		"records"
#define FEEDFMT_TOKEN_HEX	32
#define FEEDFMT_PATH_LEN	(sizeof FEEDFMT_ROOT + 6 + FEEDFMT_TOKEN_HEX)
#define FEEDFMT_SUBJECT		"custody"

/* refs/feeds/HEX into out; CUSTODY_EINVAL unless office_hex is 64 lower-case hex digits. */
int feedfmt_ref(char out[static FEEDFMT_REF_LEN + 1], const char *office_hex);

/*
 * The office of a feed ref name: a pointer to HEX inside name, or NULL unless name is exactly
 * refs/feeds/ and 64 lower-case hex digits.
 */
const char *feedfmt_ref_office(const char *name);

/* records/XX/YY/TOKEN into out; CUSTODY_EINVAL unless token_hex is 32 lower-case hex digits. */
int feedfmt_record_path(char out[static FEEDFMT_PATH_LEN + 1], const char *token_hex);

/*
 * The TOKEN of a record path: a pointer to it inside path, or NULL unless path is exactly
 * records/XX/YY/TOKEN with XXYY the first four digits of TOKEN.
 */
const char *feedfmt_record_token(const char *path);

/*
 * Whether an entry called name may stand in the tree at dir, named as git_tree_walk names it
 * ("" for a commit's tree, else "records/", "records/XX/" or "records/XX/YY/"): 1 or 0.
 * is_tree says whether the entry is a tree.
 */
int feedfmt_entry_ok(const char *dir, const char *name, int is_tree);

#endif
