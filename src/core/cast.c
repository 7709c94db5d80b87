/*
 * dtype conversion (numpy's astype for the simple cases), used by the CLI's
 * --dtype and by codecs and views that change the element type.
 *
 * Semantics: to bool, nonzero -> 1; integer -> integer wraps modulo 2^bits
 * (numpy's astype); integer/float -> float rounds to nearest; float -> integer
 * truncates toward zero for in-range values (as numpy), and saturates
 * out-of-range values and maps NaN to 0 (numpy's result is undefined there).
 * float16 and complex types are copied as they are but not converted.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cast.h"

static int castable(scout_dtype t)
{
	return t != SCOUT_FLOAT16 && t != SCOUT_COMPLEX64 && t != SCOUT_COMPLEX128 &&
	       t < SCOUT_DTYPE_COUNT;
}

int scout__cast_supported(scout_dtype src, scout_dtype dst)
{
	return src == dst || (castable(src) && castable(dst));
}

/* float -> integer, saturating, NaN -> 0 */
#define F2I(T, LO, HI)                                                                             \
	static inline T f2i_##T(double v)                                                          \
	{                                                                                          \
		if (v != v)                                                                        \
			return 0;                                                                  \
		if (v <= (double)(LO))                                                             \
			return LO;                                                                 \
		if (v >= (double)(HI))                                                             \
			return HI;                                                                 \
		return (T)v;                                                                       \
	}
F2I(int8_t, INT8_MIN, INT8_MAX)
F2I(int16_t, INT16_MIN, INT16_MAX)
F2I(int32_t, INT32_MIN, INT32_MAX)
F2I(uint8_t, 0, UINT8_MAX)
F2I(uint16_t, 0, UINT16_MAX)
F2I(uint32_t, 0, UINT32_MAX)
/* 64-bit bounds are not exact doubles: (double)INT64_MAX == 2^63 is already out of range */
static inline int64_t f2i_int64_t(double v)
{
	if (v != v)
		return 0;
	if (v < -9223372036854775808.0)
		return INT64_MIN;
	if (v >= 9223372036854775808.0)
		return INT64_MAX;
	return (int64_t)v;
}
static inline uint64_t f2i_uint64_t(double v)
{
	if (v != v || v <= 0)
		return 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

/* Convert from source element type S to destination D; `isf` tells if S is a float. */
#define LOOP_INT_DST(D, S, isf)                                                                    \
	do {                                                                                       \
		D *d = dst;                                                                        \
		const S *s = src;                                                                  \
		if (isf)                                                                           \
			for (size_t i = 0; i < n; i++)                                             \
				d[i] = f2i_##D((double)s[i]);                                      \
		else                                                                               \
			for (size_t i = 0; i < n; i++)                                             \
				d[i] = (D)(uint64_t)(int64_t)s[i];                                 \
	} while (0)

#define LOOP_PLAIN(D, S)                                                                           \
	do {                                                                                       \
		D *d = dst;                                                                        \
		const S *s = src;                                                                  \
		for (size_t i = 0; i < n; i++)                                                     \
			d[i] = (D)s[i];                                                            \
	} while (0)

#define LOOP_BOOL(S)                                                                               \
	do {                                                                                       \
		uint8_t *d = dst;                                                                  \
		const S *s = src;                                                                  \
		for (size_t i = 0; i < n; i++)                                                     \
			d[i] = s[i] != 0;                                                          \
	} while (0)

#define DISPATCH_SRC(M, ...)                                                                       \
	switch (src_type) {                                                                        \
	case SCOUT_BOOL:                                                                           \
		M(__VA_ARGS__ uint8_t, 0);                                                         \
		break;                                                                             \
	case SCOUT_INT8:                                                                           \
		M(__VA_ARGS__ int8_t, 0);                                                          \
		break;                                                                             \
	case SCOUT_INT16:                                                                          \
		M(__VA_ARGS__ int16_t, 0);                                                         \
		break;                                                                             \
	case SCOUT_INT32:                                                                          \
		M(__VA_ARGS__ int32_t, 0);                                                         \
		break;                                                                             \
	case SCOUT_INT64:                                                                          \
		M(__VA_ARGS__ int64_t, 0);                                                         \
		break;                                                                             \
	case SCOUT_UINT8:                                                                          \
		M(__VA_ARGS__ uint8_t, 0);                                                         \
		break;                                                                             \
	case SCOUT_UINT16:                                                                         \
		M(__VA_ARGS__ uint16_t, 0);                                                        \
		break;                                                                             \
	case SCOUT_UINT32:                                                                         \
		M(__VA_ARGS__ uint32_t, 0);                                                        \
		break;                                                                             \
	case SCOUT_UINT64:                                                                         \
		M(__VA_ARGS__ uint64_t, 0);                                                        \
		break;                                                                             \
	case SCOUT_FLOAT32:                                                                        \
		M(__VA_ARGS__ float, 1);                                                           \
		break;                                                                             \
	case SCOUT_FLOAT64:                                                                        \
		M(__VA_ARGS__ double, 1);                                                          \
		break;                                                                             \
	default:                                                                                   \
		break;                                                                             \
	}

#define INT_DST(D, S, isf)   LOOP_INT_DST(D, S, isf)
#define PLAIN_DST(D, S, isf) LOOP_PLAIN(D, S)
#define BOOL_DST(S, isf)     LOOP_BOOL(S)

void scout__cast_values(void *dst, scout_dtype dst_type, const void *src, scout_dtype src_type,
			size_t n)
{
	if (dst_type == src_type) {
		if (dst != src)
			memmove(dst, src, n * scout_dtype_size(dst_type));
		return;
	}
	switch (dst_type) {
	case SCOUT_BOOL:
		DISPATCH_SRC(BOOL_DST, )
		break;
	case SCOUT_INT8:
		DISPATCH_SRC(INT_DST, int8_t, )
		break;
	case SCOUT_INT16:
		DISPATCH_SRC(INT_DST, int16_t, )
		break;
	case SCOUT_INT32:
		DISPATCH_SRC(INT_DST, int32_t, )
		break;
	case SCOUT_INT64:
		DISPATCH_SRC(INT_DST, int64_t, )
		break;
	case SCOUT_UINT8:
		DISPATCH_SRC(INT_DST, uint8_t, )
		break;
	case SCOUT_UINT16:
		DISPATCH_SRC(INT_DST, uint16_t, )
		break;
	case SCOUT_UINT32:
		DISPATCH_SRC(INT_DST, uint32_t, )
		break;
	case SCOUT_UINT64:
		DISPATCH_SRC(INT_DST, uint64_t, )
		break;
	case SCOUT_FLOAT32:
		DISPATCH_SRC(PLAIN_DST, float, )
		break;
	case SCOUT_FLOAT64:
		DISPATCH_SRC(PLAIN_DST, double, )
		break;
	default:
		break;
	}
}
