/*
 * Faulting a large destination in before box I/O writes it. Not installed.
 *
 * Memory a process writes for the first time costs a page fault per 4 KiB
 * page; on the 2-core benchmark VM (shadow paging) a fault taken by a write
 * cost far more than the same page populated ahead by madvise
 * (MADV_POPULATE_WRITE): reading a 512^3 uint16 array into a fresh malloc'd
 * buffer took about twice the CPU of the same read into touched memory, while
 * populating the buffer first took a fraction of the difference
 * (bench/bench_box_io.c prints both). So a large parallel read first marks the
 * destination's 2 MiB-aligned interior MADV_HUGEPAGE (as numpy does for its
 * large arrays; used where transparent huge pages are in "madvise" mode) and
 * populates it in parallel on the I/O pool. Pages already present cost a page
 * table walk. The contents are never changed. The huge pages matter beyond the
 * fault count: a 1024^3 uint16 read into a fresh destination took 1.75-1.92 s
 * with them and 3.43-3.65 s without (2 threads, alternating runs), and a read
 * into that destination again 1.69-1.79 s against 1.86-2.05 s (TLB misses
 * under virtualisation walk two levels of page tables).
 */
#ifndef SCOUT_PREFAULT_H
#define SCOUT_PREFAULT_H

#include <stddef.h>

#include "core/internal.h"

/* Below this many bytes the destination is left alone. */
#define SCOUT_PREFAULT_MIN ((size_t)4 << 20)

/*
 * Populate [p, p + n) for writing, in parallel on the I/O pool; does nothing
 * below SCOUT_PREFAULT_MIN, without MADV_POPULATE_WRITE (Linux < 5.14), or
 * when the environment has SCOUT_PREFAULT=0. Errors are ignored (the writes
 * that follow fault the pages in as usual).
 */
SCOUT_HIDDEN void scout__prefault(void *p, size_t n);

#endif
