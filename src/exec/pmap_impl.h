/*
 * Inside the parallel map: what the fronts (scout_pmap_chunks() in pmap.c,
 * scout_pmap_chunks_mpi() in pmap_mpi.c) and the runners (pmap_inline.c,
 * pmap_threads.c, pmap_process.c) share, all written once in pmap_ctx.c: the
 * chunk grid, the options resolved into a context, result slots, delivery to
 * on_result, cancel. Calls go one way: fronts -> runners -> pmap_ctx.c.
 * Not installed.
 */
#ifndef SCOUT_EXEC_PMAP_IMPL_H
#define SCOUT_EXEC_PMAP_IMPL_H

#include "scout/pmap.h"
#include "../array/array_internal.h"
#include "progress.h"

/* What a chunk function writes into; reused from chunk to chunk. */
struct scout_result {
	void *data;
	size_t size;
	size_t cap;
};

typedef struct pmap_slot {
	void *data; /* malloc'd, or NULL when size == 0 */
	size_t size;
} pmap_slot;

struct scout_results {
	size_t count;
	pmap_slot *slots;
};

/* The chunk grid: chunk i starts at unravel(i) * chunks (last axis fastest). */
typedef struct pmap_grid {
	int ndim;
	int64_t chunks[SCOUT_MAX_NDIM];
	int64_t nb[SCOUT_MAX_NDIM]; /* chunks per axis */
	size_t count;
} pmap_grid;

/*
 * Where batches come from when they are not the runner's own (a cluster-wide
 * counter: pmap_mpi.c). NULL in pmap_ctx: the runner hands out batches 0,
 * 1, ... nbatches - 1 itself.
 */
typedef struct pmap_source {
	/*
	 * The next batch to run: 1 with *batch set, 0 when no batch will come
	 * any more. in_caller: called by the calling thread (process runner),
	 * which must not wait for poll(); else by a worker thread, which may
	 * block until poll() has one.
	 */
	int (*take)(struct pmap_source *s, size_t *batch, int in_caller);
	/*
	 * Called by the calling thread at least every poll_ms while the runner
	 * waits; a negative code stops the map with that error (message set).
	 */
	int (*poll)(struct pmap_source *s);
	/* The local map stops (error, cancel): stop the hand-out everywhere. Calling thread. */
	void (*stop)(struct pmap_source *s);
	int poll_ms;
} pmap_source;

/*
 * Where finished chunks go instead of the slots and on_result (a rank that
 * ships its results to rank 0); takes ownership of data. Calling thread.
 */
typedef void (*pmap_sink_fn)(void *self, size_t index, void *data, size_t size);

/* Everything a runner needs. */
typedef struct pmap_ctx {
	scout_chunk_fn f;
	void *payload;
	scout_array *arr;
	pmap_grid grid;
	size_t chunksize;
	int nb_workers;
	int unordered;
	scout_result_cb on_result;
	void *on_result_payload;
	/* store results for the caller (out != NULL) or until delivered in order */
	int keep;            /* caller wants scout_results */
	int need_data;       /* results travel to the parent at all (keep || on_result) */
	pmap_slot *slots;    /* count slots when need_data, else NULL */
	unsigned char *done; /* ordered delivery: done flags, else NULL */
	size_t next_deliver; /* ordered delivery: next chunk index to hand to on_result */
	size_t completed;    /* chunks finished */
	scout__progress progress;
	scout_cancel_cb cancel; /* NULL: never cancelled */
	void *cancel_payload;
	int cancelled;     /* cancel returned non-zero (sticky) */
	size_t nbatches;   /* batches of chunksize chunks (the last may be shorter) */
	pmap_source *src;  /* NULL: batches 0..nbatches-1 handed out by the runner */
	pmap_sink_fn sink; /* NULL: results delivered here */
	void *sink_self;
	/* resolved options */
	scout_workers workers;
	int inline_mode; /* nb_workers == 1: run in the calling thread */
	int progress_on;
} pmap_ctx;

/*
 * Validate f, arr, chunks and opts (any supported version) and make a context:
 * the grid, workers, chunksize (automatic: count / (8 x total_workers),
 * total_workers 0 meaning nb_workers), keep = caller wants scout_results.
 * Nothing is allocated for results yet (scout__pmap_ctx_start()).
 */
SCOUT_HIDDEN int scout__pmap_ctx_new(pmap_ctx **out, scout_chunk_fn f, void *payload,
				     scout_array *arr, const int64_t *chunks,
				     const scout_pmap_options *opts, int keep);

/* Automatic chunksize for count chunks over total_workers workers. */
SCOUT_HIDDEN size_t scout__pmap_auto_chunksize(size_t count, size_t total_workers);

/* Allocate the result slots (need_data) and start the progress bar on progress_out. */
SCOUT_HIDDEN int scout__pmap_ctx_start(pmap_ctx *c, FILE *progress_out);

/* Run the local runner the context asks for (inline, threads, processes). */
SCOUT_HIDDEN int scout__pmap_run(pmap_ctx *c);

/*
 * End the map: finish the progress bar, report a failure racing with cancel
 * as SCOUT_EINTERRUPTED, hand the slots to *out on success (out may be NULL),
 * free the context. Returns rc (or a new error).
 */
SCOUT_HIDDEN int scout__pmap_ctx_end(pmap_ctx *c, int rc, scout_results **out);

/*
 * Detach the current result buffer for the slots (returned, *size set) or
 * leave it in r for reuse (NULL).
 */
SCOUT_HIDDEN void *scout__pmap_take_result(pmap_ctx *c, scout_result *r, size_t *size);

/* First chunk and number of chunks of batch b. */
SCOUT_HIDDEN void scout__pmap_batch_range(const pmap_ctx *c, size_t b, size_t *first, size_t *n);

/* How often the thread and process runners ask cancel, at least (ms). */
#define PMAP_CANCEL_POLL_MS 50

/*
 * 1 when the map is to stop: cancel returned non-zero now or before. Calling
 * thread only.
 */
SCOUT_HIDDEN int scout__pmap_cancelled(pmap_ctx *c);

/* Set and return SCOUT_EINTERRUPTED, saying how far the map got. */
SCOUT_HIDDEN int scout__pmap_interrupted(pmap_ctx *c);

/* Start coordinates of chunk index into start. */
SCOUT_HIDDEN void scout__pmap_start(const pmap_grid *g, size_t index, int64_t *start);

/* Advance start to the next chunk (odometer, last axis fastest). */
SCOUT_HIDDEN void scout__pmap_next(const pmap_grid *g, int64_t *start);

/*
 * Record that chunk index finished with the given result; takes ownership of
 * data (malloc'd or NULL). Calls on_result (in order, or at once when
 * unordered), frees what nobody keeps, counts progress. Caller thread only.
 */
SCOUT_HIDDEN void scout__pmap_finish(pmap_ctx *c, size_t index, void *data, size_t size);

/* Run f on one chunk with a reusable result; prefixes the error with the chunk. */
SCOUT_HIDDEN int scout__pmap_call(pmap_ctx *c, const int64_t *start, scout_result *r);

SCOUT_HIDDEN int scout__pmap_run_inline(pmap_ctx *c);
SCOUT_HIDDEN int scout__pmap_run_threads(pmap_ctx *c);
SCOUT_HIDDEN int scout__pmap_run_processes(pmap_ctx *c);

#endif
