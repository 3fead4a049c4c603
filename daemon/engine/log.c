/* Logging to stderr with a timestamp; fatal() for startup failures and broken invariants. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int log_verbose, log_quiet;

const char *
log_key(char buf[static LOG_KEY_LEN], const unsigned char pk[static 32])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	memcpy(buf, "office ", 7);
	for (i = 0; i < 8; i++) {
		buf[7 + 2 * i] = digits[pk[i] >> 4];
		buf[7 + 2 * i + 1] = digits[pk[i] & 0xf];
	}
	buf[23] = '\0';
	return buf;
}

/* Show debug messages too. */
void
log_set_verbose(int v)
{
	log_verbose = v;
}

/* Show warnings only (the fuzzing harnesses, whose daemon would log every request). */
void
log_set_quiet(int q)
{
	log_quiet = q;
}

static void __attribute__((format(printf, 2, 0)))
log_vwrite(const char *level, const char *fmt, va_list ap)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_verbose)
		snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp), ".%03ld",
		    ts.tv_nsec / 1000000);
	strcat(stamp, "Z");
	flockfile(stderr);
	fprintf(stderr, "%s custodyd %s: ", stamp, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_vwrite("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("warning", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose || log_quiet)
		return;
	va_start(ap, fmt);
	log_vwrite("debug", fmt, ap);
	va_end(ap);
}

/* Log and exit: startup failures and broken invariants only. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
