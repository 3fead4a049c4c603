/* The event loop: the local socket, clients, dispatch by role, requests on the worker pool. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/thread.h>

#include "log.h"
#include "peers.h"
#include "server.h"
#include "sync.h"

#define SERVER_THREADS 3

static void client_dispatch(struct conn *, Envelope *, void *);

/* What each request needs, and who may make it. */
static const struct {
	int		 body;
	enum role	 role;
	int		(*work)(struct request *);
	void		(*done)(struct request *);
	int		 takes_fd;
	int		 batch;		/* part of a record batch: errors end the connection */
	/* handled on the loop (a batch's opening, or an ingest's steps), not as one request */
	void		(*loop)(struct client *, Envelope *);
	const char	*what;		/* names the request when the role is refused, or NULL */
} server_handlers[] = {
	{ CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, ROLE_VIEWER, service_status, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_SHOW_REQUEST, ROLE_VIEWER, service_show, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_LOG_REQUEST, ROLE_VIEWER, service_log, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_VERIFY_REQUEST, ROLE_VIEWER, service_verify, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_KEYS_REQUEST, ROLE_VIEWER, service_keys, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_KEYS_SPLIT_REQUEST, ROLE_ADMIN, service_keys_split, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_REQUEST, ROLE_ADMIN, service_keys_rotate, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_INVITE_REQUEST, ROLE_ADMIN, service_invite, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_GET_REQUEST, ROLE_DOCUMENTER, service_get, NULL, 1, 0 },
	{ CUSTODY__ENVELOPE__BODY_LIST_REQUEST, ROLE_VIEWER, service_list, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_HISTORY_REQUEST, ROLE_VIEWER, service_history, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_QUERY_REQUEST, ROLE_ANALYST, service_query, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_DUPLICATES_REQUEST, ROLE_ANALYST, service_duplicates, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_REPORT_REQUEST, ROLE_ANALYST, service_report, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_DETENTIONS_REQUEST, ROLE_ANALYST, service_detentions, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_SITE_COUNTS_REQUEST, ROLE_VIEWER, service_site_counts, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_PERSON_CASE_REQUEST, ROLE_VIEWER, service_person_case, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_PERSON_QUERY_REQUEST, ROLE_ANALYST, service_query_persons, NULL,
	    0, 0 },
	{ CUSTODY__ENVELOPE__BODY_RECORD_EDIT, ROLE_DOCUMENTER, service_record_edit, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_LINK_REQUEST, ROLE_DOCUMENTER, service_link, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_RECORD_BEGIN, ROLE_DOCUMENTER, NULL, NULL, 0, 0,
	    service_record_begin, "adding records" },
	{ CUSTODY__ENVELOPE__BODY_RECORD_BATCH, ROLE_DOCUMENTER, service_record_batch,
	    service_record_done, 0, 1, NULL, "adding records" },
	{ CUSTODY__ENVELOPE__BODY_RECORD_COMMIT, ROLE_DOCUMENTER, service_record_commit,
	    service_record_done, 0, 1, NULL, "adding records" },
	{ CUSTODY__ENVELOPE__BODY_INGEST_BEGIN, ROLE_DOCUMENTER, NULL, NULL, 0, 0,
	    service_ingest_begin, "ingest" },
	{ CUSTODY__ENVELOPE__BODY_INGEST_FILE, ROLE_DOCUMENTER, NULL, NULL, 0, 0,
	    service_ingest_file, "ingest" },
	{ CUSTODY__ENVELOPE__BODY_INGEST_COMMIT, ROLE_DOCUMENTER, NULL, NULL, 0, 0,
	    service_ingest_commit, "ingest" },
	{ CUSTODY__ENVELOPE__BODY_PEER_ADD_REQUEST, ROLE_ADMIN, service_peer_add, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_PEER_REMOVE_REQUEST, ROLE_ADMIN, service_peer_remove, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_PEERS_REQUEST, ROLE_ADMIN, service_peers, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_SYNC_REQUEST, ROLE_ADMIN, service_sync, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_RECIPIENT_ADD_REQUEST, ROLE_ADMIN, service_recipient_add, NULL,
	    0, 0 },
	{ CUSTODY__ENVELOPE__BODY_RECIPIENT_LIST_REQUEST, ROLE_ADMIN, service_recipient_list,
	    NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_EXTRACT_REQUEST, ROLE_ADMIN, service_extract, NULL, 1, 0 },
	{ CUSTODY__ENVELOPE__BODY_AUDIT_REQUEST, ROLE_ADMIN, service_audit, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_REVOKE_REQUEST, ROLE_ADMIN, service_revoke, NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_REVOCATIONS_REQUEST, ROLE_VIEWER, service_revocations, NULL, 0,
	    0 },
	{ CUSTODY__ENVELOPE__BODY_KEYS_ROTATE_DATA_REQUEST, ROLE_ADMIN, service_keys_rotate_data,
	    NULL, 0, 0 },
	{ CUSTODY__ENVELOPE__BODY_BUNDLE_CREATE_REQUEST, ROLE_ADMIN, service_bundle_create, NULL,
	    1, 0, NULL, "bundle create" },
	{ CUSTODY__ENVELOPE__BODY_BUNDLE_APPLY_REQUEST, ROLE_ADMIN, service_bundle_apply, NULL,
	    1, 0, NULL, "bundle apply" },
};

static void
client_ref(struct client *c)
{
	c->refs++;
}

/* Drop a reference; the last one frees the client (never from inside its peer's callback). */
static void
client_unref(struct client *c)
{
	if (--c->refs > 0)
		return;
	service_ingest_abort(c);
	service_records_abort(c);
	wire_free(c->ahead);
	conn_free(c->conn);
	free(c);
}

static void
client_free_cb(evutil_socket_t fd, short what, void *arg)
{
	client_unref(arg);
}

/*
 * Stop the loop once stopping and no work is left: the pool calls this when its last job is
 * done, whoever submitted it (a client's request, a peer's, the sync timer).
 */
static void
server_maybe_exit(void *arg)
{
	struct server *s = arg;

	if (s->stopping && pool_busy(s->pool) == 0)
		event_base_loopbreak(s->base);
}

/* A new request for the pool. */
struct request *
request_new(struct client *c, Envelope *msg, int (*work)(struct request *))
{
	struct request *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		fatal("out of memory");
	r->c = c;
	r->msg = msg;
	r->fd = -1;
	r->work = work;
	return r;
}

int
server_reply(struct request *r, const Envelope *env)
{
	return wire_encode(&r->out, env);
}

static void
request_work(void *arg)
{
	struct request *r = arg;

	custody_error_clear();
	if ((r->error = r->work(r)) < 0)
		snprintf(r->errmsg, sizeof r->errmsg, "%s", custody_error()[0] ? custody_error() :
		    custody_strerror(r->error));
}

static void
request_done(void *arg)
{
	struct request *r = arg;
	struct client *c = r->c;
	Custody__Error err;
	Envelope env, *msg;
	int refs;

	if (r->progress_ev != NULL)
		event_free(r->progress_ev);
	if (r->ahead)
		c->checking = 0;
	if (r->done != NULL)
		r->done(r);
	server_stream_done(r);
	if (!c->gone) {
		if (r->error < 0) {
			wire_error(&env, &err, r->error, r->errmsg);
			conn_send(c->conn, &env);
			if (r->fatal)
				conn_close_after_flush(c->conn);
		} else
			conn_send_frames(c->conn, &r->out);
		if (c->ahead != NULL && r->error >= 0) {
			msg = c->ahead;		/* read while this one ran: its turn now */
			c->ahead = NULL;
			refs = c->refs;
			client_dispatch(c->conn, msg, c);
			/* answered on the loop (no request took a reference): read on */
			if (!c->gone && c->refs == refs && !c->checking &&
			    !service_ingest_holds(c))
				conn_resume(c->conn);
		} else if (!service_ingest_holds(c))
			conn_resume(c->conn);
	}
	if (r->fd >= 0)
		close(r->fd);
	wire_free(r->msg);
	cbuf_free(&r->out);
	free(r);
	client_unref(c);
}

/* Every tick while a request runs: tell the client how far it got, if that changed. */
static void
request_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct request *r = arg;
	Custody__Progress pg = CUSTODY__PROGRESS__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint64_t done = __atomic_load_n(&r->progress_done, __ATOMIC_RELAXED);

	if (r->c->gone || done == r->progress_sent)
		return;
	r->progress_sent = done;
	pg.what = (char *)"bytes";
	pg.done = done;
	pg.total = __atomic_load_n(&r->progress_total, __ATOMIC_RELAXED);
	env.body_case = CUSTODY__ENVELOPE__BODY_PROGRESS;
	env.progress = &pg;
	conn_send(r->c->conn, &env);
}

void
server_want_progress(struct request *r)
{
	struct timeval tv = { 0, 200000 };

	r->progress_ev = event_new(r->c->s->base, -1, EV_PERSIST, request_progress_cb, r);
	if (r->progress_ev != NULL)
		event_add(r->progress_ev, &tv);
}

/*
 * Run the request on the pool, the client paused meanwhile; but while a RecordBatch is checked,
 * its next message is read (and held: client_dispatch) so that it is ready when the worker is.
 */
void
server_submit(struct request *r)
{
	client_ref(r->c);
	if (r->ahead) {
		r->c->checking = 1;
		conn_resume(r->c->conn);
	} else
		conn_pause(r->c->conn);
	/* a status answers from cached figures: it goes ahead of reports and queries */
	if (r->msg->body_case == CUSTODY__ENVELOPE__BODY_STATUS_REQUEST)
		pool_submit_first(r->c->s->pool, request_work, request_done, r);
	else
		pool_submit(r->c->s->pool, request_work, request_done, r);
}

/* A message from a client (NULL: gone). */
static void
client_dispatch(struct conn *p, Envelope *msg, void *arg)
{
	struct client *c = arg;
	struct server *s = c->s;
	struct request *r;
	Custody__Welcome w = CUSTODY__WELCOME__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	size_t i;

	c->last = time(NULL);
	if (msg == NULL) {
		if (!c->gone) {
			c->gone = 1;
			server_stream_gone(c);
			TAILQ_REMOVE(&s->clients, c, entry);
			event_base_once(s->base, -1, EV_TIMEOUT, client_free_cb, c, NULL);
		}
		return;
	}
	if (c->checking) {
		c->ahead = msg;		/* one message ahead of the worker, no more */
		conn_pause(p);
		return;
	}
	if (msg->body_case == CUSTODY__ENVELOPE__BODY_HELLO) {
		wire_free(msg);
		if (c->welcomed) {
			conn_send_error(p, CUSTODY_EPROTO, "hello was already accepted");
			return;
		}
		c->welcomed = 1;
		if (c->role == ROLE_NONE) {
			log_warn("refused uid %u: no role in custody.conf", (unsigned)c->uid);
			conn_send_error(p, CUSTODY_EPERM, "uid %u has no role in this archive's "
			    "custody.conf", (unsigned)c->uid);
			return;
		}
		w.version = CUSTODY_PROTOCOL_VERSION;
		w.office = s->a->conf.office;
		w.party = s->a->vocab.party;
		w.n_party = s->a->vocab.nparty;
		w.governorate = s->a->vocab.governorate;
		w.n_governorate = s->a->vocab.ngovernorate;
		w.cause = s->a->vocab.cause;
		w.n_cause = s->a->vocab.ncause;
		w.role = (char *)role_name(c->role);
		env.body_case = CUSTODY__ENVELOPE__BODY_WELCOME;
		env.welcome = &w;
		conn_send(p, &env);
		return;
	}
	if (s->stopping) {
		wire_free(msg);
		conn_send_error(p, CUSTODY_EIO, "custodyd is shutting down");
		return;
	}
	for (i = 0; i < sizeof server_handlers / sizeof server_handlers[0]; i++) {
		if ((int)msg->body_case != server_handlers[i].body)
			continue;
		if (c->role < server_handlers[i].role) {
			conn_send_error(p, CUSTODY_EPERM, "%s needs the %s role; you are %s",
			    server_handlers[i].what != NULL ? server_handlers[i].what :
			    wire_name(msg), role_name(server_handlers[i].role),
			    role_name(c->role));
			wire_free(msg);
			return;
		}
		if (server_handlers[i].loop != NULL) {
			server_handlers[i].loop(c, msg);
			return;
		}
		r = request_new(c, msg, server_handlers[i].work);
		r->done = server_handlers[i].done;
		if ((msg->body_case == CUSTODY__ENVELOPE__BODY_SYNC_REQUEST &&
		    msg->sync_request->progress) ||
		    (msg->body_case == CUSTODY__ENVELOPE__BODY_EXTRACT_REQUEST &&
		    msg->extract_request->progress) ||
		    (msg->body_case == CUSTODY__ENVELOPE__BODY_BUNDLE_CREATE_REQUEST &&
		    msg->bundle_create_request->progress))
			server_want_progress(r);
		if (server_handlers[i].batch) {
			r->fatal = 1;
			r->ahead = msg->body_case == CUSTODY__ENVELOPE__BODY_RECORD_BATCH;
			service_records_hold(c);
		}
		if (server_handlers[i].takes_fd && (r->fd = conn_take_fd(p)) < 0) {
			conn_send_error(p, CUSTODY_EPROTO, "%s needs a descriptor",
			    wire_name(msg));
			wire_free(msg);
			free(r);
			return;
		}
		server_submit(r);
		return;
	}
	log_debug("uid %u sent an unexpected %s", (unsigned)c->uid, wire_name(msg));
	conn_send_error(p, CUSTODY_EPROTO, "unexpected message %s", wire_name(msg));
	wire_free(msg);
}

static void
server_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (!s->stopping)
		event_add(s->accept_ev, NULL);
}

/*
 * Out of descriptors: drop the connections idle the longest (no request running, no batch
 * open), an eighth of them and at least 16, so that a crowd of idle connections cannot lock
 * everyone else out. Returns how many went.
 */
static int
server_shed(struct server *s)
{
	struct client *c, *idlest;
	int n = 0, want = 16, count = 0;
	time_t now = time(NULL);

	TAILQ_FOREACH(c, &s->clients, entry)
		count++;
	if (count / 8 > want)
		want = count / 8;
	while (n < want) {
		idlest = NULL;
		TAILQ_FOREACH(c, &s->clients, entry) {
			if (c->gone || c->refs > 1 || c->ingest != NULL || c->records != NULL)
				continue;
			if (idlest == NULL || c->last < idlest->last)
				idlest = c;
		}
		if (idlest == NULL)
			break;
		conn_abort(idlest->conn);	/* takes it off the list */
		n++;
	}
	if (n > 0)
		log_warn("out of descriptors: dropped the %d connections idle the longest "
		    "(up to %lld s)", n, (long long)(now - (idlest != NULL ? idlest->last : now)));
	return n;
}

/* Accept local clients and learn who they are. */
static void
server_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct passwd *pw;
	struct client *c;
	struct timeval tv = { 1, 0 };
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* shed idle connections and come back soon, or wait a second */
			if (server_shed(s) > 0)
				tv.tv_sec = 0, tv.tv_usec = 50000;
			else
				log_warn("accept: %s; pausing for a second", strerror(errno));
			event_del(s->accept_ev);
			evtimer_add(s->backoff_ev, &tv);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return;
	}
	c->s = s;
	c->uid = cred.uid;
	c->refs = 1;
	c->role = conf_role(&s->a->conf, cred.uid, geteuid());
	pw = getpwuid(cred.uid);
	if (pw != NULL)
		snprintf(c->actor, sizeof c->actor, "%s@%s", pw->pw_name, s->a->conf.office);
	else
		snprintf(c->actor, sizeof c->actor, "uid%u@%s", (unsigned)cred.uid,
		    s->a->conf.office);
	if ((c->conn = conn_new(s->base, fd, client_dispatch, c)) == NULL) {
		free(c);
		return;
	}
	c->last = time(NULL);
	conn_set_timeout(c->conn, s->a->conf.idle_timeout);
	TAILQ_INSERT_TAIL(&s->clients, c, entry);
}

/*
 * Work still running SERVER_STOP_GRACE seconds after a stop signal (a sync waiting on a peer
 * that will not answer) does not hold the daemon: every write is crash-consistent (the ref
 * moves last), so leaving now is as safe as a power cut, and far safer than never stopping.
 */
#define SERVER_STOP_GRACE 30

static void
server_stop_grace(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	log_warn("work still running %d s after the stop signal (%d jobs): stopping anyway; "
	    "the archive is consistent as after a crash", SERVER_STOP_GRACE, pool_busy(s->pool));
	_exit(0);
}

static void
server_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct timeval tv = { SERVER_STOP_GRACE, 0 };

	if (s->stopping)
		return;
	log_info("signal %d: stopping (finishing work in progress)", (int)sig);
	s->stopping = 1;
	sync_stop();
	event_del(s->accept_ev);
	event_base_once(s->base, -1, EV_TIMEOUT, server_stop_grace, s, &tv);
	server_maybe_exit(s);
}

/*
 * Create and listen on the local socket, mode 0660. The socket is born with that mode (Linux
 * applies the umask to a socket's mode at bind, default ACL or not), so it is never there with
 * a wider one waiting for a chmod; the chmod then only restores group bits an ACL took away.
 * No other thread runs yet to see the umask change.
 */
static int
server_listen(struct server *s, char **cause)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *sock = s->a->conf.socket;
	mode_t mask;
	int bound;

	if (sock[0] == '/')
		s->socket_path = strdup(sock);
	else
		s->socket_path = archive_file(s->a, sock);
	if (strlen(s->socket_path) >= sizeof sun.sun_path) {
		custody_cause(cause, "socket path %s is too long", s->socket_path);
		return CUSTODY_EINVAL;
	}
	strcpy(sun.sun_path, s->socket_path);
	unlink(s->socket_path);	/* stale: we hold the archive lock */
	if ((s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		custody_cause(cause, "cannot listen on %s: %s", s->socket_path, strerror(errno));
		return CUSTODY_EIO;
	}
	mask = umask(0117);
	bound = bind(s->listen_fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (bound != 0 || chmod(s->socket_path, 0660) != 0 || listen(s->listen_fd, 128) != 0) {
		custody_cause(cause, "cannot listen on %s: %s", s->socket_path, strerror(errno));
		return CUSTODY_EIO;
	}
	return 0;
}

/* Serve until SIGTERM or SIGINT. */
int
server_run(struct archive *a, char **cause)
{
	struct server s = { .a = a, .listen_fd = -1 };
	struct listen *peers_listen = NULL;
	struct sync_timer *timer = NULL;
	struct client *c;
	int error;

	TAILQ_INIT(&s.clients);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	if ((s.base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	/*
	 * Catch SIGTERM and SIGINT before the socket appears: whoever starts custodyd takes the
	 * socket as the sign that it runs, and may stop it at once. Caught only after the
	 * socket, a signal sent in between was lost: SIGTERM killed the daemon without its
	 * cleanup, and SIGINT, which a shell starts its background jobs with ignored, vanished,
	 * leaving the daemon serving and whoever sent it waiting forever. Caught now, it waits
	 * for the loop.
	 */
	s.sigterm_ev = evsignal_new(s.base, SIGTERM, server_signal, &s);
	s.sigint_ev = evsignal_new(s.base, SIGINT, server_signal, &s);
	if (s.sigterm_ev == NULL || s.sigint_ev == NULL || event_add(s.sigterm_ev, NULL) != 0 ||
	    event_add(s.sigint_ev, NULL) != 0)
		fatal("cannot catch SIGTERM and SIGINT");
	/*
	 * The peers' port before the local socket, which says that the daemon serves: a port
	 * another process holds stops the start with no socket left behind.
	 */
	if ((error = peers_init(a)) < 0 || (a->conf.listen != NULL &&
	    (error = listen_start(&peers_listen, &s, a->conf.listen, cause)) < 0))
		goto done;
	if ((error = server_listen(&s, cause)) < 0)
		goto done;
	s.pool = pool_new(s.base, SERVER_THREADS, server_maybe_exit, &s);
	s.accept_ev = event_new(s.base, s.listen_fd, EV_READ | EV_PERSIST, server_accept, &s);
	s.backoff_ev = evtimer_new(s.base, server_resume_accept, &s);
	event_add(s.accept_ev, NULL);
	log_info("office %s serving %s", a->fingerprint, s.socket_path);
	timer = sync_timer_start(&s);
	event_base_dispatch(s.base);

	sync_timer_stop(timer);
	pool_free(s.pool);
	s.pool = NULL;		/* what clients still hold is freed here, not on a worker */
	while ((c = TAILQ_FIRST(&s.clients)) != NULL) {
		TAILQ_REMOVE(&s.clients, c, entry);
		c->gone = 1;
		client_unref(c);
	}
	listen_stop(peers_listen);
	peers_listen = NULL;
	event_base_loop(s.base, EVLOOP_NONBLOCK);	/* free clients that left just before */
	event_free(s.accept_ev);
	event_free(s.backoff_ev);
	unlink(s.socket_path);
	log_info("stopped");
done:
	listen_stop(peers_listen);
	if (s.sigterm_ev != NULL)
		event_free(s.sigterm_ev);
	if (s.sigint_ev != NULL)
		event_free(s.sigint_ev);
	peers_shutdown();
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	free(s.socket_path);
	event_base_free(s.base);
	return error;
}
