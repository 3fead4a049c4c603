/* ExtractRequest: a dossier for a recipient into the client's descriptor (extract.c). */
#include <unistd.h>

#include "extract.h"
#include "log.h"
#include "server.h"

int
service_extract(struct request *r)
{
	Custody__ExtractReply er = CUSTODY__EXTRACT_REPLY__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct extract_result x;
	int error;

	if ((error = extract_write(&x, r->c->s->a, r->msg->extract_request, r->fd, r->c->actor,
	    &r->progress_done, &r->progress_total)) < 0)
		return error;
	log_info("uid %u extracted %s: %zu records, %llu evidence bytes, tag manifest %s",
	    (unsigned)r->c->uid, x.dossier, x.records, (unsigned long long)x.evidence_bytes,
	    x.tagmanifest_sha256);
	er.dossier = x.dossier;
	er.size = x.size;
	er.tagmanifest_sha256 = x.tagmanifest_sha256;
	er.incidents = x.incidents;
	er.victims = x.victims;
	er.evidence = x.evidence;
	er.sources = x.sources;
	er.persons = x.persons;
	er.person_events = x.person_events;
	er.sites = x.sites;
	er.persons_left_out = x.persons_left_out;
	er.person_events_left_out = x.person_events_left_out;
	er.consent_class = x.consent_class;
	er.evidence_bytes = x.evidence_bytes;
	er.commit = x.commit;
	er.seq = x.seq;
	env.body_case = CUSTODY__ENVELOPE__BODY_EXTRACT_REPLY;
	env.extract_reply = &er;
	if ((error = server_reply(r, &env)) < 0 && ftruncate(r->fd, 0) != 0)
		log_warn("extract: cannot clear the output after a failure");
	return error;
}
