/**
 * @file scout/pmap.h
 * @brief Parallel map over the chunks of an array (SCOUT's pmap_chunks).
 *
 * scout_pmap_chunks() splits an array into a grid of chunks and calls a
 * function on each, in threads of the calling process or in forked worker
 * processes, and gathers one result (a byte string of any size) per chunk.
 *
 * Threads or processes? Threads share everything and cost almost nothing per
 * chunk; processes isolate crashes and global state (a crashing worker gives
 * SCOUT_EWORKER instead of killing the program), at the price of a fork per
 * worker and a copy of every result through a pipe.
 *
 * Writes from process workers: a forked worker gets a private copy-on-write
 * copy of the parent's memory, so scout_insert_box() on a memory array
 * (scout_array_new(), scout_array_wrap()) in a process worker changes only
 * the worker's copy and is lost when it exits, as SCOUT warns. Write to shared
 * memory (scout_shm_array()) or to a Zarr array instead, or return the data as
 * the chunk's result. Thread workers write to the caller's memory directly.
 *
 * Example:
 * @code
 * static int chunk_sum(scout_array *arr, const int64_t *start, const int64_t *chunks,
 *                      scout_result *result, void *payload)
 * {
 *         ... read the box [start, min(start + chunks, shape)) with scout_extract_box() ...
 *         return scout_result_set(result, &sum, sizeof sum);
 * }
 * scout_pmap_options opts = SCOUT_PMAP_OPTIONS_INIT;
 * opts.workers = SCOUT_WORKERS_PROCESSES;
 * scout_results *res;
 * if (scout_pmap_chunks(&res, chunk_sum, NULL, arr, NULL, &opts) < 0)
 *         fprintf(stderr, "%s\n", scout_last_error());
 * @endcode
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
 * replaces an earlier one). A chunk function that never calls it has an empty
 * result.
 * @param result the handle f received
 * @param data   size bytes (may be NULL when size is 0)
 * @param size   number of bytes
 * @return SCOUT_OK, SCOUT_EINVAL (NULL result, or NULL data with size > 0),
 *         SCOUT_ENOMEM
 */
SCOUT_API int scout_result_set(scout_result *result, const void *data, size_t size);

/**
 * A function applied to one chunk.
 * @param arr         the array given to scout_pmap_chunks()
 * @param start_coord ndim coordinates of the chunk's start
 * @param chunks      the chunk shape (not clipped: clip with min(start+chunks, shape))
 * @param result      where to store this chunk's result (scout_result_set())
 * @param payload     the payload given to scout_pmap_chunks()
 * @return 0 (or any value >= 0) on success; a negative SCOUT_E* code stops the
 *         map with that error. The message scout_last_error() holds when f
 *         returns (from the scout call that failed in f) is kept and prefixed
 *         with the chunk's start; when there is none, the message says which
 *         code f returned.
 */
typedef int (*scout_chunk_fn)(scout_array *arr, const int64_t *start_coord, const int64_t *chunks,
			      scout_result *result, void *payload);

/** Receives a chunk's result as soon as it is available (see scout_pmap_options). */
typedef void (*scout_result_cb)(size_t chunk_index, const void *data, size_t size, void *payload);

/**
 * Asked whether a map should stop (see scout_pmap_options.cancel); called in
 * the thread that called scout_pmap_chunks(), never in a worker. It must be
 * cheap and must not call scout_pmap_chunks(). A typical one reads a
 * `volatile sig_atomic_t` flag that a SIGINT/SIGTERM handler sets.
 * @return non-zero to stop the map
 */
typedef int (*scout_cancel_cb)(void *payload);

/** Kind of workers. */
typedef enum {
	SCOUT_WORKERS_THREADS = 0,  /**< threads of the calling process */
	SCOUT_WORKERS_PROCESSES = 1 /**< forked processes; results come back through pipes */
} scout_workers;

/**
 * Options of scout_pmap_chunks(). Initialise with SCOUT_PMAP_OPTIONS_INIT.
 *
 * - nb_workers: 0 uses the number of online CPUs; 1 runs every chunk inline in
 *   the calling thread (no thread, no fork), in chunk order; more workers than
 *   chunks are not started.
 * - chunksize: a worker takes this many consecutive chunks at a time. 0 picks
 *   count / (8 x workers), between 1 and 1024, which keeps the per-chunk cost
 *   low for millions of small chunks while balancing the load.
 * - on_result: called in the calling thread for every chunk's result, by
 *   default in chunk order (0, 1, 2, ...), each as soon as it and all the
 *   chunks before it are done; with unordered, as soon as the chunk (in
 *   practice: its batch) is done. data is NULL when size is 0; it is valid
 *   during the call only. on_result must not call scout_pmap_chunks().
 * - progress: a tqdm-like bar on stderr (percentage, bar, done/total,
 *   elapsed, ETA, rate), redrawn at most about 10 times a second and ended
 *   with a newline.
 * - cancel: asked in the calling thread whether to stop (see scout_cancel_cb):
 *   before every chunk when inline, and at least every 50 ms while thread or
 *   process workers run. Once it returns non-zero no chunk is started any
 *   more: thread workers finish the chunk they are running (a long chunk
 *   function should watch the same condition itself), process workers are
 *   stopped as after a failure (below), and scout_pmap_chunks() returns
 *   SCOUT_EINTERRUPTED. A map that fails while cancel returns non-zero also
 *   returns SCOUT_EINTERRUPTED (its message keeps the failure's).
 *
 * Version 1 of this struct (without cancel and cancel_payload) is still
 * accepted: set version to 1 and the fields after on_result_payload are not
 * read.
 */
typedef struct {
	unsigned int version;      /**< SCOUT_PMAP_OPTIONS_VERSION */
	int nb_workers;            /**< 0: number of online CPUs; 1: run inline */
	scout_workers workers;     /**< threads (default) or forked processes */
	int unordered;             /**< on_result sees results as they finish, not in chunk order */
	size_t chunksize;          /**< chunks handed to a worker at a time; 0: automatic */
	int progress;              /**< draw a progress bar on stderr */
	scout_result_cb on_result; /**< streaming consumer, called in the calling thread */
	void *on_result_payload;   /**< passed to on_result */
	/* version 2 */
	scout_cancel_cb cancel; /**< non-zero return stops the map (NULL: never) */
	void *cancel_payload;   /**< passed to cancel */
} scout_pmap_options;

#define SCOUT_PMAP_OPTIONS_VERSION 2
#define SCOUT_PMAP_OPTIONS_INIT                                                                    \
	{                                                                                          \
		SCOUT_PMAP_OPTIONS_VERSION, 0, SCOUT_WORKERS_THREADS, 0, 0, 0, NULL, NULL, NULL,   \
		    NULL                                                                           \
	}

/** The results of a map, one per chunk, in chunk order. */
typedef struct scout_results scout_results;

/**
 * Apply f to every chunk of arr in parallel (SCOUT's pmap_chunks).
 *
 * The chunks are the boxes of a grid of chunk shape `chunks` over the array,
 * numbered in the order of scout_chunk_coordinates() (last axis fastest);
 * edge chunks are passed with the unclipped chunk shape, f clips them.
 * f may run concurrently in several threads (threads mode): it must be
 * thread-safe for distinct chunks. In process mode each worker is a fork()
 * of the caller: see the file comment about writes; if the array's backend
 * needs it, its after_fork hook runs in each worker first. The caller's stdio
 * buffers are flushed before the fork; workers flush what f printed and leave
 * with _exit(), so the caller's atexit handlers never run in them.
 *
 * On failure (or cancel) no result is returned, on_result is not called any
 * more, every thread is joined and every worker process is stopped and
 * reaped: no thread, process, descriptor or memory is left behind.
 *
 * Stopping process workers: each worker still running gets SIGTERM, and
 * SIGKILL if it has not exited 200 ms later. Workers keep the signal
 * dispositions of the caller (fork() copies them): a caller whose
 * SIGINT/SIGTERM handler sets a flag that its chunk function polls gets a
 * clean stop at the next poll (no chunk write cut short), one without
 * handlers sees its workers die at once. A Ctrl-C typed at a terminal reaches
 * the workers too (same process group); with such handlers, a worker whose
 * chunk function fails because of it reports the failure, and the map
 * returns SCOUT_EINTERRUPTED when cancel says so too. Workers also die with
 * the caller's thread (PR_SET_PDEATHSIG), so a caller killed with SIGKILL
 * leaves no worker behind.
 *
 * @param out     receives the results, one per chunk in chunk order (free with
 *                scout_results_free()); NULL: results are only passed to
 *                on_result, each released right after its call, and when
 *                on_result is NULL too they are discarded (f is run for its
 *                side effects; process workers then send nothing back but the
 *                end of each batch)
 * @param f       the chunk function
 * @param payload passed to f
 * @param arr     the array (any backend; process workers need writes to go to
 *                shared memory or Zarr)
 * @param chunks  ndim chunk extents (>= 1) to split arr into; NULL:
 *                scout_array_chunks(arr) (the whole array when unchunked)
 * @param opts    options; NULL: defaults (threads, one per CPU, ordered)
 * @return SCOUT_OK;
 *         threads and inline: the first error f returned, its message
 *         prefixed with the chunk's start ("chunk (64, 0): ...");
 *         processes: SCOUT_EWORKER when a worker's f returned an error (its
 *         message follows the chunk's start), or the worker crashed (signal),
 *         exited or was killed (the message names the worker, the signal or
 *         exit status and the chunk it was processing);
 *         SCOUT_EINTERRUPTED when cancel returned non-zero;
 *         SCOUT_EINVAL (NULL f or arr, bad chunks or options), SCOUT_EOVERFLOW,
 *         SCOUT_ENOMEM, SCOUT_EIO (fork, pipe or thread creation failed)
 */
SCOUT_API int scout_pmap_chunks(scout_results **out, scout_chunk_fn f, void *payload,
				scout_array *arr, const int64_t *chunks,
				const scout_pmap_options *opts);

/** Number of results (the number of chunks); 0 for NULL. */
SCOUT_API size_t scout_results_count(const scout_results *results);

/**
 * Result of chunk i (chunk order), owned by results. Returns NULL with
 * *size_out = 0 when the chunk function set no result or an empty one, or when
 * i is out of range. size_out may be NULL.
 */
SCOUT_API const void *scout_results_get(const scout_results *results, size_t i, size_t *size_out);

/** Release the results. NULL is allowed. */
SCOUT_API void scout_results_free(scout_results *results);

#ifdef __cplusplus
}
#endif

#endif
