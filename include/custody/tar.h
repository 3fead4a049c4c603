/* A minimal POSIX ustar/pax archive writer and a strict streaming reader. */
#ifndef CUSTODY_TAR_H
#define CUSTODY_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "custody/common.h"

#define TAR_BLOCK	512
#define TAR_MAX_NAME	4096		/* longest entry name accepted */
#define TAR_MAX_PAX	(64 * 1024)	/* largest pax extended header accepted */

/* Entry types: only regular files and directories exist for us. */
enum {
	TAR_FILE = 0,
	TAR_DIR = 1,
};

/* One archive member. name is relative, '/'-separated, without a trailing '/'. */
struct tar_entry {
	char		*name;
	uint64_t	 size;		/* 0 for directories */
	int		 type;		/* TAR_FILE or TAR_DIR */
	uint32_t	 mode;		/* permission bits only */
	int64_t		 mtime;		/* seconds since the epoch */
};

/* Check an entry name: relative, no empty, "." or ".." component. NULL when fine. */
const char *tar_name_check(const char *name);

/* ---- writer ---- */

/* Where archive bytes go: 0 or a negative CUSTODY_E* code. */
typedef int (*tar_write_fn)(void *arg, const void *p, size_t n);

struct tar_writer {
	tar_write_fn	 fn;
	void		*arg;
	uint64_t	 left;		/* data bytes the current entry still owes */
	uint64_t	 size;		/* size of the current entry */
	int		 finished;
	int		 failed;
};

void tar_writer_init(struct tar_writer *w, tar_write_fn fn, void *arg);
/* Start an entry (a pax header precedes it when the name is over 100 bytes
 * or the size is 8 GiB or more). A file's size bytes must follow with
 * tar_write_data before the next entry. */
int tar_write_entry(struct tar_writer *w, const char *name, int type,
    uint64_t size, uint32_t mode, int64_t mtime);
/* Write part of the current file's data; padding follows the last byte. */
int tar_write_data(struct tar_writer *w, const void *p, size_t n);
/* End the archive with two zero blocks. */
int tar_write_finish(struct tar_writer *w);
/* A tar_write_fn writing to the file descriptor *(int *)arg. */
int tar_write_fd(void *arg, const void *p, size_t n);

/* ---- reader ---- */

/* What the reader calls; a negative return stops it with that code. */
struct tar_reader_cb {
	int	(*entry)(void *arg, const struct tar_entry *e);
	int	(*data)(void *arg, const void *p, size_t n);
	int	(*end)(void *arg);	/* after an entry's last data byte; may be NULL */
};

struct tar_reader;

/* A reader refusing entries larger than max_size bytes (0: no limit). */
int tar_reader_new(struct tar_reader **out, const struct tar_reader_cb *cb,
    void *arg, uint64_t max_size);
/* Feed archive bytes in pieces of any size. After an error every call fails. */
int tar_reader_feed(struct tar_reader *r, const void *p, size_t n);
/* The input ended: CUSTODY_EINVAL unless the end-of-archive blocks were seen. */
int tar_reader_finish(struct tar_reader *r);
void tar_reader_free(struct tar_reader *r);

#endif
