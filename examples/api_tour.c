/*
 * A tour of libscout's foundation API: every function of SCOUT's utils module
 * in C. Build it against an installed scout with
 *
 *     cc api_tour.c $(pkg-config --cflags --libs scout) -o api_tour
 *
 * and run it with a scratch directory: ./api_tour /tmp/somewhere
 * It exits 0 when every step gave the expected answer.
 */
#include <scout/scout.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "api_tour:%d: %s failed: %s\n", __LINE__, #cond,           \
				scout_last_error());                                               \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Per-chunk function: sum the chunk (clipped to the array) and return the sum. */
static int chunk_sum(scout_array *arr, const int64_t *start, const int64_t *chunks,
		     scout_result *result, void *payload)
{
	(void)payload;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int64_t stop[SCOUT_MAX_NDIM];
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		n *= (size_t)(stop[i] - start[i]);
	}
	uint16_t *buf = malloc(n * sizeof *buf);
	if (!buf)
		return SCOUT_ENOMEM;
	int rc = scout_extract_box(buf, arr, start, stop);
	uint64_t sum = 0;
	for (size_t i = 0; rc == SCOUT_OK && i < n; i++)
		sum += buf[i];
	free(buf);
	if (rc < 0)
		return rc;
	return scout_result_set(result, &sum, sizeof sum);
}

static void on_result(size_t chunk_index, const void *data, size_t size, void *payload)
{
	(void)chunk_index;
	uint64_t v;
	if (size == sizeof v) {
		memcpy(&v, data, sizeof v);
		*(uint64_t *)payload += v;
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	printf("scout %s\n", scout_version());

	/* dtypes */
	scout_dtype dt;
	int big;
	EXPECT(scout_dtype_parse(&dt, &big, "<u2") == SCOUT_OK && dt == SCOUT_UINT16 && !big);
	EXPECT(scout_dtype_size(dt) == 2);
	EXPECT(scout_dtype_parse(&dt, &big, "nonsense") == SCOUT_EFORMAT);
	EXPECT(strcmp(scout_strerror(SCOUT_EFORMAT), "unknown error") != 0);

	/* chunk geometry: a 10 x 7 image in 4 x 4 chunks */
	int64_t shape[2] = {10, 7}, chunks[2] = {4, 4}, nb[2];
	EXPECT(scout_chunk_dims(nb, 2, shape, chunks) == SCOUT_OK && nb[0] == 3 && nb[1] == 2);
	int64_t *starts = NULL;
	size_t count = 0;
	EXPECT(scout_chunk_coordinates(&starts, &count, 2, shape, chunks) == SCOUT_OK);
	EXPECT(count == 6 && starts[3] == 4 && starts[4] == 4 && starts[10] == 8 &&
	       starts[11] == 4);
	scout_free(starts);

	/* boxes */
	scout_box box;
	int64_t b0[2] = {1, 2}, b1[2] = {3, 5};
	EXPECT(scout_box_slice_idx(&box, 2, b0, b1) == SCOUT_OK && box.stop[1] == 5);

	/* a memory array, written and read by boxes */
	scout_array *arr = NULL;
	EXPECT(scout_array_new(&arr, 2, shape, SCOUT_UINT16) == SCOUT_OK);
	uint16_t patch[6] = {1, 2, 3, 4, 5, 6}, back[6] = {0};
	EXPECT(scout_insert_box(arr, b0, b1, patch) == SCOUT_OK);
	EXPECT(scout_extract_box(back, arr, b0, b1) == SCOUT_OK && memcmp(patch, back, 12) == 0);
	EXPECT(scout_array_ndim(arr) == 2 && scout_array_shape(arr)[1] == 7);
	EXPECT(scout_array_chunks(arr)[0] == 10 && scout_array_dtype(arr) == SCOUT_UINT16);
	scout_array_free(arr);

	uint16_t mem[10 * 7];
	for (int i = 0; i < 70; i++)
		mem[i] = (uint16_t)i;
	EXPECT(scout_array_wrap(&arr, mem, 2, shape, SCOUT_UINT16) == SCOUT_OK);

	/* ghosted chunks and point filtering */
	int64_t overlap[2] = {1, 1}, gstart[2], gshape[2];
	uint16_t ghost[(4 + 2) * (4 + 2)];
	int64_t c0[2] = {4, 0};
	EXPECT(scout_extract_ghosted_chunk(ghost, gstart, gshape, arr, c0, chunks, overlap) ==
	       SCOUT_OK);
	EXPECT(gstart[0] == 3 && gstart[1] == 0 && gshape[0] == 6 && gshape[1] == 5);
	EXPECT(ghost[0] == mem[3 * 7]);
	int64_t pts[6] = {0, 0, 1, 1, 5, 4}, kept[6];
	size_t nkept = 0;
	EXPECT(scout_filter_ghosted_points(kept, &nkept, gstart, c0, chunks, pts, 3, 2) ==
	       SCOUT_OK);
	EXPECT(nkept == 1 && kept[0] == 4 && kept[1] == 1);
	size_t idx[3];
	int64_t lo[2] = {0, 0}, hi[2] = {2, 2};
	EXPECT(scout_filter_points_in_box(kept, idx, &nkept, pts, 3, 2, lo, hi) == SCOUT_OK);
	EXPECT(nkept == 2 && idx[1] == 1);

	/* pmap over the chunks, with threads, streaming results */
	scout_pmap_options opts = SCOUT_PMAP_OPTIONS_INIT;
	opts.nb_workers = 2;
	uint64_t streamed = 0;
	opts.on_result = on_result;
	opts.on_result_payload = &streamed;
	scout_results *res = NULL;
	EXPECT(scout_pmap_chunks(&res, chunk_sum, NULL, arr, chunks, &opts) == SCOUT_OK);
	uint64_t total = 0;
	for (size_t i = 0; res && i < scout_results_count(res); i++) {
		size_t size;
		const void *p = scout_results_get(res, i, &size);
		uint64_t v;
		memcpy(&v, p, sizeof v);
		total += v;
	}
	EXPECT(total == 69 * 70 / 2 && streamed == total);
	scout_results_free(res);
	scout_array_free(arr);

	/* shared memory, written by forked process workers */
	scout_shm *shm = NULL;
	EXPECT(scout_shm_create(&shm, 2, shape, SCOUT_UINT16) == SCOUT_OK);
	scout_shm *again = NULL;
	EXPECT(scout_shm_attach(&again, scout_shm_name(shm)) == SCOUT_OK);
	memcpy(scout_shm_data(shm), mem, sizeof mem);
	EXPECT(((uint16_t *)scout_shm_data(again))[69] == 69);
	scout_array *sarr = NULL;
	EXPECT(scout_shm_array(&sarr, shm) == SCOUT_OK);
	opts = (scout_pmap_options)SCOUT_PMAP_OPTIONS_INIT;
	opts.workers = SCOUT_WORKERS_PROCESSES;
	opts.nb_workers = 2;
	EXPECT(scout_pmap_chunks(&res, chunk_sum, NULL, sarr, chunks, &opts) == SCOUT_OK);
	EXPECT(res && scout_results_count(res) == 6);
	scout_results_free(res);
	scout_array_free(sarr);
	scout_shm_free(again);
	scout_shm_free(shm);

	/* files */
	char sub[4096], path[4200];
	snprintf(sub, sizeof sub, "%s/api_tour_files", dir);
	mkdir(sub, 0700);
	const char *names[] = {"b.TIF", "a.tif", "notes.txt", "voxel.csv"};
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", sub, names[i]);
		FILE *f = fopen(path, "w");
		if (f) {
			fputs(i == 3 ? "2000,650,650\n" : "x", f);
			fclose(f);
		}
	}
	scout_strlist *all = NULL, *paths = NULL, *tnames = NULL;
	EXPECT(scout_files_in_dir(&all, sub) == SCOUT_OK && scout_strlist_count(all) == 4);
	EXPECT(scout_tifs_in_dir(&paths, &tnames, sub) == SCOUT_OK);
	EXPECT(scout_strlist_count(tnames) == 2 &&
	       strcmp(scout_strlist_get(tnames, 0), "a.tif") == 0);
	double voxel[3];
	int nvox = 0;
	snprintf(path, sizeof path, "%s/voxel.csv", sub);
	EXPECT(scout_read_voxel_size(voxel, &nvox, 3, path) == SCOUT_OK && nvox == 3 &&
	       voxel[0] == 2.0 && voxel[1] == 0.65);
	for (size_t i = 0; all && i < scout_strlist_count(all); i++)
		remove(scout_strlist_get(all, i));
	rmdir(sub);
	scout_strlist_free(all);
	scout_strlist_free(paths);
	scout_strlist_free(tnames);

	printf("api tour: %s\n", failures ? "FAILED" : "all steps gave the expected answers");
	return failures ? 1 : 0;
}
