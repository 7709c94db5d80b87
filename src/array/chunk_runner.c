/*
 * The parallel driver of box I/O (see chunk_runner.h): a chunk's linear
 * position in the grid box is the pool's item number, unravelled in C order
 * (last axis fastest), so items go out in the order of the serial loop.
 */
#include <stdatomic.h>

#include "chunk_runner.h"
#include "core/workpool.h"
#include "scout/common.h"

#define MIN_ITEMS 4
#define MIN_BYTES ((size_t)256 << 10)

static atomic_size_t min_items = MIN_ITEMS, min_bytes = MIN_BYTES;

void scout__chunks_set_min(size_t items, size_t bytes)
{
	atomic_store(&min_items, items || bytes ? items : MIN_ITEMS);
	atomic_store(&min_bytes, items || bytes ? bytes : MIN_BYTES);
}

int scout__chunks_parallel(size_t nitems, size_t nbytes)
{
	return nitems >= 2 && nitems >= atomic_load(&min_items) &&
	       nbytes >= atomic_load(&min_bytes) && scout__workpool_available();
}

typedef struct {
	int ndim;
	const int64_t *lo;
	int64_t ext[SCOUT_MAX_NDIM];
	scout__chunk_fn fn;
	void *payload;
} grid_job;

static int run_item(size_t item, void *payload)
{
	grid_job *g = payload;
	int64_t idx[SCOUT_MAX_NDIM];
	for (int i = g->ndim - 1; i >= 0; i--) {
		idx[i] = g->lo[i] + (int64_t)(item % (size_t)g->ext[i]);
		item /= (size_t)g->ext[i];
	}
	return g->fn(idx, g->payload);
}

int scout__chunks_run(int ndim, const int64_t *lo, const int64_t *hi, scout__chunk_fn fn,
		      void *payload)
{
	return scout__chunks_run_wide(ndim, lo, hi, fn, payload, 0);
}

int scout__chunks_run_wide(int ndim, const int64_t *lo, const int64_t *hi, scout__chunk_fn fn,
			   void *payload, int threads)
{
	grid_job g = {.ndim = ndim, .lo = lo, .fn = fn, .payload = payload};
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		g.ext[i] = hi[i] - lo[i] + 1;
		n *= (size_t)g.ext[i];
	}
	return scout__workpool_run_wide(n, run_item, &g, NULL, threads);
}
