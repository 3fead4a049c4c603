/*
 * Dialling a peer: a socket to its HOST:PORT, or to its SOCKS5 proxy and through it. The proxy
 * is spoken to here, on the session's worker thread, before the socket is handed to the Noise
 * channel: its bytes are written and judged by proto/socks5.c, read here no further than the
 * end of its reply (what follows is the peer's). Waiting is bounded by the timeout and ends
 * within a second when the daemon stops.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "custody/common.h"
#include "custody/onion.h"
#include "custody/socks5.h"
#include "sync.h"
#include "sync-dial.h"

#define SYNC_DIAL_TICK 1000	/* milliseconds between looks at whether the daemon stops */

/* One dial: where to, and what went wrong. */
struct dial {
	const struct peers_entry *peer;
	char		 proxy[SOCKS5_NAME_MAX + 16];	/* HOST:PORT of the proxy, for errors */
	time_t		 deadline;
	int		 timeout;
	char		*why;
	size_t		 whylen;
};

/* Say why (prefixed with the peer's address, and the proxy when there is one); returns code. */
static int __attribute__((format(printf, 3, 4)))
sync_dial_fail(struct dial *d, int code, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (d->proxy[0] != '\0')
		snprintf(d->why, d->whylen, "%s via proxy %s: %s", d->peer->address, d->proxy,
		    msg);
	else
		snprintf(d->why, d->whylen, "%s: %s", d->peer->address, msg);
	return code;
}

/* A non-blocking socket connecting (or connected) to host:port; -1 with why set. */
static int
sync_dial_connect(struct dial *d, const char *host, const char *port, const char *what)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int fd = -1, error;

	if ((error = getaddrinfo(host, port, &hints, &ai)) != 0)
		return sync_dial_fail(d, -1, "%s%s", what, gai_strerror(error));
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)) {
		sync_dial_fail(d, -1, "%s%s", what, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Wait until fd is ready for events; 0, or -1 with why set (timed out, stopping, failed). */
static int
sync_dial_wait(struct dial *d, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		if (sync_stopped())
			return sync_dial_fail(d, -1, "custodyd is stopping");
		if (time(NULL) >= d->deadline)
			return sync_dial_fail(d, -1, "no answer from the proxy for %d seconds",
			    d->timeout);
		if ((r = poll(&p, 1, SYNC_DIAL_TICK)) > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return sync_dial_fail(d, -1, "poll: %s", strerror(errno));
	}
}

/* Write all of buf to the proxy. */
static int
sync_dial_send(struct dial *d, int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if (sync_dial_wait(d, fd, POLLOUT) < 0)
			return -1;
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return sync_dial_fail(d, -1, "cannot write to the proxy: %s",
			    strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the proxy's answer until the parser reaches state want (or fails). */
static int
sync_dial_answer(struct dial *d, int fd, struct socks5_reply *r, int want)
{
	uint8_t buf[SOCKS5_REPLY_MAX];
	size_t used, need;
	ssize_t n;
	int st = r->state;

	while (st >= 0 && st < want && (need = socks5_reply_need(r)) > 0) {
		if (sync_dial_wait(d, fd, POLLIN) < 0)
			return -1;
		if ((n = recv(fd, buf, need, 0)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return sync_dial_fail(d, -1, "cannot read from the proxy: %s",
			    strerror(errno));
		}
		if (n == 0) {
			socks5_reply_finish(r);
			return sync_dial_fail(d, -1, "%s", custody_error());
		}
		if ((st = socks5_reply_feed(r, buf, (size_t)n, &used)) < 0)
			return sync_dial_fail(d, -1, "%s", custody_error());
	}
	return 0;
}

/* The peer's host as the proxy is to be asked for it: a name (socks5h), or an address. */
static int
sync_dial_target(struct dial *d, char *out, size_t outlen, const char *host,
    const struct socks5_proxy *px)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int error;

	if (px->remote_names) {
		snprintf(out, outlen, "%s", host);
		return 0;
	}
	if ((error = getaddrinfo(host, NULL, &hints, &ai)) != 0)
		return sync_dial_fail(d, -1, "%s", gai_strerror(error));
	error = getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)outlen, NULL, 0,
	    NI_NUMERICHOST);
	freeaddrinfo(ai);
	return error != 0 ? sync_dial_fail(d, -1, "%s", gai_strerror(error)) : 0;
}

/* Connect to the proxy and ask it for host:port. */
static int
sync_dial_proxy(struct dial *d, const struct socks5_proxy *px, const char *host,
    unsigned port)
{
	uint8_t req[SOCKS5_REQUEST_MAX], greet[SOCKS5_GREETING_LEN];
	char pport[8], target[SOCKS5_NAME_MAX + 1];
	struct socks5_reply r;
	socklen_t sl = sizeof(int);
	size_t len;
	int fd, soerr = 0;

	if (onion_is(host, strlen(host)) && !px->remote_names)
		return sync_dial_fail(d, -1, "an onion address needs a proxy that resolves names "
		    "(socks5h://, not socks5://): not resolved here, through DNS");
	if (sync_dial_target(d, target, sizeof target, host, px) < 0)
		return -1;
	if (socks5_request(req, &len, target, (uint16_t)port) < 0)
		return sync_dial_fail(d, -1, "%s", custody_error());
	snprintf(pport, sizeof pport, "%u", px->port);
	if ((fd = sync_dial_connect(d, px->host, pport, "cannot connect to the proxy: ")) < 0)
		return -1;
	if (sync_dial_wait(d, fd, POLLOUT) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		sync_dial_fail(d, -1, "cannot connect to the proxy: %s", strerror(soerr != 0 ?
		    soerr : errno));
		goto fail;
	}
	socks5_greeting(greet);
	socks5_reply_init(&r);
	if (sync_dial_send(d, fd, greet, sizeof greet) < 0 ||
	    sync_dial_answer(d, fd, &r, SOCKS5_REPLY) < 0 ||
	    sync_dial_send(d, fd, req, len) < 0 ||
	    sync_dial_answer(d, fd, &r, SOCKS5_DONE) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Dial a peer. */
int
sync_dial(int *fd, const struct peers_entry *peer, int timeout, char *why, size_t whylen)
{
	struct dial d = { .peer = peer, .timeout = timeout, .why = why, .whylen = whylen };
	struct socks5_proxy px;
	char host[256], port[8];

	*fd = -1;
	d.deadline = time(NULL) + timeout;
	if (peers_split_address(host, sizeof host, port, sizeof port, peer->address) < 0) {
		snprintf(why, whylen, "%s", custody_error());
		return CUSTODY_EINVAL;
	}
	if (peer->proxy[0] == '\0') {
		if (onion_is(host, strlen(host)))
			return sync_dial_fail(&d, CUSTODY_EPERM, "an onion address is dialled only "
			    "through a proxy such as Tor ([sync] proxy = socks5h://127.0.0.1:9050): "
			    "not resolved through DNS");
		return (*fd = sync_dial_connect(&d, host, port, "")) < 0 ? CUSTODY_EIO : 0;
	}
	if (socks5_url_parse(&px, peer->proxy) < 0)
		return sync_dial_fail(&d, CUSTODY_EINVAL, "proxy %s: %s", peer->proxy,
		    custody_error());
	snprintf(d.proxy, sizeof d.proxy, "%s%s%s:%u", strchr(px.host, ':') ? "[" : "", px.host,
	    strchr(px.host, ':') ? "]" : "", px.port);
	return (*fd = sync_dial_proxy(&d, &px, host, (unsigned)strtoul(port, NULL, 10))) < 0 ?
	    CUSTODY_EIO : 0;
}
