/*
 * Downsampling kernels of the multiscale pyramid: block mean, first voxel,
 * block mode, Gaussian then subsample (see scout/ngff.h).
 *
 * Every kernel walks the output line by line (a line runs along the last
 * axis), so its temporary memory is a few lines, whatever the block size;
 * the Gaussian needs one float32 copy of its input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "scout/ngff.h"

static const char *const method_names[] = {"mean", "nearest", "mode", "gaussian"};

const char *scout_downsample_method_name(scout_downsample_method method)
{
	if ((int)method < 0 || (int)method > 3)
		return NULL;
	return method_names[method];
}

int scout_downsample_method_parse(scout_downsample_method *out, const char *name)
{
	if (!out || !name)
		return scout__error(SCOUT_EINVAL, "downsampling method: NULL argument");
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, method_names[i])) {
			*out = (scout_downsample_method)i;
			return SCOUT_OK;
		}
	return scout__error(SCOUT_EINVAL,
			    "unknown downsampling method '%s' (mean, nearest, mode or gaussian)",
			    name);
}

static double gaussian_sigma(int64_t f)
{
	return f > 1 ? 2.0 * (double)f / 6.0 : 0.0; /* skimage pyramid_reduce */
}

int scout_downsample_margin(int64_t *margin_out, int ndim, const int64_t *factors,
			    scout_downsample_method method)
{
	if (!margin_out || !factors || ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "scout_downsample_margin: bad arguments");
	if (method != SCOUT_DOWNSAMPLE_GAUSSIAN) {
		for (int i = 0; i < ndim; i++)
			margin_out[i] = 0;
		return SCOUT_OK;
	}
	double sigma[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++)
		sigma[i] = gaussian_sigma(factors[i]);
	return scout_gaussian_radius(margin_out, ndim, sigma, 4.0);
}

static int is_float(scout_dtype t)
{
	return t == SCOUT_FLOAT16 || t == SCOUT_FLOAT32 || t == SCOUT_FLOAT64;
}

/* ---- line iteration ---- */

/* Advance an N-D counter over axes [0, n) with extents ext; 0 when done. */
static int next_index(int64_t *idx, const int64_t *ext, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		if (++idx[i] < ext[i])
			return 1;
		idx[i] = 0;
	}
	return 0;
}

typedef struct {
	int ndim;
	const int64_t *out_shape, *in_shape, *origin, *f;
	int64_t istride[SCOUT_MAX_NDIM]; /* elements */
	size_t isz;
} geom;

/* Extent of block j on axis i (voxels present). */
static int64_t block_ext(const geom *g, int i, int64_t j)
{
	int64_t s = g->origin[i] + j * g->f[i];
	int64_t e = s + g->f[i];
	if (e > g->in_shape[i])
		e = g->in_shape[i];
	return e - s;
}

/* ---- mean ---- */

typedef __int128 i128;

enum { ACC_I64, ACC_I128, ACC_F64 };

static int acc_kind(scout_dtype t)
{
	if (is_float(t))
		return ACC_F64;
	if (t == SCOUT_INT64 || t == SCOUT_UINT64)
		return ACC_I128;
	return ACC_I64;
}

#define ADD_LINE(T, ACC, CONV)                                                                     \
	do {                                                                                       \
		const T *s_ = (const T *)src;                                                      \
		ACC *a_ = acc;                                                                     \
		if (f == 1)                                                                        \
			for (int64_t x = 0; x < n; x++)                                            \
				a_[x] += CONV(s_[x]);                                              \
		else if (f == 2) {                                                                 \
			int64_t x = 0;                                                             \
			for (; x + 1 < n; x += 2)                                                  \
				a_[x >> 1] += CONV(s_[x]) + CONV(s_[x + 1]);                       \
			if (x < n)                                                                 \
				a_[x >> 1] += CONV(s_[x]);                                         \
		} else                                                                             \
			for (int64_t x = 0; x < n; x++)                                            \
				a_[x / f] += CONV(s_[x]);                                          \
	} while (0)

#define AS_I64(v)  ((int64_t)(v))
#define AS_I128(v) ((i128)(v))
#define AS_F64(v)  ((double)(v))
#define AS_HALF(v) ((double)scout__half_to_float(v))

/* acc[x / f] += src[x] for x in [0, n) */
static void add_line(void *acc, const void *src, scout_dtype t, int64_t n, int64_t f)
{
	switch (t) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		ADD_LINE(uint8_t, int64_t, AS_I64);
		break;
	case SCOUT_INT8:
		ADD_LINE(int8_t, int64_t, AS_I64);
		break;
	case SCOUT_INT16:
		ADD_LINE(int16_t, int64_t, AS_I64);
		break;
	case SCOUT_UINT16:
		ADD_LINE(uint16_t, int64_t, AS_I64);
		break;
	case SCOUT_INT32:
		ADD_LINE(int32_t, int64_t, AS_I64);
		break;
	case SCOUT_UINT32:
		ADD_LINE(uint32_t, int64_t, AS_I64);
		break;
	case SCOUT_INT64:
		ADD_LINE(int64_t, i128, AS_I128);
		break;
	case SCOUT_UINT64:
		ADD_LINE(uint64_t, i128, AS_I128);
		break;
	case SCOUT_FLOAT16:
		ADD_LINE(uint16_t, double, AS_HALF);
		break;
	case SCOUT_FLOAT32:
		ADD_LINE(float, double, AS_F64);
		break;
	case SCOUT_FLOAT64:
		ADD_LINE(double, double, AS_F64);
		break;
	default:
		break;
	}
}

/* round(s / n) to nearest, halves away from zero, exactly (n > 0) */
static i128 round_div(i128 s, i128 n)
{
	if (s >= 0)
		return (2 * s + n) / (2 * n);
	return -((-2 * s + n) / (2 * n));
}

static void store_int(void *dst, scout_dtype t, i128 v)
{
	switch (t) {
	case SCOUT_BOOL:
	case SCOUT_UINT8: {
		uint8_t x = (uint8_t)v;
		memcpy(dst, &x, 1);
		break;
	}
	case SCOUT_INT8: {
		int8_t x = (int8_t)v;
		memcpy(dst, &x, 1);
		break;
	}
	case SCOUT_INT16: {
		int16_t x = (int16_t)v;
		memcpy(dst, &x, 2);
		break;
	}
	case SCOUT_UINT16: {
		uint16_t x = (uint16_t)v;
		memcpy(dst, &x, 2);
		break;
	}
	case SCOUT_INT32: {
		int32_t x = (int32_t)v;
		memcpy(dst, &x, 4);
		break;
	}
	case SCOUT_UINT32: {
		uint32_t x = (uint32_t)v;
		memcpy(dst, &x, 4);
		break;
	}
	case SCOUT_INT64: {
		int64_t x = (int64_t)v;
		memcpy(dst, &x, 8);
		break;
	}
	case SCOUT_UINT64: {
		uint64_t x = (uint64_t)v;
		memcpy(dst, &x, 8);
		break;
	}
	default:
		break;
	}
}

static void store_float(void *dst, scout_dtype t, double v)
{
	if (t == SCOUT_FLOAT32) {
		float x = (float)v;
		memcpy(dst, &x, 4);
	} else if (t == SCOUT_FLOAT64) {
		memcpy(dst, &v, 8);
	} else {
		uint16_t h = scout__double_to_half(v);
		memcpy(dst, &h, 2);
	}
}

/* round(s / n) to nearest, halves away from zero, in 64 bits (|s| < 2^62) */
static inline int64_t round_div64(int64_t s, int64_t n)
{
	return s >= 0 ? (2 * s + n) / (2 * n) : -((-2 * s + n) / (2 * n));
}

/*
 * round_div64(s, n) for n a power of two, 2n = 1 << k: shifts instead of a
 * 64-bit division per voxel (the usual 2x2 or 2x2x2 blocks; the division was
 * the largest part of a mean pyramid level's time). Same results: every
 * operand shifted is non-negative.
 */
static inline int64_t round_shift64(int64_t s, int64_t n, int k)
{
	return s >= 0 ? (2 * s + n) >> k : -((-2 * s + n) >> k);
}

static int log2_of(int64_t v)
{
	int k = 0;
	while (((int64_t)1 << k) < v)
		k++;
	return k;
}

#define FINISH_LINE(T)                                                                             \
	do {                                                                                       \
		T *d_ = (T *)(void *)dst;                                                          \
		if ((n & (n - 1)) == 0) {                                                          \
			int k_ = log2_of(2 * n);                                                   \
			for (int64_t j = 0; j < full; j++) {                                       \
				T v_ = (T)round_shift64(a[j], n, k_);                              \
				memcpy(d_ + j, &v_, sizeof(T));                                    \
			}                                                                          \
		} else                                                                             \
			for (int64_t j = 0; j < full; j++) {                                       \
				T v_ = (T)round_div64(a[j], n);                                    \
				memcpy(d_ + j, &v_, sizeof(T));                                    \
			}                                                                          \
		for (int64_t j = full; j < nxo; j++) {                                             \
			T v_ = (T)round_div64(a[j], rows * block_ext(g, g->ndim - 1, j));          \
			memcpy(d_ + j, &v_, sizeof(T));                                            \
		}                                                                                  \
	} while (0)

/* one output line of the 8/16/32-bit types from its int64 sums */
static void finish_i64(char *dst, scout_dtype t, const int64_t *a, int64_t nxo, int64_t rows,
		       const geom *g)
{
	int last = g->ndim - 1;
	int64_t fx = g->f[last], n = rows * fx;
	/* blocks [0, full) are whole along x */
	int64_t full = (g->in_shape[last] - g->origin[last]) / fx;
	if (full > nxo)
		full = nxo;
	switch (t) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		FINISH_LINE(uint8_t);
		break;
	case SCOUT_INT8:
		FINISH_LINE(int8_t);
		break;
	case SCOUT_INT16:
		FINISH_LINE(int16_t);
		break;
	case SCOUT_UINT16:
		FINISH_LINE(uint16_t);
		break;
	case SCOUT_INT32:
		FINISH_LINE(int32_t);
		break;
	default:
		FINISH_LINE(uint32_t);
		break;
	}
}

static int mean_kernel(char *out, const char *in, scout_dtype t, const geom *g)
{
	int nd = g->ndim, last = nd - 1;
	int64_t nxo = g->out_shape[last], fx = g->f[last];
	int kind = acc_kind(t);
	size_t asz = kind == ACC_I128 ? sizeof(i128) : 8;
	void *acc = malloc((size_t)nxo * asz);
	if (!acc)
		return scout__error(SCOUT_ENOMEM, "scout_downsample: no memory for a line");
	int64_t o[SCOUT_MAX_NDIM] = {0}, b[SCOUT_MAX_NDIM], bext[SCOUT_MAX_NDIM];
	int64_t x0 = g->origin[last];
	int64_t nxi = g->in_shape[last] - x0;
	if (nxi > nxo * fx)
		nxi = nxo * fx;
	char *dst = out;
	do {
		memset(acc, 0, (size_t)nxo * asz);
		int64_t rows = 1;
		for (int i = 0; i < last; i++) {
			bext[i] = block_ext(g, i, o[i]);
			rows *= bext[i];
			b[i] = 0;
		}
		do {
			int64_t off = x0;
			for (int i = 0; i < last; i++)
				off += (g->origin[i] + o[i] * g->f[i] + b[i]) * g->istride[i];
			add_line(acc, in + (size_t)off * g->isz, t, nxi, fx);
		} while (next_index(b, bext, last));
		if (kind == ACC_I64)
			finish_i64(dst, t, acc, nxo, rows, g);
		else
			for (int64_t j = 0; j < nxo; j++) {
				int64_t cnt = rows * block_ext(g, last, j);
				if (kind == ACC_F64)
					store_float(dst + (size_t)j * g->isz, t,
						    ((double *)acc)[j] / (double)cnt);
				else
					store_int(dst + (size_t)j * g->isz, t,
						  round_div(((i128 *)acc)[j], cnt));
			}
		dst += (size_t)nxo * g->isz;
	} while (next_index(o, g->out_shape, last));
	free(acc);
	return SCOUT_OK;
}

/* ---- nearest (the block's first voxel) ---- */

static void nearest_kernel(char *out, const char *in, const geom *g)
{
	int nd = g->ndim, last = nd - 1;
	int64_t o[SCOUT_MAX_NDIM] = {0};
	int64_t nxo = g->out_shape[last], fx = g->f[last];
	size_t isz = g->isz;
	char *dst = out;
	do {
		int64_t off = g->origin[last];
		for (int i = 0; i < last; i++)
			off += (g->origin[i] + o[i] * g->f[i]) * g->istride[i];
		const char *src = in + (size_t)off * isz;
		if (fx == 1) {
			memcpy(dst, src, (size_t)nxo * isz);
			dst += (size_t)nxo * isz;
		} else {
			for (int64_t j = 0; j < nxo; j++, dst += isz)
				memcpy(dst, src + (size_t)(j * fx) * isz, isz);
		}
	} while (next_index(o, g->out_shape, last));
}

/* ---- mode (most frequent value, ties to the smallest) ---- */

/* order-preserving unsigned key of an integer element */
static uint64_t load_key(const char *p, scout_dtype t)
{
	const uint64_t flip = (uint64_t)1 << 63;
	switch (t) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		return (uint8_t)*p;
	case SCOUT_INT8:
		return (uint64_t)(int64_t)(int8_t)*p ^ flip;
	case SCOUT_INT16: {
		int16_t v;
		memcpy(&v, p, 2);
		return (uint64_t)(int64_t)v ^ flip;
	}
	case SCOUT_UINT16: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case SCOUT_INT32: {
		int32_t v;
		memcpy(&v, p, 4);
		return (uint64_t)(int64_t)v ^ flip;
	}
	case SCOUT_UINT32: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	case SCOUT_INT64: {
		int64_t v;
		memcpy(&v, p, 8);
		return (uint64_t)v ^ flip;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

static int signed_int(scout_dtype t)
{
	return t == SCOUT_INT8 || t == SCOUT_INT16 || t == SCOUT_INT32 || t == SCOUT_INT64;
}

static void sort_keys(uint64_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++) { /* blocks are small: insertion sort */
		uint64_t v = k[i];
		size_t j = i;
		while (j > 0 && k[j - 1] > v) {
			k[j] = k[j - 1];
			j--;
		}
		k[j] = v;
	}
}

static int mode_kernel(char *out, const char *in, scout_dtype t, const geom *g)
{
	int nd = g->ndim, last = nd - 1;
	size_t bs = 1;
	for (int i = 0; i < nd; i++) {
		if (g->f[i] > 4096 || bs * (size_t)g->f[i] > ((size_t)1 << 20))
			return scout__error(
			    SCOUT_EINVAL, "scout_downsample: mode blocks larger than 2^20 voxels");
		bs *= (size_t)g->f[i];
	}
	int64_t nxo = g->out_shape[last], fx = g->f[last];
	uint64_t *keys = malloc((size_t)nxo * bs * sizeof *keys);
	size_t *cnt = malloc((size_t)nxo * sizeof *cnt);
	if (!keys || !cnt) {
		free(keys);
		free(cnt);
		return scout__error(SCOUT_ENOMEM, "scout_downsample: no memory for a line");
	}
	int64_t o[SCOUT_MAX_NDIM] = {0}, b[SCOUT_MAX_NDIM], bext[SCOUT_MAX_NDIM];
	int64_t x0 = g->origin[last];
	char *dst = out;
	const uint64_t flip = signed_int(t) ? (uint64_t)1 << 63 : 0;
	do {
		memset(cnt, 0, (size_t)nxo * sizeof *cnt);
		for (int i = 0; i < last; i++) {
			bext[i] = block_ext(g, i, o[i]);
			b[i] = 0;
		}
		do {
			int64_t off = x0;
			for (int i = 0; i < last; i++)
				off += (g->origin[i] + o[i] * g->f[i] + b[i]) * g->istride[i];
			const char *src = in + (size_t)off * g->isz;
			for (int64_t j = 0; j < nxo; j++) {
				int64_t e = block_ext(g, last, j);
				for (int64_t d = 0; d < e; d++)
					keys[(size_t)j * bs + cnt[j]++] =
					    load_key(src + (size_t)(j * fx + d) * g->isz, t);
			}
		} while (next_index(b, bext, last));
		for (int64_t j = 0; j < nxo; j++, dst += g->isz) {
			uint64_t *k = keys + (size_t)j * bs;
			size_t n = cnt[j], best_run = 0, i = 0;
			uint64_t best = k[0];
			sort_keys(k, n);
			while (i < n) {
				size_t r = i;
				while (r < n && k[r] == k[i])
					r++;
				if (r - i > best_run) { /* strictly longer: ties keep the smaller */
					best_run = r - i;
					best = k[i];
				}
				i = r;
			}
			uint64_t v = best ^ flip;
			store_int(dst, t, flip ? (i128)(int64_t)v : (i128)v);
		}
	} while (next_index(o, g->out_shape, last));
	free(keys);
	free(cnt);
	return SCOUT_OK;
}

/* ---- gaussian, then the block's first voxel ---- */

static int gaussian_kernel(char *out, const char *in, scout_dtype t, const geom *g, size_t in_n)
{
	int nd = g->ndim, last = nd - 1;
	double sigma[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++)
		sigma[i] = gaussian_sigma(g->f[i]);
	int64_t nxo = g->out_shape[last], fx = g->f[last];
	float *fin = malloc((in_n ? in_n : 1) * sizeof *fin);
	float *line = malloc((size_t)nxo * sizeof *line);
	int rc = SCOUT_OK;
	if (!fin || !line) {
		rc = scout__error(SCOUT_ENOMEM, "scout_downsample: no memory for %zu floats", in_n);
		goto done;
	}
	if ((rc = scout_to_float32(fin, in, t, in_n)) < 0)
		goto done;
	if ((rc = scout_gaussian_filter(fin, fin, nd, g->in_shape, sigma, 4.0)) < 0)
		goto done;
	int64_t o[SCOUT_MAX_NDIM] = {0};
	char *dst = out;
	do {
		int64_t off = g->origin[last];
		for (int i = 0; i < last; i++)
			off += (g->origin[i] + o[i] * g->f[i]) * g->istride[i];
		for (int64_t j = 0; j < nxo; j++)
			line[j] = fin[off + j * fx];
		if ((rc = scout_from_float32(dst, t, line, (size_t)nxo)) < 0)
			goto done;
		dst += (size_t)nxo * g->isz;
	} while (next_index(o, g->out_shape, last));
done:
	free(fin);
	free(line);
	return rc;
}

int scout_downsample(void *out, const int64_t *out_shape, const void *in, const int64_t *in_shape,
		     const int64_t *origin, scout_dtype dtype, int ndim, const int64_t *factors,
		     scout_downsample_method method)
{
	if (!out_shape || !in_shape || !factors || ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "scout_downsample: bad arguments");
	if ((int)method < 0 || (int)method > 3)
		return scout__error(SCOUT_EINVAL, "scout_downsample: invalid method %d",
				    (int)method);
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "scout_downsample: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	if (!scout_dtype_name(dtype) || scout_dtype_size(dtype) == 0)
		return scout__error(SCOUT_EINVAL, "scout_downsample: invalid dtype %d", (int)dtype);
	if (method == SCOUT_DOWNSAMPLE_MODE && is_float(dtype))
		return scout__error(SCOUT_EINVAL,
				    "downsampling method 'mode' is for label images (integer "
				    "types), not %s data",
				    scout_dtype_name(dtype));
	int64_t zero[SCOUT_MAX_NDIM] = {0};
	if (!origin)
		origin = zero;
	size_t out_n = 1, in_n = 1;
	int rc = scout__shape_size(&in_n, NULL, ndim, in_shape, scout_dtype_size(dtype));
	if (rc < 0)
		return scout__error_prefix(rc, "scout_downsample: ");
	if ((rc = scout__shape_size(&out_n, NULL, ndim, out_shape, scout_dtype_size(dtype))) < 0)
		return scout__error_prefix(rc, "scout_downsample: ");
	for (int i = 0; i < ndim; i++) {
		if (factors[i] < 1)
			return scout__error(
			    SCOUT_EINVAL, "scout_downsample: factor %lld on axis %d (must be >= 1)",
			    (long long)factors[i], i);
		if (origin[i] < 0 || (out_shape[i] > 0 &&
				      (out_shape[i] - 1 > (INT64_MAX - origin[i]) / factors[i] ||
				       origin[i] + (out_shape[i] - 1) * factors[i] >= in_shape[i])))
			return scout__error(SCOUT_EINVAL,
					    "scout_downsample: output extent %lld on axis %d needs "
					    "more than the %lld input voxels",
					    (long long)out_shape[i], i, (long long)in_shape[i]);
	}
	if (out_n == 0)
		return SCOUT_OK;
	if (!out || !in)
		return scout__error(SCOUT_EINVAL, "scout_downsample: NULL buffer");
	geom g = {ndim, out_shape, in_shape, origin, factors, {0}, scout_dtype_size(dtype)};
	g.istride[ndim - 1] = 1;
	for (int i = ndim - 2; i >= 0; i--)
		g.istride[i] = g.istride[i + 1] * in_shape[i + 1];
	switch (method) {
	case SCOUT_DOWNSAMPLE_MEAN:
		return mean_kernel(out, in, dtype, &g);
	case SCOUT_DOWNSAMPLE_NEAREST:
		nearest_kernel(out, in, &g);
		return SCOUT_OK;
	case SCOUT_DOWNSAMPLE_MODE:
		return mode_kernel(out, in, dtype, &g);
	default:
		return gaussian_kernel(out, in, dtype, &g, in_n);
	}
}
