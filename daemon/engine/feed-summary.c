/*
 * The human summary of a feed commit ("ingest 2 files (2 new)", "invite: office beta").
 *
 * Commits carry a fixed subject (FEEDFMT_SUBJECT): the summary is stamped, encrypted, into the
 * rev of every record the commit writes, so reading it takes the data key. Commits written
 * before that carry it as their subject, which is returned as it stands.
 */
#include <stdlib.h>
#include <string.h>

#include "archive.h"

struct feed_summary_find {
	char	name[TOKEN_HEX_LEN + 1];	/* the first record the commit wrote */
	git_oid	id;
};

/* Stop at the first record (a blob) that the commit added or changed. */
static int
feed_summary_cb(const char *path, const git_oid *id, int is_tree, void *arg)
{
	struct feed_summary_find *f = arg;
	const char *name = strrchr(path, '/');

	name = name != NULL ? name + 1 : path;
	if (is_tree || id == NULL || strlen(name) != TOKEN_HEX_LEN)
		return 0;
	memcpy(f->name, name, sizeof f->name);
	f->id = *id;
	return 1;
}

/* The summary of commit c of a feed in *out (the caller frees it; "" when it has none). */
int
feed_summary(struct archive *a, git_commit *c, char **out)
{
	struct feed_summary_find f = { "", { { 0 } } };
	const char *subject = git_commit_summary(c), *s;
	git_commit *parent = NULL;
	git_tree *old = NULL, *new = NULL;
	git_blob *b = NULL;
	json_t *doc = NULL;
	int error = 0;

	*out = NULL;
	if (subject != NULL && strcmp(subject, FEEDFMT_SUBJECT) != 0) {
		*out = strdup(subject);	/* a commit from before opaque subjects */
		return *out != NULL ? 0 : CUSTODY_ENOMEM;
	}
	if (git_commit_tree(&new, c) < 0 || (git_commit_parentcount(c) > 0 &&
	    (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&old, parent) < 0))) {
		error = custody_fail(CUSTODY_EIO, "commit %.12s: tree unreadable",
		    git_oid_tostr_s(git_commit_id(c)));
		goto done;
	}
	if ((error = feed_tree_changes(git_commit_owner(c), old, new, "", feed_summary_cb,
	    &f)) < 0)
		goto done;
	error = 0;
	if (f.name[0] == '\0')
		goto done;
	if (git_blob_lookup(&b, git_commit_owner(c), &f.id) < 0) {
		error = custody_fail(CUSTODY_EIO, "record %s unreadable", f.name);
		goto done;
	}
	if ((error = record_open(&doc, a, f.name, git_blob_rawcontent(b),
	    (size_t)git_blob_rawsize(b), NULL)) < 0)
		goto done;
	if ((s = json_string_value(json_object_get(json_object_get(doc, "rev"), "summary"))) !=
	    NULL && (*out = strdup(s)) == NULL)
		error = CUSTODY_ENOMEM;
done:
	if (error == 0 && *out == NULL && (*out = strdup("")) == NULL)
		error = CUSTODY_ENOMEM;
	json_decref(doc);
	git_blob_free(b);
	git_tree_free(old);
	git_tree_free(new);
	git_commit_free(parent);
	return error;
}
