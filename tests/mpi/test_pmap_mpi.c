/*
 * scout_pmap_chunks_mpi() against scout_pmap_chunks() and against results
 * computed here from the chunk coordinates: ordered and unordered delivery,
 * chunksize, variable-size and empty results, thread and process workers,
 * every chunk run exactly once across the ranks, errors and cancel on any
 * rank. Run by ctest under mpirun (tests/CMakeLists.txt) with 2, 3 and 4
 * ranks over TCP. `test_pmap_mpi balance` instead times an uneven workload.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "scout/mpi.h"

static int rank, nranks;

#define SHAPE0 37
#define SHAPE1 23

/* chunk index from its start, for a grid of c0 x c1 chunks */
typedef struct {
	int64_t c0, c1;
	int fail_at;        /* -1: none */
	unsigned char *ran; /* per chunk: run here */
	int slow_every;     /* balance: every slow_every-th chunk is slow */
	int fast_ms, slow_ms;
} job;

static size_t chunk_index(scout_array *arr, const job *j, const int64_t *start)
{
	int64_t n1 = (scout_array_shape(arr)[1] + j->c1 - 1) / j->c1;
	return (size_t)((start[0] / j->c0) * n1 + start[1] / j->c1);
}

/* the expected result of chunk i: (i % 5) * 3 bytes of (i * 7 + k) */
static size_t expected(size_t i, unsigned char *buf)
{
	size_t n = (i % 5) * 3;
	for (size_t k = 0; k < n; k++)
		buf[k] = (unsigned char)(i * 7 + k);
	return n;
}

static int chunk_fn(scout_array *arr, const int64_t *start, const int64_t *chunks,
		    scout_result *result, void *payload)
{
	(void)chunks;
	job *j = payload;
	size_t i = chunk_index(arr, j, start);
	if ((int)i == j->fail_at)
		return scout_result_set(NULL, NULL, 0); /* SCOUT_EINVAL with a message */
	if (j->ran)
		j->ran[i]++;
	unsigned char buf[16];
	size_t n = expected(i, buf);
	return scout_result_set(result, buf, n);
}

typedef struct {
	size_t next, count, bad;
	unsigned char *seen;
} order_check;

static void on_ordered(size_t i, const void *data, size_t size, void *payload)
{
	order_check *o = payload;
	unsigned char buf[16];
	size_t n = expected(i, buf);
	if (i != o->next || size != n || (n && memcmp(data, buf, n)) || (!n && data))
		o->bad++;
	o->next++;
	o->count++;
}

static void on_unordered(size_t i, const void *data, size_t size, void *payload)
{
	order_check *o = payload;
	unsigned char buf[16];
	size_t n = expected(i, buf);
	if (i >= 1000 || o->seen[i]++ || size != n || (n && memcmp(data, buf, n)))
		o->bad++;
	o->count++;
}

static void run_case(scout_array *arr, int64_t c0, int64_t c1, size_t chunksize, int nworkers,
		     scout_workers kind)
{
	int64_t chunks[2] = {c0, c1};
	job j = {c0, c1, -1, NULL, 0, 0, 0};
	size_t count = (size_t)((SHAPE0 + c0 - 1) / c0 * ((SHAPE1 + c1 - 1) / c1));
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.chunksize = chunksize;
	o.nb_workers = nworkers;
	o.workers = kind;

	/* ordered results in *out, compared with one process */
	scout_results *res = NULL, *ref = NULL;
	CHECK_OK(scout_pmap_chunks_mpi(&res, chunk_fn, &j, arr, chunks, &o, MPI_COMM_WORLD));
	if (rank == 0) {
		scout_pmap_options lo = o;
		lo.workers = SCOUT_WORKERS_THREADS;
		CHECK_OK(scout_pmap_chunks(&ref, chunk_fn, &j, arr, chunks, &lo));
		CHECK(scout_results_count(res) == count);
		CHECK(scout_results_count(ref) == count);
		for (size_t i = 0; i < count; i++) {
			size_t a, b;
			const void *pa = scout_results_get(res, i, &a);
			const void *pb = scout_results_get(ref, i, &b);
			unsigned char buf[16];
			size_t n = expected(i, buf);
			CHECK(a == b && a == n);
			if (a == n && n)
				CHECK(!memcmp(pa, buf, n) && !memcmp(pb, buf, n));
		}
	} else {
		CHECK(res == NULL);
	}
	scout_results_free(res);
	scout_results_free(ref);

	/* on_result in chunk order, on rank 0 only */
	order_check oc = {0};
	o.on_result = on_ordered;
	o.on_result_payload = &oc;
	CHECK_OK(scout_pmap_chunks_mpi(NULL, chunk_fn, &j, arr, chunks, &o, MPI_COMM_WORLD));
	CHECK(oc.bad == 0);
	CHECK(oc.count == (rank == 0 ? count : 0));

	/* unordered: each chunk once */
	order_check ou = {0};
	ou.seen = calloc(1000, 1);
	o.unordered = 1;
	o.on_result = on_unordered;
	o.on_result_payload = &ou;
	CHECK_OK(scout_pmap_chunks_mpi(NULL, chunk_fn, &j, arr, chunks, &o, MPI_COMM_WORLD));
	CHECK(ou.bad == 0);
	CHECK(ou.count == (rank == 0 ? count : 0));
	free(ou.seen);

	/* no results wanted: every chunk runs exactly once across the ranks */
	o.on_result = NULL;
	o.unordered = 0;
	if (kind == SCOUT_WORKERS_THREADS) {
		j.ran = calloc(count, 1);
		CHECK_OK(
		    scout_pmap_chunks_mpi(NULL, chunk_fn, &j, arr, chunks, &o, MPI_COMM_WORLD));
		unsigned char *sum = calloc(count, 1);
		MPI_Allreduce(j.ran, sum, (int)count, MPI_UNSIGNED_CHAR, MPI_SUM, MPI_COMM_WORLD);
		size_t once = 0;
		for (size_t i = 0; i < count; i++)
			once += sum[i] == 1;
		CHECK(once == count);
		free(sum);
		free(j.ran);
		j.ran = NULL;
	}

	/* a failing chunk: the same error on every rank, naming a rank and the chunk */
	j.fail_at = (int)(count / 2);
	int64_t fs[2] = {(int64_t)(j.fail_at / ((SHAPE1 + c1 - 1) / c1)) * c0,
			 (int64_t)(j.fail_at % ((SHAPE1 + c1 - 1) / c1)) * c1};
	char wbuf[64];
	const char *where = wbuf;
	snprintf(wbuf, sizeof wbuf, "chunk (%lld, %lld)", (long long)fs[0], (long long)fs[1]);
	res = NULL;
	CHECK_ERR(scout_pmap_chunks_mpi(&res, chunk_fn, &j, arr, chunks, &o, MPI_COMM_WORLD),
		  SCOUT_EWORKER, where);
	CHECK(strstr(scout_last_error(), "rank ") != NULL);
	CHECK(res == NULL);
}

static int cancel_calls;
static int cancel_after(void *payload)
{
	(void)payload;
	return ++cancel_calls > 3;
}

static int slow_fn(scout_array *arr, const int64_t *start, const int64_t *chunks,
		   scout_result *result, void *payload)
{
	(void)result;
	job *j = payload;
	size_t i = chunk_index(arr, j, start);
	int ms = j->slow_every && i % (size_t)j->slow_every == 0 ? j->slow_ms : j->fast_ms;
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	(void)chunks;
	return 0;
}

/*
 * Uneven work: 200 chunks of which every 10th sleeps 20x longer (200 ms vs
 * 10 ms: sleeps, so a busy machine does not change the work). The ideal time
 * on R ranks x 1 worker is the total / R; dynamic batches of one chunk must
 * stay within 1.3x of it (a static split would give a rank 10 of the 20 slow
 * chunks only by luck).
 */
/* slow_fn that also records the chunks run here */
static int slow_ran_fn(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	job *j = payload;
	j->ran[chunk_index(arr, j, start)] = 1;
	return slow_fn(arr, start, chunks, result, payload);
}

static void balance(void)
{
	int64_t shape[2] = {200, 1}, chunks[2] = {1, 1};
	scout_array *arr = NULL;
	CHECK_OK(scout_array_new(&arr, 2, shape, SCOUT_UINT8));
	job j = {1, 1, -1, NULL, 10, 10, 200};
	size_t count = 200;
	double total_ms = 0;
	for (size_t i = 0; i < count; i++)
		total_ms += i % 10 == 0 ? j.slow_ms : j.fast_ms;
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.nb_workers = 1;
	o.chunksize = 1;
	MPI_Barrier(MPI_COMM_WORLD);
	double t0 = MPI_Wtime();
	CHECK_OK(scout_pmap_chunks_mpi(NULL, slow_fn, &j, arr, chunks, &o, MPI_COMM_WORLD));
	double t = (MPI_Wtime() - t0) * 1000;
	double ideal = total_ms / nranks;
	if (rank == 0)
		fprintf(stderr, "balance: %zu chunks, %d ranks: %.0f ms, ideal %.0f ms (%.2fx)\n",
			count, nranks, t, ideal, t / ideal);
	CHECK(t <= 1.3 * ideal);
	scout_array_free(arr);
}

/*
 * Locality: 120 chunks of equal cost (5 ms sleeps), one chunk per batch. Each
 * rank takes its own contiguous block first, so along the chunk order the
 * rank that ran a chunk changes only at the blocks' edges and where a rank
 * helped another at the end: a few times. One shared counter handed
 * neighbouring chunks to alternating ranks (about one change per two chunks).
 */
static void locality(void)
{
	int64_t shape[2] = {120, 1}, chunks[2] = {1, 1};
	scout_array *arr = NULL;
	CHECK_OK(scout_array_new(&arr, 2, shape, SCOUT_UINT8));
	size_t count = 120;
	unsigned char *ran = calloc(count, 1);
	int *who = calloc(count, sizeof *who), *all = calloc(count, sizeof *all);
	job j = {1, 1, -1, ran, 0, 5, 5};
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.nb_workers = 1;
	o.chunksize = 1;
	CHECK_OK(scout_pmap_chunks_mpi(NULL, slow_ran_fn, &j, arr, chunks, &o, MPI_COMM_WORLD));
	for (size_t i = 0; i < count; i++)
		who[i] = ran[i] ? rank + 1 : 0;
	MPI_Reduce(who, all, (int)count, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		int changes = 0, missing = 0;
		for (size_t i = 0; i < count; i++) {
			missing += all[i] == 0;
			changes += i > 0 && all[i] != all[i - 1];
		}
		fprintf(stderr, "locality: %zu chunks on %d ranks, the runner changed %d times\n",
			count, nranks, changes);
		CHECK(missing == 0);
		CHECK(changes <= 20);
	}
	free(ran);
	free(who);
	free(all);
	scout_array_free(arr);
}

int main(int argc, char **argv)
{
	int provided;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	int64_t shape[2] = {SHAPE0, SHAPE1};
	scout_array *arr = NULL;
	CHECK_OK(scout_array_new(&arr, 2, shape, SCOUT_UINT8));

	if (argc > 1 && !strcmp(argv[1], "balance")) {
		balance();
		locality();
	} else {
		run_case(arr, 4, 5, 0, 2, SCOUT_WORKERS_THREADS);
		run_case(arr, 1, 1, 1, 1, SCOUT_WORKERS_THREADS);
		run_case(arr, 3, 23, 7, 2, SCOUT_WORKERS_THREADS);
		run_case(arr, 2, 2, 3, 2, SCOUT_WORKERS_PROCESSES);

		/* cancel on rank 0 only: every rank stops with SCOUT_EINTERRUPTED */
		job j = {1, 1, -1, NULL, 1, 2, 2};
		int64_t ones[2] = {1, 1};
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.nb_workers = 2;
		o.chunksize = 1;
		if (rank == 0)
			o.cancel = cancel_after;
		CHECK_ERR(scout_pmap_chunks_mpi(NULL, slow_fn, &j, arr, ones, &o, MPI_COMM_WORLD),
			  SCOUT_EINTERRUPTED, NULL);

		/* ranks that disagree on the grid: SCOUT_EINVAL everywhere, no hang */
		int64_t mine[2] = {rank == 0 ? 2 : 3, 3};
		CHECK_ERR(
		    scout_pmap_chunks_mpi(NULL, chunk_fn, &j, arr, mine, NULL, MPI_COMM_WORLD),
		    SCOUT_EINVAL, "differ");
	}
	scout_array_free(arr);
	int failures = check_failures, any = 0;
	MPI_Allreduce(&failures, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	fprintf(stderr, "rank %d: ", rank);
	check_summary();
	MPI_Finalize();
	return any ? 1 : 0;
}
