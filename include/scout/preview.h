/**
 * @file scout/preview.h
 * @brief Quality-control pictures: maximum-intensity projections (MIP) of an
 *        array computed in parallel over its chunks, contrast mapping from
 *        exact percentiles, block-max downsampling, markers and PNG files.
 *
 * The pieces compose into `scout preview`:
 * @code
 * scout_mip_options mo = SCOUT_MIP_OPTIONS_INIT;      // along axis 0, whole extent
 * void *mip; int64_t mshape[2];
 * scout_mip(&mip, mshape, arr, &mo);                  // map-reduce over the chunks
 * double lo, hi;
 * scout_contrast_auto(&lo, &hi, mip, dtype, mshape[0] * mshape[1], 0.5, 99.5);
 * uint8_t *grey = malloc(mshape[0] * mshape[1]);
 * scout_contrast_map(grey, 8, mip, dtype, mshape[0] * mshape[1], lo, hi);
 * int64_t f = scout_downsample_factor(mshape[0], mshape[1], 2048);
 * ... scout_block_max_2d(small, grey, SCOUT_UINT8, mshape[0], mshape[1], f) ...
 * scout_png_write("mip.png", small, h, w, 1, 8);
 * @endcode
 *
 * The kernels (everything but scout_mip() and scout_png_write()) work on
 * C-contiguous buffers in native byte order, do no I/O and keep no state:
 * they are safe to call from any number of threads on different buffers.
 */
#ifndef SCOUT_PREVIEW_H
#define SCOUT_PREVIEW_H

#include "array.h"
#include "common.h"
#include "dtype.h"
#include "pmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Maximum-intensity projection                                             */
/* ------------------------------------------------------------------------ */

/**
 * Maximum of an N-D array along one axis, equal to numpy's
 * `x.max(axis=axis)` for every real dtype: integers and bool compare as
 * numbers (bool: logical or); floats (float16/32/64) propagate NaN (a line
 * holding a NaN gives NaN), as numpy does.
 *
 * @param out   receives the projection: the C-contiguous array of shape
 *              `shape` without axis `axis` (prod(shape) / shape[axis]
 *              elements); must not overlap `in`
 * @param in    C-contiguous array of the given shape and dtype, native order
 * @param dtype element type of `in` and `out` (real dtypes)
 * @param ndim  number of axes (1..SCOUT_MAX_NDIM)
 * @param shape ndim extents, each >= 0; shape[axis] must be >= 1
 * @param axis  the axis to project along (0..ndim-1)
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, bad ndim/shape/axis, empty
 *         axis); SCOUT_EUNSUPPORTED (complex dtypes); SCOUT_EOVERFLOW
 */
SCOUT_API int scout_max_project(void *out, const void *in, scout_dtype dtype, int ndim,
				const int64_t *shape, int axis);

/**
 * Options of scout_mip(). Initialise with SCOUT_MIP_OPTIONS_INIT (or
 * scout_mip_options_init()).
 *
 * - axis: the axis to project along.
 * - start, stop: the slab [start, stop) of the axis to project (numpy's
 *   `x[start:stop].max(axis=0)` for axis 0); stop -1 means the whole extent.
 *   0 <= start < stop <= shape[axis] is required.
 * - chunks: the processing chunks (ndim extents >= 1) the map splits the
 *   array into; NULL: the array's storage chunks (scout_array_chunks()),
 *   stretched along the axis by whole chunks while a piece stays under
 *   16 MiB and there are at least 4 pieces per worker (fewer partial
 *   projections to merge).
 * - pmap: workers, progress and cancel of the map (NULL: the defaults of
 *   SCOUT_PMAP_OPTIONS_INIT). Its on_result fields are not used.
 */
typedef struct {
	unsigned int version;           /**< SCOUT_MIP_OPTIONS_VERSION */
	int axis;                       /**< axis to project along (default 0) */
	int64_t start;                  /**< first index of the slab (default 0) */
	int64_t stop;                   /**< end of the slab, exclusive; -1: the extent */
	const int64_t *chunks;          /**< processing chunks; NULL: automatic */
	const scout_pmap_options *pmap; /**< map options; NULL: defaults */
} scout_mip_options;

/** Current version of scout_mip_options. */
#define SCOUT_MIP_OPTIONS_VERSION 1
/** Default options: axis 0, whole extent, automatic chunks, default map. */
#define SCOUT_MIP_OPTIONS_INIT                                                                     \
	{                                                                                          \
		SCOUT_MIP_OPTIONS_VERSION, 0, 0, -1, NULL, NULL                                    \
	}

/**
 * Initialise a scout_mip_options (for bindings that cannot use the macro).
 * @return SCOUT_OK, or SCOUT_EINVAL for a NULL pointer or an unknown version
 */
SCOUT_API int scout_mip_options_init(scout_mip_options *opts, unsigned int version);

/**
 * Maximum-intensity projection of an array along one axis, as a map-reduce
 * over its chunks with scout_pmap_chunks(): each piece is read with
 * scout_extract_box() (clipped to the slab), projected with
 * scout_max_project(), and the partial projections are merged with an
 * element-wise maximum in the calling thread as they arrive (in chunk order,
 * so the result never depends on the number or kind of workers). The result
 * equals numpy's `x[slab].max(axis=axis)` exactly, NaN propagation included.
 *
 * Memory: the result plus, per worker, one piece and its projection.
 *
 * @param image_out receives the projection (C-contiguous, the array's dtype in
 *                  native byte order, the array's shape without `axis`); free
 *                  with scout_free(). NULL on failure.
 * @param shape_out receives the ndim - 1 extents of the projection
 *                  (room for SCOUT_MAX_NDIM - 1 is enough)
 * @param arr       any array (Zarr, TIFF, memory, shared memory), real dtype
 * @param opts      options; NULL: SCOUT_MIP_OPTIONS_INIT
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, bad axis or chunks, bad
 *         options version); SCOUT_EBOUNDS (slab outside the axis, or empty);
 *         SCOUT_EUNSUPPORTED (complex dtype); SCOUT_ENOMEM; SCOUT_EOVERFLOW;
 *         any error of reading the array (with the chunk named) or of the map
 *         (SCOUT_EWORKER, SCOUT_EINTERRUPTED)
 */
SCOUT_API int scout_mip(void **image_out, int64_t *shape_out, scout_array *arr,
			const scout_mip_options *opts);

/* ------------------------------------------------------------------------ */
/* Contrast                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Contrast limits from percentiles, exactly numpy's
 * `np.percentile(v, plo, method='lower')` and
 * `np.percentile(v, phi, method='higher')` of the n - (NaN count) non-NaN
 * values v: with m values sorted ascending and counted from 0, lo is the value
 * of rank floor((m - 1) * (plo / 100)) and hi the value of rank
 * ceil((m - 1) * (phi / 100)), computed in double precision as numpy does.
 * Both are values of the data (no interpolation).
 *
 * Found without sorting: the values are mapped to unsigned keys of the same
 * order (sign bit flipped for integers, the IEEE total order for floats) and
 * the rank is located with histograms of 16 key bits at a time (radix
 * select): one pass over the data for 8/16-bit types, up to four (each over
 * only the values that share the prefix found so far, in a copy of at most
 * those values) for 64-bit ones. Temporary memory: 512 KiB of counters, plus
 * for 32/64-bit types the keys of the values in the histogram bin that holds
 * the rank.
 *
 * @param lo_out receives the lower limit (NaN when every value is NaN or n is 0)
 * @param hi_out receives the upper limit (NaN likewise)
 * @param data   n values of dtype, native byte order
 * @param dtype  real dtype
 * @param n      number of values
 * @param plo    lower percentile, 0 <= plo <= phi <= 100 (scout preview: 0.5)
 * @param phi    upper percentile (scout preview: 99.5)
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, bad percentiles);
 *         SCOUT_EUNSUPPORTED (complex); SCOUT_ENOMEM
 */
SCOUT_API int scout_contrast_auto(double *lo_out, double *hi_out, const void *data,
				  scout_dtype dtype, size_t n, double plo, double phi);

/**
 * Map values to grey levels 0..M (M = 255 for depth 8, 65535 for depth 16):
 * with v the value converted to double (float16 widened exactly, 64-bit
 * integers rounded to nearest),
 *   - lo < hi: g = floor((v - lo) / (hi - lo) * M + 0.5), clamped to 0..M
 *     (each operation rounded to double, in that order, as numpy computes
 *     `np.floor((v.astype(np.float64) - lo) / (hi - lo) * M + 0.5)`);
 *   - lo == hi: g = 0 for v <= lo, M for v > lo;
 *   - NaN values, and every value when lo or hi is NaN: g = 0.
 * lo, hi are typically from scout_contrast_auto() or given by the user.
 *
 * @param out   receives n grey levels: uint8 for depth 8, uint16 (native
 *              order) for depth 16
 * @param depth 8 or 16
 * @param in    n values of dtype
 * @param dtype real dtype
 * @param n     number of values
 * @param lo    value mapped to black (not infinite)
 * @param hi    value mapped to white (>= lo, not infinite)
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, bad depth, lo > hi,
 *         infinite limits); SCOUT_EUNSUPPORTED (complex)
 */
SCOUT_API int scout_contrast_map(void *out, int depth, const void *in, scout_dtype dtype, size_t n,
				 double lo, double hi);

/* ------------------------------------------------------------------------ */
/* Downsampling                                                             */
/* ------------------------------------------------------------------------ */

/**
 * The integer factor that brings a height x width picture to at most
 * max_size pixels on its longer side: ceil(max(height, width) / max_size),
 * at least 1. The downsampled picture (scout_block_max_2d()) is then
 * ceil(height / f) x ceil(width / f), whose longer side is <= max_size.
 * Returns 1 for max_size <= 0 or an empty picture.
 */
SCOUT_API int64_t scout_downsample_factor(int64_t height, int64_t width, int64_t max_size);

/**
 * Block-max downsampling of a 2-D array by an integer factor f on both axes:
 * out[i, j] = max of in[i*f : min((i+1)*f, height), j*f : min((j+1)*f, width)],
 * so out is ceil(height / f) x ceil(width / f) and the blocks of the last row
 * and column are the pixels that remain (never padded). The maximum is
 * numpy's (floats: a NaN in the block gives NaN). f = 1 copies.
 *
 * @param out    receives ceil(height/f) * ceil(width/f) elements of dtype
 * @param in     height x width elements of dtype, C order
 * @param dtype  real dtype
 * @param height rows of in (>= 0)
 * @param width  columns of in (>= 0)
 * @param f      factor (>= 1)
 * @return SCOUT_OK; SCOUT_EINVAL; SCOUT_EUNSUPPORTED (complex); SCOUT_EOVERFLOW
 */
SCOUT_API int scout_block_max_2d(void *out, const void *in, scout_dtype dtype, int64_t height,
				 int64_t width, int64_t f);

/* ------------------------------------------------------------------------ */
/* Markers                                                                  */
/* ------------------------------------------------------------------------ */

/** Shapes of scout_draw_marker(). */
typedef enum {
	/** a ring of radius 3: the 16 pixels (dy, dx) with 8 <= dy^2 + dx^2 <= 10,
	 * i.e. (r - 1/2)^2 <= d^2 < (r + 1/2)^2 for r = 3; the centre stays visible */
	SCOUT_MARKER_RING = 0,
	/** a plus sign: the centre pixel and its 4 neighbours (|dy| + |dx| <= 1) */
	SCOUT_MARKER_PLUS = 1
} scout_marker;

/**
 * Draw a marker on an RGB picture (3 samples per pixel, C order), centred at
 * pixel (y, x); pixels of the marker outside the picture are skipped (the
 * centre may be outside too).
 *
 * @param rgb    height * width * 3 samples: uint8 for depth 8, uint16 for 16
 * @param depth  8 or 16
 * @param height rows
 * @param width  columns
 * @param y      centre row
 * @param x      centre column
 * @param shape  SCOUT_MARKER_RING or SCOUT_MARKER_PLUS
 * @param color  red, green, blue, each 0..255 for depth 8, 0..65535 for 16
 * @return SCOUT_OK or SCOUT_EINVAL
 */
SCOUT_API int scout_draw_marker(void *rgb, int depth, int64_t height, int64_t width, int64_t y,
				int64_t x, scout_marker shape, const uint16_t color[3]);

/* ------------------------------------------------------------------------ */
/* PNG files                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Write a picture as a PNG file with libpng: greyscale (channels 1) or RGB
 * (channels 3), 8 or 16 bits per sample, no interlacing, default zlib level.
 * The file is written to a temporary beside path ("PATH.tmp-<pid>-<n>"),
 * flushed (and fsync'ed when the environment has SCOUT_FSYNC=1, as the Zarr
 * stores) and renamed to path: readers see the old file or the whole new one,
 * and on any error nothing is left at path (an existing file is kept) nor
 * beside it. An existing path is replaced.
 *
 * @param path     the PNG file
 * @param pixels   height rows of width * channels samples: uint8 for depth 8,
 *                 uint16 in native byte order for depth 16
 * @param height   rows, 1 .. 2^31 - 1
 * @param width    columns, 1 .. 2^31 - 1
 * @param channels 1 (grey) or 3 (RGB)
 * @param depth    8 or 16
 * @return SCOUT_OK; SCOUT_EINVAL (NULL, bad size, channels or depth);
 *         SCOUT_EIO (the file cannot be created, written or renamed: the
 *         message names it and the system's reason); SCOUT_ENOMEM
 */
SCOUT_API int scout_png_write(const char *path, const void *pixels, int64_t height, int64_t width,
			      int channels, int depth);

#ifdef __cplusplus
}
#endif

#endif
