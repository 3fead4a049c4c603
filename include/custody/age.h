/*
 * age v1 (age-encryption.org/v1, c2sp.org/age) with X25519 recipients: Bech32 keys, streaming
 * encryption, and a strict streaming decryptor. Files made here decrypt with stock `age -d`, and
 * files made by `age -e -r age1...` decrypt here. Passphrase (scrypt), post-quantum hybrid and
 * plugin stanzas are recognised as well-formed stanzas and skipped; ASCII armor is not decoded
 * (armored input fails with a clear message: dearmor it with `age -d` or re-encrypt without -a).
 */
#ifndef CUSTODY_AGE_H
#define CUSTODY_AGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGE_KEY_LEN 32			/* X25519 secret or public key */
#define AGE_FILE_KEY_LEN 16
#define AGE_CHUNK_LEN 65536		/* plaintext bytes per STREAM chunk */
#define AGE_TAG_LEN 16
#define AGE_NONCE_LEN 16		/* payload nonce after the header */
#define AGE_RECIPIENT_STR_LEN 62	/* "age1" + 58 Bech32 characters */
#define AGE_IDENTITY_STR_LEN 74		/* "AGE-SECRET-KEY-1" + 58 Bech32 characters */
#define AGE_HEADER_MAX (256 * 1024)	/* longest header the decryptor accepts */

/* A recipient: an X25519 public key, written "age1...". */
struct age_recipient {
	uint8_t	pk[AGE_KEY_LEN];
};

/* An identity: an X25519 secret key ("AGE-SECRET-KEY-1...") and its public key. */
struct age_identity {
	uint8_t	sk[AGE_KEY_LEN];
	uint8_t	pk[AGE_KEY_LEN];
};

/* Receives output bytes; returns 0 or a negative CUSTODY_E* code (which stops the stream). */
typedef int (*age_write_fn)(void *arg, const void *buf, size_t len);
/* Reads up to len input bytes; returns the count, 0 at end of input, or -1 on error. */
typedef ssize_t (*age_read_fn)(void *arg, void *buf, size_t len);

/*
 * Bech32 (BIP 173, no length limit). Encode writes lower case "hrp1data+checksum" and a NUL into
 * out (outsz bytes). Decode accepts all-lower or all-upper case only; hrp gets the human-readable
 * part as written (hrpsz bytes with NUL), data gets the bytes (*len: capacity in, length out).
 */
int bech32_encode(char *out, size_t outsz, const char *hrp, const uint8_t *data, size_t len);
int bech32_decode(char *hrp, size_t hrpsz, uint8_t *data, size_t *len, const char *s,
    size_t slen);

/* A new random identity. */
int age_keygen(struct age_identity *id);
/* The identity for a given secret key (computes the public half). */
int age_identity_from_secret(struct age_identity *id, const uint8_t sk[static AGE_KEY_LEN]);
/* Parse one "AGE-SECRET-KEY-1..." string (upper case, as age-keygen writes it). */
int age_identity_parse(struct age_identity *id, const char *s, size_t len);
/* "AGE-SECRET-KEY-1..." into out (a secret: wipe it after use). */
void age_identity_format(char out[static AGE_IDENTITY_STR_LEN + 1], const struct age_identity *id);
/* The recipient that encrypts to id. */
void age_identity_recipient(struct age_recipient *r, const struct age_identity *id);
/*
 * Parse an identity file (age-keygen output): one identity per line, '#' comments and blank
 * lines ignored, CRLF accepted. *out is a sodium_malloc'd array of *n (>= 1) identities, freed
 * with age_identity_file_free. Any other line makes the whole file invalid (CUSTODY_EINVAL).
 */
int age_identity_file_parse(struct age_identity **out, size_t *n, const char *text, size_t len);
/* Read and parse an identity file (at most 64 KiB) from path. */
int age_identity_file_load(struct age_identity **out, size_t *n, const char *path);
/* Wipe and free what age_identity_file_parse returned; NULL is fine. */
void age_identity_file_free(struct age_identity *ids);

/* Parse one "age1..." recipient string (lower case). */
int age_recipient_parse(struct age_recipient *r, const char *s, size_t len);
/* "age1..." into out. */
void age_recipient_format(char out[static AGE_RECIPIENT_STR_LEN + 1], const struct age_recipient *r);

/*
 * Streaming encryption. age_writer_new writes the header (one X25519 stanza per recipient, n >= 1)
 * and the payload nonce through cb at once; age_writer_write encrypts (holding at most one 64 KiB
 * chunk); age_writer_finish writes the final chunk. A file is complete only after finish returns
 * 0. After any error the writer refuses further use. Memory is bounded (about 130 KiB).
 */
struct age_writer;
int age_writer_new(struct age_writer **out, const struct age_recipient *rcpts, size_t n,
    age_write_fn cb, void *arg);
int age_writer_write(struct age_writer *w, const void *buf, size_t len);
int age_writer_finish(struct age_writer *w);
void age_writer_free(struct age_writer *w);

/*
 * Streaming decryption. Feed the encrypted file in pieces of any size with age_reader_feed, then
 * call age_reader_finish at end of input; or let age_reader_run pull from a read callback.
 * Plaintext goes to cb one chunk at a time and only after that chunk's tag verified; the whole
 * plaintext is genuine only if finish (or run) returned 0: a truncated, extended or reordered
 * file fails there, possibly after earlier chunks were released. Errors are sticky.
 *
 * Codes, with age_reader_stage() telling where it failed:
 *   AGE_STAGE_HEADER: CUSTODY_EINVAL malformed header (or armored/unsupported input),
 *     CUSTODY_ETOOBIG header over AGE_HEADER_MAX, CUSTODY_ENOTFOUND no identity matched any
 *     stanza, CUSTODY_ECRYPTO header MAC mismatch;
 *   AGE_STAGE_PAYLOAD: CUSTODY_ECRYPTO a chunk failed to authenticate, CUSTODY_EINVAL truncated
 *     payload, missing or empty final chunk, data after the final chunk.
 * custody_error() has the details.
 */
enum age_stage {
	AGE_STAGE_HEADER,
	AGE_STAGE_PAYLOAD,
	AGE_STAGE_DONE,
};
struct age_reader;
int age_reader_new(struct age_reader **out, const struct age_identity *ids, size_t n,
    age_write_fn cb, void *arg);
int age_reader_feed(struct age_reader *r, const void *buf, size_t len);
int age_reader_finish(struct age_reader *r);
int age_reader_run(struct age_reader *r, age_read_fn rd, void *arg);
int age_reader_stage(const struct age_reader *r);
void age_reader_free(struct age_reader *r);

#endif
