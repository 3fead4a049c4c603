/* Output files written through a temporary beside them (client/outfile.c). */
#ifndef CUSTODY_OUTFILE_H
#define CUSTODY_OUTFILE_H

/*
 * A named temporary beside path, mode 0600, removed again on SIGINT, SIGTERM or SIGHUP, or at
 * exit unless outfile_commit renamed it.
 */
int outfile_tmp_beside(const char *path);
/* Remove the temporary file (if any) and exit 1 with the reason. */
void outfile_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* fsync the temporary, rename it to path (refusing an existing one unless force). */
void outfile_commit(int fd, const char *path, int force);

#endif
