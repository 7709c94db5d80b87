/**
 * @file scout/ngff.h
 * @brief OME-Zarr (OME-NGFF) multiscale pyramids: downsampling kernels, the
 *        choice of levels from the voxel size, the `multiscales` metadata
 *        (reader and writer) and the pyramid builder.
 *
 * An OME-Zarr image is a Zarr group whose arrays "0", "1", ... hold the same
 * volume at decreasing resolutions, and whose attributes say, per level, the
 * physical size of a voxel (a `scale` transformation) and where the first
 * voxel's centre lies (a `translation`). NGFF 0.4 stores them in the group's
 * `.zattrs` (Zarr v2); NGFF 0.5 in the group's `zarr.json` under
 * `attributes.ome` (Zarr v3).
 *
 * Translations follow the pixel-centre convention of the NGFF specification
 * (a voxel's coordinate is the position of its centre). A level made of block
 * means (or block modes) over F voxels of level 0 along an axis has its first
 * voxel centred on the centre of the first block: translation = (F - 1) / 2
 * level-0 voxels, i.e. (F - 1) / 2 * voxel_size. A level that samples level 0
 * (nearest, or gaussian, which smooths then takes the block's first voxel)
 * has its first voxel on level 0's first voxel: translation 0.
 */
#ifndef SCOUT_NGFF_H
#define SCOUT_NGFF_H

#include "array.h"
#include "pmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Downsampling kernels                                                     */
/* ------------------------------------------------------------------------ */

/** How a block of voxels becomes one voxel of the next level. */
typedef enum {
	/** Block mean over the voxels present (edge blocks may be smaller); integer
	 * types are rounded to nearest, halves away from zero (the exact mean of
	 * the integers, no floating point); floats are averaged in double and
	 * rounded once to the type; a NaN in the block gives NaN. For intensities. */
	SCOUT_DOWNSAMPLE_MEAN = 0,
	/** The block's first voxel (x[::f] in numpy). */
	SCOUT_DOWNSAMPLE_NEAREST = 1,
	/** The most frequent value of the block, ties to the smallest value. For
	 * label images: integer and bool types only. */
	SCOUT_DOWNSAMPLE_MODE = 2,
	/** Gaussian smoothing, then the block's first voxel: equal to
	 * `scipy.ndimage.gaussian_filter(x.astype(float32), sigma,
	 * mode='nearest', truncate=4.0)[::f]` with sigma = 2 f / 6 on every axis
	 * whose factor f is > 1 (0 elsewhere), the sigma scikit-image's
	 * pyramid_reduce uses (2 x downscale / 6: 2/3 for a factor 2), then
	 * converted back as scout_from_float32() (round, saturate). (skimage
	 * itself pads with mode 'reflect' and resamples bilinearly.) */
	SCOUT_DOWNSAMPLE_GAUSSIAN = 3
} scout_downsample_method;

/** The method's name: "mean", "nearest", "mode", "gaussian" (NULL if invalid). */
SCOUT_API const char *scout_downsample_method_name(scout_downsample_method method);

/**
 * Parse a method name ("mean", "nearest", "mode", "gaussian").
 * @return SCOUT_OK or SCOUT_EINVAL
 */
SCOUT_API int scout_downsample_method_parse(scout_downsample_method *out, const char *name);

/**
 * Ghost width a block needs on each axis so that scout_downsample() of the
 * block gives, on its interior, the whole-volume result: the Gaussian radius
 * (int)(4 sigma + 0.5) for SCOUT_DOWNSAMPLE_GAUSSIAN (3 for a factor 2), 0 for
 * the other methods.
 * @return SCOUT_OK or SCOUT_EINVAL
 */
SCOUT_API int scout_downsample_margin(int64_t *margin_out, int ndim, const int64_t *factors,
				      scout_downsample_method method);

/**
 * Downsample a C-contiguous block: out[j] is computed from the input block
 * whose first voxel is origin + j * factors (clipped to in_shape: edge
 * blocks hold only the voxels present). For the Gaussian, the whole input is
 * smoothed first (edges repeated, scipy's mode 'nearest'), so pass a ghosted
 * block (scout_downsample_margin() voxels each side, clipped to the volume,
 * never padded) and the interior's first voxel as origin.
 *
 * @param out       receives prod(out_shape) elements of dtype
 * @param out_shape ndim extents; origin + (out_shape - 1) * factors < in_shape
 * @param in        prod(in_shape) elements of dtype (native byte order)
 * @param in_shape  ndim extents
 * @param origin    ndim offsets into in (NULL: 0)
 * @param dtype     real dtype (complex: SCOUT_EUNSUPPORTED)
 * @param ndim      1..SCOUT_MAX_NDIM
 * @param factors   ndim factors >= 1
 * @param method    a scout_downsample_method
 * @return SCOUT_OK; SCOUT_EINVAL (NULL pointer, bad shapes or factors, mode on
 *         a float type); SCOUT_EUNSUPPORTED; SCOUT_EOVERFLOW; SCOUT_ENOMEM
 */
SCOUT_API int scout_downsample(void *out, const int64_t *out_shape, const void *in,
			       const int64_t *in_shape, const int64_t *origin, scout_dtype dtype,
			       int ndim, const int64_t *factors, scout_downsample_method method);

/* ------------------------------------------------------------------------ */
/* Levels                                                                   */
/* ------------------------------------------------------------------------ */

/** Most levels a pyramid may have (level 0 included). */
#define SCOUT_NGFF_MAX_LEVELS 32

/**
 * Choose the levels of a pyramid. Level l + 1 divides level l by a factor 1
 * or 2 per axis (shape: ceil(shape / factor)):
 * - among the axes still longer than 1 voxel, those whose voxel is finer than
 *   the coarsest one by more than sqrt(2) (v < v_max / sqrt(2): halving
 *   brings them closer to it than leaving them) are halved alone;
 * - when there is none (the voxel is about isotropic), every axis longer than
 *   1 is halved.
 * Levels stop when one fits in a single chunk (every extent <= chunks), when
 * max_levels is reached, or at SCOUT_NGFF_MAX_LEVELS.
 * For 2.0 x 0.65 x 0.65 um voxels: (1,2,2), (1,2,2) (2.0 x 2.6 x 2.6 um),
 * then (2,2,2) on.
 *
 * @param factors_out receives nlevels x ndim step factors, level after level
 *                    (level 0's row is all 1); room for SCOUT_NGFF_MAX_LEVELS rows
 * @param nlevels_out receives the number of levels (>= 1)
 * @param ndim        1..SCOUT_MAX_NDIM
 * @param shape       level 0's extents
 * @param chunks      chunk shape of every level (clipped to each level's shape)
 * @param voxel_size  level 0's voxel size per axis (> 0), NULL: isotropic
 * @param max_levels  0: until one chunk; else at most this many levels (>= 1)
 * @return SCOUT_OK or SCOUT_EINVAL (naming the field)
 */
SCOUT_API int scout_ngff_plan(int64_t *factors_out, int *nlevels_out, int ndim,
			      const int64_t *shape, const int64_t *chunks, const double *voxel_size,
			      int max_levels);

/* ------------------------------------------------------------------------ */
/* Metadata                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * One multiscale image: what the `multiscales` entry of an OME-Zarr group
 * says. A plain struct (no pointers): fill it to write, receive it when
 * reading. Strings are NUL-terminated; empty means absent.
 */
typedef struct {
	unsigned int version;                 /**< SCOUT_NGFF_MULTISCALE_VERSION */
	char ngff_version[8];                 /**< "0.4" or "0.5" */
	char name[64];                        /**< the image's name */
	char type[32];                        /**< downscaling method ("mean", ...) */
	int ndim;                             /**< number of axes, 2..5 */
	char axis_name[SCOUT_MAX_NDIM][16];   /**< "z", "y", "x" */
	char axis_type[SCOUT_MAX_NDIM][16];   /**< "space" */
	char axis_unit[SCOUT_MAX_NDIM][32];   /**< "micrometer", or "" for none */
	int nlevels;                          /**< number of datasets, 1..SCOUT_NGFF_MAX_LEVELS */
	char path[SCOUT_NGFF_MAX_LEVELS][64]; /**< each level's array, relative to the group */
	double scale[SCOUT_NGFF_MAX_LEVELS][SCOUT_MAX_NDIM];       /**< voxel size per level */
	double translation[SCOUT_NGFF_MAX_LEVELS][SCOUT_MAX_NDIM]; /**< first voxel's centre */
	int has_translation[SCOUT_NGFF_MAX_LEVELS]; /**< 0: no translation transformation */
} scout_ngff_multiscale;

#define SCOUT_NGFF_MULTISCALE_VERSION 1

/**
 * Write a group's multiscales metadata: for "0.4", `.zgroup` and `.zattrs`
 * (`{"multiscales": [{"version": "0.4", "name", "type", "axes",
 * "datasets": [{"path", "coordinateTransformations": [scale, translation]}]}]}`,
 * indent 4, sorted keys as zarr-python); for "0.5", the group's `zarr.json`
 * (`zarr_format` 3, `node_type` "group", `attributes.ome` with `version` "0.5"
 * and `multiscales`). Existing attributes of the group other than these keys
 * are kept. Files are replaced atomically. The content is checked first as
 * scout_ngff_check() does.
 * @param group the group directory (created when missing)
 * @param ms    the metadata
 * @return SCOUT_OK; SCOUT_EINVAL (a rule of the specification broken: the
 *         message names the field); SCOUT_EIO; SCOUT_ENOMEM
 */
SCOUT_API int scout_ngff_write(const char *group, const scout_ngff_multiscale *ms);

/**
 * Check a multiscale description against the rules of the NGFF
 * specification it names: 2 to 5 axes with unique names, 2 or 3 of type
 * "space" placed last, time before channel before space; 1 to
 * SCOUT_NGFF_MAX_LEVELS datasets with non-empty unique paths; positive finite
 * scales, finite translations; version "0.4" or "0.5".
 * @return SCOUT_OK or SCOUT_EINVAL naming the rule
 */
SCOUT_API int scout_ngff_check(const scout_ngff_multiscale *ms);

/**
 * Read the first multiscale image of an OME-Zarr group (NGFF 0.4 `.zattrs` or
 * 0.5 `zarr.json` `attributes.ome`).
 * @param out   receives the description (version set)
 * @param group the group directory
 * @return SCOUT_OK; SCOUT_ENOTFOUND (no group or no multiscales there);
 *         SCOUT_EFORMAT (malformed JSON or metadata breaking the
 *         specification: the message names the file and field);
 *         SCOUT_EUNSUPPORTED (another NGFF version); SCOUT_EIO
 */
SCOUT_API int scout_ngff_read(scout_ngff_multiscale *out, const char *group);

/**
 * Open level `level` of an OME-Zarr group (the array at the dataset's path),
 * checking that its number of dimensions is that of the axes.
 * @param out   receives the handle; free with scout_array_free()
 * @param ms_out receives the group's metadata (may be NULL)
 * @param group the group directory
 * @param level 0 (full resolution) .. nlevels - 1
 * @param mode  as scout_array_open()
 * @return SCOUT_OK; SCOUT_EINVAL (level out of range); the errors of
 *         scout_ngff_read() and scout_array_open()
 */
SCOUT_API int scout_ngff_open_level(scout_array **out, scout_ngff_multiscale *ms_out,
				    const char *group, int level, int mode);

/* ------------------------------------------------------------------------ */
/* The pyramid builder                                                      */
/* ------------------------------------------------------------------------ */

/** Options of scout_pyramid_write(). Initialise with SCOUT_PYRAMID_OPTIONS_INIT. */
typedef struct {
	unsigned int version;              /**< SCOUT_PYRAMID_OPTIONS_VERSION */
	const char *ngff_version;          /**< "0.4" (default when NULL) or "0.5" */
	double voxel_size[SCOUT_MAX_NDIM]; /**< level 0's voxel per axis; all 0: unknown
					      (scale 1 per level-0 voxel, no unit) */
	const char *unit;                  /**< NULL: "micrometer" (when voxel_size is set) */
	scout_downsample_method method;    /**< default SCOUT_DOWNSAMPLE_MEAN */
	int max_levels;                    /**< 0: until a level fits in one chunk */
	int64_t chunks[SCOUT_MAX_NDIM];    /**< all 0: 64 per axis (clipped per level) */
	const char *compressor;            /**< numcodecs JSON; NULL: SCOUT's default */
	char dimension_separator;          /**< '/' (default) or '.' */
	const char *name;                  /**< image name; NULL: "image" */
	const scout_pmap_options *pmap;    /**< workers, progress, cancel; NULL: defaults */
	size_t budget;                     /**< bytes of input per work block; 0: 256 MiB */
	/**
	 * NGFF 0.5 only (options version 2): all 0, unsharded levels; else the
	 * shard shape of every level (Zarr v3 sharding_indexed, index at the end),
	 * each a multiple of the chunks, which become the inner chunks; a level
	 * smaller than a shard gets one shard covering it.
	 */
	int64_t shards[SCOUT_MAX_NDIM];
} scout_pyramid_options;

#define SCOUT_PYRAMID_OPTIONS_VERSION 2
#define SCOUT_PYRAMID_OPTIONS_INIT                                                                 \
	{                                                                                          \
		SCOUT_PYRAMID_OPTIONS_VERSION, NULL, {0}, NULL, SCOUT_DOWNSAMPLE_MEAN, 0, {0},     \
		    NULL, '/', NULL, NULL, 0,                                                      \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/**
 * Write an OME-Zarr multiscale pyramid of `input` (any array: TIFF, Zarr,
 * memory) into the group directory `group`.
 *
 * Levels are chosen by scout_ngff_plan(). Level 0 is a copy of the input and
 * level 1 is computed in the same read (each work block of the input is read
 * once, written to level 0 and downsampled into level 1); every further level
 * is computed from the level above it. Work blocks are whole chunks of the
 * level they write (and of the level above), so every chunk is written once,
 * in full, by one worker; blocks run in parallel with opts->pmap's workers,
 * each holding at most about `budget` bytes of input (never a whole level).
 * The metadata is written last: a group whose build failed has none.
 *
 * @param group the group directory (must not hold an array or group yet,
 *              unless empty)
 * @param input the level-0 data: 2-D (axes y, x) or 3-D (axes z, y, x)
 * @param opts  options (NULL: defaults)
 * @param ms_out receives the metadata written (may be NULL)
 * @return SCOUT_OK; SCOUT_EINVAL (bad options: voxel size <= 0 or not finite,
 *         max_levels < 0, mode on float data, rank not 2 or 3; the message names
 *         the option); SCOUT_EINTERRUPTED (cancelled); the I/O and codec errors
 *         of reading the input and writing the arrays
 */
SCOUT_API int scout_pyramid_write(const char *group, scout_array *input,
				  const scout_pyramid_options *opts, scout_ngff_multiscale *ms_out);

#ifdef __cplusplus
}
#endif

#endif
