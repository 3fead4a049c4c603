/* A set of git object ids, for walks that must visit each object once. */
#ifndef CUSTODY_OIDSET_H
#define CUSTODY_OIDSET_H

#include <git2.h>

struct oidset {
	git_oid	*slots;
	size_t	 n, cap;
};

/* Add oid; returns 1 if added, 0 if it was there, <0 on allocation failure. */
int oidset_add(struct oidset *, const git_oid *);
void oidset_free(struct oidset *);

#endif
