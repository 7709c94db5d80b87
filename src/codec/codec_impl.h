/*
 * Private part of the codec layer: the vtable each codec file provides, the
 * common header of every codec object, and helpers shared by the codec files
 * (config field parsing with numcodecs' defaults, bounded streaming decode).
 * Not installed; only the codec files include it.
 */
#ifndef SCOUT_CODEC_IMPL_H
#define SCOUT_CODEC_IMPL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef struct scout_codec_vtable scout_codec_vtable;

/*
 * Every codec object starts with this header; the codec file allocates a
 * larger struct with it as first member and fills vt. After creation nothing
 * in a codec object changes, so any number of threads may use it at once.
 */
struct scout_codec {
	const scout_codec_vtable *vt;
};

struct scout_codec_vtable {
	const char *id; /* numcodecs id, "none" for no compressor */
	/*
	 * Parse a config object (already known to have "id" == vt->id; NULL for
	 * "none") into a new codec. Bad fields: SCOUT_EFORMAT naming id and field.
	 */
	int (*create)(scout_codec **out, const json_t *config, size_t typesize);
	void (*destroy)(scout_codec *codec);
	/* A new object as numcodecs' get_config() gives it (json_null() for none). */
	json_t *(*config)(const scout_codec *codec);
	int (*encode)(const scout_codec *codec, const void *src, size_t n, void **dst_out,
		      size_t *dst_size_out);
	int (*decode)(const scout_codec *codec, const void *src, size_t n, void *dst,
		      size_t expected);
};

SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_none;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_blosc;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_zlib;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_gzip;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_bz2;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_lzma;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_zstd;
SCOUT_HIDDEN extern const scout_codec_vtable scout__codec_lz4;

/*
 * SCOUT_EFORMAT unless every key of config is "id" or one of the
 * NULL-terminated `allowed` names (numcodecs refuses unknown keyword
 * arguments the same way).
 */
SCOUT_HIDDEN int scout__codec_check_keys(const json_t *config, const char *id,
					 const char *const *allowed);

/*
 * Read integer field `field` of config into *out: def when absent, and also
 * when JSON null if null_ok (then *is_null, if given, is set to 1). A value
 * that is not a JSON integer, or outside [min, max]: SCOUT_EFORMAT naming the
 * codec id and the field.
 */
SCOUT_HIDDEN int scout__codec_get_int(long long *out, int *is_null, const json_t *config,
				      const char *id, const char *field, long long def,
				      long long min, long long max, int null_ok);

/* Error for a decoded size that differs from the expected one. */
SCOUT_HIDDEN int scout__codec_size_error(const char *id, size_t got, size_t expected);

/* Error for a stream that would decode to more than `expected` bytes. */
SCOUT_HIDDEN int scout__codec_too_long_error(const char *id, size_t expected);

/* malloc that records SCOUT_ENOMEM naming the codec (never returns NULL for 0 bytes). */
SCOUT_HIDDEN void *scout__codec_malloc(size_t n, const char *id);

/*
 * Compressors write into a scratch buffer of their worst-case size taken from
 * the buffer pool (core/bufpool.h) and hand out a malloc'd copy of the bytes
 * they wrote (or, armed by scout__codec_take_pooled, the scratch itself).
 * Why: malloc() serves a chunk-sized worst case with a fresh mapping and a
 * realloc() shrink keeps it one, so every chunk encoded paid for mapping,
 * faulting in and unmapping ~cap bytes (2.3x the encode floor for a 512^3
 * write on the benchmark machine); the pool keeps the scratch mapped.
 *
 * scout__codec_scratch: cap bytes (SCOUT_ENOMEM recorded when it fails).
 * scout__codec_take: *dst_out = a malloc'd copy of scratch[0, n) (from
 *   4 KiB on, 4 KiB-aligned: a direct write takes it without a bounce copy;
 *   free() it all the same), then gives the scratch back (always, also on
 *   failure).
 * scout__codec_scratch_free: gives the scratch back (on a compressor's failure).
 *
 * scout__codec_take_pooled(&cap) arms the calling thread's next take of
 * 4 KiB or more to hand out the scratch itself, no copy, its size recorded
 * in cap (free it with scout__buf_free(p, cap)); the take disarms it, and
 * so does scout__codec_take_pooled(NULL). For scout__pipeline_encode_pooled.
 */
SCOUT_HIDDEN void *scout__codec_scratch(size_t cap, const char *id);
SCOUT_HIDDEN int scout__codec_take(void **dst_out, size_t *dst_size_out, void *scratch, size_t cap,
				   size_t n, const char *id);
SCOUT_HIDDEN void scout__codec_scratch_free(void *scratch, size_t cap);
SCOUT_HIDDEN size_t *scout__codec_take_pooled(size_t *cap_out);

/*
 * zlib streams for zlib.c and gzip.c. window_bits as zlib's deflateInit2 /
 * inflateInit2 (15: zlib wrapper, 31: gzip wrapper). gzip_members: accept
 * several concatenated gzip members, with zero padding between and after them,
 * as Python's gzip module does.
 */
SCOUT_HIDDEN int scout__zlib_deflate(const char *id, int level, int window_bits, const void *src,
				     size_t n, void **dst_out, size_t *dst_size_out);
SCOUT_HIDDEN int scout__zlib_inflate(const char *id, int window_bits, int gzip_members,
				     const void *src, size_t n, void *dst, size_t expected);

/* Integer-field codecs (zlib, gzip, bz2, zstd, lz4) share this config builder. */
SCOUT_HIDDEN json_t *scout__codec_config_int(const char *id, const char *field, long long value);

/* ---- stages of the codec pipeline (pipeline.h) ---- */

#include "pipeline.h"

typedef enum { SCOUT_STAGE_AA, SCOUT_STAGE_AB, SCOUT_STAGE_BB } scout_stage_kind;

typedef struct scout_stage scout_stage;

/*
 * One codec of a chain. create() gets the configuration (NULL when absent)
 * and the spec of the array entering the codec on encode (for bytes->bytes
 * codecs: the spec entering the array->bytes codec, for typesize), and fills
 * the stage's `out` spec (array->array) or leaves it. A stage whose encode
 * and decode do nothing (transpose by the identity, bytes in native order)
 * sets `passthrough`; the pipeline skips it.
 */
typedef struct {
	const char *name;
	scout_stage_kind kind;
	int (*create)(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
		      const char *what);
	void (*destroy)(scout_stage *s);
	json_t *(*to_json)(const scout_stage *s); /* {"name", "configuration"} */
	/* n input bytes to a malloc'd output */
	int (*encode)(const scout_stage *s, const void *src, size_t n, void **dst_out,
		      size_t *dst_size_out);
	/* n input bytes to exactly `expected` bytes at dst */
	int (*decode)(const scout_stage *s, const void *src, size_t n, void *dst, size_t expected,
		      const scout_chunk_source *from);
	/* bytes->bytes, optional: the decoded size from the data's own header */
	int (*decoded_size)(const scout_stage *s, const void *src, size_t n, size_t *size_out);
} scout_stage_vtable;

struct scout_stage {
	const scout_stage_vtable *vt;
	scout_chunk_spec in, out; /* array specs (array->array, array->bytes) */
	int passthrough;
	/* array->bytes: the output's size varies with the data (sharding_indexed); no
	   bytes->bytes codec may follow it */
	int variable_size;
};

SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_transpose;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_bytes;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_crc32c;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_sharding;

/* The active (not passthrough) stages of a pipeline, in list order, and their count. */
SCOUT_HIDDEN int scout__pipeline_nactive(const scout_pipeline *p);
SCOUT_HIDDEN const scout_stage *scout__pipeline_active(const scout_pipeline *p, int i);

/* Size of the array entering the array->bytes codec (its decoded output). */
SCOUT_HIDDEN size_t scout__pipeline_bytes_len(const scout_pipeline *p);

/* numcodecs filters as array->array stages "numcodecs.<id>" (filter_arith.c, filter_bits.c) */
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_delta;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_fixedscaleoffset;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_quantize;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_astype;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_bitround;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_packbits;
SCOUT_HIDDEN extern const scout_stage_vtable scout__stage_filter_shuffle;

/* filter_common.c: parse dtype string `field` of config (def when absent; NULL: required);
 * big-endian multi-byte dtypes are SCOUT_EUNSUPPORTED. Errors name `what`, the filter id. */
SCOUT_HIDDEN int scout__filter_dtype(scout_dtype *out, const json_t *config, const char *field,
				     const char *def, const char *id, const char *what);
/* The typestr of t as numcodecs writes it ("<i4", "|u1"). New reference. */
SCOUT_HIDDEN json_t *scout__filter_dtype_json(scout_dtype t);
/* SCOUT_EFORMAT unless the chunk reaching the filter (in) has element type t. */
SCOUT_HIDDEN int scout__filter_input_check(const scout_chunk_spec *in, scout_dtype t,
					   const char *field, const char *id, const char *what);
/* Number of elements of a spec. */
SCOUT_HIDDEN size_t scout__spec_count(const scout_chunk_spec *s);
/* Element i of an array of type t as double / as 64-bit integer bits (sign-extended). */
SCOUT_HIDDEN double scout__elem_get_f(const void *p, scout_dtype t, size_t i);
SCOUT_HIDDEN uint64_t scout__elem_get_i(const void *p, scout_dtype t, size_t i);
/* Store v into element i of an integer (or bool) array of type t, wrapping. */
SCOUT_HIDDEN void scout__elem_set_i(void *p, scout_dtype t, size_t i, uint64_t v);

/*
 * A bytes->bytes stage around a numcodecs compressor. name: "blosc", "gzip",
 * "zstd" (Zarr v3 configurations) or "numcodecs.<id>" (numcodecs config).
 * SCOUT_ENOTFOUND (silent) for any other name.
 */
SCOUT_HIDDEN int scout__stage_numcodecs_new(scout_stage **out, const char *name,
					    const json_t *config, const scout_chunk_spec *in,
					    const char *what);

/* The numcodecs config of a numcodecs stage (new reference), NULL for other stages. */
SCOUT_HIDDEN json_t *scout__stage_numcodecs_config(const scout_stage *s);

/* The numcodecs config ({"id": ...}) of a numcodecs filter stage (new reference), else NULL. */
SCOUT_HIDDEN json_t *scout__stage_filter_config(const scout_stage *s);

/* 1 if s is a transpose reversing the axes (Fortran order). */
SCOUT_HIDDEN int scout__stage_transpose_reversed(const scout_stage *s);

/* CRC-32C (Castagnoli) of n bytes (crc32c.c). */
SCOUT_HIDDEN uint32_t scout__crc32c(const void *data, size_t n);

/* malloc a stage object of size bytes with vt and in set (SCOUT_ENOMEM recorded). */
SCOUT_HIDDEN void *scout__stage_alloc(size_t size, const scout_stage_vtable *vt,
				      const scout_chunk_spec *in);

/* {"name": name, "configuration": config} (takes config's reference; NULL config: omitted). */
SCOUT_HIDDEN json_t *scout__stage_json(const char *name, json_t *config);

#endif
