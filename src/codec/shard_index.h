/*
 * The index of a `sharding_indexed` shard (Zarr v3 sharding codec), and the
 * layout of a whole shard: pure functions on bytes in memory, no store and no
 * inner codecs. Not installed.
 *
 * A shard holds the inner chunks of a grid of `grid[0] x ... x grid[n-1]`
 * inner chunks (shard shape / inner chunk shape along each axis). Its index
 * is one (offset, nbytes) pair of uint64 per inner chunk, in C order of the
 * inner-chunk grid (the array of shape grid + [2] of the spec), encoded by
 * the index codecs: `bytes` (little or big endian) and optionally `crc32c`
 * (4 bytes, little endian, CRC-32C of the 16 x count bytes before it). The
 * index sits at the start or at the end of the shard; offsets count from the
 * shard's first byte wherever the index is. The pair (2^64-1, 2^64-1) marks
 * an empty inner chunk (read as the fill value).
 *
 * The checksum function is passed in the layout (the crc32c codec's, so the
 * index and the chunks use one implementation); NULL when the index codecs
 * have no crc32c.
 */
#ifndef SCOUT_SHARD_INDEX_H
#define SCOUT_SHARD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define SCOUT_SHARD_EMPTY UINT64_MAX /* both fields of an empty inner chunk's pair */

typedef struct {
	uint64_t offset;
	uint64_t nbytes;
} scout_shard_entry;

typedef struct {
	int ndim;
	int64_t grid[SCOUT_MAX_NDIM]; /* inner chunks per shard along each axis */
	uint64_t count;               /* their product: entries in the index */
	int big_endian;               /* the index's `bytes` codec */
	int at_start;                 /* index_location "start" (default "end") */
	/* crc32c of the index codecs, or NULL when they have none */
	uint32_t (*crc32c)(const void *data, size_t n);
} scout_shard_layout;

/*
 * Fill a layout from the shard shape and the inner chunk shape (ndim axes).
 * Errors (SCOUT_EFORMAT naming `what`): ndim out of 1..SCOUT_MAX_NDIM, a
 * non-positive extent, an inner chunk extent that does not divide the shard's;
 * SCOUT_EOVERFLOW when the index would not fit in memory (count x 16 + 4
 * bytes beyond SIZE_MAX or INT64_MAX).
 */
SCOUT_HIDDEN int scout__shard_layout_init(scout_shard_layout *layout, int ndim,
					  const int64_t *shard_shape, const int64_t *inner_shape,
					  int big_endian, int at_start,
					  uint32_t (*crc32c)(const void *, size_t),
					  const char *what);

/* Size in bytes of the encoded index: 16 x count, + 4 with crc32c. */
SCOUT_HIDDEN size_t scout__shard_index_nbytes(const scout_shard_layout *layout);

/* The inner chunk coordinates (within the shard) of C-order index i. */
SCOUT_HIDDEN void scout__shard_inner_coords(int64_t *coords, const scout_shard_layout *layout,
					    uint64_t i);

/*
 * Decode and validate an encoded index (idx: n bytes, as read from the
 * shard's start or end) into entries[count], for a shard of shard_size bytes
 * whose key is shard_key (messages only). max_nbytes bounds the encoded size
 * of one inner chunk (what its codecs could ever produce; UINT64_MAX: no
 * bound). Errors, all SCOUT_EFORMAT naming the shard key (and the inner
 * chunk's coordinates in the shard where one is at fault):
 *   - the shard is shorter than its index (truncated), or n differs from
 *     scout__shard_index_nbytes() (an index shorter than required);
 *   - the crc32c of the index does not match;
 *   - a pair with exactly one field 2^64-1;
 *   - offset, or offset + nbytes (overflow-safe), beyond the shard;
 *   - nbytes above max_nbytes;
 *   - a non-empty range overlapping the index's own bytes;
 *   - two ranges that overlap without being the same range (a read would
 *     depend on which one is right). Identical pairs are allowed: a writer
 *     may store two equal inner chunks once.
 * Ranges of 0 bytes overlap nothing (the inner codecs reject them on decode).
 * Empty pairs are valid and mean "fill value".
 */
SCOUT_HIDDEN int scout__shard_index_decode(scout_shard_entry *entries, const void *idx, size_t n,
					   const scout_shard_layout *layout, uint64_t shard_size,
					   uint64_t max_nbytes, const char *shard_key);

/*
 * Encode entries[count] into dst (scout__shard_index_nbytes() bytes), with
 * the crc32c when the layout has one.
 */
SCOUT_HIDDEN void scout__shard_index_encode(void *dst, const scout_shard_entry *entries,
					    const scout_shard_layout *layout);

/* A contiguous byte range of a shard to fetch. */
typedef struct {
	uint64_t offset;
	uint64_t nbytes;
} scout_byte_range;

/*
 * Plan the reads of the inner chunks wanted[0..nwanted) (C-order indices into
 * entries, any order, repeats allowed) of a decoded index: the byte ranges to
 * fetch, sorted by offset and disjoint, where inner chunks whose bytes lie
 * within `gap` bytes of each other share one range (gap 0: only touching or
 * overlapping ranges merge). *ranges_out is malloc'd (free(); NULL when no
 * wanted chunk is stored), *nranges_out its length. range_of[i] (nwanted
 * slots) receives the range holding wanted[i]'s bytes, which start
 * entries[wanted[i]].offset - range.offset bytes into it; SIZE_MAX for an
 * empty inner chunk (fill value). The entries must have passed
 * scout__shard_index_decode(). Errors: SCOUT_EINVAL for an index >= count,
 * SCOUT_ENOMEM.
 */
SCOUT_HIDDEN int scout__shard_plan_reads(scout_byte_range **ranges_out, size_t *nranges_out,
					 size_t *range_of, const scout_shard_entry *entries,
					 uint64_t count, const uint64_t *wanted, size_t nwanted,
					 uint64_t gap);

/*
 * Lay out a shard: chunks[i] / sizes[i] are the encoded bytes of inner chunk
 * i (C order), chunks[i] NULL for an inner chunk that is not stored (all fill
 * value: its pair is the empty one). Inner chunks follow each other in C
 * order after the index (at_start) or from byte 0 with the index after them
 * (at end). *shard_out is malloc'd (free()), *size_out its size; when no inner
 * chunk is stored, *shard_out is NULL and *size_out 0: the shard need not be
 * stored at all (it reads as the fill value). entries_out (may be NULL;
 * count slots) receives the index written.
 * Errors: SCOUT_EOVERFLOW (sizes add up beyond SIZE_MAX), SCOUT_ENOMEM.
 */
SCOUT_HIDDEN int scout__shard_assemble(void **shard_out, size_t *size_out,
				       scout_shard_entry *entries_out, const void *const *chunks,
				       const size_t *sizes, const scout_shard_layout *layout);

/* scout__shard_assemble() with *shard_out from the buffer pool: scout__buf_free(*shard_out,
 * *size_out). */
SCOUT_HIDDEN int scout__shard_assemble_pooled(void **shard_out, size_t *size_out,
					      scout_shard_entry *entries_out,
					      const void *const *chunks, const size_t *sizes,
					      const scout_shard_layout *layout);

#endif
