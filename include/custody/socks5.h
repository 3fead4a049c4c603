/*
 * SOCKS5 (RFC 1928), the client side of a CONNECT with no authentication, as a dialling office
 * speaks it to a proxy such as Tor before its Noise handshake (proto/PROTOCOL.md, "Through a
 * proxy"):
 *
 *	greeting	05 01 00			version 5, one method: no authentication
 *	method		05 00				the proxy's choice (FF: none acceptable)
 *	request		05 01 00 ATYP ADDR PORT		CONNECT; ATYP 01 IPv4 (4 bytes), 03 a name
 *							(a length byte, 1-255 bytes), 04 IPv6 (16)
 *	reply		05 REP 00 ATYP ADDR PORT	REP 00: connected; anything else refused
 *
 * After the reply the connection carries the peer's bytes. A proxy is named by a URL:
 * socks5h://HOST:PORT (the proxy resolves names: the only way to reach a Tor onion address,
 * and no DNS query leaves this machine) or socks5://HOST:PORT (names resolved here, the proxy
 * given addresses).
 */
#ifndef CUSTODY_SOCKS5_H
#define CUSTODY_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS5_GREETING_LEN 3
#define SOCKS5_NAME_MAX 255
#define SOCKS5_REQUEST_MAX (4 + 1 + SOCKS5_NAME_MAX + 2)
#define SOCKS5_REPLY_MAX (4 + 1 + SOCKS5_NAME_MAX + 2)

/* A proxy, from its URL. */
struct socks5_proxy {
	char	 host[SOCKS5_NAME_MAX + 1];	/* a name or an address (IPv6 without brackets) */
	uint16_t port;				/* 1-65535 */
	int	 remote_names;			/* socks5h: names go to the proxy unresolved */
};

/*
 * Parse socks5h://HOST:PORT or socks5://HOST:PORT (HOST a name, an IPv4 address or [IPv6]),
 * nothing before or after; 0 or CUSTODY_EINVAL (custody_error says why).
 */
int socks5_url_parse(struct socks5_proxy *out, const char *url);

/* The greeting: version 5, one method, none (no authentication). */
void socks5_greeting(uint8_t out[static SOCKS5_GREETING_LEN]);

/*
 * A CONNECT request for host:port into out, *len bytes. A host that is an IPv4 or IPv6 address
 * goes as that address; any other (1-255 letters, digits, '.', '-', '_') as a name for the
 * proxy to resolve. 0 or CUSTODY_EINVAL.
 */
int socks5_request(uint8_t out[static SOCKS5_REQUEST_MAX], size_t *len, const char *host,
    uint16_t port);

/* What the proxy says, read in pieces: its method choice, then its reply to the request. */
struct socks5_reply {
	int	 state;		/* SOCKS5_METHOD, SOCKS5_REPLY, SOCKS5_DONE, or -1 after an error */
	size_t	 have;		/* bytes of the current answer held in buf */
	size_t	 need;		/* bytes the current answer has, as far as known */
	uint8_t	 buf[SOCKS5_REPLY_MAX];
	uint8_t	 code;		/* REP of the reply, once read */
};

#define SOCKS5_METHOD 0		/* reading the method choice */
#define SOCKS5_REPLY 1		/* the method is accepted: send the request, read its reply */
#define SOCKS5_DONE 2		/* connected: what follows is the peer's */

void socks5_reply_init(struct socks5_reply *);
/*
 * How many more bytes the current answer needs at least (never any byte past the end of the
 * reply: what follows it belongs to the peer); 0 once done or failed.
 */
size_t socks5_reply_need(const struct socks5_reply *);
/*
 * Take up to socks5_reply_need() bytes of in (*used says how many). Returns the state
 * (SOCKS5_METHOD, SOCKS5_REPLY, SOCKS5_DONE), or CUSTODY_EPROTO with custody_error saying
 * what was wrong: a refusal names the code, as "refused: host unreachable (4)".
 */
int socks5_reply_feed(struct socks5_reply *, const uint8_t *in, size_t len, size_t *used);
/* The proxy closed the connection: 0 when done, else CUSTODY_EPROTO (a short answer). */
int socks5_reply_finish(const struct socks5_reply *);
/* The RFC 1928 meaning of a reply code ("host unreachable"); "unassigned" past 8. */
const char *socks5_reply_name(unsigned code);

#endif
