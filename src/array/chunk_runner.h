/*
 * Running a box's chunks in parallel: the driver between a backend's box
 * loop and the worker pool (core/workpool.h). Not installed.
 *
 * A backend that reads or writes a box chunk by chunk asks
 * scout__chunks_parallel() whether the box is worth the pool; when it is, it
 * hands scout__chunks_run() the grid box of chunk indices and a function that
 * does one chunk. Small boxes keep the backend's serial loop (no pool
 * overhead, and the chunk cache behaves as it always has).
 */
#ifndef SCOUT_CHUNK_RUNNER_H
#define SCOUT_CHUNK_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/*
 * Do one chunk, of grid indices idx (ndim of them): SCOUT_OK or a negative
 * code, with the thread's last error naming the chunk (its key).
 */
typedef int (*scout__chunk_fn)(const int64_t *idx, void *payload);

/*
 * 1 when a box of nitems chunks (or slices) and nbytes bytes in memory goes to
 * the pool: the pool has more than one thread, the calling thread is not a
 * pmap or pool worker, and the box holds at least the minimum number of
 * items and bytes (4 and 256 KiB: below that, waking threads costs more than
 * it saves).
 */
SCOUT_HIDDEN int scout__chunks_parallel(size_t nitems, size_t nbytes);

/*
 * Run fn on every chunk of the grid box lo..hi (inclusive, ndim axes) on the
 * pool, the calling thread taking part. The first failure stops the hand-out
 * of chunks; the chunks already started finish; the failure of the first
 * chunk in C order among those that failed is returned with its message (the
 * one a serial loop would have reported).
 */
SCOUT_HIDDEN int scout__chunks_run(int ndim, const int64_t *lo, const int64_t *hi,
				   scout__chunk_fn fn, void *payload);

/*
 * scout__chunks_run on up to `threads` threads (scout__workpool_run_wide), for
 * chunks whose writes wait on the device; 0: the pool's size.
 */
SCOUT_HIDDEN int scout__chunks_run_wide(int ndim, const int64_t *lo, const int64_t *hi,
					scout__chunk_fn fn, void *payload, int threads);

/* Tests: change the minimum box (items, bytes) that goes to the pool; 0, 0 restores it. */
SCOUT_HIDDEN void scout__chunks_set_min(size_t items, size_t bytes);

#endif
