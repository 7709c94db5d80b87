/**
 * @file scout/mpi.h
 * @brief The parallel map across the ranks of an MPI communicator.
 *
 * Built when CMake finds MPI (libscout_mpi, a static library beside
 * libscout: link both, and MPI; the core library never depends on MPI).
 *
 * scout_pmap_chunks_mpi() is scout_pmap_chunks() on many machines: every rank
 * of the communicator calls it with the same array (opened by path on each
 * rank), the same chunk shape and the same chunk function, and the chunks are
 * shared among the ranks, each running its share on its own thread or process
 * workers (ranks x local workers).
 *
 * Scheduling is dynamic: batches of chunksize consecutive chunks are taken
 * from counters in an MPI-3 window on rank 0 (fetch-and-add), the
 * cluster-wide form of the thread pool's atomic batch counter. The batches are
 * cut into one contiguous block per rank: a rank takes its own block's batches
 * in order from the front, then helps the rank with the most left by taking
 * that block's batches from the back (one atomic add decides either end), so
 * a slow chunk never leaves other ranks idle and a rank's chunks stay
 * neighbours (its chunk cache serves the ghost shells of a ghosted map; with
 * one shared counter, neighbours went to alternating ranks and were decoded
 * on both). Only the calling thread of each rank calls MPI, every 1 to 8
 * milliseconds while its workers run (less often while nothing moves): that
 * also makes the counter progress over transports where a one-sided
 * operation completes only when its target enters MPI (Open MPI's osc pt2pt
 * over TCP). At most 2^30 - 2 batches per rank.
 *
 * Results travel to rank 0 (records of chunk index and bytes, as from the
 * process workers): rank 0 gets them in chunk order in *out and on_result
 * (or as they arrive with unordered; in chunk order, rank 0 holds what comes
 * ahead of its turn, which with per-rank blocks can be the other ranks' whole
 * blocks: use unordered for large streamed results); the progress bar is
 * drawn on rank 0 only. A reduction whose on_result merges an accumulator (scout_stats,
 * histograms) on rank 0 therefore merges in chunk order and gives exactly the
 * result of one process.
 *
 * Writes: a chunk function that writes its own whole output chunks (or
 * shards) partitions the writes among the ranks; nothing here relies on file
 * locks, which are not trustworthy across nodes on NFS or Lustre.
 */
#ifndef SCOUT_MPI_H
#define SCOUT_MPI_H

#include <mpi.h>

#include "pmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Apply f to every chunk of arr across the ranks of comm (collective: every
 * rank of comm must call it, with the same array shape, chunks and
 * chunksize).
 *
 * MPI must be initialised with at least MPI_THREAD_FUNNELED (MPI_Init_thread)
 * and the function called from the thread that initialised it; only that
 * thread calls MPI. Each rank's workers are threads or forked processes as in
 * scout_pmap_chunks() (nb_workers 1 runs one worker thread beside the calling
 * thread, which serves MPI).
 *
 * Options are those of scout_pmap_chunks(): out, on_result and progress are
 * honoured on rank 0 only (other ranks get *out = NULL and no call); rank 0's
 * chunksize (0: count / (8 x the workers of all ranks), at most 1024) and its
 * choice of whether results are wanted at all apply to every rank; each
 * rank's cancel stops the whole map.
 *
 * @param out     rank 0: the results in chunk order (NULL: only on_result);
 *                other ranks: set to NULL
 * @param f       the chunk function
 * @param payload passed to f
 * @param arr     this rank's handle on the array
 * @param chunks  chunk extents, NULL: scout_array_chunks(arr)
 * @param opts    options, NULL: defaults
 * @param comm    the communicator (duplicated internally)
 * @return SCOUT_OK on every rank, or the same error on every rank:
 *         SCOUT_EWORKER when a chunk function failed on some rank (the
 *         message names the rank and the chunk: "rank 1: chunk (64, 0): ..."),
 *         SCOUT_EINTERRUPTED when a rank's cancel returned non-zero,
 *         SCOUT_EINVAL (bad arguments on some rank, MPI not initialised or
 *         without MPI_THREAD_FUNNELED, ranks disagreeing on the grid),
 *         SCOUT_ENOMEM, SCOUT_EIO.
 *         A rank that dies is MPI's business: with mpirun the job is ended.
 */
SCOUT_API int scout_pmap_chunks_mpi(scout_results **out, scout_chunk_fn f, void *payload,
				    scout_array *arr, const int64_t *chunks,
				    const scout_pmap_options *opts, MPI_Comm comm);

#ifdef __cplusplus
}
#endif

#endif
