/**
 * @file scout/geometry.h
 * @brief Chunk grids and boxes (SCOUT's chunk_dims, chunk_coordinates, box_slice_idx).
 *
 * All coordinates are int64_t element indices, C order (last axis fastest).
 * Errors name the offending axis ("chunk extent 0 of axis 1 is not >= 1") in
 * scout_last_error(); products of extents are overflow-checked.
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
 * @param nb_chunks_out receives ndim counts (0 on an axis of extent 0)
 * @param ndim          1..SCOUT_MAX_NDIM
 * @param img_shape     ndim extents, each >= 0
 * @param chunk_shape   ndim chunk extents, each >= 1 (may exceed the extent: 1 chunk)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL pointer, bad ndim, negative extent, chunk < 1)
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
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW (the number of chunks or the
 *         list's byte size does not fit in size_t), SCOUT_ENOMEM. On failure
 *         *start_coords_out is NULL and *count_out 0.
 */
SCOUT_API int scout_chunk_coordinates(int64_t **start_coords_out, size_t *count_out, int ndim,
				      const int64_t *shape, const int64_t *chunks);

/**
 * Total number of chunks of a grid (product of scout_chunk_dims()); 0 when any
 * extent is 0, even if the other axes alone would overflow.
 * @param count_out receives the count
 * @param ndim, shape, chunks as scout_chunk_dims()
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW (count does not fit in size_t)
 */
SCOUT_API int scout_chunk_count(size_t *count_out, int ndim, const int64_t *shape,
				const int64_t *chunks);

/**
 * Start coordinate of chunk number `index` (in scout_chunk_coordinates() order)
 * without listing them all.
 * @param start_out receives ndim coordinates
 * @param index     0 .. scout_chunk_count() - 1
 * @param ndim, shape, chunks as scout_chunk_dims()
 * @return SCOUT_OK, SCOUT_EINVAL (bad grid), SCOUT_EOVERFLOW (as
 *         scout_chunk_count()), SCOUT_EBOUNDS (index >= count)
 */
SCOUT_API int scout_chunk_start(int64_t *start_out, size_t index, int ndim, const int64_t *shape,
				const int64_t *chunks);

/**
 * Build the box from start to stop (SCOUT's box_slice_idx: the index tuple of
 * slices start[i]:stop[i]).
 * @param out   receives the box; entries past ndim are set to 0
 * @param ndim  1..SCOUT_MAX_NDIM
 * @param start, stop ndim coordinates; stop[i] >= start[i] >= 0 (empty extents allowed)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL pointer, bad ndim, or an axis with
 *         start < 0 or stop < start, named in the message); *out is unchanged on error
 */
SCOUT_API int scout_box_slice_idx(scout_box *out, int ndim, const int64_t *start,
				  const int64_t *stop);

/**
 * Number of elements in a box (0 if any extent is empty).
 * @param count_out receives the count
 * @param box       a box as made by scout_box_slice_idx()
 * @return SCOUT_OK, SCOUT_EINVAL (NULL, bad ndim, stop < start or start < 0),
 *         SCOUT_EOVERFLOW (the count does not fit in size_t)
 */
SCOUT_API int scout_box_count(size_t *count_out, const scout_box *box);

/**
 * Intersection of two boxes of the same ndim: start = max of the starts, stop =
 * min of the stops; on an axis where they do not overlap, stop is set to start
 * (an empty box, so scout_box_count() gives 0).
 * @param out  receives the intersection; may be the same object as a or b
 * @param a, b valid boxes (see scout_box_count())
 * @return SCOUT_OK, SCOUT_EINVAL (NULL, invalid box, ndim differ)
 */
SCOUT_API int scout_box_intersect(scout_box *out, const scout_box *a, const scout_box *b);

#ifdef __cplusplus
}
#endif

#endif
