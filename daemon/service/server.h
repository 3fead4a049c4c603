/* The service: the event loop, local clients, and requests run on the worker pool. */
#ifndef CUSTODY_SERVER_H
#define CUSTODY_SERVER_H

#include <sys/queue.h>
#include <sys/types.h>

#include "archive.h"
#include "custody/conn.h"
#include "pool.h"

struct ingest;
struct feed_reader;
struct recbatch;

struct server {
	struct archive		*a;
	struct event_base	*base;
	struct pool		*pool;
	int			 listen_fd;
	char			*socket_path;
	struct event		*accept_ev, *sigterm_ev, *sigint_ev, *backoff_ev;
	TAILQ_HEAD(, client)	 clients;
	int			 stopping;
};

struct client {
	struct server		*s;
	struct conn		*conn;
	uid_t			 uid;
	char			 actor[OFFICE_NAME_MAX + 80];	/* user@office */
	enum role		 role;
	int			 refs;
	int			 gone;
	int			 welcomed;
	time_t			 last;		/* its last message, for shedding the idlest */
	struct ingest		*ingest;	/* the open ingest batch, if any */
	struct recbatch		*records;	/* the open record batch, if any */
	int			 records_busy;	/* a worker holds it */
	int			 checking;	/* a RecordBatch of it is on a worker */
	Envelope		*ahead;		/* its next message, read meanwhile */
	struct request		*streaming;	/* its request waiting for it to read a part */
	TAILQ_ENTRY(client)	 entry;
};

/* A request being worked on: work() runs on a worker and fills out or fails. */
struct request {
	struct client	*c;
	Envelope	*msg;
	int		 fd;		/* a descriptor passed with the request, or -1 */
	struct cbuf	 out;		/* encoded reply frames */
	int		 error;
	char		 errmsg[512];
	int		 fatal;		/* drop the connection after the error */
	int		 ahead;		/* the client's next message is read while it runs */
	void		*arg;		/* the handler's own state */
	/* progress a worker reports (atomics); sent as Progress every tick when wanted */
	uint64_t	 progress_done, progress_total;
	struct event	*progress_ev;
	uint64_t	 progress_sent;
	int		 (*work)(struct request *);
	void		 (*done)(struct request *);	/* on the loop, before the reply; may be NULL */
	struct reply_stream *stream;	/* parts of the reply sent while work runs */
};

int server_run(struct archive *, char **cause);
/* Run req->work on the pool; the reply (or error) is sent when it finishes. */
void server_submit(struct request *);
/* Send Progress messages while r runs (call before server_submit). */
void server_want_progress(struct request *);
/* Encode a reply envelope into req->out. */
int server_reply(struct request *, const Envelope *);
/* server-stream.c: send what req->out holds while work runs, once the client read the last */
int server_reply_flush(struct request *);
void server_stream_done(struct request *);
void server_stream_gone(struct client *);
struct request *request_new(struct client *, Envelope *, int (*)(struct request *));

/* service.c: the request handlers */
int service_status(struct request *);
int service_show(struct request *);
int service_log(struct request *);
int service_verify(struct request *);
int service_keys(struct request *);
int service_get(struct request *);
int service_audit(struct request *);

/* service-keys.c */
int service_keys_split(struct request *);
int service_keys_rotate(struct request *);
int service_keys_rotate_data(struct request *);

/* service-invite.c */
int service_invite(struct request *);
/* service-revoke.c */
int service_revoke(struct request *);
int service_revocations(struct request *);

/* service-records.c: record edits, links and batches (the engine: records-write.h) */
int service_record_edit(struct request *);
int service_link(struct request *);
void service_record_begin(struct client *, Envelope *);
int service_record_batch(struct request *);
int service_record_commit(struct request *);
void service_record_done(struct request *);
void service_records_abort(struct client *);
void service_records_hold(struct client *);

/* service-records-read.c */
int service_list(struct request *);
int service_history(struct request *);
int service_query(struct request *);
int service_duplicates(struct request *);
int service_report(struct request *);
int service_detentions(struct request *);
int service_site_counts(struct request *);
int service_person_case(struct request *);
int service_query_persons(struct request *);

/* records-view.c: records as a client may see them (protected fields per custody.conf) */
int records_view(const struct client *, struct feed_reader *, const char *office_hex,
    const char *tok, json_t **out);
int records_view_at(const struct client *, git_commit *, const char *tok, json_t **out,
    git_oid *object);

/* service-ingest.c */
void service_ingest_begin(struct client *, Envelope *);
void service_ingest_file(struct client *, Envelope *);
void service_ingest_commit(struct client *, Envelope *);
void service_ingest_abort(struct client *);
int service_ingest_holds(const struct client *);

/* service-recipients.c */
int service_recipient_add(struct request *);
int service_recipient_list(struct request *);

/* service-extract.c */
int service_extract(struct request *);

/* listen.c: the TCP listener for peers, on the server's loop. */
struct listen;
int listen_start(struct listen **out, struct server *, const char *address, char **cause);
void listen_stop(struct listen *);

/* service-peer.c: admin requests (peer add/remove, peers, sync). */
int service_peer_add(struct request *);
int service_peer_remove(struct request *);
int service_peers(struct request *);
int service_sync(struct request *);

/* service-bundle.c: bundles written for an office, bundles taken in. */
int service_bundle_create(struct request *);
int service_bundle_apply(struct request *);

#endif
