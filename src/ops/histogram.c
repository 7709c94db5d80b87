/*
 * Uniform histograms equal to numpy.histogram(x, bins, range=(lo, hi)),
 * numpy 1.x: the bin index is computed in the precision of the bin edges
 * (np.result_type(lo, hi, x): float16 / float32 for those data, float64 for
 * integers, bool and float64), then corrected against the edges.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

static int check_range(size_t bins, double *lo, double *hi, const char *what)
{
	if (bins == 0)
		return scout__error(SCOUT_EINVAL, "%s: the number of bins must be >= 1", what);
	if (!isfinite(*lo) || !isfinite(*hi))
		return scout__error(SCOUT_EINVAL, "%s: range [%g, %g] is not finite", what, *lo,
				    *hi);
	if (*lo > *hi)
		return scout__error(SCOUT_EINVAL, "%s: range [%g, %g]: max must be larger than min",
				    what, *lo, *hi);
	if (*lo == *hi) { /* numpy widens an empty range */
		*lo -= 0.5;
		*hi += 0.5;
	}
	if (!(*hi - *lo > 0) || !isfinite(*hi - *lo))
		return scout__error(SCOUT_EINVAL,
				    "%s: range [%.17g, %.17g] is too narrow or too wide for bins",
				    what, *lo, *hi);
	return SCOUT_OK;
}

/* np.linspace(lo, hi, bins + 1) in float64 */
static void linspace(double *e, size_t bins, double lo, double hi)
{
	double delta = hi - lo, div = (double)bins;
	double step = delta / div;
	for (size_t i = 0; i < bins; i++) {
		double y = (double)i;
		if (step == 0)
			y = y / div * delta;
		else
			y = y * step;
		e[i] = y + lo;
	}
	e[bins] = hi;
}

int scout_histogram_edges(double *edges_out, size_t bins, double lo, double hi)
{
	if (!edges_out)
		return scout__error(SCOUT_EINVAL, "histogram edges: NULL output");
	int rc = check_range(bins, &lo, &hi, "histogram");
	if (rc < 0)
		return rc;
	linspace(edges_out, bins, lo, hi);
	return SCOUT_OK;
}

int scout_histogram_merge(uint64_t *into, const uint64_t *from, size_t bins)
{
	if (bins > 0 && (!into || !from))
		return scout__error(SCOUT_EINVAL, "histogram merge: NULL counts");
	for (size_t i = 0; i < bins; i++)
		into[i] += from[i];
	return SCOUT_OK;
}

#define LOADV(T, i)                                                                                \
	({                                                                                         \
		T v__;                                                                             \
		memcpy(&v__, (const unsigned char *)data + (i) * sizeof(T), sizeof(T));            \
		v__;                                                                               \
	})

/* the bin of x with float64 edges, numpy's way; SIZE_MAX when x is outside */
static inline size_t bin64(double x, double lo, double hi, double norm, const double *e,
			   size_t bins)
{
	if (!(x >= lo && x <= hi))
		return SIZE_MAX;
	double f = (x - lo) * norm;
	size_t k = (size_t)f;
	if (k >= bins) /* f == bins (x == hi); guard against rounding above */
		k = bins - 1;
	if (x < e[k])
		k--;
	else if (k != bins - 1 && x >= e[k + 1])
		k++;
	return k;
}

/* float64 bins: x converted to double */
#define HIST64(GET)                                                                                \
	for (size_t i = 0; i < n; i++) {                                                           \
		size_t k_ = bin64(GET(i), lo, hi, norm, e, bins);                                  \
		if (k_ != SIZE_MAX)                                                                \
			counts[k_]++;                                                              \
	}

/*
 * 8/16-bit data with many values: the bin of every possible value, once,
 * then one table look-up per value. Returns 0 when the table does not pay
 * off (or cannot be allocated), and the caller falls back to HIST64.
 */
static int hist_lut(uint64_t *counts, size_t bins, double lo, double hi, double norm,
		    const double *e, scout_dtype dtype, const void *data, size_t n)
{
	size_t nv;
	int64_t first; /* value of table entry 0 */
	switch (dtype) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		nv = 256, first = 0;
		break;
	case SCOUT_INT8:
		nv = 256, first = -128;
		break;
	case SCOUT_UINT16:
		nv = 65536, first = 0;
		break;
	case SCOUT_INT16:
		nv = 65536, first = -32768;
		break;
	default:
		return 0;
	}
	if (n < nv / 4 || bins >= UINT32_MAX)
		return 0;
	uint32_t *lut = malloc(nv * sizeof(uint32_t));
	if (!lut)
		return 0;
	for (size_t v = 0; v < nv; v++) {
		double x = (double)((int64_t)v + first);
		if (dtype == SCOUT_BOOL)
			x = v != 0;
		size_t k = bin64(x, lo, hi, norm, e, bins);
		lut[v] = k == SIZE_MAX ? UINT32_MAX : (uint32_t)k;
	}
	const unsigned char *d = data;
	if (nv == 256) {
		for (size_t i = 0; i < n; i++) {
			uint32_t k = lut[(uint8_t)(d[i] - (uint8_t)first)];
			if (k != UINT32_MAX)
				counts[k]++;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			uint16_t v;
			memcpy(&v, d + 2 * i, 2);
			uint32_t k = lut[(uint16_t)(v - (uint16_t)first)];
			if (k != UINT32_MAX)
				counts[k]++;
		}
	}
	free(lut);
	return 1;
}

#define G_B(i)   ((double)(LOADV(uint8_t, i) != 0))
#define G_I8(i)  ((double)LOADV(int8_t, i))
#define G_I16(i) ((double)LOADV(int16_t, i))
#define G_I32(i) ((double)LOADV(int32_t, i))
#define G_I64(i) ((double)LOADV(int64_t, i))
#define G_U8(i)  ((double)LOADV(uint8_t, i))
#define G_U16(i) ((double)LOADV(uint16_t, i))
#define G_U32(i) ((double)LOADV(uint32_t, i))
#define G_U64(i) ((double)LOADV(uint64_t, i))
#define G_F64(i) LOADV(double, i)

static float h2f(uint16_t h)
{
	return scout__half_to_float(h);
}

static uint16_t f2h(float f)
{
	return scout__float_to_half(f);
}

int scout_histogram_update(uint64_t *counts, size_t bins, double lo, double hi, scout_dtype dtype,
			   const void *data, size_t n)
{
	if (!counts || (n > 0 && !data))
		return scout__error(SCOUT_EINVAL, "histogram: NULL argument");
	int rc = check_range(bins, &lo, &hi, "histogram");
	if (rc < 0)
		return rc;
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "histogram: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	if ((int)dtype < 0 || dtype >= SCOUT_DTYPE_COUNT)
		return scout__error(SCOUT_EINVAL, "histogram: invalid dtype %d", (int)dtype);
	if (n == 0)
		return SCOUT_OK;
	size_t eb;
	if (__builtin_mul_overflow(bins + 1, sizeof(double), &eb) || bins + 1 == 0)
		return scout__error(SCOUT_EOVERFLOW, "histogram: %zu bins overflow", bins);
	size_t fb = (bins + 1) * sizeof(float); /* float32 / float16 edges */
	if (eb + fb < eb)
		return scout__error(SCOUT_EOVERFLOW, "histogram: %zu bins overflow", bins);
	double *e = malloc(eb + fb);
	if (!e)
		return scout__error(SCOUT_ENOMEM, "histogram: out of memory for %zu bins", bins);
	linspace(e, bins, lo, hi);
	double norm = (double)bins / (hi - lo);

	if (hist_lut(counts, bins, lo, hi, norm, e, dtype, data, n)) {
		free(e);
		return SCOUT_OK;
	}
	switch (dtype) {
	case SCOUT_BOOL:
		HIST64(G_B);
		break;
	case SCOUT_INT8:
		HIST64(G_I8);
		break;
	case SCOUT_INT16:
		HIST64(G_I16);
		break;
	case SCOUT_INT32:
		HIST64(G_I32);
		break;
	case SCOUT_INT64:
		HIST64(G_I64);
		break;
	case SCOUT_UINT8:
		HIST64(G_U8);
		break;
	case SCOUT_UINT16:
		HIST64(G_U16);
		break;
	case SCOUT_UINT32:
		HIST64(G_U32);
		break;
	case SCOUT_UINT64:
		HIST64(G_U64);
		break;
	case SCOUT_FLOAT64:
		HIST64(G_F64);
		break;
	case SCOUT_FLOAT32: {
		/* numpy casts lo, hi, norm and the edges to float32 and works in float32 */
		float lo32 = (float)lo, hi32 = (float)hi, norm32 = (float)norm;
		float *e32 = (float *)(void *)(e + bins + 1);
		for (size_t i = 0; i <= bins; i++)
			e32[i] = (float)e[i];
		for (size_t i = 0; i < n; i++) {
			float x = LOADV(float, i);
			if (!(x >= lo32 && x <= hi32))
				continue;
			float d = x - lo32;
			float f = d * norm32;
			size_t k = (size_t)f;
			if (k >= bins)
				k = bins - 1;
			if (x < e32[k])
				k--;
			else if (k != bins - 1 && x >= e32[k + 1])
				k++;
			counts[k]++;
		}
		break;
	}
	case SCOUT_FLOAT16: {
		/* float16 edges; each half operation is done in float32 and rounded */
		float lo16 = h2f(scout__double_to_half(lo)), hi16 = h2f(scout__double_to_half(hi));
		float norm16 = h2f(scout__double_to_half(norm));
		float *e16 = (float *)(void *)(e + bins + 1);
		for (size_t i = 0; i <= bins; i++)
			e16[i] = h2f(scout__double_to_half(e[i]));
		for (size_t i = 0; i < n; i++) {
			float x = h2f(LOADV(uint16_t, i));
			if (!(x >= lo16 && x <= hi16))
				continue;
			float d = h2f(f2h(x - lo16));
			float f = h2f(f2h(d * norm16));
			size_t k = f >= (float)bins ? bins : (size_t)f;
			if (k >= bins)
				k = bins - 1;
			if (x < e16[k])
				k--;
			else if (k != bins - 1 && x >= e16[k + 1])
				k++;
			counts[k]++;
		}
		break;
	}
	default:
		break;
	}
	free(e);
	return SCOUT_OK;
}
