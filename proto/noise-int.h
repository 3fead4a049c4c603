/* Noise internals shared by proto/noise.c (CipherState, SymmetricState) and proto/noise-hs.c. */
#ifndef CUSTODY_NOISE_INT_H
#define CUSTODY_NOISE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "custody/noise.h"

/*
 * A CipherState: key k and nonce n; n == UINT64_MAX means the nonces are used up. A transport
 * cipher (from Split) also holds evp, OpenSSL's ChaCha20-Poly1305 for its messages; the
 * handshake's has none.
 */
struct noise_cipher {
	uint8_t		k[NOISE_KEY_LEN];
	uint64_t	n;
	bool		has_key;
	struct evp_cipher_ctx_st *evp;
};

/* A SymmetricState: chaining key ck, handshake hash h and the handshake's CipherState. */
struct noise_sym {
	struct noise_cipher	cs;
	uint8_t			ck[NOISE_HASH_LEN];
	uint8_t			h[NOISE_HASH_LEN];
};

/* InitializeSymmetric(protocol_name). */
void noise_sym_init(struct noise_sym *sym, const char *name);
/* MixHash(data). */
void noise_sym_mix_hash(struct noise_sym *sym, const void *data, size_t len);
/* MixKey(ikm) with a DH output. */
void noise_sym_mix_key(struct noise_sym *sym, const uint8_t ikm[static NOISE_KEY_LEN]);
/* Bytes EncryptAndHash adds to len bytes of plaintext (a tag once there is a key). */
size_t noise_sym_overhead(const struct noise_sym *sym);
/* EncryptAndHash: out gets len + noise_sym_overhead() bytes; CUSTODY_EPROTO when out of nonces. */
int noise_sym_encrypt_hash(struct noise_sym *sym, uint8_t *out, const uint8_t *pt, size_t len);
/* DecryptAndHash: out gets len - noise_sym_overhead() bytes; CUSTODY_ECRYPTO on a bad tag. */
int noise_sym_decrypt_hash(struct noise_sym *sym, uint8_t *out, const uint8_t *ct, size_t len);
/* Split(): the two transport ciphers, initiator's sending one first; ck is wiped. */
int noise_sym_split(struct noise_sym *sym, struct noise_cipher **c1, struct noise_cipher **c2);
/* X25519; CUSTODY_ECRYPTO when pub is a low-order point (all-zero output). */
int noise_dh(uint8_t out[static NOISE_KEY_LEN], const uint8_t priv[static NOISE_KEY_LEN],
    const uint8_t pub[static NOISE_KEY_LEN]);

#endif
