/**
 * @file scout/shm.h
 * @brief Shared memory between processes (SCOUT's SharedMemory).
 *
 * A segment is a POSIX shared-memory object (/dev/shm on Linux), mode 0600,
 * holding a small header (shape, dtype) followed by the elements, C order,
 * native byte order. Any process that knows the name can attach to it.
 * The creator's scout_shm_free() unlinks the segment; attached handles keep
 * their mapping until they are freed.
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
 * @param out receives the handle (the creator): free with scout_shm_free(),
 *            which also unlinks the segment
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EOVERFLOW, SCOUT_EIO, SCOUT_ENOMEM
 */
SCOUT_API int scout_shm_create(scout_shm **out, int ndim, const int64_t *shape, scout_dtype dtype);

/**
 * Attach to an existing segment by name, from any process.
 * @param out  receives a handle that does not own the segment
 * @param name as given by scout_shm_name()
 * @return SCOUT_OK, SCOUT_ENOTFOUND, SCOUT_EFORMAT (not a scout segment), SCOUT_EIO
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

/**
 * An array handle over the segment, so scout_extract_box(), scout_insert_box()
 * and scout_pmap_chunks() work on it (also with process workers). The array
 * must be freed before the shm handle.
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
