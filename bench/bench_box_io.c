/*
 * bench_box_io: one big scout_extract_box / scout_insert_box, the whole array
 * in one call (issue 18), on T I/O threads (scout_set_io_threads).
 *
 * usage: bench_box_io ARRAY_DIR [THREADS] [REPS] [--write OUT_DIR] [--warmup]
 *
 * Each repetition opens the array (the open is timed with the read, as a new
 * user would: open + read), and reads it whole:
 *   read       into a fresh destination (malloc'd for this repetition: the
 *              kernel maps its pages on first touch, during the read)
 *   read_warm  into a destination already touched (the first-touch cost out)
 *   prefault   the time to fault the fresh destination in on T threads first
 *              (MADV_POPULATE_WRITE), and read_prefaulted = prefault + read
 * With --write, the array read is then written whole into a new Zarr array at
 * OUT_DIR/<rep> (same shape, chunks, dtype; SCOUT's codec: blosc zstd 1
 * bitshuffle) with one scout_insert_box, each repetition into a new array (its
 * creation not timed; the caller removes OUT_DIR).
 * --warmup: one untimed read (and with --write one untimed write, into
 * OUT_DIR/warmup) first, so that a run of one repetition measures the library
 * warm (its threads started, its buffer pool mapped), as the later
 * repetitions of a longer run do.
 * prints one line per measure: "<name>_seconds <median> cpu_seconds <median>"
 * (the write's line also "sys_seconds <median>": its system CPU time) and "sum <sum of the
 * elements>" (uint8/uint16 arrays) to compare with peers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scout/scout.h"
#include "store/store.h"

#define MAXREPS 32

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* system CPU time of the process so far (all threads) */
static double sys_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_box_io: %s: %s\n", what, scout_last_error());
	exit(1);
}

typedef struct {
	char *p;
	size_t n;
} span;

static void *populate(void *arg)
{
	span *s = arg;
#ifdef MADV_POPULATE_WRITE
	uintptr_t a = ((uintptr_t)s->p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)s->p + s->n) & ~(uintptr_t)4095;
	if (b > a && madvise((void *)a, b - a, MADV_POPULATE_WRITE) == 0)
		return NULL;
#endif
	for (size_t i = 0; i < s->n; i += 4096)
		s->p[i] = 0;
	return NULL;
}

/* fault n bytes at p in on t threads */
static void prefault(char *p, size_t n, int t)
{
	pthread_t th[256];
	span sp[256];
	if (t > 256)
		t = 256;
	size_t part = (n / (size_t)t + 4095) & ~(size_t)4095;
	int k = 0;
	for (size_t off = 0; off < n && k < t; off += part, k++) {
		sp[k].p = p + off;
		sp[k].n = off + part > n ? n - off : part;
		pthread_create(&th[k], NULL, populate, &sp[k]);
	}
	for (int i = 0; i < k; i++)
		pthread_join(th[i], NULL);
}

/* open + read the whole array into dst (NULL: a fresh malloc'd one, returned) */
static void *read_whole(const char *path, void *dst, size_t *nbytes, scout_array **keep)
{
	scout_array *a;
	if (scout_array_open(&a, path, SCOUT_MODE_READ) != SCOUT_OK)
		die(path);
	*nbytes = scout_array_nbytes(a);
	if (!dst && !(dst = malloc(*nbytes)))
		die("out of memory");
	int64_t z[SCOUT_MAX_NDIM] = {0};
	if (scout_extract_box(dst, a, z, scout_array_shape(a)) != SCOUT_OK)
		die("extract_box");
	if (keep)
		*keep = a;
	else
		scout_array_free(a);
	return dst;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *out = NULL;
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), reps = 3, pos = 0, warmup = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--write") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--warmup"))
			warmup = 1;
		else if (pos == 0 && ++pos)
			path = argv[i];
		else if (pos == 1 && ++pos)
			threads = atoi(argv[i]);
		else if (pos == 2 && ++pos)
			reps = atoi(argv[i]);
	}
	if (!path) {
		fprintf(stderr, "usage: bench_box_io ARRAY_DIR [THREADS] [REPS] [--write OUT_DIR] "
				"[--warmup]\n");
		return 2;
	}
	if (threads < 1)
		threads = 1;
	if (reps < 1)
		reps = 1;
	if (reps > MAXREPS)
		reps = MAXREPS;
	if (scout_set_io_threads(threads) != SCOUT_OK)
		die("set_io_threads");
	double t[MAXREPS], c[MAXREPS], tw[MAXREPS], cw[MAXREPS], tp[MAXREPS], sw[MAXREPS];
	size_t nbytes = 0;
	scout_array *arr = NULL;
	void *data = NULL;
	if (warmup)
		free(read_whole(path, NULL, &nbytes, NULL));
	for (int r = 0; r < reps; r++) {
		/* fresh destination */
		double t0 = now(), c0 = cpu_now();
		void *d = read_whole(path, NULL, &nbytes, r == reps - 1 ? &arr : NULL);
		t[r] = now() - t0;
		c[r] = cpu_now() - c0;
		if (r == reps - 1)
			data = d;
		else
			free(d);
		/* the first-touch cost alone, on the same threads */
		char *f = malloc(nbytes);
		if (!f)
			die("out of memory");
		t0 = now();
		prefault(f, nbytes, threads);
		tp[r] = now() - t0;
		free(f);
	}
	/* a destination already touched */
	for (int r = 0; r < reps; r++) {
		double t0 = now(), c0 = cpu_now();
		read_whole(path, data, &nbytes, NULL);
		tw[r] = now() - t0;
		cw[r] = cpu_now() - c0;
	}
	double tpm = median(tp, reps);
	printf("read_seconds %.4f cpu_seconds %.4f threads %d bytes %zu\n", median(t, reps),
	       median(c, reps), threads, nbytes);
	printf("read_warm_seconds %.4f cpu_seconds %.4f\n", median(tw, reps), median(cw, reps));
	printf("prefault_seconds %.4f (fresh destination faulted in on %d threads)\n", tpm,
	       threads);
	scout_dtype dt = scout_array_dtype(arr);
	if (dt == SCOUT_UINT16 || dt == SCOUT_UINT8) {
		uint64_t sum = 0;
		if (dt == SCOUT_UINT16)
			for (size_t i = 0; i < nbytes / 2; i++)
				sum += ((const uint16_t *)data)[i];
		else
			for (size_t i = 0; i < nbytes; i++)
				sum += ((const uint8_t *)data)[i];
		printf("sum %llu\n", (unsigned long long)sum);
	}
	if (out) {
		scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
		o.ndim = scout_array_ndim(arr);
		memcpy(o.shape, scout_array_shape(arr), (size_t)o.ndim * sizeof(int64_t));
		memcpy(o.chunks, scout_array_chunks(arr), (size_t)o.ndim * sizeof(int64_t));
		char ts[8];
		scout_dtype_typestr(ts, dt, 0);
		o.dtype = ts;
		o.overwrite = 1;
		int64_t z[SCOUT_MAX_NDIM] = {0};
		/*
		 * Each repetition writes a new array OUT/<r>, none is deleted here:
		 * overwriting the previous one deleted 4096 files just before
		 * creating 4096, and ext4 skips the inodes freed in the last 30 s
		 * (recently_deleted(), reading each one's inode block), which cost
		 * ~0.3 ms per file create: an artefact of the loop, not of a write.
		 */
		if (mkdir(out, 0777) != 0 && errno != EEXIST)
			die(out);
		for (int r = warmup ? -1 : 0; r < reps; r++) {
			scout_array *w;
			char wpath[4096];
			if (r < 0)
				snprintf(wpath, sizeof wpath, "%s/warmup", out);
			else
				snprintf(wpath, sizeof wpath, "%s/%d", out, r);
			if (scout_zarr_create(&w, wpath, &o) != SCOUT_OK)
				die(wpath);
			double t0 = now(), c0 = cpu_now(), s0 = sys_now();
			if (scout_insert_box(w, z, o.shape, data) != SCOUT_OK)
				die("insert_box");
			if (r >= 0) {
				t[r] = now() - t0;
				c[r] = cpu_now() - c0;
				sw[r] = sys_now() - s0;
			}
			scout_array_free(w);
		}
		printf("write_seconds %.4f cpu_seconds %.4f sys_seconds %.4f\n", median(t, reps),
		       median(c, reps), median(sw, reps));
	}
	scout_array_free(arr);
	free(data);
	return 0;
}
