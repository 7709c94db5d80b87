/*
 * The `sharding_indexed` array->bytes codec of Zarr v3 (a stage of the codec
 * pipeline, pipeline.h) and its reads by byte range. Not installed.
 *
 * Configuration: chunk_shape (the inner chunk; each extent divides the
 * shard's), codecs (the inner chain: any pipeline, another sharding_indexed
 * included), index_codecs (`bytes` little/big, optionally followed by
 * `crc32c`: the index must have a fixed size), index_location ("start" or
 * "end", default "end"). It must be the last codec of its chain (a
 * bytes->bytes codec after it would hide the index from range reads):
 * SCOUT_EUNSUPPORTED otherwise.
 *
 * As a stage, it encodes and decodes whole shards in memory:
 *  - encode: each inner chunk through the inner chain, in C order; inner
 *    chunks that hold only the fill value (byte for byte) are not stored;
 *    a shard with none stored is its index alone (all pairs empty);
 *  - decode: the index is validated (shard_index.h: every pair checked
 *    against the shard's size, the index's own bytes, the other pairs, and
 *    the largest size the inner chain can produce), then each inner chunk is
 *    decoded into its place, empty ones filled with the fill value.
 * Both run their inner chunks on the library's worker pool (core/workpool.h)
 * when a shard holds enough of them (256 KiB decoded or more) and the calling
 * thread is not a worker itself; the output is the same as in C order, and the
 * failure reported is the first inner chunk's in C order.
 * Errors name the shard's key and the inner chunk.
 *
 * Range reads (for the array layer): scout__shard_load_index() reads only the
 * index (a prefix or suffix range), scout__shard_read_inner() only the inner
 * chunks a box needs, in coalesced ranges. Each range read is checked to come
 * from the same version of the shard as the index (store version tokens); a
 * shard replaced in between (or whose token is weak) is read whole, once, so
 * a reader never mixes two versions.
 */
#ifndef SCOUT_SHARDING_H
#define SCOUT_SHARDING_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"
#include "shard_index.h"
#include "store/store.h"

typedef struct scout_shard_codec scout_shard_codec;

/*
 * The sharding codec of a pipeline whose only active codec is
 * sharding_indexed (array->array codecs before it that change nothing
 * allowed), else NULL: then the array's chunks are read whole.
 */
SCOUT_HIDDEN const scout_shard_codec *scout__pipeline_shard_codec(const scout_pipeline *p);

/* The index layout (inner-chunk grid per shard, index codecs and location). */
SCOUT_HIDDEN const scout_shard_layout *scout__shard_codec_layout(const scout_shard_codec *c);

/* The inner chunk shape (ndim extents) and its decoded size in bytes. */
SCOUT_HIDDEN const int64_t *scout__shard_codec_inner_shape(const scout_shard_codec *c);
SCOUT_HIDDEN size_t scout__shard_codec_inner_nbytes(const scout_shard_codec *c);

/* The pipeline of the inner chunks. */
SCOUT_HIDDEN const scout_pipeline *scout__shard_codec_inner(const scout_shard_codec *c);

/*
 * Read and validate the index of shard `key`: *entries_out (malloc'd, count
 * entries; free()), *ver_out the version token the index came from (its size
 * the shard's). SCOUT_ENOTFOUND (silent) when the shard is absent; other
 * errors (SCOUT_EFORMAT, SCOUT_EIO, ...) name the key.
 */
SCOUT_HIDDEN int scout__shard_load_index(scout_shard_entry **entries_out,
					 scout_store_version *ver_out, const scout_shard_codec *c,
					 const scout_store *store, const char *key);

/*
 * Decode inner chunks wanted[0..n) (C-order indices in the shard) of shard
 * `key`, whose index `entries` was read at version `ver`, into dst[i]
 * (scout__shard_codec_inner_nbytes() each; empty inner chunks get the fill
 * value). Ranges within `gap` bytes of each other are read as one. When a
 * range comes from another version of the shard than the index (the shard
 * was replaced) or ver is weak, the whole shard is read once instead, its
 * index decoded again, and *ver / entries updated to what was read.
 * Errors name the key and the inner chunk.
 */
SCOUT_HIDDEN int scout__shard_read_inner(const scout_shard_codec *c, const scout_store *store,
					 const char *key, scout_shard_entry *entries,
					 scout_store_version *ver, const uint64_t *wanted, size_t n,
					 void *const *dst, uint64_t gap);

/*
 * Encode a whole shard (c's array at src) as the stage does, the result in
 * pooled memory: give it back with scout__buf_free(*dst_out, *dst_size_out)
 * (core/bufpool.h). For the array layer's shard writes: a shard of MiBs from
 * malloc is a fresh mapping, faulted in and unmapped again, every time.
 */
SCOUT_HIDDEN int scout__shard_encode_pooled(const scout_shard_codec *c, const void *src,
					    void **dst_out, size_t *dst_size_out);

/* Receives decoded inner chunk wanted[i] (inner_nbytes at chunk, valid during the call only). */
typedef void (*scout_shard_sink)(void *payload, size_t i, const void *chunk);

/*
 * scout__shard_read_inner() handing each decoded inner chunk to sink (no
 * buffer per inner chunk kept: for reads not cached). The inner chunks are
 * decoded on the library's worker pool when there are enough of them, so sink
 * may run on several threads at once, each call with its own i and buffer.
 * On an error, the chunks handed over so far may come from a version of the
 * shard the caller must not mix with others: it reads again or fails.
 */
SCOUT_HIDDEN int scout__shard_read_inner_sink(const scout_shard_codec *c, const scout_store *store,
					      const char *key, scout_shard_entry *entries,
					      scout_store_version *ver, const uint64_t *wanted,
					      size_t n, scout_shard_sink sink, void *payload,
					      uint64_t gap);

/* The most bytes the inner chain can encode one inner chunk to (a bound for the index check). */
SCOUT_HIDDEN uint64_t scout__pipeline_max_encoded(const scout_pipeline *p);

#endif
