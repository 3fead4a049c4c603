/*
 * Data-key epochs: the archive data key (epoch 0) is followed by later keys, each sealed to the
 * offices that were not revoked when it was made. Keys wrapped since a rotation name their epoch.
 */
#ifndef EPOCHS_H
#define EPOCHS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct archive;

struct epoch {
	uint32_t	 num;			/* 1, 2, ... (0 is the archive data key) */
	uint8_t		 creator[32];		/* the office that made it */
};

struct epochs {
	struct epoch	*v;
	uint8_t		*keys;			/* 32 bytes per epoch, sodium_malloc */
	size_t		 n;
};

int epochs_load(struct archive *, char **cause);
void epochs_free(struct epochs *);
const struct epoch *epochs_newest(const struct archive *);
void epochs_wrap(struct archive *, uint8_t *out, const uint8_t key[static 32], const char *ad);
int epochs_unwrap(struct archive *, uint8_t key[static 32], const uint8_t *in, size_t len,
    const char *ad);
int epochs_rotate(struct archive *, const uint8_t (*to)[32], size_t nto, json_t **record);
int epochs_accept(struct archive *, const json_t *record, const uint8_t signer[static 32]);

#endif
