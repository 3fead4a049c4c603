/* SOCKS5 (RFC 1928) for a dialling office: the proxy URL, the greeting, the request, the replies. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "custody/common.h"
#include "custody/socks5.h"

#define SOCKS5_VERSION 5
#define SOCKS5_NO_AUTH 0
#define SOCKS5_NO_METHOD 0xff
#define SOCKS5_CONNECT 1
#define SOCKS5_ATYP_V4 1
#define SOCKS5_ATYP_NAME 3
#define SOCKS5_ATYP_V6 4

/* Whether s[0..n) is a host name as we send it: letters, digits, '.', '-', '_'. */
static int
socks5_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > SOCKS5_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && strchr(".-_", s[i]) == NULL)
			return 0;
	return 1;
}

/* Parse a proxy URL. */
int
socks5_url_parse(struct socks5_proxy *out, const char *url)
{
	const char *h, *colon, *p;
	size_t n;
	unsigned long port = 0;
	uint8_t addr[16];

	memset(out, 0, sizeof *out);
	if (strncmp(url, "socks5h://", 10) == 0) {
		out->remote_names = 1;
		h = url + 10;
	} else if (strncmp(url, "socks5://", 9) == 0)
		h = url + 9;
	else
		return custody_fail(CUSTODY_EINVAL, "not a SOCKS5 proxy (socks5h://HOST:PORT, or "
		    "socks5://HOST:PORT to resolve names here)");
	if ((colon = strrchr(h, ':')) == NULL || colon == h)
		return custody_fail(CUSTODY_EINVAL, "the proxy needs a host and a port "
		    "(socks5h://HOST:PORT)");
	n = (size_t)(colon - h);
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']' || n - 2 > SOCKS5_NAME_MAX)
			return custody_fail(CUSTODY_EINVAL, "the proxy's IPv6 address is not [V6]");
		memcpy(out->host, h + 1, n - 2);
		if (inet_pton(AF_INET6, out->host, addr) != 1)
			return custody_fail(CUSTODY_EINVAL, "the proxy's address is not IPv6");
	} else {
		if (!socks5_name_ok(h, n))
			return custody_fail(CUSTODY_EINVAL, "the proxy's host is not a name or an "
			    "address");
		memcpy(out->host, h, n);
	}
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p != '\0' || port == 0 || port > 65535)
		return custody_fail(CUSTODY_EINVAL, "the proxy's port must be 1-65535, with nothing "
		    "after it");
	out->port = (uint16_t)port;
	return 0;
}

/* The greeting. */
void
socks5_greeting(uint8_t out[static SOCKS5_GREETING_LEN])
{
	out[0] = SOCKS5_VERSION;
	out[1] = 1;
	out[2] = SOCKS5_NO_AUTH;
}

/* The CONNECT request. */
int
socks5_request(uint8_t out[static SOCKS5_REQUEST_MAX], size_t *len, const char *host,
    uint16_t port)
{
	size_t n = strlen(host), i = 0;

	out[i++] = SOCKS5_VERSION;
	out[i++] = SOCKS5_CONNECT;
	out[i++] = 0;
	if (inet_pton(AF_INET, host, out + i + 1) == 1) {
		out[i] = SOCKS5_ATYP_V4;
		i += 1 + 4;
	} else if (inet_pton(AF_INET6, host, out + i + 1) == 1) {
		out[i] = SOCKS5_ATYP_V6;
		i += 1 + 16;
	} else if (socks5_name_ok(host, n)) {
		out[i++] = SOCKS5_ATYP_NAME;
		out[i++] = (uint8_t)n;
		memcpy(out + i, host, n);
		i += n;
	} else
		return custody_fail(CUSTODY_EINVAL, "%.64s is not a host name a proxy can be "
		    "asked for", host);
	if (port == 0)
		return custody_fail(CUSTODY_EINVAL, "port 0");
	out[i++] = (uint8_t)(port >> 8);
	out[i++] = (uint8_t)port;
	*len = i;
	return 0;
}

/* RFC 1928, section 6. */
const char *
socks5_reply_name(unsigned code)
{
	static const char *names[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};

	return code < sizeof names / sizeof names[0] ? names[code] : "unassigned";
}

void
socks5_reply_init(struct socks5_reply *r)
{
	memset(r, 0, sizeof *r);
	r->state = SOCKS5_METHOD;
	r->need = 2;
}

size_t
socks5_reply_need(const struct socks5_reply *r)
{
	return r->state == SOCKS5_METHOD || r->state == SOCKS5_REPLY ? r->need - r->have : 0;
}

/* An error: the parser stops there. */
#define socks5_reply_bad(r, ...) \
	((r)->state = -1, custody_fail(CUSTODY_EPROTO, __VA_ARGS__))

/* The answer in buf is as long as need says: judge it, and learn how long it really is. */
static int
socks5_reply_step(struct socks5_reply *r)
{
	const uint8_t *b = r->buf;

	if (r->have == 2 && b[0] != SOCKS5_VERSION)
		return socks5_reply_bad(r, "not a SOCKS5 proxy: it answered version %u", b[0]);
	if (r->state == SOCKS5_METHOD) {
		if (b[1] == SOCKS5_NO_METHOD)
			return socks5_reply_bad(r, "it accepts none of the methods offered (only "
			    "no authentication is)");
		if (b[1] != SOCKS5_NO_AUTH)
			return socks5_reply_bad(r, "it chose method %u, which was not offered", b[1]);
		r->state = SOCKS5_REPLY;
		r->have = 0;
		r->need = 2;
		return r->state;
	}
	if (r->have == 2) {
		r->code = b[1];
		if (b[1] != 0)
			return socks5_reply_bad(r, "refused: %s (%u)", socks5_reply_name(b[1]), b[1]);
		r->need = 4;
		return r->state;
	}
	if (r->have == 4) {
		if (b[2] != 0)
			return socks5_reply_bad(r, "its reply has a reserved byte of %u, not 0", b[2]);
		switch (b[3]) {
		case SOCKS5_ATYP_V4:	r->need = 4 + 4 + 2; break;
		case SOCKS5_ATYP_V6:	r->need = 4 + 16 + 2; break;
		case SOCKS5_ATYP_NAME:	r->need = 5; break;
		default:
			return socks5_reply_bad(r, "its reply has an unknown address type %u", b[3]);
		}
		return r->state;
	}
	if (r->have == 5 && b[3] == SOCKS5_ATYP_NAME) {
		if (b[4] == 0)
			return socks5_reply_bad(r, "its reply has an empty name");
		r->need = 5 + (size_t)b[4] + 2;
		return r->state;
	}
	r->state = SOCKS5_DONE;
	return r->state;
}

/* Take what the current answer still needs. */
int
socks5_reply_feed(struct socks5_reply *r, const uint8_t *in, size_t len, size_t *used)
{
	size_t n;
	int error;

	*used = 0;
	if (r->state < 0)
		return custody_fail(CUSTODY_EPROTO, "the proxy's answer was already refused");
	while (r->state == SOCKS5_METHOD || r->state == SOCKS5_REPLY) {
		if ((n = socks5_reply_need(r)) > len - *used)
			n = len - *used;
		memcpy(r->buf + r->have, in + *used, n);
		r->have += n;
		*used += n;
		if (r->have < r->need)
			return r->state;
		if ((error = socks5_reply_step(r)) < 0)
			return error;
		if (error == SOCKS5_REPLY && r->have == 0)
			return error;	/* the request goes first */
	}
	return r->state;
}

/* The connection ended. */
int
socks5_reply_finish(const struct socks5_reply *r)
{
	if (r->state == SOCKS5_DONE)
		return 0;
	if (r->state < 0)
		return CUSTODY_EPROTO;
	return custody_fail(CUSTODY_EPROTO, "it closed the connection after %zu byte%s of its %s",
	    r->have, r->have == 1 ? "" : "s", r->state == SOCKS5_METHOD ? "method choice" :
	    "reply");
}
