/* Hand-computed cases for the ops kernels (src/ops). */
#include <math.h>

#include "check.h"
#include "scout/ops.h"
#include "ops/ops_internal.h"

static int close_rel(double a, double b, double tol)
{
	return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)) + 1e-300;
}

static void test_radius(void)
{
	int64_t r[3];
	double s[3] = {2.0, 0.1, 1.2};
	CHECK_OK(scout_gaussian_radius(r, 3, s, 4.0));
	/* int(4*2+0.5)=8, int(0.4+0.5)=0, int(4.8+0.5)=5 */
	CHECK(r[0] == 8 && r[1] == 0 && r[2] == 5);
	double bad[1] = {-1};
	CHECK_ERR(scout_gaussian_radius(r, 1, bad, 4.0), SCOUT_EINVAL, "sigma");
	CHECK_ERR(scout_gaussian_radius(r, 0, s, 4.0), SCOUT_EINVAL, "ndim");
}

static void test_gaussian(void)
{
	/* sigma 1, truncate 1: radius 1, weights e^-0.5 / (1 + 2 e^-0.5) and 1 / (...) */
	double e = exp(-0.5), w0 = 1 / (1 + 2 * e), w1 = e / (1 + 2 * e);
	float in[5] = {0, 0, 1, 0, 0}, out[5];
	int64_t shape[1] = {5};
	double sigma[1] = {1.0};
	CHECK_OK(scout_gaussian_filter(out, in, 1, shape, sigma, 1.0));
	CHECK(out[0] == 0 && out[4] == 0);
	CHECK(close_rel(out[1], w1, 1e-7) && close_rel(out[3], w1, 1e-7));
	CHECK(close_rel(out[2], w0, 1e-7));

	/* nearest mode: the left neighbour of element 0 is element 0 */
	float edge[3] = {1, 0, 0};
	int64_t s3[1] = {3};
	CHECK_OK(scout_gaussian_filter(edge, edge, 1, s3, sigma, 1.0)); /* in place */
	CHECK(close_rel(edge[0], w0 + w1, 1e-7));
	CHECK(close_rel(edge[1], w1, 1e-7));
	CHECK(edge[2] == 0);

	/* a constant 3-D block stays constant, whatever the sigma (weights sum to 1) */
	float cube[4 * 5 * 70];
	for (size_t i = 0; i < 4 * 5 * 70; i++)
		cube[i] = 7.0f;
	int64_t cs[3] = {4, 5, 70};
	double sg[3] = {3.0, 0.0, 1.5};
	CHECK_OK(scout_gaussian_filter(cube, cube, 3, cs, sg, 4.0));
	int flat = 1;
	for (size_t i = 0; i < 4 * 5 * 70; i++)
		flat &= close_rel(cube[i], 7.0, 1e-6);
	CHECK(flat);

	/* 2-D separable: an impulse gives the outer product of the 1-D kernels */
	float img[5 * 5] = {0}, res[5 * 5];
	img[12] = 1;
	int64_t s2[2] = {5, 5};
	double sg2[2] = {1.0, 1.0};
	CHECK_OK(scout_gaussian_filter(res, img, 2, s2, sg2, 1.0));
	CHECK(close_rel(res[12], w0 * w0, 1e-6));
	CHECK(close_rel(res[6], w1 * w1, 1e-6));
	CHECK(close_rel(res[7], w1 * w0, 1e-6));
	CHECK(res[0] == 0);

	/* all sigmas 0: a copy */
	double zero[2] = {0, 0};
	CHECK_OK(scout_gaussian_filter(res, img, 2, s2, zero, 4.0));
	CHECK(memcmp(res, img, sizeof img) == 0);

	/* errors */
	double neg[1] = {-2};
	CHECK_ERR(scout_gaussian_filter(out, in, 1, shape, neg, 4.0), SCOUT_EINVAL, "sigma");
	CHECK_ERR(scout_gaussian_filter(NULL, in, 1, shape, sigma, 4.0), SCOUT_EINVAL, NULL);
	int64_t negshape[1] = {-1};
	CHECK_ERR(scout_gaussian_filter(out, in, 1, negshape, sigma, 4.0), SCOUT_EINVAL,
		  "negative");
}

static void test_maximum(void)
{
	float in[7] = {1, 3, 2, 5, 4, 0, 0}, out[7];
	float want[7] = {3, 3, 5, 5, 5, 4, 0};
	int64_t shape[1] = {7}, r1[1] = {1};
	CHECK_OK(scout_maximum_filter(out, in, 1, shape, r1));
	CHECK(memcmp(out, want, sizeof want) == 0);
	/* radius larger than the line: the global maximum everywhere */
	int64_t r9[1] = {9};
	CHECK_OK(scout_maximum_filter(out, in, 1, shape, r9));
	int all5 = 1;
	for (int i = 0; i < 7; i++)
		all5 &= out[i] == 5;
	CHECK(all5);

	/* 2-D, radius (0, 1) filters rows only; (1, 0) columns only */
	float m[2 * 3] = {1, 0, 2, 0, 3, 0}, o[6];
	int64_t s2[2] = {2, 3}, rr[2] = {0, 1}, rc[2] = {1, 0};
	float rows[6] = {1, 2, 2, 3, 3, 3}, cols[6] = {1, 3, 2, 1, 3, 2};
	CHECK_OK(scout_maximum_filter(o, m, 2, s2, rr));
	CHECK(memcmp(o, rows, sizeof rows) == 0);
	CHECK_OK(scout_maximum_filter(o, m, 2, s2, rc));
	CHECK(memcmp(o, cols, sizeof cols) == 0);
	int64_t bad[2] = {-1, 0};
	CHECK_ERR(scout_maximum_filter(o, m, 2, s2, bad), SCOUT_EINVAL, "radius");
}

static void test_local_maxima(void)
{
	float img[5 * 5] = {0};
	img[1 * 5 + 1] = 5;
	img[3 * 5 + 3] = 7;
	img[3 * 5 + 4] = 6;
	int64_t shape[2] = {5, 5}, r[2] = {1, 1};
	int64_t *pts;
	size_t n;
	CHECK_OK(scout_local_maxima(&pts, &n, img, 2, shape, r, 1.0, NULL, NULL));
	CHECK(n == 2);
	if (n == 2)
		CHECK(pts[0] == 1 && pts[1] == 1 && pts[2] == 3 && pts[3] == 3);
	scout_free(pts);
	/* threshold above the first peak */
	CHECK_OK(scout_local_maxima(&pts, &n, img, 2, shape, r, 6.5, NULL, NULL));
	CHECK(n == 1 && pts[0] == 3 && pts[1] == 3);
	scout_free(pts);
	/* interior box (0,0)-(3,5) excludes row 3 */
	int64_t st[2] = {0, 0}, sp[2] = {3, 5};
	CHECK_OK(scout_local_maxima(&pts, &n, img, 2, shape, r, 1.0, st, sp));
	CHECK(n == 1 && pts[0] == 1 && pts[1] == 1);
	scout_free(pts);
	/* a plateau: both equal voxels are peaks */
	float plat[4] = {1, 2, 2, 0};
	int64_t s1[1] = {4}, r1[1] = {1};
	CHECK_OK(scout_local_maxima(&pts, &n, plat, 1, s1, r1, 0.5, NULL, NULL));
	CHECK(n == 2 && pts[0] == 1 && pts[1] == 2);
	scout_free(pts);
	int64_t bad[2] = {0, 6};
	CHECK_ERR(scout_local_maxima(&pts, &n, img, 2, shape, r, 1.0, st, bad), SCOUT_EBOUNDS,
		  NULL);
	CHECK(pts == NULL && n == 0);
	CHECK_ERR(scout_local_maxima(&pts, &n, img, 2, shape, r, 1.0, st, NULL), SCOUT_EINVAL,
		  "interior");
}

static void test_stats_int(void)
{
	scout_stats s;
	scout_stats_result r;
	int16_t v[5] = {-3, 5, 7, -32768, 32767};
	CHECK_OK(scout_stats_init(&s, SCOUT_INT16));
	CHECK_OK(scout_stats_update(&s, v, 5));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(r.count == 5 && r.nan_count == 0);
	CHECK(strcmp(r.sum_str, "8") == 0 && r.sum == 8);
	CHECK(strcmp(r.min_str, "-32768") == 0 && strcmp(r.max_str, "32767") == 0);
	CHECK(close_rel(r.mean, 1.6, 1e-15));
	/* sum of squares 2147418196; var = 2147418196 / 5 - 1.6^2 = 429483636.64 */
	CHECK(close_rel(r.std, sqrt(429483636.64), 1e-14));

	/* uint64: 2 x (2^64 - 1) + 2 = 2^65 exactly */
	uint64_t u[3] = {UINT64_MAX, UINT64_MAX, 2};
	CHECK_OK(scout_stats_init(&s, SCOUT_UINT64));
	CHECK_OK(scout_stats_update(&s, u, 3));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(strcmp(r.sum_str, "36893488147419103232") == 0);
	CHECK(strcmp(r.max_str, "18446744073709551615") == 0 && strcmp(r.min_str, "2") == 0);

	int64_t i[2] = {INT64_MIN, INT64_MIN};
	CHECK_OK(scout_stats_init(&s, SCOUT_INT64));
	CHECK_OK(scout_stats_update(&s, i, 2));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(strcmp(r.sum_str, "-18446744073709551616") == 0);
	CHECK(r.std == 0);

	/* merge of parts equals the whole: 1..10, mean 5.5, variance 8.25 */
	uint8_t d[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	scout_stats a, b, c;
	CHECK_OK(scout_stats_init(&a, SCOUT_UINT8));
	CHECK_OK(scout_stats_init(&b, SCOUT_UINT8));
	CHECK_OK(scout_stats_init(&c, SCOUT_UINT8));
	CHECK_OK(scout_stats_update(&a, d, 3));
	CHECK_OK(scout_stats_update(&b, d + 3, 6));
	CHECK_OK(scout_stats_update(&c, d + 9, 1));
	CHECK_OK(scout_stats_merge(&c, &a));
	CHECK_OK(scout_stats_merge(&c, &b));
	CHECK_OK(scout_stats_finish(&r, &c));
	CHECK(r.count == 10 && strcmp(r.sum_str, "55") == 0);
	CHECK(close_rel(r.mean, 5.5, 1e-15) && close_rel(r.std, sqrt(8.25), 1e-15));
	CHECK(strcmp(r.min_str, "1") == 0 && strcmp(r.max_str, "10") == 0);

	/* bool counts trues */
	uint8_t bl[4] = {0, 1, 2, 0};
	CHECK_OK(scout_stats_init(&s, SCOUT_BOOL));
	CHECK_OK(scout_stats_update(&s, bl, 4));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(strcmp(r.sum_str, "2") == 0 && r.mean == 0.5 && r.std == 0.5);

	CHECK_ERR(scout_stats_merge(&c, &s), SCOUT_EINVAL, "dtypes differ");
	CHECK_ERR(scout_stats_init(&s, SCOUT_COMPLEX64), SCOUT_EUNSUPPORTED, "complex");
	scout_stats junk;
	memset(&junk, 0, sizeof junk);
	CHECK_ERR(scout_stats_update(&junk, d, 1), SCOUT_EINVAL, "scout_stats_init");
}

static void test_stats_float(void)
{
	scout_stats s, e;
	scout_stats_result r;
	float v[5] = {1, NAN, 2, 3, NAN};
	CHECK_OK(scout_stats_init(&s, SCOUT_FLOAT32));
	CHECK_OK(scout_stats_update(&s, v, 5));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(r.count == 3 && r.nan_count == 2);
	CHECK(r.sum == 6 && r.mean == 2 && r.min == 1 && r.max == 3);
	CHECK(close_rel(r.std, sqrt(2.0 / 3.0), 1e-15));

	/* empty + merge of an empty accumulator */
	CHECK_OK(scout_stats_init(&e, SCOUT_FLOAT32));
	CHECK_OK(scout_stats_merge(&s, &e));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(r.count == 3 && r.mean == 2);
	CHECK_OK(scout_stats_finish(&r, &e));
	CHECK(r.count == 0 && isnan(r.mean) && isnan(r.std));
	char *json;
	CHECK_OK(scout_stats_to_json(&json, &e, NULL, 0, 0, 0));
	CHECK(strstr(json, "\"mean\": null") != NULL && strstr(json, "\"count\": 0") != NULL);
	scout_free(json);

	/* float16: 1.5 (0x3e00) and -0.5 (0xb800) */
	uint16_t h[2] = {0x3e00, 0xb800};
	CHECK_OK(scout_stats_init(&s, SCOUT_FLOAT16));
	CHECK_OK(scout_stats_update(&s, h, 2));
	CHECK_OK(scout_stats_finish(&r, &s));
	CHECK(r.sum == 1.0 && r.mean == 0.5 && r.std == 1.0 && r.min == -0.5);
}

static void test_histogram(void)
{
	double x[8] = {0, 0.5, 1, 1.5, 2, 2.5, -1, 3};
	uint64_t c[2] = {0, 0};
	CHECK_OK(scout_histogram_update(c, 2, 0, 2, SCOUT_FLOAT64, x, 8));
	/* [0, 1): 0, 0.5; [1, 2]: 1, 1.5, 2 (last bin includes hi) */
	CHECK(c[0] == 2 && c[1] == 3);
	uint64_t c2[2] = {10, 20};
	CHECK_OK(scout_histogram_merge(c2, c, 2));
	CHECK(c2[0] == 12 && c2[1] == 23);
	double ed[5];
	CHECK_OK(scout_histogram_edges(ed, 4, 0, 1));
	CHECK(ed[0] == 0 && ed[1] == 0.25 && ed[2] == 0.5 && ed[3] == 0.75 && ed[4] == 1);
	/* lo == hi widens to +-0.5 as numpy */
	CHECK_OK(scout_histogram_edges(ed, 1, 3, 3));
	CHECK(ed[0] == 2.5 && ed[1] == 3.5);
	uint16_t u[4] = {0, 9, 10, 11};
	uint64_t c3[2] = {0, 0};
	CHECK_OK(scout_histogram_update(c3, 2, 0, 10, SCOUT_UINT16, u, 4));
	CHECK(c3[0] == 1 && c3[1] == 2);
	CHECK_ERR(scout_histogram_update(c3, 2, 5, 1, SCOUT_UINT16, u, 4), SCOUT_EINVAL, "larger");
	CHECK_ERR(scout_histogram_update(c3, 0, 0, 1, SCOUT_UINT16, u, 4), SCOUT_EINVAL, "bins");
	char *json;
	scout_stats s;
	CHECK_OK(scout_stats_init(&s, SCOUT_UINT16));
	CHECK_OK(scout_stats_update(&s, u, 4));
	CHECK_OK(scout_stats_to_json(&json, &s, c3, 2, 0, 10));
	CHECK(strstr(json, "\"counts\": [1, 2]") != NULL);
	CHECK(strstr(json, "\"edges\": [0, 5, 10]") != NULL);
	CHECK(strstr(json, "\"sum\": 30") != NULL);
	scout_free(json);
}

static void test_convert(void)
{
	/* half bit patterns: 1.0, -2.0, smallest subnormal 2^-24, inf */
	CHECK(scout__half_to_float(0x3c00) == 1.0f);
	CHECK(scout__half_to_float(0xc000) == -2.0f);
	CHECK(scout__half_to_float(0x0001) == 0x1p-24f);
	CHECK(isinf(scout__half_to_float(0x7c00)));
	CHECK(scout__float_to_half(65504.0f) == 0x7bff);
	CHECK(scout__float_to_half(65519.0f) == 0x7bff);
	CHECK(scout__float_to_half(65520.0f) == 0x7c00);
	/* 1 + 2^-11 is a tie between 1 and 1 + 2^-10: even gives 1 */
	CHECK(scout__float_to_half(1.0f + 0x1p-11f) == 0x3c00);
	CHECK(scout__float_to_half(1.0f + 3 * 0x1p-11f) == 0x3c02);
	CHECK(scout__float_to_half(0x1p-25f) == 0x0000); /* tie to even (0) */
	CHECK(scout__float_to_half(0x1.8p-25f) == 0x0001);
	CHECK(scout__double_to_half(1.0 + 0x1p-11 + 0x1p-40) == 0x3c01);

	uint16_t u[3] = {0, 1000, 65535};
	float f[3];
	CHECK_OK(scout_to_float32(f, u, SCOUT_UINT16, 3));
	CHECK(f[0] == 0 && f[1] == 1000 && f[2] == 65535);
	float g[4] = {-1.0f, 2.5f, 70000.0f, NAN};
	uint16_t back[4];
	CHECK_OK(scout_from_float32(back, SCOUT_UINT16, g, 4));
	CHECK(back[0] == 0 && back[1] == 3 && back[2] == 65535 && back[3] == 0);
	CHECK_ERR(scout_to_float32(f, u, SCOUT_COMPLEX64, 1), SCOUT_EUNSUPPORTED, "complex");
}

int main(void)
{
	test_radius();
	test_gaussian();
	test_maximum();
	test_local_maxima();
	test_stats_int();
	test_stats_float();
	test_histogram();
	test_convert();
	return check_summary();
}
