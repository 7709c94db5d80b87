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
 * Computed without overflow for any int64 inputs.
 * @param start_ghosted_out receives ndim starts
 * @param stop_ghosted_out  receives ndim stops (exclusive)
 * @param ndim        1..SCOUT_MAX_NDIM
 * @param shape       the array's ndim extents (>= 0)
 * @param start_coord the chunk's start, 0 <= start_coord[i] <= shape[i]
 * @param chunks      the chunk shape (>= 1; the chunk is clipped to the array)
 * @param overlap     ndim values >= 0 (per-axis ghost widths)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL pointer, bad ndim, or a bad value, whose
 *         axis the message names)
 */
SCOUT_API int scout_ghosted_bounds(int64_t *start_ghosted_out, int64_t *stop_ghosted_out, int ndim,
				   const int64_t *shape, const int64_t *start_coord,
				   const int64_t *chunks, const int64_t *overlap);

/**
 * Read a chunk with its ghost shell (SCOUT's extract_ghosted_chunk).
 * @param dst               receives the ghosted box, C order, native endian;
 *                          prod(chunks[i] + 2 * overlap[i]) elements always suffice
 *                          (may be NULL only if the ghosted box is empty)
 * @param start_ghosted_out receives where the ghosted box starts (ndim values)
 * @param shape_out         receives the ghosted box's shape (ndim values; may be NULL)
 * @param arr               the array (its ndim and shape are used)
 * @param start_coord, chunks, overlap as scout_ghosted_bounds()
 * @return SCOUT_OK, SCOUT_EINVAL (NULL arr / start_ghosted_out, bad bounds), or
 *         scout_extract_box()'s errors prefixed with the chunk's start.
 *         start_ghosted_out and shape_out are written only on success.
 */
SCOUT_API int scout_extract_ghosted_chunk(void *dst, int64_t *start_ghosted_out, int64_t *shape_out,
					  scout_array *arr, const int64_t *start_coord,
					  const int64_t *chunks, const int64_t *overlap);

/**
 * The decoded-chunk cache a ghosted map over arr needs for every stored chunk
 * to be decoded once: pieces of shape `piece` run in C order, each reading
 * itself and `ghost` voxels on each side (scout_extract_ghosted_chunk). The
 * chunk rows along axis 0 that one layer of pieces reads are read again by
 * the next layer a whole plane of pieces later, so the cache must hold them
 * (with a quarter more: the cache's shards fill unevenly), plus the chunks
 * of one piece and its ghosts for each of `workers` pieces in flight. The
 * chunks are the array's read granularity (scout_array_chunks: a sharded
 * array's inner chunks). An LRU cache smaller than this evicts those rows
 * just before their reuse: with 64^3 chunks of a 1024^3 uint16 volume and 48
 * MiB slabs, a 256 MiB cache decoded every chunk about three times, this size
 * (590 MiB for 2 workers) once. Set it with scout_zarr_set_cache_size.
 * @param out     receives the bytes
 * @param arr     the array read
 * @param piece   the map's chunk shape (ndim values, >= 1)
 * @param ghost   the ghost width on each side (ndim values, >= 0)
 * @param workers pieces in flight at once (>= 1)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL argument, bad values)
 */
SCOUT_API int scout_ghost_cache_bytes(size_t *out, const scout_array *arr, const int64_t *piece,
				      const int64_t *ghost, size_t workers);

/**
 * Keep the points with start <= p < stop on every axis (SCOUT's
 * filter_points_in_box), preserving their order.
 * @param points_out receives the kept points (count_out x ndim); may equal points;
 *                   count x ndim values always suffice
 * @param idx_out    receives the indices of kept points in the input (may be NULL)
 * @param count_out  receives the number kept
 * @param points     count x ndim coordinates, row-major (any int64 values)
 * @param count      number of points; with 0, points and points_out may be NULL
 * @param ndim       1..SCOUT_MAX_NDIM
 * @param start, stop the box (an empty extent keeps nothing)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL pointer, bad ndim), SCOUT_EOVERFLOW
 *         (count x ndim coordinates do not fit in memory)
 */
SCOUT_API int scout_filter_points_in_box(int64_t *points_out, size_t *idx_out, size_t *count_out,
					 const int64_t *points, size_t count, int ndim,
					 const int64_t *start, const int64_t *stop);

/**
 * Turn points found in a ghosted chunk into global coordinates and keep those
 * inside the chunk proper [start_coord, start_coord + chunks) (SCOUT's
 * filter_ghosted_points): a point found in the ghost shell belongs to a
 * neighbouring chunk, which finds it too.
 * The chunk is not clipped to any array shape: points beyond the array are the
 * caller's to avoid (a detector only reports points inside the ghosted box).
 * Order is preserved.
 * @param points_out    receives global coordinates of kept points (count_out x ndim);
 *                      may equal centers_local; count x ndim values always suffice
 * @param count_out     receives the number kept
 * @param start_ghosted where the ghosted box starts (ndim values >= 0)
 * @param start_coord   where the chunk starts (ndim values >= 0)
 * @param chunks        the chunk shape (>= 1)
 * @param centers_local count x ndim coordinates relative to start_ghosted; a point
 *                      whose global coordinate would overflow int64 is dropped
 * @param count         number of points; with 0, the point arrays may be NULL
 * @param ndim          1..SCOUT_MAX_NDIM
 * @return SCOUT_OK, SCOUT_EINVAL (NULL pointer, bad ndim, negative start or chunk
 *         < 1, the axis named in the message), SCOUT_EOVERFLOW
 */
SCOUT_API int scout_filter_ghosted_points(int64_t *points_out, size_t *count_out,
					  const int64_t *start_ghosted, const int64_t *start_coord,
					  const int64_t *chunks, const int64_t *centers_local,
					  size_t count, int ndim);

#ifdef __cplusplus
}
#endif

#endif
