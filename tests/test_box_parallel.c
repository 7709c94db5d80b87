/*
 * Parallel box I/O (scout/iothreads.h): scout_extract_box / scout_insert_box
 * over many chunks on the I/O pool.
 *
 * - every dtype, C and F order, edge chunks, absent chunks and a fill value,
 *   pool sizes 1, 2 and 7: every extract equals a reference kept in memory
 *   by this test (element-wise copies of what was inserted), and the chunk
 *   files written with 2 or 7 threads are byte for byte those written with 1;
 * - the pool was really used (its job counter) with more than one thread, and
 *   not below the size threshold, nor from pmap workers (threads, processes);
 * - several threads extracting and inserting at once;
 * - in a forked child while the parent's pool is busy (re-created lazily);
 * - a corrupt chunk and an unreadable chunk (run as nobody when root) are
 *   named by their key, the first in C order when several fail; an insert
 *   that fails leaves every chunk old or new;
 * - a folder of TIFF slices read in parallel; the first bad slice is named;
 * - sharded Zarr v3 arrays (C and F order, two dtypes, pools 1/2/7): boxes over
 *   several shards (shards on the pool) and within one shard (inner chunks on
 *   the pool), whole and partial shard writes, cached and uncached reads, all
 *   equal to the reference, shard files byte for byte those of one thread, and
 *   the first corrupt inner chunk in C order named with its shard;
 * - scout_set_io_threads() / SCOUT_IO_THREADS argument checks;
 * - a job wider than the pool (scout__workpool_run_wide) runs on more threads
 *   than the pool's size and no more than it asked; a parallel insert writes
 *   its chunk files past the page cache (bulk, O_DIRECT) on twice the pool's
 *   threads, or through it with SCOUT_DIRECT_IO=0.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "array/chunk_runner.h"
#include "array/zarr_impl.h"
#include "check.h"
#include "page_cache.h"
#include "core/prefault.h"
#include "core/workpool.h"
#include "store/store.h"

#define NOBODY 65534

static char root[64];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_random(void *buf, size_t nbytes, scout_dtype dt)
{
	unsigned char *p = buf;
	for (size_t i = 0; i < nbytes; i++)
		p[i] = (unsigned char)rnd();
	if (dt == SCOUT_BOOL)
		for (size_t i = 0; i < nbytes; i++)
			p[i] &= 1;
}

static const char *path_of(const char *name)
{
	static _Thread_local char buf[200];
	snprintf(buf, sizeof buf, "%s/%s", root, name);
	return buf;
}

static uint64_t jobs(void)
{
	scout_workpool_stats s;
	scout__workpool_stats(&s);
	return s.jobs_parallel;
}

/*
 * The reference: an element-wise copy of the 3-D box ext from src (shape ss,
 * at so) to dst (shape ds, at dof). Written here, independent of the library.
 */
static void ref_copy(void *dst, const int64_t *ds, const int64_t *dof, const void *src,
		     const int64_t *ss, const int64_t *so, const int64_t *ext, size_t isz)
{
	for (int64_t z = 0; z < ext[0]; z++)
		for (int64_t y = 0; y < ext[1]; y++)
			for (int64_t x = 0; x < ext[2]; x++) {
				size_t d = (size_t)(((dof[0] + z) * ds[1] + dof[1] + y) * ds[2] +
						    dof[2] + x);
				size_t s =
				    (size_t)(((so[0] + z) * ss[1] + so[1] + y) * ss[2] + so[2] + x);
				memcpy((char *)dst + d * isz, (const char *)src + s * isz, isz);
			}
}

static size_t box_elems(const int64_t *start, const int64_t *stop)
{
	return (size_t)((stop[0] - start[0]) * (stop[1] - start[1]) * (stop[2] - start[2]));
}

/* insert random data into [start, stop) of arr and of ref (shape shape) */
static int insert_both(scout_array *arr, void *ref, const int64_t *shape, const int64_t *start,
		       const int64_t *stop)
{
	scout_dtype dt = scout_array_dtype(arr);
	size_t isz = scout_dtype_size(dt), n = box_elems(start, stop);
	void *src = malloc(n * isz);
	fill_random(src, n * isz, dt);
	int rc = scout_insert_box(arr, start, stop, src);
	if (rc != SCOUT_OK)
		fprintf(stderr, "insert: %s\n", scout_last_error());
	int64_t ext[3], zero[3] = {0};
	for (int i = 0; i < 3; i++)
		ext[i] = stop[i] - start[i];
	ref_copy(ref, shape, start, src, ext, zero, ext, isz);
	free(src);
	return rc == SCOUT_OK;
}

/* test_matrix: box_equal reads each box three ways (below) */
static int all_groups;

/*
 * extract [start, stop) and compare with the reference; with all_groups and a
 * pool, also with each parallel read item one chunk (read_one) and two chunks
 * along x (read_group, uneven on a grid of 3), besides the automatic choice
 */
static int box_equal(scout_array *arr, const void *ref, const int64_t *start, const int64_t *stop)
{
	const int64_t *shape = scout_array_shape(arr);
	size_t isz = scout_dtype_size(scout_array_dtype(arr)), n = box_elems(start, stop);
	void *a = malloc(n * isz), *b = malloc(n * isz);
	int64_t ext[3], zero[3] = {0};
	for (int i = 0; i < 3; i++)
		ext[i] = stop[i] - start[i];
	ref_copy(b, ext, zero, ref, shape, start, ext, isz);
	int ok = 1;
	int64_t groups[3] = {0, 1, 2};
	for (int g = 0; g < (all_groups && scout_io_threads() > 1 ? 3 : 1); g++) {
		scout__zarr_set_read_group(groups[g]);
		memset(a, 0xA5, n * isz);
		int rc = scout_extract_box(a, arr, start, stop);
		if (rc != SCOUT_OK)
			fprintf(stderr, "extract: %s\n", scout_last_error());
		ok &= rc == SCOUT_OK && memcmp(a, b, n * isz) == 0;
	}
	scout__zarr_set_read_group(0);
	free(a);
	free(b);
	return ok;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

/* the chunk files of two arrays (nested keys) are the same, present or absent */
static int same_chunks(const char *a, const char *b, const int64_t *grid)
{
	int same = 1;
	for (int64_t i = 0; i < grid[0]; i++)
		for (int64_t j = 0; j < grid[1]; j++)
			for (int64_t k = 0; k < grid[2]; k++) {
				char pa[300], pb[300];
				snprintf(pa, sizeof pa, "%s/%lld/%lld/%lld", a, (long long)i,
					 (long long)j, (long long)k);
				snprintf(pb, sizeof pb, "%s/%lld/%lld/%lld", b, (long long)i,
					 (long long)j, (long long)k);
				size_t na = 0, nb = 0;
				void *da = test_read_file(pa, &na), *db = test_read_file(pb, &nb);
				if (!da != !db || (da && (na != nb || memcmp(da, db, na) != 0))) {
					fprintf(stderr, "chunk %s differs from %s\n", pa, pb);
					same = 0;
				}
				free(da);
				free(db);
			}
	return same;
}

static scout_array *create(const char *path, const char *dtype, char order, const int64_t *shape,
			   const int64_t *chunks, const char *compressor, const char *fill)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, shape, 3 * sizeof *shape);
	memcpy(o.chunks, chunks, 3 * sizeof *chunks);
	o.dtype = dtype;
	o.order = order;
	o.dimension_separator = '/';
	o.compressor = compressor;
	o.fill_value = fill;
	o.overwrite = 1;
	scout_array *a = NULL;
	CHECK_OK(scout_zarr_create(&a, path, &o));
	return a;
}

/* ---- every dtype x order x pool size ---- */

static const int64_t MSHAPE[3] = {37, 29, 45}, MCHUNKS[3] = {13, 11, 17}; /* 3x3x3, edges */

/* inserts and extracts of one array; returns 1 when all matched the reference */
static int matrix_case(const char *path, scout_dtype dt, char order, const char *compressor)
{
	char ts[8];
	scout_dtype_typestr(ts, dt, 0);
	const char *fill = dt == SCOUT_BOOL                                  ? "true"
			   : dt == SCOUT_COMPLEX64 || dt == SCOUT_COMPLEX128 ? "[7, -1]"
									     : "7";
	scout_array *a = create(path, ts, order, MSHAPE, MCHUNKS, compressor, fill);
	if (!a)
		return 0;
	size_t isz = scout_dtype_size(dt), n = (size_t)(MSHAPE[0] * MSHAPE[1] * MSHAPE[2]);
	unsigned char *ref = malloc(n * isz);
	/* the fill value as the array holds it */
	unsigned char fv[16];
	int64_t o1[3] = {0, 0, 0}, e1[3] = {1, 1, 1};
	int ok = scout_extract_box(fv, a, o1, e1) == SCOUT_OK;
	for (size_t i = 0; i < n; i++)
		memcpy(ref + i * isz, fv, isz);
	/* unaligned, over the far edges; the chunks at x = 0 and most at z = 0 stay absent */
	int64_t s1[3] = {13, 4, 17}, t1[3] = {37, 29, 45};
	ok &= insert_both(a, ref, MSHAPE, s1, t1);
	/* a row of whole chunks (across x = 0) and a part of their neighbours */
	int64_t s2[3] = {13, 11, 0}, t2[3] = {26, 22, 45};
	ok &= insert_both(a, ref, MSHAPE, s2, t2);
	/* two whole chunks, each a contiguous run of the source */
	int64_t s3[3] = {0, 11, 17}, t3[3] = {26, 22, 34};
	ok &= insert_both(a, ref, MSHAPE, s3, t3);
	/* extracts: the whole array, contiguous whole chunks, absent chunks, random */
	int64_t w0[3] = {0, 0, 0};
	ok &= box_equal(a, ref, w0, MSHAPE);
	int64_t s4[3] = {0, 11, 17}, t4[3] = {37, 22, 34};
	ok &= box_equal(a, ref, s4, t4);
	int64_t s5[3] = {0, 0, 0}, t5[3] = {13, 29, 17};
	ok &= box_equal(a, ref, s5, t5);
	for (int r = 0; r < 3; r++) {
		int64_t s[3], t[3];
		for (int i = 0; i < 3; i++) {
			s[i] = (int64_t)(rnd() % (uint64_t)MSHAPE[i]);
			t[i] = s[i] + 1 + (int64_t)(rnd() % (uint64_t)(MSHAPE[i] - s[i]));
		}
		ok &= box_equal(a, ref, s, t);
	}
	scout_array_free(a);
	/* a new handle (no cache) reads the same */
	CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ));
	if (a)
		ok &= box_equal(a, ref, w0, MSHAPE);
	scout_array_free(a);
	free(ref);
	return ok;
}

static void test_matrix(void)
{
	/* every box of 2 chunks or more goes to the pool */
	scout__chunks_set_min(2, 1);
	all_groups = 1;
	int64_t grid[3];
	for (int i = 0; i < 3; i++)
		grid[i] = (MSHAPE[i] + MCHUNKS[i] - 1) / MCHUNKS[i];
	int cases = 0, failed = 0;
	const int sizes[3] = {1, 2, 7};
	for (int d = 0; d < SCOUT_DTYPE_COUNT; d++)
		for (int o = 0; o < 2; o++) {
			/* blosc (SCOUT's default) for half the dtypes, no compressor for the others
			 */
			const char *comp = d % 2 ? "null" : NULL;
			char serial[200];
			uint64_t seed = rng;
			for (int p = 0; p < 3; p++) {
				rng = seed; /* the same data for every pool size */
				CHECK_OK(scout_set_io_threads(sizes[p]));
				CHECK(scout_io_threads() == sizes[p]);
				char name[100];
				snprintf(name, sizeof name, "m_%d_%c_%d", d, o ? 'F' : 'C',
					 sizes[p]);
				if (p == 0)
					snprintf(serial, sizeof serial, "%s", path_of(name));
				uint64_t j0 = jobs();
				int ok =
				    matrix_case(path_of(name), (scout_dtype)d, o ? 'F' : 'C', comp);
				CHECK(ok);
				/* the pool ran jobs exactly when it has more than one thread */
				CHECK(sizes[p] == 1 ? jobs() == j0 : jobs() > j0);
				if (p > 0) {
					char other[200];
					snprintf(other, sizeof other, "%s", path_of(name));
					CHECK(same_chunks(serial, other, grid));
					CHECK(scout__rmtree(other) == SCOUT_OK);
				}
				failed += !ok;
				cases++;
			}
			CHECK(scout__rmtree(serial) == SCOUT_OK);
		}
	scout__chunks_set_min(0, 0);
	all_groups = 0;
	fprintf(stderr, "matrix: %d arrays (14 dtypes x C/F x pools 1/2/7), %d failed\n", cases,
		failed);
}

/* ---- wide jobs and bulk writes ---- */

/* how many items of one job run at once */
typedef struct {
	atomic_int now, max;
} overlap;

static int wide_item(size_t i, void *p)
{
	(void)i;
	overlap *o = p;
	int now = atomic_fetch_add(&o->now, 1) + 1;
	int m = atomic_load(&o->max);
	while (now > m && !atomic_compare_exchange_weak(&o->max, &m, now))
		;
	usleep(20000);
	atomic_fetch_sub(&o->now, 1);
	return SCOUT_OK;
}

static void *usual_job(void *p)
{
	CHECK_OK(scout__workpool_run(16, wide_item, p, NULL));
	return NULL;
}

/*
 * A job may run on more threads than the pool's size (scout__workpool_run_wide,
 * for writes that wait on the device), never on more than it asked for; a job
 * of the usual width keeps to the size, also while a wide one has grown the
 * pool next to it. Items sleep, so they overlap whenever threads are there.
 */
static void test_wide(void)
{
	CHECK_OK(scout_set_io_threads(2));
	overlap w = {0}, u = {0}, one = {0};
	CHECK_OK(scout__workpool_run_wide(16, wide_item, &w, NULL, 4));
	CHECK(w.max > 2 && w.max <= 4);
	CHECK_OK(scout__workpool_run(16, wide_item, &u, NULL));
	CHECK(u.max <= 2);
	/* a width below the size is the size */
	CHECK_OK(scout__workpool_run_wide(16, wide_item, &one, NULL, 1));
	CHECK(one.max <= 2);
	/* a usual job first in the queue, a wide one growing the pool beside it */
	overlap u2 = {0}, w2 = {0};
	pthread_t t;
	CHECK(pthread_create(&t, NULL, usual_job, &u2) == 0);
	usleep(30000);
	CHECK_OK(scout__workpool_run_wide(16, wide_item, &w2, NULL, 4));
	pthread_join(t, NULL);
	CHECK(u2.max <= 2 && w2.max <= 4);
	fprintf(stderr,
		"wide: at most %d threads in a job of width 4, %d in the usual (2); "
		"side by side %d and %d\n",
		(int)w.max, (int)u.max, (int)u2.max, (int)w2.max);
	CHECK_OK(scout_set_io_threads(0));
}

/*
 * A parallel insert is a bulk write: its chunk files (128 KiB, no compressor)
 * go past the page cache where the file system has direct I/O, on twice the
 * pool's threads, and read back equal; with SCOUT_DIRECT_IO=0 (read when the
 * array is opened) they are cached, written on the pool's size.
 */
static void test_bulk_write(void)
{
	CHECK_OK(scout_set_io_threads(2));
	const int64_t shape[3] = {64, 64, 256}, chunks[3] = {32, 32, 64};
	const int64_t grid[3] = {2, 2, 4}, zero[3] = {0, 0, 0};
	size_t n = 64 * 64 * 256;
	uint16_t *ref = malloc(n * 2);
	int counts = test_counts_pages(root);
	for (int mode = 0; mode < 2; mode++) {
		if (mode)
			setenv("SCOUT_DIRECT_IO", "0", 1);
		char name[32];
		snprintf(name, sizeof name, "bulk%d", mode);
		scout_array *a = create(path_of(name), "<u2", 'C', shape, chunks, "null", "0");
		unsetenv("SCOUT_DIRECT_IO");
		CHECK(a != NULL);
		if (!a)
			continue;
		fill_random(ref, n * 2, SCOUT_UINT16);
		uint64_t j0 = jobs();
		CHECK_OK(scout_insert_box(a, zero, shape, ref));
		CHECK(jobs() == j0 + 1);
		scout_workpool_stats st;
		scout__workpool_stats(&st);
		if (mode == 0)
			CHECK(st.threads == 3); /* 2 x 2, the caller one of them */
		long cached_all = 0, total_all = 0;
		for (int64_t z = 0; z < grid[0]; z++)
			for (int64_t y = 0; y < grid[1]; y++)
				for (int64_t x = 0; x < grid[2]; x++) {
					char p[300];
					snprintf(p, sizeof p, "%s/%lld/%lld/%lld", path_of(name),
						 (long long)z, (long long)y, (long long)x);
					long total = 0, cached = test_cached_pages(p, &total);
					CHECK(cached >= 0 && total == 32);
					cached_all += cached;
					total_all += total;
				}
		if (counts && mode == 0)
			CHECK(cached_all <= 16 * 4); /* valgrind reads a mapped file's head */
		if (counts && mode == 1)
			CHECK(cached_all == total_all);
		fprintf(stderr, "bulk write (%s): %ld of %ld pages cached\n",
			mode ? "SCOUT_DIRECT_IO=0" : "default", cached_all, total_all);
		/* read back after the count: reading caches them */
		CHECK(box_equal(a, ref, zero, shape));
		scout_array_free(a);
	}
	free(ref);
	CHECK_OK(scout_set_io_threads(0));
}

/* ---- a bigger array at the default thresholds ---- */

/* 4.5 MB: above the size (4 MiB) from which a parallel read prefaults its destination */
static const int64_t BSHAPE[3] = {136, 128, 128}, BCHUNKS[3] = {32, 32, 32};
static uint16_t *bref; /* the reference of path_of("big") */

static void make_big(void)
{
	CHECK_OK(scout_set_io_threads(2));
	scout_array *a = create(path_of("big"), "<u2", 'C', BSHAPE, BCHUNKS, NULL, NULL);
	size_t n = (size_t)(BSHAPE[0] * BSHAPE[1] * BSHAPE[2]);
	bref = malloc(n * 2);
	memset(bref, 0, n * 2);
	int64_t s[3] = {0, 0, 0};
	uint64_t j0 = jobs();
	CHECK(a && insert_both(a, bref, BSHAPE, s, BSHAPE));
	CHECK(jobs() == j0 + 1);
	/* a read of 4 MiB or more: one job to prefault the destination, one to read */
	CHECK(a && box_equal(a, bref, s, BSHAPE));
	CHECK(jobs() == j0 + 3);
	/* two chunks, 128 KiB: below the threshold, on the calling thread */
	int64_t t[3] = {64, 32, 32};
	CHECK(a && box_equal(a, bref, s, t));
	CHECK(jobs() == j0 + 3);
	scout_array_free(a);
}

/* ---- several threads at once ---- */

typedef struct {
	int k;
	int ok;
	scout_array *a; /* the writers share one handle */
} thread_arg;

static void *io_thread(void *p)
{
	thread_arg *t = p;
	scout_array *a = t->a;
	t->ok = a != NULL;
	/* disjoint slabs that share chunks with the neighbours' */
	int64_t s[3] = {t->k * 32 + 5, 0, 0}, e[3] = {t->k * 32 + 37, BSHAPE[1], BSHAPE[2]};
	if (e[0] > BSHAPE[0])
		e[0] = BSHAPE[0];
	if (t->k == 0)
		s[0] = 0;
	if (a)
		t->ok &= insert_both(a, bref, BSHAPE, s, e);
	if (a)
		t->ok &= box_equal(a, bref, s, e);
	return NULL;
}

static void *read_thread(void *p)
{
	thread_arg *t = p;
	scout_array *a = NULL;
	int64_t z[3] = {0};
	t->ok = scout_array_open(&a, path_of("big"), SCOUT_MODE_READ) == SCOUT_OK;
	for (int r = 0; r < 3 && a; r++)
		t->ok &= box_equal(a, bref, z, BSHAPE);
	scout_array_free(a);
	return NULL;
}

static void test_threads(void)
{
	CHECK_OK(scout_set_io_threads(7));
	pthread_t th[4];
	thread_arg args[4];
	/*
	 * One handle for the writers: handles of one array in one process exclude
	 * each other with OFD locks, and valgrind 3.19 deadlocks on a thread
	 * blocked in fcntl(F_OFD_SETLKW) (see tests/CMakeLists.txt)
	 */
	scout_array *w = NULL;
	CHECK_OK(scout_array_open(&w, path_of("big"), SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	for (int k = 0; k < 4; k++) {
		args[k] = (thread_arg){k, 0, w};
		pthread_create(&th[k], NULL, io_thread, &args[k]);
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(th[k], NULL);
		CHECK(args[k].ok);
	}
	scout_array_free(w);
	uint64_t j0 = jobs();
	for (int k = 0; k < 4; k++) {
		args[k] = (thread_arg){k, 0, NULL};
		pthread_create(&th[k], NULL, read_thread, &args[k]);
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(th[k], NULL);
		CHECK(args[k].ok);
	}
	CHECK(jobs() == j0 + 24); /* prefault + read each */
	scout_workpool_stats st;
	scout__workpool_stats(&st);
	CHECK(st.threads == 6);
	/* shrinking: surplus threads leave */
	CHECK_OK(scout_set_io_threads(3));
	for (int tries = 0; tries < 200; tries++) {
		scout__workpool_stats(&st);
		if (st.threads <= 2)
			break;
		usleep(10000);
	}
	CHECK(st.threads <= 2);
	int64_t z[3] = {0};
	scout_array *a = NULL;
	CHECK_OK(scout_array_open(&a, path_of("big"), SCOUT_MODE_READ));
	CHECK(a && box_equal(a, bref, z, BSHAPE));
	scout_array_free(a);
	fprintf(stderr, "threads: 4 writers then 4 readers at once, pool of 7 then 3\n");
}

/* ---- pmap workers run box I/O inline ---- */

static int pmap_fn(scout_array *arr, const int64_t *start, const int64_t *chunks,
		   scout_result *result, void *payload)
{
	(void)payload;
	int64_t stop[3];
	for (int i = 0; i < 3; i++)
		stop[i] = start[i] + chunks[i] < BSHAPE[i] ? start[i] + chunks[i] : BSHAPE[i];
	uint64_t r[2];
	uint64_t j0 = jobs();
	r[0] = (uint64_t)box_equal(arr, bref, start, stop);
	r[1] = jobs() - j0;
	return scout_result_set(result, r, sizeof r);
}

static void test_pmap(void)
{
	CHECK_OK(scout_set_io_threads(7));
	scout_array *a = NULL;
	CHECK_OK(scout_array_open(&a, path_of("big"), SCOUT_MODE_READ));
	if (!a)
		return;
	int64_t ch[3] = {64, 128, 128}; /* 2 MiB, 32 Zarr chunks per pmap chunk */
	for (int w = 0; w < 2; w++) {
		scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
		po.nb_workers = 2;
		po.workers = w ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		scout_results *res = NULL;
		uint64_t j0 = jobs();
		CHECK_OK(scout_pmap_chunks(&res, pmap_fn, NULL, a, ch, &po));
		CHECK(jobs() == j0);
		for (size_t i = 0; res && i < scout_results_count(res); i++) {
			size_t sz = 0;
			const uint64_t *r = scout_results_get(res, i, &sz);
			CHECK(sz == 16 && r[0] == 1 && r[1] == 0);
		}
		scout_results_free(res);
	}
	/* the same box outside pmap uses the pool */
	uint64_t j0 = jobs();
	int64_t s[3] = {0, 0, 0};
	CHECK(box_equal(a, bref, s, ch));
	CHECK(jobs() == j0 + 1);
	scout_array_free(a);
	fprintf(stderr, "pmap: threads and processes read inline\n");
}

/* ---- fork ---- */

static volatile int bg_stop;

static void *bg_reader(void *p)
{
	int *ok = p;
	scout_array *a = NULL;
	int64_t z[3] = {0};
	*ok = scout_array_open(&a, path_of("big"), SCOUT_MODE_READ) == SCOUT_OK;
	while (a && !bg_stop)
		*ok &= box_equal(a, bref, z, BSHAPE);
	scout_array_free(a);
	return NULL;
}

static void test_fork(void)
{
	CHECK_OK(scout_set_io_threads(2));
	/*
	 * Fork while another thread reads with the pool. Not under valgrind: the
	 * child would report the reading thread's memory as leaked (that thread
	 * does not exist in the child). Not under AddressSanitizer: GCC 12's
	 * runtime does not hold its allocator's locks across fork, so a child
	 * forked while another thread is inside malloc can hang in its first
	 * malloc (seen once in this test). There the pool is idle but alive.
	 */
	int bg_ok = 1, with_bg = !getenv("SCOUT_UNDER_VALGRIND");
#ifdef __SANITIZE_ADDRESS__
	with_bg = 0;
#endif
	pthread_t bg;
	bg_stop = 0;
	if (with_bg)
		pthread_create(&bg, NULL, bg_reader, &bg_ok);
	usleep(20000);
	for (int round = 0; round < 3; round++) {
		fflush(stderr);
		pid_t pid = fork();
		if (pid == 0) {
			/* the parent's pool is not the child's: it starts again, empty */
			scout_workpool_stats st;
			scout__workpool_stats(&st);
			int ok = st.threads == 0 && st.jobs_parallel == 0;
			scout_array *a = NULL;
			int64_t z[3] = {0};
			ok &= scout_array_open(&a, path_of("big"), SCOUT_MODE_READ) == SCOUT_OK;
			ok &= a && box_equal(a, bref, z, BSHAPE);
			scout__workpool_stats(&st);
			ok &= st.threads == 1 && st.jobs_parallel == 2;
			scout_array_free(a);
			_exit(ok ? 0 : 1);
		}
		int status = 0;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	bg_stop = 1;
	if (with_bg)
		pthread_join(bg, NULL);
	CHECK(bg_ok);
	fprintf(stderr, "fork: 3 children read in parallel while the parent's pool was busy\n");
}

/* ---- errors ---- */

static void corrupt(const char *arr, const char *key)
{
	char p[300];
	snprintf(p, sizeof p, "%s/%s", arr, key);
	write_file(p, "not a blosc frame, not at all", 29);
}

static void test_errors(void)
{
	CHECK_OK(scout_set_io_threads(7));
	int64_t z[3] = {0};
	scout_array *a = create(path_of("err"), "<u2", 'C', BSHAPE, BCHUNKS, NULL, NULL);
	size_t n = (size_t)(BSHAPE[0] * BSHAPE[1] * BSHAPE[2]);
	uint16_t *ref = calloc(n, 2);
	CHECK(a && insert_both(a, ref, BSHAPE, z, BSHAPE));
	scout_array_free(a);
	corrupt(path_of("err"), "0/1/1");
	corrupt(path_of("err"), "3/0/2");
	uint16_t *buf = malloc(n * 2);
	for (int r = 0; r < 5; r++) {
		CHECK_OK(scout_array_open(&a, path_of("err"), SCOUT_MODE_READ | SCOUT_MODE_WRITE));
		if (!a)
			break;
		uint64_t j0 = jobs();
		/* the first bad chunk in C order is the one named, as a serial read would */
		CHECK_ERR(scout_extract_box(buf, a, z, BSHAPE), SCOUT_ECODEC, "chunk 0/1/1");
		CHECK(jobs() == j0 + 2);
		scout_array_free(a);
	}
	/* an insert needing the corrupt chunks' old contents (partly covered) fails, naming the
	 * first */
	CHECK_OK(scout_array_open(&a, path_of("err"), SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	uint16_t *newref = malloc(n * 2);
	memcpy(newref, ref, n * 2);
	int64_t s[3] = {1, 1, 1};
	char p1[300];
	size_t n1 = 0, n2 = 0;
	snprintf(p1, sizeof p1, "%s/0/1/1", path_of("err"));
	void *before = test_read_file(p1, &n1);
	CHECK(a && !insert_both(a, newref, BSHAPE, s, BSHAPE));
	CHECK(strstr(scout_last_error(), "chunk 0/1/1") != NULL);
	void *after = test_read_file(p1, &n2);
	CHECK(before && after && n1 == n2 && memcmp(before, after, n1) == 0);
	free(before);
	free(after);
	scout_array_free(a);
	/* every other chunk holds its old or its new contents */
	CHECK_OK(scout_set_io_threads(1));
	CHECK_OK(scout_array_open(&a, path_of("err"), SCOUT_MODE_READ));
	int olds = 0, news = 0;
	for (int64_t i = 0; a && i < (BSHAPE[0] + 31) / 32; i++)
		for (int64_t j = 0; j < BSHAPE[1] / 32; j++)
			for (int64_t k = 0; k < BSHAPE[2] / 32; k++) {
				if ((i == 0 && j == 1 && k == 1) || (i == 3 && j == 0 && k == 2))
					continue;
				int64_t cs[3] = {i * 32, j * 32, k * 32};
				int64_t ce[3] = {cs[0] + 32, cs[1] + 32, cs[2] + 32};
				ce[0] = ce[0] > BSHAPE[0] ? BSHAPE[0] : ce[0];
				int o = box_equal(a, ref, cs, ce), w = box_equal(a, newref, cs, ce);
				CHECK(o || w);
				olds += o && !w;
				news += w;
			}
	CHECK(news > 0);
	fprintf(stderr, "errors: corrupt chunk named; failed insert left %d chunks old, %d new\n",
		olds, news);
	scout_array_free(a);
	free(ref);
	free(newref);
	free(buf);
}

/* unreadable chunk files are named by key; as nobody when root (root reads anything) */
static int permission_case(const char *dir)
{
	char path[300];
	snprintf(path, sizeof path, "%s/perm", dir);
	int bad = 0;
	scout_set_io_threads(7);
	int64_t z[3] = {0};
	scout_array *a = create(path, "<u2", 'C', BSHAPE, BCHUNKS, NULL, NULL);
	size_t n = (size_t)(BSHAPE[0] * BSHAPE[1] * BSHAPE[2]);
	uint16_t *ref = calloc(n, 2), *buf = malloc(n * 2);
	bad |= !(a && insert_both(a, ref, BSHAPE, z, BSHAPE));
	scout_array_free(a);
	char p[400];
	snprintf(p, sizeof p, "%s/1/2/0", path);
	bad |= chmod(p, 0) != 0;
	snprintf(p, sizeof p, "%s/3/2/2", path);
	bad |= chmod(p, 0) != 0;
	bad |= scout_array_open(&a, path, SCOUT_MODE_READ) != SCOUT_OK;
	for (int r = 0; r < 3 && a; r++) {
		int rc = scout_extract_box(buf, a, z, BSHAPE);
		if (rc == SCOUT_OK || !strstr(scout_last_error(), "chunk 1/2/0")) {
			fprintf(stderr, "unreadable chunk: %d %s\n", rc, scout_last_error());
			bad = 1;
		}
	}
	scout_array_free(a);
	free(ref);
	free(buf);
	return bad;
}

static void test_permissions(void)
{
	int failed;
	if (geteuid() == 0) {
		char dir[64];
		snprintf(dir, sizeof dir, "/tmp/scout_boxperm_XXXXXX");
		CHECK(mkdtemp(dir) != NULL);
		CHECK(chown(dir, NOBODY, NOBODY) == 0);
		fflush(stderr);
		pid_t pid = fork();
		if (pid == 0) {
			if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0 ||
			    setuid(0) == 0)
				_exit(2);
			_exit(permission_case(dir));
		}
		int status = 0;
		waitpid(pid, &status, 0);
		failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK(scout__rmtree(dir) == SCOUT_OK);
	} else {
		failed = permission_case(root);
	}
	CHECK(!failed);
	fprintf(stderr, "permissions: an unreadable chunk is named\n");
}

/* ---- TIFF slices ---- */

static void test_tiff_stack(void)
{
	const int64_t shape[3] = {24, 70, 90};
	size_t plane = (size_t)(shape[1] * shape[2]);
	uint16_t *ref = malloc(plane * (size_t)shape[0] * 2);
	fill_random(ref, plane * (size_t)shape[0] * 2, SCOUT_UINT16);
	char dir[200];
	snprintf(dir, sizeof dir, "%s", path_of("slices"));
	CHECK(mkdir(dir, 0777) == 0);
	for (int64_t k = 0; k < shape[0]; k++) {
		scout_array *s = NULL;
		CHECK_OK(scout_array_wrap(&s, ref + (size_t)k * plane, 2, shape + 1, SCOUT_UINT16));
		char p[300];
		snprintf(p, sizeof p, "%s/s_%03lld.tif", dir, (long long)k);
		CHECK_OK(scout_tiff_write(p, s, NULL));
		scout_array_free(s);
	}
	const int sizes[3] = {1, 2, 7};
	for (int i = 0; i < 3; i++) {
		CHECK_OK(scout_set_io_threads(sizes[i]));
		scout_array *a = NULL;
		CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ));
		if (!a)
			continue;
		uint64_t j0 = jobs();
		int64_t z[3] = {0}, s[3] = {3, 5, 7}, e[3] = {20, 66, 80};
		CHECK(box_equal(a, ref, z, shape));
		CHECK(box_equal(a, ref, s, e));
		CHECK(sizes[i] == 1 ? jobs() == j0
				    : jobs() == j0 + 1); /* the second is < 256 KiB */
		scout_array_free(a);
	}
	/* bad slices: the first one in z is named */
	char p[300];
	snprintf(p, sizeof p, "%s/s_009.tif", dir);
	write_file(p, "II*\0garbage", 11);
	snprintf(p, sizeof p, "%s/s_015.tif", dir);
	write_file(p, "II*\0garbage", 11);
	CHECK_OK(scout_set_io_threads(7));
	scout_array *a = NULL;
	CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ));
	uint16_t *buf = malloc(plane * (size_t)shape[0] * 2);
	int64_t z[3] = {0};
	for (int r = 0; a && r < 3; r++) {
		int rc = scout_extract_box(buf, a, z, shape);
		if (r == 0)
			fprintf(stderr, "bad slice: %s\n", scout_last_error());
		CHECK(rc < 0 && strstr(scout_last_error(), "s_009.tif"));
	}
	scout_array_free(a);
	free(buf);
	free(ref);
	fprintf(stderr, "tiff: a stack of %lld slices read with pools 1/2/7\n",
		(long long)shape[0]);
}

static void test_api(void)
{
	CHECK_ERR(scout_set_io_threads(-1), SCOUT_EINVAL, "set_io_threads");
	CHECK_ERR(scout_set_io_threads(SCOUT_IO_THREADS_MAX + 1), SCOUT_EINVAL, "set_io_threads");
	CHECK_OK(scout_set_io_threads(5));
	CHECK(scout_io_threads() == 5);
	/* 0: back to the default, SCOUT_IO_THREADS (set by main) */
	CHECK_OK(scout_set_io_threads(0));
	CHECK(scout_io_threads() == 3);
	/* prefaulting a destination never changes what it holds */
	size_t n = (size_t)9 << 20;
	unsigned char *m = malloc(n);
	for (size_t i = 0; i < n; i += 1000)
		m[i] = (unsigned char)(i / 1000 + 1);
	scout__prefault(m + 5, n - 10);
	int same = 1;
	for (size_t i = 0; i < n; i += 1000)
		same &= m[i] == (unsigned char)(i / 1000 + 1);
	CHECK(same);
	free(m);
}

/* ---- sharded arrays: shards on the pool, or a shard's inner chunks ---- */

/* inner chunks of 80 KiB (u2): a shard holds 8 (640 KiB), above the pool's threshold */
static const int64_t SSHAPE[3] = {64, 80, 96}, SINNER[3] = {32, 40, 32},
		     SSHARD[3] = {64, 80, 64}; /* 1 x 1 x 2 shards, the second an edge */

static scout_array *create_sharded(const char *path, const char *dtype, char order)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, SSHAPE, sizeof SSHAPE);
	memcpy(o.chunks, SINNER, sizeof SINNER);
	memcpy(o.shards, SSHARD, sizeof SSHARD);
	o.dtype = dtype;
	o.order = order;
	o.zarr_format = 3;
	o.fill_value = "7";
	o.overwrite = 1;
	scout_array *a = NULL;
	CHECK_OK(scout_zarr_create(&a, path, &o));
	return a;
}

static int sharded_case(const char *path, const char *dtype, char order)
{
	scout_array *a = create_sharded(path, dtype, order);
	if (!a)
		return 0;
	size_t isz = scout_dtype_size(scout_array_dtype(a));
	size_t n = (size_t)(SSHAPE[0] * SSHAPE[1] * SSHAPE[2]);
	unsigned char *ref = malloc(n * isz), fv[16];
	int64_t z[3] = {0, 0, 0}, one[3] = {1, 1, 1};
	int ok = scout_extract_box(fv, a, z, one) == SCOUT_OK;
	for (size_t i = 0; i < n; i++)
		memcpy(ref + i * isz, fv, isz);
	/* whole shards (the first built directly, the edge one through a buffer) */
	ok &= insert_both(a, ref, SSHAPE, z, SSHAPE);
	/* partial writes: within shard 0 (read, merge, re-encode), across both shards */
	int64_t s1[3] = {3, 5, 7}, t1[3] = {60, 77, 50};
	ok &= insert_both(a, ref, SSHAPE, s1, t1);
	int64_t s2[3] = {10, 0, 40}, t2[3] = {64, 41, 96};
	ok &= insert_both(a, ref, SSHAPE, s2, t2);
	/* reads: everything, within one shard (4 inner chunks), a random box */
	ok &= box_equal(a, ref, z, SSHAPE);
	int64_t s3[3] = {0, 1, 2}, t3[3] = {64, 60, 40};
	ok &= box_equal(a, ref, s3, t3);
	int64_t s4[3], t4[3];
	for (int i = 0; i < 3; i++) {
		s4[i] = (int64_t)(rnd() % (uint64_t)SSHAPE[i]);
		t4[i] = s4[i] + 1 + (int64_t)(rnd() % (uint64_t)(SSHAPE[i] - s4[i]));
	}
	ok &= box_equal(a, ref, s4, t4);
	/* the same without the cache (inner chunks decoded straight into the box) */
	CHECK_OK(scout_zarr_set_cache_size(a, 0));
	ok &= box_equal(a, ref, z, SSHAPE);
	ok &= box_equal(a, ref, s3, t3);
	scout_array_free(a);
	CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ));
	if (a)
		ok &= box_equal(a, ref, z, SSHAPE);
	scout_array_free(a);
	free(ref);
	return ok;
}

/* the shard files c/0/0/0 and c/0/0/1 of two arrays are the same */
static int same_shards(const char *a, const char *b)
{
	int same = 1;
	for (int k = 0; k < 2; k++) {
		char pa[300], pb[300];
		snprintf(pa, sizeof pa, "%s/c/0/0/%d", a, k);
		snprintf(pb, sizeof pb, "%s/c/0/0/%d", b, k);
		size_t na = 0, nb = 0;
		void *da = test_read_file(pa, &na), *db = test_read_file(pb, &nb);
		if (!da || !db || na != nb || memcmp(da, db, na) != 0) {
			fprintf(stderr, "shard %s differs from %s\n", pa, pb);
			same = 0;
		}
		free(da);
		free(db);
	}
	return same;
}

/* overwrite the blosc header of in-shard inner chunk i of the shard at path (index at the end) */
static void corrupt_inner(const char *path, int i, int count)
{
	size_t n = 0;
	unsigned char *d = test_read_file(path, &n);
	size_t idx = n - (size_t)count * 16 - 4; /* [bytes, crc32c] */
	uint64_t off = 0;
	for (int b = 7; b >= 0; b--)
		off = off << 8 | d[idx + (size_t)i * 16 + (size_t)b];
	memset(d + off + 4, 0xff, 8); /* nbytes, blocksize */
	write_file(path, d, n);
	free(d);
}

static void test_sharded(void)
{
	scout__chunks_set_min(2, 1);
	const int sizes[3] = {1, 2, 7};
	const char *dtypes[2] = {"<u2", "<f8"};
	int cases = 0, failed = 0;
	for (int d = 0; d < 2; d++)
		for (int o = 0; o < 2; o++) {
			char serial[200];
			uint64_t seed = rng;
			for (int p = 0; p < 3; p++) {
				rng = seed;
				CHECK_OK(scout_set_io_threads(sizes[p]));
				char name[100];
				snprintf(name, sizeof name, "s_%d_%c_%d", d, o ? 'F' : 'C',
					 sizes[p]);
				if (p == 0)
					snprintf(serial, sizeof serial, "%s", path_of(name));
				uint64_t j0 = jobs();
				int ok = sharded_case(path_of(name), dtypes[d], o ? 'F' : 'C');
				CHECK(ok);
				CHECK(sizes[p] == 1 ? jobs() == j0 : jobs() > j0);
				if (p > 0) {
					char other[200];
					snprintf(other, sizeof other, "%s", path_of(name));
					CHECK(same_shards(serial, other));
					CHECK(scout__rmtree(other) == SCOUT_OK);
				}
				failed += !ok;
				cases++;
			}
			CHECK(scout__rmtree(serial) == SCOUT_OK);
		}
	scout__chunks_set_min(0, 0);

	/* at the default thresholds: a read within one shard is one job (its inner chunks) */
	CHECK_OK(scout_set_io_threads(2));
	scout_array *a = create_sharded(path_of("sh"), "<u2", 'C');
	size_t n = (size_t)(SSHAPE[0] * SSHAPE[1] * SSHAPE[2]);
	uint16_t *ref = malloc(n * 2), *buf = malloc(n * 2);
	for (size_t i = 0; i < n; i++)
		ref[i] = 7;
	int64_t z[3] = {0, 0, 0}, s0[3] = {64, 80, 64}; /* shard 0 */
	CHECK(a && insert_both(a, ref, SSHAPE, z, SSHAPE));
	scout_array_free(a);
	CHECK_OK(scout_array_open(&a, path_of("sh"), SCOUT_MODE_READ));
	uint64_t j0 = jobs();
	CHECK(a && box_equal(a, ref, z, s0));
	CHECK(jobs() == j0 + 1);
	scout_array_free(a);
	/* inner chunks 1 and 6 of shard 0 corrupt: the first in C order is named */
	char sp[300];
	snprintf(sp, sizeof sp, "%s/c/0/0/0", path_of("sh"));
	corrupt_inner(sp, 6, 8);
	corrupt_inner(sp, 1, 8);
	for (int r = 0; r < 5; r++) {
		CHECK_OK(scout_array_open(&a, path_of("sh"), SCOUT_MODE_READ));
		if (!a)
			break;
		if (r % 2)
			CHECK_OK(scout_zarr_set_cache_size(a, 0));
		CHECK_ERR(scout_extract_box(buf, a, z, SSHAPE), SCOUT_ECODEC,
			  "shard c/0/0/0: inner chunk (0, 0, 1)");
		scout_array_free(a);
	}
	free(ref);
	free(buf);
	fprintf(stderr, "sharded: %d arrays (2 dtypes x C/F x pools 1/2/7), %d failed\n", cases,
		failed);
}

int main(void)
{
	/* read once, when the pool is first asked its size */
	setenv("SCOUT_IO_THREADS", "3", 1);
	snprintf(root, sizeof root, "/tmp/scout_boxpar_XXXXXX");
	if (!mkdtemp(root))
		return 1;
	test_api();
	test_wide();
	test_matrix();
	test_bulk_write();
	make_big();
	test_threads();
	test_pmap();
	test_fork();
	test_errors();
	test_permissions();
	test_tiff_stack();
	test_sharded();
	free(bref);
	CHECK(scout__rmtree(root) == SCOUT_OK);
	return check_summary();
}
