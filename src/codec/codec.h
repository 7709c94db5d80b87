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
 * size. Errors: SCOUT_ECODEC, SCOUT_ENOMEM.
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
