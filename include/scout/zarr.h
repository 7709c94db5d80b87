/**
 * @file scout/zarr.h
 * @brief Zarr v2 and v3 arrays on a filesystem, byte-exact with zarr-python.
 */
#ifndef SCOUT_ZARR_H
#define SCOUT_ZARR_H

#include "array.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of scout_zarr_create(). Initialise with SCOUT_ZARR_OPTIONS_INIT. */
typedef struct {
	unsigned int version;
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	int64_t chunks[SCOUT_MAX_NDIM]; /**< all 0: 64 on every axis, not clipped to the
					   shape (as SCOUT and zarr-python) */
	const char *dtype;              /**< numpy typestr, e.g. "<u2", ">f8", "|b1" */
	const char *compressor;         /**< numcodecs config as JSON; NULL: SCOUT's default
					   {"id":"blosc","cname":"zstd","clevel":1,"shuffle":2};
					   "null": no compressor */
	char order;                     /**< 'C' (default when 0) or 'F' */
	char dimension_separator;       /**< '/' (default when 0, as SCOUT) or '.' */
	const char *fill_value;         /**< JSON text; NULL: 0. Complex dtypes take
					   [re, im] or a real scalar (imaginary part 0), as
					   zarr-python */
	int overwrite;                  /**< replace an existing array at path */
	/* version 2 */
	int zarr_format;    /**< 0 or 2: Zarr v2 (.zarray), SCOUT's format; 3: Zarr v3 */
	const char *codecs; /**< v3: the codec chain as a JSON list ("[{\"name\":
			       \"bytes\", ...}, ...]"); NULL: "bytes" (endian from
			       dtype) followed by `compressor` in v3 form (blosc, gzip,
			       zstd; other numcodecs ids as "numcodecs.<id>"), and when
			       that is NULL too, SCOUT's default as bytes + blosc */
	const char *chunk_key_encoding; /**< v3: "default" (NULL: c/1/2/3) or "v2" (1/2/3) */
	const char *dimension_names;    /**< v3: JSON list of names (strings or null), or NULL */
	/* version 3 */
	int64_t shards[SCOUT_MAX_NDIM]; /**< v3: all 0: unsharded; else the shard shape, each a
					   multiple of `chunks`, which are then the inner
					   chunks: the codecs become one sharding_indexed
					   codec holding the chain (index: bytes little +
					   crc32c) */
	const char *index_location;     /**< v3 sharded: "end" (default when NULL) or "start" */
	/* version 4 */
	const char *filters; /**< v2: the numcodecs filters as a JSON list of configs
				(e.g. "[{\"id\": \"delta\", \"dtype\": \"<i4\"}]"), applied in
				order before the compressor as zarr-python does; written
				normalised as numcodecs' get_config(). Supported: delta,
				fixedscaleoffset, quantize, astype, bitround, packbits,
				shuffle, on little-endian (or 1-byte) dtypes. NULL, "null"
				or "[]": none. v3 takes filters in `codecs` instead
				("numcodecs.<id>" array->array codecs). */
} scout_zarr_options;

#define SCOUT_ZARR_OPTIONS_VERSION 4
#define SCOUT_ZARR_OPTIONS_INIT                                                                    \
	{                                                                                          \
		SCOUT_ZARR_OPTIONS_VERSION, 0, {0}, {0}, NULL, NULL, 'C', '/', NULL, 0, 0, NULL,   \
		    NULL, NULL, {0}, NULL, NULL                                                    \
	}

/**
 * Create a Zarr array directory at path and open it for reading and writing:
 * Zarr v2 (.zarray written as zarr-python 2 does: indent 4, sorted keys) or,
 * with zarr_format 3, Zarr v3 (zarr.json as zarr-python 3 writes it: indent
 * 2, its key order). Options of version 1 (without the v3 fields), 2
 * (without shards) and 3 (without filters) are accepted; version 1 creates v2.
 *
 * Defaults (fields left 0 / NULL): chunks 64 on every axis, not clipped to the
 * shape (a 40x70x90 array gets 64x64x64 chunks, as SCOUT and zarr-python
 * write it), SCOUT's compressor (blosc zstd 1 bitshuffle),
 * order 'C' (v3: 'F' adds a transpose codec in front of the default chain),
 * separator '/', fill value 0. Missing parent directories of path are created.
 *
 * @param out  receives the handle; free with scout_array_free()
 * @param path the array directory
 * @param opts options (NULL: defaults, which need ndim/shape/dtype so NULL is EINVAL)
 * With shards (Zarr v3 only), the array is sharded: zarr.json's chunk grid is
 * the shards and its codecs one sharding_indexed codec whose inner chunks are
 * `chunks` and whose inner chain is what `codecs` / `compressor` give; the
 * handle reads by inner chunk and writes whole shards (scout_array_chunks(),
 * scout_array_write_chunks()).
 *
 * @return SCOUT_OK, SCOUT_EINVAL (bad ndim, shape, chunks, order, separator,
 *         version, shards not multiples of chunks or without zarr_format 3,
 *         index_location), SCOUT_EFORMAT (bad dtype, codec, fill value), SCOUT_EOVERFLOW,
 *         SCOUT_EIO (path exists and overwrite is 0, or a write failed)
 */
SCOUT_API int scout_zarr_create(scout_array **out, const char *path,
				const scout_zarr_options *opts);

/**
 * Create a Zarr v2 group directory (a .zgroup file holding {"zarr_format": 2}),
 * with missing parents. An existing group is left as it is.
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EIO
 */
SCOUT_API int scout_zarr_group_create(const char *path);

/**
 * Create a Zarr group of a given format: 2 (or 0) as scout_zarr_group_create(),
 * 3: a zarr.json with node_type "group" as zarr-python 3 writes it. Missing
 * parents are created; an existing group is left as it is.
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EIO
 */
SCOUT_API int scout_zarr_group_create_format(const char *path, int zarr_format);

/**
 * Describe the Zarr group (v2 or v3) at path as JSON text: {"path", "kind":
 * "group", "zarr_format", "attributes", "consolidated", "members"}.
 * "members" lists every descendant sorted by relative path ('/'
 * separators), each {"path", "node_type": "array" | "group"}, arrays also
 * with "shape", "chunks", "dtype_name" and "codecs" (the chain in v3 form),
 * or with "error" (the message) when scout cannot read the array's metadata
 * (e.g. a string data type, a 0-d array): the rest of the tree is listed.
 * Members come from the group's consolidated metadata when it has some (v2
 * .zmetadata, v3 "consolidated_metadata"; then "consolidated" is true), else
 * from walking the directory. Groups written by zarr-python, GDAL and
 * netCDF-C (NCZarr) are v2 groups with .zgroup files.
 * @param json_out receives the text; free with scout_free()
 * @return SCOUT_OK, SCOUT_ENOTFOUND (not a group), SCOUT_EFORMAT (bad
 *         metadata, naming the file and field), SCOUT_EIO, SCOUT_ENOMEM
 */
SCOUT_API int scout_zarr_group_describe(char **json_out, const char *path);

/**
 * Write the consolidated metadata of the group at path, as zarr-python does:
 * v2: .zmetadata ({"metadata": {key: document}, "zarr_consolidated_format":
 * 1}) with every .zgroup, .zarray and .zattrs below; v3: the group's
 * zarr.json gains "consolidated_metadata": {"kind": "inline",
 * "must_understand": false, "metadata": {path: zarr.json document}}.
 * @return SCOUT_OK, SCOUT_ENOTFOUND (not a group), SCOUT_EFORMAT, SCOUT_EIO
 */
SCOUT_API int scout_zarr_consolidate(const char *path);

/**
 * Remove the temporary files that interrupted writes left under a Zarr array
 * or hierarchy. Every chunk, shard and metadata write goes to a temporary
 * beside its key and is renamed into place; a writer killed by SIGKILL (or a
 * crash) between the two leaves the temporary behind. Readers never see it,
 * but it takes space and would be copied with the directory. `scout convert
 * --resume` and `scout blur --resume` call this before they continue.
 * Only call it while nothing writes under path: a live writer's temporary
 * would be removed under it (its write then fails, the old value stays).
 * @param path        the array or group directory
 * @param removed_out receives how many files were removed (may be NULL)
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EIO (naming the file)
 */
SCOUT_API int scout_zarr_remove_temporaries(const char *path, size_t *removed_out);

/**
 * The metadata of a Zarr array (v2 or v3) as one JSON object (text):
 * "zarr_format" (2 or 3), "dtype" (the stored numpy typestr, e.g. ">u2"),
 * "data_type" (the v3 name, e.g. "uint16"), "fill_value", "codecs" (the codec
 * chain as a v3 list, also for v2 arrays: order F -> transpose, byte order ->
 * bytes, compressor -> blosc/gzip/zstd or "numcodecs.<id>"),
 * "chunk_key_encoding" (as in zarr.json; v2: {"name": "v2", "configuration":
 * {"separator": ...}}), "dimension_names" (list or null), "order", and the
 * v2-style "compressor" (numcodecs config or null; for v3 the single
 * compressor of the chain when it has a numcodecs equivalent), "filters",
 * "dimension_separator".
 * @param json_out receives the text; free with scout_free()
 * @return SCOUT_OK, SCOUT_EINVAL (not a Zarr array), SCOUT_ENOMEM
 */
SCOUT_API int scout_zarr_metadata(char **json_out, const scout_array *arr);

/**
 * The array's attributes as JSON text (v2: its .zattrs; v3: "attributes" of
 * its zarr.json), "{}" when it has none.
 * @param json_out receives the text; free with scout_free()
 * @return SCOUT_OK, SCOUT_EINVAL (not a Zarr array), SCOUT_EFORMAT, SCOUT_EIO
 */
SCOUT_API int scout_array_attrs_get(char **json_out, scout_array *arr);

/**
 * Replace the array's attributes (v2: .zattrs, written atomically, indent 4
 * and sorted keys as zarr-python; v3: the "attributes" of zarr.json, which is
 * rewritten atomically).
 * @param json a JSON object as text
 * @return SCOUT_OK, SCOUT_EINVAL, SCOUT_EFORMAT (not a JSON object), SCOUT_EREADONLY, SCOUT_EIO
 */
SCOUT_API int scout_array_attrs_set(scout_array *arr, const char *json);

/** What a sharded Zarr v3 array stores (scout_zarr_shard_info_get()). */
typedef struct {
	unsigned int version;
	int sharded;                    /**< 0: not sharded (the other fields are 0) */
	int64_t shards[SCOUT_MAX_NDIM]; /**< the shard shape (scout_array_write_chunks()) */
	uint64_t shards_total;          /**< shards in the grid */
	uint64_t shards_stored;         /**< shard objects present in the store */
	uint64_t inner_total;           /**< inner chunks in the stored shards' indexes */
	uint64_t inner_stored;          /**< of which stored (not the empty pair) */
	uint64_t index_bytes;           /**< bytes of all stored shards' indexes */
} scout_zarr_shard_info;

#define SCOUT_ZARR_SHARD_INFO_VERSION 1

/**
 * Count what a sharded array stores, reading every stored shard's index
 * (only the index: a byte range per shard). Not sharded: out->sharded 0.
 * @param out receives it (its version is set to SCOUT_ZARR_SHARD_INFO_VERSION)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL or not a Zarr array), SCOUT_EFORMAT (a
 *         bad index, naming the shard), SCOUT_EIO
 */
SCOUT_API int scout_zarr_shard_info_get(scout_zarr_shard_info *out, scout_array *arr);

/** Default byte budget of a Zarr handle's decoded-chunk cache (256 MiB). */
#define SCOUT_ZARR_CACHE_DEFAULT ((size_t)256 << 20)

/**
 * Set the byte budget of the handle's decoded-chunk cache (0 disables it).
 *
 * Every Zarr handle keeps recently decoded chunks, shared by all its threads,
 * so that reads touching a chunk again (ghosted reads of neighbouring chunks)
 * do not decode it again. Entries are checked against the chunk file on every
 * use (its inode, size, times, and when those cannot be trusted because the
 * file is very recent, a hash of its encoded bytes), so the cache stays
 * correct when other handles or processes rewrite chunks. The environment
 * variable SCOUT_ZARR_CACHE (bytes) sets the default for new handles.
 *
 * Empties the cache. Must not be called while other threads use the handle.
 * @return SCOUT_OK, SCOUT_EINVAL (not a Zarr array), SCOUT_ENOMEM
 */
SCOUT_API int scout_zarr_set_cache_size(scout_array *arr, size_t bytes);

/** Counters of a Zarr handle (this process only; forked workers count their own). */
typedef struct {
	unsigned int version;
	uint64_t chunks_read;    /**< chunk files read from the store */
	uint64_t chunks_decoded; /**< chunks decoded by the codec */
	uint64_t chunks_absent;  /**< chunk lookups that found no chunk (fill value) */
	uint64_t cache_hits;     /**< chunk uses served by the cache */
	uint64_t cache_misses;   /**< chunk uses the cache could not serve */
	uint64_t chunks_written; /**< chunks encoded and written */
	size_t cache_bytes;      /**< bytes held by the cache now */
	size_t cache_capacity;   /**< its budget */
} scout_zarr_stats;

#define SCOUT_ZARR_STATS_VERSION 1

/**
 * Read the handle's counters.
 * @param out receives them (its version is set to SCOUT_ZARR_STATS_VERSION)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL or not a Zarr array)
 */
SCOUT_API int scout_zarr_stats_get(scout_zarr_stats *out, const scout_array *arr);

/**
 * Set the handle's counters to zero (the cache keeps its entries).
 * @return SCOUT_OK, SCOUT_EINVAL
 */
SCOUT_API int scout_zarr_stats_reset(scout_array *arr);

/** scout_zarr_copy_box() flag: copy stored chunks without decoding them first. */
#define SCOUT_ZARR_COPY_NO_VERIFY 1u

/**
 * 1 when scout_zarr_copy_box() can copy src's stored chunks into dst as they
 * are: both are Zarr arrays (v2 or v3) of the same shape and dtype, src is not
 * sharded, dst's chunks (its inner chunks when sharded) equal src's chunks,
 * both chains are the same codecs with the same configurations (compared in
 * their normalised v3 form) and both fill values are the same. 0 otherwise
 * (or for NULL arguments).
 */
SCOUT_API int scout_zarr_copy_raw_possible(const scout_array *dst, const scout_array *src);

/**
 * Copy box [start, stop) of src into dst (same shape and dtype).
 *
 * When scout_zarr_copy_raw_possible(dst, src), each cell of dst's write grid
 * (a chunk, or a shard when dst is sharded) that the box covers whole
 * (clipped to the array) is made of src's stored chunk bytes, without
 * encoding them again: a rechunk into shards, or a copy with the same codec,
 * costs reading and writing the compressed bytes. Each chunk copied is
 * decoded once into scratch memory first, so a corrupt source chunk is an
 * error naming its file, as a decoding copy would report it; with
 * SCOUT_ZARR_COPY_NO_VERIFY it is not (for callers that decoded it already).
 * A chunk absent from src is absent from dst afterwards (it reads as the
 * fill value; a shard of only such chunks is removed); into a sharded dst,
 * a verified chunk of only the fill value is not stored either, as its
 * writes do. Writes are atomic per
 * cell and take the cell's lock, as scout_insert_box() does.
 *
 * Otherwise, and for cells the box covers in part, the values go through
 * scout_extract_box() and scout_insert_box().
 *
 * @param raw_out receives the number of cells copied as stored bytes (may be NULL)
 * @param flags 0 or SCOUT_ZARR_COPY_NO_VERIFY
 * @return SCOUT_OK, SCOUT_EINVAL (NULL, shapes or dtypes differ), SCOUT_EBOUNDS
 *         (a box outside the array), SCOUT_EREADONLY, errors of the reads and
 *         writes (naming the array and chunk)
 */
SCOUT_API int scout_zarr_copy_box(size_t *raw_out, scout_array *dst, scout_array *src,
				  const int64_t *start, const int64_t *stop, unsigned flags);

/*
 * Writes are synchronous: scout_insert_box() returns after every chunk it
 * touched has been renamed into place, so there is nothing to flush.
 * Partial-chunk writes read, merge and rewrite the chunk under a per-chunk
 * lock that excludes threads (striped mutexes) and processes (OFD byte-range
 * locks on `<array>/.scout.lock`): concurrent writers of disjoint boxes that
 * share chunks never lose each other's updates.
 */

#ifdef __cplusplus
}
#endif

#endif
