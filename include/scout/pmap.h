/**
 * @file scout/pmap.h
 * @brief Parallel map over the chunks of an array (SCOUT's pmap_chunks).
 */
#ifndef SCOUT_PMAP_H
#define SCOUT_PMAP_H

#include "array.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where a chunk function stores its result for one chunk. */
typedef struct scout_result scout_result;

/**
 * Set the result of the current chunk (copied; any size, may be 0; a later call
 * replaces an earlier one).
 * @return SCOUT_OK, SCOUT_ENOMEM
 */
SCOUT_API int scout_result_set(scout_result *result, const void *data, size_t size);

/**
 * A function applied to one chunk.
 * @param arr         the array given to scout_pmap_chunks()
 * @param start_coord ndim coordinates of the chunk's start
 * @param chunks      the chunk shape (not clipped: clip with min(start+chunks, shape))
 * @param result      where to store this chunk's result (scout_result_set())
 * @param payload     the payload given to scout_pmap_chunks()
 * @return 0 on success; a negative value stops the map with an error
 */
typedef int (*scout_chunk_fn)(scout_array *arr, const int64_t *start_coord, const int64_t *chunks,
			      scout_result *result, void *payload);

/** Receives a chunk's result as soon as it is available (see scout_pmap_options). */
typedef void (*scout_result_cb)(size_t chunk_index, const void *data, size_t size, void *payload);

/** Kind of workers. */
typedef enum {
	SCOUT_WORKERS_THREADS = 0,  /**< threads of the calling process */
	SCOUT_WORKERS_PROCESSES = 1 /**< forked processes; results come back through pipes */
} scout_workers;

/** Options of scout_pmap_chunks(). Initialise with SCOUT_PMAP_OPTIONS_INIT. */
typedef struct {
	unsigned int version;
	int nb_workers;            /**< 0: number of online CPUs; 1: run inline */
	scout_workers workers;     /**< threads (default) or forked processes */
	int unordered;             /**< on_result sees results as they finish, not in chunk order */
	size_t chunksize;          /**< chunks handed to a worker at a time; 0: automatic */
	int progress;              /**< draw a progress bar on stderr */
	scout_result_cb on_result; /**< streaming consumer, called in the calling thread */
	void *on_result_payload;
} scout_pmap_options;

#define SCOUT_PMAP_OPTIONS_VERSION 1
#define SCOUT_PMAP_OPTIONS_INIT {SCOUT_PMAP_OPTIONS_VERSION, 0, SCOUT_WORKERS_THREADS, 0, 0, 0, NULL, NULL}

/** The results of a map, one per chunk, in chunk order. */
typedef struct scout_results scout_results;

/**
 * Apply f to every chunk of arr in parallel.
 *
 * @param out     receives the results (free with scout_results_free()); may be
 *                NULL when results are only streamed to on_result
 * @param f       the chunk function
 * @param payload passed to f
 * @param arr     the array
 * @param chunks  chunk shape to split arr into; NULL: scout_array_chunks(arr)
 * @param opts    options; NULL: defaults
 * @return SCOUT_OK; the first error f returned (threads); SCOUT_EWORKER when a
 *         process worker failed, crashed or was killed (the message gives the
 *         chunk's start); SCOUT_EINVAL, SCOUT_ENOMEM
 */
SCOUT_API int scout_pmap_chunks(scout_results **out, scout_chunk_fn f, void *payload,
				scout_array *arr, const int64_t *chunks,
				const scout_pmap_options *opts);

/** Number of results (the number of chunks). */
SCOUT_API size_t scout_results_count(const scout_results *results);

/**
 * Result of chunk i (chunk order). Returns NULL with *size_out = 0 when the
 * chunk function set no result or an empty one. size_out may be NULL.
 */
SCOUT_API const void *scout_results_get(const scout_results *results, size_t i, size_t *size_out);

/** Release the results. NULL is allowed. */
SCOUT_API void scout_results_free(scout_results *results);

#ifdef __cplusplus
}
#endif

#endif
