/* dtype <-> float32 conversion for the per-chunk kernels. */
#include <math.h>
#include <string.h>

#include "ops_internal.h"

float scout__half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu;
	uint32_t man = h & 0x3ffu;
	uint32_t bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13); /* inf / nan (payload kept) */
	} else if (exp != 0) {
		bits = sign | ((exp + 112u) << 23) | (man << 13);
	} else if (man == 0) {
		bits = sign;
	} else {
		/* subnormal half: man * 2^-24, exact in float */
		float f = (float)man * 0x1p-24f;
		memcpy(&bits, &f, 4);
		bits |= sign;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t scout__float_to_half(float f)
{
	uint32_t bits;
	memcpy(&bits, &f, 4);
	uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
	uint32_t abs = bits & 0x7fffffffu;
	if (abs >= 0x7f800000u) { /* inf or nan */
		if (abs == 0x7f800000u)
			return sign | 0x7c00u;
		return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
	}
	if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow */
		return sign | 0x7c00u;
	if (abs < 0x38800000u) { /* below the smallest normal half 2^-14 */
		/* subnormal: round abs / 2^-24 to nearest even integer */
		float a;
		memcpy(&a, &abs, 4);
		float scaled = a * 0x1p24f;   /* exact (power of two) */
		float r = nearbyintf(scaled); /* default rounding: nearest even */
		return (uint16_t)(sign | (uint16_t)r);
	}
	/* normal: keep 10 mantissa bits, round to nearest even */
	uint32_t e = (abs >> 23) - 112u;
	uint32_t man = abs & 0x7fffffu;
	uint32_t h = (e << 10) | (man >> 13);
	uint32_t rest = man & 0x1fffu;
	if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
		h++; /* may carry into the exponent, which is correct */
	return (uint16_t)(sign | h);
}

#define CONVERT_LOOP(T)                                                                            \
	do {                                                                                       \
		const T *src_ = in;                                                                \
		for (size_t i = 0; i < n; i++) {                                                   \
			T v_;                                                                      \
			memcpy(&v_, src_ + i, sizeof(T));                                          \
			out[i] = (float)v_;                                                        \
		}                                                                                  \
	} while (0)

int scout_to_float32(float *out, const void *in, scout_dtype dtype, size_t n)
{
	if (n > 0 && (!out || !in))
		return scout__error(SCOUT_EINVAL, "scout_to_float32: NULL buffer");
	switch (dtype) {
	case SCOUT_BOOL: {
		const uint8_t *s = in;
		for (size_t i = 0; i < n; i++)
			out[i] = s[i] ? 1.0f : 0.0f;
		return SCOUT_OK;
	}
	case SCOUT_INT8:
		CONVERT_LOOP(int8_t);
		return SCOUT_OK;
	case SCOUT_INT16:
		CONVERT_LOOP(int16_t);
		return SCOUT_OK;
	case SCOUT_INT32:
		CONVERT_LOOP(int32_t);
		return SCOUT_OK;
	case SCOUT_INT64:
		CONVERT_LOOP(int64_t);
		return SCOUT_OK;
	case SCOUT_UINT8:
		CONVERT_LOOP(uint8_t);
		return SCOUT_OK;
	case SCOUT_UINT16:
		CONVERT_LOOP(uint16_t);
		return SCOUT_OK;
	case SCOUT_UINT32:
		CONVERT_LOOP(uint32_t);
		return SCOUT_OK;
	case SCOUT_UINT64:
		CONVERT_LOOP(uint64_t);
		return SCOUT_OK;
	case SCOUT_FLOAT16: {
		const uint8_t *s = in;
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, s + 2 * i, 2);
			out[i] = scout__half_to_float(h);
		}
		return SCOUT_OK;
	}
	case SCOUT_FLOAT32:
		if ((const void *)out != in)
			memmove(out, in, n * sizeof(float));
		return SCOUT_OK;
	case SCOUT_FLOAT64:
		CONVERT_LOOP(double);
		return SCOUT_OK;
	case SCOUT_COMPLEX64:
	case SCOUT_COMPLEX128:
		return scout__error(SCOUT_EUNSUPPORTED,
				    "scout_to_float32: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	default:
		return scout__error(SCOUT_EINVAL, "scout_to_float32: invalid dtype %d", (int)dtype);
	}
}

/* round half away from zero, saturate to [lo, hi]; NaN -> 0 */
#define FROM_LOOP_INT(T, LO, HI)                                                                   \
	do {                                                                                       \
		T *dst_ = out;                                                                     \
		for (size_t i = 0; i < n; i++) {                                                   \
			float f_ = in[i];                                                          \
			T v_;                                                                      \
			if (f_ != f_)                                                              \
				v_ = 0;                                                            \
			else if (f_ <= (float)(LO))                                                \
				v_ = (LO);                                                         \
			else if (f_ >= (float)(HI))                                                \
				v_ = (HI);                                                         \
			else                                                                       \
				v_ = (T)roundf(f_);                                                \
			memcpy(dst_ + i, &v_, sizeof(T));                                          \
		}                                                                                  \
	} while (0)

int scout_from_float32(void *out, scout_dtype dtype, const float *in, size_t n)
{
	if (n > 0 && (!out || !in))
		return scout__error(SCOUT_EINVAL, "scout_from_float32: NULL buffer");
	switch (dtype) {
	case SCOUT_BOOL: {
		uint8_t *d = out;
		for (size_t i = 0; i < n; i++)
			d[i] = in[i] != 0.0f;
		return SCOUT_OK;
	}
	case SCOUT_INT8:
		FROM_LOOP_INT(int8_t, INT8_MIN, INT8_MAX);
		return SCOUT_OK;
	case SCOUT_INT16:
		FROM_LOOP_INT(int16_t, INT16_MIN, INT16_MAX);
		return SCOUT_OK;
	case SCOUT_INT32:
		/* (float)INT32_MAX rounds up to 2^31: values >= it saturate */
		FROM_LOOP_INT(int32_t, INT32_MIN, INT32_MAX);
		return SCOUT_OK;
	case SCOUT_INT64:
		FROM_LOOP_INT(int64_t, INT64_MIN, INT64_MAX);
		return SCOUT_OK;
	case SCOUT_UINT8:
		FROM_LOOP_INT(uint8_t, 0, UINT8_MAX);
		return SCOUT_OK;
	case SCOUT_UINT16:
		FROM_LOOP_INT(uint16_t, 0, UINT16_MAX);
		return SCOUT_OK;
	case SCOUT_UINT32:
		FROM_LOOP_INT(uint32_t, 0, UINT32_MAX);
		return SCOUT_OK;
	case SCOUT_UINT64:
		FROM_LOOP_INT(uint64_t, 0, UINT64_MAX);
		return SCOUT_OK;
	case SCOUT_FLOAT16: {
		uint8_t *d = out;
		for (size_t i = 0; i < n; i++) {
			uint16_t h = scout__float_to_half(in[i]);
			memcpy(d + 2 * i, &h, 2);
		}
		return SCOUT_OK;
	}
	case SCOUT_FLOAT32:
		if ((const void *)out != (const void *)in)
			memmove(out, in, n * sizeof(float));
		return SCOUT_OK;
	case SCOUT_FLOAT64: {
		uint8_t *d = out;
		for (size_t i = 0; i < n; i++) {
			double v = in[i];
			memcpy(d + 8 * i, &v, 8);
		}
		return SCOUT_OK;
	}
	case SCOUT_COMPLEX64:
	case SCOUT_COMPLEX128:
		return scout__error(SCOUT_EUNSUPPORTED,
				    "scout_from_float32: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	default:
		return scout__error(SCOUT_EINVAL, "scout_from_float32: invalid dtype %d",
				    (int)dtype);
	}
}

int scout__ops_check_array(size_t *count_out, const void *out, const void *in, int ndim,
			   const int64_t *shape, const char *what)
{
	if (!in || !out)
		return scout__error(SCOUT_EINVAL, "%s: NULL array buffer", what);
	size_t count = 0;
	int rc = scout__shape_size(&count, NULL, ndim, shape, sizeof(float));
	if (rc < 0)
		return scout__error_prefix(rc, "%s: ", what);
	*count_out = count;
	return SCOUT_OK;
}

uint16_t scout__double_to_half(double d)
{
	if (isnan(d))
		return scout__float_to_half((float)d);
	double a = fabs(d);
	uint16_t sign = signbit(d) ? 0x8000u : 0;
	if (a == 0)
		return sign;
	if (isinf(a) || a >= 65520.0)
		return sign | 0x7c00u;
	int e;
	frexp(a, &e); /* a = f 2^e, f in [0.5, 1) */
	double h;
	if (e >= -13) /* normal half: 11 significant bits */
		h = ldexp(nearbyint(ldexp(a, 11 - e)), e - 11);
	else /* subnormal half: multiples of 2^-24 */
		h = ldexp(nearbyint(ldexp(a, 24)), -24);
	/* h is exactly representable in half (or is 65536, which gives inf) */
	return sign | scout__float_to_half((float)h);
}
