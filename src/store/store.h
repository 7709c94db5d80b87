/*
 * The store layer: a key/value store on a filesystem directory. Not installed.
 *
 * A key is a relative path with '/' separators ("0/1/2", ".zarray",
 * "a/b/.zattrs"); it may not be empty, absolute, or contain "." / ".."
 * components or empty components.
 *
 * - read: the whole value of a key. An absent key is SCOUT_ENOTFOUND, cheaply
 *   and without touching the thread's error message (so callers that treat
 *   absence as normal, e.g. missing chunks, pay nothing).
 * - write: atomic. The value goes to a temporary file in the key's own
 *   directory (".<name>.scout-tmp-<pid>-<n>", created with O_EXCL, mode 0666
 *   minus umask as zarr-python), is fsync'ed if the store asks for it, then
 *   renamed over the key. A reader sees the old value or the new one, never
 *   part of one. Parent directories of nested keys are created. On any
 *   failure the temporary file is removed.
 * - list: every key under a prefix, sorted; temporary files are skipped.
 * - delete: one key (absent: SCOUT_ENOTFOUND), or a whole tree.
 *
 * Every successful read and write reports a stamp (inode, size, mtime,
 * ctime) of the file it read or wrote, so a cache can tell whether a key
 * still holds what it decoded earlier (a write always renames a new inode in).
 */
#ifndef SCOUT_STORE_H
#define SCOUT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

typedef struct scout_store scout_store;

/* Identity of one version of a key's file. */
typedef struct {
	uint64_t ino;
	uint64_t dev;
	int64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
} scout_store_stamp;

#define SCOUT_STORE_FSYNC 1 /* fsync each written file (and its directory) before renaming */

/*
 * Open a store rooted at directory root (which need not exist yet: writes
 * create it). flags: 0 or SCOUT_STORE_FSYNC. The environment variable
 * SCOUT_FSYNC=1 also turns fsync on.
 */
SCOUT_HIDDEN int scout__store_open(scout_store **out, const char *root, int flags);
SCOUT_HIDDEN void scout__store_free(scout_store *store);
SCOUT_HIDDEN const char *scout__store_root(const scout_store *store);

/* root + "/" + key into buf. SCOUT_EINVAL for a bad key, EOVERFLOW if too long. */
SCOUT_HIDDEN int scout__store_path(char *buf, size_t bufsize, const scout_store *store,
				   const char *key);

/*
 * Read a key. *data_out is malloc'd (free()), never NULL on success (an empty
 * value gets a 1-byte allocation); stamp_out may be NULL.
 * Errors: SCOUT_ENOTFOUND (absent; the error message is left untouched),
 * SCOUT_EIO (naming the file), SCOUT_ENOMEM, SCOUT_EINVAL (bad key).
 */
SCOUT_HIDDEN int scout__store_read(void **data_out, size_t *size_out, scout_store_stamp *stamp_out,
				   const scout_store *store, const char *key);

/* Stamp of a key without reading it; SCOUT_ENOTFOUND (silent) when absent. */
SCOUT_HIDDEN int scout__store_stat(scout_store_stamp *stamp_out, const scout_store *store,
				   const char *key);

/* Write a key atomically (see above). stamp_out (may be NULL) gets the new file's stamp. */
SCOUT_HIDDEN int scout__store_write(const scout_store *store, const char *key, const void *data,
				    size_t size, scout_store_stamp *stamp_out);

/* Remove a key. SCOUT_ENOTFOUND (silent) if absent. */
SCOUT_HIDDEN int scout__store_delete(const scout_store *store, const char *key);

/*
 * Every key under prefix ("" or NULL: all), sorted by strcmp. *keys_out is an
 * array of *count_out malloc'd strings; free with scout__store_list_free().
 * A missing root gives an empty list.
 */
SCOUT_HIDDEN int scout__store_list(char ***keys_out, size_t *count_out, const scout_store *store,
				   const char *prefix);
SCOUT_HIDDEN void scout__store_list_free(char **keys, size_t count);

/* Remove a directory and everything under it (a missing path is fine). */
SCOUT_HIDDEN int scout__rmtree(const char *path);

/* 1 if two stamps describe the same file version. */
SCOUT_HIDDEN int scout__stamp_equal(const scout_store_stamp *a, const scout_store_stamp *b);

/*
 * The key of a chunk from its grid indices: indices joined by sep ('.' gives
 * "1.0.3", '/' gives "1/0/3"). Errors: SCOUT_EINVAL (bad sep, negative
 * index), SCOUT_EOVERFLOW (buffer too small; 1024 bytes always suffice).
 */
SCOUT_HIDDEN int scout__chunk_key(char *buf, size_t bufsize, int ndim, const int64_t *idx,
				  char sep);

/* Test hook: when > 0, the n-th next write fails after filling its temporary file. */
SCOUT_HIDDEN extern int scout__store_fail_write_countdown;

#endif
