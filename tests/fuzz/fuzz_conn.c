/*
 * A plain connection (a local client's, as custodyd's server makes it) under arbitrary bytes on
 * its socket: the framing, the limit before and after the Hello, the Hello and version check,
 * dispatching while the owner pauses and resumes it, closing after an Error. Must never crash
 * or leak, and never dispatch anything before a Hello with our protocol version.
 *
 * Input: byte 0 picks how often the owner pauses (every Nth message, 0: never), the rest is
 * what the client sends. Seeds: tests/fuzz/corpus/wire (whole client sessions).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "custody/conn.h"
#include "fuzz.h"

static struct event_base *base;

struct fz_state {
	struct conn	*c;
	int		 lost, msgs, every, paused;
};

static void
fuzz_dispatch(struct conn *c, Envelope *env, void *arg)
{
	struct fz_state *st = arg;

	if (env == NULL) {
		st->lost = 1;
		return;
	}
	/* the first message dispatched is the Hello, with our version, and the conn says so */
	if (!conn_established(c) || (st->msgs == 0 &&
	    (env->body_case != CUSTODY__ENVELOPE__BODY_HELLO ||
	    env->hello->version != CUSTODY_PROTOCOL_VERSION)))
		abort();
	st->msgs++;
	if (st->every > 0 && st->msgs % st->every == 0) {
		conn_pause(c);		/* a request is being worked on */
		st->paused = 1;
	}
	if (env->body_case == CUSTODY__ENVELOPE__BODY_STATUS_REQUEST)
		conn_send_error(c, CUSTODY_EINVAL, "no status here");
	wire_free(env);
}

/* Run the loop a little, resuming a paused connection as the owner would once done. */
static void
fz_run(struct fz_state *st)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	if (st->paused && !st->lost) {
		st->paused = 0;
		conn_resume(st->c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state st = { 0 };
	uint8_t drop[4096];
	size_t off = 0;
	ssize_t n;
	int sv[2], i;

	if (base == NULL && (base = event_base_new()) == NULL)
		abort();
	if (size < 1)
		return 0;
	st.every = data[0] % 4;
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return 0;
	if ((st.c = conn_new(base, sv[1], fuzz_dispatch, &st)) == NULL) {
		close(sv[0]);
		return 0;
	}
	for (i = 0; i < 4096 && off < size && !st.lost; i++) {
		if ((n = write(sv[0], data + off, size - off)) > 0)
			off += (size_t)n;
		while (recv(sv[0], drop, sizeof drop, MSG_DONTWAIT) > 0)
			;
		fz_run(&st);
	}
	shutdown(sv[0], SHUT_WR);
	for (i = 0; i < 16 && !st.lost; i++) {
		while (recv(sv[0], drop, sizeof drop, MSG_DONTWAIT) > 0)
			;
		fz_run(&st);
	}
	conn_free(st.c);
	close(sv[0]);
	return 0;
}
