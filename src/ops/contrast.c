/*
 * Contrast for pictures: exact nearest-rank percentiles by radix select (histograms
 * of 16 bits of order-preserving keys at a time, no sort) and the linear map of
 * values to 8/16-bit grey levels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "scout/preview.h"

#define NBINS 65536

/* bits of the order-preserving key of a dtype */
static int key_bits(scout_dtype d)
{
	return (int)scout_dtype_size(d) * 8;
}

/*
 * The key of element i: unsigned, same order as the values. Returns 0 for NaN
 * (skipped), 1 otherwise.
 */
static inline int key_of(uint64_t *k, const unsigned char *p, scout_dtype d, size_t i)
{
	switch (d) {
	case SCOUT_BOOL:
		*k = p[i] != 0;
		return 1;
	case SCOUT_UINT8:
		*k = p[i];
		return 1;
	case SCOUT_INT8:
		*k = (uint8_t)(p[i] ^ 0x80u);
		return 1;
	case SCOUT_UINT16:
	case SCOUT_INT16: {
		uint16_t v;
		memcpy(&v, p + 2 * i, 2);
		*k = d == SCOUT_INT16 ? (uint16_t)(v ^ 0x8000u) : v;
		return 1;
	}
	case SCOUT_UINT32:
	case SCOUT_INT32: {
		uint32_t v;
		memcpy(&v, p + 4 * i, 4);
		*k = d == SCOUT_INT32 ? v ^ 0x80000000u : v;
		return 1;
	}
	case SCOUT_UINT64:
	case SCOUT_INT64: {
		uint64_t v;
		memcpy(&v, p + 8 * i, 8);
		*k = d == SCOUT_INT64 ? v ^ 0x8000000000000000ull : v;
		return 1;
	}
	case SCOUT_FLOAT16: {
		uint16_t v;
		memcpy(&v, p + 2 * i, 2);
		if ((v & 0x7fffu) > 0x7c00u)
			return 0;
		*k = (v & 0x8000u) ? (uint16_t)~v : (uint16_t)(v | 0x8000u);
		return 1;
	}
	case SCOUT_FLOAT32: {
		uint32_t v;
		memcpy(&v, p + 4 * i, 4);
		if ((v & 0x7fffffffu) > 0x7f800000u)
			return 0;
		*k = (v & 0x80000000u) ? ~v : v | 0x80000000u;
		return 1;
	}
	case SCOUT_FLOAT64: {
		uint64_t v;
		memcpy(&v, p + 8 * i, 8);
		if ((v & 0x7fffffffffffffffull) > 0x7ff0000000000000ull)
			return 0;
		*k = (v & 0x8000000000000000ull) ? ~v : v | 0x8000000000000000ull;
		return 1;
	}
	default:
		return 0;
	}
}

/* the value of a key, as double */
static double value_of(uint64_t k, scout_dtype d)
{
	switch (d) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
	case SCOUT_UINT16:
	case SCOUT_UINT32:
		return (double)k;
	case SCOUT_UINT64:
		return (double)k;
	case SCOUT_INT8:
		return (double)(int8_t)(uint8_t)(k ^ 0x80u);
	case SCOUT_INT16:
		return (double)(int16_t)(uint16_t)(k ^ 0x8000u);
	case SCOUT_INT32:
		return (double)(int32_t)(uint32_t)(k ^ 0x80000000u);
	case SCOUT_INT64:
		return (double)(int64_t)(k ^ 0x8000000000000000ull);
	case SCOUT_FLOAT16: {
		uint16_t v = (uint16_t)((k & 0x8000u) ? (k & 0x7fffu) : ~k);
		return (double)scout__half_to_float(v);
	}
	case SCOUT_FLOAT32: {
		uint32_t v = (uint32_t)((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
		float f;
		memcpy(&f, &v, 4);
		return (double)f;
	}
	case SCOUT_FLOAT64: {
		uint64_t v = (k & 0x8000000000000000ull) ? (k & 0x7fffffffffffffffull) : ~k;
		double f;
		memcpy(&f, &v, 8);
		return f;
	}
	default:
		return NAN;
	}
}

/*
 * Radix select of the keys of rank r[0] and r[1] (0-based, among the non-NaN
 * values), 16 bits at a time from the top: both ranks in the same passes.
 */
static int radix_select(uint64_t key_out[2], const unsigned char *p, scout_dtype d, size_t n,
			const uint64_t r_in[2])
{
	int bits = key_bits(d);
	int digit = bits < 16 ? bits : 16;
	uint64_t *h = malloc(2 * (size_t)NBINS * sizeof(uint64_t));
	if (!h)
		return scout__error(SCOUT_ENOMEM, "contrast: out of memory");
	uint64_t prefix[2] = {0, 0}, r[2] = {r_in[0], r_in[1]};
	int done = 0; /* bits fixed so far */
	while (done < bits) {
		int shift = bits - done - digit;
		uint64_t mask = (digit == 16) ? 0xffffu : ((1u << digit) - 1);
		memset(h, 0, 2 * (size_t)NBINS * sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			uint64_t k;
			if (!key_of(&k, p, d, i))
				continue;
			uint64_t top = done ? k >> (bits - done) : 0;
			uint64_t dig = (k >> shift) & mask;
			if (top == prefix[0])
				h[dig]++;
			if (top == prefix[1])
				h[NBINS + dig]++;
		}
		for (int s = 0; s < 2; s++) {
			const uint64_t *hs = h + (size_t)s * NBINS;
			uint64_t b = 0;
			while (r[s] >= hs[b]) { /* r[s] < total count of this prefix: ends */
				r[s] -= hs[b];
				b++;
			}
			prefix[s] = (prefix[s] << digit) | b;
		}
		done += digit;
	}
	free(h);
	key_out[0] = prefix[0];
	key_out[1] = prefix[1];
	return SCOUT_OK;
}

int scout_contrast_auto(double *lo_out, double *hi_out, const void *data, scout_dtype dtype,
			size_t n, double plo, double phi)
{
	if (!lo_out || !hi_out || (n > 0 && !data))
		return scout__error(SCOUT_EINVAL, "contrast: NULL argument");
	*lo_out = *hi_out = NAN;
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "contrast: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	if (!scout__max_dtype_ok(dtype))
		return scout__error(SCOUT_EINVAL, "contrast: invalid dtype %d", (int)dtype);
	if (!(plo >= 0 && plo <= phi && phi <= 100))
		return scout__error(SCOUT_EINVAL,
				    "contrast: percentiles %g, %g: need 0 <= low <= high <= 100",
				    plo, phi);
	size_t m = 0;
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		uint64_t k;
		m += (size_t)key_of(&k, p, dtype, i);
	}
	if (m == 0)
		return SCOUT_OK;
	/* numpy: floor / ceil of (n - 1) * (q / 100) */
	double vl = (double)(m - 1) * (plo / 100.0), vh = (double)(m - 1) * (phi / 100.0);
	uint64_t r[2] = {(uint64_t)floor(vl), (uint64_t)ceil(vh)};
	if (r[1] > m - 1)
		r[1] = m - 1;
	if (r[0] > m - 1)
		r[0] = m - 1;
	uint64_t keys[2] = {0, 0};
	int rc = radix_select(keys, p, dtype, n, r);
	if (rc < 0)
		return rc;
	*lo_out = value_of(keys[0], dtype);
	*hi_out = value_of(keys[1], dtype);
	return SCOUT_OK;
}

static inline double as_double(const unsigned char *p, scout_dtype d, size_t i)
{
	switch (d) {
	case SCOUT_BOOL:
		return p[i] != 0;
	case SCOUT_UINT8:
		return p[i];
	case SCOUT_INT8:
		return (int8_t)p[i];
#define CASE(D, T)                                                                                 \
	case D: {                                                                                  \
		T v;                                                                               \
		memcpy(&v, p + i * sizeof(T), sizeof(T));                                          \
		return (double)v;                                                                  \
	}
		CASE(SCOUT_UINT16, uint16_t)
		CASE(SCOUT_INT16, int16_t)
		CASE(SCOUT_UINT32, uint32_t)
		CASE(SCOUT_INT32, int32_t)
		CASE(SCOUT_UINT64, uint64_t)
		CASE(SCOUT_INT64, int64_t)
		CASE(SCOUT_FLOAT32, float)
		CASE(SCOUT_FLOAT64, double)
#undef CASE
	case SCOUT_FLOAT16: {
		uint16_t v;
		memcpy(&v, p + 2 * i, 2);
		return (double)scout__half_to_float(v);
	}
	default:
		return NAN;
	}
}

int scout_contrast_map(void *out, int depth, const void *in, scout_dtype dtype, size_t n, double lo,
		       double hi)
{
	if (n > 0 && (!out || !in))
		return scout__error(SCOUT_EINVAL, "contrast map: NULL argument");
	if (depth != 8 && depth != 16)
		return scout__error(SCOUT_EINVAL, "contrast map: depth %d is not 8 or 16", depth);
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "contrast map: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	if (!scout__max_dtype_ok(dtype))
		return scout__error(SCOUT_EINVAL, "contrast map: invalid dtype %d", (int)dtype);
	if (isinf(lo) || isinf(hi) || lo > hi)
		return scout__error(SCOUT_EINVAL,
				    "contrast map: limits %g, %g: need finite lo <= hi", lo, hi);
	const double M = depth == 8 ? 255.0 : 65535.0;
	const int nan_limits = isnan(lo) || isnan(hi);
	const double range = hi - lo;
	const unsigned char *p = in;
	uint8_t *o8 = out;
	uint16_t *o16 = out;
	for (size_t i = 0; i < n; i++) {
		double v = as_double(p, dtype, i), g;
		if (nan_limits || v != v)
			g = 0;
		else if (range == 0)
			g = v > lo ? M : 0;
		else {
			double t = (v - lo) / range;
			g = floor(t * M + 0.5);
			g = g < 0 ? 0 : g > M ? M : g;
		}
		if (depth == 8)
			o8[i] = (uint8_t)g;
		else
			o16[i] = (uint16_t)g;
	}
	return SCOUT_OK;
}
