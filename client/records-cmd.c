/* The record commands' shared work: fields from options, add / edit / show / list, replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "custody/persons.h"
#include "records-cmd.h"
#include "records-out.h"

/* Collect the field options that were given, deduplicating '-' and '_' spellings. */
void
rc_fields_get(struct rc_fields *out, const struct cmd_args *args)
{
	const struct option *o = args->entry->options;
	char seen[RC_FIELD_MAX] = { 0 };
	const char *v;
	size_t i;
	int f;

	memset(out, 0, sizeof *out);
	for (; o != NULL && o->name != NULL; o++) {
		f = o->val - RC_FIELD;
		if (f < 0 || f >= RC_FIELD_MAX || seen[f] || (v = cmd_get(args, o->val)) == NULL)
			continue;
		seen[f] = 1;
		for (i = 0; o->name[i] != '\0' && i < sizeof out->buf[0] - 1; i++)
			out->buf[out->n][i] = o->name[i] == '-' ? '_' : o->name[i];
		out->names[out->n] = out->buf[out->n];
		out->values[out->n++] = v;
	}
}

/* The office's vocabularies (asked of its daemon once), or exit. */
void
rc_vocab(struct vocab *v)
{
	static const char *lists[] = { "party", "governorate", "cause" };
	struct client c;
	int i;

	memset(v, 0, sizeof *v);
	if (vocab_default(v) < 0)
		client_fatal("%s", custody_error());
	if (client_vocab[0] == NULL && cmd_current != NULL) {
		client_open(&c, cmd_current);
		client_close(&c);
	}
	for (i = 0; i < 3; i++)
		if (client_vocab[i] != NULL && vocab_set(v, lists[i], client_vocab[i]) < 0)
			client_fatal("the daemon's %s vocabulary: %s", lists[i], custody_error());
}

/* A plain decimal option value. */
uint32_t
rc_number(const struct cmd_args *args, int val, const char *flag)
{
	const char *s = cmd_get(args, val);
	unsigned long long n;
	char *end;

	if (s == NULL)
		return 0;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || n > UINT32_MAX)
		cmd_usage_error(args->entry, "%s needs a number, not '%s'", flag, s);
	return (uint32_t)n;
}

/* Send, or exit: nothing can have been written yet. */
void
rc_send(struct client *c, const Envelope *env)
{
	if (client_send(c, env, NULL, 0) < 0)
		client_fatal("%s (nothing was written)", custody_error());
}

/* Receive a RecordDone, or exit with what may have happened. */
Envelope *
rc_recv_done(struct client *c, int committing)
{
	Envelope *reply;

	if (client_recv(c, CUSTODY__ENVELOPE__BODY_RECORD_DONE, &reply) == 0)
		return reply;
	if (committing && !c->peer_error)
		client_fatal("%s: the records may or may not have been committed; check "
		    "'custody log'", custody_error());
	client_fatal("%s (nothing was written)", custody_error());
}

/* Give every record of a RecordList stream to each (which takes it), as it comes. */
static void
rc_recv_each(struct client *c, void (*each)(json_t *, void *), void *arg)
{
	Envelope *reply;
	json_t *rec;
	size_t i;
	int more;

	do {
		if (client_recv(c, CUSTODY__ENVELOPE__BODY_RECORD_LIST, &reply) < 0)
			client_fatal("%s", custody_error());
		for (i = 0; i < reply->record_list->n_json; i++) {
			rec = rout_parse(reply->record_list->json[i], "record");
			if (!json_is_object(rec))
				client_fatal("custodyd sent a record that is not a JSON object");
			each(rec, arg);
		}
		more = reply->record_list->more;
		wire_free(reply);
	} while (more);
}

static void
rc_append(json_t *rec, void *all)
{
	json_array_append_new(all, rec);
}

static void
rc_print(json_t *rec, void *st)
{
	rout_stream_put(st, rec);
}

/* Every record of a RecordList stream. */
json_t *
rc_recv_list(struct client *c)
{
	json_t *all = json_array();

	if (all == NULL)
		client_fatal("out of memory");
	rc_recv_each(c, rc_append, all);
	return all;
}

/*
 * Print the records of a RecordList stream as rout_records does; as CSV or JSON each as it
 * comes, so that a list of a whole country's victims is never held here either.
 */
void
rc_print_list(struct client *c, const char *kind, const char *const *cols,
    enum rout_format fmt)
{
	struct rout_stream st;

	if (fmt != ROUT_CSV && fmt != ROUT_JSON) {
		rout_records(rc_recv_list(c), kind, cols, fmt);
		return;
	}
	rout_stream_begin(&st, kind, fmt);
	rc_recv_each(c, rc_print, &st);
	rout_stream_end(&st);
}

/* Print the problems of a rejected record ("column: problem"), then exit 1. */
static void __attribute__((noreturn))
rc_problems_exit(const struct record_problems *p, const char *what)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		rout_problem(NULL, 0, p->v[i].column, p->v[i].problem);
	if (p->n == 0)
		client_fatal("%s", custody_error());
	client_fatal("%s not valid: %zu problem%s (nothing was sent)", what, p->n,
	    p->n == 1 ? "" : "s");
}

/* s, or "" for NULL. */
static const char *
rc_id(const char *s)
{
	return s != NULL ? s : "";
}

/* Exit if a record with this id exists: adding would replace it whole (edit changes fields). */
static void
rc_refuse_existing(struct client *c, const char *kind, const char *id)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__ShowRequest sr = CUSTODY__SHOW_REQUEST__INIT;
	char *safe;
	int error;

	sr.id = (char *)id;
	req.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REQUEST;
	req.show_request = &sr;
	if (client_send(c, &req, NULL, 0) < 0)
		client_fatal("%s (nothing was written)", custody_error());
	if ((error = client_recv(c, CUSTODY__ENVELOPE__BODY_SHOW_REPLY, &reply)) == 0) {
		wire_free(reply);
		safe = client_safe(id);
		if (strcmp(kind, "person_event") == 0)
			client_fatal("%s exists already (nothing was written)", safe);
		client_fatal("%s exists already (nothing was written); change it with 'custody %s "
		    "edit %s'", safe, kind, safe);
	}
	if (error != CUSTODY_ENOTFOUND || !c->peer_error)
		client_fatal("%s (nothing was written)", custody_error());
}

/* Add one record built from the options: local check, then a batch of one. */
int
rc_add(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind)
{
	struct rc_fields f;

	rc_fields_get(&f, args);
	return rc_add_fields(ctx, &f, kind);
}

/* Add one record built from fields: local check, then a batch of one. */
int
rc_add_fields(const struct cmd_ctx *ctx, const struct rc_fields *fp, const char *kind)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RecordBegin begin = CUSTODY__RECORD_BEGIN__INIT;
	Custody__RecordBatch batch = CUSTODY__RECORD_BATCH__INIT;
	Custody__RecordCommit commit = CUSTODY__RECORD_COMMIT__INIT;
	const Custody__RecordDone *d;
	struct record_problems probs = { 0 };
	const struct rc_fields *f = fp;
	struct vocab v;
	struct client c;
	json_t *rec = NULL;
	char *json, rec_id[160];
	size_t i;

	rc_vocab(&v);
	if (record_from_fields(&rec, &probs, &v, kind, f->names, f->values, f->n) < 0 || probs.n)
		rc_problems_exit(&probs, kind);
	vocab_free(&v);
	if ((json = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		client_fatal("out of memory");
	snprintf(rec_id, sizeof rec_id, "%s", rc_id(json_string_value(json_object_get(rec,
	    "id"))));
	json_decref(rec);

	client_open(&c, ctx);
	if (*rc_id(rec_id) != '\0')
		rc_refuse_existing(&c, kind, rec_id);
	begin.kind = (char *)kind;
	begin.count = 1;
	begin.origin = (char *)"";
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BEGIN;
	env.record_begin = &begin;
	rc_send(&c, &env);
	batch.n_json = 1;
	batch.json = &json;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BATCH;
	env.record_batch = &batch;
	rc_send(&c, &env);
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_COMMIT;
	env.record_commit = &commit;
	rc_send(&c, &env);
	reply = rc_recv_done(&c, 1);
	free(json);

	d = reply->record_done;
	if (d->n_problems > 0) {
		for (i = 0; i < d->n_problems; i++)
			rout_problem(NULL, 0, d->problems[i]->column, d->problems[i]->problem);
		client_fatal("custodyd refused the %s (nothing was written)", kind);
	}
	if (d->n_ids != 1)
		client_fatal("custodyd sent %zu ids for one record", d->n_ids);
	if (ctx->json) {
		rout_done(ctx, d, d->ids[0]);
	} else {
		json = client_safe(d->ids[0]);
		printf("%s\n", json);
		free(json);
		fflush(stdout);
		json = client_safe(d->commit);
		if (*json == '\0')
			fprintf(stderr, "unchanged: identical to the current %s\n", kind);
		else
			fprintf(stderr, "committed as seq %llu (commit %.12s)\n",
			    (unsigned long long)d->seq, json);
		free(json);
	}
	wire_free(reply);
	client_close(&c);
	return client_finish_stdout();
}

/* Whether name is among the n names. */
static int
rc_has(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* Whether name is in a NULL-terminated list. */
static int
rc_known(const char *const *names, const char *name)
{
	for (; names != NULL && *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return 1;
	return 0;
}

/* The record as it stands: ShowRequest on the open connection, checked to be of kind. */
static json_t *
rc_current(struct client *c, const char *kind, const char *id)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__ShowRequest sr = CUSTODY__SHOW_REQUEST__INIT;
	const char *k;
	char *safe;
	json_t *j;

	sr.id = (char *)id;
	req.body_case = CUSTODY__ENVELOPE__BODY_SHOW_REQUEST;
	req.show_request = &sr;
	reply = client_call(c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_SHOW_REPLY);
	j = rout_parse(reply->show_reply->json, "record");
	wire_free(reply);
	if (!json_is_object(j))
		client_fatal("custodyd sent a record that is not a JSON object");
	if ((k = json_string_value(json_object_get(j, "kind"))) != NULL && strcmp(k, kind) != 0) {
		safe = client_safe(id);
		k = client_safe(k);
		client_fatal("%s is a%s %s record, not a%s %s (see 'custody show %s')", safe,
		    *k != '\0' && strchr("aeiou", *k) ? "n" : "", k,
		    strchr("aeiou", *kind) ? "n" : "", kind, safe);
	}
	return j;
}

/*
 * The fields to set, typed as stored: the record as it will be (current fields, the given
 * ones over them, the unset ones gone) is checked here first, so that problems show before
 * anything is sent. A vocabulary word of a field this edit leaves alone is the daemon's to
 * judge (its office may have changed the vocabularies): such problems are ignored here.
 */
static json_t *
rc_edit_fields(const char *kind, const struct rc_fields *f,
    const json_t *cur, char *const *unset, size_t nunset)
{
	const char *const *known = record_fields(kind);
	const char *names[RC_FIELD_MAX], *values[RC_FIELD_MAX], *withheld[RC_FIELD_MAX];
	char *own[RC_FIELD_MAX], pkey[80];
	struct record_problems probs = { 0 };
	json_t *rec = NULL, *set = json_object(), *m;
	size_t i, n = 0, nown = 0, bad = 0, nwithheld = 0;
	struct vocab v;

	for (i = 0; i < f->n && n < RC_FIELD_MAX; i++) {
		names[n] = f->names[i];
		values[n++] = f->values[i];
	}
	for (; known != NULL && *known != NULL && n < RC_FIELD_MAX; known++) {
		if (rc_has(f->names, f->n, *known) || rc_has((const char *const *)unset, nunset,
		    *known) || json_object_get(cur, *known) == NULL)
			continue;
		if (strcmp(*known, "age_group") == 0 && (rc_has(f->names, f->n, "age") ||
		    rc_has((const char *const *)unset, nunset, "age")))
			continue;	/* derived again from the new age */
		m = json_object_get(cur, *known);
		if (json_is_string(m) && strcmp(json_string_value(m), "withheld") == 0) {
			/* a protected field this role may not read: custodyd checks its value */
			withheld[nwithheld++] = *known;
			continue;
		}
		names[n] = *known;
		values[n++] = own[nown++] = rout_cell(cur, *known);
	}
	rc_vocab(&v);
	record_from_fields(&rec, &probs, &v, kind, names, values, n);
	vocab_free(&v);
	for (i = 0; i < probs.n; i++) {
		if (!rc_has(f->names, f->n, probs.v[i].column) &&
		    rc_has(withheld, nwithheld, probs.v[i].column))
			continue;	/* it may be right with the value withheld */
		if (rc_has(f->names, f->n, probs.v[i].column) ||
		    !rc_has(names + f->n, n - f->n, probs.v[i].column) ||
		    !record_field_vocab(kind, probs.v[i].column)) {
			rout_problem(NULL, 0, probs.v[i].column, probs.v[i].problem);
			bad++;
		}
	}
	if (bad > 0)
		client_fatal("the edited %s would not be valid: %zu problem%s (nothing was sent)",
		    kind, bad, bad == 1 ? "" : "s");
	for (i = 0; i < f->n; i++) {
		m = rec != NULL && probs.n == 0 ? json_object_get(rec, f->names[i]) : NULL;
		if (m != NULL)
			json_object_set(set, f->names[i], m);
		else
			client_json_str(set, f->names[i], f->values[i]);
		/* a date's derived precision goes with it, so the stored one cannot contradict */
		snprintf(pkey, sizeof pkey, "%s_precision", f->names[i]);
		if (m != NULL && (m = json_object_get(rec, pkey)) != NULL)
			json_object_set(set, pkey, m);
	}
	record_problems_free(&probs);
	for (i = 0; i < nown; i++)
		free(own[i]);
	json_decref(rec);
	return set;
}

/* Edit a record: set the given fields, remove the --unset ones. */
int
rc_edit(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind)
{
	Envelope env = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__RecordEdit edit = CUSTODY__RECORD_EDIT__INIT;
	const char *const *known = record_fields(kind), *u = cmd_get(args, RC_OPT_UNSET);
	char *unset_buf = NULL, *unset[RC_FIELD_MAX], *tok, *save, *json;
	char pkeys[RC_FIELD_MAX][80];
	struct rc_fields f;
	struct client c;
	size_t i, n, nunset = 0;
	json_t *set, *cur;

	rc_fields_get(&f, args);
	if (*args->argv[0] == '\0')
		cmd_usage_error(args->entry, "empty ID");
	if (u != NULL && (unset_buf = strdup(u)) == NULL)
		client_fatal("out of memory");
	for (i = 0; i < f.n; i++)
		if (*f.values[i] == '\0')
			cmd_usage_error(args->entry, "--%s is empty (use --unset %s to remove it)",
			    f.names[i], f.names[i]);
	for (tok = unset_buf ? strtok_r(unset_buf, ",", &save) : NULL; tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (!rc_known(known, tok) || strcmp(tok, "id") == 0)
			cmd_usage_error(args->entry, "--unset: '%s' is not a field a%s %s can lose",
			    tok, strchr("aeiou", *kind) ? "n" : "", kind);
		if (rc_has(f.names, f.n, tok))
			cmd_usage_error(args->entry, "%s is both set and unset", tok);
		if (nunset < RC_FIELD_MAX && !rc_has((const char *const *)unset, nunset, tok))
			unset[nunset++] = tok;
	}
	if (f.n == 0 && nunset == 0)
		cmd_usage_error(args->entry, "nothing to change: give fields to set or --unset");
	client_open(&c, ctx);
	cur = rc_current(&c, kind, args->argv[0]);
	/* a date's derived precision goes with it (the daemon keeps what it is not told) */
	for (i = 0, n = nunset; i < n && nunset < RC_FIELD_MAX; i++) {
		snprintf(pkeys[i], sizeof pkeys[i], "%s_precision", unset[i]);
		if (json_object_get(cur, pkeys[i]) != NULL)
			unset[nunset++] = pkeys[i];
	}
	set = rc_edit_fields(kind, &f, cur, unset, nunset);
	json_decref(cur);
	if ((json = json_dumps(set, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		client_fatal("out of memory");
	json_decref(set);
	edit.kind = (char *)kind;
	edit.id = args->argv[0];
	edit.json = json;
	edit.unset = unset;
	edit.n_unset = nunset;
	env.body_case = CUSTODY__ENVELOPE__BODY_RECORD_EDIT;
	env.record_edit = &edit;
	rc_send(&c, &env);
	reply = rc_recv_done(&c, 1);
	rout_done(ctx, reply->record_done, args->argv[0]);
	wire_free(reply);
	free(json);
	free(unset_buf);
	client_close(&c);
	return client_finish_stdout();
}

/* Show one record of a kind as JSON. */
int
rc_show(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind)
{
	struct client c;
	json_t *j;

	if (*args->argv[0] == '\0')
		cmd_usage_error(args->entry, "empty ID");
	client_open(&c, ctx);
	j = rc_current(&c, kind, args->argv[0]);
	client_json_print(j);	/* the record is JSON already: --json prints the same */
	client_close(&c);
	return client_finish_stdout();
}

/* List the records of a kind. */
int
rc_list(const struct cmd_ctx *ctx, const struct cmd_args *args, const char *kind,
    const char *const *cols)
{
	Envelope req = CUSTODY__ENVELOPE__INIT;
	Custody__ListRequest lr = CUSTODY__LIST_REQUEST__INIT;
	enum rout_format fmt = rout_format(args, RC_OPT_FORMAT, ctx->json, ROUT_TABLE);
	struct client c;

	lr.kind = (char *)kind;
	lr.limit = rc_number(args, RC_OPT_LIMIT, "--limit");
	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_LIST_REQUEST;
	req.list_request = &lr;
	if (client_send(&c, &req, NULL, 0) < 0)
		client_fatal("%s", custody_error());
	rc_print_list(&c, kind, cols, fmt);
	client_close(&c);
	return client_finish_stdout();
}

/* A filter's value, or "" when absent; a given but empty value is a usage error. */
char *
rc_opt(const struct cmd_args *args, int val, const char *flag)
{
	const char *v = cmd_get(args, val);

	if (v != NULL && *v == '\0')
		cmd_usage_error(args->entry, "%s needs a value", flag);
	return (char *)(v != NULL ? v : "");
}

/* A --from/--to day. */
static char *
rc_query_day(const struct cmd_args *args, int val, const char *flag)
{
	char *v = rc_opt(args, val, flag);
	struct cdate d;

	if (*v != '\0' && (cdate_parse(&d, v) < 0 || d.precision != DATE_DAY))
		cmd_usage_error(args->entry, "%s needs a real day YYYY-MM-DD, not '%s'", flag, v);
	return v;
}

/* A vocabulary filter; a word the defaults lack is sent anyway (the office may add words). */
static char *
rc_query_word(const struct cmd_args *args, int val, const char *which)
{
	char flag[32], *v;

	snprintf(flag, sizeof flag, "--%s", which);
	v = rc_opt(args, val, flag);
	if (*v != '\0' && strcmp(v, "unknown") != 0 && !vocab_has(NULL, which, v))
		client_warn("warning: '%s' is not a %s of the default vocabulary", v, which);
	return v;
}

/*
 * The filters of `query victims` but --incident (options F T b p g c k C W and RC_OPT_LIMIT):
 * checked, into q; returns whether any was given.
 */
int
rc_query_filters(Custody__QueryRequest *q, const struct cmd_args *args)
{
	static const int vals[] = { 'F', 'T', 'b', 'p', 'g', 'c', 'k', 'C', 'W', RC_OPT_LIMIT };
	size_t i;
	int any = 0;

	q->from = rc_query_day(args, 'F', "--from");
	q->to = rc_query_day(args, 'T', "--to");
	if (*q->from != '\0' && *q->to != '\0' && strcmp(q->from, q->to) > 0)
		cmd_usage_error(args->entry, "--to %s is before --from %s", q->to, q->from);
	q->basis = rc_opt(args, 'b', "--basis");
	if (*q->basis != '\0' && strcmp(q->basis, "documented") != 0 &&
	    strcmp(q->basis, "death") != 0)
		cmd_usage_error(args->entry, "--basis is documented or death, not '%s'", q->basis);
	q->party = rc_query_word(args, 'p', "party");
	q->governorate = rc_query_word(args, 'g', "governorate");
	q->cause = rc_query_word(args, 'c', "cause");
	q->category = rc_opt(args, 'k', "--category");
	if (*q->category != '\0' && strcmp(q->category, "medical") != 0 &&
	    strcmp(q->category, "civil_defense") != 0 && strcmp(q->category, "media") != 0)
		cmd_usage_error(args->entry, "--category is medical, civil_defense or media");
	q->child = cmd_get(args, 'C') != NULL;
	q->woman = cmd_get(args, 'W') != NULL;
	q->limit = rc_number(args, RC_OPT_LIMIT, "--limit");
	for (i = 0; i < sizeof vals / sizeof vals[0]; i++)
		if (cmd_get(args, vals[i]) != NULL)
			any = 1;
	return any;
}

/* A person query's --status and --at. */
void
rc_person_status(Custody__PersonQueryRequest *q, const struct cmd_args *args, int sval,
    int aval, char today[static 11])
{
	time_t now = time(NULL);
	int64_t day;
	struct tm tm;

	q->status = rc_opt(args, sval, "--status");
	q->at = rc_opt(args, aval, "--at");
	if (q->status[0] != '\0' &&
	    person_status_from_name(q->status, strlen(q->status)) == PERSON_STATUS_NONE)
		cmd_usage_error(args->entry, "--status is one of missing, detained, disappeared, "
		    "released, died_in_custody, found_dead, identified, not '%s'", q->status);
	if (q->at[0] != '\0' && q->status[0] == '\0')
		cmd_usage_error(args->entry, "--at goes with --status");
	if (q->at[0] != '\0' && person_day(&day, q->at) < 0)
		cmd_usage_error(args->entry, "--at needs a real day YYYY-MM-DD, not '%s'", q->at);
	if (q->status[0] != '\0' && q->at[0] == '\0') {
		gmtime_r(&now, &tm);
		strftime(today, 11, "%Y-%m-%d", &tm);
		q->at = today;
	}
}
