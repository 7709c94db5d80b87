/*
 * Separable Gaussian filter matching scipy.ndimage.gaussian_filter with
 * mode='nearest' on float32 data: one correlate1d pass per axis, each pass
 * accumulating in double in scipy's order (centre tap, then the symmetric
 * pairs from the outermost inwards) and storing float32.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "sweep.h"

int scout_gaussian_radius(int64_t *radius_out, int ndim, const double *sigma, double truncate)
{
	if (!radius_out || !sigma)
		return scout__error(SCOUT_EINVAL, "gaussian radius: NULL argument");
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "gaussian radius: ndim %d is outside 1..%d", ndim,
				    SCOUT_MAX_NDIM);
	if (!isfinite(truncate) || truncate < 0)
		return scout__error(SCOUT_EINVAL,
				    "gaussian radius: truncate %g is not a finite number >= 0",
				    truncate);
	for (int i = 0; i < ndim; i++) {
		if (!isfinite(sigma[i]) || sigma[i] < 0)
			return scout__error(SCOUT_EINVAL,
					    "gaussian radius: sigma %g of axis %d is not a finite "
					    "number >= 0",
					    sigma[i], i);
		double r = truncate * sigma[i] + 0.5;
		if (r >= 2147483648.0)
			return scout__error(SCOUT_EOVERFLOW,
					    "gaussian radius: sigma %g x truncate %g of axis %d is "
					    "too large",
					    sigma[i], truncate, i);
		/* scipy skips axes with sigma <= 1e-15 */
		radius_out[i] = sigma[i] > 1e-15 ? (int64_t)r : 0;
	}
	return SCOUT_OK;
}

/* numpy's pairwise summation of n contiguous doubles (np.sum) */
static double np_pairwise_sum(const double *a, size_t n)
{
	if (n < 8) {
		double res = 0.;
		for (size_t i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128) {
		double r[8];
		size_t i;
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + (size_t)j];
		double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	size_t n2 = n / 2;
	n2 -= n2 % 8;
	return np_pairwise_sum(a, n2) + np_pairwise_sum(a + n2, n - n2);
}

/*
 * Half kernel w[0..r] (w[k] weights distance k) as scipy's
 * _gaussian_kernel1d: exp(-0.5 / sigma^2 * x^2) over x = -r..r, divided by
 * its (pairwise) sum. full must hold 2r+1 doubles.
 */
static void gaussian_weights(double *w, double *full, double sigma, int64_t r)
{
	double c = -0.5 / (sigma * sigma);
	for (int64_t x = -r; x <= r; x++)
		full[x + r] = exp(c * (double)(x * x));
	double sum = np_pairwise_sum(full, (size_t)(2 * r + 1));
	for (int64_t k = 0; k <= r; k++)
		w[k] = full[r + k] / sum;
}

struct gauss_ctx {
	const double *w; /* half kernel, w[0..r] */
	int64_t r;
	double *acc; /* unused scratch */
};

/*
 * NB outputs at centre[0..NB) whose taps are step elements apart: the
 * accumulators stay in registers while the taps stream through. Each output
 * sums in scipy's order: centre * w0, then (left_k + right_k) * w_k from
 * k = r down to 1.
 */
#define NB 16
static inline void gauss_block(const double *restrict centre, int64_t step,
			       const double *restrict w, int64_t r, float *restrict o)
{
	double a[NB];
	for (int j = 0; j < NB; j++)
		a[j] = centre[j] * w[0];
	for (int64_t k = r; k >= 1; k--) {
		const double *restrict left = centre - k * step, *restrict right =
								     centre + k * step;
		double wk = w[k];
		for (int j = 0; j < NB; j++)
			a[j] += (left[j] + right[j]) * wk;
	}
	for (int j = 0; j < NB; j++)
		o[j] = (float)a[j];
}

/* one output with taps step elements apart */
static inline float gauss_one(const double *centre, int64_t step, const double *w, int64_t r)
{
	double a = centre[0] * w[0];
	for (int64_t k = r; k >= 1; k--)
		a += (centre[-k * step] + centre[k * step]) * w[k];
	return (float)a;
}

/*
 * On x86-64 with GCC, the line and tile kernels are also compiled for AVX2
 * (chosen at load time). AVX2 does not imply FMA, so the arithmetic, and the
 * results, are the same as the baseline SSE2 code.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SCOUT_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define SCOUT_MULTIVERSION
#endif

/* one line of length L: ext holds L + 2r doubles, centre at ext[r] */
SCOUT_MULTIVERSION static void gauss_line(void *vctx, const double *ext, int64_t L, float *out,
					  int64_t stride)
{
	struct gauss_ctx *c = vctx;
	(void)stride; /* lines are contiguous */
	const double *centre = ext + c->r;
	int64_t l = 0;
	for (; l + NB <= L; l += NB)
		gauss_block(centre + l, 1, c->w, c->r, out + l);
	for (; l < L; l++)
		out[l] = gauss_one(centre + l, 1, c->w, c->r);
}

/* a tile of W lines: ext holds (L + 2r) rows of W doubles */
SCOUT_MULTIVERSION static void gauss_tile(void *vctx, const double *ext, int64_t L, int64_t W,
					  float *out, int64_t stride)
{
	struct gauss_ctx *c = vctx;
	for (int64_t l = 0; l < L; l++) {
		const double *centre = ext + (l + c->r) * W;
		float *o = out + l * stride;
		int64_t j = 0;
		for (; j + NB <= W; j += NB)
			gauss_block(centre + j, W, c->w, c->r, o + j);
		for (; j < W; j++)
			o[j] = gauss_one(centre + j, W, c->w, c->r);
	}
}

int scout_gaussian_filter(float *out, const float *in, int ndim, const int64_t *shape,
			  const double *sigma, double truncate)
{
	size_t count;
	int rc = scout__ops_check_array(&count, out, in, ndim, shape, "gaussian filter");
	if (rc < 0)
		return rc;
	int64_t radius[SCOUT_MAX_NDIM];
	rc = scout_gaussian_radius(radius, ndim, sigma, truncate);
	if (rc < 0)
		return scout__error_prefix(rc, "gaussian filter: ");
	if (count == 0)
		return SCOUT_OK;

	int64_t rmax = 0;
	for (int i = 0; i < ndim; i++)
		if (radius[i] > rmax)
			rmax = radius[i];
	scout__sweep sw;
	rc = scout__sweep_init(&sw, ndim, shape, radius, sizeof(double));
	if (rc < 0)
		return scout__error_prefix(rc, "gaussian filter: ");
	size_t nw = (size_t)rmax + 1;
	double *w = malloc(3 * nw * sizeof(double)); /* half kernel + full kernel */
	double *acc = malloc(sw.acc_len * sizeof(double));
	if (!w || !acc) {
		free(w);
		free(acc);
		scout__sweep_free(&sw);
		return scout__error(SCOUT_ENOMEM, "gaussian filter: out of memory for buffers");
	}

	const float *src = in;
	int passes = 0;
	for (int axis = 0; axis < ndim; axis++) {
		if (radius[axis] == 0) /* no pass, or a 1-tap kernel of weight 1 */
			continue;
		gaussian_weights(w, w + nw, sigma[axis], radius[axis]);
		struct gauss_ctx ctx = {w, radius[axis], acc};
		scout__sweep_axis(&sw, out, src, axis, radius[axis], scout__sweep_load_double,
				  gauss_line, gauss_tile, &ctx);
		src = out;
		passes++;
	}
	if (passes == 0 && out != in)
		memmove(out, in, count * sizeof(float));
	free(w);
	free(acc);
	scout__sweep_free(&sw);
	return SCOUT_OK;
}
