/* The unit tests' way to call stock tools (sha256sum, ssh-keygen, age, tar). */
#ifndef CUSTODY_TEST_RUN_H
#define CUSTODY_TEST_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command formatted like printf; its exit status, or -1 when it did not exit. */
static int
run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
