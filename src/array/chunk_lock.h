/*
 * Per-chunk write locks that work across the threads of a process and across
 * processes (forked pmap workers or unrelated programs). Not installed.
 *
 * Mechanism: a chunk's lock is two locks taken in order:
 *  1. an in-process mutex, one of 64 stripes chosen by the chunk's linear
 *     index (threads of one process exclude each other here: OFD locks held
 *     through one shared descriptor would not);
 *  2. an open-file-description lock (fcntl F_OFD_SETLKW, exclusive) on one
 *     byte of a lock file, at offset = the chunk's linear index. The lock file
 *     is `<array>/.scout.lock`, created empty (0666 minus umask) on first use;
 *     it holds no data (byte-range locks need no bytes), is a hidden name
 *     that matches no chunk key, so zarr-python neither lists nor reads it.
 * OFD locks belong to the open file description, so they are released when
 * the holder dies and do not vanish when some other descriptor of the same
 * file is closed (as classic POSIX locks would). A forked child shares its
 * parent's description: scout__chunk_locks_after_fork() drops the child's
 * copy of the descriptor (without touching the parent's locks) so that the
 * child reopens its own, and re-creates the mutexes.
 *
 * Test hook: with the environment variable SCOUT_TEST_UNLOCKED_WRITES=1 when
 * the locks are created, locking and unlocking do nothing, so that tests can
 * show what the locks prevent (concurrent read-modify-writes of one chunk or
 * shard losing updates). Production code never sets it.
 */
#ifndef SCOUT_CHUNK_LOCK_H
#define SCOUT_CHUNK_LOCK_H

#include <stdint.h>

#include "core/internal.h"

typedef struct scout_chunk_locks scout_chunk_locks;

/* lock_path: the lock file (opened lazily, on the first lock). */
SCOUT_HIDDEN int scout__chunk_locks_new(scout_chunk_locks **out, const char *lock_path);
SCOUT_HIDDEN void scout__chunk_locks_free(scout_chunk_locks *locks);

/* Take the lock of chunk `index` (blocking). SCOUT_EIO naming the lock file on failure. */
SCOUT_HIDDEN int scout__chunk_lock(scout_chunk_locks *locks, uint64_t index);

/* Release it. */
SCOUT_HIDDEN void scout__chunk_unlock(scout_chunk_locks *locks, uint64_t index);

/* In a forked child (see above). */
SCOUT_HIDDEN void scout__chunk_locks_after_fork(scout_chunk_locks *locks);

#endif
