/*
 * Axis sweeps shared by the separable filters (Gaussian, maximum): a pass
 * along one axis of a C-contiguous float32 array hands each line (or, for
 * axes other than the innermost, each tile of up to SCOUT__SWEEP_TILE
 * neighbouring lines) to a kernel, extended on both sides by `r` copies of
 * the edge value (scipy's mode 'nearest'). Lines are loaded before their
 * outputs are written, so out may equal src (in-place passes).
 */
#ifndef SCOUT_OPS_SWEEP_H
#define SCOUT_OPS_SWEEP_H

#include "ops_internal.h"

#define SCOUT__SWEEP_TILE 64

typedef struct scout__sweep {
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	size_t elem;    /* bytes per element of the extended buffer (4 or 8) */
	void *ext;      /* extended line / tile buffer */
	size_t ext_len; /* elements of ext: max over axes of (L + 2r) * width */
	size_t acc_len; /* max over axes of L (line axes) or tile width */
} scout__sweep;

/* kind of the extended buffer */
enum { scout__sweep_load_float = 4, scout__sweep_load_double = 8 };

/* a line of length L along an innermost axis: ext has L + 2r elements */
typedef void (*scout__sweep_line_fn)(void *ctx, const double *ext, int64_t L, float *out,
				     int64_t stride);
/* W lines side by side: ext has (L + 2r) rows of W elements; out row l at out + l * stride */
typedef void (*scout__sweep_tile_fn)(void *ctx, const double *ext, int64_t L, int64_t W, float *out,
				     int64_t stride);

/*
 * Prepare buffers for passes over an array of the given shape with the given
 * per-axis radii, ext elements of elem bytes. SCOUT_EOVERFLOW / SCOUT_ENOMEM.
 */
SCOUT_HIDDEN int scout__sweep_init(scout__sweep *sw, int ndim, const int64_t *shape,
				   const int64_t *radius, size_t elem);
SCOUT_HIDDEN void scout__sweep_free(scout__sweep *sw);

/*
 * One pass along axis with radius r (at most the radius given to init). The
 * ext pointer handed to the kernels is really float* when the sweep's elem
 * is 4 (the kernels cast it back).
 */
SCOUT_HIDDEN void scout__sweep_axis(scout__sweep *sw, float *out, const float *src, int axis,
				    int64_t r, int kind, scout__sweep_line_fn line,
				    scout__sweep_tile_fn tile, void *ctx);

#endif
