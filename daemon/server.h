/* The service: the event loop, local clients, and requests run on the worker pool. */
#ifndef CUSTODY_SERVER_H
#define CUSTODY_SERVER_H

#include <sys/queue.h>
#include <sys/types.h>

#include "archive.h"
#include "custody/conn.h"
#include "pool.h"

struct ingest;
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
	void		*arg;		/* the handler's own state */
	/* progress a worker reports (atomics); sent as Progress every tick when wanted */
	uint64_t	 progress_done, progress_total;
	struct event	*progress_ev;
	uint64_t	 progress_sent;
	int		 (*work)(struct request *);
	void		 (*done)(struct request *);	/* on the loop, before the reply; may be NULL */
};

int server_run(struct archive *, char **cause);
/* Run req->work on the pool; the reply (or error) is sent when it finishes. */
void server_submit(struct request *);
/* Send Progress messages while r runs (call before server_submit). */
void server_want_progress(struct request *);
/* Encode a reply envelope into req->out. */
int server_reply(struct request *, const Envelope *);
struct request *request_new(struct client *, Envelope *, int (*)(struct request *));

/* service.c: the request handlers */
int service_status(struct request *);
int service_show(struct request *);
int service_log(struct request *);
int service_verify(struct request *);
int service_keys(struct request *);
int service_get(struct request *);
int service_access_event(struct archive *, const char *action, const char *sha,
    const char *actor);
int service_audit(struct request *);
int service_file_key(struct archive *, json_t *doc, uint8_t key[static 32]);

/* service-keys.c */
int service_keys_split(struct request *);
int service_keys_rotate(struct request *);
int service_keys_rotate_data(struct request *);

/* service-invite.c */
int service_invite(struct request *);
/* service-revoke.c */
int service_revoke(struct request *);
int service_revocations(struct request *);

/* records-write.c */
void records_begin(struct client *, Envelope *);
int records_batch(struct request *);
int records_commit(struct request *);
void records_done(struct request *);
int records_edit(struct request *);
int records_link(struct request *);
void records_abort(struct client *);
void records_hold(struct client *);

/* records-read.c */
int records_list(struct request *);
int records_history(struct request *);
int records_query(struct request *);
struct query_filter;
void records_query_filter(struct query_filter *, uint8_t itok[static TOKEN_LEN],
    const struct archive *, const Custody__QueryRequest *);
int records_duplicates(struct request *);
int records_report(struct request *);

/* records-view.c: records as a client may see them (protected fields per custody.conf) */
int records_view(const struct client *, const char *office_hex, const char *tok,
    json_t **out);
int records_view_at(const struct client *, git_commit *, const char *tok, json_t **out,
    git_oid *object);

/* ingest.c */
void ingest_begin(struct client *, Envelope *);
void ingest_file(struct client *, Envelope *);
void ingest_commit(struct client *, Envelope *);
void ingest_abort(struct client *);
int ingest_holds(const struct client *);

#endif
