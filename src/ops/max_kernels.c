/*
 * Element-wise maximum and maximum of a run of values, for every real dtype,
 * with numpy's semantics (floats: NaN propagates). The building blocks of the
 * projection (mip.c) and of block-max downsampling (block_max.c).
 *
 * Loads and stores go through memcpy, so any alignment is fine; compilers turn
 * them into plain (vectorisable) moves.
 */
#include <stdint.h>
#include <string.h>

#include "ops_internal.h"

/* b replaces a when larger; for floats also when b is NaN (then a NaN a stays) */
#define GT_INT(a, b) ((b) > (a))
#define GT_FLT(a, b) ((b) > (a) || (b) != (b))

/*
 * Aligned buffers (the usual case: malloc'd) take typed restrict pointers, which
 * compilers vectorise (the memcpy form, whose buffers might overlap, ran at
 * 3 GB/s instead of memory speed); others go element by element through memcpy.
 */
#define ALIGNED(p, T) (((uintptr_t)(p) % _Alignof(T)) == 0)

#define MAX_INTO(T, GT)                                                                            \
	do {                                                                                       \
		if (ALIGNED(acc, T) && ALIGNED(x, T)) {                                            \
			T *restrict a_ = acc;                                                      \
			const T *restrict x_ = x;                                                  \
			for (size_t i = 0; i < n; i++)                                             \
				a_[i] = GT(a_[i], x_[i]) ? x_[i] : a_[i];                          \
			break;                                                                     \
		}                                                                                  \
		unsigned char *a_ = acc;                                                           \
		const unsigned char *x_ = x;                                                       \
		for (size_t i = 0; i < n; i++) {                                                   \
			T av, xv;                                                                  \
			memcpy(&av, a_ + i * sizeof(T), sizeof(T));                                \
			memcpy(&xv, x_ + i * sizeof(T), sizeof(T));                                \
			av = GT(av, xv) ? xv : av;                                                 \
			memcpy(a_ + i * sizeof(T), &av, sizeof(T));                                \
		}                                                                                  \
	} while (0)

#define MAX_REDUCE(T, GT)                                                                          \
	do {                                                                                       \
		const unsigned char *x_ = x;                                                       \
		T m;                                                                               \
		memcpy(&m, x_, sizeof(T));                                                         \
		for (size_t i = 1; i < n; i++) {                                                   \
			T xv;                                                                      \
			memcpy(&xv, x_ + i * sizeof(T), sizeof(T));                                \
			m = GT(m, xv) ? xv : m;                                                    \
		}                                                                                  \
		memcpy(out, &m, sizeof(T));                                                        \
	} while (0)

/* float16: compared as floats, the winning element's bits kept */
static inline int half_gt(uint16_t a, uint16_t b)
{
	float fa = scout__half_to_float(a), fb = scout__half_to_float(b);
	return GT_FLT(fa, fb);
}

int scout__max_dtype_ok(scout_dtype dtype)
{
	return (int)dtype >= 0 && dtype <= SCOUT_FLOAT64 && dtype != SCOUT_COMPLEX64 &&
	       dtype != SCOUT_COMPLEX128;
}

void scout__max_into(void *acc, const void *x, scout_dtype dtype, size_t n)
{
	switch (dtype) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		MAX_INTO(uint8_t, GT_INT);
		break;
	case SCOUT_INT8:
		MAX_INTO(int8_t, GT_INT);
		break;
	case SCOUT_UINT16:
		MAX_INTO(uint16_t, GT_INT);
		break;
	case SCOUT_INT16:
		MAX_INTO(int16_t, GT_INT);
		break;
	case SCOUT_UINT32:
		MAX_INTO(uint32_t, GT_INT);
		break;
	case SCOUT_INT32:
		MAX_INTO(int32_t, GT_INT);
		break;
	case SCOUT_UINT64:
		MAX_INTO(uint64_t, GT_INT);
		break;
	case SCOUT_INT64:
		MAX_INTO(int64_t, GT_INT);
		break;
	case SCOUT_FLOAT32:
		MAX_INTO(float, GT_FLT);
		break;
	case SCOUT_FLOAT64:
		MAX_INTO(double, GT_FLT);
		break;
	case SCOUT_FLOAT16:
		MAX_INTO(uint16_t, half_gt);
		break;
	default:
		break;
	}
}

void scout__max_reduce(void *out, const void *x, scout_dtype dtype, size_t n)
{
	switch (dtype) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		MAX_REDUCE(uint8_t, GT_INT);
		break;
	case SCOUT_INT8:
		MAX_REDUCE(int8_t, GT_INT);
		break;
	case SCOUT_UINT16:
		MAX_REDUCE(uint16_t, GT_INT);
		break;
	case SCOUT_INT16:
		MAX_REDUCE(int16_t, GT_INT);
		break;
	case SCOUT_UINT32:
		MAX_REDUCE(uint32_t, GT_INT);
		break;
	case SCOUT_INT32:
		MAX_REDUCE(int32_t, GT_INT);
		break;
	case SCOUT_UINT64:
		MAX_REDUCE(uint64_t, GT_INT);
		break;
	case SCOUT_INT64:
		MAX_REDUCE(int64_t, GT_INT);
		break;
	case SCOUT_FLOAT32:
		MAX_REDUCE(float, GT_FLT);
		break;
	case SCOUT_FLOAT64:
		MAX_REDUCE(double, GT_FLT);
		break;
	case SCOUT_FLOAT16:
		MAX_REDUCE(uint16_t, half_gt);
		break;
	default:
		break;
	}
}
