/**
 * @file scout/ghost.h
 * @brief Ghosted (overlapping) chunks and point filtering (SCOUT's
 *        extract_ghosted_chunk, filter_points_in_box, filter_ghosted_points).
 *
 * Per-chunk analyses that need neighbours (blur, local maxima) read each chunk
 * with a shell of `overlap` voxels on every side, clipped to the array, and keep
 * only the results that fall inside the chunk proper.
 */
#ifndef SCOUT_GHOST_H
#define SCOUT_GHOST_H

#include "array.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Bounds of a ghosted chunk: start_ghosted = max(0, start - overlap),
 * stop_ghosted = min(shape, min(start + chunks, shape) + overlap), per axis.
 * @param overlap ndim values >= 0 (per-axis ghost widths)
 * @return SCOUT_OK, SCOUT_EINVAL
 */
SCOUT_API int scout_ghosted_bounds(int64_t *start_ghosted_out, int64_t *stop_ghosted_out, int ndim,
				   const int64_t *shape, const int64_t *start_coord,
				   const int64_t *chunks, const int64_t *overlap);

/**
 * Read a chunk with its ghost shell (SCOUT's extract_ghosted_chunk).
 * @param dst               receives the ghosted box, C order, native endian;
 *                          prod(chunks[i] + 2 * overlap[i]) elements always suffice
 * @param start_ghosted_out receives where the ghosted box starts (ndim values)
 * @param shape_out         receives the ghosted box's shape (ndim values; may be NULL)
 * @param arr, start_coord, chunks, overlap as scout_ghosted_bounds()
 * @return SCOUT_OK or scout_extract_box()'s errors
 */
SCOUT_API int scout_extract_ghosted_chunk(void *dst, int64_t *start_ghosted_out, int64_t *shape_out,
					  scout_array *arr, const int64_t *start_coord,
					  const int64_t *chunks, const int64_t *overlap);

/**
 * Keep the points with start <= p < stop on every axis (SCOUT's
 * filter_points_in_box), preserving their order.
 * @param points_out receives the kept points (count_out x ndim); may equal points
 * @param idx_out    receives the indices of kept points in the input (may be NULL)
 * @param count_out  receives the number kept
 * @param points     count x ndim coordinates
 * @return SCOUT_OK, SCOUT_EINVAL
 */
SCOUT_API int scout_filter_points_in_box(int64_t *points_out, size_t *idx_out, size_t *count_out,
					 const int64_t *points, size_t count, int ndim,
					 const int64_t *start, const int64_t *stop);

/**
 * Turn points found in a ghosted chunk into global coordinates and keep those
 * inside the chunk proper [start_coord, start_coord + chunks) (SCOUT's
 * filter_ghosted_points): a point found in the ghost shell belongs to a
 * neighbouring chunk, which finds it too.
 * @param points_out    receives global coordinates of kept points; may equal centers_local
 * @param count_out     receives the number kept
 * @param start_ghosted where the ghosted box starts
 * @param start_coord   where the chunk starts
 * @param chunks        the chunk shape
 * @param centers_local count x ndim coordinates relative to start_ghosted
 * @return SCOUT_OK, SCOUT_EINVAL
 */
SCOUT_API int scout_filter_ghosted_points(int64_t *points_out, size_t *count_out,
					  const int64_t *start_ghosted, const int64_t *start_coord,
					  const int64_t *chunks, const int64_t *centers_local,
					  size_t count, int ndim);

#ifdef __cplusplus
}
#endif

#endif
