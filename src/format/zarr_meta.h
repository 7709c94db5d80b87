/*
 * The neutral Zarr array metadata model, filled from a v2 .zarray
 * (format/zarray.h) or a v3 zarr.json (format/zarr_v3.h). The layers above
 * see only this. Not installed.
 *
 * The codec chain is a list in Zarr v3 form (codec/pipeline.h). A .zarray maps
 * onto it as: "order": "F" -> transpose with the axes reversed; the typestr's
 * byte order -> bytes' endian; the compressor -> blosc / gzip / zstd in v3
 * form (blosc's shuffle -1 resolved as numcodecs does), other compressors as
 * "numcodecs.<id>" with their numcodecs config; each of "filters" -> the
 * array->array codec "numcodecs.<id>" (its config without "id"), after the
 * transpose and before bytes, as zarr-python applies them to the chunk
 * flattened in its order. The filters are delta, fixedscaleoffset, quantize,
 * astype, bitround, packbits and shuffle; another id is SCOUT_EFORMAT naming
 * it, and filters on a big-endian dtype are SCOUT_EUNSUPPORTED. With filters,
 * bytes always has an endian (the chunk may reach it with another itemsize).
 */
#ifndef SCOUT_ZARR_META_H
#define SCOUT_ZARR_META_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk_key.h"
#include "core/internal.h"
#include "zarray.h"

typedef struct {
	int zarr_format; /* 2 or 3 */
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	int64_t chunks[SCOUT_MAX_NDIM]; /* the regular chunk grid */
	scout_dtype dtype;
	int fill_null;          /* v2 fill_value null (reads give zeros) */
	unsigned char fill[16]; /* the fill value, native byte order */
	/* separator 0: a v2 .zarray without dimension_separator (the array layer detects it) */
	scout_key_encoding key_encoding;
	json_t *codecs;          /* the chain, v3 form (owned) */
	json_t *dimension_names; /* a list (of strings or nulls), or NULL (owned) */
	json_t *attributes;      /* v3: the "attributes" object or NULL (v2: .zattrs, separate) */
	int big_endian;          /* stored byte order (v2 typestr, v3 bytes codec) */
	json_t *v2_document;     /* v2: the .zarray object as read (owned), else NULL */
} scout_zarr_meta;

/* Release what a scout_zarr_meta owns and zero it. */
SCOUT_HIDDEN void scout__zarr_meta_clear(scout_zarr_meta *m);

/*
 * Fill m from a parsed .zarray (doc: its JSON object, kept in m->v2_document;
 * may be NULL). The compressor is checked by the codec layer
 * (errors name `what` and field "compressor"). *m is cleared first.
 */
SCOUT_HIDDEN int scout__zarr_meta_from_zarray(scout_zarr_meta *m, const scout_zarray *z,
					      const json_t *doc, const char *what);

/* The v2 compressor config (null or numcodecs object) as a v3-form codec, or NULL for none. */
SCOUT_HIDDEN int scout__compressor_to_v3(json_t **out, const json_t *compressor, size_t itemsize,
					 const char *what);

#endif
