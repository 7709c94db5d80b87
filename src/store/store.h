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
 *   failure the temporary file is removed. While it exists, the calling
 *   thread holds SIGHUP, SIGINT, SIGQUIT and SIGTERM (they act once it is
 *   renamed or removed), so a process stopped by one leaves no temporary
 *   file; only SIGKILL or a crash can leave one (never listed, never read).
 *   With fsync on, a failing fsync of the directory after the rename is an
 *   error too (the new value is then in place but may not be durable).
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

/*
 * Fault injection, for tests only: make the store's system calls fail as a
 * failing disk would, to prove that every failure surfaces as an error, that
 * each key keeps its old value or gets its new one, and that no temporary file
 * is left behind.
 *
 * Each kind of operation (op) has its own counter. scout__store_fault_set(op,
 * nth, err, flags) makes the nth next operation of that kind (1 = the next
 * one) behave as if the system call had returned -1 with errno err; the code
 * after it is the production code path (an injected EINTR is retried, an
 * ENOSPC or EIO becomes SCOUT_EIO naming the file). Flags:
 * - SCOUT_STORE_FAULT_SHORT (READ, WRITE): the nth call transfers only half
 *   of the bytes asked for (it really writes or reads them), and the next
 *   call of the same loop fails with err; this is how a disk filling up looks.
 * - SCOUT_STORE_FAULT_STICKY: the nth and every later operation of the kind
 *   fail (a disk that stays full), until scout__store_fault_clear().
 * nth = 0 arms nothing but counts the operations of the kind (see
 * scout__store_fault_seen()), to size a test's range of nth.
 *
 * Operations:
 * - READ: one read(2) of a key's bytes in scout__store_read() (an empty key
 *   makes none).
 * - WRITE: one write(2) of a temporary file's bytes.
 * - FSYNC: fsync(2) of a temporary file, or of its directory after the
 *   rename (only when the store fsyncs: SCOUT_FSYNC=1 or SCOUT_STORE_FSYNC).
 * - RENAME: renaming a temporary file over its key.
 * - MKDIR: mkdir(2) of a missing parent directory of a key.
 * - OPEN_TMP: creating a temporary file.
 *
 * Cost when no fault was ever set: one relaxed atomic load per operation.
 * Once armed, the counters live in a shared anonymous mapping (MAP_SHARED),
 * so workers forked after scout__store_fault_set() (pmap process workers)
 * share them with the parent: "the nth write" counts the writes of all the
 * processes, and scout__store_fault_hits() in the parent sees faults injected
 * in the workers. Counters are atomic (threads). Arming while other threads
 * or workers run store operations is not supported: arm, run, clear.
 *
 * The environment variable SCOUT_FAULT arms faults too, when the first store
 * is opened in a process, so that tests of the scout command can use them:
 * a comma-separated list of op:nth:ERR[:short][:sticky], e.g.
 * SCOUT_FAULT=write:3:ENOSPC:short,rename:1:EIO (op in read, write, fsync,
 * rename, mkdir, open_tmp; ERR an errno name such as EIO, ENOSPC, EDQUOT,
 * EACCES, EROFS, EINTR, or a number). A malformed value makes every store
 * open fail with SCOUT_EINVAL, so a mistyped test cannot pass silently.
 * This is a test facility: production code never sets it.
 */
typedef enum {
	SCOUT_STORE_FAULT_READ = 0,
	SCOUT_STORE_FAULT_WRITE,
	SCOUT_STORE_FAULT_FSYNC,
	SCOUT_STORE_FAULT_RENAME,
	SCOUT_STORE_FAULT_MKDIR,
	SCOUT_STORE_FAULT_OPEN_TMP,
	SCOUT_STORE_FAULT_NOPS
} scout_store_fault_op;

#define SCOUT_STORE_FAULT_SHORT  1 /* transfer half, then the next call fails */
#define SCOUT_STORE_FAULT_STICKY 2 /* the nth and every later op of the kind fail */

/*
 * Arm op (see above) and reset its counters. nth >= 0; err > 0 when nth > 0.
 * Errors: SCOUT_EINVAL (bad op, nth, err or flags), SCOUT_ENOMEM (mapping).
 */
SCOUT_HIDDEN int scout__store_fault_set(scout_store_fault_op op, long nth, int err, int flags);

/* Disarm every op and zero the counters (operations are no longer counted). */
SCOUT_HIDDEN void scout__store_fault_clear(void);

/* Faults injected for op since it was set (all processes sharing the state). */
SCOUT_HIDDEN long scout__store_fault_hits(scout_store_fault_op op);

/* Operations of kind op seen since it was set (counted only while some op is armed). */
SCOUT_HIDDEN long scout__store_fault_seen(scout_store_fault_op op);

/* Name of an op ("read", "write", ...). */
SCOUT_HIDDEN const char *scout__store_fault_op_name(scout_store_fault_op op);

/*
 * Arm faults from a SCOUT_FAULT-style spec (see above); what the environment
 * variable does. Errors: SCOUT_EINVAL (malformed, with the offending item).
 */
SCOUT_HIDDEN int scout__store_fault_parse(const char *spec);

#endif
