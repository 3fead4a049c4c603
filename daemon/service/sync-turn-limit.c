/*
 * The bounds of a turn served (sync-turn-limit.h): a count of requests, a count per blob range
 * in a small hash table keyed by the blob's name and offset, and a clock.
 */
#include <stdlib.h>
#include <string.h>

#include "sync-turn-limit.h"

struct turn_range {
	char		name[SHA256_HEX_LEN + 1];	/* "" : a free slot */
	uint64_t	offset;
	unsigned	count;
};

void
turn_limit_init(struct turn_limit *l, uint64_t rate)
{
	memset(l, 0, sizeof *l);
	l->rate = rate > 0 && rate < TURN_RATE_MAX ? rate : TURN_RATE_MAX;
	clock_gettime(CLOCK_MONOTONIC, &l->start);
}

void
turn_limit_free(struct turn_limit *l)
{
	free(l->ranges);
	l->ranges = NULL;
	l->nranges = l->cap = 0;
}

/* FNV-1a of a range's name and offset. */
static size_t
turn_limit_hash(const char *name, uint64_t offset)
{
	uint64_t h = 14695981039346656037ull;
	int i;

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)*name) * 1099511628211ull;
	for (i = 0; i < 8; i++, offset >>= 8)
		h = (h ^ (offset & 0xff)) * 1099511628211ull;
	return (size_t)h;
}

/* The slot of a range: where it is, or the free one where it goes. */
static struct turn_range *
turn_limit_slot(struct turn_range *t, size_t cap, const char *name, uint64_t offset)
{
	size_t i = turn_limit_hash(name, offset) & (cap - 1);

	while (t[i].name[0] != '\0' && (t[i].offset != offset || strcmp(t[i].name, name) != 0))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

/* Room for one more range (the table at most half full). */
static int
turn_limit_grow(struct turn_limit *l)
{
	struct turn_range *t, *r;
	size_t cap = l->cap ? l->cap * 2 : 64, i;

	if ((l->nranges + 1) * 2 <= l->cap)
		return 0;
	if ((t = calloc(cap, sizeof *t)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "out of memory counting its requests");
	for (i = 0; i < l->cap; i++)
		if (l->ranges[i].name[0] != '\0') {
			r = turn_limit_slot(t, cap, l->ranges[i].name, l->ranges[i].offset);
			*r = l->ranges[i];
		}
	free(l->ranges);
	l->ranges = t;
	l->cap = cap;
	return 0;
}

/* One more time a blob range is asked for. */
static int
turn_limit_range(struct turn_limit *l, const Custody__BlobRequest *m)
{
	struct turn_range *r;
	int error;

	if (strlen(m->name) != SHA256_HEX_LEN)	/* sync-serve.c refuses it */
		return 0;
	if ((error = turn_limit_grow(l)) < 0)
		return error;
	r = turn_limit_slot(l->ranges, l->cap, m->name, m->offset);
	if (r->name[0] == '\0') {
		memcpy(r->name, m->name, sizeof r->name);
		r->offset = m->offset;
		l->nranges++;
	}
	if (++r->count > TURN_RANGE_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "it asked for blob %.16s at offset %llu more than "
		    "%d times in its turn", m->name, (unsigned long long)m->offset,
		    TURN_RANGE_MAX);
	return 0;
}

int
turn_limit_check(struct turn_limit *l, const Envelope *msg, uint64_t served)
{
	struct timespec now;
	uint64_t allowed;

	if (++l->requests > TURN_REQUESTS_MAX)
		return custody_fail(CUSTODY_ETOOBIG, "it asked more than %u times in its turn",
		    TURN_REQUESTS_MAX);
	clock_gettime(CLOCK_MONOTONIC, &now);
	allowed = TURN_TIME_BASE + served / l->rate;
	if (now.tv_sec - l->start.tv_sec > 0 &&
	    (uint64_t)(now.tv_sec - l->start.tv_sec) > allowed)
		return custody_fail(CUSTODY_ETOOBIG, "its turn passed %llu seconds (%llu bytes "
		    "served)", (unsigned long long)allowed, (unsigned long long)served);
	if (msg->body_case == CUSTODY__ENVELOPE__BODY_BLOB_REQUEST)
		return turn_limit_range(l, msg->blob_request);
	return 0;
}
