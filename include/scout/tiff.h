/**
 * @file scout/tiff.h
 * @brief TIFF files and folders of TIFF slices (libtiff).
 *
 * Reading goes through scout_array_open(): a TIFF file opens as a read-only
 * array of kind "tiff" (2-D for one page, chunks the whole page; (z, y, x) for
 * several pages, chunks single pages (1, y, x)), a folder of 2-D TIFF slices
 * (in scout_tifs_in_dir() order) as a read-only array of kind "tiff-stack"
 * of shape (slices, y, x) whose chunks are single slices (1, y, x).
 *
 * What is read: one sample per pixel; 8/16/32/64-bit unsigned and signed
 * integers, 16/32/64-bit IEEE floats (SampleFormat); strips or tiles; classic
 * TIFF or BigTIFF; either byte order; every compression the linked libtiff
 * decodes (none, LZW, deflate, PackBits, zstd, LZMA, predictors, ...).
 * Anything else (RGB or extra samples, 1-bit bilevel, 12-bit, complex
 * samples, 3-D tiles), pages of a file whose shape or dtype differ from page
 * 0, and slices that differ from the first slice or hold several pages are
 * SCOUT_EFORMAT errors naming the file (and the page).
 *
 * Laziness: opening a file walks its page directories; opening a folder lists
 * it and reads the first slice's directory only. scout_extract_box() decodes
 * only the pages (slices) the box touches and, within a page, only the strips
 * or tiles it touches; other slices are checked against the first when read.
 *
 * Threads and processes: no libtiff handle is kept between calls (each read
 * opens the files it needs), so reads are safe from many threads at once and
 * from forked processes (scout_pmap_chunks with either kind of worker).
 *
 * Messages: libtiff's errors are captured per handle and appear in
 * scout_last_error() after the file name ("... (libtiff: ...)"). The first use
 * also replaces libtiff's process-wide handlers: warnings are silenced and
 * errors that libtiff reports without a handle are kept per thread instead of
 * being printed on stderr.
 *
 * Opening a TIFF or a folder with SCOUT_MODE_WRITE fails with SCOUT_EREADONLY.
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
	/** deflate 1..9, zstd 1..22 (larger values are clamped); 0: the codec's default */
	int level;
	int bigtiff; /**< 1: always BigTIFF; 0: BigTIFF only when needed */
} scout_tiff_write_options;

#define SCOUT_TIFF_WRITE_OPTIONS_VERSION 1
#define SCOUT_TIFF_WRITE_OPTIONS_INIT                                                              \
	{                                                                                          \
		SCOUT_TIFF_WRITE_OPTIONS_VERSION, SCOUT_TIFF_NONE, 0, 0                            \
	}

/**
 * Write a 2-D array as a one-page TIFF, or a 3-D array (z, y, x) as a
 * multi-page TIFF (one page per z, SubfileType "page", PageNumber set),
 * reading arr one plane at a time (so arr may be a Zarr array larger than
 * memory; memory use is one plane). Pages are grayscale (one sample per pixel,
 * MinIsBlack), in strips of about 256 KiB, in the host's byte order, without
 * predictor. The file is written under a temporary name beside path
 * ("path.tmp-PID-N") and renamed into place when complete; on failure the
 * temporary file is removed and an existing file at path is left untouched.
 * BigTIFF is used when asked for, or when the pixel data exceed 3.75 GiB.
 * Supported dtypes: uint8..uint64, int8..int64, float16, float32, float64, and
 * bool (stored as uint8 0/1, read back as uint8).
 * @param path where to write (its directory must exist)
 * @param arr  any 2-D or 3-D array; every extent in 1 .. 2^32-1
 * @param opts NULL for the defaults (uncompressed, classic TIFF)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL argument, ndim not 2 or 3, an empty or
 *         too large extent, bad options version or compression, negative level),
 *         SCOUT_EUNSUPPORTED (dtype, or zstd missing from libtiff),
 *         SCOUT_ENOTFOUND (the directory of path is missing), SCOUT_EIO
 *         (naming the file), SCOUT_ENOMEM, or errors reading arr
 */
SCOUT_API int scout_tiff_write(const char *path, scout_array *arr,
			       const scout_tiff_write_options *opts);

#ifdef __cplusplus
}
#endif

#endif
