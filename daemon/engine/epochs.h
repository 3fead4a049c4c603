/*
 * Data-key epochs: the archive data key (epoch 0) is followed by later keys, each sealed to the
 * offices that were not revoked when it was made. Keys wrapped since a rotation name their epoch.
 */
#ifndef EPOCHS_H
#define EPOCHS_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct archive;

struct epoch {
	uint32_t	 num;			/* 1, 2, ... (0 is the archive data key) */
	uint8_t		 creator[32];		/* the office that made it */
};

struct epochs {
	pthread_mutex_t	 lock;			/* workers wrap while a sync accepts */
	struct epoch	*v;
	uint8_t		*keys;			/* 32 bytes per epoch, sodium_malloc */
	size_t		 n;
	uint8_t		(*retired)[32];		/* revoked creators: their epochs wrap nothing */
	size_t		 nretired;
};

int epochs_load(struct archive *, char **cause);
void epochs_free(struct epochs *);
/* The newest epoch held whose creator is not retired into *out: 1, or 0 when only epoch 0. */
int epochs_newest(struct archive *, struct epoch *out);
void epochs_wrap(struct archive *, uint8_t *out, const uint8_t key[static 32], const char *ad);
int epochs_unwrap(struct archive *, uint8_t key[static 32], const uint8_t *in, size_t len,
    const char *ad);
int epochs_rotate(struct archive *, const uint8_t (*to)[32], size_t nto, json_t **record);
/*
 * Add to record, an epoch this office made and holds, a copy for each office of to it has
 * none for (admitted after the rotation): 1 when it added one, 0 when none was missing.
 */
int epochs_extend(struct archive *, json_t *record, const uint8_t (*to)[32], size_t nto);
int epochs_accept(struct archive *, const json_t *record, const uint8_t signer[static 32]);
/* Whether a wrapped key names an epoch (else it is wrapped under epoch 0). */
int epochs_named(const uint8_t *wrapped);
/* How many epochs are held (besides epoch 0). */
size_t epochs_count(struct archive *);
/* 0 when the wrapped key (WRAPPED_KEY_LEN bytes) names an epoch not held, else 1. */
int epochs_held(struct archive *, const uint8_t *wrapped);
/*
 * A revoked office's epochs stay held (its records from before its cut open with them) but
 * are never again the newest: new data is not wrapped under a key it knows. In memory only:
 * epochs_after_revocations (epochs-rotate.c) retires again at every start.
 */
int epochs_retire(struct archive *, const uint8_t creator[static 32]);
/* Write keys/epochs.key again sealed to the office key new_sk (64 bytes), after a rotation. */
int epochs_reseal(struct archive *, const uint8_t *new_sk, char **cause);

/* epochs-rotate.c: rotations written to this office's feed. */
/*
 * Make the next epoch, sealed to every admitted office not revoked and to this one, and commit
 * its record; trigger (may be NULL) names the revocation that caused it. *record (may be NULL)
 * gets the record written, the caller's to free, and *seq (may be NULL) the commit holding it.
 */
int epochs_rotate_write(struct archive *, const char *trigger, json_t **record, uint64_t *seq);
/*
 * After the effective revocations may have changed: retire the revoked offices' epochs and,
 * unless this office is revoked itself, rotate once when the newest epoch held was sealed to
 * some revoked office (or is epoch 0, which every office holds). 1 when it rotated.
 */
int epochs_after_revocations(struct archive *);
/*
 * Seal each epoch this office made to the admitted offices, not revoked, that its record has
 * no copy for (admitted after the rotation), in one commit of new revisions. 1 when written.
 */
int epochs_after_admissions(struct archive *);
/*
 * A record of kind epoch that enters the index from the feed of office (key hex) at seq:
 * accepted when office made it and is not revoked before seq; else logged and left out.
 */
void epochs_indexed(struct archive *, const char *office, uint64_t seq, const json_t *doc);

#endif
