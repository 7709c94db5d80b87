/**
 * @file scout/shm.h
 * @brief Shared memory between processes (SCOUT's SharedMemory).
 *
 * A segment is a POSIX shared-memory object (/dev/shm on Linux), mode 0600,
 * named "/scout-<pid>-<n>-<random>", holding a small header (magic, version,
 * ndim, shape, dtype, data offset) followed by the elements (64-byte aligned,
 * C order, native byte order). Any process of the same user that knows the
 * name can attach to it; forked children inherit the mapping.
 *
 * Lifetime: the creator's scout_shm_free() unlinks the segment; attached
 * handles keep their mapping until they are freed. Segments a program
 * forgets to free are unlinked when the creating process exits normally
 * (exit() or return from main(); not after _exit(), a crash or SIGKILL).
 * A forked child never unlinks its parent's segments.
 *
 * Handles are not synchronised: several threads or processes may read and
 * write the elements concurrently, but ordering writes is up to the caller.
 */
#ifndef SCOUT_SHM_H
#define SCOUT_SHM_H

#include "array.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque shared-memory handle. */
typedef struct scout_shm scout_shm;

/**
 * Create a zero-filled shared-memory array.
 * @param out   receives the handle (the creator): free with scout_shm_free(),
 *              which also unlinks the segment
 * @param ndim  1..SCOUT_MAX_NDIM
 * @param shape ndim extents >= 0 (0 gives an empty segment)
 * @param dtype element type
 * @return SCOUT_OK, SCOUT_EINVAL (bad ndim, shape or dtype), SCOUT_EOVERFLOW,
 *         SCOUT_EIO (shm_open/ftruncate failed, e.g. /dev/shm full), SCOUT_ENOMEM
 */
SCOUT_API int scout_shm_create(scout_shm **out, int ndim, const int64_t *shape, scout_dtype dtype);

/**
 * Attach to an existing segment by name, from any process. Shape and dtype
 * come from the segment's header, which is validated (magic, version, ndim,
 * dtype, and that shape x itemsize fits in the object).
 * @param out  receives a handle that does not own the segment (its free only
 *             unmaps)
 * @param name as given by scout_shm_name(): "/" followed by a name without "/"
 * @return SCOUT_OK, SCOUT_EINVAL (bad name), SCOUT_ENOTFOUND (no such segment),
 *         SCOUT_EFORMAT (not a scout segment, or a header that does not match
 *         its size), SCOUT_EIO
 */
SCOUT_API int scout_shm_attach(scout_shm **out, const char *name);

/** The segment's name (starts with '/'), owned by the handle. */
SCOUT_API const char *scout_shm_name(const scout_shm *shm);

/** The elements: the view SCOUT's txn() gives. Owned by the handle. */
SCOUT_API void *scout_shm_data(scout_shm *shm);

/** Number of dimensions, shape and dtype of the segment. */
SCOUT_API int scout_shm_ndim(const scout_shm *shm);
SCOUT_API const int64_t *scout_shm_shape(const scout_shm *shm);
SCOUT_API scout_dtype scout_shm_dtype(const scout_shm *shm);

/** Size in bytes of the elements (prod(shape) x itemsize). */
SCOUT_API size_t scout_shm_nbytes(const scout_shm *shm);

/**
 * 1 if freeing this handle unlinks the segment: it was made by
 * scout_shm_create() in the calling process (not inherited through fork, not
 * attached); 0 otherwise.
 */
SCOUT_API int scout_shm_is_owner(const scout_shm *shm);

/**
 * An array handle over the segment (kind "shm", writable, unchunked), so
 * scout_extract_box(), scout_insert_box() and scout_pmap_chunks() work on it,
 * also with process workers, whose writes the parent sees.
 * @param out receives the handle; free it with scout_array_free() before the
 *            shm handle (it borrows the mapping)
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_ENOMEM
 */
SCOUT_API int scout_shm_array(scout_array **out, scout_shm *shm);

/**
 * Unmap; the creator's handle also unlinks the segment. NULL is allowed.
 * In a forked child, freeing the creator's inherited handle only unmaps.
 */
SCOUT_API void scout_shm_free(scout_shm *shm);

#ifdef __cplusplus
}
#endif

#endif
