/*
 * A seized office driven by the adversary's own tool: it holds the office's archive and real
 * key (the project's library opens them), answers replication like custodyd does, and lies
 * where it is told to. For tests/e2e/37-hostile-pack.sh and 43-sync-packs.sh.
 *
 *   evil-peer serve ARCHIVE HOST:PORT MODE [ARGS]   answer peers on HOST:PORT until killed:
 *     pack FILE HEAD SEQ   a PackRequest gets FILE's bytes as the pack, leading to HEAD at SEQ
 *     blob-long            a blob is said to be 256 MiB, and its bytes go on past its end
 *     blob-grow            a blob's first piece is honest, the next ones say it is 64 MiB more
 *     blob-big             a blob's bytes are honest, but 2 MiB of them in each answer
 *     packs FILE... HEAD SEQ  a PackRequest gets the FILEs as the packs of one answer
 *     once                 the first PackRequest is answered truly; at the next one it is gone
 *     cut N                the first PackRequest gets only the first N pieces of the true
 *                          answer, then it is gone
 *   evil-peer nohello ARCHIVE HOST:PORT KEYHEX   dial the office of key KEYHEX at HOST:PORT and
 *     ask for feeds without a PeerHello; print what comes back (the reply's name, or
 *     "Error: MESSAGE") and exit 0
 *   evil-peer push ARCHIVE HOST:PORT KEYHEX MODE [ARGS]   dial the office of key KEYHEX, say
 *     hello and hand it the turn at once (SyncTurn, pulling nothing first); answer its requests
 *     as in serve MODE ("true": truly), printing "asked: NAME" for each; print what ends the
 *     turn ("turn: declined: WHY", "turn: moved: LINE", "turn: refused: LINE", "turn: done",
 *     "Error: MESSAGE" or "closed: WHY") and exit 0
 * In serve mode a SyncTurn is answered with an empty SyncTurn (the adversary takes nothing).
 * Anything else the peer asks is answered truly (daemon/service/sync-serve.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custody/conn.h"
#include "peers.h"
#include "sync.h"

#define EVIL_CHUNK (1 << 20)

static struct archive *a;
static const char *mode;
static char **margs;
static struct event_base *base;
static int pushing;	/* evil-peer push */

/* push: what ends the turn. */
static void
evil_turn_end(const Custody__SyncTurn *t)
{
	size_t i;

	if (t->declined[0] != '\0')
		printf("turn: declined: %s\n", t->declined);
	for (i = 0; i < t->n_moved; i++)
		printf("turn: moved: %s\n", t->moved[i]);
	for (i = 0; i < t->n_forks; i++)
		printf("turn: refused: %s\n", t->forks[i]);
	printf("turn: done\n");
	fflush(stdout);
	event_base_loopbreak(base);
}

/* Everyone may talk to the adversary. */
static const char *
evil_authorize(struct conn *ch, const uint8_t remote[static 32], void *arg)
{
	return "victim";
}

static void
evil_send(struct conn *ch, Envelope *env)
{
	if (conn_send(ch, env) < 0)
		fprintf(stderr, "evil-peer: cannot send\n");
}

/* The pack in FILE, in PackData pieces. */
static void
evil_pack(struct conn *ch)
{
	Custody__PackData pd = CUSTODY__PACK_DATA__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	static uint8_t buf[EVIL_CHUNK];
	FILE *f = fopen(margs[0], "rb");
	size_t n;

	if (f == NULL) {
		conn_send_error(ch, CUSTODY_EIO, "no pack file");
		return;
	}
	env.body_case = CUSTODY__ENVELOPE__BODY_PACK_DATA;
	env.pack_data = &pd;
	do {
		n = fread(buf, 1, sizeof buf, f);
		pd.data.data = buf;
		pd.data.len = n;
		pd.last = n < sizeof buf;
		pd.head = pd.last ? margs[1] : (char *)"";
		pd.seq = pd.last ? strtoull(margs[2], NULL, 10) : 0;
		evil_send(ch, &env);
	} while (!pd.last);
	fclose(f);
}

/* The FILEs of margs (HEAD and SEQ after them) as the packs of one answer. */
static void
evil_packs(struct conn *ch)
{
	Custody__PackData pd = CUSTODY__PACK_DATA__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	static uint8_t buf[EVIL_CHUNK];
	int nfiles = 0, i;
	size_t n;
	FILE *f;

	while (margs[nfiles] != NULL)
		nfiles++;
	nfiles -= 2;
	env.body_case = CUSTODY__ENVELOPE__BODY_PACK_DATA;
	env.pack_data = &pd;
	for (i = 0; i < nfiles; i++) {
		if ((f = fopen(margs[i], "rb")) == NULL) {
			conn_send_error(ch, CUSTODY_EIO, "no pack file");
			return;
		}
		do {
			n = fread(buf, 1, sizeof buf, f);
			pd.data.data = buf;
			pd.data.len = n;
			pd.last = n < sizeof buf && i == nfiles - 1;
			pd.pack_end = n < sizeof buf && !pd.last;
			pd.head = pd.last ? margs[nfiles] : (char *)"";
			pd.seq = pd.last ? strtoull(margs[nfiles + 1], NULL, 10) : 0;
			evil_send(ch, &env);
		} while (n == sizeof buf);
		fclose(f);
	}
}

/* The true answer to a PackRequest, cut after N pieces (all of it when N is 0). */
static void
evil_answer(struct conn *ch, const Envelope *msg, unsigned long n)
{
	struct sync_stream *st = NULL;
	struct cbuf out = { 0 };
	unsigned long k = 1;
	int r;

	if (sync_serve_stream(a, msg, &out, &st) < 0) {
		conn_send_error(ch, CUSTODY_EIO, "%s", custody_error());
		return;
	}
	conn_send_frames(ch, &out);
	cbuf_free(&out);
	for (r = 1; st != NULL && r == 1 && (n == 0 || k < n); k++) {
		if ((r = sync_stream_next(st, &out)) < 0)
			break;
		conn_send_frames(ch, &out);
		cbuf_free(&out);
	}
	sync_stream_free(st);
	if (n > 0) {	/* gone once the pieces are written */
		struct timeval tv = { 1, 0 };

		event_base_loopexit(base, &tv);
	}
}

/* A blob's bytes, as the mode lies about them. */
static void
evil_blob(struct conn *ch, const Custody__BlobRequest *m)
{
	Custody__BlobData bd = CUSTODY__BLOB_DATA__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	static uint8_t buf[2 * EVIL_CHUNK];
	size_t want = strcmp(mode, "blob-big") == 0 ? 2 * EVIL_CHUNK : EVIL_CHUNK;
	struct stat st;
	char *path = blob_path(a, m->name);
	ssize_t r = 0;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		conn_send_error(ch, CUSTODY_ENOTFOUND, "no blob");
		free(path);
		return;
	}
	memset(buf, 0xee, sizeof buf);
	if (m->offset < (uint64_t)st.st_size && (r = pread(fd, buf, want,
	    (off_t)m->offset)) < 0)
		r = 0;
	close(fd);
	free(path);
	bd.data.data = buf;
	if (strcmp(mode, "blob-long") == 0) {
		bd.size = 256ull << 20;
		bd.data.len = EVIL_CHUNK;	/* past the real end: filler */
	} else if (strcmp(mode, "blob-big") == 0) {
		bd.size = (uint64_t)st.st_size;
		bd.data.len = (size_t)r;
	} else {
		bd.size = (uint64_t)st.st_size + (m->offset > 0 ? 64ull << 20 : 0);
		bd.data.len = m->offset > 0 ? EVIL_CHUNK : (size_t)r;
	}
	env.body_case = CUSTODY__ENVELOPE__BODY_BLOB_DATA;
	env.blob_data = &bd;
	evil_send(ch, &env);
}

static void
evil_dispatch(struct conn *ch, Envelope *msg, void *arg)
{
	Custody__PeerWelcome w = CUSTODY__PEER_WELCOME__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	struct cbuf out = { 0 };

	if (msg == NULL) {
		if (arg != NULL) {	/* the dialling mode: the victim hung up */
			printf("closed: %s\n", conn_error(ch));
			event_base_loopbreak(base);
		}
		return;
	}
	if (pushing && msg->body_case == CUSTODY__ENVELOPE__BODY_PEER_WELCOME) {
		Custody__SyncTurn t = CUSTODY__SYNC_TURN__INIT;

		env.body_case = CUSTODY__ENVELOPE__BODY_SYNC_TURN;
		env.sync_turn = &t;
		evil_send(ch, &env);
	} else if (pushing && msg->body_case == CUSTODY__ENVELOPE__BODY_SYNC_TURN)
		evil_turn_end(msg->sync_turn);
	else if (pushing && sync_is_request(msg)) {
		printf("asked: %s\n", wire_name(msg));
		fflush(stdout);
		goto serve;
	} else if (arg != NULL) {
		if (msg->body_case == CUSTODY__ENVELOPE__BODY_ERROR)
			printf("Error: %s\n", msg->error->message);
		else
			printf("%s\n", wire_name(msg));
		fflush(stdout);
		event_base_loopbreak(base);
	} else if (msg->body_case == CUSTODY__ENVELOPE__BODY_PEER_HELLO) {
		w.office = a->conf.office;
		env.body_case = CUSTODY__ENVELOPE__BODY_PEER_WELCOME;
		env.peer_welcome = &w;
		evil_send(ch, &env);
	} else if (msg->body_case == CUSTODY__ENVELOPE__BODY_SYNC_TURN) {
		Custody__SyncTurn t = CUSTODY__SYNC_TURN__INIT;

		env.body_case = CUSTODY__ENVELOPE__BODY_SYNC_TURN;
		env.sync_turn = &t;
		evil_send(ch, &env);
	} else
serve:	if (msg->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST &&
	    strcmp(mode, "pack") == 0)
		evil_pack(ch);
	else if (msg->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST &&
	    strcmp(mode, "packs") == 0)
		evil_packs(ch);
	else if (msg->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST &&
	    strcmp(mode, "once") == 0) {
		static int answered;

		if (answered++)
			exit(0);	/* the connection drops with the process */
		evil_answer(ch, msg, 0);
	} else if (msg->body_case == CUSTODY__ENVELOPE__BODY_PACK_REQUEST &&
	    strcmp(mode, "cut") == 0)
		evil_answer(ch, msg, strtoul(margs[0], NULL, 10));
	else if (msg->body_case == CUSTODY__ENVELOPE__BODY_BLOB_REQUEST &&
	    strncmp(mode, "blob-", 5) == 0)
		evil_blob(ch, msg->blob_request);
	else if (sync_is_request(msg)) {
		if (sync_serve(a, msg, &out) < 0)
			conn_send_error(ch, CUSTODY_EIO, "%s", custody_error());
		else
			conn_send_frames(ch, &out);
		cbuf_free(&out);
	}
	wire_free(msg);
}

static void
evil_accept(evutil_socket_t lfd, short what, void *arg)
{
	uint8_t *x_priv = arg;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	/* each connection lives until the process ends: the adversary does not tidy up */
	if (conn_noise_new(base, fd, NULL, x_priv, a->office_pk, evil_authorize, evil_dispatch,
	    NULL) == NULL)
		fprintf(stderr, "evil-peer: cannot set up a channel\n");
}

/* A TCP socket listening on, or connected to, HOST:PORT. */
static int
evil_socket(const char *address, int listening)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[256], port[8];
	int fd, one = 1;

	if (peers_split_address(host, sizeof host, port, sizeof port, address) < 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd >= 0 && (listening ? bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 16) != 0 : connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int
main(int argc, char **argv)
{
	Custody__FeedsRequest fr = CUSTODY__FEEDS_REQUEST__INIT;
	Custody__PeerHello h = CUSTODY__PEER_HELLO__INIT;
	Envelope env = CUSTODY__ENVELOPE__INIT;
	uint8_t *x_priv, x_pub[NOISE_KEY_LEN], dial_pk[32];
	struct conn *ch;
	struct event *ev;
	char *cause = NULL;
	int fd, dial;

	pushing = argc > 1 && strcmp(argv[1], "push") == 0;
	dial = argc > 1 && (strcmp(argv[1], "nohello") == 0 || pushing);
	if (argc < 5 || (dial && hex_decode(dial_pk, sizeof dial_pk, argv[4]) < 0) ||
	    (pushing && argc < 6)) {
		fprintf(stderr, "usage: evil-peer serve ARCHIVE HOST:PORT MODE [ARGS] | "
		    "evil-peer nohello ARCHIVE HOST:PORT KEYHEX | "
		    "evil-peer push ARCHIVE HOST:PORT KEYHEX MODE [ARGS]\n");
		return 2;
	}
	mode = pushing ? argv[5] : dial ? "" : argv[4];
	margs = argv + (pushing ? 6 : 5);
	if (strcmp(mode, "pack") == 0 && argc < (pushing ? 9 : 8)) {
		fprintf(stderr, "evil-peer: pack FILE HEAD SEQ\n");
		return 2;
	}
	if (sodium_init() < 0 || archive_open(&a, argv[2], NULL, 0, &cause) < 0) {
		fprintf(stderr, "evil-peer: %s\n", cause ? cause : "cannot open the archive");
		return 1;
	}
	if ((x_priv = sodium_malloc(NOISE_KEY_LEN)) == NULL ||
	    noise_static_from_ed25519(x_priv, x_pub, a->office_sk) < 0 ||
	    (base = event_base_new()) == NULL || (fd = evil_socket(argv[3], !dial)) < 0) {
		fprintf(stderr, "evil-peer: cannot set up: %s\n", strerror(errno));
		return 1;
	}
	if (dial) {
		if ((ch = conn_noise_new(base, fd, dial_pk, x_priv, a->office_pk, evil_authorize,
		    evil_dispatch, &fd)) == NULL)
			return 1;
		if (pushing) {
			h.office = a->conf.office;
			h.version = CUSTODY_PROTOCOL_VERSION;
			env.body_case = CUSTODY__ENVELOPE__BODY_PEER_HELLO;
			env.peer_hello = &h;
		} else {
			env.body_case = CUSTODY__ENVELOPE__BODY_FEEDS_REQUEST;
			env.feeds_request = &fr;
		}
		evil_send(ch, &env);
		event_base_dispatch(base);
		return 0;
	}
	ev = event_new(base, fd, EV_READ | EV_PERSIST, evil_accept, x_priv);
	event_add(ev, NULL);
	fprintf(stderr, "evil-peer: serving %s as %s (%s)\n", argv[3], a->conf.office, mode);
	event_base_dispatch(base);
	return 0;
}
