/*
 * Strings seen before, in bounded memory (custody/seen.h): a blocked Bloom filter, every bit
 * of a string in one 64-byte block (one cache line), chosen by a keyed SipHash so that no file
 * can be made to fill one block on purpose; the suspects in a table of their own.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody/seen.h"

#define SEEN_WORDS 8		/* 64-bit words of a block */
#define SEEN_K 8		/* bits set for a string, all in its block */

struct seen_suspect {
	char		*s;		/* NULL: the slot is free */
	size_t		 n;
	uint64_t	 h;
	uint64_t	 first;		/* the second look's first position, or 0 */
};

struct seen {
	uint8_t			 key[crypto_shorthash_siphashx24_KEYBYTES];
	uint64_t		*bits;
	size_t			 blocks;	/* a power of two */
	struct seen_suspect	*sus;
	size_t			 nsus, cap;	/* cap 0 or a power of two */
	size_t			 held;		/* bytes of the suspects' strings */
};

int
seen_new(struct seen **out, size_t bytes)
{
	struct seen *t;
	size_t blocks = 1;

	while (blocks * 2 * SEEN_WORDS * 8 <= bytes)
		blocks *= 2;
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->bits = calloc(blocks * SEEN_WORDS, sizeof *t->bits)) == NULL) {
		free(t);
		return CUSTODY_ENOMEM;
	}
	t->blocks = blocks;
	randombytes_buf(t->key, sizeof t->key);
	*out = t;
	return 0;
}

/* The two halves of s's keyed hash: the first picks the block, the second the bits. */
static void
seen_hash(const struct seen *t, const char *s, size_t n, uint64_t h[2])
{
	uint8_t out[crypto_shorthash_siphashx24_BYTES];

	crypto_shorthash_siphashx24(out, (const uint8_t *)s, n, t->key);
	memcpy(h, out, sizeof out);
}

/* The slot of the suspect with hash h and bytes s: its own, or the free one where it goes. */
static size_t
seen_slot(const struct seen *t, uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = (size_t)h & (t->cap - 1); t->sus[i].s != NULL; i = (i + 1) & (t->cap - 1))
		if (t->sus[i].h == h && t->sus[i].n == n && memcmp(t->sus[i].s, s, n) == 0)
			break;
	return i;
}

/* Keep s as a suspect, once. */
static int
seen_suspect(struct seen *t, uint64_t h, const char *s, size_t n)
{
	struct seen_suspect *old = t->sus;
	size_t i, oldcap = t->cap;

	if (2 * (t->nsus + 1) > t->cap) {
		t->cap = oldcap ? 2 * oldcap : 64;
		if ((t->sus = calloc(t->cap, sizeof *t->sus)) == NULL) {
			t->sus = old;
			t->cap = oldcap;
			return CUSTODY_ENOMEM;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].s != NULL)
				t->sus[seen_slot(t, old[i].h, old[i].s, old[i].n)] = old[i];
		free(old);
	}
	i = seen_slot(t, h, s, n);
	if (t->sus[i].s != NULL)
		return 0;
	if ((t->sus[i].s = malloc(n + 1)) == NULL)
		return CUSTODY_ENOMEM;
	memcpy(t->sus[i].s, s, n);
	t->sus[i].s[n] = '\0';
	t->sus[i].n = n;
	t->sus[i].h = h;
	t->nsus++;
	t->held += n + 1;
	return 0;
}

int
seen_note(struct seen *t, const char *s, size_t n)
{
	uint64_t h[2], *block, missing = 0, bit;
	int j, error;

	seen_hash(t, s, n, h);
	block = t->bits + (h[0] & (t->blocks - 1)) * SEEN_WORDS;
	for (j = 0; j < SEEN_K; j++) {
		/* 9 bits each: seven from the second half, the last from the top of the first */
		bit = (j < 7 ? h[1] >> (9 * j) : h[0] >> 55) & (SEEN_WORDS * 64 - 1);
		missing |= ~block[bit / 64] & (uint64_t)1 << (bit % 64);
		block[bit / 64] |= (uint64_t)1 << (bit % 64);
	}
	if (missing != 0)
		return 0;
	if ((error = seen_suspect(t, h[0], s, n)) < 0)
		return error;
	return 1;
}

size_t
seen_suspects(const struct seen *t)
{
	return t->nsus;
}

uint64_t
seen_first(struct seen *t, const char *s, size_t n, uint64_t pos)
{
	struct seen_suspect *e;
	uint64_t h[2];

	if (t->nsus == 0)
		return 0;
	seen_hash(t, s, n, h);
	e = &t->sus[seen_slot(t, h[0], s, n)];
	if (e->s == NULL)
		return 0;
	if (e->first == 0)
		e->first = pos;
	return e->first == pos ? 0 : e->first;
}

size_t
seen_bytes(const struct seen *t)
{
	return sizeof *t + t->blocks * SEEN_WORDS * sizeof *t->bits +
	    t->cap * sizeof *t->sus + t->held;
}

void
seen_free(struct seen *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->cap; i++)
		free(t->sus[i].s);
	free(t->sus);
	free(t->bits);
	free(t);
}
