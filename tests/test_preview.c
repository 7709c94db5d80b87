/*
 * scout/preview.h with hand-computed expectations (numpy comparisons are in
 * tests/py/test_cli_preview.py): max projection, the map-reduce over a memory
 * array with threads and processes, percentiles, contrast, block max, markers,
 * PNG files (bytes checked against the PNG signature and IHDR) and errors.
 * Runs under ASan and valgrind with the other C tests.
 */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scout/preview.h"

static void test_max_project(void)
{
	/* 2 x 3 x 2, values chosen by hand */
	const int16_t a[12] = {1, -5, 7, 2, -3, 9, /* z = 0 */ 4, -6, 0, 8, -2, -1};
	int64_t shape[3] = {2, 3, 2};
	int16_t out[6];
	CHECK_OK(scout_max_project(out, a, SCOUT_INT16, 3, shape, 0));
	const int16_t e0[6] = {4, -5, 7, 8, -2, 9};
	CHECK(!memcmp(out, e0, sizeof e0));
	CHECK_OK(scout_max_project(out, a, SCOUT_INT16, 3, shape, 1));
	const int16_t e1[4] = {7, 9, 4, 8};
	CHECK(!memcmp(out, e1, sizeof e1));
	CHECK_OK(scout_max_project(out, a, SCOUT_INT16, 3, shape, 2));
	const int16_t e2[6] = {1, 7, 9, 4, 8, -1};
	CHECK(!memcmp(out, e2, sizeof e2));
	/* NaN propagates */
	const float f[4] = {1.0f, NAN, 3.0f, 2.0f};
	int64_t fs[2] = {2, 2};
	float fo[2];
	CHECK_OK(scout_max_project(fo, f, SCOUT_FLOAT32, 2, fs, 0));
	CHECK(fo[0] == 3.0f && isnan(fo[1]));
	CHECK_ERR(scout_max_project(out, a, SCOUT_INT16, 3, shape, 3), SCOUT_EINVAL, "axis 3");
	CHECK_ERR(scout_max_project(out, a, SCOUT_COMPLEX64, 3, shape, 0), SCOUT_EUNSUPPORTED,
		  "complex");
	int64_t empty[2] = {0, 3};
	CHECK_ERR(scout_max_project(out, a, SCOUT_INT16, 2, empty, 0), SCOUT_EINVAL, "empty");
}

static void test_mip_memory(void)
{
	/* 9 x 5 x 7 uint32, value = a hash; projections checked against loops here */
	int64_t shape[3] = {9, 5, 7};
	scout_array *arr;
	CHECK_OK(scout_array_new(&arr, 3, shape, SCOUT_UINT32));
	uint32_t v[9 * 5 * 7];
	for (uint32_t i = 0; i < 9 * 5 * 7; i++)
		v[i] = (i * 2654435761u) >> 7;
	int64_t zero[3] = {0, 0, 0};
	CHECK_OK(scout_insert_box(arr, zero, shape, v));
	int64_t chunks[3] = {2, 3, 4};
	for (int kind = 0; kind < 2; kind++) {
		scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
		po.nb_workers = 2;
		po.workers = kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		scout_mip_options mo = SCOUT_MIP_OPTIONS_INIT;
		mo.axis = 0;
		mo.start = 2;
		mo.stop = 7;
		mo.chunks = chunks;
		mo.pmap = &po;
		void *img;
		int64_t os[2];
		CHECK_OK(scout_mip(&img, os, arr, &mo));
		CHECK(os[0] == 5 && os[1] == 7);
		int ok = 1;
		for (int y = 0; y < 5; y++)
			for (int x = 0; x < 7; x++) {
				uint32_t m = 0;
				for (int z = 2; z < 7; z++)
					m = v[(z * 5 + y) * 7 + x] > m ? v[(z * 5 + y) * 7 + x] : m;
				ok &= ((uint32_t *)img)[y * 7 + x] == m;
			}
		CHECK(ok);
		scout_free(img);
		/* along x, automatic chunks (a memory array: the whole array) */
		mo.axis = 2;
		mo.start = 0;
		mo.stop = -1;
		mo.chunks = NULL;
		CHECK_OK(scout_mip(&img, os, arr, &mo));
		CHECK(os[0] == 9 && os[1] == 5);
		ok = 1;
		for (int z = 0; z < 9; z++)
			for (int y = 0; y < 5; y++) {
				uint32_t m = 0;
				for (int x = 0; x < 7; x++)
					m = v[(z * 5 + y) * 7 + x] > m ? v[(z * 5 + y) * 7 + x] : m;
				ok &= ((uint32_t *)img)[z * 5 + y] == m;
			}
		CHECK(ok);
		scout_free(img);
	}
	void *img = (void *)1;
	int64_t os[2];
	scout_mip_options mo = SCOUT_MIP_OPTIONS_INIT;
	mo.start = 3;
	mo.stop = 3;
	CHECK_ERR(scout_mip(&img, os, arr, &mo), SCOUT_EBOUNDS, "slab 3:3");
	CHECK(img == NULL);
	mo.start = 0;
	mo.stop = 10;
	CHECK_ERR(scout_mip(&img, os, arr, &mo), SCOUT_EBOUNDS, "0:9");
	mo.stop = -1;
	mo.version = 99;
	CHECK_ERR(scout_mip(&img, os, arr, &mo), SCOUT_EINVAL, "version");
	CHECK_ERR(scout_mip_options_init(&mo, 7), SCOUT_EINVAL, "version");
	scout_array_free(arr);
}

static void test_contrast(void)
{
	/* 0..199 shuffled: m = 200, ranks floor(199 * 0.005) = 0, ceil(199 * 0.995) = 199 */
	uint16_t v[201];
	for (int i = 0; i < 200; i++)
		v[i] = (uint16_t)((i * 37) % 200);
	double lo, hi;
	CHECK_OK(scout_contrast_auto(&lo, &hi, v, SCOUT_UINT16, 200, 0.5, 99.5));
	CHECK(lo == 0 && hi == 199);
	/* 25th / 75th: floor(49.75) = 49, ceil(149.25) = 150 */
	CHECK_OK(scout_contrast_auto(&lo, &hi, v, SCOUT_UINT16, 200, 25, 75));
	CHECK(lo == 49 && hi == 150);
	/* doubles with NaNs and negatives: sorted non-NaN -8, -1.5, 0.25, 3, 1e300 */
	const double d[7] = {3, NAN, -1.5, 1e300, NAN, -8, 0.25};
	CHECK_OK(scout_contrast_auto(&lo, &hi, d, SCOUT_FLOAT64, 7, 50, 50));
	CHECK(lo == 0.25 && hi == 0.25);
	CHECK_OK(scout_contrast_auto(&lo, &hi, d, SCOUT_FLOAT64, 7, 30, 60));
	CHECK(lo == -1.5 && hi == 3); /* floor(1.2) = 1, ceil(2.4) = 3 */
	const int64_t big[3] = {INT64_MIN, INT64_MAX, -1};
	CHECK_OK(scout_contrast_auto(&lo, &hi, big, SCOUT_INT64, 3, 0, 100));
	CHECK(lo == (double)INT64_MIN && hi == (double)INT64_MAX);
	CHECK_OK(scout_contrast_auto(&lo, &hi, d + 1, SCOUT_FLOAT64, 1, 0.5, 99.5));
	CHECK(isnan(lo) && isnan(hi));
	CHECK_ERR(scout_contrast_auto(&lo, &hi, v, SCOUT_UINT16, 200, 60, 40), SCOUT_EINVAL,
		  "percentiles");

	/* map: lo 10, hi 20, 8 bits: (v - 10) / 10 * 255 + 0.5, floored, clamped */
	const float m[6] = {5, 10, 12, 15, 25, NAN};
	uint8_t g[6];
	CHECK_OK(scout_contrast_map(g, 8, m, SCOUT_FLOAT32, 6, 10, 20));
	const uint8_t ge[6] = {0, 0, 51, 128, 255, 0};
	CHECK(!memcmp(g, ge, sizeof ge));
	uint16_t g16[6];
	CHECK_OK(scout_contrast_map(g16, 16, m, SCOUT_FLOAT32, 6, 12, 12));
	CHECK(g16[0] == 0 && g16[2] == 0 && g16[3] == 65535 && g16[5] == 0);
	CHECK_ERR(scout_contrast_map(g, 12, m, SCOUT_FLOAT32, 6, 0, 1), SCOUT_EINVAL, "depth");
	CHECK_ERR(scout_contrast_map(g, 8, m, SCOUT_FLOAT32, 6, 2, 1), SCOUT_EINVAL, "lo <= hi");
}

static void test_block_max_and_markers(void)
{
	/* 5 x 5 of i, factor 2 -> 3 x 3: bottom-right blocks are partial */
	uint8_t a[25], o[9];
	for (int i = 0; i < 25; i++)
		a[i] = (uint8_t)((i * 7) % 25);
	CHECK_OK(scout_block_max_2d(o, a, SCOUT_UINT8, 5, 5, 2));
	int ok = 1;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			uint8_t mx = 0;
			for (int r = 2 * i; r < 2 * i + 2 && r < 5; r++)
				for (int c = 2 * j; c < 2 * j + 2 && c < 5; c++)
					mx = a[r * 5 + c] > mx ? a[r * 5 + c] : mx;
			ok &= o[i * 3 + j] == mx;
		}
	CHECK(ok);
	CHECK(scout_downsample_factor(30000, 20000, 2048) == 15);
	CHECK(scout_downsample_factor(2048, 2048, 2048) == 1);
	CHECK(scout_downsample_factor(2049, 1, 2048) == 2);
	CHECK_ERR(scout_block_max_2d(o, a, SCOUT_UINT8, 5, 5, 0), SCOUT_EINVAL, "factor");

	uint8_t rgb[9 * 9 * 3];
	memset(rgb, 0, sizeof rgb);
	const uint16_t red[3] = {255, 0, 0};
	CHECK_OK(scout_draw_marker(rgb, 8, 9, 9, 4, 4, SCOUT_MARKER_RING, red));
	int n = 0, right = 1;
	for (int y = 0; y < 9; y++)
		for (int x = 0; x < 9; x++) {
			int on = rgb[(y * 9 + x) * 3] == 255;
			int d2 = (y - 4) * (y - 4) + (x - 4) * (x - 4);
			n += on;
			right &= on == (d2 >= 8 && d2 <= 10);
		}
	CHECK(n == 16 && right);
	/* clipped at the border, centre outside */
	memset(rgb, 0, sizeof rgb);
	CHECK_OK(scout_draw_marker(rgb, 8, 9, 9, -1, 0, SCOUT_MARKER_PLUS, red));
	n = 0;
	for (int i = 0; i < 81; i++)
		n += rgb[i * 3] == 255;
	CHECK(n == 1 && rgb[0] == 255);
	const uint16_t big[3] = {300, 0, 0};
	CHECK_ERR(scout_draw_marker(rgb, 8, 9, 9, 4, 4, SCOUT_MARKER_RING, big), SCOUT_EINVAL,
		  "255");
}

static void test_png(void)
{
	char dir[] = "/tmp/scout-test-png-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256], bad[256];
	snprintf(path, sizeof path, "%s/a.png", dir);
	snprintf(bad, sizeof bad, "%s/missing/a.png", dir);
	uint16_t px[2 * 3 * 3];
	for (int i = 0; i < 18; i++)
		px[i] = (uint16_t)(i * 3000);
	CHECK_OK(scout_png_write(path, px, 2, 3, 3, 16));
	FILE *f = fopen(path, "rb");
	unsigned char head[33] = {0};
	CHECK(f && fread(head, 1, 33, f) == 33);
	if (f)
		fclose(f);
	/* signature, IHDR: width 3, height 2, depth 16, colour type 2 (RGB) */
	CHECK(!memcmp(head, "\x89PNG\r\n\x1a\n", 8) && !memcmp(head + 12, "IHDR", 4));
	CHECK(head[19] == 3 && head[23] == 2 && head[24] == 16 && head[25] == 2);
	/* replaced atomically; errors leave nothing */
	CHECK_OK(scout_png_write(path, px, 1, 1, 1, 8));
	CHECK_ERR(scout_png_write(bad, px, 1, 1, 1, 8), SCOUT_EIO, "missing/a.png");
	CHECK_ERR(scout_png_write(path, px, 0, 1, 1, 8), SCOUT_EINVAL, "size");
	CHECK_ERR(scout_png_write(path, px, 1, 1, 2, 8), SCOUT_EINVAL, "channels");
	CHECK_ERR(scout_png_write(dir, px, 1, 1, 1, 8), SCOUT_EIO, "rename");
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size > 8);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(dir) == 0); /* empty: no temporary left */
}

int main(void)
{
	test_max_project();
	test_mip_memory();
	test_contrast();
	test_block_max_and_markers();
	test_png();
	return check_summary();
}
