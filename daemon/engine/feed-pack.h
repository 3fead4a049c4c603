/* The objects of one large commit, collected in memory and written as one stored pack. */
#ifndef CUSTODY_FEED_PACK_H
#define CUSTODY_FEED_PACK_H

#include <git2.h>

struct archive;

/* A new odb backend collecting what is written to it; add it at the highest priority. */
int feed_pack_new(git_odb_backend **out, const struct archive *);
/* Write what it holds as one pack into repo's objects/pack; durable after archive_sync(). */
int feed_pack_install(git_repository *repo, git_odb_backend *);

#endif
