/*
 * libFuzzer harness: the daemon's message dispatch, with the handlers behind it. A real server
 * (server_run) runs on a thread over a real archive made once in a temporary directory. Each
 * input is one local client session on its Unix socket, as uid 0 (admin: no request is refused
 * for its role), and the requests of a peer as the Noise channel hands them over after the
 * handshake (sync_serve).
 *
 * Input: chunks of [flags u8][length u16 big-endian][that many bytes of Envelope]. Each chunk
 * is one message frame. Flags: bit 0, a descriptor goes with it (a memfd holding a few bytes:
 * ingest reads one, get and extract write one); bit 1, it is a peer's request for sync_serve
 * instead; bit 7 of the first chunk, no hello first. A status request ends the session: the
 * daemon must answer it (or close) within FUZZ_DEADLINE seconds, and stay up.
 *
 * The archive keeps what earlier inputs stored (records, evidence, recipients), as a daemon
 * does, so a crash may need the inputs that ran before it. A SyncRequest is left out: it dials
 * the network.
 *
 * CUSTODY_FUZZ_SEEDS=DIR writes the seed corpus, one session per kind of request, and exits.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fuzz-archive.h"
#include "log.h"
#include "server.h"
#include "sync.h"
#include "fuzz.h"

#define FUZZ_DEADLINE 60	/* seconds for the daemon to finish a session */

static struct archive *fuzz_archive;
static char fuzz_socket[128];

static void *
fuzz_server(void *arg)
{
	char *cause = NULL;

	if (server_run(fuzz_archive, &cause) < 0)
		fprintf(stderr, "fuzz_dispatch: server: %s\n", cause ? cause : "failed");
	abort();	/* it never stops on its own */
}

static void
fuzz_setup(void)
{
	struct stat st;
	pthread_t t;
	int i;

	fuzz_archive = fuzz_archive_make("dispatch");
	fuzz_archive->conf.sync_interval = 0;	/* peers added by inputs are never dialled */
	snprintf(fuzz_socket, sizeof fuzz_socket, "%s/custodyd.sock",
	    fuzz_archive->path);
	log_set_quiet(1);
	if (pthread_create(&t, NULL, fuzz_server, NULL) != 0)
		abort();
	for (i = 0; i < 1000 && stat(fuzz_socket, &st) != 0; i++)
		usleep(10000);
	if (i == 1000) {
		fprintf(stderr, "fuzz_dispatch: the server did not start\n");
		abort();
	}
}

/* A descriptor for a request that takes one: a few bytes to ingest, or room for an extract. */
static int
fuzz_memfd(size_t n)
{
	char text[64];
	int fd, len;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		abort();
	len = snprintf(text, sizeof text, "evidence %zu\n", n);
	if (write(fd, text, (size_t)len) != len || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* Wait for the socket to be ready for what, or abort once the session's deadline has passed. */
static short
fuzz_poll(int fd, short what, time_t deadline)
{
	struct pollfd p = { .fd = fd, .events = what };

	while (poll(&p, 1, 1000) == 0 || (p.revents == 0)) {
		if (time(NULL) > deadline) {
			fprintf(stderr, "fuzz_dispatch: the daemon held a session for %d s\n",
			    FUZZ_DEADLINE);
			abort();
		}
	}
	return p.revents;
}

/* Read what the daemon sent; count its status replies. -1 once it closed. */
static int
fuzz_drain(int fd, struct cbuf *in, int *pongs)
{
	struct frame f;
	Envelope *env;
	size_t used;
	ssize_t r;

	if (cbuf_reserve(in, 65536) < 0)
		abort();
	if ((r = recv(fd, in->data + in->len, 65536, MSG_DONTWAIT)) == 0 ||
	    (r < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r > 0)
		in->len += (size_t)r;
	while (frame_parse(&f, &used, in->data, in->len, SIZE_MAX) == 0 && used > 0) {
		if (f.type == FRAME_MSG && wire_decode(&env, f.body, f.len) == 0) {
			if (env->body_case == CUSTODY__ENVELOPE__BODY_STATUS_REPLY)
				(*pongs)++;
			wire_free(env);
		}
		memmove(in->data, in->data + used, in->len - used);
		in->len -= used;
	}
	return 0;
}

/* Send one frame (with a descriptor on its first byte when fdpass >= 0), reading meanwhile. */
static int
fuzz_send(int fd, const uint8_t *p, size_t len, int fdpass, time_t deadline, struct cbuf *in,
    int *pongs)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov;
	struct msghdr mh;
	ssize_t w;
	short ev;

	while (len > 0) {
		ev = fuzz_poll(fd, POLLOUT | POLLIN, deadline);
		if ((ev & POLLIN) && fuzz_drain(fd, in, pongs) < 0)
			return -1;
		if (ev & (POLLERR | POLLHUP))
			return -1;
		if (!(ev & POLLOUT))
			continue;
		memset(&mh, 0, sizeof mh);
		iov.iov_base = (void *)p;
		iov.iov_len = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (fdpass >= 0) {
			memset(&cm, 0, sizeof cm);
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof cm.buf;
			cm.hdr.cmsg_level = SOL_SOCKET;
			cm.hdr.cmsg_type = SCM_RIGHTS;
			cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&cm.hdr), &fdpass, sizeof fdpass);
		}
		if ((w = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
		fdpass = -1;
	}
	return 0;
}

static int
fuzz_send_frame(int fd, const uint8_t *body, size_t len, int fdpass, time_t deadline,
    struct cbuf *in, int *pongs)
{
	struct cbuf b = { 0 };
	int error;

	if (frame_put_header(&b, FRAME_MSG, len) < 0 || cbuf_put(&b, body, len) < 0)
		abort();
	error = fuzz_send(fd, b.data, b.len, fdpass, deadline, in, pongs);
	cbuf_free(&b);
	return error;
}

/* A peer's request, answered as the channel would have it answered. */
static void
fuzz_peer(const uint8_t *body, size_t len)
{
	struct cbuf out = { 0 };
	Envelope *env;

	if (wire_decode(&env, body, len) < 0)
		return;
	/* no office named: ours (the seeds cannot know the key of an archive made later) */
	if (env->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST &&
	    env->pack_request->office.len == 0) {
		env->pack_request->office.data = fuzz_archive->office_pk;
		env->pack_request->office.len = ED25519_PK_LEN;
	}
	if (env->body_case == CUSTODY__ENVELOPE__BODY_COMMIT_REQUEST &&
	    env->commit_request->office.len == 0) {
		env->commit_request->office.data = fuzz_archive->office_pk;
		env->commit_request->office.len = ED25519_PK_LEN;
	}
	if (sync_is_request(env))
		(void)sync_serve(fuzz_archive, env, &out);
	cbuf_free(&out);
	/* the key is not the message's to free */
	if (env->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST &&
	    env->pack_request->office.data == fuzz_archive->office_pk)
		env->pack_request->office = (ProtobufCBinaryData){ 0, NULL };
	if (env->body_case == CUSTODY__ENVELOPE__BODY_COMMIT_REQUEST &&
	    env->commit_request->office.data == fuzz_archive->office_pk)
		env->commit_request->office = (ProtobufCBinaryData){ 0, NULL };
	wire_free(env);
}

/* Should this chunk go to the daemon? Not a SyncRequest: that would dial out. */
static int
fuzz_allowed(const uint8_t *body, size_t len)
{
	Envelope *env;
	int ok;

	if (wire_decode(&env, body, len) < 0)
		return 1;	/* undecodable bytes are for the daemon to refuse */
	ok = env->body_case != CUSTODY__ENVELOPE__BODY_SYNC_REQUEST;
	wire_free(env);
	return ok;
}

static void fuzz_write_seeds(const char *);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("CUSTODY_FUZZ_SEEDS");

	if (seeds != NULL) {
		fuzz_write_seeds(seeds);
		exit(0);
	}
	return 0;
}

/* env as a message frame. */
static void
fuzz_encode(struct cbuf *out, Envelope *env)
{
	if (wire_encode(out, env) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	Custody__Hello h = CUSTODY__HELLO__INIT;
	Custody__StatusRequest sr = CUSTODY__STATUS_REQUEST__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct cbuf in = { 0 }, msg = { 0 };
	time_t deadline;
	size_t len;
	uint8_t flags;
	int fd, fdpass, open = 1, pongs = 0;

	if (fuzz_archive == NULL)
		fuzz_setup();
	deadline = time(NULL) + FUZZ_DEADLINE;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		abort();
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", fuzz_socket);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		fprintf(stderr, "fuzz_dispatch: connect: %s\n", strerror(errno));
		abort();
	}
	if (size == 0 || !(data[0] & 0x80)) {
		h.version = CUSTODY_PROTOCOL_VERSION;
		h.client = (char *)"fuzz";
		env.body_case = CUSTODY__ENVELOPE__BODY_HELLO;
		env.hello = &h;
		fuzz_encode(&msg, &env);
		open = fuzz_send(fd, msg.data, msg.len, -1, deadline, &in, &pongs) == 0;
		cbuf_free(&msg);
	}
	while (size >= 3) {
		flags = data[0];
		len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (flags & 2)
			fuzz_peer(data, len);
		else if (open && fuzz_allowed(data, len)) {
			fdpass = flags & 1 ? fuzz_memfd(len) : -1;
			open = fuzz_send_frame(fd, data, len, fdpass, deadline, &in, &pongs) == 0;
			if (fdpass >= 0)
				close(fdpass);
		}
		data += len;
		size -= len;
	}
	/*
	 * A status request last: a client's requests run one after another, so its answer means
	 * every request before it was dispatched and answered. The daemon may close instead.
	 */
	env.body_case = CUSTODY__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &sr;
	fuzz_encode(&msg, &env);
	if (open && fuzz_send(fd, msg.data, msg.len, -1, deadline, &in, &pongs) == 0) {
		pongs = 0;
		while (pongs == 0 && (!(fuzz_poll(fd, POLLIN, deadline) & POLLIN) ||
		    fuzz_drain(fd, &in, &pongs) == 0))
			;
	}
	cbuf_free(&msg);
	cbuf_free(&in);
	close(fd);
	return 0;
}

/* --- the seed corpus ------------------------------------------------------------------------ */

struct seed {
	struct cbuf	b;
};

static void
seed_add(struct seed *s, uint8_t flags, Envelope *env)
{
	size_t n = custody__envelope__get_packed_size(env);
	uint8_t *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	custody__envelope__pack(env, p);
	if (cbuf_put_u8(&s->b, flags) < 0 || cbuf_put_u8(&s->b, (uint8_t)(n >> 8)) < 0 ||
	    cbuf_put_u8(&s->b, (uint8_t)n) < 0 || cbuf_put(&s->b, p, n) < 0)
		abort();
	free(p);
}

static void
seed_write(struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fwrite(s->b.data, 1, s->b.len, f) != s->b.len ||
	    fclose(f) != 0) {
		fprintf(stderr, "fuzz_dispatch: cannot write %s\n", path);
		exit(1);
	}
	cbuf_free(&s->b);
}

/* One Envelope with body case c and body m; a session of just it. */
#define SEED1(dir, name, flags, c, field, m) do {				\
	Envelope e_ = CUSTODY__ENVELOPE__INIT;					\
	struct seed s_ = { { 0 } };						\
	e_.body_case = (c);							\
	e_.field = (m);								\
	seed_add(&s_, (flags), &e_);						\
	seed_write(&s_, (dir), (name));						\
} while (0)

/* A record batch of one kind: begin, one batch of the JSON given, commit. */
static void
seed_records(struct seed *s, const char *kind, char **json, size_t n)
{
	Custody__RecordBegin rb = CUSTODY__RECORD_BEGIN__INIT;
	Custody__RecordBatch bt = CUSTODY__RECORD_BATCH__INIT;
	Custody__RecordCommit rc = CUSTODY__RECORD_COMMIT__INIT;
	Envelope e = CUSTODY__ENVELOPE__INIT;

	rb.kind = (char *)kind;
	rb.count = (uint32_t)n;
	e.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BEGIN;
	e.record_begin = &rb;
	seed_add(s, 0, &e);
	bt.json = json;
	bt.n_json = n;
	e.body_case = CUSTODY__ENVELOPE__BODY_RECORD_BATCH;
	e.record_batch = &bt;
	seed_add(s, 0, &e);
	e.body_case = CUSTODY__ENVELOPE__BODY_RECORD_COMMIT;
	e.record_commit = &rc;
	seed_add(s, 0, &e);
}

static void
fuzz_write_seeds(const char *dir)
{
	static char *incident[] = { "{\"id\":\"inc-1\",\"date\":\"2024-12-05\",\"governorate\":"
	    "\"aleppo\",\"area\":\"market\",\"type\":\"shelling\"}" };
	static char *victim[] = { "{\"id\":\"v1\",\"name\":\"Omar\",\"date_documented\":"
	    "\"2024-12-06\",\"age\":34,\"sex\":\"male\",\"incident_id\":\"inc-1\","
	    "\"source_id\":\"src-1\",\"notes\":\"n\"}",
	    "{\"id\":\"v2\",\"name\":\"Huda\",\"date_documented\":\"2024-12-07\","
	    "\"date_of_death\":\"2024-12\",\"age\":9,\"sex\":\"female\"}" };
	static char *source[] = { "{\"id\":\"src-1\",\"name\":\"Witness\",\"contact\":\"+1\"}" };
	static char *with[] = { "source.name", "victim.notes" };
	Custody__StatusRequest st = CUSTODY__STATUS_REQUEST__INIT;
	Custody__IngestBegin ib = CUSTODY__INGEST_BEGIN__INIT;
	Custody__IngestFile ifl = CUSTODY__INGEST_FILE__INIT;
	Custody__IngestCommit ic = CUSTODY__INGEST_COMMIT__INIT;
	Custody__GetRequest get = CUSTODY__GET_REQUEST__INIT;
	Custody__ShowRequest show = CUSTODY__SHOW_REQUEST__INIT;
	Custody__LogRequest log = CUSTODY__LOG_REQUEST__INIT;
	Custody__VerifyRequest ver = CUSTODY__VERIFY_REQUEST__INIT;
	Custody__KeysRequest keys = CUSTODY__KEYS_REQUEST__INIT;
	Custody__RecordEdit edit = CUSTODY__RECORD_EDIT__INIT;
	Custody__LinkRequest link = CUSTODY__LINK_REQUEST__INIT;
	Custody__ListRequest list = CUSTODY__LIST_REQUEST__INIT;
	Custody__HistoryRequest hist = CUSTODY__HISTORY_REQUEST__INIT;
	Custody__QueryRequest q = CUSTODY__QUERY_REQUEST__INIT;
	Custody__DuplicatesRequest dup = CUSTODY__DUPLICATES_REQUEST__INIT;
	Custody__ReportRequest rep = CUSTODY__REPORT_REQUEST__INIT;
	Custody__DetentionsRequest det = CUSTODY__DETENTIONS_REQUEST__INIT;
	Custody__PersonQueryRequest pq = CUSTODY__PERSON_QUERY_REQUEST__INIT;
	Custody__PersonCaseRequest pc = CUSTODY__PERSON_CASE_REQUEST__INIT;
	Custody__SiteCountsRequest sc = CUSTODY__SITE_COUNTS_REQUEST__INIT;
	char *sc_ids[] = { (char *)"S-1", (char *)"S-404", (char *)"S-1" };
	Custody__InviteRequest inv = CUSTODY__INVITE_REQUEST__INIT;
	Custody__PeerAddRequest pa = CUSTODY__PEER_ADD_REQUEST__INIT;
	Custody__PeerRemoveRequest pr = CUSTODY__PEER_REMOVE_REQUEST__INIT;
	Custody__PeersRequest peers = CUSTODY__PEERS_REQUEST__INIT;
	Custody__RecipientAddRequest ra = CUSTODY__RECIPIENT_ADD_REQUEST__INIT;
	Custody__RecipientListRequest rl = CUSTODY__RECIPIENT_LIST_REQUEST__INIT;
	Custody__ExtractRequest ex = CUSTODY__EXTRACT_REQUEST__INIT;
	Custody__AuditRequest au = CUSTODY__AUDIT_REQUEST__INIT;
	Custody__FeedsRequest fr = CUSTODY__FEEDS_REQUEST__INIT;
	Custody__PackRequest pk = CUSTODY__PACK_REQUEST__INIT;
	Custody__BlobRequest br = CUSTODY__BLOB_REQUEST__INIT;
	Envelope e = CUSTODY__ENVELOPE__INIT;
	struct seed s = { { 0 } };
	static char *incidents[] = { "inc-1" };
	uint8_t sum[crypto_hash_sha256_BYTES];
	char text[64], sha[2 * sizeof sum + 1];
	int n;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_dispatch: cannot create %s\n", dir);
		exit(1);
	}
	SEED1(dir, "status", 0, CUSTODY__ENVELOPE__BODY_STATUS_REQUEST, status_request, &st);

	/* an ingest of two files (descriptors attached), then its commit */
	ib.incident = (char *)"inc-1";
	ib.note = (char *)"photos from the market";
	ib.count = 2;
	e.body_case = CUSTODY__ENVELOPE__BODY_INGEST_BEGIN;
	e.ingest_begin = &ib;
	seed_add(&s, 0, &e);
	ifl.name = (char *)"a.jpg";
	e.body_case = CUSTODY__ENVELOPE__BODY_INGEST_FILE;
	e.ingest_file = &ifl;
	seed_add(&s, 1, &e);
	ifl.index = 1;
	ifl.name = (char *)"b.txt";
	seed_add(&s, 1, &e);
	e.body_case = CUSTODY__ENVELOPE__BODY_INGEST_COMMIT;
	e.ingest_commit = &ic;
	seed_add(&s, 0, &e);
	seed_write(&s, dir, "ingest");

	/* records of each kind, in one session (victims name the incident and the source) */
	seed_records(&s, "incident", incident, 1);
	seed_records(&s, "source", source, 1);
	seed_records(&s, "victim", victim, 2);
	seed_write(&s, dir, "records");

	/* the first file of the ingest: the bytes fuzz_memfd gave it */
	ifl.index = 0;
	ifl.name = (char *)"a.jpg";
	e.body_case = CUSTODY__ENVELOPE__BODY_INGEST_FILE;
	e.ingest_file = &ifl;
	n = snprintf(text, sizeof text, "evidence %zu\n", custody__envelope__get_packed_size(&e));
	crypto_hash_sha256(sum, (const uint8_t *)text, (size_t)n);
	hex_encode(sha, sum, sizeof sum);
	get.id = sha;
	SEED1(dir, "get", 1, CUSTODY__ENVELOPE__BODY_GET_REQUEST, get_request, &get);
	show.id = (char *)"v1";
	SEED1(dir, "show", 0, CUSTODY__ENVELOPE__BODY_SHOW_REQUEST, show_request, &show);
	log.limit = 5;
	SEED1(dir, "log", 0, CUSTODY__ENVELOPE__BODY_LOG_REQUEST, log_request, &log);
	SEED1(dir, "verify", 0, CUSTODY__ENVELOPE__BODY_VERIFY_REQUEST, verify_request, &ver);
	SEED1(dir, "keys", 0, CUSTODY__ENVELOPE__BODY_KEYS_REQUEST, keys_request, &keys);
	edit.kind = (char *)"victim";
	edit.id = (char *)"v1";
	edit.json = (char *)"{\"age\":35}";
	SEED1(dir, "edit", 0, CUSTODY__ENVELOPE__BODY_RECORD_EDIT, record_edit, &edit);
	link.victim = (char *)"v2";
	link.incident = (char *)"inc-1";
	SEED1(dir, "link", 0, CUSTODY__ENVELOPE__BODY_LINK_REQUEST, link_request, &link);
	list.kind = (char *)"victim";
	SEED1(dir, "list", 0, CUSTODY__ENVELOPE__BODY_LIST_REQUEST, list_request, &list);
	hist.id = (char *)"v1";
	SEED1(dir, "history", 0, CUSTODY__ENVELOPE__BODY_HISTORY_REQUEST, history_request,
	    &hist);
	q.from = (char *)"2024-12-01";
	q.to = (char *)"2024-12-31";
	q.governorate = (char *)"aleppo";
	q.child = 1;
	SEED1(dir, "query", 0, CUSTODY__ENVELOPE__BODY_QUERY_REQUEST, query_request, &q);
	SEED1(dir, "duplicates", 0, CUSTODY__ENVELOPE__BODY_DUPLICATES_REQUEST,
	    duplicates_request, &dup);
	dup.kind = (char *)"persons";
	SEED1(dir, "duplicates-persons", 0, CUSTODY__ENVELOPE__BODY_DUPLICATES_REQUEST,
	    duplicates_request, &dup);
	rep.from = (char *)"2024-12-01";
	rep.to = (char *)"2024-12-31";
	rep.basis = (char *)"death";
	SEED1(dir, "report", 0, CUSTODY__ENVELOPE__BODY_REPORT_REQUEST, report_request, &rep);
	det.from = (char *)"2024-12-01";
	det.to = (char *)"2024-12-31";
	SEED1(dir, "detentions", 0, CUSTODY__ENVELOPE__BODY_DETENTIONS_REQUEST,
	    detentions_request, &det);
	pq.status = (char *)"disappeared";
	pq.at = (char *)"2024-12-31";
	pq.site = (char *)"S-1";
	SEED1(dir, "query-persons", 0, CUSTODY__ENVELOPE__BODY_PERSON_QUERY_REQUEST,
	    person_query_request, &pq);
	pc.id = (char *)"P-1";
	SEED1(dir, "person-case", 0, CUSTODY__ENVELOPE__BODY_PERSON_CASE_REQUEST,
	    person_case_request, &pc);
	sc.n_site = 3;
	sc.site = sc_ids;
	SEED1(dir, "site-counts", 0, CUSTODY__ENVELOPE__BODY_SITE_COUNTS_REQUEST,
	    site_counts_request, &sc);
	inv.name = (char *)"B";
	inv.key = (char *)"ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIBcz/3GEFs1PpaYiElEznWlKtCuQm+NgYQeMwSGUvX2e";
	inv.address = (char *)"127.0.0.1:7000";
	SEED1(dir, "invite", 0, CUSTODY__ENVELOPE__BODY_INVITE_REQUEST, invite_request, &inv);
	inv.expires_seconds = 3600;
	SEED1(dir, "invite-expires", 0, CUSTODY__ENVELOPE__BODY_INVITE_REQUEST, invite_request,
	    &inv);
	inv.expires_seconds = 0;
	inv.withdraw = 1;
	SEED1(dir, "invite-withdraw", 0, CUSTODY__ENVELOPE__BODY_INVITE_REQUEST, invite_request,
	    &inv);
	inv.withdraw = 0;
	pa.name = (char *)"B";
	pa.address = (char *)"127.0.0.1:7001";
	pa.key = inv.key;
	SEED1(dir, "peer-add", 0, CUSTODY__ENVELOPE__BODY_PEER_ADD_REQUEST, peer_add_request,
	    &pa);
	pr.name = (char *)"B";
	SEED1(dir, "peer-remove", 0, CUSTODY__ENVELOPE__BODY_PEER_REMOVE_REQUEST,
	    peer_remove_request, &pr);
	SEED1(dir, "peers", 0, CUSTODY__ENVELOPE__BODY_PEERS_REQUEST, peers_request, &peers);
	ra.name = (char *)"tribunal";
	ra.key = (char *)"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
	ra.withhold = with;
	ra.n_withhold = 1;
	ra.disclose = with + 1;
	ra.n_disclose = 1;
	SEED1(dir, "recipient-add", 0, CUSTODY__ENVELOPE__BODY_RECIPIENT_ADD_REQUEST,
	    recipient_add_request, &ra);
	SEED1(dir, "recipient-list", 0, CUSTODY__ENVELOPE__BODY_RECIPIENT_LIST_REQUEST,
	    recipient_list_request, &rl);
	ex.recipient = (char *)"tribunal";
	ex.incidents = incidents;
	ex.n_incidents = 1;
	SEED1(dir, "extract", 1, CUSTODY__ENVELOPE__BODY_EXTRACT_REQUEST, extract_request, &ex);
	ex.n_incidents = 0;
	ex.query_set = 1;
	ex.query = &q;
	SEED1(dir, "extract-query", 1, CUSTODY__ENVELOPE__BODY_EXTRACT_REQUEST, extract_request,
	    &ex);
	ex.query_set = 0;
	ex.person_query_set = 1;
	ex.person_query = &pq;
	SEED1(dir, "extract-persons", 1, CUSTODY__ENVELOPE__BODY_EXTRACT_REQUEST, extract_request,
	    &ex);
	SEED1(dir, "audit", 0, CUSTODY__ENVELOPE__BODY_AUDIT_REQUEST, audit_request, &au);

	/* a peer's requests, as sync_serve gets them */
	SEED1(dir, "peer-feeds", 2, CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST, feeds_request, &fr);
	SEED1(dir, "peer-pack", 2, CUSTODY__ENVELOPE__BODY_PACK_REQUEST, pack_request, &pk);
	br.name = (char *)"00";
	SEED1(dir, "peer-blob", 2, CUSTODY__ENVELOPE__BODY_BLOB_REQUEST, blob_request, &br);
}
