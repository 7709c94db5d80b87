/*
 * The library-wide pool of worker threads that box I/O runs its chunks on
 * (public side: scout/iothreads.h). Not installed.
 *
 * A job is n items and a function; scout__workpool_run() queues it, takes
 * part in it on the calling thread, and returns when every item handed out
 * has finished. Items are handed out in increasing order from an atomic
 * counter; the first failure stops the hand-out. Several threads may run jobs
 * at once (the workers serve the oldest job with items left). The pool is
 * created lazily, grows or shrinks to the configured size at the next job, and
 * is forgotten in a forked child (pthread_atfork), which creates its own on
 * first use.
 *
 * A thread marked as a worker (pmap's thread workers and process children,
 * the pool's own threads) runs every job inline: no nested pools.
 */
#ifndef SCOUT_WORKPOOL_H
#define SCOUT_WORKPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* Item i of a job: SCOUT_OK or a negative code with the thread's last error set. */
typedef int (*scout__work_fn)(size_t item, void *payload);

/*
 * Run fn(0), ..., fn(n - 1), on the pool and the calling thread, or on the
 * calling thread alone, in order, when the pool has one thread, n < 2 or the
 * thread is marked as a worker. On failure, no item is started after the
 * failure is seen, the items already running finish, and the failure of the
 * lowest item is returned with its message recorded as the calling thread's
 * last error (the same failure a serial run in order would report);
 * *failed_item (may be NULL) receives that item.
 */
SCOUT_HIDDEN int scout__workpool_run(size_t n, scout__work_fn fn, void *payload,
				     size_t *failed_item);

/*
 * scout__workpool_run() on up to `threads` threads (the caller included)
 * instead of the pool's size, for jobs whose items spend much of their time
 * blocked on a device (direct writes): the pool grows to that many for the
 * job; the threads beyond the size leave when a job of the usual width next
 * starts. threads below the size mean the size; capped at
 * SCOUT_IO_THREADS_MAX. A pool of size 1, n < 2 or a worker: inline as above.
 */
SCOUT_HIDDEN int scout__workpool_run_wide(size_t n, scout__work_fn fn, void *payload,
					  size_t *failed_item, int threads);

/* 1 when scout__workpool_run() would use other threads: size > 1, not a worker. */
SCOUT_HIDDEN int scout__workpool_available(void);

/* Mark the calling thread as a worker of a parallel runner (never unmarked). */
SCOUT_HIDDEN void scout__workpool_mark_worker(void);

/* 1 when the calling thread is marked as a worker. */
SCOUT_HIDDEN int scout__workpool_is_worker(void);

typedef struct {
	uint64_t jobs_parallel; /* jobs handed to the pool (not run inline) */
	uint64_t items_by_pool; /* items run by the pool's threads (not the callers) */
	int threads;            /* worker threads alive now (size - 1 once used) */
} scout_workpool_stats;

/* Counters since the process (or the forked child) started; for tests and benchmarks. */
SCOUT_HIDDEN void scout__workpool_stats(scout_workpool_stats *out);

#endif
