/*
 * Output files the daemon writes into: a temporary beside the final name (removed on failure
 * or a signal), made durable and renamed only once the result checked out.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "outfile.h"

/* The named temporary file, removed by the signal handler or on failure. */
static char outfile_tmp[PATH_MAX];
static volatile sig_atomic_t outfile_tmp_set;

/* Remove the temporary file and die of the same signal. */
static void
outfile_on_signal(int sig)
{
	if (outfile_tmp_set)
		unlink(outfile_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Remove the temporary file (if any) and exit 1 with the reason. */
void
outfile_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (outfile_tmp_set) {
		unlink(outfile_tmp);
		outfile_tmp_set = 0;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	client_fatal("%s", msg);
}

/* At exit (client_fatal included): a temporary not renamed into place goes. */
static void
outfile_at_exit(void)
{
	if (outfile_tmp_set)
		unlink(outfile_tmp);
}

/* A named temporary beside path, mode 0600. */
int
outfile_tmp_beside(const char *path)
{
	struct sigaction sa;
	int fd;

	if ((size_t)snprintf(outfile_tmp, sizeof outfile_tmp, "%s.partial-XXXXXX", path) >=
	    sizeof outfile_tmp)
		client_fatal("%s: name too long", path);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = outfile_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	atexit(outfile_at_exit);
	if ((fd = mkostemp(outfile_tmp, O_CLOEXEC)) < 0)
		client_fatal("%s: cannot create a temporary file beside it: %s", path,
		    strerror(errno));
	outfile_tmp_set = 1;
	return fd;
}

/* Make the temporary file durable and give it its final name. */
void
outfile_commit(int fd, const char *path, int force)
{
	char *dir, *slash;
	int dfd;

	if (fsync(fd) < 0)
		outfile_fail("%s: fsync: %s", path, strerror(errno));
	if (renameat2(AT_FDCWD, outfile_tmp, AT_FDCWD, path,
	    force ? 0 : RENAME_NOREPLACE) < 0) {
		if (force || (errno != EINVAL && errno != ENOSYS))
			outfile_fail("%s: %s", path, errno == EEXIST ?
			    "already exists (use --force to replace it)" : strerror(errno));
		/* No RENAME_NOREPLACE here: link refuses an existing name too. */
		if (link(outfile_tmp, path) < 0)
			outfile_fail("%s: %s", path, errno == EEXIST ?
			    "already exists (use --force to replace it)" : strerror(errno));
		unlink(outfile_tmp);
	}
	outfile_tmp_set = 0;
	if ((dir = strdup(path)) == NULL)
		client_fatal("out of memory");
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir] = '\0';
	if ((dfd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
}

