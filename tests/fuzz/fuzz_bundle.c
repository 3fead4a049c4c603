/*
 * libFuzzer harness for the bundle format (proto/bundlefmt.c). The input is parsed as a bundle's
 * plaintext in pieces (data[0] sizes them): whatever it is, the parser must not crash, and it
 * can accept nothing not signed by the header's key. The same input also drives the writer, a
 * byte an operation (feeds, packs and their bytes, blobs named by the SHA-256 of the input's
 * bytes that follow, under a fixed key): whatever the writer
 * completes, the reader must accept, seeing the same parts and bytes, and refuse once cut short
 * by one byte or with one byte flipped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/bundlefmt.h"
#include "custody/common.h"
#include "fuzz.h"

static uint8_t pk[BUNDLEFMT_KEY_LEN], sk[BUNDLEFMT_SK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32] = { 42 };

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

/* What the reader (or the writer's driver) saw: a running hash of events and bytes. */
struct trace {
	crypto_generichash_state	h;
	uint64_t			parts, bytes;
};

static void
trace_event(struct trace *t, char what, const void *p, size_t n)
{
	crypto_generichash_update(&t->h, (const uint8_t *)&what, 1);
	crypto_generichash_update(&t->h, p, n);
}

static int
t_header(void *arg, const struct bundlefmt_header *h)
{
	trace_event(arg, 'H', h->sender, sizeof h->sender);
	return 0;
}

static int
t_feed(void *arg, const struct bundlefmt_feed *f)
{
	trace_event(arg, 'F', f->office, sizeof f->office);
	trace_event(arg, 'f', &f->seq, sizeof f->seq);
	return 0;
}

static int
t_part(void *arg, const uint8_t *name, uint64_t len)
{
	((struct trace *)arg)->parts++;
	trace_event(arg, name ? 'B' : 'P', &len, sizeof len);
	if (name != NULL)
		trace_event(arg, 'n', name, BUNDLEFMT_NAME_LEN);
	return 0;
}

static int
t_data(void *arg, const void *p, size_t n)
{
	((struct trace *)arg)->bytes += n;
	/* the bytes, untagged: not how they were cut */
	crypto_generichash_update(&((struct trace *)arg)->h, p, n);
	return 0;
}

static int
t_end(void *arg)
{
	trace_event(arg, 'E', NULL, 0);
	return 0;
}

static const struct bundlefmt_cbs cbs = { t_header, t_feed, t_part, t_data, t_end };

/* Parse p[0..n) in pieces of step bytes; 0 when the bundle is accepted. */
static int
parse(const uint8_t *p, size_t n, size_t step, struct trace *t)
{
	struct bundlefmt_reader *r;
	size_t i;
	int error = 0;

	crypto_generichash_init(&t->h, NULL, 0, 32);
	t->parts = t->bytes = 0;
	if (bundlefmt_reader_new(&r, &cbs, t) < 0)
		abort();
	for (i = 0; i < n && error == 0; i += step)
		error = bundlefmt_reader_feed(r, p + i, n - i < step ? n - i : step);
	if (error == 0)
		error = bundlefmt_reader_finish(r);
	bundlefmt_reader_free(r);
	return error;
}

static int
out_cb(void *arg, const void *p, size_t n)
{
	return cbuf_put(arg, p, n);
}

/* Drive the writer from data; 0 with out the bundle when it completed. */
static int
drive(const uint8_t *data, size_t size, struct cbuf *out, struct trace *t)
{
	struct bundlefmt_header h = { .version = BUNDLEFMT_VERSION };
	struct bundlefmt_feed f = { 0 };
	struct bundlefmt_writer *w;
	uint8_t name[BUNDLEFMT_NAME_LEN] = { 0 };
	uint64_t len, left = 0;
	size_t i, n;
	int error = 0;

	crypto_generichash_init(&t->h, NULL, 0, 32);
	memcpy(h.sender, pk, sizeof pk);
	if (bundlefmt_writer_new(&w, &h, sk, out_cb, out) < 0)
		abort();
	trace_event(t, 'H', h.sender, sizeof h.sender);
	for (i = 0; i < size && error == 0; i++) {
		switch (data[i] & 3) {
		case 0:	/* a feed of 1 to 4 packs */
			f.office[0]++;
			f.seq = f.base_seq + 1 + (data[i] >> 4);
			f.head[0] = 1;
			f.npacks = 1 + ((data[i] >> 2) & 3);
			if ((error = bundlefmt_write_feed(w, &f)) == 0) {
				trace_event(t, 'F', f.office, sizeof f.office);
				trace_event(t, 'f', &f.seq, sizeof f.seq);
			}
			break;
		case 1:	/* a pack of len bytes; its bytes come by op 3 */
			len = data[i] >> 2;
			if (len == 0)
				len = 1;
			if ((error = bundlefmt_write_part(w, NULL, len)) == 0) {
				trace_event(t, 'P', &len, sizeof len);
				left = len;
			}
			break;
		case 2:	/* a blob of the next len bytes of the input, named by their SHA-256 */
			n = (size_t)(data[i] >> 2);
			if (n > size - i - 1)
				n = size - i - 1;
			len = n;
			crypto_hash_sha256(name, data + i + 1, n);
			if ((error = bundlefmt_write_part(w, name, len)) == 0 &&
			    (n == 0 || (error = bundlefmt_write_data(w, data + i + 1, n)) == 0)) {
				trace_event(t, 'B', &len, sizeof len);
				trace_event(t, 'n', name, BUNDLEFMT_NAME_LEN);
				crypto_generichash_update(&t->h, data + i + 1, n);
				trace_event(t, 'E', NULL, 0);
			}
			i += n;
			break;
		case 3:	/* bytes of the part: the next ones of the input */
			n = (size_t)(data[i] >> 2) + 1;
			if (n > size - i - 1)
				n = size - i - 1;
			if ((error = bundlefmt_write_data(w, data + i + 1, n)) == 0) {
				crypto_generichash_update(&t->h, data + i + 1, n);
				if ((left -= n) == 0)	/* the part's last byte */
					trace_event(t, 'E', NULL, 0);
			}
			i += n;
			break;
		}
	}
	if (error == 0)
		error = bundlefmt_writer_finish(w);
	bundlefmt_writer_free(w);
	return error;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace t, u;
	struct cbuf out = { 0 };
	uint8_t a[32], b[32];
	size_t cut;

	if (size < 1)
		return 0;
	/* any bytes: no crash, no acceptance without a signature by the header's key */
	if (parse(data + 1, size - 1, (size_t)data[0] + 1, &t) == 0 &&
	    (size - 1 < 81 + 64 || memcmp(data + 1 + 9, pk, sizeof pk) != 0))
		abort();
	/* what the writer completes, the reader accepts as written, and refuses when cut */
	if (drive(data, size, &out, &t) == 0) {
		if (parse(out.data, out.len, (size_t)data[0] + 1, &u) != 0)
			abort();
		crypto_generichash_final(&t.h, a, sizeof a);
		crypto_generichash_final(&u.h, b, sizeof b);
		if (memcmp(a, b, sizeof a) != 0)
			abort();	/* the reader saw other parts or bytes than were written */
		cut = size > 1 ? data[1] % out.len : 0;
		if (parse(out.data, cut, 7, &u) == 0)
			abort();
		if (out.len > 0) {
			out.data[data[0] % out.len] ^= 0x80;
			if (parse(out.data, out.len, 64, &u) == 0)
				abort();
		}
	}
	cbuf_free(&out);
	return 0;
}
