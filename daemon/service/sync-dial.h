/*
 * Dialling a peer for a sync session (sync-dial.c): directly, or through its SOCKS5 proxy
 * ([sync] proxy, [peer NAME] proxy), such as Tor.
 */
#ifndef SYNC_DIAL_H
#define SYNC_DIAL_H

#include <stddef.h>

#include "peers.h"

/*
 * A non-blocking socket to the peer's address into *fd, for its Noise handshake: directly
 * (perhaps still connecting), or through the peer's proxy, connected to the proxy and its
 * SOCKS5 handshake done within timeout seconds. An onion address is never dialled without a
 * proxy that resolves names. 0, or a negative code with why (whylen bytes) saying why.
 */
int sync_dial(int *fd, const struct peers_entry *peer, int timeout, char *why, size_t whylen);

#endif
