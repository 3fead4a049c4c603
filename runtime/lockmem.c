/* Thread and main stacks in locked memory, left out of core dumps. */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "custody/common.h"
#include "custody/lockmem.h"

/* The errno of the first failed lock (0 while none), and whether a caller was told. */
static int lockmem_errno;
static int lockmem_told;

/* What the new thread runs once its stack is locked. */
struct lockmem_start {
	void	*(*fn)(void *);
	void	*arg;
};

/* Remember the first failure for lockmem_warning. */
static void
lockmem_failed(int error)
{
	int none = 0;

	__atomic_compare_exchange_n(&lockmem_errno, &none, error, 0, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED);
}

/* The page size, a power of two. */
static uintptr_t
lockmem_page(void)
{
	return (uintptr_t)sysconf(_SC_PAGESIZE);
}

/* mlock [lo, hi), widened to whole pages. */
static void
lockmem_range(uintptr_t lo, uintptr_t hi)
{
	uintptr_t page = lockmem_page();

	lo &= ~(page - 1);
	hi = (hi + page - 1) & ~(page - 1);
	if (mlock((void *)lo, hi - lo) != 0)
		lockmem_failed(errno);
}

/* On a new thread: lock the top of its stack, keep all of it out of core dumps. */
static void
lockmem_thread_stack(void)
{
	pthread_attr_t attr;
	uintptr_t page = lockmem_page(), lo, top;
	void *addr;
	size_t size;
	int error;

	if ((error = pthread_getattr_np(pthread_self(), &attr)) != 0) {
		lockmem_failed(error);
		return;
	}
	error = pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	if (error != 0) {
		lockmem_failed(error);
		return;
	}
	top = (uintptr_t)addr + size;
	lockmem_range(size < LOCKMEM_LOCKED ? (uintptr_t)addr : top - LOCKMEM_LOCKED, top);

	/* the daemon makes no core dumps anyway: this one may fail quietly */
	lo = ((uintptr_t)addr + page - 1) & ~(page - 1);
	top &= ~(page - 1);
	if (lo < top)
		madvise((void *)lo, top - lo, MADV_DONTDUMP);
}

/* The new thread's start routine: lock, then run fn(arg). */
static void *
lockmem_start(void *arg)
{
	struct lockmem_start s = *(struct lockmem_start *)arg;

	free(arg);
	lockmem_thread_stack();
	return s.fn(s.arg);
}

/* Start fn(arg) on a thread whose stack is LOCKMEM_STACK bytes, the top of it locked. */
int
lockmem_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	struct lockmem_start *s;
	pthread_attr_t attr;
	int error;

	if ((s = malloc(sizeof *s)) == NULL)
		return custody_fail(CUSTODY_ENOMEM, "out of memory");
	s->fn = fn;
	s->arg = arg;
	if ((error = pthread_attr_init(&attr)) == 0) {
		if ((error = pthread_attr_setstacksize(&attr, LOCKMEM_STACK)) == 0)
			error = pthread_create(thread, &attr, lockmem_start, s);
		pthread_attr_destroy(&attr);
	}
	if (error != 0) {
		free(s);
		return custody_fail(CUSTODY_ERR, "cannot start a thread: %s", strerror(error));
	}
	return 0;
}

/*
 * Touch LOCKMEM_LOCKED bytes below the caller, top down: the main stack's mapping grows only
 * on faults, and mlock fails on a range not yet mapped.
 */
static void __attribute__((noinline))
lockmem_prefault(void)
{
	volatile uint8_t buf[LOCKMEM_LOCKED];
	size_t i;

	for (i = sizeof buf; i > 0; i -= 1024)
		buf[i - 1] = 0;
	buf[0] = 0;
}

/* Lock the main stack from LOCKMEM_LOCKED bytes below this frame to its top. */
void
lockmem_main_stack(void)
{
	pthread_attr_t attr;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0), top = here;
	void *addr;
	size_t size;

	lockmem_prefault();
	/* up to the top of the stack, so main's frame and its callers' are locked too */
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0)
			top = (uintptr_t)addr + size;
		pthread_attr_destroy(&attr);
	}
	lockmem_range(here - LOCKMEM_LOCKED, top);
}

/* A thread's buffers, freed at its exit. */
struct lockmem_buffers {
	void	*p[LOCKMEM_SLOTS];
	size_t	 size[LOCKMEM_SLOTS];
};
static __thread struct lockmem_buffers lockmem_buffers;
static pthread_key_t lockmem_buffers_key;
static pthread_once_t lockmem_buffers_once = PTHREAD_ONCE_INIT;

static void
lockmem_buffers_free(void *arg)
{
	struct lockmem_buffers *b = arg;
	int i;

	for (i = 0; i < LOCKMEM_SLOTS; i++) {
		sodium_free(b->p[i]);	/* wipes */
		b->p[i] = NULL;
		b->size[i] = 0;
	}
}

static void
lockmem_buffers_init(void)
{
	pthread_key_create(&lockmem_buffers_key, lockmem_buffers_free);
}

void *
lockmem_thread_buffer(int slot, size_t size)
{
	struct lockmem_buffers *b = &lockmem_buffers;

	if (b->size[slot] >= size)
		return b->p[slot];
	pthread_once(&lockmem_buffers_once, lockmem_buffers_init);
	sodium_free(b->p[slot]);
	b->size[slot] = 0;
	if ((b->p[slot] = sodium_malloc(size)) == NULL)
		return NULL;
	b->size[slot] = size;
	pthread_setspecific(lockmem_buffers_key, b);	/* so that the thread's exit frees it */
	return b->p[slot];
}

/* Why a lock failed, to the first caller that asks after a failure; NULL otherwise. */
const char *
lockmem_warning(void)
{
	static char line[256];
	int error;

	if ((error = __atomic_load_n(&lockmem_errno, __ATOMIC_RELAXED)) == 0 ||
	    __atomic_exchange_n(&lockmem_told, 1, __ATOMIC_RELAXED))
		return NULL;
	snprintf(line, sizeof line, "cannot lock thread stacks in memory (%s): raise the memlock "
	    "limit (ulimit -l, LimitMEMLOCK=) so that keys never reach swap", strerror(error));
	return line;
}
