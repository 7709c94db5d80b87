/*
 * Inside scout_pmap_chunks(): the chunk grid, result slots and delivery to
 * on_result shared by the inline, thread and process runners. Not installed.
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
	int cancelled; /* cancel returned non-zero (sticky) */
} pmap_ctx;

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

SCOUT_HIDDEN int scout__pmap_run_threads(pmap_ctx *c);
SCOUT_HIDDEN int scout__pmap_run_processes(pmap_ctx *c);

#endif
