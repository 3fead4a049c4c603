/*
 * Stacks in locked memory. Per-record and field keys live in stack frames, and libsodium keeps
 * its own temporaries there (secretstream states, expanded Ed25519 signing keys), out of reach
 * of sodium_malloc. So every thread of ours runs on a stack of LOCKMEM_STACK bytes whose top
 * LOCKMEM_LOCKED bytes are mlock'd (every frame that holds a key lives well within that) and
 * which core dumps leave out; the main thread locks LOCKMEM_LOCKED bytes below its frame.
 *
 * Locking is best effort, as sodium_malloc's is: a thread whose stack cannot be locked still
 * runs, and lockmem_warning() says so once.
 */
#ifndef CUSTODY_LOCKMEM_H
#define CUSTODY_LOCKMEM_H

#include <pthread.h>

#define LOCKMEM_STACK (1024 * 1024)	/* stack of each thread, bytes */
#define LOCKMEM_LOCKED (256 * 1024)	/* locked at the top of each stack, bytes */

/* pthread_create with a locked stack; 0 or a negative CUSTODY_E* code. */
int lockmem_thread_create(pthread_t *, void *(*fn)(void *), void *arg);
/* Lock the main thread's stack from LOCKMEM_LOCKED below the caller up; once, early in main. */
void lockmem_main_stack(void);
/*
 * The calling thread's buffer number slot (below LOCKMEM_SLOTS), of at least size bytes, in
 * sodium_malloc'd memory, kept until the thread exits; NULL when out of memory. For plaintext
 * buffers that would otherwise be allocated per file or per blob: sodium_malloc maps, locks and
 * unmaps every time, which made ingesting or verifying small files several times slower. The
 * caller wipes it after each use, and never uses one slot twice at a time on one thread.
 */
enum { LOCKMEM_SLOT_DECRYPT, LOCKMEM_SLOT_INGEST, LOCKMEM_SLOTS };
void *lockmem_thread_buffer(int slot, size_t size);
/*
 * NULL when every lock so far succeeded; else one line saying why not and what to do, returned
 * to one caller only, so that it is reported once per process.
 */
const char *lockmem_warning(void);

#endif
