/*
 * The files of one ingest batch, gathered before anything is sent (client/ingest-list.c): the
 * paths named on the command line or in a list, directories walked recursively. Each file
 * holds its path and recorded name (a few hundred bytes): a list of 100,000 files is a few
 * tens of MiB at most, and no file's contents are read here.
 */
#ifndef CUSTODY_INGEST_LIST_H
#define CUSTODY_INGEST_LIST_H

#include <stddef.h>
#include <stdint.h>

#define INGEST_LIST_MAX 1000000		/* files in one batch: the daemon's limit */

struct ingest_file {
	char		*path;		/* to open */
	char		*name;		/* recorded name: valid UTF-8, a relative path */
	uint64_t	 size;		/* from lstat/stat, for progress */
	int		 in_dir;	/* found by walking a directory: opened with O_NOFOLLOW */
	int		 fd;		/* open while sent and not done; else -1 */
	/* from the daemon's IngestFileDone */
	char		 sha256[65];
	char		*media_type;
	uint64_t	 stored;	/* bytes the daemon read */
	int		 duplicate;
};

struct ingest_list {
	struct ingest_file	*files;
	size_t			 n, cap;
	uint64_t		 total;		/* bytes in all files */
	size_t			 skipped;	/* symbolic links and special files in directories */
	int			 progress;	/* count on stderr while gathering */
};

/*
 * Add what one command-line PATH names: a file under its base name, a directory's regular
 * files recursively under "DIRNAME/RELATIVE/PATH" (DIRNAME the directory's own name).
 * Symbolic links inside a directory are not followed and special files are skipped, each with
 * a warning; a path that does not exist or cannot be read ends the client, nothing sent.
 */
void ingest_list_arg(struct ingest_list *l, const char *path);
/*
 * Add the paths listed in the file at listpath ("-": standard input), one per line or, when
 * nul, NUL-terminated; empty entries are ignored. Each is taken like a command-line PATH but
 * recorded under the path as written (a leading '/' and '.' and '..' components dropped), so
 * that `find scans -type f` gives the names a directory argument would.
 */
void ingest_list_from(struct ingest_list *l, const char *listpath, int nul);
/* Erase the gathering count from stderr (when shown). */
void ingest_list_done(struct ingest_list *l);
void ingest_list_free(struct ingest_list *l);

#endif
