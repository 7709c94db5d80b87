/*
 * scout demo: a map-reduce over a volume in shared memory.
 *
 * 1. Create a 128 x 128 x 128 uint16 volume in shared memory and fill it with
 *    a pattern.
 * 2. Map a per-chunk reduction (sum, min, max) over its 32^3 chunks with
 *    process workers; each worker returns a small struct as the chunk's result.
 * 3. Combine the per-chunk results and compare them with a single-threaded
 *    pass over the whole volume. Exit 1 if they differ.
 *
 *   demo [edge [chunk [workers]]]     (defaults: 128 32 0 = one per CPU)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <scout/scout.h>

/* What each chunk reduces to. */
typedef struct {
	uint64_t sum;
	uint16_t min, max;
	uint64_t count;
} stats;

/* The chunk function: runs in a worker process, once per chunk. */
static int chunk_stats(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	(void)payload;
	const int64_t *shape = scout_array_shape(arr);
	int64_t stop[3], n = 1;
	for (int i = 0; i < 3; i++) {
		/* edge chunks are clipped by the chunk function */
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		n *= stop[i] - start[i];
	}
	uint16_t *box = malloc((size_t)n * sizeof *box);
	if (!box)
		return SCOUT_ENOMEM;
	int rc = scout_extract_box(box, arr, start, stop);
	if (rc < 0) {
		free(box);
		return rc;
	}
	stats s = {0, UINT16_MAX, 0, (uint64_t)n};
	for (int64_t i = 0; i < n; i++) {
		s.sum += box[i];
		s.min = box[i] < s.min ? box[i] : s.min;
		s.max = box[i] > s.max ? box[i] : s.max;
	}
	free(box);
	return scout_result_set(result, &s, sizeof s);
}

/* A pattern with structure on every axis. */
static uint16_t pattern(int64_t z, int64_t y, int64_t x)
{
	return (uint16_t)((z * 7 + y * 13 + x * 3 + (x * y * z) % 101) % 4096);
}

static int fail(const char *what)
{
	fprintf(stderr, "demo: %s: %s\n", what, scout_last_error());
	return 2;
}

int main(int argc, char **argv)
{
	int64_t edge = argc > 1 ? atoll(argv[1]) : 128;
	int64_t c = argc > 2 ? atoll(argv[2]) : 32;
	int workers = argc > 3 ? atoi(argv[3]) : 0;
	int64_t shape[3] = {edge, edge, edge}, chunks[3] = {c, c, c};

	/* 1. the volume, in shared memory so that worker processes can see it */
	scout_shm *shm;
	if (scout_shm_create(&shm, 3, shape, SCOUT_UINT16) < 0)
		return fail("shm_create");
	uint16_t *vol = scout_shm_data(shm);
	for (int64_t z = 0; z < edge; z++)
		for (int64_t y = 0; y < edge; y++)
			for (int64_t x = 0; x < edge; x++)
				vol[(z * edge + y) * edge + x] = pattern(z, y, x);
	scout_array *arr;
	if (scout_shm_array(&arr, shm) < 0) {
		scout_shm_free(shm);
		return fail("shm_array");
	}

	/* 2. the map, with process workers and a progress bar */
	scout_pmap_options opts = SCOUT_PMAP_OPTIONS_INIT;
	opts.workers = SCOUT_WORKERS_PROCESSES;
	opts.nb_workers = workers;
	opts.progress = 1;
	scout_results *results;
	if (scout_pmap_chunks(&results, chunk_stats, NULL, arr, chunks, &opts) < 0) {
		scout_array_free(arr);
		scout_shm_free(shm);
		return fail("pmap_chunks");
	}

	/* 3. reduce the per-chunk results... */
	stats par = {0, UINT16_MAX, 0, 0};
	for (size_t i = 0; i < scout_results_count(results); i++) {
		size_t size;
		const stats *s = scout_results_get(results, i, &size);
		if (!s || size != sizeof *s) {
			fprintf(stderr, "demo: chunk %zu returned %zu bytes\n", i, size);
			return 2;
		}
		par.sum += s->sum;
		par.count += s->count;
		par.min = s->min < par.min ? s->min : par.min;
		par.max = s->max > par.max ? s->max : par.max;
	}
	size_t nchunks = scout_results_count(results);
	scout_results_free(results);
	scout_array_free(arr);

	/* ...and check against one pass in this thread */
	stats ref = {0, UINT16_MAX, 0, 0};
	size_t n = (size_t)(edge * edge * edge);
	for (size_t i = 0; i < n; i++) {
		ref.sum += vol[i];
		ref.min = vol[i] < ref.min ? vol[i] : ref.min;
		ref.max = vol[i] > ref.max ? vol[i] : ref.max;
	}
	ref.count = n;
	scout_shm_free(shm);

	printf("volume %" PRId64 "^3 uint16 in shared memory, %zu chunks of %" PRId64 "^3\n", edge,
	       nchunks, c);
	printf("%-22s %14s %6s %6s %10s\n", "", "sum", "min", "max", "voxels");
	printf("%-22s %14" PRIu64 " %6u %6u %10" PRIu64 "\n", "pmap (processes)", par.sum,
	       (unsigned)par.min, (unsigned)par.max, par.count);
	printf("%-22s %14" PRIu64 " %6u %6u %10" PRIu64 "\n", "single-threaded check", ref.sum,
	       (unsigned)ref.min, (unsigned)ref.max, ref.count);
	int same = par.sum == ref.sum && par.min == ref.min && par.max == ref.max &&
		   par.count == ref.count;
	printf("%s\n", same ? "OK: the results agree" : "MISMATCH");
	return same ? 0 : 1;
}
