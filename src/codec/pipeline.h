/*
 * The codec pipeline of a Zarr chunk (v2 and v3 alike). Not installed.
 *
 * A chain is a JSON list of codecs in Zarr v3 form ({"name": ..., "configuration":
 * {...}}), in encoding order: any number of array->array codecs, exactly one
 * array->bytes codec, any number of bytes->bytes codecs. Encoding runs the
 * list in order, decoding in reverse.
 *
 *  array->array  "transpose" (order: a permutation; "C"/"F" also accepted).
 *                Each one maps an array spec (element type, shape) to the
 *                next: the spec travels down the chain, so codecs that change
 *                the element type (numcodecs filters) plug in here.
 *  array->bytes  "bytes" (endian "little"/"big"; may be omitted for 1-byte
 *                types). It receives the store and the chunk key on decode,
 *                so that sharding can read byte ranges.
 *  bytes->bytes  "blosc", "gzip", "zstd" (Zarr v3 configs), "crc32c", and every
 *                numcodecs compressor as "numcodecs.<id>" with its numcodecs
 *                config (blosc, zlib, gzip, bz2, lzma, zstd, lz4).
 *
 * A Zarr v2 .zarray maps onto a chain: order "F" is transpose with the axes
 * reversed, the typestr's byte order is bytes' endian, and the compressor is
 * blosc/gzip/zstd in v3 form or numcodecs.<id> (format/zarr_meta.h).
 *
 * A pipeline is immutable after creation; encode and decode use per-call
 * state only, so any number of threads may use one pipeline at once.
 * Decoded sizes are known or read from each codec's header and checked before
 * anything is allocated: a bytes->bytes codec that follows another one must
 * store its decoded size (blosc, zstd, lz4, crc32c) unless only crc32c
 * codecs lie between it and the array->bytes codec; other chains (gzip
 * after zstd, ...) fail scout__pipeline_new with SCOUT_EUNSUPPORTED.
 */
#ifndef SCOUT_PIPELINE_H
#define SCOUT_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "store/store.h"

/* The element type and shape of an array at one point of the chain. */
typedef struct {
	scout_dtype dtype;
	size_t itemsize;
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	/* the fill value (itemsize bytes, native order) for codecs that leave parts
	   of a chunk out (sharding_indexed); NULL: zeros. Must outlive the pipeline. */
	const void *fill;
} scout_chunk_spec;

/* Where a chunk's encoded bytes come from, for array->bytes codecs that read ranges. */
typedef struct {
	const scout_store *store; /* may be NULL (bytes in memory only) */
	const char *key;          /* the chunk's key, for messages and range reads */
} scout_chunk_source;

typedef struct scout_pipeline scout_pipeline;

/*
 * Build a pipeline from a codec list for chunks described by spec (the
 * decoded chunk: dtype, itemsize, chunk shape). `what` names the metadata
 * file in messages. Errors (SCOUT_EFORMAT, naming `what` and the codec or
 * field): not a list, an unknown codec, a bad configuration, no or two
 * array->bytes codecs, an array->array codec after the array->bytes one.
 */
SCOUT_HIDDEN int scout__pipeline_new(scout_pipeline **out, const json_t *codecs,
				     const scout_chunk_spec *spec, const char *what);
SCOUT_HIDDEN void scout__pipeline_free(scout_pipeline *p);

/* The chain in v3 form, normalised (every configuration field). New reference. */
SCOUT_HIDDEN json_t *scout__pipeline_json(const scout_pipeline *p);

/*
 * The numcodecs config (new reference) of the chain's compressor when the
 * chain has exactly one bytes->bytes codec and it is a numcodecs compressor
 * (what a v2 .zarray calls "compressor"); NULL otherwise.
 */
SCOUT_HIDDEN json_t *scout__pipeline_compressor(const scout_pipeline *p);

/*
 * The numcodecs configs ({"id": ...}, as numcodecs' get_config) of the chain's
 * numcodecs filter stages, in order: what a v2 .zarray calls "filters". New
 * reference, an empty list when there are none.
 */
SCOUT_HIDDEN json_t *scout__pipeline_filters(const scout_pipeline *p);

/* 1 when the chain stores chunks in Fortran order (one transpose reversing the axes). */
SCOUT_HIDDEN int scout__pipeline_order_f(const scout_pipeline *p);

/* Size of a decoded chunk (the spec's shape x itemsize). */
SCOUT_HIDDEN size_t scout__pipeline_chunk_nbytes(const scout_pipeline *p);

/*
 * Encode one chunk (nbytes = scout__pipeline_chunk_nbytes(), native byte
 * order, C order). *dst_out is malloc'd (free()).
 */
SCOUT_HIDDEN int scout__pipeline_encode(const scout_pipeline *p, const void *chunk, void **dst_out,
					size_t *dst_size_out);

/*
 * scout__pipeline_encode, but where the last stage is a compressor the
 * encoded bytes stay in its scratch buffer from the pool (no copy, no
 * malloc): *pool_cap_out is then its size, to give it back with
 * scout__pipeline_free_encoded(), which also free()s a malloc'd one
 * (*pool_cap_out 0). For writers of many chunks (box writes).
 */
SCOUT_HIDDEN int scout__pipeline_encode_pooled(const scout_pipeline *p, const void *chunk,
					       void **dst_out, size_t *dst_size_out,
					       size_t *pool_cap_out);
SCOUT_HIDDEN void scout__pipeline_free_encoded(void *enc, size_t pool_cap);

/*
 * Decode n encoded bytes into dst (chunk_nbytes, native byte order, C order).
 * src may be NULL. SCOUT_ECODEC for corrupt, truncated or wrongly sized
 * data (the message starts with the codec name; callers prefix the chunk).
 */
SCOUT_HIDDEN int scout__pipeline_decode(const scout_pipeline *p, const void *enc, size_t n,
					void *dst, const scout_chunk_source *src);

/*
 * Permute the axes of an N-D array: dst has shape[i] = src_shape[perm[i]] and
 * dst[idx] = src[j] with j[perm[i]] = idx[i] (C order, itemsize-byte items).
 */
SCOUT_HIDDEN void scout__permute_axes(void *dst, const void *src, const int64_t *src_shape,
				      const int *perm, int ndim, size_t itemsize);

#endif
