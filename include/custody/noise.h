/*
 * The Noise Protocol Framework (revision 34) for office-to-office channels:
 * Noise_XK_25519_ChaChaPoly_BLAKE2b, plus the NK, KK, IK and XX patterns of the same suite (no
 * PSK).
 *
 * A handshake alternates noise_hs_write and noise_hs_read (noise_hs_want_write says whose turn it
 * is) until noise_hs_done; noise_hs_split then yields the two transport ciphers. A read that
 * fails, or a write that fails while building its message, marks the handshake failed and wipes
 * its secrets: every later call returns CUSTODY_EPROTO and the caller must drop the connection.
 * Calls refused before any work (out of turn, payload too big) change nothing. Every message,
 * handshake or transport, is at most NOISE_MAX_MSG bytes; framing is the caller's business.
 *
 * Payload confidentiality follows the pattern (spec section 7.7): the payload of XX message 1 is
 * sent in the clear and is authenticated only by the later messages, so keep it empty; nothing
 * from the peer is authenticated as coming from its static key before it has proven it (XX: the
 * initiator after message 2, the responder after message 3; XK: the same). In XK the initiator
 * knows the responder's static key in advance: message 1 already depends on it (es), so a
 * responder that does not hold that key fails to read message 1, and a responder never reveals
 * anything to an initiator that does not know its key.
 */
#ifndef CUSTODY_NOISE_H
#define CUSTODY_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "custody/common.h"

#define NOISE_KEY_LEN 32	/* X25519 keys, private and public; cipher keys */
#define NOISE_HASH_LEN 64	/* BLAKE2b-512: the handshake hash */
#define NOISE_TAG_LEN 16	/* Poly1305 tag */
#define NOISE_MAX_MSG 65535
#define NOISE_MAX_PAYLOAD (NOISE_MAX_MSG - NOISE_TAG_LEN)	/* per transport message */

struct noise_hs;
struct noise_cipher;

/*
 * Start a handshake. pattern is "XK", "XX", "NK", "KK" or "IK". s_priv is this side's static
 * X25519 private key: required when the pattern gives this side a static key, NULL otherwise. rs
 * is the peer's static public key: required when the pattern has it as a pre-message (NK/KK/IK/XK
 * initiator, KK responder); where the peer transmits it (XX both sides, IK/XK responder) rs may be
 * given as a pin, and noise_hs_read then fails with CUSTODY_EPERM, before releasing any payload,
 * when the peer presents another key; NULL means "learn it" (check noise_hs_remote_static before
 * trusting the peer). prologue may be NULL when prologue_len is 0. *out belongs to the caller.
 */
int noise_hs_new(struct noise_hs **out, const char *pattern, bool initiator,
    const uint8_t *s_priv, const uint8_t *rs, const void *prologue, size_t prologue_len);
/* Wipe and free a handshake; NULL is fine. */
void noise_hs_free(struct noise_hs *hs);

/*
 * FOR TESTS ONLY: use e_priv as this side's ephemeral private key instead of a random one.
 * Reusing an ephemeral key is catastrophic. Fails with CUSTODY_EPROTO once an ephemeral exists.
 */
int noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[static NOISE_KEY_LEN]);

/*
 * Write the next handshake message, carrying payload (len bytes; payload may be NULL when len is
 * 0), appending it to out. CUSTODY_EPROTO when it is not this side's turn or the handshake is
 * over or failed, CUSTODY_ETOOBIG when the message would exceed NOISE_MAX_MSG, CUSTODY_ECRYPTO
 * when a remote key given to noise_hs_new is a low-order point. out is untouched on failure.
 */
int noise_hs_write(struct noise_hs *hs, struct cbuf *out, const void *payload, size_t len);
/*
 * Read the peer's next handshake message and append its payload to payload_out, only once the
 * message authenticated. CUSTODY_EINVAL for a message too short for the pattern or longer than
 * NOISE_MAX_MSG, CUSTODY_ECRYPTO for a bad tag or a low-order public key, CUSTODY_EPERM when the
 * peer's static key differs from the pinned one, CUSTODY_EPROTO when it is not this side's turn
 * or the handshake is over or failed. Never reads outside msg[0..len).
 */
int noise_hs_read(struct noise_hs *hs, struct cbuf *payload_out, const uint8_t *msg, size_t len);

/* True when the next handshake step is noise_hs_write (false once done or failed). */
bool noise_hs_want_write(const struct noise_hs *hs);
/* True when every handshake message has been written or read successfully. */
bool noise_hs_done(const struct noise_hs *hs);
/* The peer's static public key, once known; CUSTODY_ENOTFOUND before that. */
int noise_hs_remote_static(const struct noise_hs *hs, uint8_t out[static NOISE_KEY_LEN]);
/* The handshake hash h: after noise_hs_done, a unique channel binding value for the session. */
int noise_hs_hash(const struct noise_hs *hs, uint8_t out[static NOISE_HASH_LEN]);
/*
 * After noise_hs_done, once only: the cipher for sending and the one for receiving (the
 * initiator sends with the first of Split()'s pair). Both belong to the caller. The chaining key
 * is wiped.
 */
int noise_hs_split(struct noise_hs *hs, struct noise_cipher **send, struct noise_cipher **recv);

/*
 * Encrypt one transport message (len <= NOISE_MAX_PAYLOAD) and append it (len + NOISE_TAG_LEN
 * bytes) to out. CUSTODY_ETOOBIG when too long, CUSTODY_EPROTO when the 2^64-1 nonces are used
 * up (the session must then end).
 */
int noise_encrypt(struct noise_cipher *c, struct cbuf *out, const void *pt, size_t len);
/*
 * Decrypt the next transport message in order and append its plaintext to out. CUSTODY_EINVAL
 * when shorter than a tag or longer than NOISE_MAX_MSG, CUSTODY_ECRYPTO when it does not
 * authenticate (out-of-order, replayed, forged: the nonce does not advance), CUSTODY_EPROTO when
 * the nonces are used up.
 */
int noise_decrypt(struct noise_cipher *c, struct cbuf *out, const uint8_t *ct, size_t len);
/*
 * noise_encrypt into out, which has room for len + NOISE_TAG_LEN bytes; out may be pt (in
 * place).
 */
int noise_encrypt_to(struct noise_cipher *c, uint8_t *out, const void *pt, size_t len);
/*
 * noise_decrypt into out, which has room for len - NOISE_TAG_LEN bytes; out may be ct (in
 * place). When the message does not authenticate, out is wiped: nothing of it is released.
 */
int noise_decrypt_to(struct noise_cipher *c, uint8_t *out, const uint8_t *ct, size_t len);
/* noise_decrypt_to of a message of len bytes lying in the nin pieces of ct, in order. */
int noise_decrypt_iov(struct noise_cipher *c, uint8_t *out, const struct iovec *ct, int nin,
    size_t len);
/*
 * Skip the nonce forward to n (Noise SetNonce, forward only: never reuses a nonce). For callers
 * that drop messages by agreement, and for tests of nonce exhaustion. CUSTODY_EINVAL if n is
 * below the current nonce.
 */
int noise_cipher_set_nonce(struct noise_cipher *c, uint64_t n);
/* Wipe and free a cipher; NULL is fine. */
void noise_cipher_free(struct noise_cipher *c);

/* The X25519 public key of a private key. */
int noise_public_key(uint8_t pub[static NOISE_KEY_LEN], const uint8_t priv[static NOISE_KEY_LEN]);
/* A fresh random X25519 key pair. */
int noise_keypair(uint8_t pub[static NOISE_KEY_LEN], uint8_t priv[static NOISE_KEY_LEN]);
/*
 * The office's X25519 static key pair from its Ed25519 secret key (libsodium form: seed ||
 * public key, 64 bytes). CUSTODY_ECRYPTO when the embedded public key is invalid or does not
 * match the seed.
 */
int noise_static_from_ed25519(uint8_t x_priv[static NOISE_KEY_LEN],
    uint8_t x_pub[static NOISE_KEY_LEN], const uint8_t ed_sk[static 64]);
/* A peer's X25519 static public key from its Ed25519 public key; CUSTODY_ECRYPTO if invalid. */
int noise_pub_from_ed25519(uint8_t x_pub[static NOISE_KEY_LEN], const uint8_t ed_pk[static 32]);

#endif
