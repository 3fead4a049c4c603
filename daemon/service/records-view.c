/*
 * Records as a client receives them. Every request that returns records reads them here: a
 * protected field (custody/recobj.h: a source's name, contact and notes, a victim's notes, a
 * person's reporter and ante-mortem data, a site's coordinates...) is
 * opened only for the roles custody.conf grants it ([roles] protected); for every other role it
 * is never unsealed, and reads "withheld". The wrapped file key of evidence never leaves.
 */
#include "feed-reader.h"
#include "server.h"

/* Whether the client's role is shown protected fields. */
static int
records_view_protected(const struct client *c)
{
	return conf_reads_protected(&c->s->a->conf, c->role);
}

/* Make an opened record what the client may receive. */
static int
records_view_finish(const struct client *c, json_t *doc)
{
	json_object_del(doc, "key");
	return records_view_protected(c) ? 0 : record_withhold(doc);
}

/*
 * The current revision of the record at tok in an office's feed, as the client may see it:
 * through fr when many are read (a list), else read anew.
 */
int
records_view(const struct client *c, struct feed_reader *fr, const char *office_hex,
    const char *tok, json_t **out)
{
	unsigned flags = records_view_protected(c) ? 0 : RECORD_SEALED;
	int error;

	if ((error = fr != NULL ? feed_reader_read(fr, office_hex, tok, out, flags) :
	    feed_read_token_flags(c->s->a, office_hex, tok, out, flags)) < 0)
		return error;
	if ((error = records_view_finish(c, *out)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return error;
}

/* The record at tok as of commit, as the client may see it (object: its git object). */
int
records_view_at(const struct client *c, git_commit *commit, const char *tok, json_t **out,
    git_oid *object)
{
	int error;

	if ((error = feed_read_at_flags(c->s->a, commit, tok, out, object,
	    records_view_protected(c) ? 0 : RECORD_SEALED)) < 0)
		return error;
	if ((error = records_view_finish(c, *out)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return error;
}
