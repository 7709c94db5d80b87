/*
 * Internal helpers shared by every layer: error recording, overflow-checked
 * sizes and the N-D box copy kernels. Not installed.
 */
#ifndef SCOUT_INTERNAL_H
#define SCOUT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "scout/error.h"
#include "scout/dtype.h"

#if defined(__GNUC__)
#define SCOUT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SCOUT_HIDDEN       __attribute__((visibility("hidden")))
#else
#define SCOUT_PRINTF(a, b)
#define SCOUT_HIDDEN
#endif

/*
 * Record code and a printf-style message as the calling thread's last error
 * and return code, so call sites read `return scout__error(SCOUT_EIO, ...)`.
 */
SCOUT_HIDDEN int scout__error(int code, const char *fmt, ...) SCOUT_PRINTF(2, 3);
SCOUT_HIDDEN int scout__verror(int code, const char *fmt, va_list ap);

/*
 * Prepend context ("chunk 1/0/3 of /data/a.zarr: ") to the current message
 * and return code (the code of the original error should be passed through).
 */
SCOUT_HIDDEN int scout__error_prefix(int code, const char *fmt, ...) SCOUT_PRINTF(2, 3);

/* a * b into *out; SCOUT_EOVERFLOW (with a message naming what) on overflow. */
SCOUT_HIDDEN int scout__mul_size(size_t *out, size_t a, size_t b, const char *what);

/*
 * Number of elements of a shape (product of extents) and its byte size;
 * extents must be >= 0. Either output may be NULL.
 * Errors: SCOUT_EINVAL (bad ndim, negative extent), SCOUT_EOVERFLOW.
 */
SCOUT_HIDDEN int scout__shape_size(size_t *count_out, size_t *nbytes_out, int ndim,
				   const int64_t *shape, size_t itemsize);

/* Validate ndim and shape (extents >= 0) / chunk shape (extents >= 1). */
SCOUT_HIDDEN int scout__check_shape(int ndim, const int64_t *shape, const char *what);
SCOUT_HIDDEN int scout__check_chunks(int ndim, const int64_t *chunks, const char *what);

/*
 * Check 0 <= start <= stop <= shape on every axis; SCOUT_EBOUNDS with the box
 * and the shape in the message otherwise.
 */
SCOUT_HIDDEN int scout__check_box(int ndim, const int64_t *shape, const int64_t *start,
				  const int64_t *stop);

/*
 * Copy an N-D box between two C-contiguous arrays.
 * Copies the region of the given extent starting at src_off in src (of shape
 * src_shape) to dst_off in dst (of shape dst_shape). Trailing axes that are
 * whole in both arrays are merged so the innermost copies are long memcpy runs.
 */
SCOUT_HIDDEN void scout__copy_nd(void *dst, const int64_t *dst_shape, const int64_t *dst_off,
				 const void *src, const int64_t *src_shape, const int64_t *src_off,
				 const int64_t *extent, int ndim, size_t itemsize);

/*
 * Copy n bytes to memory the caller won't read again soon (a big box read):
 * the destination's whole cache lines are written with non-temporal stores
 * where the CPU has them (x86-64), which skip reading them into the cache
 * first; the partial lines at the ends with memcpy. Scattering 64^3 uint16
 * chunks into a warm, line-aligned 2 GiB destination on the benchmark VM
 * (2 threads): 0.26 s with memcpy, 0.05 s streamed. The stores are ordered
 * only after scout__copy_stream_end(), which the thread calls before it says
 * the data is there.
 */
SCOUT_HIDDEN void scout__copy_stream(void *dst, const void *src, size_t n);
SCOUT_HIDDEN void scout__copy_stream_end(void);

/* scout__copy_nd with scout__copy_stream's stores, ending with its fence. */
SCOUT_HIDDEN void scout__copy_nd_stream(void *dst, const int64_t *dst_shape, const int64_t *dst_off,
					const void *src, const int64_t *src_shape,
					const int64_t *src_off, const int64_t *extent, int ndim,
					size_t itemsize);

/* Fill an N-D box of dst (shape dst_shape) with copies of one element. */
SCOUT_HIDDEN void scout__fill_nd(void *dst, const int64_t *dst_shape, const int64_t *dst_off,
				 const int64_t *extent, int ndim, size_t itemsize,
				 const void *value);

/*
 * Which axis (>= 1) a work piece of extents ext, made of whole units, halves
 * next (in units) to get smaller: the largest one whose halved extent, times
 * scale[i] (NULL: 1) in the input's coordinates, still covers whole input
 * chunks (in_chunks, or the input's whole extent in_shape); when every cut
 * splits them (TIFF slices: one chunk per page), the outermost one, so that a
 * piece reads runs of whole rows (cutting x made every piece read each strip,
 * the full width, for a part of it). in_chunks NULL: the largest axis. -1 when
 * no axis is longer than its unit. For the CLI's slabs and the pyramid's blocks.
 */
SCOUT_HIDDEN int scout__axis_to_halve(int ndim, const int64_t *ext, const int64_t *unit,
				      const int64_t *scale, const int64_t *in_chunks,
				      const int64_t *in_shape);

/*
 * Step idx to the next index of the box [lo, hi] (both inclusive) in C order,
 * the last axis fastest: 1, or 0 (idx back at lo) after the last one.
 */
SCOUT_HIDDEN int scout__box_next(int64_t *idx, const int64_t *lo, const int64_t *hi, int ndim);

/* 1 when each of the n / itemsize elements at p equals the one at value, byte for byte. */
SCOUT_HIDDEN int scout__is_fill(const void *p, size_t n, const void *value, size_t itemsize);

/* Reverse the byte order of count elements of itemsize bytes, in place. */
SCOUT_HIDDEN void scout__byteswap(void *data, size_t count, size_t itemsize);

/*
 * Size of the unit whose byte order a dtype's storage order reverses: the
 * element size, or half of it for complex types (two floats). Swap with
 * scout__byteswap(data, count * itemsize / unit, unit).
 */
SCOUT_HIDDEN size_t scout__dtype_swap_unit(scout_dtype dtype);

/* 1 on a big-endian host. */
SCOUT_HIDDEN int scout__host_big_endian(void);

/* Format ndim coordinates as "(1, 2, 3)" into buf (always NUL-terminated). */
SCOUT_HIDDEN const char *scout__fmt_coords(char *buf, size_t bufsize, int ndim,
					   const int64_t *coords);

/* strdup that records SCOUT_ENOMEM; returns NULL on failure. */
SCOUT_HIDDEN char *scout__strdup(const char *s);

#endif
