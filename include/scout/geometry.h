/**
 * @file scout/geometry.h
 * @brief Chunk grids and boxes (SCOUT's chunk_dims, chunk_coordinates, box_slice_idx).
 *
 * All coordinates are int64_t element indices, C order (last axis fastest).
 */
#ifndef SCOUT_GEOMETRY_H
#define SCOUT_GEOMETRY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An N-D half-open box: start[i] <= index < stop[i] on each axis. */
typedef struct {
	int ndim;
	int64_t start[SCOUT_MAX_NDIM];
	int64_t stop[SCOUT_MAX_NDIM];
} scout_box;

/**
 * Number of chunks along each axis: ceil(img_shape[i] / chunk_shape[i]).
 *
 * @param nb_chunks_out receives ndim counts
 * @param ndim          1..SCOUT_MAX_NDIM
 * @param img_shape     ndim extents, each >= 0
 * @param chunk_shape   ndim chunk extents, each >= 1
 * @return SCOUT_OK, SCOUT_EINVAL (bad ndim, negative extent, chunk < 1)
 */
SCOUT_API int scout_chunk_dims(int64_t *nb_chunks_out, int ndim, const int64_t *img_shape,
			       const int64_t *chunk_shape);

/**
 * Start coordinates of every chunk, in the order of itertools.product over the
 * chunk grid (last axis fastest). Edge chunks are not clipped: the caller
 * computes stop = min(start + chunks, shape), as SCOUT does.
 *
 * @param start_coords_out receives count * ndim int64_t, row i being chunk i's
 *                         start; free with scout_free(). NULL when count is 0.
 * @param count_out        receives the number of chunks (0 if any extent is 0)
 * @param ndim, shape, chunks as scout_chunk_dims()
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW, SCOUT_ENOMEM
 */
SCOUT_API int scout_chunk_coordinates(int64_t **start_coords_out, size_t *count_out, int ndim,
				      const int64_t *shape, const int64_t *chunks);

/**
 * Total number of chunks of a grid (product of scout_chunk_dims()).
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW
 */
SCOUT_API int scout_chunk_count(size_t *count_out, int ndim, const int64_t *shape,
				const int64_t *chunks);

/**
 * Start coordinate of chunk number `index` (in scout_chunk_coordinates() order)
 * without listing them all.
 * @param start_out receives ndim coordinates
 * @return SCOUT_OK, SCOUT_EINVAL (bad grid), SCOUT_EBOUNDS (index >= count)
 */
SCOUT_API int scout_chunk_start(int64_t *start_out, size_t index, int ndim, const int64_t *shape,
				const int64_t *chunks);

/**
 * Build the box from start to stop (SCOUT's box_slice_idx: the index tuple of
 * slices start[i]:stop[i]).
 * @param out   receives the box
 * @param ndim  1..SCOUT_MAX_NDIM
 * @param start, stop ndim coordinates; stop[i] >= start[i] >= 0 (empty extents allowed)
 * @return SCOUT_OK, SCOUT_EINVAL
 */
SCOUT_API int scout_box_slice_idx(scout_box *out, int ndim, const int64_t *start,
				  const int64_t *stop);

/**
 * Number of elements in a box (0 if any extent is empty).
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW
 */
SCOUT_API int scout_box_count(size_t *count_out, const scout_box *box);

/**
 * Intersection of two boxes of the same ndim; an empty intersection has
 * stop == start on some axis.
 * @return SCOUT_OK, SCOUT_EINVAL (ndim differ)
 */
SCOUT_API int scout_box_intersect(scout_box *out, const scout_box *a, const scout_box *b);

#ifdef __cplusplus
}
#endif

#endif
