/*
 * Tor onion addresses as peer addresses: NAME.onion, where NAME is a v3 onion service's 56
 * base32 letters (a-z, 2-7; capitals too): its Ed25519 key (32 bytes), a checksum (2) and the
 * version (1, = 3), the checksum the first two bytes of SHA3-256(".onion checksum" || key ||
 * version). Such a name is only ever handed to a proxy that resolves it (socks5h://): never to
 * this machine's resolver, which would tell the network whom the office dials.
 */
#ifndef CUSTODY_ONION_H
#define CUSTODY_ONION_H

#include <stddef.h>

#define ONION_V3_LEN 56		/* base32 letters before ".onion" */

/* Whether the host host[0..len) is in .onion (any case), well formed or not. */
int onion_is(const char *host, size_t len);
/* Check a host in .onion: a v3 address, checksum and version right; 0 or CUSTODY_EINVAL. */
int onion_check(const char *host, size_t len);

#endif
