/**
 * @file scout/tiff.h
 * @brief TIFF files and folders of TIFF slices (libtiff).
 *
 * Reading goes through scout_array_open(): a TIFF file opens as a read-only
 * array of kind "tiff" (2-D for one page, (z, y, x) for several pages), a
 * folder of 2-D TIFF slices (in scout_tifs_in_dir() order) as a read-only
 * array of kind "tiff-stack" whose chunks are single slices, decoded lazily.
 */
#ifndef SCOUT_TIFF_H
#define SCOUT_TIFF_H

#include "array.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Compression of TIFFs written by scout_tiff_write(). */
typedef enum {
	SCOUT_TIFF_NONE = 0,    /**< uncompressed */
	SCOUT_TIFF_DEFLATE = 1, /**< Adobe deflate (zlib) */
	SCOUT_TIFF_ZSTD = 2     /**< zstd */
} scout_tiff_compression;

/** Options of scout_tiff_write(). Initialise with SCOUT_TIFF_WRITE_OPTIONS_INIT. */
typedef struct {
	unsigned int version;
	scout_tiff_compression compression; /**< default: none */
	int level;                          /**< codec level; 0: the codec's default */
	int bigtiff;                        /**< 1: always BigTIFF; 0: BigTIFF only when needed */
} scout_tiff_write_options;

#define SCOUT_TIFF_WRITE_OPTIONS_VERSION 1
#define SCOUT_TIFF_WRITE_OPTIONS_INIT {SCOUT_TIFF_WRITE_OPTIONS_VERSION, SCOUT_TIFF_NONE, 0, 0}

/**
 * Write a 2-D array as a one-page TIFF, or a 3-D array (z, y, x) as a
 * multi-page TIFF, reading arr one plane at a time (so arr may be a Zarr array
 * larger than memory). The file is written under a temporary name beside path
 * and renamed into place when complete.
 * Supported dtypes: bool/uint8..uint64, int8..int64, float32, float64.
 * @return SCOUT_OK, SCOUT_EINVAL (ndim not 2 or 3), SCOUT_EUNSUPPORTED (dtype),
 *         SCOUT_EIO (naming the file), or errors reading arr
 */
SCOUT_API int scout_tiff_write(const char *path, scout_array *arr,
			       const scout_tiff_write_options *opts);

#ifdef __cplusplus
}
#endif

#endif
