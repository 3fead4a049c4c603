/* lockmem: thread and main stacks locked and kept out of core dumps; a failed lock is told once. */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "custody/common.h"
#include "custody/lockmem.h"

#define LOCKED_KB (LOCKMEM_LOCKED / 1024)

/* AddressSanitizer turns mlock into a no-op that succeeds */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

/* What probe_thread saw of its own stack. */
struct probe {
	void	*arg;		/* the argument it was given */
	int	 found;		/* its stack's mapping is in smaps */
	long	 locked_kb;	/* that mapping's Locked: */
	int	 dontdump;	/* its VmFlags hold dd */
};

static struct probe probe;
static char probe_ret;

/* Find the smaps entry of the mapping holding addr: its Locked: (kB), and dd in its VmFlags. */
static int
vma_of(const void *addr, long *locked_kb, int *dontdump)
{
	unsigned long lo, hi, a = (unsigned long)(uintptr_t)addr;
	char line[1024];
	FILE *f;
	int in = 0, found = 0;

	*locked_kb = -1;
	*dontdump = 0;
	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		/* a mapping's first line starts "lo-hi "; field lines start with a name */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			if (found)
				break;
			found = in = a >= lo && a < hi;
		} else if (in && strncmp(line, "Locked:", 7) == 0)
			*locked_kb = strtol(line + 7, NULL, 10);
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			*dontdump = strstr(line, " dd") != NULL;
	}
	fclose(f);
	return found ? 0 : -1;
}

/* Run on a lockmem thread: look at the mapping holding a local variable. */
static void *
probe_thread(void *arg)
{
	volatile int local = 0;

	probe.arg = arg;
	probe.found = vma_of((const void *)&local, &probe.locked_kb, &probe.dontdump) == 0;
	return &probe_ret;
}

/* Whether mlock locks here: root, or a memlock limit with room for the tests; NULL if so. */
static const char *
cannot_lock(void)
{
	struct rlimit rl;

	if (ASAN)
		return "AddressSanitizer ignores mlock";
	if (geteuid() == 0)
		return NULL;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= 4 * LOCKMEM_LOCKED))
		return NULL;
	return "memlock limit too low to lock stacks (not root)";
}

static void
skip_unless_can_lock(void)
{
	const char *why;

	if ((why = cannot_lock()) != NULL) {
		print_message("%s: skipped\n", why);
		skip();
	}
}

static void
test_thread_stack(void **state)
{
	pthread_t t;
	void *ret = NULL;

	memset(&probe, 0, sizeof probe);
	assert_int_equal(lockmem_thread_create(&t, probe_thread, state), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_ptr_equal(ret, &probe_ret);
	assert_ptr_equal(probe.arg, state);
	assert_true(probe.found);
	assert_true(probe.dontdump);
	skip_unless_can_lock();
	assert_true(probe.locked_kb >= LOCKED_KB);
}

/* Threads one after another reuse glibc's cached stacks: still locked. */
static void
test_thread_stack_reused(void **state)
{
	pthread_t t;
	int i;

	skip_unless_can_lock();
	for (i = 0; i < 8; i++) {
		memset(&probe, 0, sizeof probe);
		assert_int_equal(lockmem_thread_create(&t, probe_thread, &i), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_ptr_equal(probe.arg, &i);
		assert_true(probe.locked_kb >= LOCKED_KB);
	}
}

static void
test_main_stack(void **state)
{
	volatile int local = 0;
	long locked_kb;
	int dontdump;

	skip_unless_can_lock();
	lockmem_main_stack();
	assert_int_equal(vma_of((const void *)&local, &locked_kb, &dontdump), 0);
	assert_true(locked_kb >= LOCKED_KB);
}

static void
test_no_warning(void **state)
{
	skip_unless_can_lock();
	assert_null(lockmem_warning());
}

/*
 * In a child with no memlock allowance and no privilege: the thread still runs, and the
 * failure is told once. Returns the exit status, 0 when all is well.
 */
static int
no_memlock_child(void)
{
	struct rlimit none = { 0, 0 };
	const char *warning;
	pthread_t t;
	void *ret = NULL;

	if (setrlimit(RLIMIT_MEMLOCK, &none) != 0)
		return 10;
	/* root locks whatever the limit (CAP_IPC_LOCK): nobody holds no capabilities */
	if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		return 11;
	memset(&probe, 0, sizeof probe);
	if (lockmem_thread_create(&t, probe_thread, &none) < 0)
		return 12;
	if (pthread_join(t, &ret) != 0 || ret != &probe_ret || probe.arg != &none)
		return 13;
	if (!probe.found || probe.locked_kb != 0)
		return 14;
	if ((warning = lockmem_warning()) == NULL || strstr(warning, "memlock") == NULL)
		return 15;
	if (lockmem_warning() != NULL)
		return 16;
	return 0;
}

static void
test_no_memlock(void **state)
{
	pid_t pid;
	int status;

	if (ASAN) {
		print_message("AddressSanitizer ignores mlock: skipped\n");
		skip();
	}
	fflush(NULL);
	if ((pid = fork()) == 0)
		_exit(no_memlock_child());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* What buffer_thread saw of its buffers. */
struct buffers {
	void	*first, *again, *grown, *other;
	long	 locked_kb;
	int	 dontdump;
};

static void *
buffer_thread(void *arg)
{
	struct buffers *b = arg;

	b->first = lockmem_thread_buffer(LOCKMEM_SLOT_DECRYPT, 100);
	b->again = lockmem_thread_buffer(LOCKMEM_SLOT_DECRYPT, 50);
	b->grown = lockmem_thread_buffer(LOCKMEM_SLOT_DECRYPT, 200000);
	if (b->grown != NULL)
		memset(b->grown, 0x5a, 200000);	/* all of it is ours to write */
	b->other = lockmem_thread_buffer(LOCKMEM_SLOT_INGEST, 100);
	if (b->grown == NULL || vma_of(b->grown, &b->locked_kb, &b->dontdump) < 0)
		b->locked_kb = -1;
	return NULL;
}

/* A thread's buffers: kept while big enough, grown when not, one per slot, one per thread. */
static void
test_thread_buffer(void **state)
{
	struct buffers one = { 0 }, two = { 0 };
	pthread_t t;

	assert_int_equal(lockmem_thread_create(&t, buffer_thread, &one), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(lockmem_thread_create(&t, buffer_thread, &two), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_non_null(one.first);
	assert_ptr_equal(one.first, one.again);
	assert_non_null(one.grown);
	assert_non_null(one.other);
	assert_ptr_not_equal(one.other, one.grown);
	if (cannot_lock() == NULL)
		assert_true(one.locked_kb > 0);	/* sodium_malloc'd: locked */
	/* freed at the first thread's exit (the sanitizer build would report a leak) */
	assert_non_null(two.grown);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_stack),
		cmocka_unit_test(test_thread_stack_reused),
		cmocka_unit_test(test_main_stack),
		cmocka_unit_test(test_no_warning),
		cmocka_unit_test(test_no_memlock),
		cmocka_unit_test(test_thread_buffer),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
