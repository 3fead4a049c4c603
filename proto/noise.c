/*
 * Noise (revision 34) with 25519, ChaChaPoly and BLAKE2b: the CipherState and SymmetricState
 * objects, HMAC/HKDF over BLAKE2b, transport messages and key helpers. The handshake itself is
 * in noise-hs.c.
 *
 * Transport messages, which carry the bulk of a sync (a blob's every byte), are sealed and
 * opened with libcrypto's ChaCha20-Poly1305: the same AEAD (RFC 8439) as libsodium's, byte for
 * byte, but with AVX-512 code that moves 3.9 GB/s here against 1.3 GB/s in libsodium 1.0.18,
 * as for SHA-256. The handshake's few bytes stay with libsodium.
 */
#include <string.h>
#include <sys/uio.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "custody/common.h"
#include "custody/noise.h"
#include "noise-int.h"

#define NOISE_BLOCK_LEN 128	/* BLAKE2b's block length: HMAC's B */
#define NOISE_NONCE_LEN 12	/* crypto_aead_chacha20poly1305_IETF_NPUBBYTES */

static const uint8_t noise_empty[1];

/* HMAC-BLAKE2b (RFC 2104) keyed with a HASHLEN key, over d1 || d2. */
static void
noise_hmac(uint8_t out[static NOISE_HASH_LEN], const uint8_t key[static NOISE_HASH_LEN],
    const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2)
{
	crypto_generichash_state st;
	uint8_t pad[NOISE_BLOCK_LEN], inner[NOISE_HASH_LEN];
	size_t i;

	memset(pad, 0x36, sizeof pad);
	for (i = 0; i < NOISE_HASH_LEN; i++)
		pad[i] ^= key[i];
	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_update(&st, pad, sizeof pad);
	if (l1 > 0)
		crypto_generichash_update(&st, d1, l1);
	if (l2 > 0)
		crypto_generichash_update(&st, d2, l2);
	crypto_generichash_final(&st, inner, sizeof inner);

	memset(pad, 0x5c, sizeof pad);
	for (i = 0; i < NOISE_HASH_LEN; i++)
		pad[i] ^= key[i];
	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_update(&st, pad, sizeof pad);
	crypto_generichash_update(&st, inner, sizeof inner);
	crypto_generichash_final(&st, out, NOISE_HASH_LEN);

	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
	sodium_memzero(&st, sizeof st);
}

/* HKDF(ck, ikm, 2): o1 may alias ck. */
static void
noise_hkdf2(uint8_t o1[static NOISE_HASH_LEN], uint8_t o2[static NOISE_HASH_LEN],
    const uint8_t ck[static NOISE_HASH_LEN], const uint8_t *ikm, size_t ikm_len)
{
	static const uint8_t one = 0x01, two = 0x02;
	uint8_t tk[NOISE_HASH_LEN];

	noise_hmac(tk, ck, ikm, ikm_len, NULL, 0);
	noise_hmac(o1, tk, &one, 1, NULL, 0);
	noise_hmac(o2, tk, o1, NOISE_HASH_LEN, &two, 1);
	sodium_memzero(tk, sizeof tk);
}

/* The ChaChaPoly nonce: 32 bits of zeros, then n as 64-bit little-endian. */
static void
noise_nonce(uint8_t nonce[static NOISE_NONCE_LEN], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptWithAd: out gets len (+ NOISE_TAG_LEN with a key) bytes. */
static int
noise_cipher_seal(struct noise_cipher *c, uint8_t *out, const uint8_t *ad, size_t ad_len,
    const uint8_t *pt, size_t len)
{
	uint8_t nonce[NOISE_NONCE_LEN];

	if (!c->has_key) {
		if (len > 0)
			memmove(out, pt, len);
		return 0;
	}
	if (c->n == UINT64_MAX)
		return custody_fail(CUSTODY_EPROTO, "noise: nonces used up");
	noise_nonce(nonce, c->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, len > 0 ? pt : noise_empty, len,
	    ad, ad_len, NULL, nonce, c->k);
	c->n++;
	return 0;
}

/* DecryptWithAd: out gets len (- NOISE_TAG_LEN with a key) bytes; n advances only on success. */
static int
noise_cipher_open(struct noise_cipher *c, uint8_t *out, const uint8_t *ad, size_t ad_len,
    const uint8_t *ct, size_t len)
{
	uint8_t nonce[NOISE_NONCE_LEN];

	if (!c->has_key) {
		if (len > 0)
			memmove(out, ct, len);
		return 0;
	}
	if (c->n == UINT64_MAX)
		return custody_fail(CUSTODY_EPROTO, "noise: nonces used up");
	if (len < NOISE_TAG_LEN)
		return custody_fail(CUSTODY_EINVAL, "noise: message shorter than a tag");
	noise_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len, ad, ad_len,
	    nonce, c->k) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "noise: message does not authenticate");
	c->n++;
	return 0;
}

/*
 * A new transport cipher with key k and nonce 0, in guarded memory. Its libcrypto context holds
 * no key between messages (noise_transport sets it each time and wipes it after).
 */
static int
noise_cipher_new(struct noise_cipher **out, const uint8_t k[static NOISE_KEY_LEN])
{
	struct noise_cipher *c;

	*out = NULL;
	if (sodium_init() < 0 || (c = sodium_malloc(sizeof *c)) == NULL)
		return CUSTODY_ENOMEM;
	memset(c, 0, sizeof *c);
	memcpy(c->k, k, NOISE_KEY_LEN);
	c->has_key = true;
	if ((c->evp = EVP_CIPHER_CTX_new()) == NULL) {
		noise_cipher_free(c);
		return CUSTODY_ENOMEM;
	}
	*out = c;
	return 0;
}

/* Wipe and free a cipher (sodium_free zeroes the memory, EVP_CIPHER_CTX_free its context). */
void
noise_cipher_free(struct noise_cipher *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->evp);
	sodium_memzero(c, sizeof *c);
	sodium_free(c);
}

/*
 * Seal (enc) or open one transport message of len bytes with nonce n, no associated data,
 * taken from the nin pieces of in: sealing writes len + NOISE_TAG_LEN bytes to out; opening
 * len - NOISE_TAG_LEN, wiped unless the tag (the last NOISE_TAG_LEN bytes) authenticates. out
 * may be the (one) input. 0 or CUSTODY_ECRYPTO; the nonce is the caller's to advance.
 */
static int
noise_transport(struct noise_cipher *c, int enc, uint8_t *out, const struct iovec *in, int nin,
    size_t len)
{
	uint8_t nonce[NOISE_NONCE_LEN], tag[NOISE_TAG_LEN];
	size_t plen = enc ? len : len - NOISE_TAG_LEN, done = 0, n, t;
	int i, ol, ok;

	if (c->evp == NULL)
		return custody_fail(CUSTODY_EINVAL, "noise: not a transport cipher");
	noise_nonce(nonce, c->n);
	ok = EVP_CipherInit_ex(c->evp, EVP_chacha20_poly1305(), NULL, c->k, nonce, enc) == 1;
	for (i = 0; ok && i < nin && done < len; i++) {
		n = in[i].iov_len < len - done ? in[i].iov_len : len - done;
		t = done >= plen ? 0 : n < plen - done ? n : plen - done;	/* text, then tag */
		if (t > 0)
			ok = EVP_CipherUpdate(c->evp, out + done, &ol, in[i].iov_base, (int)t) == 1 &&
			    (size_t)ol == t;
		if (!enc && n > t)
			memcpy(tag + (done + t - plen), (const uint8_t *)in[i].iov_base + t, n - t);
		done += n;
	}
	ok = ok && done == len;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_AEAD_SET_TAG, NOISE_TAG_LEN, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c->evp, out + plen, &ol) == 1 && ol == 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_AEAD_GET_TAG, NOISE_TAG_LEN,
		    out + plen) == 1;
	EVP_CIPHER_CTX_reset(c->evp);	/* no key left in libcrypto's memory */
	if (!ok && !enc && plen > 0)
		sodium_memzero(out, plen);
	if (!ok)
		return custody_fail(CUSTODY_ECRYPTO, enc ? "noise: cannot seal a message" :
		    "noise: message does not authenticate");
	return 0;
}

/* Move the nonce forward to n. */
int
noise_cipher_set_nonce(struct noise_cipher *c, uint64_t n)
{
	if (n < c->n)
		return custody_fail(CUSTODY_EINVAL, "noise: nonce may only move forward");
	c->n = n;
	return 0;
}

/* Encrypt one transport message into out (len + NOISE_TAG_LEN bytes). */
int
noise_encrypt_to(struct noise_cipher *c, uint8_t *out, const void *pt, size_t len)
{
	int error;

	if (pt == NULL && len > 0)
		return custody_fail(CUSTODY_EINVAL, "noise: no plaintext bytes");
	if (len > NOISE_MAX_PAYLOAD)
		return custody_fail(CUSTODY_ETOOBIG, "noise: payload of %zu bytes exceeds %d",
		    len, NOISE_MAX_PAYLOAD);
	if (c->n == UINT64_MAX)
		return custody_fail(CUSTODY_EPROTO, "noise: nonces used up");
	if ((error = noise_transport(c, 1, out, &(struct iovec){ (void *)(uintptr_t)pt, len }, 1,
	    len)) < 0)
		return error;
	c->n++;
	return 0;
}

/* Decrypt the next transport message into out (len - NOISE_TAG_LEN bytes) if it authenticates. */
int
noise_decrypt_to(struct noise_cipher *c, uint8_t *out, const uint8_t *ct, size_t len)
{
	return noise_decrypt_iov(c, out, &(struct iovec){ (void *)(uintptr_t)ct, len }, 1, len);
}

/* noise_decrypt_to of a message of len bytes lying in the nin pieces of ct. */
int
noise_decrypt_iov(struct noise_cipher *c, uint8_t *out, const struct iovec *ct, int nin,
    size_t len)
{
	int error;

	if (len < NOISE_TAG_LEN || len > NOISE_MAX_MSG)
		return custody_fail(CUSTODY_EINVAL, "noise: transport message of %zu bytes", len);
	if (c->n == UINT64_MAX)
		return custody_fail(CUSTODY_EPROTO, "noise: nonces used up");
	if ((error = noise_transport(c, 0, out, ct, nin, len)) < 0)
		return error;
	c->n++;
	return 0;
}

/* Encrypt one transport message, appended to out. */
int
noise_encrypt(struct noise_cipher *c, struct cbuf *out, const void *pt, size_t len)
{
	int error;

	if (len > NOISE_MAX_PAYLOAD)
		return custody_fail(CUSTODY_ETOOBIG, "noise: payload of %zu bytes exceeds %d",
		    len, NOISE_MAX_PAYLOAD);
	if ((error = cbuf_reserve(out, len + NOISE_TAG_LEN)) < 0)
		return error;
	if ((error = noise_encrypt_to(c, out->data + out->len, pt, len)) < 0)
		return error;
	out->len += len + NOISE_TAG_LEN;
	out->data[out->len] = '\0';
	return 0;
}

/* Decrypt the next transport message, plaintext appended to out once it authenticates. */
int
noise_decrypt(struct noise_cipher *c, struct cbuf *out, const uint8_t *ct, size_t len)
{
	int error;

	if (len < NOISE_TAG_LEN || len > NOISE_MAX_MSG)
		return custody_fail(CUSTODY_EINVAL, "noise: transport message of %zu bytes", len);
	if ((error = cbuf_reserve(out, len - NOISE_TAG_LEN)) < 0)
		return error;
	if ((error = noise_decrypt_to(c, out->data + out->len, ct, len)) < 0)
		return error;
	out->len += len - NOISE_TAG_LEN;
	out->data[out->len] = '\0';
	return 0;
}

/* InitializeSymmetric: h is the name zero-padded, or its hash when longer than HASHLEN. */
void
noise_sym_init(struct noise_sym *sym, const char *name)
{
	size_t len = strlen(name);

	memset(sym, 0, sizeof *sym);
	if (len <= NOISE_HASH_LEN)
		memcpy(sym->h, name, len);
	else
		crypto_generichash(sym->h, NOISE_HASH_LEN, (const uint8_t *)name, len, NULL, 0);
	memcpy(sym->ck, sym->h, NOISE_HASH_LEN);
}

/* MixHash: h = HASH(h || data). */
void
noise_sym_mix_hash(struct noise_sym *sym, const void *data, size_t len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_update(&st, sym->h, NOISE_HASH_LEN);
	if (len > 0)
		crypto_generichash_update(&st, data, len);
	crypto_generichash_final(&st, sym->h, NOISE_HASH_LEN);
}

/* MixKey: ck, temp_k = HKDF(ck, ikm, 2); k = temp_k truncated to 32 bytes, n = 0. */
void
noise_sym_mix_key(struct noise_sym *sym, const uint8_t ikm[static NOISE_KEY_LEN])
{
	uint8_t tk[NOISE_HASH_LEN];

	noise_hkdf2(sym->ck, tk, sym->ck, ikm, NOISE_KEY_LEN);
	memcpy(sym->cs.k, tk, NOISE_KEY_LEN);
	sym->cs.n = 0;
	sym->cs.has_key = true;
	sodium_memzero(tk, sizeof tk);
}

/* What EncryptAndHash adds: a tag once there is a key. */
size_t
noise_sym_overhead(const struct noise_sym *sym)
{
	return sym->cs.has_key ? NOISE_TAG_LEN : 0;
}

/* EncryptAndHash: encrypt with h as associated data, then hash the ciphertext. */
int
noise_sym_encrypt_hash(struct noise_sym *sym, uint8_t *out, const uint8_t *pt, size_t len)
{
	size_t ct_len = len + noise_sym_overhead(sym);
	int error;

	if ((error = noise_cipher_seal(&sym->cs, out, sym->h, NOISE_HASH_LEN, pt, len)) < 0)
		return error;
	noise_sym_mix_hash(sym, out, ct_len);
	return 0;
}

/* DecryptAndHash: decrypt with h as associated data, then hash the ciphertext. */
int
noise_sym_decrypt_hash(struct noise_sym *sym, uint8_t *out, const uint8_t *ct, size_t len)
{
	int error;

	if ((error = noise_cipher_open(&sym->cs, out, sym->h, NOISE_HASH_LEN, ct, len)) < 0)
		return error;
	noise_sym_mix_hash(sym, ct, len);
	return 0;
}

/* Split: two ciphers from HKDF(ck, zerolen, 2), each key truncated to 32 bytes. */
int
noise_sym_split(struct noise_sym *sym, struct noise_cipher **c1, struct noise_cipher **c2)
{
	uint8_t k1[NOISE_HASH_LEN], k2[NOISE_HASH_LEN];
	int error;

	*c1 = *c2 = NULL;
	noise_hkdf2(k1, k2, sym->ck, NULL, 0);
	sodium_memzero(sym->ck, sizeof sym->ck);
	sodium_memzero(&sym->cs, sizeof sym->cs);
	if ((error = noise_cipher_new(c1, k1)) < 0 || (error = noise_cipher_new(c2, k2)) < 0) {
		noise_cipher_free(*c1);
		*c1 = NULL;
	}
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	return error;
}

/* X25519, refusing low-order public keys (the spec allows signalling the all-zero output). */
int
noise_dh(uint8_t out[static NOISE_KEY_LEN], const uint8_t priv[static NOISE_KEY_LEN],
    const uint8_t pub[static NOISE_KEY_LEN])
{
	if (crypto_scalarmult(out, priv, pub) != 0) {
		sodium_memzero(out, NOISE_KEY_LEN);
		return custody_fail(CUSTODY_ECRYPTO, "noise: low-order public key");
	}
	return 0;
}

/* The public key of an X25519 private key. */
int
noise_public_key(uint8_t pub[static NOISE_KEY_LEN], const uint8_t priv[static NOISE_KEY_LEN])
{
	if (crypto_scalarmult_base(pub, priv) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "noise: invalid private key");
	return 0;
}

/* A fresh random X25519 key pair. */
int
noise_keypair(uint8_t pub[static NOISE_KEY_LEN], uint8_t priv[static NOISE_KEY_LEN])
{
	if (sodium_init() < 0)
		return CUSTODY_ERR;
	randombytes_buf(priv, NOISE_KEY_LEN);
	return noise_public_key(pub, priv);
}

/* The X25519 key pair of an Ed25519 secret key; its embedded public key must match the seed. */
int
noise_static_from_ed25519(uint8_t x_priv[static NOISE_KEY_LEN],
    uint8_t x_pub[static NOISE_KEY_LEN], const uint8_t ed_sk[static 64])
{
	uint8_t check[NOISE_KEY_LEN];

	if (crypto_sign_ed25519_sk_to_curve25519(x_priv, ed_sk) != 0 ||
	    noise_public_key(x_pub, x_priv) < 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(check, ed_sk + 32) != 0 ||
	    sodium_memcmp(check, x_pub, NOISE_KEY_LEN) != 0) {
		sodium_memzero(x_priv, NOISE_KEY_LEN);
		return custody_fail(CUSTODY_ECRYPTO,
		    "noise: Ed25519 secret key is invalid or does not match its public key");
	}
	return 0;
}

/* The X25519 public key of an Ed25519 public key. */
int
noise_pub_from_ed25519(uint8_t x_pub[static NOISE_KEY_LEN], const uint8_t ed_pk[static 32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(x_pub, ed_pk) != 0)
		return custody_fail(CUSTODY_ECRYPTO, "noise: invalid Ed25519 public key");
	return 0;
}
