/* The feed format (include/custody/feedfmt.h): ref names and record paths. */
#include <stdio.h>
#include <string.h>

#include "custody/common.h"
#include "custody/feedfmt.h"

#define FEEDFMT_ROOT_LEN (sizeof FEEDFMT_ROOT - 1)

/* True when s starts with two lower-case hex digits. */
static int
feedfmt_hex2(const char *s)
{
	return ((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'f')) &&
	    ((s[1] >= '0' && s[1] <= '9') || (s[1] >= 'a' && s[1] <= 'f'));
}

/* refs/feeds/HEX */
int
feedfmt_ref(char out[static FEEDFMT_REF_LEN + 1], const char *office_hex)
{
	out[0] = '\0';
	if (strlen(office_hex) != FEEDFMT_OFFICE_HEX ||
	    !hex_is_lower(office_hex, FEEDFMT_OFFICE_HEX))
		return custody_fail(CUSTODY_EINVAL, "not an office key: want 64 lower-case hex "
		    "digits");
	snprintf(out, FEEDFMT_REF_LEN + 1, FEEDFMT_REF_PREFIX "%s", office_hex);
	return 0;
}

/* HEX of refs/feeds/HEX, or NULL. */
const char *
feedfmt_ref_office(const char *name)
{
	const char *hex = name + sizeof FEEDFMT_REF_PREFIX - 1;

	if (strncmp(name, FEEDFMT_REF_PREFIX, sizeof FEEDFMT_REF_PREFIX - 1) != 0 ||
	    strlen(hex) != FEEDFMT_OFFICE_HEX || !hex_is_lower(hex, FEEDFMT_OFFICE_HEX))
		return NULL;
	return hex;
}

/* records/XX/YY/TOKEN */
int
feedfmt_record_path(char out[static FEEDFMT_PATH_LEN + 1], const char *token_hex)
{
	out[0] = '\0';
	if (strlen(token_hex) != FEEDFMT_TOKEN_HEX || !hex_is_lower(token_hex, FEEDFMT_TOKEN_HEX))
		return custody_fail(CUSTODY_EINVAL, "not a record token: want 32 lower-case hex "
		    "digits");
	snprintf(out, FEEDFMT_PATH_LEN + 1, FEEDFMT_ROOT "/%.2s/%.2s/%s", token_hex,
	    token_hex + 2, token_hex);
	return 0;
}

/* TOKEN of records/XX/YY/TOKEN, or NULL. */
const char *
feedfmt_record_token(const char *path)
{
	const char *t = path + FEEDFMT_ROOT_LEN + 7;

	if (strlen(path) != FEEDFMT_PATH_LEN ||
	    strncmp(path, FEEDFMT_ROOT "/", FEEDFMT_ROOT_LEN + 1) != 0 ||
	    path[FEEDFMT_ROOT_LEN + 3] != '/' || path[FEEDFMT_ROOT_LEN + 6] != '/' ||
	    !hex_is_lower(t, FEEDFMT_TOKEN_HEX) || memcmp(path + FEEDFMT_ROOT_LEN + 1, t, 2) != 0 ||
	    memcmp(path + FEEDFMT_ROOT_LEN + 4, t + 2, 2) != 0)
		return NULL;
	return t;
}

/* May name stand in the tree at dir? */
int
feedfmt_entry_ok(const char *dir, const char *name, int is_tree)
{
	char path[FEEDFMT_PATH_LEN + 1];
	size_t n = strlen(dir), k = strlen(name);

	if (is_tree && n == 0)
		return strcmp(name, FEEDFMT_ROOT) == 0;
	if (is_tree)
		return (n == FEEDFMT_ROOT_LEN + 1 || n == FEEDFMT_ROOT_LEN + 4) &&
		    strncmp(dir, FEEDFMT_ROOT "/", FEEDFMT_ROOT_LEN + 1) == 0 &&
		    (n == FEEDFMT_ROOT_LEN + 1 || (feedfmt_hex2(dir + FEEDFMT_ROOT_LEN + 1) &&
		    dir[FEEDFMT_ROOT_LEN + 3] == '/')) && k == 2 && feedfmt_hex2(name);
	if (k != FEEDFMT_TOKEN_HEX || n + k != FEEDFMT_PATH_LEN)
		return 0;
	memcpy(path, dir, n);
	memcpy(path + n, name, k + 1);
	return feedfmt_record_token(path) != NULL;
}
