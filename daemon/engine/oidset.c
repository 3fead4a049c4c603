/* Open-addressing set of git object ids (their first bytes are already uniform). */
#include <stdlib.h>
#include <string.h>

#include "custody/common.h"
#include "oidset.h"

static int
oidset_empty(const git_oid *o)
{
	static const git_oid zero;

	return memcmp(o, &zero, sizeof zero) == 0;
}

static size_t
oidset_slot(const git_oid *o, size_t cap)
{
	size_t h;

	memcpy(&h, o->id, sizeof h);
	return h & (cap - 1);
}

static int
oidset_grow(struct oidset *s)
{
	git_oid *old = s->slots;
	size_t oldcap = s->cap, i, j;

	s->cap = oldcap ? oldcap * 2 : 1024;
	if ((s->slots = calloc(s->cap, sizeof *s->slots)) == NULL) {
		s->slots = old;
		s->cap = oldcap;
		return CUSTODY_ENOMEM;
	}
	for (i = 0; i < oldcap; i++) {
		if (oidset_empty(&old[i]))
			continue;
		for (j = oidset_slot(&old[i], s->cap); !oidset_empty(&s->slots[j]);
		    j = (j + 1) & (s->cap - 1))
			;
		s->slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* Add an id. The all-zero id is never stored (git never names an object so). */
int
oidset_add(struct oidset *s, const git_oid *o)
{
	size_t j;

	if (oidset_empty(o))
		return 0;
	if ((s->n + 1) * 2 > s->cap && oidset_grow(s) < 0)
		return CUSTODY_ENOMEM;
	for (j = oidset_slot(o, s->cap); !oidset_empty(&s->slots[j]); j = (j + 1) & (s->cap - 1))
		if (git_oid_equal(&s->slots[j], o))
			return 0;
	s->slots[j] = *o;
	s->n++;
	return 1;
}

void
oidset_free(struct oidset *s)
{
	free(s->slots);
	memset(s, 0, sizeof *s);
}
