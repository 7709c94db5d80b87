/*
 * A pool for large, short-lived buffers (decoded chunks, slabs, merge
 * buffers). Not installed.
 *
 * Why: memory that a process touches for the first time costs a page fault
 * per 4 KiB page, and on virtual machines with shadow paging far more (about
 * 8 us per page on the 2-core benchmark machine: 256 MiB of fresh memory took
 * 0.5-1 s to fill, 16 ms to refill). malloc() serves buffers above its mmap
 * threshold with fresh mappings and unmaps them on free(), so a process that
 * decodes chunk after chunk into new buffers pays that cost for every chunk.
 * The pool keeps such memory mapped and hands it out again, and takes it from
 * the system in 2 MiB-aligned regions marked MADV_HUGEPAGE, so the first touch
 * costs one fault per 2 MiB where transparent huge pages are enabled.
 *
 * - n < 64 KiB: plain malloc()/free() (glibc recycles small blocks itself).
 * - 64 KiB <= n <= 4 MiB: n is rounded up to 64 KiB and served from 32 MiB
 *   slabs carved into slots of that size; freed slots are reused last-freed
 *   first (the memory most likely still mapped and cached).
 * - n > 4 MiB: a mapping of its own (rounded up to 2 MiB), kept for reuse by
 *   a later request of the same rounded size.
 * Free memory kept mapped (wholly free slabs and free large buffers) is
 * bounded: 256 MiB by default, SCOUT_POOL_RETAIN_MB=<n> to change; beyond it
 * memory goes back to the system. SCOUT_POOL=0 turns the pool off (every
 * buffer from malloc), and so does building with AddressSanitizer, which
 * cannot see overflows inside pooled memory.
 *
 * Thread-safe (one mutex; a buffer costs a lock, not a system call) and
 * fork-safe (pthread_atfork: a child of a multi-threaded parent inherits a
 * consistent pool).
 */
#ifndef SCOUT_BUFPOOL_H
#define SCOUT_BUFPOOL_H

#include <stddef.h>

#include "core/internal.h"

/* n bytes (uninitialised, 64-byte aligned or better), or NULL when out of memory
 * (the thread's error is not set). n == 0 gives a valid 1-byte buffer. */
SCOUT_HIDDEN void *scout__buf_alloc(size_t n);

/* Give back a buffer from scout__buf_alloc(p, n) with the same n. NULL is ignored. */
SCOUT_HIDDEN void scout__buf_free(void *p, size_t n);

typedef struct {
	size_t mapped;   /* bytes mapped by the pool (slabs and large buffers) */
	size_t in_use;   /* bytes handed out and not given back (rounded sizes) */
	size_t retained; /* free bytes kept mapped (wholly free slabs, free large buffers) */
	size_t slabs;    /* slabs mapped */
	int enabled;     /* 0 when every buffer comes from malloc */
} scout_bufpool_stats;

/* A snapshot of the pool's counters (tests, benchmarks). */
SCOUT_HIDDEN void scout__bufpool_stats(scout_bufpool_stats *out);

/* Return every wholly free slab and free large buffer to the system. */
SCOUT_HIDDEN void scout__bufpool_trim(void);

#endif
