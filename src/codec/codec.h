/*
 * The codec layer: bytes <-> bytes, selected by numcodecs id and configured
 * from its JSON config (as found in .zarray's "compressor"). Not installed.
 *
 * A scout_codec is immutable after creation and safe to use from many threads
 * at once: every call uses its own codec context (blosc_decompress_ctx, ZSTD
 * contexts per call or per thread, ...), never global codec state.
 *
 * One file per codec (blosc.c, zlib.c, gzip.c, bz2.c, lzma.c, zstd.c, lz4.c,
 * none.c) each providing a scout_codec_vtable; codec.c selects by id.
 *
 * Configs follow numcodecs 0.11: missing fields take numcodecs' defaults,
 * unknown fields are refused (as numcodecs refuses unknown keyword arguments),
 * values must be JSON integers in range. blosc's cname may also be "snappy"
 * (when this c-blosc has it); zstd also takes numcodecs' later "checksum".
 *
 * Decoding is stricter than numcodecs in one way: bytes after the end of the
 * compressed stream are SCOUT_ECODEC (numcodecs ignores them for zlib, bz2,
 * lzma "alone" and blosc), except what the formats themselves allow and
 * Python reads: concatenated gzip members (with zero padding), bz2 streams,
 * xz streams (with stream padding), lzma/raw streams and zstd frames.
 * It is more lenient in another: empty chunks (0 bytes) round-trip through
 * every codec, while numcodecs 0.11 cannot decode its own empty blosc, zstd
 * and lz4 output.
 */
#ifndef SCOUT_CODEC_H
#define SCOUT_CODEC_H

#include <jansson.h>
#include <stddef.h>

#include "core/internal.h"

typedef struct scout_codec scout_codec;

/*
 * Create a codec from a numcodecs config object ({"id": "blosc", ...}).
 * config NULL or JSON null gives the "none" codec (plain copy).
 * typesize: the array's item size (blosc's shuffle needs it).
 * Unknown ids / bad parameters: SCOUT_EFORMAT naming the id or field.
 */
SCOUT_HIDDEN int scout__codec_new(scout_codec **out, const json_t *config, size_t typesize);

/* Same from JSON text ("null" or NULL text: none). Parse errors: SCOUT_EFORMAT. */
SCOUT_HIDDEN int scout__codec_new_from_text(scout_codec **out, const char *json_text,
					    size_t typesize);

SCOUT_HIDDEN void scout__codec_free(scout_codec *codec);

/* The numcodecs id ("blosc", "zlib", ...; "none" for no compressor). */
SCOUT_HIDDEN const char *scout__codec_id(const scout_codec *codec);

/*
 * The config as written to .zarray, normalised as numcodecs' get_config()
 * would give it (all fields, e.g. blosc's blocksize); JSON null for "none".
 * New reference: the caller json_decref()s it.
 */
SCOUT_HIDDEN json_t *scout__codec_config(const scout_codec *codec);

/*
 * Encode n bytes. *dst_out is malloc'd (free with free()); *dst_size_out its
 * size. Errors: SCOUT_ECODEC, SCOUT_ENOMEM; SCOUT_EFORMAT for an lzma config
 * numcodecs can decode with but not encode (format 0, preset with filters,
 * a check outside format 1, a bad "alone" filter chain).
 */
SCOUT_HIDDEN int scout__codec_encode(const scout_codec *codec, const void *src, size_t n,
				     void **dst_out, size_t *dst_size_out);

/*
 * Decode n bytes into dst, which holds exactly `expected` bytes. The decoded
 * size must be exactly `expected`: a stream that decodes to more or fewer
 * bytes, claims another size in its header, or is corrupt or truncated is
 * SCOUT_ECODEC ("decoded size 100 differs from the chunk's 4096 bytes", ...).
 * A header that claims a huge size is refused before anything is allocated.
 */
SCOUT_HIDDEN int scout__codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
				     size_t expected);

#endif
