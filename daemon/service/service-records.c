/*
 * The record requests that write: edits, links, and batches (RecordBegin on the loop, then
 * RecordBatch and RecordCommit on a worker). The records are written by the engine
 * (records-write.h); here the requests are read and the RecordDone replies made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records-write.h"
#include "server.h"

/* Encode a RecordDone with ids and problems (both cut short when long; total problems). */
static int
service_records_reply(struct request *r, Custody__RecordDone *d, char **ids, size_t n,
    struct recproblem *probs, size_t nprobs, size_t total, char *oid)
{
	Envelope env = CUSTODY__ENVELOPE__INIT;
	Custody__RecordProblem *pv = NULL, **pp = NULL;
	size_t i, np = nprobs < RECORDS_LIST_PROBLEMS ? nprobs : RECORDS_LIST_PROBLEMS;
	int error;

	d->commit = oid;
	d->problems_total = (uint32_t)(total > UINT32_MAX ? UINT32_MAX : total);
	if (n <= RECORDS_LIST_IDS) {
		d->ids = ids;
		d->n_ids = n;
	}
	if (np > 0 && ((pv = calloc(np, sizeof *pv)) == NULL || (pp = calloc(np,
	    sizeof *pp)) == NULL)) {
		error = CUSTODY_ENOMEM;
		goto done;
	}
	for (i = 0; i < np; i++) {
		custody__record_problem__init(&pv[i]);
		pv[i].line = probs[i].line;
		pv[i].column = probs[i].column ?: "";
		pv[i].problem = probs[i].problem ?: "";
		pp[i] = &pv[i];
	}
	d->n_problems = np;
	d->problems = pp;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_DONE;
	env.record_done = d;
	error = server_reply(r, &env);
done:
	free(pv);
	free(pp);
	return error;
}

/* RecordEdit: set and unset fields of a record; the result is validated like a new one. */
int
service_record_edit(struct request *r)
{
	Custody__RecordEdit *m = r->msg->record_edit;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	char oid[GIT_OID_HEXSZ + 1] = "", *id = NULL;
	int error;

	if ((error = records_edit(&id, r->c->s->a, m->kind, m->id, m->json, m->unset,
	    m->n_unset, &d, oid)) == 0)
		error = service_records_reply(r, &d, &id, 1, NULL, 0, 0, oid);
	free(id);
	return error;
}

/* LinkRequest: evidence to an incident, a victim, a source, a person or a site. */
int
service_link(struct request *r)
{
	Custody__LinkRequest *m = r->msg->link_request;
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	const char *target, *kind, *field;
	char oid[GIT_OID_HEXSZ + 1] = "", *id = NULL;
	int error;

	if (m->incident[0] != '\0')
		target = m->incident, kind = "incident", field = "incidents";
	else if (m->victim[0] != '\0')
		target = m->victim, kind = "victim", field = "victims";
	else if (m->source[0] != '\0')
		target = m->source, kind = "source", field = "sources";
	else if (m->person[0] != '\0')
		target = m->person, kind = "person", field = "persons";
	else if (m->site[0] != '\0')
		target = m->site, kind = "site", field = "sites";
	else
		return custody_fail(CUSTODY_EINVAL, "link to what? give an incident, a victim, "
		    "a source, a person or a site");
	if ((error = records_link(&id, r->c->s->a, m->evidence, target, kind, field, &d,
	    oid)) == 0)
		error = service_records_reply(r, &d, &id, 1, NULL, 0, 0, oid);
	free(id);
	return error;
}

/* Drop an open batch (client gone or shutdown) unless a worker holds it. */
void
service_records_abort(struct client *c)
{
	if (c->records != NULL && !c->records_busy) {
		records_batch_free(c->records);
		c->records = NULL;
	}
}

/* A worker is about to use the open batch: keep it until its done callback. */
void
service_records_hold(struct client *c)
{
	if (c->records != NULL)
		c->records_busy = 1;
}

/* RecordBegin (on the loop): open a batch. */
void
service_record_begin(struct client *c, Envelope *msg)
{
	Custody__RecordBegin *rb = msg->record_begin;
	int error;

	if (c->records != NULL)
		conn_send_error(c->conn, CUSTODY_EPROTO, "a record batch is already open");
	else if ((error = records_batch_new(&c->records, rb->kind, rb->count,
	    rb->skip_invalid)) < 0)
		conn_send_error(c->conn, error, "%s", custody_error());
	else if (rb->n_columns > 0 && (error = records_batch_columns(c->records, rb->origin,
	    rb->columns, rb->n_columns)) < 0) {
		conn_send_error(c->conn, error, "%s", custody_error());
		records_batch_free(c->records);
		c->records = NULL;
	}
	wire_free(msg);
}

/* RecordBatch (on a worker): check the records of the message, keep them. */
int
service_record_batch(struct request *r)
{
	return records_batch_add(r->c->s->a, r->c->records, r->msg->record_batch);
}

/* RecordCommit (on a worker): the batch becomes one commit, or nothing if anything is wrong. */
int
service_record_commit(struct request *r)
{
	Custody__RecordDone d = CUSTODY__RECORD_DONE__INIT;
	struct recproblem *probs;
	char oid[GIT_OID_HEXSZ + 1] = "", **ids;
	size_t nids, nprobs, total;
	int error;

	if ((error = records_batch_commit(r->c->s->a, r->c->records, &d, oid)) < 0)
		return error;
	records_batch_outcome(r->c->records, &ids, &nids, &probs, &nprobs, &total);
	return service_records_reply(r, &d, ids, nids, probs, nprobs, total, oid);
}

/* After a batch's job (on the loop): after its commit, or an error, the batch is over. */
void
service_record_done(struct request *r)
{
	struct client *c = r->c;

	if (c->records == NULL)
		return;
	c->records_busy = 0;
	if (r->msg->body_case == CUSTODY__ENVELOPE__BODY_RECORD_COMMIT || r->error < 0 ||
	    c->gone) {
		records_batch_free(c->records);
		c->records = NULL;
	}
}
