/*
 * Dispatch cost of scout_pmap_chunks_mpi(): a no-op chunk function over a
 * grid of one-element chunks, so the time is the scheduler's (batches taken
 * from the counter on rank 0, completions reported to rank 0).
 *
 *   mpirun -n R bench_pmap_mpi [CHUNKS [CHUNKSIZE [WORKERS]]]
 *
 * Prints, on rank 0: chunks, batches, seconds, the cost per batch (wall time
 * x ranks / batches: how long one batch occupies a rank) and the batches per
 * second the counter served. Compare with the same run on one rank.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "scout/mpi.h"
#include "scout/scout.h"

static int noop(scout_array *arr, const int64_t *start, const int64_t *chunks, scout_result *result,
		void *payload)
{
	(void)arr;
	(void)start;
	(void)chunks;
	(void)result;
	(void)payload;
	return 0;
}

int main(int argc, char **argv)
{
	int provided, rank, size;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long long n = argc > 1 ? atoll(argv[1]) : 1000000;
	size_t cs = argc > 2 ? (size_t)atoll(argv[2]) : 0;
	int workers = argc > 3 ? atoi(argv[3]) : 1;
	int64_t shape[1] = {n}, chunks[1] = {1};
	scout_array *arr = NULL;
	if (scout_array_new(&arr, 1, shape, SCOUT_UINT8) < 0) {
		fprintf(stderr, "%s\n", scout_last_error());
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.nb_workers = workers;
	o.chunksize = cs;
	MPI_Barrier(MPI_COMM_WORLD);
	double t0 = MPI_Wtime();
	int rc = scout_pmap_chunks_mpi(NULL, noop, NULL, arr, chunks, &o, MPI_COMM_WORLD);
	double t = MPI_Wtime() - t0;
	if (rc < 0)
		fprintf(stderr, "rank %d: %s\n", rank, scout_last_error());
	if (rank == 0) {
		size_t b = cs ? cs : (size_t)n / ((size_t)size * workers * 8);
		if (b > 1024 && !cs)
			b = 1024;
		if (b < 1)
			b = 1;
		double nb = (double)((size_t)n / b + ((size_t)n % b != 0));
		printf(
		    "ranks %d x workers %d: %lld chunks, chunksize %zu, %.0f batches: %.3f s, "
		    "%.1f us per batch per rank, %.0f batches/s from the counter, %.0f chunks/s\n",
		    size, workers, n, b, nb, t, t * size / nb * 1e6, nb / t, (double)n / t);
	}
	scout_array_free(arr);
	MPI_Finalize();
	return rc < 0;
}
