/**
 * @file scout/zarr.h
 * @brief Zarr v2 arrays on a filesystem, byte-exact with zarr-python.
 */
#ifndef SCOUT_ZARR_H
#define SCOUT_ZARR_H

#include "array.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of scout_zarr_create(). Initialise with SCOUT_ZARR_OPTIONS_INIT. */
typedef struct {
	unsigned int version;
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	int64_t chunks[SCOUT_MAX_NDIM]; /**< all 0: 64 on every axis (clipped to shape) */
	const char *dtype;              /**< numpy typestr, e.g. "<u2", ">f8", "|b1" */
	const char *compressor;         /**< numcodecs config as JSON; NULL: SCOUT's default
					   {"id":"blosc","cname":"zstd","clevel":1,"shuffle":2};
					   "null": no compressor */
	char order;                     /**< 'C' (default when 0) or 'F' */
	char dimension_separator;       /**< '/' (default when 0, as SCOUT) or '.' */
	const char *fill_value;         /**< JSON text; NULL: 0 */
	int overwrite;                  /**< replace an existing array at path */
} scout_zarr_options;

#define SCOUT_ZARR_OPTIONS_VERSION 1
#define SCOUT_ZARR_OPTIONS_INIT {SCOUT_ZARR_OPTIONS_VERSION, 0, {0}, {0}, NULL, NULL, 'C', '/', NULL, 0}

/**
 * Create a Zarr v2 array directory at path (writing .zarray) and open it for
 * reading and writing.
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EFORMAT (bad dtype, codec, fill value),
 *         SCOUT_EIO (path exists and overwrite is 0, or a write failed)
 */
SCOUT_API int scout_zarr_create(scout_array **out, const char *path,
				const scout_zarr_options *opts);

/**
 * The array's .zattrs as JSON text, "{}" when it has none.
 * @param json_out receives the text; free with scout_free()
 * @return SCOUT_OK, SCOUT_EINVAL (not a Zarr array), SCOUT_EFORMAT, SCOUT_EIO
 */
SCOUT_API int scout_array_attrs_get(char **json_out, scout_array *arr);

/**
 * Replace the array's .zattrs (written atomically).
 * @param json a JSON object as text
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EFORMAT (not a JSON object), SCOUT_EREADONLY, SCOUT_EIO
 */
SCOUT_API int scout_array_attrs_set(scout_array *arr, const char *json);

#ifdef __cplusplus
}
#endif

#endif
