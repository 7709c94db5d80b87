/*
 * The Zarr backend: read/write of every dtype, byte order, order, separator
 * and codec; the stored layout checked byte by byte; unaligned inserts
 * against a memory reference; absent chunks and fill values; the decoded
 * chunk cache (ghosted reads decode each chunk once, the cache size a
 * ghosted scan needs, coherence with other writers); pmap over Zarr; errors (missing/malformed
 * .zarray, unsupported dtype/codec/filter, corrupt/truncated chunks naming the key, wrong decoded
 * size, out-of-bounds boxes, read-only writes); attributes; groups;
 * consolidated metadata; nested keys without dimension_separator.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array/zarr_array.h"
#include "check.h"
#include "store/store.h"

static char root[64];
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t rnd_in(int64_t lo, int64_t hi) /* [lo, hi) */
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo));
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

static char *path_of(const char *name)
{
	static char buf[160];
	snprintf(buf, sizeof buf, "%s/%s", root, name);
	return buf;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

/* read box [start, stop) of a C-order reference of shape `shape` */
static void ref_box(void *dst, const void *ref, int nd, const int64_t *shape, const int64_t *start,
		    const int64_t *stop, size_t isz)
{
	int64_t ext[SCOUT_MAX_NDIM], zero[SCOUT_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++)
		ext[i] = stop[i] - start[i];
	scout__copy_nd(dst, ext, zero, ref, shape, start, ext, nd, isz);
}

static void random_box(int64_t *start, int64_t *stop, int nd, const int64_t *shape)
{
	for (int i = 0; i < nd; i++) {
		start[i] = rnd_in(0, shape[i]);
		stop[i] = rnd_in(start[i] + 1, shape[i] + 1);
	}
}

static size_t box_bytes(int nd, const int64_t *start, const int64_t *stop, size_t isz)
{
	size_t n = isz;
	for (int i = 0; i < nd; i++)
		n *= (size_t)(stop[i] - start[i]);
	return n;
}

/* compare a random box of arr with the reference */
static int box_matches(scout_array *arr, const void *ref, const int64_t *start, const int64_t *stop)
{
	int nd = scout_array_ndim(arr);
	size_t isz = scout_dtype_size(scout_array_dtype(arr));
	size_t n = box_bytes(nd, start, stop, isz);
	void *a = malloc(n), *b = malloc(n);
	int ok = scout_extract_box(a, arr, start, stop) == SCOUT_OK;
	if (!ok)
		fprintf(stderr, "extract: %s\n", scout_last_error());
	ref_box(b, ref, nd, scout_array_shape(arr), start, stop, isz);
	ok = ok && memcmp(a, b, n) == 0;
	free(a);
	free(b);
	return ok;
}

static int whole_matches(scout_array *arr, const void *ref)
{
	int64_t start[SCOUT_MAX_NDIM] = {0};
	return box_matches(arr, ref, start, scout_array_shape(arr));
}

static void test_matrix(void)
{
	/* every codec is covered by the interop test; here: none and SCOUT's default */
	const char *codecs[] = {"null", NULL};
	int64_t shape[3] = {7, 5, 6}, chunks[3] = {3, 2, 4};
	int cases = 0;
	for (int d = 0; d < SCOUT_DTYPE_COUNT; d++)
		for (int be = 0; be < 2; be++)
			for (int o = 0; o < 2; o++)
				for (int s = 0; s < 2; s++)
					for (int c = 0; c < 2; c++) {
						scout_zarr_options opts = SCOUT_ZARR_OPTIONS_INIT;
						char ts[8];
						scout_dtype_typestr(ts, (scout_dtype)d, be);
						opts.ndim = 3;
						memcpy(opts.shape, shape, sizeof shape);
						memcpy(opts.chunks, chunks, sizeof chunks);
						opts.dtype = ts;
						opts.order = o ? 'F' : 'C';
						opts.dimension_separator = s ? '/' : '.';
						opts.compressor = codecs[c];
						opts.overwrite = 1;
						scout_array *a = NULL;
						CHECK_OK(
						    scout_zarr_create(&a, path_of("m"), &opts));
						if (!a)
							continue;
						size_t nb = scout_array_nbytes(a);
						void *ref = malloc(nb);
						fill_random(ref, nb, (scout_dtype)d);
						int64_t z[3] = {0};
						CHECK_OK(scout_insert_box(a, z, shape, ref));
						CHECK(whole_matches(a, ref));
						int64_t st[3], sp[3];
						for (int k = 0; k < 3; k++) {
							random_box(st, sp, 3, shape);
							CHECK(box_matches(a, ref, st, sp));
						}
						scout_array_free(a);
						CHECK_OK(scout_array_open(&a, path_of("m"),
									  SCOUT_MODE_READ));
						if (a) {
							CHECK(strcmp(scout_array_kind(a), "zarr") ==
							      0);
							CHECK(scout_array_dtype(a) ==
							      (scout_dtype)d);
							CHECK(whole_matches(a, ref));
						}
						scout_array_free(a);
						free(ref);
						cases++;
					}
	fprintf(stderr, "matrix: %d arrays written and read back\n", cases);
}

/* the stored bytes are what the metadata says: '>u2', order F, no compressor */
static void test_stored_layout(void)
{
	scout_zarr_options opts = SCOUT_ZARR_OPTIONS_INIT;
	opts.ndim = 2;
	opts.shape[0] = 5;
	opts.shape[1] = 3;
	opts.chunks[0] = 4;
	opts.chunks[1] = 2;
	opts.dtype = ">u2";
	opts.order = 'F';
	opts.dimension_separator = '.';
	opts.compressor = "null";
	opts.fill_value = "513"; /* 0x0201 */
	scout_array *a;
	CHECK_OK(scout_zarr_create(&a, path_of("layout"), &opts));
	uint16_t v[15];
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 3; j++)
			v[i * 3 + j] = (uint16_t)(i * 10 + j + 256 * j);
	int64_t z[2] = {0, 0}, sh[2] = {5, 3};
	CHECK_OK(scout_insert_box(a, z, sh, v));
	scout_array_free(a);
	size_t n;
	char p[300];
	snprintf(p, sizeof p, "%s/0.0", path_of("layout"));
	unsigned char *b = test_read_file(p, &n);
	CHECK(b && n == 16);
	/* chunk (0,0): rows 0..3, cols 0..1; element (i,j) at F offset i + 4j, big endian */
	for (int i = 0; b && i < 4; i++)
		for (int j = 0; j < 2; j++) {
			uint16_t e = v[i * 3 + j];
			CHECK(b[(i + 4 * j) * 2] == (e >> 8) &&
			      b[(i + 4 * j) * 2 + 1] == (e & 255));
		}
	free(b);
	/* edge chunk (1,1): only (4,2) is in the array, stored full size, padded with 513 */
	snprintf(p, sizeof p, "%s/1.1", path_of("layout"));
	b = test_read_file(p, &n);
	CHECK(b && n == 16);
	if (b) {
		uint16_t e = v[4 * 3 + 2];
		CHECK(b[0] == (e >> 8) && b[1] == (e & 255));
		for (int k = 1; k < 8; k++)
			CHECK(b[2 * k] == 2 && b[2 * k + 1] == 1);
	}
	free(b);
	/* .zarray as zarr-python writes it */
	snprintf(p, sizeof p, "%s/.zarray", path_of("layout"));
	b = test_read_file(p, &n);
	if (b) {
		b[n] = 0;
		CHECK(strstr((char *)b, "\"dtype\": \">u2\"") &&
		      strstr((char *)b, "\"order\": \"F\"") &&
		      strstr((char *)b, "\"fill_value\": 513") &&
		      strstr((char *)b, "\"compressor\": null") &&
		      strstr((char *)b, "\"dimension_separator\": \".\"") &&
		      strstr((char *)b, "\"filters\": null"));
	}
	free(b);
}

static scout_array *make(const char *name, const char *dtype, int nd, const int64_t *shape,
			 const int64_t *chunks, const char *compressor, const char *fill)
{
	scout_zarr_options opts = SCOUT_ZARR_OPTIONS_INIT;
	opts.ndim = nd;
	for (int i = 0; i < nd; i++) {
		opts.shape[i] = shape[i];
		opts.chunks[i] = chunks ? chunks[i] : 0;
	}
	opts.dtype = dtype;
	opts.compressor = compressor;
	opts.fill_value = fill;
	opts.overwrite = 1;
	scout_array *a = NULL;
	CHECK_OK(scout_zarr_create(&a, path_of(name), &opts));
	return a;
}

static void test_unaligned_and_fill(void)
{
	int64_t shape[3] = {20, 17, 13}, chunks[3] = {6, 5, 4};
	scout_array *a = make("unal", "<u2", 3, shape, chunks, NULL, "9");
	if (!a)
		return;
	size_t nb = scout_array_nbytes(a);
	uint16_t *ref = malloc(nb);
	for (size_t i = 0; i < nb / 2; i++)
		ref[i] = 9;
	CHECK(whole_matches(a, ref));
	scout_zarr_stats stats;
	CHECK_OK(scout_zarr_stats_get(&stats, a));
	CHECK(stats.chunks_decoded == 0 && stats.chunks_absent == 4 * 4 * 4);
	for (int r = 0; r < 60; r++) {
		int64_t st[3], sp[3];
		random_box(st, sp, 3, shape);
		size_t n = box_bytes(3, st, sp, 2);
		uint16_t *src = malloc(n);
		fill_random(src, n, SCOUT_UINT16);
		CHECK_OK(scout_insert_box(a, st, sp, src));
		int64_t ext[3] = {sp[0] - st[0], sp[1] - st[1], sp[2] - st[2]}, z[3] = {0};
		scout__copy_nd(ref, shape, st, src, ext, z, ext, 3, 2);
		free(src);
		random_box(st, sp, 3, shape);
		CHECK(box_matches(a, ref, st, sp));
	}
	CHECK(whole_matches(a, ref));
	scout_array_free(a);
	CHECK_OK(scout_array_open(&a, path_of("unal"), SCOUT_MODE_READ));
	if (a)
		CHECK(whole_matches(a, ref));
	scout_array_free(a);
	free(ref);

	/* fill values of absent chunks, and a partial write into an absent chunk */
	int64_t s2[2] = {10, 10}, c2[2] = {4, 4};
	a = make("fillnan", "<f4", 2, s2, c2, NULL, "\"NaN\"");
	float fv[100];
	if (a) {
		int64_t z[2] = {0, 0}, one0[2] = {5, 5}, one1[2] = {6, 6};
		float x = 2.5f;
		CHECK_OK(scout_insert_box(a, one0, one1, &x));
		CHECK_OK(scout_extract_box(fv, a, z, s2));
		for (int i = 0; i < 100; i++)
			CHECK(i == 55 ? fv[i] == 2.5f : isnan(fv[i]));
	}
	scout_array_free(a);
	a = make("fillnull", ">i8", 2, s2, c2, "null", "null");
	if (a) {
		int64_t z[2] = {0, 0}, v[100];
		memset(v, 0x55, sizeof v);
		CHECK_OK(scout_extract_box(v, a, z, s2));
		for (int i = 0; i < 100; i++)
			CHECK(v[i] == 0);
	}
	scout_array_free(a);
	a = make("fillm7", "<i2", 2, s2, c2, NULL, "-7");
	if (a) {
		int64_t st[2] = {3, 3}, sp[2] = {9, 4};
		int16_t v[6];
		CHECK_OK(scout_extract_box(v, a, st, sp));
		for (int i = 0; i < 6; i++)
			CHECK(v[i] == -7);
	}
	scout_array_free(a);
	/* default chunks: 64 per axis, not clipped to the shape (as SCOUT and zarr-python) */
	int64_t s3[3] = {100, 30, 0};
	a = make("defchunks", "|u1", 3, s3, NULL, NULL, NULL);
	if (a) {
		const int64_t *ch = scout_array_chunks(a);
		CHECK(ch[0] == 64 && ch[1] == 64 && ch[2] == 64);
	}
	scout_array_free(a);
}

/* chunks intersecting each ghosted chunk, computed directly */
static size_t touched_without_cache(int nd, const int64_t *shape, const int64_t *ch,
				    const int64_t *ov)
{
	int64_t grid[3];
	for (int i = 0; i < nd; i++)
		grid[i] = (shape[i] + ch[i] - 1) / ch[i];
	size_t total = 0;
	for (int64_t a = 0; a < grid[0]; a++)
		for (int64_t b = 0; b < grid[1]; b++)
			for (int64_t c = 0; c < grid[2]; c++) {
				int64_t idx[3] = {a, b, c};
				size_t t = 1;
				for (int i = 0; i < 3; i++) {
					int64_t lo = idx[i] * ch[i] - ov[i];
					int64_t hi = (idx[i] + 1) * ch[i] + ov[i];
					if (lo < 0)
						lo = 0;
					if (hi > shape[i])
						hi = shape[i];
					t *= (size_t)((hi - 1) / ch[i] - lo / ch[i] + 1);
				}
				total += t;
			}
	return total;
}

static int ghost_fn(scout_array *arr, const int64_t *start, const int64_t *chunks,
		    scout_result *res, void *payload)
{
	const int64_t *ov = payload;
	int64_t sg[3], shp[3];
	size_t n = 2;
	for (int i = 0; i < 3; i++)
		n *= (size_t)(chunks[i] + 2 * ov[i]);
	uint16_t *buf = malloc(n);
	int rc = scout_extract_ghosted_chunk(buf, sg, shp, arr, start, chunks, ov);
	uint64_t sum = 0;
	for (int64_t i = 0; rc == 0 && i < shp[0] * shp[1] * shp[2]; i++)
		sum += buf[i];
	free(buf);
	if (rc == 0)
		rc = scout_result_set(res, &sum, sizeof sum);
	return rc;
}

/* A 3-D <u2 array `name` of random values, written whole and closed; its values (malloc'd) or NULL.
 */
static uint16_t *make_random_u2(const char *name, const int64_t *shape, const int64_t *chunks)
{
	scout_array *a = make(name, "<u2", 3, shape, chunks, NULL, NULL);
	if (!a)
		return NULL;
	size_t nb = scout_array_nbytes(a);
	uint16_t *ref = malloc(nb);
	fill_random(ref, nb, SCOUT_UINT16);
	int64_t z[3] = {0};
	CHECK_OK(scout_insert_box(a, z, shape, ref));
	scout_array_free(a);
	return ref;
}

static void test_cache(void)
{
	int64_t shape[3] = {40, 40, 40}, ch[3] = {8, 8, 8}, ov[3] = {8, 8, 8};
	scout_array *a;
	uint16_t *ref = make_random_u2("ghost", shape, ch);
	if (!ref)
		return;
	size_t nchunks = 125, buf_n = 24 * 24 * 24;
	uint16_t *buf = malloc(buf_n * 2);
	for (int pass = 0; pass < 3; pass++) {
		CHECK_OK(scout_array_open(&a, path_of("ghost"), SCOUT_MODE_READ));
		if (!a)
			break;
		if (pass == 1)
			CHECK_OK(scout_zarr_set_cache_size(a, 0));
		if (pass == 2) /* room for 2 chunks only: still correct */
			CHECK_OK(scout_zarr_set_cache_size(a, 2 * (1024 + 256)));
		int ok = 1;
		for (int64_t i = 0; i < 5; i++)
			for (int64_t j = 0; j < 5; j++)
				for (int64_t k = 0; k < 5; k++) {
					int64_t st[3] = {i * 8, j * 8, k * 8}, sg[3], shp[3];
					CHECK_OK(scout_extract_ghosted_chunk(buf, sg, shp, a, st,
									     ch, ov));
					int64_t sp[3] = {sg[0] + shp[0], sg[1] + shp[1],
							 sg[2] + shp[2]};
					uint16_t *r = malloc(buf_n * 2);
					ref_box(r, ref, 3, shape, sg, sp, 2);
					ok &= memcmp(r, buf, box_bytes(3, sg, sp, 2)) == 0;
					free(r);
				}
		CHECK(ok);
		scout_zarr_stats s;
		CHECK_OK(scout_zarr_stats_get(&s, a));
		size_t touched = touched_without_cache(3, shape, ch, ov);
		fprintf(
		    stderr,
		    "ghosted reads (overlap 8) of %zu chunks, cache %s: %llu decodes, %llu hits, "
		    "%llu misses (%zu chunk uses)\n",
		    nchunks,
		    pass == 0   ? "default"
		    : pass == 1 ? "off"
				: "2 chunks",
		    (unsigned long long)s.chunks_decoded, (unsigned long long)s.cache_hits,
		    (unsigned long long)s.cache_misses, touched);
		if (pass == 0) {
			CHECK(s.chunks_decoded == nchunks);
			CHECK(s.cache_hits + s.cache_misses == touched);
			CHECK(s.cache_bytes > 0 && s.cache_capacity == SCOUT_ZARR_CACHE_DEFAULT);
		} else if (pass == 1) {
			CHECK(s.chunks_decoded == touched && s.cache_hits == 0);
		} else {
			CHECK(s.chunks_decoded > nchunks && s.chunks_decoded <= touched);
		}
		CHECK_OK(scout_zarr_stats_reset(a));
		CHECK_OK(scout_zarr_stats_get(&s, a));
		CHECK(s.chunks_decoded == 0 && s.cache_hits == 0);
		scout_array_free(a);
	}
	/* pmap with threads, ghosted reads: about one decode per chunk */
	for (int w = 0; w < 2; w++) {
		CHECK_OK(scout_array_open(&a, path_of("ghost"), SCOUT_MODE_READ));
		if (!a)
			break;
		scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
		po.nb_workers = 2;
		po.workers = w ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		scout_results *res = NULL;
		CHECK_OK(scout_pmap_chunks(&res, ghost_fn, ov, a, NULL, &po));
		CHECK(res && scout_results_count(res) == nchunks);
		/* check sums against the reference */
		int ok = 1;
		for (size_t c = 0; res && c < nchunks; c++) {
			int64_t st[3] = {(int64_t)(c / 25) * 8, (int64_t)(c / 5 % 5) * 8,
					 (int64_t)(c % 5) * 8};
			int64_t sg[3], sp[3];
			scout_ghosted_bounds(sg, sp, 3, shape, st, ch, ov);
			uint64_t sum = 0;
			for (int64_t x = sg[0]; x < sp[0]; x++)
				for (int64_t y = sg[1]; y < sp[1]; y++)
					for (int64_t q = sg[2]; q < sp[2]; q++)
						sum += ref[(x * 40 + y) * 40 + q];
			size_t sz;
			const uint64_t *got = scout_results_get(res, c, &sz);
			ok &= got && sz == 8 && *got == sum;
		}
		CHECK(ok);
		scout_results_free(res);
		scout_zarr_stats s;
		CHECK_OK(scout_zarr_stats_get(&s, a));
		if (!w) {
			fprintf(stderr,
				"pmap 2 threads, ghosted reads of %zu chunks: %llu decodes, %llu "
				"hits\n",
				nchunks, (unsigned long long)s.chunks_decoded,
				(unsigned long long)s.cache_hits);
			CHECK(s.chunks_decoded ==
			      nchunks); /* the decode mutex: one decode per chunk */
		}
		scout_array_free(a);
	}
	free(buf);

	/* coherence: B caches, A rewrites (same encoded size), B sees every change */
	int64_t s2[2] = {12, 12}, c2[2] = {4, 4};
	scout_array *w = make("coh", "<i4", 2, s2, c2, "null", NULL), *r = NULL;
	CHECK_OK(scout_array_open(&r, path_of("coh"), SCOUT_MODE_READ));
	if (w && r) {
		int32_t cur[144] = {0}, got[144];
		int ok = 1;
		int64_t zz[2] = {0, 0};
		for (int round = 0; round < 50; round++) {
			CHECK_OK(scout_extract_box(got, r, zz, s2));
			ok &= memcmp(got, cur, sizeof cur) == 0;
			int64_t st[2], sp[2];
			random_box(st, sp, 2, s2);
			int32_t v[144];
			for (int i = 0; i < 144; i++)
				v[i] = round * 1000 + i;
			CHECK_OK(scout_insert_box(w, st, sp, v));
			int64_t ext[2] = {sp[0] - st[0], sp[1] - st[1]};
			scout__copy_nd(cur, s2, st, v, ext, zz, ext, 2, 4);
		}
		CHECK_OK(scout_extract_box(got, r, zz, s2));
		ok &= memcmp(got, cur, sizeof cur) == 0;
		CHECK(ok);
		/* a deleted chunk reads as fill again */
		char p[300];
		snprintf(p, sizeof p, "%s/0/0", path_of("coh"));
		CHECK(unlink(p) == 0);
		CHECK_OK(scout_extract_box(got, r, zz, s2));
		CHECK(got[0] == 0 && got[1] == 0 && got[4] == cur[4]);
	}
	scout_array_free(w);
	scout_array_free(r);
	free(ref);
}

static void expect_open_error(const char *name, const char *zarray, int code, const char *needle)
{
	char p[300];
	mkdir(path_of(name), 0777);
	snprintf(p, sizeof p, "%s/.zarray", path_of(name));
	write_file(p, zarray, strlen(zarray));
	scout_array *a = NULL;
	CHECK_ERR(scout_array_open(&a, path_of(name), SCOUT_MODE_READ), code, needle);
	CHECK(a == NULL);
	CHECK(strstr(scout_last_error(), name) != NULL);
}

static void test_errors(void)
{
	scout_array *a = NULL;
	CHECK_ERR(scout_array_open(&a, path_of("nothing"), SCOUT_MODE_READ), SCOUT_ENOTFOUND,
		  "nothing");
	mkdir(path_of("empty"), 0777);
	CHECK_ERR(scout__zarr_open(&a, path_of("empty"), SCOUT_MODE_READ), SCOUT_ENOTFOUND,
		  "no .zarray");
	const char *good = "{\"zarr_format\": 2, \"shape\": [10, 10], \"chunks\": [4, 4], "
			   "\"dtype\": \"<u2\", \"compressor\": null, \"fill_value\": 0, "
			   "\"order\": \"C\", \"filters\": null}";
	expect_open_error("badjson", "{\"zarr_format\": 2,\n\"shape\": [10, 10],\n\"chunks\" [4]}",
			  SCOUT_EFORMAT, "line 3, column");
	char t[1024];
	snprintf(t, sizeof t, "%s", good);
	char *p = strstr(t, "<u2");
	memcpy(p, "<M8", 3);
	expect_open_error("baddtype", t, SCOUT_EFORMAT, "\"<M8\"");
	snprintf(t, sizeof t, "%.*s{\"id\": \"snappy9\"}%s", (int)(strstr(good, "null") - good),
		 good, strstr(good, "null") + 4);
	expect_open_error("badcodec", t, SCOUT_EFORMAT, "snappy9");
	snprintf(t, sizeof t, "%.*s[{\"id\": \"base64\"}]}",
		 (int)(strstr(good, "\"filters\": null") - good + 11), good);
	expect_open_error("badfilter", t, SCOUT_EFORMAT, "filter \"base64\" is not supported");
	expect_open_error("badchunks",
			  "{\"zarr_format\": 2, \"shape\": [10], \"chunks\": [0], "
			  "\"dtype\": \"<u2\", \"compressor\": null, \"fill_value\": 0, "
			  "\"order\": \"C\", \"filters\": null}",
			  SCOUT_EFORMAT, "\"chunks\"");

	/* corrupt and truncated chunks name the key and the array */
	int64_t s2[2] = {8, 8}, c2[2] = {4, 4}, z[2] = {0, 0};
	a = make("corrupt", "<u2", 2, s2, c2, NULL, NULL);
	uint16_t v[64], out[64];
	fill_random(v, sizeof v, SCOUT_UINT16);
	if (a)
		CHECK_OK(scout_insert_box(a, z, s2, v));
	scout_array_free(a);
	char cp[300];
	snprintf(cp, sizeof cp, "%s/1/0", path_of("corrupt"));
	size_t n;
	unsigned char *b = test_read_file(cp, &n);
	if (b) {
		write_file(cp, b, n / 2);
		CHECK_OK(scout_array_open(&a, path_of("corrupt"), SCOUT_MODE_READ));
		if (a)
			CHECK_ERR(scout_extract_box(out, a, z, s2), SCOUT_ECODEC, "chunk 1/0");
		CHECK(strstr(scout_last_error(), "corrupt") != NULL);
		scout_array_free(a);
		write_file(cp, "garbage", 7);
		CHECK_OK(scout_array_open(&a, path_of("corrupt"), SCOUT_MODE_READ));
		if (a) {
			CHECK_ERR(scout_extract_box(out, a, z, s2), SCOUT_ECODEC, "chunk 1/0");
			/* chunks that are fine still read */
			int64_t st[2] = {0, 0}, sp[2] = {4, 8};
			CHECK_OK(scout_extract_box(out, a, st, sp));
			CHECK(memcmp(out, v, 32 * 2) == 0);
		}
		scout_array_free(a);
	}
	free(b);
	/* wrong decoded size: a valid zlib stream of another chunk size */
	int64_t c3[2] = {2, 2};
	scout_array *small =
	    make("zsmall", "<u2", 2, s2, c3, "{\"id\": \"zlib\", \"level\": 1}", NULL);
	a = make("zbig", "<u2", 2, s2, c2, "{\"id\": \"zlib\", \"level\": 1}", NULL);
	if (small && a) {
		CHECK_OK(scout_insert_box(small, z, s2, v));
		char sp_[300];
		snprintf(sp_, sizeof sp_, "%s/0/0", path_of("zsmall"));
		b = test_read_file(sp_, &n);
		snprintf(cp, sizeof cp, "%s/0", path_of("zbig"));
		mkdir(cp, 0777);
		snprintf(cp, sizeof cp, "%s/0/1", path_of("zbig"));
		if (b)
			write_file(cp, b, n);
		free(b);
		CHECK_ERR(scout_extract_box(out, a, z, s2), SCOUT_ECODEC, "chunk 0/1");
		CHECK(strstr(scout_last_error(), "decoded size") ||
		      strstr(scout_last_error(), "size"));
		/* a partial write into that chunk fails too, and leaves it as it was */
		int64_t st[2] = {0, 5}, sp[2] = {1, 6};
		CHECK_ERR(scout_insert_box(a, st, sp, v), SCOUT_ECODEC, "chunk 0/1");
		size_t n2;
		b = test_read_file(cp, &n2);
		CHECK(b && n2 == n);
		free(b);
	}
	scout_array_free(small);
	scout_array_free(a);

	/* bounds and read-only */
	CHECK_OK(scout_array_open(&a, path_of("zsmall"), SCOUT_MODE_READ));
	if (a) {
		int64_t st[2] = {0, 0}, sp[2] = {9, 8}, neg[2] = {-1, 0};
		CHECK_ERR(scout_extract_box(out, a, st, sp), SCOUT_EBOUNDS, "outside");
		CHECK_ERR(scout_extract_box(out, a, neg, s2), SCOUT_EBOUNDS, "outside");
		CHECK_ERR(scout_insert_box(a, z, s2, v), SCOUT_EREADONLY, "read-only");
		CHECK_ERR(scout_array_attrs_set(a, "{}"), SCOUT_EREADONLY, "read-only");
		CHECK(!scout_array_writable(a));
	}
	scout_array_free(a);
	CHECK_OK(scout_array_open(&a, path_of("zsmall"), SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	if (a) {
		int64_t st[2] = {0, 0}, sp[2] = {8, 9};
		CHECK_ERR(scout_insert_box(a, st, sp, v), SCOUT_EBOUNDS, "outside");
	}
	scout_array_free(a);

	/* create errors */
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 1;
	o.shape[0] = 10;
	o.dtype = "<u2";
	CHECK_ERR(scout_zarr_create(&a, path_of("zsmall"), &o), SCOUT_EIO, "exists");
	o.dtype = "<x3";
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EFORMAT, "<x3");
	o.dtype = "<u2";
	o.compressor = "{\"id\": \"nope\"}";
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EFORMAT, "nope");
	o.compressor = NULL;
	o.fill_value = "\"abc\"";
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EFORMAT, "fill_value");
	o.fill_value = "{";
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EFORMAT, "line 1");
	o.fill_value = NULL;
	o.order = 'X';
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EINVAL, "order");
	o.order = 'C';
	o.chunks[0] = -2;
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EINVAL, "chunk");
	struct stat sb;
	CHECK(stat(path_of("c1"), &sb) != 0);
	o.chunks[0] = 0;
	o.version = 99;
	CHECK_ERR(scout_zarr_create(&a, path_of("c1"), &o), SCOUT_EINVAL, "version");
	/* overwrite replaces everything */
	o.version = SCOUT_ZARR_OPTIONS_VERSION;
	o.overwrite = 1;
	CHECK_OK(scout_zarr_create(&a, path_of("corrupt"), &o));
	snprintf(cp, sizeof cp, "%s/1/0", path_of("corrupt"));
	CHECK(stat(cp, &sb) != 0);
	/* not Zarr handles */
	scout_array *m;
	CHECK_OK(scout_array_new(&m, 1, s2, SCOUT_UINT8));
	char *js;
	CHECK_ERR(scout_array_attrs_get(&js, m), SCOUT_EINVAL, "not a Zarr");
	scout_zarr_stats st;
	CHECK_ERR(scout_zarr_stats_get(&st, m), SCOUT_EINVAL, "not a Zarr");
	CHECK_ERR(scout_zarr_set_cache_size(m, 1), SCOUT_EINVAL, "not a Zarr");
	scout_array_free(m);

	/* attributes */
	if (a) {
		CHECK_OK(scout_array_attrs_get(&js, a));
		CHECK(js && strcmp(js, "{}") == 0);
		scout_free(js);
		CHECK_OK(scout_array_attrs_set(a, "{\"voxel\": [1.5, 2], \"a\": \"x\"}"));
		CHECK_OK(scout_array_attrs_get(&js, a));
		CHECK(js &&
		      strcmp(js, "{\n    \"a\": \"x\",\n    \"voxel\": [\n        1.5,\n        "
				 "2\n    ]\n}") == 0);
		scout_free(js);
		CHECK_ERR(scout_array_attrs_set(a, "[1]"), SCOUT_EFORMAT, "object");
		CHECK_ERR(scout_array_attrs_set(a, "{\"a\": }"), SCOUT_EFORMAT, "column");
		snprintf(cp, sizeof cp, "%s/.zattrs", path_of("corrupt"));
		write_file(cp, "{\n\"a\": 1,,}", 11);
		CHECK_ERR(scout_array_attrs_get(&js, a), SCOUT_EFORMAT, "line 2");
	}
	scout_array_free(a);
}

static void test_layouts(void)
{
	/* nested keys without dimension_separator (older arrays) */
	int64_t s2[2] = {6, 6}, c2[2] = {4, 4}, z[2] = {0, 0};
	scout_array *a = make("nested", "<i2", 2, s2, c2, NULL, NULL);
	int16_t v[36], out[36];
	fill_random(v, sizeof v, SCOUT_INT16);
	if (a)
		CHECK_OK(scout_insert_box(a, z, s2, v));
	scout_array_free(a);
	char p[400];
	snprintf(p, sizeof p, "%s/.zarray", path_of("nested"));
	size_t n;
	char *t = test_read_file(p, &n);
	if (t) {
		t[n] = 0;
		char *sep = strstr(t, "\"dimension_separator\": \"/\",");
		CHECK(sep != NULL);
		if (sep)
			memmove(sep, sep + 28, strlen(sep + 28) + 1);
		CHECK(strstr(t, "dimension_separator") == NULL);
		write_file(p, t, strlen(t));
		free(t);
	}
	CHECK_OK(scout_array_open(&a, path_of("nested"), SCOUT_MODE_READ));
	if (a) {
		CHECK_OK(scout_extract_box(out, a, z, s2));
		CHECK(memcmp(out, v, sizeof v) == 0);
	}
	scout_array_free(a);

	/* consolidated metadata: a group whose array has no .zarray of its own */
	CHECK_OK(scout_zarr_group_create(path_of("grp")));
	CHECK_OK(scout_zarr_group_create(path_of("grp"))); /* existing: fine */
	snprintf(p, sizeof p, "%s/.zgroup", path_of("grp"));
	t = test_read_file(p, &n);
	CHECK(t && n == 24 && memcmp(t, "{\n    \"zarr_format\": 2\n}", 24) == 0);
	free(t);
	char ap[200];
	snprintf(ap, sizeof ap, "%s/arr", path_of("grp"));
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 2;
	memcpy(o.shape, s2, sizeof s2);
	memcpy(o.chunks, c2, sizeof c2);
	o.dtype = "<i2";
	CHECK_OK(scout_zarr_create(&a, ap, &o));
	if (a)
		CHECK_OK(scout_insert_box(a, z, s2, v));
	scout_array_free(a);
	snprintf(p, sizeof p, "%s/.zarray", ap);
	t = test_read_file(p, &n);
	if (t) {
		t[n] = 0;
		char zm[2048];
		snprintf(zm, sizeof zm,
			 "{\"metadata\": {\".zgroup\": {\"zarr_format\": 2}, \"arr/.zarray\": %s}, "
			 "\"zarr_consolidated_format\": 1}",
			 t);
		free(t);
		char zp[300];
		snprintf(zp, sizeof zp, "%s/.zmetadata", path_of("grp"));
		write_file(zp, zm, strlen(zm));
		unlink(p);
		CHECK_OK(scout_array_open(&a, ap, SCOUT_MODE_READ));
		if (a) {
			memset(out, 0, sizeof out);
			CHECK_OK(scout_extract_box(out, a, z, s2));
			CHECK(memcmp(out, v, sizeof v) == 0);
		}
		scout_array_free(a);
	}
}

/* a killed writer's temporaries: removed by scout_zarr_remove_temporaries, nothing else */
static void test_remove_temporaries(void)
{
	scout_zarr_options opts = SCOUT_ZARR_OPTIONS_INIT;
	opts.ndim = 2;
	opts.shape[0] = opts.shape[1] = 8;
	opts.chunks[0] = opts.chunks[1] = 4;
	opts.dtype = "<u2";
	scout_array *a;
	const char *p = path_of("sweep");
	CHECK_OK(scout_zarr_create(&a, p, &opts));
	uint16_t v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (uint16_t)(i * 7);
	int64_t start[2] = {0, 0}, stop[2] = {8, 8};
	CHECK_OK(scout_insert_box(a, start, stop, v));
	/* as SIGKILL between the temporary's creation and its rename leaves them */
	char t1[512], t2[512], keep[512];
	snprintf(t1, sizeof t1, "%s/1/.0.scout-tmp-4242-7", p);
	snprintf(t2, sizeof t2, "%s/..zarray.scout-tmp-4242-8", p);
	snprintf(keep, sizeof keep, "%s/notes.txt", p);
	const char *files[] = {t1, t2, keep};
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "w");
		CHECK(f != NULL);
		if (f) {
			fputs("partial", f);
			fclose(f);
		}
	}
	size_t n = 99;
	CHECK_OK(scout_zarr_remove_temporaries(p, &n));
	CHECK(n == 2);
	CHECK(access(t1, F_OK) != 0 && access(t2, F_OK) != 0);
	CHECK(access(keep, F_OK) == 0);
	/* the array itself is untouched */
	scout_array *b;
	CHECK_OK(scout_array_open(&b, p, SCOUT_MODE_READ));
	uint16_t w[64] = {0};
	CHECK_OK(scout_extract_box(w, b, start, stop));
	CHECK(memcmp(v, w, sizeof v) == 0);
	scout_array_free(b);
	scout_array_free(a);
	CHECK_OK(scout_zarr_remove_temporaries(p, &n));
	CHECK(n == 0);
	CHECK_ERR(scout_zarr_remove_temporaries(NULL, &n), SCOUT_EINVAL, NULL);
}

/*
 * scout_ghost_cache_bytes: the size computed by hand for a C-order scan of
 * slabs one chunk thick, and with that cache every chunk decoded once, where
 * a quarter of it decodes chunks again (the rows below and above a layer are
 * evicted before the next layer reads them).
 */
static void test_ghost_cache_size(void)
{
	int64_t shape[3] = {64, 96, 96}, ch[3] = {8, 16, 16}, piece[3] = {8, 48, 48},
		ov[3] = {3, 3, 3};
	uint16_t *ref = make_random_u2("gcache", shape, ch);
	if (!ref)
		return;
	scout_array *a;
	CHECK_OK(scout_array_open(&a, path_of("gcache"), SCOUT_MODE_READ));
	if (!a) {
		free(ref);
		return;
	}
	/* rows along z: ceil((8 + 2*3) / 8) + 1 = 3 of 8; a plane: 6 x 6 chunks;
	   one piece with its ghosts: 3 x (ceil(54 / 16) + 1 = 5) x 5; chunk 4096 bytes */
	size_t want = 0;
	CHECK_OK(scout_ghost_cache_bytes(&want, a, piece, ov, 1));
	CHECK(want == (size_t)((1.25 * 3 * 36 + 75) * 4096));
	CHECK_OK(scout_ghost_cache_bytes(&want, a, piece, ov, 2));
	CHECK(want == (size_t)((1.25 * 3 * 36 + 2 * 75) * 4096));
	CHECK_ERR(scout_ghost_cache_bytes(&want, a, piece, ov, 0), SCOUT_EINVAL, "workers");
	CHECK_ERR(scout_ghost_cache_bytes(NULL, a, piece, ov, 1), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_ghost_cache_bytes(&want, a, piece, (int64_t[]){0, -1, 0}, 1), SCOUT_EINVAL,
		  "axis 1");
	CHECK_OK(scout_ghost_cache_bytes(&want, a, piece, ov, 1));
	scout_array_free(a);
	size_t buf_n = (8 + 6) * (48 + 6) * (48 + 6);
	uint16_t *buf = malloc(buf_n * 2), *r = malloc(buf_n * 2);
	for (int pass = 0; pass < 2; pass++) {
		CHECK_OK(scout_array_open(&a, path_of("gcache"), SCOUT_MODE_READ));
		if (!a)
			break;
		CHECK_OK(scout_zarr_set_cache_size(a, pass == 0 ? want : want / 4));
		int ok = 1;
		for (int64_t i = 0; i < 64; i += 8)
			for (int64_t j = 0; j < 96; j += 48)
				for (int64_t k = 0; k < 96; k += 48) {
					int64_t st[3] = {i, j, k}, sg[3], shp[3];
					CHECK_OK(scout_extract_ghosted_chunk(buf, sg, shp, a, st,
									     piece, ov));
					int64_t sp[3] = {sg[0] + shp[0], sg[1] + shp[1],
							 sg[2] + shp[2]};
					ref_box(r, ref, 3, shape, sg, sp, 2);
					ok &= memcmp(r, buf, box_bytes(3, sg, sp, 2)) == 0;
				}
		CHECK(ok);
		scout_zarr_stats s;
		CHECK_OK(scout_zarr_stats_get(&s, a));
		fprintf(stderr,
			"ghosted C-order scan of 288 chunks, cache %zu bytes: %llu decodes\n",
			pass == 0 ? want : want / 4, (unsigned long long)s.chunks_decoded);
		if (pass == 0)
			CHECK(s.chunks_decoded == 288);
		else
			CHECK(s.chunks_decoded > 288);
		scout_array_free(a);
	}
	free(buf);
	free(r);
	free(ref);
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/scout_zarr_XXXXXX");
	if (!mkdtemp(root))
		return 1;
	test_matrix();
	test_stored_layout();
	test_unaligned_and_fill();
	test_cache();
	test_ghost_cache_size();
	test_errors();
	test_layouts();
	test_remove_temporaries();
	if (!getenv("KEEP"))
		scout__rmtree(root);
	return check_summary();
}
