/*
 * Inside the Zarr backend of scout_array (v2 and v3): the handle's state and
 * the functions its files share. Not installed.
 *
 *   zarr_open.c   discovery, open, create, attributes, cache size, counters
 *   zarr_chunk.c  one chunk: key, store, codec pipeline, decoded-chunk cache,
 *                 chunk locks (read and write, each thread-safe)
 *   zarr_box.c    a box: the loop over the chunks it touches
 *   zarr_shard.c  a box of a sharded array: read by byte range, whole-shard writes
 *   zarr_copy.c   a box copied from another Zarr array, as stored bytes when possible
 */
#ifndef SCOUT_ZARR_IMPL_H
#define SCOUT_ZARR_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "array_impl.h"
#include "chunk_cache.h"
#include "chunk_lock.h"
#include "codec/pipeline.h"
#include "codec/sharding.h"
#include "format/chunk_key.h"
#include "format/zarr_meta.h"
#include "scout/zarr.h"
#include "store/store.h"

#define SCOUT_ZARR_KEY_MAX        1024
#define SCOUT_ZARR_DECODE_STRIPES 64

typedef struct {
	char *path;
	scout_store *store;
	scout_zarr_meta meta;
	scout_pipeline *pipeline;
	scout_key_encoding keys; /* separator resolved */
	char meta_key[16];       /* ".zarray" or "zarr.json" */
	size_t chunk_nelems, chunk_nbytes;
	int64_t grid[SCOUT_MAX_NDIM];
	/* sharded arrays (codecs = [sharding_indexed]): arr->chunks is the inner chunk,
	   arr->write_chunks the shard, grid the shard grid; else shard is NULL */
	const scout_shard_codec *shard;
	int64_t inner_grid[SCOUT_MAX_NDIM]; /* inner chunks along each axis of the array */
	size_t shard_nbytes;                /* a decoded shard */
	scout_chunk_cache *cache;
	scout_chunk_locks *locks;
	pthread_mutex_t decode_mu[SCOUT_ZARR_DECODE_STRIPES];
	int decode_mu_init;
	uint64_t n_read, n_decoded, n_absent, n_hits, n_misses, n_written;
} scout_zarr_impl;

#define SCOUT_ZARR_COUNT(z, field) __atomic_fetch_add(&(z)->field, 1, __ATOMIC_RELAXED)

/* A decoded chunk being used: from the cache (entry) or a private buffer (owned). */
typedef struct {
	const void *data;
	scout_cache_entry *entry;
	void *owned;
	int absent; /* the chunk is not stored: it reads as the fill value */
} scout_chunk_view;

/* The part of a box that falls in one chunk, for a write. */
typedef struct {
	const void *src;
	const int64_t *sshape; /* shape of the source box */
	int64_t soff[SCOUT_MAX_NDIM];
	int64_t doff[SCOUT_MAX_NDIM]; /* where the part goes in the chunk */
	int64_t ext[SCOUT_MAX_NDIM];
	int full; /* the part covers the whole chunk (clipped to the array) */
	int edge; /* the chunk sticks out of the array */
} scout_chunk_part;

/* The linear index of chunk idx in the grid (C order). */
SCOUT_HIDDEN uint64_t scout__zarr_linear_index(const scout_zarr_impl *z, int ndim,
					       const int64_t *idx);

/*
 * Get chunk idx. With `into` (chunk_nbytes, the caller's), the chunk is
 * decoded or copied there and not added to the cache (v->absent tells
 * whether it is stored); without, *v receives a view (a cached entry, or an
 * owned buffer when the cache is off) to release with
 * scout__zarr_view_release(). Thread-safe; errors name the array and key.
 */
SCOUT_HIDDEN int scout__zarr_chunk_read(const scout_array *arr, const int64_t *idx, void *into,
					scout_chunk_view *v);
SCOUT_HIDDEN void scout__zarr_view_release(const scout_array *arr, scout_chunk_view *v);

/*
 * Tests: make every parallel box read take g chunks per item along the last
 * axis (zarr_box.c's read_group; 1: one chunk per item), 0 restores the choice
 * by row length.
 */
SCOUT_HIDDEN void scout__zarr_set_read_group(int64_t g);

/*
 * Write part p of a box into chunk idx under the chunk's lock (merging with
 * what is stored when p does not cover the chunk), atomically, keeping the
 * cache coherent. Thread-safe, and safe across processes.
 */
SCOUT_HIDDEN int scout__zarr_chunk_write(const scout_array *arr, const int64_t *idx,
					 const scout_chunk_part *p);

/*
 * 1 when the region of extents ext in a C-order array of shape `shape` is one
 * contiguous run wherever it starts: every axis before the first one longer
 * than 1 has extent 1 and every axis after it is whole (zarr_box.c).
 */
SCOUT_HIDDEN int scout__zarr_region_contiguous(const int64_t *shape, const int64_t *ext, int nd);
/* Box read and write of a sharded array (zarr_shard.c). */
SCOUT_HIDDEN int scout__zarr_shard_read_box(scout_array *arr, void *dst, const int64_t *start,
					    const int64_t *stop);
SCOUT_HIDDEN int scout__zarr_shard_write_box(scout_array *arr, const int64_t *start,
					     const int64_t *stop, const void *src);

/* Drop the cached inner chunks of shard s (its index in the shard grid) (zarr_shard.c). */
SCOUT_HIDDEN void scout__zarr_shard_invalidate(const scout_array *arr, const int64_t *s);

/* The Zarr state of arr, or NULL when arr is not a Zarr array (zarr_open.c). */
SCOUT_HIDDEN scout_zarr_impl *scout__zarr_impl(const scout_array *arr);

/* scout_zarr_shard_info_get() of a Zarr handle (zarr_shard.c). */
SCOUT_HIDDEN int scout__zarr_shard_info(scout_zarr_shard_info *out, scout_array *arr);

/* scout_array_ops read and write of the backend (zarr_box.c). */
SCOUT_HIDDEN int scout__zarr_read_box(scout_array *arr, void *dst, const int64_t *start,
				      const int64_t *stop);
SCOUT_HIDDEN int scout__zarr_write_box(scout_array *arr, const int64_t *start, const int64_t *stop,
				       const void *src);

#endif
