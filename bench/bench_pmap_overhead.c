/*
 * Per-chunk overhead of scout_pmap_chunks(): a no-op chunk function over
 * 1,000,000 chunks (a 1-D memory array of 1e6 uint8 with chunks of 1), with
 * the default (online CPUs) thread and process workers, the inline runner,
 * and the threads again when every chunk returns a small result. Each line
 * is the best of 3 runs (the time of scout_pmap_chunks() only, not of
 * scout_results_free()).
 * Compare with bench/peers/pool_noop.py (multiprocessing.Pool.map).
 *
 *   bench_pmap_overhead [count]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "scout/scout.h"

/* each configuration runs this many times; the best time is printed */
#define REPEAT 3

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

static int small_result(scout_array *arr, const int64_t *start, const int64_t *chunks,
			scout_result *result, void *payload)
{
	(void)arr;
	(void)chunks;
	(void)payload;
	return scout_result_set(result, start, sizeof *start);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run(const char *label, scout_array *arr, scout_chunk_fn f, int keep,
	       scout_workers workers, int nb_workers, int64_t count)
{
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.workers = workers;
	o.nb_workers = nb_workers;
	int64_t chunks[1] = {1};
	double t = 1e30;
	for (int rep = 0; rep < REPEAT; rep++) {
		scout_results *res = NULL;
		double t0 = now();
		int rc = scout_pmap_chunks(keep ? &res : NULL, f, NULL, arr, chunks, &o);
		double dt = now() - t0;
		if (rc < 0) {
			fprintf(stderr, "bench: %s: %s\n", label, scout_last_error());
			return 1;
		}
		if (keep && scout_results_count(res) != (size_t)count) {
			fprintf(stderr, "bench: %s: %zu results\n", label,
				scout_results_count(res));
			scout_results_free(res);
			return 1;
		}
		scout_results_free(res);
		t = dt < t ? dt : t;
	}
	printf("%-40s %8.3f s  %7.3f us/chunk\n", label, t, t * 1e6 / (double)count);
	return 0;
}

int main(int argc, char **argv)
{
	int64_t count = argc > 1 ? atoll(argv[1]) : 1000000;
	scout_array *arr;
	if (scout_array_new(&arr, 1, &count, SCOUT_UINT8) < 0) {
		fprintf(stderr, "bench: %s\n", scout_last_error());
		return 1;
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("scout_pmap_chunks, no-op f, %lld chunks, %ld online CPUs (default workers), "
	       "best of %d\n",
	       (long long)count, cpus, REPEAT);
	int fails = 0;
	fails += run("threads, no-op, results kept", arr, noop, 1, SCOUT_WORKERS_THREADS, 0, count);
	fails +=
	    run("processes, no-op, results kept", arr, noop, 1, SCOUT_WORKERS_PROCESSES, 0, count);
	fails += run("threads, no-op, out = NULL", arr, noop, 0, SCOUT_WORKERS_THREADS, 0, count);
	fails +=
	    run("processes, no-op, out = NULL", arr, noop, 0, SCOUT_WORKERS_PROCESSES, 0, count);
	fails +=
	    run("inline (nb_workers = 1), no-op", arr, noop, 1, SCOUT_WORKERS_THREADS, 1, count);
	fails += run("threads, 8-byte result per chunk", arr, small_result, 1,
		     SCOUT_WORKERS_THREADS, 0, count);
	fails += run("processes, 8-byte result per chunk", arr, small_result, 1,
		     SCOUT_WORKERS_PROCESSES, 0, count);
	scout_array_free(arr);
	return fails ? 1 : 0;
}
