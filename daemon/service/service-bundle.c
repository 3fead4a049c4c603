/*
 * BundleCreateRequest and BundleApplyRequest: a bundle written into, or read from, the
 * descriptor the client passed (it opened the file; custodyd opens no path a client names).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "log.h"
#include "server.h"

/* The descriptor a client passed: a regular file (a pipe could hold a worker forever). */
static int
service_bundle_file(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return custody_fail(CUSTODY_EINVAL, "bundle: the descriptor passed is not a "
		    "regular file");
	return 0;
}

int
service_bundle_create(struct request *r)
{
	const Custody__BundleCreateRequest *m = r->msg->bundle_create_request;
	Custody__BundleCreateReply br = CUSTODY__BUNDLE_CREATE_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct bundle_created x;
	int error;

	if (m->office == NULL || m->office[0] == '\0')
		return custody_fail(CUSTODY_EINVAL, "bundle: which office is it for?");
	if ((error = service_bundle_file(r->fd)) < 0)
		return error;
	if ((error = bundle_create(&x, r->c->s->a, m->office, m->all,
	    m->since != NULL && m->since[0] != '\0' ? m->since : NULL, r->fd,
	    &r->progress_done)) < 0)
		return error;
	log_info("uid %u wrote a bundle for %s: %u feeds, %llu commits, %u blobs, %llu bytes",
	    (unsigned)r->c->uid, m->office, x.feeds, (unsigned long long)x.commits, x.blobs,
	    (unsigned long long)x.size);
	br.size = x.size;
	br.feeds = x.feeds;
	br.commits = x.commits;
	br.blobs = x.blobs;
	br.blob_bytes = x.blob_bytes;
	env.body_case = CUSTODY__ENVELOPE__BODY_BUNDLE_CREATE_REPLY;
	env.bundle_create_reply = &br;
	if ((error = server_reply(r, &env)) < 0 && ftruncate(r->fd, 0) != 0)
		log_warn("bundle: cannot clear the output after a failure");
	return error;
}

int
service_bundle_apply(struct request *r)
{
	Custody__BundleApplyReply br = CUSTODY__BUNDLE_APPLY_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct sync_result res = { 0 };
	char sender[OFFICE_NAME_MAX + 1];
	size_t i;
	int error;

	if ((error = service_bundle_file(r->fd)) < 0 ||
	    (error = bundle_apply(&res, sender, r->c->s->a, r->fd)) < 0) {
		log_warn("uid %u: bundle refused: %s", (unsigned)r->c->uid, custody_error());
		goto done;
	}
	for (i = 0; i < res.nmoved; i++)
		log_info("bundle from %s: %s", sender, res.moved[i]);
	br.sender = sender;
	br.moved = res.moved;
	br.n_moved = res.nmoved;
	br.notes = res.forks;
	br.n_notes = res.nforks;
	env.body_case = CUSTODY__ENVELOPE__BODY_BUNDLE_APPLY_REPLY;
	env.bundle_apply_reply = &br;
	error = server_reply(r, &env);
done:
	sync_result_free(&res);
	return error;
}
