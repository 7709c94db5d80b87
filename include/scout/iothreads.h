/**
 * @file scout/iothreads.h
 * @brief How many threads one scout_extract_box() / scout_insert_box() may use.
 *
 * A box that spans many chunks (Zarr) or slices (folder of TIFF slices) is
 * decoded or encoded in parallel on one library-wide pool of worker threads,
 * the calling thread taking part. Boxes of one or a few chunks stay on the
 * calling thread. Calls made from inside scout_pmap_chunks() workers (thread
 * or process) always run on the calling thread alone: the map already keeps
 * every core busy.
 *
 * The pool is created on first use, is shared by every thread of the process
 * (any number of threads may read and write boxes at once), and is created
 * again on first use in a forked child. Its size is, in order of precedence:
 * the value given to scout_set_io_threads(), the environment variable
 * SCOUT_IO_THREADS (a positive integer, read once), or the number of online
 * CPUs. A size of 1 gives the serial behaviour: every chunk on the calling
 * thread, in order. A parallel scout_insert_box() into a filesystem store
 * writes its chunk files past the page cache (O_DIRECT, unless
 * SCOUT_DIRECT_IO=0), each write then waiting for the device, and so runs on
 * up to twice the pool's size.
 */
#ifndef SCOUT_IOTHREADS_H
#define SCOUT_IOTHREADS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The largest size scout_set_io_threads() accepts. */
#define SCOUT_IO_THREADS_MAX 1024

/**
 * Set the number of threads box I/O may use, the calling thread included.
 * Takes effect for the calls that start afterwards; calls already running
 * finish with the threads they have. Safe to call from any thread.
 * @param n 1..SCOUT_IO_THREADS_MAX, or 0 to go back to the default
 *          (SCOUT_IO_THREADS, else the number of online CPUs)
 * @return SCOUT_OK, or SCOUT_EINVAL when n is negative or too large
 */
SCOUT_API int scout_set_io_threads(int n);

/**
 * The number of threads box I/O uses now (>= 1), the calling thread included.
 */
SCOUT_API int scout_io_threads(void);

#ifdef __cplusplus
}
#endif

#endif
