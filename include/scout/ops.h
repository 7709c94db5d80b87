/**
 * @file scout/ops.h
 * @brief Built-in per-chunk kernels: dtype conversion, Gaussian smoothing,
 *        maximum filter and local maxima, reductions (stats) and histograms.
 *
 * Every kernel works on C-contiguous in-memory buffers in native byte order;
 * none of them does I/O or keeps global state, so they are safe to call from
 * any number of threads at once on different buffers. The CLI (and users)
 * apply them per chunk with scout_pmap_chunks() and ghost borders.
 *
 * The Gaussian and maximum filters reproduce scipy.ndimage with
 * mode='nearest' (the edge value is repeated past the border), so a chunk
 * processed with a ghost shell at least as wide as the filter radius gives, on
 * its interior, the values of the whole-volume computation.
 */
#ifndef SCOUT_OPS_H
#define SCOUT_OPS_H

#include "common.h"
#include "dtype.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Conversion                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Convert n elements of any real dtype to float32, as numpy's
 * `x.astype(np.float32)` (round to nearest; bool gives 0 or 1; float16 is
 * widened exactly; int64/uint64/float64 are rounded to nearest float32).
 *
 * @param out   receives n floats; may be the same memory as `in` only when
 *              dtype is float32 (then this is a no-op copy)
 * @param in    n elements of dtype, native byte order
 * @param dtype element type of `in`
 * @param n     number of elements
 * @return SCOUT_OK; SCOUT_EINVAL for a NULL pointer (with n > 0) or an invalid
 *         dtype; SCOUT_EUNSUPPORTED for complex dtypes
 */
SCOUT_API int scout_to_float32(float *out, const void *in, scout_dtype dtype, size_t n);

/**
 * Convert n float32 values to another real dtype (for writing a blurred
 * result as, e.g., uint16). Floats (float16/32/64) are converted with round
 * to nearest (float16: overflow gives +-inf). Integers and bool: the value is
 * rounded to the nearest integer (halves away from zero) and saturated to the
 * type's range; NaN gives 0; bool is 1 for any non-zero value. (numpy's
 * astype truncates and wraps instead; rounding and saturation is what image
 * tools such as skimage.util.img_as_uint do for in-range data.)
 *
 * @param out   receives n elements of dtype (may not overlap `in` unless
 *              dtype is float32)
 * @param dtype target element type
 * @param in    n floats
 * @param n     number of elements
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, invalid dtype);
 *         SCOUT_EUNSUPPORTED for complex dtypes
 */
SCOUT_API int scout_from_float32(void *out, scout_dtype dtype, const float *in, size_t n);

/* ------------------------------------------------------------------------ */
/* Gaussian smoothing                                                       */
/* ------------------------------------------------------------------------ */

/**
 * Radius (half-width) of the Gaussian kernel on each axis, as scipy:
 * `radius[i] = (int)(truncate * sigma[i] + 0.5)` (0 when sigma[i] is 0). Use
 * it as the ghost-border width for scout_gaussian_filter().
 *
 * @param radius_out receives ndim radii
 * @param ndim       number of axes (1..SCOUT_MAX_NDIM)
 * @param sigma      ndim standard deviations, each finite and >= 0
 * @param truncate   kernel half-width in standard deviations (scipy's
 *                   default and SCOUT's: 4.0); finite and >= 0
 * @return SCOUT_OK or SCOUT_EINVAL (bad ndim, negative/non-finite sigma or
 *         truncate, NULL pointer); SCOUT_EOVERFLOW if a radius exceeds 2^31
 */
SCOUT_API int scout_gaussian_radius(int64_t *radius_out, int ndim, const double *sigma,
				    double truncate);

/**
 * Gaussian filter of an N-D float32 array, equal to
 * `scipy.ndimage.gaussian_filter(x, sigma, mode='nearest', truncate=truncate)`
 * for a float32 array x: the 1-D kernel exp(-x^2 / (2 sigma^2)) normalised to
 * sum 1 on [-radius, radius] is applied axis by axis (axis 0 first), each
 * pass accumulating in double precision and storing float32, as scipy does.
 * An axis whose sigma is 0 is skipped. Results agree with scipy to float32
 * rounding (typically bit for bit).
 *
 * Lines along the last axis are processed contiguously; other axes are
 * processed in blocks of neighbouring lines, so the cost stays close to
 * streaming the array once per axis. Temporary memory: a few lines/blocks
 * (well under 1 MiB for typical chunks), allocated once per call.
 *
 * @param out      receives the filtered array (same shape); may equal `in`
 *                 (in-place filtering), must not otherwise overlap it
 * @param in       C-contiguous float32 array of the given shape
 * @param ndim     number of axes (1..SCOUT_MAX_NDIM)
 * @param shape    ndim extents, each >= 0 (an empty array is a no-op)
 * @param sigma    ndim standard deviations (>= 0, finite)
 * @param truncate kernel half-width in standard deviations (4.0 for scipy's
 *                 default)
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, bad ndim/shape/sigma);
 *         SCOUT_EOVERFLOW (size of the array); SCOUT_ENOMEM
 */
SCOUT_API int scout_gaussian_filter(float *out, const float *in, int ndim, const int64_t *shape,
				    const double *sigma, double truncate);

/* ------------------------------------------------------------------------ */
/* Maximum filter and local maxima (nuclei detection)                       */
/* ------------------------------------------------------------------------ */

/**
 * Maximum filter over a box neighbourhood, equal to
 * `scipy.ndimage.maximum_filter(x, size=[2*r+1 for r in radius],
 * mode='nearest')`: out[p] is the largest value of `in` over the box
 * p - radius .. p + radius, positions outside the array taking the value of
 * the nearest edge voxel. Computed separably with the van Herk/Gil-Werman
 * algorithm (about 3 comparisons per voxel per axis, whatever the radius).
 * NaN values are not supported (the result near a NaN is unspecified).
 *
 * @param out    receives the filtered array; may equal `in`
 * @param in     C-contiguous float32 array of the given shape
 * @param ndim   number of axes (1..SCOUT_MAX_NDIM)
 * @param shape  ndim extents (>= 0)
 * @param radius ndim half-widths (>= 0; 0 leaves an axis alone)
 * @return SCOUT_OK; SCOUT_EINVAL; SCOUT_EOVERFLOW; SCOUT_ENOMEM
 */
SCOUT_API int scout_maximum_filter(float *out, const float *in, int ndim, const int64_t *shape,
				   const int64_t *radius);

/**
 * Local maxima (peaks) of an N-D float32 array, SCOUT's nuclei detection:
 * the voxels p inside the interior box with `in[p] >= threshold` and
 * `in[p] == maximum_filter(in, radius)[p]` (neighbourhood (2r+1)^ndim,
 * mode 'nearest', as scout_maximum_filter()). Plateaus give every voxel of
 * the plateau, as the scipy expression does. NaN voxels are never peaks.
 *
 * To process a chunk with ghost borders: pass the ghosted block as `in` and
 * the chunk's position inside it as the interior box; peaks in the ghost
 * shell are then dropped (SCOUT's filter_ghosted_points). Add the block's
 * global offset to the returned coordinates. For peaks of a blurred volume
 * (scout peaks), the shell must be at least the Gaussian radius plus
 * `radius` wide on each axis and clipped at the volume's border, never
 * padded: the filters' 'nearest' edge handling at the block's border then
 * is the volume's own, and the result equals the whole-volume computation.
 *
 * @param points_out     receives count*ndim coordinates (int64), point after
 *                       point, in C order of the points (row-major
 *                       lexicographic), local to `in` (not to the interior
 *                       box); free with scout_free(). NULL when count is 0.
 * @param count_out      receives the number of points
 * @param in             C-contiguous float32 array
 * @param ndim           number of axes (1..SCOUT_MAX_NDIM)
 * @param shape          ndim extents (>= 0)
 * @param radius         ndim neighbourhood half-widths (SCOUT's min_distance)
 * @param threshold      smallest value a peak may have (use -INFINITY for none)
 * @param interior_start box of candidate voxels, 0 <= start <= stop <= shape;
 * @param interior_stop  both NULL for the whole array
 * Temporary memory: one float32 array of the size of `in`.
 *
 * @return SCOUT_OK; SCOUT_EINVAL; SCOUT_EBOUNDS (interior box outside the
 *         array); SCOUT_EOVERFLOW; SCOUT_ENOMEM. On failure *points_out is
 *         NULL and *count_out 0.
 */
SCOUT_API int scout_local_maxima(int64_t **points_out, size_t *count_out, const float *in, int ndim,
				 const int64_t *shape, const int64_t *radius, double threshold,
				 const int64_t *interior_start, const int64_t *interior_stop);

/* ------------------------------------------------------------------------ */
/* Statistics (map-reduce)                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Running statistics of a set of values: a plain struct (no pointers), so a
 * per-chunk accumulator can be returned as bytes from a pmap worker (or a
 * process) and merged in any order. Initialise with scout_stats_init(), add
 * data with scout_stats_update(), combine with scout_stats_merge(), read the
 * results with scout_stats_finish().
 *
 * Integers (and bool, as 0/1): count, min, max and sum are exact (128-bit
 * sum); for 8/16/32-bit types the sum of squares is exact too, so mean and
 * std are correctly computed from exact integers. Floats (float16/32/64) and
 * 64-bit integers: NaNs are counted in nan_count and excluded; sums use
 * double-double accumulation and the variance is merged with Chan's formula
 * from per-update two-pass results, so mean and std agree with numpy's
 * float64 results (np.mean/np.std of the non-NaN values as float64) to about
 * 1e-14 relative for well-conditioned data. Complex dtypes are unsupported.
 *
 * Only `dtype`, `count` and `nan_count` are meant to be read directly; the
 * remaining fields are the accumulator state.
 */
typedef struct scout_stats {
	int32_t version;    /**< SCOUT_STATS_VERSION (layout check on merge) */
	int32_t dtype;      /**< the scout_dtype given to scout_stats_init() */
	uint64_t count;     /**< number of values seen, NaNs excluded */
	uint64_t nan_count; /**< number of NaN values seen (floats only) */
	/* accumulator state (read results with scout_stats_finish()) */
	int64_t imin, imax;  /**< signed integer / bool min, max */
	uint64_t umin, umax; /**< unsigned integer min, max */
	uint64_t isum[2];    /**< exact sum, 128-bit two's complement, low word first */
	uint64_t isumsq[2];  /**< exact sum of squares (8/16/32-bit ints), unsigned 128-bit */
	double fmin, fmax;   /**< float min, max (of non-NaN values) */
	double fsum[2];      /**< double-double sum (floats, 64-bit ints) */
	double fm2[2];       /**< double-double sum of squared deviations from the mean */
} scout_stats;

/** Layout version of scout_stats. */
#define SCOUT_STATS_VERSION 1

/**
 * Reset an accumulator to the empty set for a dtype.
 * @param stats the accumulator
 * @param dtype any real dtype (bool, integers, float16/32/64)
 * @return SCOUT_OK; SCOUT_EINVAL (NULL, invalid dtype); SCOUT_EUNSUPPORTED
 *         (complex)
 */
SCOUT_API int scout_stats_init(scout_stats *stats, scout_dtype dtype);

/**
 * Add n values to an accumulator.
 * @param stats an accumulator from scout_stats_init()
 * @param data  n elements of the accumulator's dtype, native byte order, any
 *              alignment of the element size
 * @param n     number of elements (0 is allowed)
 * @return SCOUT_OK or SCOUT_EINVAL (NULL pointer, uninitialised accumulator)
 */
SCOUT_API int scout_stats_update(scout_stats *stats, const void *data, size_t n);

/**
 * Add everything `from` has seen to `into` (both of the same dtype); the
 * result does not depend (beyond rounding in the last bits for floats) on
 * the order of merges. `from` is unchanged.
 * @return SCOUT_OK; SCOUT_EINVAL (NULL, different dtypes or versions)
 */
SCOUT_API int scout_stats_merge(scout_stats *into, const scout_stats *from);

/** Final results of a scout_stats accumulator (see scout_stats_finish()). */
typedef struct scout_stats_result {
	uint64_t count;     /**< number of non-NaN values */
	uint64_t nan_count; /**< number of NaN values */
	double min, max;    /**< smallest and largest non-NaN value (NaN when count is 0);
			       for 64-bit integers rounded to double, see min_str */
	double sum;         /**< sum of the non-NaN values, rounded to double */
	double mean;        /**< sum / count (NaN when count is 0) */
	double std;         /**< population standard deviation (ddof 0; NaN when count is 0) */
	/** Exact decimal text of sum, min and max for integer dtypes
	 * ("-12345678901234567890123"); for floats, "%.17g" of the double value
	 * (round-trips), "nan" when undefined. */
	char sum_str[48];
	char min_str[32];
	char max_str[32];
} scout_stats_result;

/**
 * Compute the results of an accumulator.
 * @param out   receives the results
 * @param stats the accumulator (unchanged; more updates may follow)
 * @return SCOUT_OK or SCOUT_EINVAL
 */
SCOUT_API int scout_stats_finish(scout_stats_result *out, const scout_stats *stats);

/**
 * Format the results as a JSON object, the `scout stats --json` output:
 * `{"dtype": "uint16", "count": N, "nan_count": N, "sum": S, "min": M,
 * "max": M, "mean": X, "std": X}` followed, when counts is not NULL, by
 * `"histogram": {"bins": B, "range": [lo, hi], "edges": [...], "counts": [...]}`.
 * Integer sums/min/max are exact decimal numbers; undefined values (empty
 * set) and non-finite floats are written as null.
 *
 * @param json_out receives a NUL-terminated string; free with scout_free()
 * @param stats    the accumulator
 * @param counts   histogram counts from scout_histogram_update(), or NULL
 * @param bins     number of bins of counts
 * @param lo       histogram range, as given to scout_histogram_update()
 * @param hi
 * @return SCOUT_OK; SCOUT_EINVAL; SCOUT_ENOMEM
 */
SCOUT_API int scout_stats_to_json(char **json_out, const scout_stats *stats, const uint64_t *counts,
				  size_t bins, double lo, double hi);

/* ------------------------------------------------------------------------ */
/* Histogram                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Edges of a uniform histogram, as numpy.histogram returns them:
 * `np.linspace(lo, hi, bins + 1)` (in float64; when lo == hi the range
 * becomes lo - 0.5 .. hi + 0.5, as numpy).
 * @param edges_out receives bins + 1 edges
 * @param bins      number of bins (>= 1)
 * @param lo        lower end of the range (finite)
 * @param hi        upper end (finite, >= lo)
 * @return SCOUT_OK or SCOUT_EINVAL
 */
SCOUT_API int scout_histogram_edges(double *edges_out, size_t bins, double lo, double hi);

/**
 * Add n values to a histogram, as numpy.histogram(x, bins, range=(lo, hi)):
 * values outside [lo, hi] and NaNs are ignored, the last bin includes hi, and
 * the bin of each value is computed with numpy's algorithm (index from
 * (x - lo) * bins / (hi - lo), corrected against the edges), in the precision
 * numpy 1.x uses for the dtype (float16 arithmetic for float16 data,
 * float32 for float32 data, float64 otherwise), so counts equal numpy's
 * exactly. 8/16-bit data use a table of the bin of every possible value. Histograms of parts of the
 * data merge by adding counts (scout_histogram_merge()).
 *
 * @param counts bins counters to increment (zero them before the first call)
 * @param bins   number of bins (>= 1)
 * @param lo     range as for scout_histogram_edges()
 * @param hi
 * @param dtype  element type of data (real dtypes)
 * @param data   n elements, native byte order
 * @param n      number of elements
 * @return SCOUT_OK; SCOUT_EINVAL (NULL, bins 0, non-finite or reversed
 *         range); SCOUT_EUNSUPPORTED (complex)
 */
SCOUT_API int scout_histogram_update(uint64_t *counts, size_t bins, double lo, double hi,
				     scout_dtype dtype, const void *data, size_t n);

/**
 * Add the counts of one histogram to another: into[i] += from[i].
 * @return SCOUT_OK or SCOUT_EINVAL (NULL pointer)
 */
SCOUT_API int scout_histogram_merge(uint64_t *into, const uint64_t *from, size_t bins);

#ifdef __cplusplus
}
#endif

#endif
