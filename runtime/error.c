/* Per-thread error messages, so a failure deep in a worker can say which item and why. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "custody/common.h"

static _Thread_local char error_msg[1024];

/* Record why the calling thread failed; returns code. */
int
custody_fail(int code, const char *fmt, ...)
{
	char msg[sizeof error_msg];
	va_list ap;

	/* format aside first: callers may pass custody_error() itself to add context */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(error_msg, msg, sizeof msg);
	return code;
}

/* The calling thread's last message. */
const char *
custody_error(void)
{
	return error_msg;
}

/* Forget the calling thread's last message. */
void
custody_error_clear(void)
{
	error_msg[0] = '\0';
}

/* Set *cause to a new message (the caller frees it); NULL when out of memory. */
void
custody_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

/* A short name for an error code. */
const char *
custody_strerror(int code)
{
	switch (code) {
	case 0:			return "ok";
	case CUSTODY_ENOMEM:	return "out of memory";
	case CUSTODY_EIO:	return "input/output error";
	case CUSTODY_EINVAL:	return "invalid input";
	case CUSTODY_ECRYPTO:	return "authentication failed";
	case CUSTODY_ENOTFOUND:	return "not found";
	case CUSTODY_EEXIST:	return "already exists";
	case CUSTODY_EPROTO:	return "protocol error";
	case CUSTODY_EPERM:	return "permission denied";
	case CUSTODY_ENOSPC:	return "no space left on device";
	case CUSTODY_ETOOBIG:	return "too large";
	default:		return "error";
	}
}
