/*
 * The store layer: a key/value store behind a vtable. Not installed.
 *
 * Layers above (format, array) only see keys and values; the filesystem store
 * (fs_store.c) is the first implementation, an HTTP or object store would be
 * one more file providing a scout_store_vtable.
 *
 * A key is a relative path with '/' separators ("c/0/1/2", ".zarray",
 * "a/b/zarr.json"); it may not be empty, absolute, or contain "." / ".."
 * components or empty components. Keys are opaque here: how chunk indices
 * become keys is the format layer's business (format/chunk_key.h).
 *
 * Operations:
 * - get: the whole value of a key. An absent key is SCOUT_ENOTFOUND, cheaply
 *   and without touching the thread's error message (so callers that treat
 *   absence as normal, e.g. missing chunks, pay nothing).
 * - get_range: part of a value: `length` bytes from `offset`, or with
 *   SCOUT_STORE_SUFFIX the last `length` bytes (sharding reads its index so).
 *   A range past the end is cut at the end.
 * - head: the version token of a key without reading it.
 * - set: atomic. A reader sees the old value or the new one, never part of
 *   one (filesystem: temporary file in the key's directory, optional fsync,
 *   rename; see fs_store.c).
 * - delete: one key (absent: SCOUT_ENOTFOUND, silent); delete_prefix: every
 *   key under a prefix ("": the whole store, including its root directory).
 * - list: every key under a prefix, sorted; list_dir: the direct children of
 *   a prefix (a "directory" path, "" for the root) as names relative to it,
 *   a name ending in '/' for a child holding further keys; sorted.
 *
 * Version tokens: get, head and set report an opaque token identifying the
 * version of the value they saw, so a cache can tell whether a key still
 * holds what it decoded earlier. The filesystem store builds it from the
 * file's inode, device, size, mtime and ctime (a set always renames a new
 * inode in), an object store would use its ETag. Since a new file may reuse a
 * freed inode within one timestamp tick, a token also says whether it is
 * `strong`: equal strong tokens mean the same value; equal weak ones (a file
 * younger than 200 ms when it was observed) only probably do, and a cache
 * must compare the bytes too.
 */
#ifndef SCOUT_STORE_H
#define SCOUT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "store_fault.h"

typedef struct scout_store scout_store;

/* An opaque version token of a key's value (see above). */
typedef struct {
	unsigned char data[48]; /* compared over len bytes */
	unsigned char len;
	unsigned char strong; /* 1: equal tokens mean equal values */
	int64_t size;         /* the whole value's size in bytes (-1: unknown); not compared */
} scout_store_version;

#define SCOUT_STORE_FSYNC  1 /* fsync each written value (and its directory) before renaming */
#define SCOUT_STORE_CREATE 2 /* create the root (with missing parents) when it does not exist */

#define SCOUT_STORE_SUFFIX (-1) /* get_range: `length` is a suffix length */

/* What a store implementation provides (every function is required but get_range_into). */
typedef struct {
	const char *name; /* "file", ... */
	int (*get)(const scout_store *s, const char *key, void **data_out, size_t *size_out,
		   scout_store_version *ver_out);
	int (*get_range)(const scout_store *s, const char *key, int64_t offset, uint64_t length,
			 void **data_out, size_t *size_out, scout_store_version *ver_out);
	/* optional: get_range into the caller's buffer (see scout__store_get_range_into) */
	int (*get_range_into)(const scout_store *s, const char *key, int64_t offset,
			      uint64_t length, void *buf, size_t cap, size_t *size_out,
			      scout_store_version *ver_out);
	int (*head)(const scout_store *s, const char *key, scout_store_version *ver_out);
	int (*set)(const scout_store *s, const char *key, const void *data, size_t size,
		   scout_store_version *ver_out);
	int (*del)(const scout_store *s, const char *key);
	int (*delete_prefix)(const scout_store *s, const char *prefix);
	int (*list)(const scout_store *s, const char *prefix, char ***keys_out, size_t *count_out);
	int (*list_dir)(const scout_store *s, const char *prefix, char ***names_out,
			size_t *count_out);
	int (*exists)(const scout_store *s); /* 1 when the root exists at all, 0, or < 0 */
	/* remove the temporaries of interrupted sets (see scout__store_sweep) */
	int (*sweep)(const scout_store *s, size_t *removed_out);
	void (*destroy)(scout_store *s);
} scout_store_vtable;

/* Every store object starts with this header. */
struct scout_store {
	const scout_store_vtable *vt;
	char *root; /* what the store was opened on (a directory, a URL), for messages */
};

/*
 * Open the filesystem store rooted at directory root (which need not exist
 * yet: writes create it). flags: SCOUT_STORE_FSYNC, SCOUT_STORE_CREATE. The
 * environment variable SCOUT_FSYNC=1 also turns fsync on; SCOUT_DIRECT_IO=0
 * writes large values through the page cache too (fs_store.c).
 */
SCOUT_HIDDEN int scout__store_open(scout_store **out, const char *root, int flags);
SCOUT_HIDDEN void scout__store_free(scout_store *store);
SCOUT_HIDDEN const char *scout__store_root(const scout_store *store);

/*
 * The local file a key lives in (root + "/" + key) when the store is a
 * filesystem store, for lock files only; SCOUT_EUNSUPPORTED for other stores.
 * SCOUT_EINVAL for a bad key, SCOUT_EOVERFLOW if too long.
 */
SCOUT_HIDDEN int scout__store_path(char *buf, size_t bufsize, const scout_store *store,
				   const char *key);

/*
 * Bulk writes: the calling thread's next sets (until turned off) are part of
 * a big box written on the I/O pool, values nobody reads back soon. The
 * filesystem store then writes values from 64 KiB up (not only from 1 MiB)
 * with O_DIRECT: on the benchmark VM 1.1 GB of 270 KB chunk files cost
 * 2.9 s of CPU through the page cache (a host fault per fresh page) and
 * 0.1 s direct, though each direct write waits for the device (hence the
 * wider pool, scout__store_bulk_direct). Thread-local.
 */
SCOUT_HIDDEN void scout__store_set_bulk(int on);

/*
 * 1 when bulk sets to this store go past the page cache (a filesystem store
 * with direct I/O on): each then waits for the device, and a writer may run
 * more threads than cores to keep them busy.
 */
SCOUT_HIDDEN int scout__store_bulk_direct(const scout_store *store);

/* SCOUT_OK or SCOUT_EINVAL ("store: invalid key ...") for a key that breaks the rules above. */
SCOUT_HIDDEN int scout__store_check_key(const char *key);

/*
 * Read a key. *data_out is malloc'd (free()), never NULL on success (an empty
 * value gets a 1-byte allocation); ver_out may be NULL.
 * Errors: SCOUT_ENOTFOUND (absent; the error message is left untouched),
 * SCOUT_EIO (naming the file), SCOUT_ENOMEM, SCOUT_EINVAL (bad key).
 */
SCOUT_HIDDEN int scout__store_get(void **data_out, size_t *size_out, scout_store_version *ver_out,
				  const scout_store *store, const char *key);

/*
 * Read part of a key: length bytes from offset (>= 0), or with offset
 * SCOUT_STORE_SUFFIX the last length bytes. Errors as scout__store_get().
 */
SCOUT_HIDDEN int scout__store_get_range(void **data_out, size_t *size_out,
					scout_store_version *ver_out, const scout_store *store,
					const char *key, int64_t offset, uint64_t length);

/*
 * scout__store_get_range() into the caller's buffer buf of cap bytes (e.g.
 * pooled memory, already mapped: a malloc'd buffer of several MiB is a fresh
 * mapping faulted in page by page). *size_out is the length of the range as
 * the value holds it now; when it exceeds cap only cap bytes were read, and
 * the caller decides (a shard read treats it as a value replaced since its
 * index was read). Errors as scout__store_get().
 */
SCOUT_HIDDEN int scout__store_get_range_into(void *buf, size_t cap, size_t *size_out,
					     scout_store_version *ver_out, const scout_store *store,
					     const char *key, int64_t offset, uint64_t length);

/* Version token of a key without reading it; SCOUT_ENOTFOUND (silent) when absent. */
SCOUT_HIDDEN int scout__store_head(scout_store_version *ver_out, const scout_store *store,
				   const char *key);

/* Write a key atomically. ver_out (may be NULL) gets the new value's token. */
SCOUT_HIDDEN int scout__store_set(const scout_store *store, const char *key, const void *data,
				  size_t size, scout_store_version *ver_out);

/* Remove a key. SCOUT_ENOTFOUND (silent) if absent. */
SCOUT_HIDDEN int scout__store_delete(const scout_store *store, const char *key);

/* Remove every key under prefix; "" removes the whole store. A missing prefix is fine. */
SCOUT_HIDDEN int scout__store_delete_prefix(const scout_store *store, const char *prefix);

/*
 * Every key under prefix ("" or NULL: all), sorted by strcmp. *keys_out is an
 * array of *count_out malloc'd strings; free with scout__store_list_free().
 * A missing root gives an empty list.
 */
SCOUT_HIDDEN int scout__store_list(char ***keys_out, size_t *count_out, const scout_store *store,
				   const char *prefix);

/*
 * The direct children of a "directory" prefix ("" or NULL: the root; "a/b"
 * or "a/b/"): names relative to it, "name/" for a child that holds further
 * keys, sorted. Free with scout__store_list_free().
 */
SCOUT_HIDDEN int scout__store_list_dir(char ***names_out, size_t *count_out,
				       const scout_store *store, const char *prefix);
SCOUT_HIDDEN void scout__store_list_free(char **keys, size_t count);

/* 1 when the store's root exists at all (even empty), 0 when not, < 0 on error. */
SCOUT_HIDDEN int scout__store_exists(const scout_store *store);

/*
 * Remove what interrupted sets left behind: a set killed by SIGKILL or a
 * crash between creating its temporary and renaming it leaves the temporary
 * (never listed, never read, but still stored). *removed_out counts them.
 * Only safe while nothing writes to the store: a live writer's temporary
 * would be removed under it (its set then fails).
 */
SCOUT_HIDDEN int scout__store_sweep(const scout_store *store, size_t *removed_out);

/* 1 if two tokens describe the same version (strength is not compared). */
SCOUT_HIDDEN int scout__store_version_equal(const scout_store_version *a,
					    const scout_store_version *b);

/* Remove a local directory and everything under it (a missing path is fine). */
SCOUT_HIDDEN int scout__rmtree(const char *path);

#endif
