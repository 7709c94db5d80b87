/*
 * Maximum filter (scipy.ndimage.maximum_filter, mode 'nearest') by the van
 * Herk/Gil-Werman algorithm along each axis, and local maxima (peaks).
 */
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

struct max_ctx {
	int64_t r;
	float *g, *h; /* prefix / suffix maxima, ext-sized */
};

static inline float fmax2(float a, float b)
{
	return a > b ? a : b;
}

/*
 * o[j] = max(a[j], b[j]) for j < W, 4 lanes at a time with GCC/clang vector
 * extensions (a plain `a > b ? a : b` loop is not vectorised because of the
 * possible NaN traps). o may equal a or b.
 */
typedef float v4sf __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));

static inline void maxrow(float *o, const float *a, const float *b, int64_t W)
{
	int64_t j = 0;
	for (; j + 4 <= W; j += 4) {
		v4sf va, vb;
		memcpy(&va, a + j, sizeof va);
		memcpy(&vb, b + j, sizeof vb);
		v4si m = va > vb;
		v4sf r = (v4sf)(((v4si)va & m) | ((v4si)vb & ~m));
		memcpy(o + j, &r, sizeof r);
	}
	for (; j < W; j++)
		o[j] = fmax2(a[j], b[j]);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SCOUT_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define SCOUT_MULTIVERSION
#endif

/*
 * Van Herk over M = L + 2r rows of W values: blocks of s = 2r+1 rows; g is
 * the running max from each block start, h the running max to each block
 * end; the window [l, l + s - 1] is max(h[l], g[l + s - 1]). The W lanes are
 * independent, so every row operation is a vector max.
 */
SCOUT_MULTIVERSION static void max_tile(void *vctx, const double *ext, int64_t L, int64_t W,
					float *out, int64_t stride)
{
	struct max_ctx *c = vctx;
	const float *restrict x = (const float *)(const void *)ext;
	int64_t r = c->r, s = 2 * r + 1, M = L + 2 * r;
	if (r <= 1) { /* 3 rows: a direct max is cheaper than the scans */
		for (int64_t l = 0; l < L; l++) {
			float *o = out + l * stride;
			const float *x0 = x + l * W;
			maxrow(o, x0, x0 + W, W);
			for (int64_t k = 2; k < s; k++)
				maxrow(o, o, x0 + k * W, W);
		}
		return;
	}
	float *restrict g = c->g, *restrict h = c->h;
	for (int64_t i = 0; i < M; i++) {
		const float *restrict xi = x + i * W;
		float *restrict gi = g + i * W;
		if (i % s == 0) {
			memcpy(gi, xi, (size_t)W * sizeof(float));
		} else {
			maxrow(gi, gi - W, xi, W);
		}
	}
	for (int64_t i = M - 1; i >= 0; i--) {
		const float *restrict xi = x + i * W;
		float *restrict hi = h + i * W;
		if (i == M - 1 || (i + 1) % s == 0) {
			memcpy(hi, xi, (size_t)W * sizeof(float));
		} else {
			maxrow(hi, hi + W, xi, W);
		}
	}
	for (int64_t l = 0; l < L; l++) {
		maxrow(out + l * stride, h + l * W, g + (l + s - 1) * W, W);
	}
}

/*
 * A contiguous line: up to radius 8 a direct window max (2r vector max per
 * output block) beats van Herk's sequential scalar scans; larger radii use
 * van Herk.
 */
SCOUT_MULTIVERSION static void max_line(void *vctx, const double *ext, int64_t L, float *out,
					int64_t stride)
{
	struct max_ctx *c = vctx;
	int64_t r = c->r, s = 2 * r + 1, M = L + 2 * r;
	const float *restrict x = (const float *)(const void *)ext;
	float *restrict o = out;
	(void)stride; /* lines are contiguous */
	if (r <= 8) {
		maxrow(o, x, x + 1, L);
		for (int64_t k = 2; k < s; k++)
			maxrow(o, o, x + k, L);
		return;
	}
	float *restrict g = c->g, *restrict h = c->h;
	for (int64_t i = 0; i < M; i++)
		g[i] = i % s == 0 ? x[i] : fmax2(g[i - 1], x[i]);
	for (int64_t i = M - 1; i >= 0; i--)
		h[i] = (i == M - 1 || (i + 1) % s == 0) ? x[i] : fmax2(h[i + 1], x[i]);
	for (int64_t l = 0; l < L; l++)
		o[l] = fmax2(h[l], g[l + s - 1]);
}

static int check_radius(int ndim, const int64_t *radius, const char *what)
{
	if (!radius)
		return scout__error(SCOUT_EINVAL, "%s: radius is NULL", what);
	for (int i = 0; i < ndim; i++)
		if (radius[i] < 0 || radius[i] > INT32_MAX)
			return scout__error(SCOUT_EINVAL,
					    "%s: radius %lld of axis %d is outside 0..2^31-1", what,
					    (long long)radius[i], i);
	return SCOUT_OK;
}

int scout_maximum_filter(float *out, const float *in, int ndim, const int64_t *shape,
			 const int64_t *radius)
{
	size_t count;
	int rc = scout__ops_check_array(&count, out, in, ndim, shape, "maximum filter");
	if (rc < 0)
		return rc;
	if ((rc = check_radius(ndim, radius, "maximum filter")) < 0)
		return rc;
	if (count == 0)
		return SCOUT_OK;
	scout__sweep sw;
	rc = scout__sweep_init(&sw, ndim, shape, radius, sizeof(float));
	if (rc < 0)
		return scout__error_prefix(rc, "maximum filter: ");
	float *gh = malloc(2 * sw.ext_len * sizeof(float));
	if (!gh) {
		scout__sweep_free(&sw);
		return scout__error(SCOUT_ENOMEM, "maximum filter: out of memory for buffers");
	}
	struct max_ctx ctx = {0, gh, gh + sw.ext_len};
	const float *src = in;
	for (int axis = 0; axis < ndim; axis++) {
		if (radius[axis] == 0)
			continue;
		ctx.r = radius[axis];
		scout__sweep_axis(&sw, out, src, axis, radius[axis], scout__sweep_load_float,
				  max_line, max_tile, &ctx);
		src = out;
	}
	if (src == in && out != in)
		memmove(out, in, count * sizeof(float));
	free(gh);
	scout__sweep_free(&sw);
	return SCOUT_OK;
}

struct point_list {
	int64_t *p;
	size_t count, cap; /* in points */
	int ndim;
};

static int push_point(struct point_list *pl, const int64_t *idx)
{
	if (pl->count == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64, bytes;
		if (__builtin_mul_overflow(cap, (size_t)pl->ndim * sizeof(int64_t), &bytes))
			return scout__error(SCOUT_EOVERFLOW, "local maxima: too many points");
		int64_t *p = realloc(pl->p, bytes);
		if (!p)
			return scout__error(SCOUT_ENOMEM,
					    "local maxima: out of memory for %zu points", cap);
		pl->p = p;
		pl->cap = cap;
	}
	memcpy(pl->p + pl->count * (size_t)pl->ndim, idx, (size_t)pl->ndim * sizeof(int64_t));
	pl->count++;
	return SCOUT_OK;
}

int scout_local_maxima(int64_t **points_out, size_t *count_out, const float *in, int ndim,
		       const int64_t *shape, const int64_t *radius, double threshold,
		       const int64_t *interior_start, const int64_t *interior_stop)
{
	if (points_out)
		*points_out = NULL;
	if (count_out)
		*count_out = 0;
	if (!points_out || !count_out)
		return scout__error(SCOUT_EINVAL, "local maxima: NULL output argument");
	size_t count;
	int rc = scout__ops_check_array(&count, in, in, ndim, shape, "local maxima");
	if (rc < 0)
		return rc;
	if ((rc = check_radius(ndim, radius, "local maxima")) < 0)
		return rc;
	if ((interior_start == NULL) != (interior_stop == NULL))
		return scout__error(SCOUT_EINVAL,
				    "local maxima: give both interior_start and interior_stop, or "
				    "neither");
	int64_t start[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++) {
		start[i] = interior_start ? interior_start[i] : 0;
		stop[i] = interior_stop ? interior_stop[i] : shape[i];
	}
	if ((rc = scout__check_box(ndim, shape, start, stop)) < 0)
		return scout__error_prefix(rc, "local maxima: interior box: ");
	for (int i = 0; i < ndim; i++)
		if (start[i] == stop[i])
			return SCOUT_OK;

	float *mx = malloc(count * sizeof(float));
	if (!mx)
		return scout__error(SCOUT_ENOMEM, "local maxima: out of memory for %zu values",
				    count);
	rc = scout_maximum_filter(mx, in, ndim, shape, radius);
	if (rc < 0) {
		free(mx);
		return scout__error_prefix(rc, "local maxima: ");
	}

	/* C-order strides */
	size_t stride[SCOUT_MAX_NDIM];
	stride[ndim - 1] = 1;
	for (int i = ndim - 2; i >= 0; i--)
		stride[i] = stride[i + 1] * (size_t)shape[i + 1];

	struct point_list pl = {NULL, 0, 0, ndim};
	int64_t idx[SCOUT_MAX_NDIM];
	memcpy(idx, start, (size_t)ndim * sizeof(int64_t));
	int last = ndim - 1;
	for (;;) {
		size_t base = 0;
		for (int i = 0; i < last; i++)
			base += (size_t)idx[i] * stride[i];
		const float *v = in + base, *m = mx + base;
		for (int64_t x = start[last]; x < stop[last]; x++) {
			float f = v[x];
			if (f == m[x] && (double)f >= threshold) {
				idx[last] = x;
				if ((rc = push_point(&pl, idx)) < 0) {
					free(pl.p);
					free(mx);
					return rc;
				}
			}
		}
		/* advance the outer axes (odometer) */
		int a = last - 1;
		while (a >= 0) {
			if (++idx[a] < stop[a])
				break;
			idx[a] = start[a];
			a--;
		}
		if (a < 0)
			break;
	}
	free(mx);
	*points_out = pl.p;
	*count_out = pl.count;
	return SCOUT_OK;
}
