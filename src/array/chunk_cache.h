/*
 * A bounded cache of decoded chunks, shared by the threads of one array
 * handle. Not installed.
 *
 * Entries are keyed by the chunk's linear index and hold the decoded chunk
 * (native byte order, C order) plus what identified the stored chunk when it
 * was decoded: the store's version token of its key, and a hash and size of
 * its encoded bytes. The cache does not decide validity; the Zarr backend
 * does (see zarr_chunk.c).
 *
 * Structure: the cache is split into shards (up to 16, fewer when the budget
 * holds few chunks) selected by a hash of the index; each shard has a mutex,
 * a hash table and an LRU list, and evicts its least recently used entries
 * when its share of the byte budget is exceeded. Entries are reference
 * counted: a reader holds a reference while it copies out of an entry, so
 * eviction or replacement never frees data under a reader, and copies happen
 * outside the shard lock.
 */
#ifndef SCOUT_CHUNK_CACHE_H
#define SCOUT_CHUNK_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "store/store.h"

typedef struct scout_chunk_cache scout_chunk_cache;
typedef struct scout_cache_entry scout_cache_entry;

/* What identified the stored chunk an entry was decoded from. */
typedef struct {
	scout_store_version version; /* the store's token of the chunk's key */
	uint64_t enc_hash;           /* hash of the encoded bytes (scout__hash64); 0: none kept */
	size_t enc_size;             /* size of the encoded bytes */
} scout_cache_meta;

/*
 * Create a cache holding at most capacity bytes of chunks of chunk_nbytes
 * bytes each (capacity 0 gives a cache that stores nothing).
 */
SCOUT_HIDDEN int scout__cache_new(scout_chunk_cache **out, size_t capacity, size_t chunk_nbytes);
SCOUT_HIDDEN void scout__cache_free(scout_chunk_cache *cache);

/* Byte budget and bytes currently held. */
SCOUT_HIDDEN size_t scout__cache_capacity(const scout_chunk_cache *cache);
SCOUT_HIDDEN size_t scout__cache_bytes(scout_chunk_cache *cache);

/* Look an index up; a referenced entry (release it) or NULL. */
SCOUT_HIDDEN scout_cache_entry *scout__cache_get(scout_chunk_cache *cache, uint64_t index);

/* Drop a reference from scout__cache_get()/scout__cache_put(). */
SCOUT_HIDDEN void scout__cache_release(scout_chunk_cache *cache, scout_cache_entry *e);

SCOUT_HIDDEN const void *scout__cache_entry_data(const scout_cache_entry *e);

/* The entry's meta (copied out under the shard lock). */
SCOUT_HIDDEN scout_cache_meta scout__cache_entry_meta(scout_chunk_cache *cache,
						      const scout_cache_entry *e);

/* Replace an entry's meta (after re-validating it against the store). */
SCOUT_HIDDEN void scout__cache_entry_set_meta(scout_chunk_cache *cache, scout_cache_entry *e,
					      const scout_cache_meta *meta);

/*
 * Insert data (from scout__buf_alloc(chunk_nbytes)) for index, replacing any entry
 * of that index. Returns 1 when the cache took ownership of data (then, if
 * ref_out is not NULL, *ref_out is a referenced entry to release), 0 when it
 * could not keep it (budget smaller than one chunk, out of memory): the
 * caller still owns data and *ref_out is NULL. Any old entry of the index is
 * dropped in both cases.
 */
SCOUT_HIDDEN int scout__cache_put(scout_chunk_cache *cache, uint64_t index, void *data,
				  const scout_cache_meta *meta, scout_cache_entry **ref_out);

/* Forget an index. */
SCOUT_HIDDEN void scout__cache_invalidate(scout_chunk_cache *cache, uint64_t index);

/* Forget everything (entries still referenced are freed on release). */
SCOUT_HIDDEN void scout__cache_clear(scout_chunk_cache *cache);

/*
 * In a forked child: re-initialise the shard mutexes (another thread of the
 * parent may have held one at fork time) and drop every entry.
 */
SCOUT_HIDDEN void scout__cache_after_fork(scout_chunk_cache *cache);

/* 64-bit hash of a byte string (fast, not cryptographic). */
SCOUT_HIDDEN uint64_t scout__hash64(const void *data, size_t n);

#endif
