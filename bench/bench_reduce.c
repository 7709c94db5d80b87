/*
 * bench_reduce: reduce (sum, min, max) every element of an array with
 * scout_pmap_chunks(), optionally reading every chunk with a ghost shell
 * (workloads W1, W2, W3 and W6 of bench/README.md).
 *
 * usage: bench_reduce ARRAY [--ghost N] [--workers W] [--processes] [--chunksize K]
 *                     [--cache-slabs S]
 *
 * --cache-slabs S sets the Zarr chunk cache to S slabs of chunks (one chunk
 * thick along axis 0): the working set of a C-order scan with ghosts, instead
 * of the library's default budget.
 *
 * Each chunk function extracts its chunk (or its ghosted chunk: the chunk grown
 * by N voxels on every side, clipped to the array) into a buffer reused by its
 * thread, reduces it and returns {sum, min, max} as its result; the results are
 * merged as they arrive (on_result). With a ghost shell the sums therefore count
 * the overlapping voxels once per block that reads them, as the peers do.
 *
 * prints one line of "key value" pairs:
 *   seconds S open_seconds S chunks N sum N min N max N
 *   [decoded N hits N misses N read N]   (Zarr arrays, when the library has counters)
 * "seconds" is the time of scout_pmap_chunks() alone; open_seconds that of
 * scout_array_open(); cpu_seconds the CPU time (all threads, and reaped process
 * workers) of scout_pmap_chunks(), which compares fairly on a shared machine. The counters are the
 * calling process's: with --processes the forked workers count their own, and 0 is printed.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <scout/scout.h>

typedef struct {
	uint64_t sum;
	uint64_t min;
	uint64_t max;
} reduction;

typedef struct {
	int64_t ghost[SCOUT_MAX_NDIM];
	int use_ghost;
	scout_dtype dtype;
	size_t itemsize;
	/* merged in the calling thread by on_result */
	reduction total;
	size_t nresults;
} ctx;

/* one buffer per worker thread, of the largest box size, all freed at the end */
static _Thread_local void *tls_buf;
static pthread_mutex_t bufs_lock = PTHREAD_MUTEX_INITIALIZER;
static void **bufs;
static size_t nbufs, capbufs;
static size_t buf_bytes;

static void *thread_buffer(void)
{
	if (tls_buf)
		return tls_buf;
	void *p = malloc(buf_bytes ? buf_bytes : 1);
	if (!p)
		return NULL;
	pthread_mutex_lock(&bufs_lock);
	if (nbufs == capbufs) {
		size_t nc = capbufs ? 2 * capbufs : 64;
		void **nb = realloc(bufs, nc * sizeof *nb);
		if (!nb) {
			pthread_mutex_unlock(&bufs_lock);
			free(p);
			return NULL;
		}
		bufs = nb;
		capbufs = nc;
	}
	bufs[nbufs++] = p;
	pthread_mutex_unlock(&bufs_lock);
	tls_buf = p;
	return p;
}

/*
 * sum/min/max of n values of type T. Sums of 8/16-bit values are accumulated
 * in 32 bits over blocks of 65536 values (65536 * 65535 < 2^32) and then
 * added to 64 bits: that lets the compiler vectorize the loop (widening adds,
 * packed min/max). Built for AVX2 and for the baseline, picked at run time.
 */
#define DEFINE_REDUCE(NAME, T, ACC)                                                                \
	__attribute__((target_clones("avx2", "default"))) static reduction NAME(const T *v,        \
										size_t n)          \
	{                                                                                          \
		reduction r = {0, v[0], v[0]};                                                     \
		T mn = v[0], mx = v[0];                                                            \
		for (size_t b = 0; b < n; b += 65536) {                                            \
			size_t e = n - b < 65536 ? n : b + 65536;                                  \
			ACC s = 0;                                                                 \
			for (size_t k = b; k < e; k++) {                                           \
				T x = v[k];                                                        \
				s += x;                                                            \
				mn = x < mn ? x : mn;                                              \
				mx = x > mx ? x : mx;                                              \
			}                                                                          \
			r.sum += s;                                                                \
		}                                                                                  \
		r.min = mn;                                                                        \
		r.max = mx;                                                                        \
		return r;                                                                          \
	}

DEFINE_REDUCE(reduce_u8, uint8_t, uint32_t)
DEFINE_REDUCE(reduce_u16, uint16_t, uint32_t)
DEFINE_REDUCE(reduce_u32, uint32_t, uint64_t)
DEFINE_REDUCE(reduce_u64, uint64_t, uint64_t)

static int reduce_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
			scout_result *result, void *payload)
{
	ctx *c = payload;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM];
	int rc;
	if (c->use_ghost) {
		rc = scout_ghosted_bounds(lo, hi, ndim, shape, start, chunks, c->ghost);
		if (rc < 0)
			return rc;
	} else {
		for (int i = 0; i < ndim; i++) {
			lo[i] = start[i];
			hi[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		}
	}
	size_t n = 1;
	for (int i = 0; i < ndim; i++)
		n *= (size_t)(hi[i] - lo[i]);
	void *buf = thread_buffer();
	if (!buf)
		return SCOUT_ENOMEM;
	if ((rc = scout_extract_box(buf, arr, lo, hi)) < 0)
		return rc;
	reduction r = {0, 0, 0};
	if (n) {
		switch (c->dtype) {
		case SCOUT_UINT8:
			r = reduce_u8(buf, n);
			break;
		case SCOUT_UINT16:
			r = reduce_u16(buf, n);
			break;
		case SCOUT_UINT32:
			r = reduce_u32(buf, n);
			break;
		default:
			r = reduce_u64(buf, n);
			break;
		}
	}
	return scout_result_set(result, &r, sizeof r);
}

static void merge(size_t index, const void *data, size_t size, void *payload)
{
	ctx *c = payload;
	(void)index;
	reduction r;
	if (size != sizeof r)
		return;
	memcpy(&r, data, sizeof r);
	if (c->nresults == 0) {
		c->total = r;
	} else {
		c->total.sum += r.sum;
		c->total.min = r.min < c->total.min ? r.min : c->total.min;
		c->total.max = r.max > c->total.max ? r.max : c->total.max;
	}
	c->nresults++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds used so far by this process and its reaped children (process workers) */
static double cpu_now(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	double s = 0;
	const struct rusage *r[2] = {&self, &kids};
	for (int i = 0; i < 2; i++)
		s += (double)(r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec) +
		     1e-6 * (double)(r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec);
	return s;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_reduce ARRAY [--ghost N] [--workers W] [--processes] "
			"[--chunksize K] [--cache-slabs S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	ctx c;
	memset(&c, 0, sizeof c);
	scout_pmap_options opts = SCOUT_PMAP_OPTIONS_INIT;
	long ghost = 0, cache_slabs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ghost") && i + 1 < argc)
			ghost = atol(argv[++i]);
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			opts.nb_workers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--chunksize") && i + 1 < argc)
			opts.chunksize = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--cache-slabs") && i + 1 < argc)
			cache_slabs = atol(argv[++i]);
		else if (!strcmp(argv[i], "--processes"))
			opts.workers = SCOUT_WORKERS_PROCESSES;
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	if (!path || ghost < 0 || cache_slabs < 0)
		return usage();

	scout_array *arr = NULL;
	double t0 = now();
	if (scout_array_open(&arr, path, SCOUT_MODE_READ) < 0) {
		fprintf(stderr, "bench_reduce: %s\n", scout_last_error());
		return 1;
	}
	double t_open = now() - t0;
	if (cache_slabs > 0) {
		/* S slabs of chunks (one chunk thick along axis 0, the whole array on the
		 * others): a C-order scan with ghosts of up to one chunk needs the slabs
		 * before, at and after the current one, and some slack for the workers */
		const int64_t *shape = scout_array_shape(arr), *chunks = scout_array_chunks(arr);
		size_t slab = scout_dtype_size(scout_array_dtype(arr));
		for (int i = 0; i < scout_array_ndim(arr); i++)
			slab *=
			    (size_t)(i == 0 ? chunks[0]
					    : (shape[i] + chunks[i] - 1) / chunks[i] * chunks[i]);
		if (scout_zarr_set_cache_size(arr, (size_t)cache_slabs * slab) < 0) {
			fprintf(stderr, "bench_reduce: %s\n", scout_last_error());
			return 1;
		}
	}
	c.dtype = scout_array_dtype(arr);
	c.itemsize = scout_dtype_size(c.dtype);
	if (c.dtype != SCOUT_UINT8 && c.dtype != SCOUT_UINT16 && c.dtype != SCOUT_UINT32 &&
	    c.dtype != SCOUT_UINT64) {
		fprintf(stderr, "bench_reduce: %s: dtype %s is not an unsigned integer\n", path,
			scout_dtype_name(c.dtype));
		scout_array_free(arr);
		return 1;
	}
	for (int i = 0; i < SCOUT_MAX_NDIM; i++)
		c.ghost[i] = ghost;
	c.use_ghost = ghost > 0;
	/* the largest box a chunk function extracts: a ghosted chunk clipped to the shape */
	{
		int ndim = scout_array_ndim(arr);
		const int64_t *shape = scout_array_shape(arr);
		const int64_t *chunks = scout_array_chunks(arr);
		buf_bytes = c.itemsize;
		for (int i = 0; i < ndim; i++) {
			int64_t e = chunks[i] + 2 * ghost;
			buf_bytes *= (size_t)(e < shape[i] ? e : shape[i]);
		}
	}
	opts.unordered = 1;
	opts.on_result = merge;
	opts.on_result_payload = &c;

	t0 = now();
	double c0 = cpu_now();
	int rc = scout_pmap_chunks(NULL, reduce_chunk, &c, arr, NULL, &opts);
	double t = now() - t0, cpu = cpu_now() - c0;
	if (rc < 0) {
		fprintf(stderr, "bench_reduce: %s\n", scout_last_error());
		scout_array_free(arr);
		return 1;
	}
	printf("seconds %.6f open_seconds %.6f chunks %zu sum %" PRIu64 " min %" PRIu64
	       " max %" PRIu64 " cpu_seconds %.6f",
	       t, t_open, c.nresults, c.total.sum, c.total.min, c.total.max, cpu);
#ifdef SCOUT_ZARR_STATS_VERSION
	scout_zarr_stats st;
	memset(&st, 0, sizeof st);
	if (scout_zarr_stats_get(&st, arr) == 0)
		printf(" decoded %" PRIu64 " hits %" PRIu64 " misses %" PRIu64 " read %" PRIu64,
		       st.chunks_decoded, st.cache_hits, st.cache_misses, st.chunks_read);
#endif
	printf("\n");
	scout_array_free(arr);
	for (size_t i = 0; i < nbufs; i++)
		free(bufs[i]);
	free(bufs);
	return 0;
}
