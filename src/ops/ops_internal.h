/*
 * Internal helpers of the ops layer (per-chunk kernels). Not installed.
 */
#ifndef SCOUT_OPS_INTERNAL_H
#define SCOUT_OPS_INTERNAL_H

#include <stdint.h>

#include "../core/internal.h"
#include "scout/ops.h"

/* IEEE half (bits) to float, exact. */
SCOUT_HIDDEN float scout__half_to_float(uint16_t h);

/* float to IEEE half (bits), round to nearest even; overflow gives inf. */
SCOUT_HIDDEN uint16_t scout__float_to_half(float f);

/* double to IEEE half (bits), correctly rounded (nearest even), as numpy. */
SCOUT_HIDDEN uint16_t scout__double_to_half(double d);

/*
 * Validate an (ndim, shape) pair of a C-contiguous float32 array and return its
 * number of elements (overflow-checked against the byte size). `what` names the
 * calling function in messages.
 */
SCOUT_HIDDEN int scout__ops_check_array(size_t *count_out, const void *out, const void *in,
					int ndim, const int64_t *shape, const char *what);

/*
 * acc[i] = max(acc[i], x[i]) for n elements of a real dtype, numpy's maximum
 * (floats: NaN propagates; float16 compared as numbers). Unaligned data is fine.
 */
SCOUT_HIDDEN void scout__max_into(void *acc, const void *x, scout_dtype dtype, size_t n);

/* The maximum of n >= 1 elements of a real dtype, stored at *out (one element). */
SCOUT_HIDDEN void scout__max_reduce(void *out, const void *x, scout_dtype dtype, size_t n);

/* 1 for the real dtypes the max kernels take (bool, integers, floats). */
SCOUT_HIDDEN int scout__max_dtype_ok(scout_dtype dtype);

#endif
