/* custody status: what the daemon holds and how it is doing. */
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"

static int cmd_status_exec(const struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "",
	.help = "Show the office, its key, archive contents and uptime.",
	.lower = 0,
	.upper = 0,
	.exec = cmd_status_exec,
};

/* "3d 4h 12m", "12m 5s". */
static const char *
cmd_status_uptime(char *buf, size_t len, uint64_t s)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud %lluh %llum", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600), (unsigned long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(buf, len, "%lluh %llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%llum %llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
	return buf;
}

/* One "label  value" line with the value made safe for the terminal. */
static void
cmd_status_line(const char *label, const char *value)
{
	char *safe = client_safe(value);

	printf("%-12s %s\n", label, safe);
	free(safe);
}

/* "blobs  rados pool custody: ok", or ": unreachable (why)". */
static void
cmd_status_blobs(const Custody__StatusReply *st)
{
	char line[1024];

	if (st->blobs_error != NULL && *st->blobs_error != '\0')
		snprintf(line, sizeof line, "%s: %s (%s)", st->blobs, st->blobs_state,
		    st->blobs_error);
	else
		snprintf(line, sizeof line, "%s: %s", st->blobs, st->blobs_state);
	cmd_status_line("blobs", line);
}

/* Ask for the status and print it. */
static int
cmd_status_exec(const struct cmd_ctx *ctx, const struct cmd_args *args)
{
	Envelope req = CUSTODY__ENVELOPE__INIT, *reply;
	Custody__StatusRequest sr = CUSTODY__STATUS_REQUEST__INIT;
	const Custody__StatusReply *st;
	struct client c;
	char buf[64];
	json_t *o;

	client_open(&c, ctx);
	req.body_case = CUSTODY__ENVELOPE__BODY_STATUS_REQUEST;
	req.status_request = &sr;
	reply = client_call(&c, &req, NULL, 0, CUSTODY__ENVELOPE__BODY_STATUS_REPLY);
	st = reply->status_reply;

	if (ctx->json) {
		o = json_object();
		client_json_str(o, "office", st->office);
		client_json_str(o, "public_key", st->public_key);
		client_json_str(o, "fingerprint", st->fingerprint);
		client_json_u64(o, "evidence", st->evidence);
		client_json_u64(o, "records", st->records);
		client_json_u64(o, "commits", st->commits);
		client_json_u64(o, "disk_bytes", st->disk_bytes);
		client_json_u64(o, "uptime_seconds", st->uptime_seconds);
		client_json_str(o, "archive", st->archive);
		client_json_str(o, "version", st->version);
		client_json_str(o, "archive_id", st->archive_id);
		{
			json_t *forks = json_array();

			for (size_t i = 0; i < st->n_forks; i++)
				json_array_append_new(forks, json_string(st->forks[i]));
			json_object_set_new(o, "forks", forks);
		}
		{
			json_t *refused = json_array();

			for (size_t i = 0; i < st->n_refused_offices; i++)
				json_array_append_new(refused,
				    json_string(st->refused_offices[i]));
			json_object_set_new(o, "refused_offices", refused);
		}
		{
			json_t *rv = json_array();

			for (size_t i = 0; i < st->n_revocations; i++)
				json_array_append_new(rv, json_string(st->revocations[i]));
			json_object_set_new(o, "revocations", rv);
		}
		if (st->blobs != NULL && *st->blobs != '\0') {
			client_json_str(o, "blobs", st->blobs);
			client_json_str(o, "blobs_state", st->blobs_state);
			client_json_str(o, "blobs_error", st->blobs_error);
		}
		client_json_print(o);
	} else {
		cmd_status_line("office", st->office);
		cmd_status_line("fingerprint", st->fingerprint);
		printf("%-12s %llu\n", "evidence", (unsigned long long)st->evidence);
		printf("%-12s %llu\n", "records", (unsigned long long)st->records);
		printf("%-12s %llu\n", "commits", (unsigned long long)st->commits);
		printf("%-12s %s\n", "disk use", client_size(buf, sizeof buf, st->disk_bytes));
		printf("%-12s %s\n", "uptime",
		    cmd_status_uptime(buf, sizeof buf, st->uptime_seconds));
		if (st->archive != NULL && *st->archive != '\0')
			cmd_status_line("archive", st->archive);
		if (st->version != NULL && *st->version != '\0')
			cmd_status_line("version", st->version);
		if (*c.role != '\0')
			cmd_status_line("your role", c.role);
		if (st->blobs != NULL && *st->blobs != '\0')
			cmd_status_blobs(st);
		for (size_t i = 0; i < st->n_forks; i++)
			cmd_status_line(i == 0 ? "FORKS" : "", st->forks[i]);
		for (size_t i = 0; i < st->n_refused_offices; i++)
			cmd_status_line(i == 0 ? "REFUSED" : "", st->refused_offices[i]);
		for (size_t i = 0; i < st->n_revocations; i++)
			cmd_status_line(i == 0 ? "REVOCATIONS" : "", st->revocations[i]);
	}
	wire_free(reply);
	client_close(&c);
	return 0;
}
