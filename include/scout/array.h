/**
 * @file scout/array.h
 * @brief N-D arrays behind one handle: plain memory, shared memory, Zarr, TIFF.
 *
 * A scout_array has a shape, a dtype and storage chunks. Whatever its backend,
 * scout_extract_box() reads a box into a C-contiguous native-endian buffer and
 * scout_insert_box() writes one back. Handles are safe to use from several
 * threads at once for reads and for writes of disjoint boxes; chunked backends
 * (Zarr) also make writes to boxes that share a chunk safe.
 */
#ifndef SCOUT_ARRAY_H
#define SCOUT_ARRAY_H

#include "common.h"
#include "dtype.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque array handle. */
typedef struct scout_array scout_array;

/** Open modes for scout_array_open(). */
#define SCOUT_MODE_READ  1
#define SCOUT_MODE_WRITE 2

/**
 * Create a zero-filled array in private memory.
 * @param out   receives the handle; free with scout_array_free()
 * @param ndim  1..SCOUT_MAX_NDIM
 * @param shape ndim extents >= 0; shape x itemsize must not overflow
 * @param dtype element type
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW, SCOUT_ENOMEM
 */
SCOUT_API int scout_array_new(scout_array **out, int ndim, const int64_t *shape, scout_dtype dtype);

/**
 * Wrap caller-owned C-contiguous native-endian memory as an array. The memory is
 * not copied and not freed by scout_array_free(); it must outlive the handle.
 * Note for process workers (SCOUT_WORKERS_PROCESSES): forked workers get a
 * private copy of such memory, so their writes are not seen by the parent; use
 * shared memory (scout_shm_array()) or a Zarr array for that, as SCOUT warns.
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW, SCOUT_ENOMEM
 */
SCOUT_API int scout_array_wrap(scout_array **out, void *data, int ndim, const int64_t *shape,
			       scout_dtype dtype);

/** Release a handle (and, for scout_array_new(), its memory). NULL is allowed. */
SCOUT_API void scout_array_free(scout_array *arr);

/** Number of dimensions. */
SCOUT_API int scout_array_ndim(const scout_array *arr);

/** The ndim extents; owned by the handle. */
SCOUT_API const int64_t *scout_array_shape(const scout_array *arr);

/**
 * The storage chunk shape (ndim extents); the whole shape when unchunked.
 * For a sharded Zarr v3 array: the inner chunk, the unit of reading,
 * decoding and caching.
 */
SCOUT_API const int64_t *scout_array_chunks(const scout_array *arr);

/**
 * The write grid's cell (ndim extents): the unit a writer replaces at once,
 * so work that writes should be split along it to never contend. For a
 * sharded Zarr v3 array the shard shape; otherwise equal to
 * scout_array_chunks().
 */
SCOUT_API const int64_t *scout_array_write_chunks(const scout_array *arr);

/** The element type. */
SCOUT_API scout_dtype scout_array_dtype(const scout_array *arr);

/** Backend name: "memory", "shm", "zarr", "tiff", "tiff-stack". */
SCOUT_API const char *scout_array_kind(const scout_array *arr);

/** 1 if the array accepts scout_insert_box(), 0 if read-only. */
SCOUT_API int scout_array_writable(const scout_array *arr);

/**
 * Pointer to the elements when the array is one C-contiguous native-endian block
 * in memory (memory and shm backends); NULL otherwise.
 */
SCOUT_API void *scout_array_data(scout_array *arr);

/**
 * Total size in bytes of all elements (product of shape x itemsize).
 */
SCOUT_API size_t scout_array_nbytes(const scout_array *arr);

/**
 * Read the box [start, stop) into dst (SCOUT's extract_box).
 * @param dst   receives prod(stop - start) elements, C-contiguous, native byte order
 * @param arr   the array
 * @param start, stop ndim coordinates with 0 <= start[i] <= stop[i] <= shape[i]
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EBOUNDS (box outside the array), or the
 *         backend's I/O, format and codec errors (message names file and chunk)
 */
SCOUT_API int scout_extract_box(void *dst, scout_array *arr, const int64_t *start,
				const int64_t *stop);

/**
 * Write src into the box [start, stop) (SCOUT's insert_box).
 * @param src prod(stop - start) elements, C-contiguous, native byte order
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EBOUNDS, SCOUT_EREADONLY, or backend errors
 */
SCOUT_API int scout_insert_box(scout_array *arr, const int64_t *start, const int64_t *stop,
			       const void *src);

/**
 * Open an array on disk: a Zarr v2 array directory, a TIFF file or a folder of
 * TIFF slices (the latter two read-only).
 * @param out  receives the handle
 * @param path the array's path
 * @param mode SCOUT_MODE_READ, or SCOUT_MODE_READ | SCOUT_MODE_WRITE
 * @return SCOUT_OK, SCOUT_ENOTFOUND, SCOUT_EFORMAT, SCOUT_EIO, ...
 */
SCOUT_API int scout_array_open(scout_array **out, const char *path, int mode);

#ifdef __cplusplus
}
#endif

#endif
