/*
 * Offices we sync with: the pinned peers of custody.conf ([peer NAME] address and key), what
 * happened when we last talked to each. The listener and the admin requests: server.h.
 */
#ifndef CUSTODY_PEERS_H
#define CUSTODY_PEERS_H

#include <stdint.h>
#include <time.h>

#include "archive.h"

/* One peer as the registry knows it (a copy: the registry may change meanwhile). */
struct peers_entry {
	char	 name[OFFICE_NAME_MAX + 1];
	char	 address[256];		/* "" when none */
	uint8_t	 pk[ED25519_PK_LEN];
	time_t	 last_success, last_attempt;
	uint64_t rate;			/* bandwidth limit, bytes per second; 0: none */
	char	 proxy[288];		/* socks5h://HOST:PORT to dial through; "" direct */
	int64_t	 behind;		/* commits the peer lacks of our feeds at the last sync; -1 */
	char	 last_error[256];
};

/* peers.c: the registry (thread-safe), loaded from the archive's custody.conf. */
int peers_init(struct archive *);
void peers_shutdown(void);
/*
 * Pin a peer and rewrite custody.conf (address "": one that only dials us, never dialled). The
 * same name with the same key takes the new address; CUSTODY_EEXIST when the name is pinned with
 * another key or the key under another name.
 */
int peers_add(struct archive *, const char *name, const char *address,
    const uint8_t pk[static ED25519_PK_LEN]);
/* Change a pinned peer's address (HOST:PORT) and rewrite custody.conf; CUSTODY_ENOTFOUND. */
int peers_set_address(struct archive *, const char *name, const char *address);
/* Unpin a peer and rewrite custody.conf; CUSTODY_ENOTFOUND when there is none. */
int peers_remove(struct archive *, const char *name);
/* The peer pinned under the Ed25519 key pk; CUSTODY_ENOTFOUND when none. */
int peers_find_key(struct peers_entry *out, const uint8_t pk[static ED25519_PK_LEN]);
/* The peer called name; CUSTODY_ENOTFOUND when none. */
int peers_find_name(struct peers_entry *out, const char *name);
/* A copy of every peer, in custody.conf order; *out belongs to the caller (free it). */
int peers_list(struct peers_entry **out, size_t *n);
/* Record the outcome of an attempt to talk to a peer (error NULL: success). */
void peers_record(const char *name, const char *error);
/* Record how many commits of our feeds the peer lacked when we last saw its heads. */
void peers_record_behind(const uint8_t pk[static ED25519_PK_LEN], int64_t behind);
/* Check a HOST:PORT address and split it; 0 or CUSTODY_EINVAL (with custody_error). */
int peers_split_address(char *host, size_t hostlen, char *port, size_t portlen,
    const char *address);

#endif
